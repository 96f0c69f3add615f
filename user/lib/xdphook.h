/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Who else is on an interface's hooks: the program on the XDP hook (and whether
 * it is libxdp's multi-program dispatcher or held by a bpf_link), the tcx
 * programs in the order they run, and taking the XDP hook from another
 * program when the operator asks for it (attach --replace). */
#ifndef IG_XDPHOOK_H
#define IG_XDPHOOK_H

#include <stddef.h>
#include <linux/types.h>

/* tcx (kernel 6.6+) postdates the uapi headers of Debian bookworm. */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#endif
#ifndef BPF_TCX_EGRESS
#define BPF_TCX_EGRESS 47
#endif
#ifndef BPF_F_BEFORE
#define BPF_F_BEFORE (1U << 3)
#endif
#ifndef BPF_F_AFTER
#define BPF_F_AFTER (1U << 4)
#endif

/* libxdp names its multi-program dispatcher so (xdp-tools, lib/libxdp) */
#define IG_XDP_DISPATCHER_NAME "xdp_dispatcher"

struct ig_hook_prog {
	__u32 id;
	__u32 link_id;      /* the bpf_link holding it, 0 when attached by netlink */
	char name[16];      /* the kernel's (truncated) program name */
	const char *mode;   /* XDP: "native", "generic", "offload"; tcx: "tcx" */
	int dispatcher;     /* libxdp's multi-program dispatcher */
};

/* The program on IFINDEX's XDP hook: 1 and *out filled, 0 when the hook is
 * free, -errno when it cannot be read. */
int ig_xdp_holder(int ifindex, struct ig_hook_prog *out);

/* Detach `p` from IFINDEX's XDP hook: through its link when it has one, else
 * by netlink, only if it is still the program there (no race with a reload of
 * its owner). */
int ig_xdp_take(int ifindex, const char *ifname, const struct ig_hook_prog *p);

/* The tcx programs on IFINDEX's ingress (egress: nonzero) in run order, up to
 * `max`; returns the count or -errno. */
int ig_tcx_list(int ifindex, int egress, struct ig_hook_prog *out, int max);

/* A program's name by id ("?" when it cannot be read). */
void ig_prog_name(__u32 id, char *name, size_t len);

/* Whether this kernel loads trampoline programs (fentry, and freplace, of
 * which libxdp's dispatcher is made): 1 yes, 0 refused (*err says how). */
int ig_trampolines_work(int *err);

/* "ID 'NAME' (MODE[, libxdp dispatcher][, bpf_link N])" for messages. */
const char *ig_hook_prog_str(const struct ig_hook_prog *p, char *buf, size_t len);

#endif
