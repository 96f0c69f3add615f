// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Entry points: map the core's verdict to each hook's return codes. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "core.h"

/* uapi <linux/pkt_cls.h> values; vmlinux.h carries no #defines. */
#ifndef TC_ACT_UNSPEC
#define TC_ACT_UNSPEC (-1)
#define TC_ACT_SHOT 2
#endif

SEC("xdp")
int ig_xdp(struct xdp_md *ctx)
{
	switch (ig_handle(ctx, IG_HOOK_XDP)) {
	case IG_V_DROP:
		return XDP_DROP;
	case IG_V_TX:
		return XDP_TX;
	default:
		return XDP_PASS;
	}
}

/* The skb may hold its headers outside the linear area; pull what the parser
 * can read (Ethernet, two tags, IPv6 with extension headers, TCP). */
#define IG_TC_PULL 256

SEC("tc")
int ig_tc(struct __sk_buff *skb)
{
	__u32 want = skb->len < IG_TC_PULL ? skb->len : IG_TC_PULL;

	if ((long)skb->data_end - (long)skb->data < (long)want)
		bpf_skb_pull_data(skb, want);

	switch (ig_handle(skb, IG_HOOK_TC)) {
	case IG_V_DROP:
		return TC_ACT_SHOT;
	case IG_V_TX:
		return bpf_redirect(skb->ifindex, 0);
	default:
		/* UNSPEC, not OK: under tcx, OK would end the chain and skip
		 * whatever runs after us; UNSPEC means "not mine, carry on". */
		return TC_ACT_UNSPEC;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
