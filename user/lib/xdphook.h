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
#ifndef BPF_F_ID
#define BPF_F_ID (1U << 5)
#endif

/* libxdp names its multi-program dispatcher so (xdp-tools, lib/libxdp) */
#define IG_XDP_DISPATCHER_NAME "xdp_dispatcher"

struct ig_hook_prog {
	__u32 id;
	__u32 link_id;      /* the bpf_link holding it, 0 when attached by netlink */
	char name[16];      /* the kernel's (truncated) program name */
	const char *mode;   /* XDP: "native", "generic", "offload"; tcx: "tcx" */
	int dispatcher;     /* libxdp's multi-program dispatcher */
	int link_ambiguous; /* linked in several namespaces at this ifindex */
};

/* The program on IFINDEX's XDP hook: 1 and *out filled, 0 when the hook is
 * free, -errno when it cannot be read. */
int ig_xdp_holder(int ifindex, struct ig_hook_prog *out);

/* Detach `p` from IFINDEX's XDP hook: through its link when it has one, else
 * by netlink, only if it is still the program there (no race with a reload of
 * its owner). */
int ig_xdp_take(int ifindex, const char *ifname, const struct ig_hook_prog *p);

/* Where infergate's tcx programs go among the others (tcx runs a list):
 * first, the default, drops what exceeds a limit before any other program
 * spends on it; last lets the others (a CNI's policy, say) see every packet
 * first; or right before or after the program of a given name (or id). */
enum ig_tc_pos { IG_TC_FIRST = 0, IG_TC_LAST, IG_TC_BEFORE, IG_TC_AFTER };

struct ig_tc_place {
	enum ig_tc_pos pos;
	char anchor[16]; /* IG_TC_BEFORE/AFTER: a program's name, or its id in digits */
};

/* "first", "last", "before:NAME", "after:NAME": 0, or -EINVAL. */
int ig_parse_tc_place(const char *s, struct ig_tc_place *out);
/* The words back, into buf. */
const char *ig_tc_place_str(const struct ig_tc_place *p, char *buf, size_t len);

/* Whether the anchor of `place` is on IFINDEX's tcx ingress: 0, or -ENOENT
 * logged with the programs that are there. */
int ig_tc_place_check(int ifindex, const char *ifname, const struct ig_tc_place *place);

/* A tcx link of PROG_FD on IFINDEX (egress: nonzero) at `place`. An anchor
 * missing on ingress is an error naming the programs there; on egress, where
 * the anchor may have no program, before goes first and after last. Returns
 * the link's fd or -errno (logged, naming IFNAME). */
int ig_tcx_link_create(int prog_fd, int ifindex, const char *ifname, int egress,
		       const struct ig_tc_place *place);

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
