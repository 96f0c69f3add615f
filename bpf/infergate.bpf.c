// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Entry points: the same core on two hooks; only the verdict mapping differs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "core.h"

SEC("xdp")
int ig_xdp(struct xdp_md *ctx)
{
	return ig_xdp_action(ig_handle(ctx, IG_HOOK_XDP));
}

/* The skb may hold its headers outside the linear area; pull what the parser
 * can read (Ethernet, two tags, IPv6 with extension headers, TCP). */
#define IG_TC_PULL 256

static __always_inline void ig_tc_pull(struct __sk_buff *skb)
{
	__u32 len = ig_ctx_u32(skb, struct __sk_buff, len);
	__u32 want = len < IG_TC_PULL ? len : IG_TC_PULL;

	if ((long)ctx_data_end(skb, IG_HOOK_TC) - (long)ctx_data(skb, IG_HOOK_TC) < (long)want)
		bpf_skb_pull_data(skb, want);
}

SEC("tc")
int ig_tc(struct __sk_buff *skb)
{
	ig_tc_pull(skb);
	return ig_tc_action(skb, ig_handle(skb, IG_HOOK_TC));
}

/* Replies leave through here: the status line sits right behind the headers. */
SEC("tc")
int ig_tc_egress(struct __sk_buff *skb)
{
	ig_tc_pull(skb);
	return ig_handle_egress(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
