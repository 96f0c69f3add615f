/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loading the data path, attaching it to interfaces and detaching it. Each
 * attachment is a bpf_link pinned in the instance's dir as link_<hook>_<ifname>,
 * so it outlives this process and `detach` (or another agent) can find it. */
#ifndef IG_LOADER_H
#define IG_LOADER_H

#include <net/if.h>
#include <linux/types.h>
#include "lib/xdphook.h"

enum ig_attach_hook {
	IG_ATTACH_XDP = 0,
	IG_ATTACH_TC = 1, /* tcx ingress link */
};

#define IG_DEFAULT_MAX_SOURCES 262144ULL

struct ig_attach_opts {
	const char *ifname;
	enum ig_attach_hook hook;
	int xdp_generic;       /* XDP in generic (skb) mode instead of native */
	__u64 max_sources;     /* 0: keep what is pinned, or the default; rounded up
				* to a power of two; the table has IG_WAYS ways each */
	__u64 max_flows;       /* 0: keep what is pinned, or IG_DEFAULT_FLOWS */
	int replace;           /* detach another program holding the XDP hook */
	struct ig_tc_place tc_place; /* where the tcx programs go among others */
};

int ig_attach(const char *pin_dir, const struct ig_attach_opts *o);
int ig_detach(const char *pin_dir, const char *ifname, int purge);

struct ig_attachment {
	char ifname[IF_NAMESIZE];
	enum ig_attach_hook hook;
	__u32 ifindex;  /* 0 when the interface is gone */
	__u32 prog_id;
	const char *mode; /* "native", "generic", "tcx", "gone" */
};

/* Fill up to `max` attachments found in the pin dir; returns the count or -errno. */
int ig_list_attachments(const char *pin_dir, struct ig_attachment *out, int max);

const char *ig_hook_name(enum ig_attach_hook hook);
/* Where an attachment's link is pinned: DIR/link_KIND_IFNAME, KIND one of
 * "xdp", "tc" (the ingress hook) or "egress". 0, or -ENAMETOOLONG. */
int ig_link_pin_path(char *buf, size_t len, const char *dir, const char *kind, const char *ifname);
/* The link pinned at `path`: 1 if it still drives `ifindex` (any, when 0), 0
 * if it is stale (its interface is gone), -errno if it cannot be read; its
 * program and interface in the pointers given. */
int ig_pinned_link_live(const char *path, __u32 ifindex, __u32 *prog_id, __u32 *link_ifindex);
/* How the data path reads time on this host (see ig_now() in bpf/cfg.h), and its tick. */
int ig_pick_clock(__u32 *clock, __u64 *tick_ns);
/* CONFIG_HZ of the running kernel (/proc/config.gz or /boot/config-RELEASE), 0 when unknown. */
unsigned long ig_kernel_hz(void);

#endif
