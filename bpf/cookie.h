/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `--action 429` on a `conn` port: an over-limit new connection gets a real
 * HTTP 429 without the server ever seeing it and without a socket. Its SYN is
 * answered with a SYN cookie (the kernel's bpf_tcp_raw_gen_syncookie_*(), the
 * same secret as the kernel's own cookies; nothing stored); the client's
 * segments that acknowledge a cookie that checks out
 * (bpf_tcp_raw_check_syncookie_*()) are ours: the handshake's ACK is dropped
 * (no socket must be made of it), the request is answered with the 429 and FIN
 * (reply_429.h's ig_reply_429(), sequence number the cookie's + 1). The client's
 * answer to that acknowledges more than the cookie, so it reaches the kernel,
 * which has no socket for it and resets it.
 *
 * Cost: a segment that is not a SYN is checked against the cookie only for a
 * few seconds after the port sent one (http_refused): the helper hashes the
 * tuple, which every ACK of every connection of the port would otherwise pay.
 */
#ifndef IG_COOKIE_H
#define IG_COOKIE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/hdr.h"
#include "pure/parse.h"
#include "pure/synack.h"
#include "cfg.h"
#include "ctx.h"
#include "maps.h"
#include "reply_tx.h"
#include "request.h"
#include "reply_429.h"

/* The over-limit SYN, in place, as the SYN-ACK with a cookie. */
static __always_inline int ig_cookie_synack(void *ctx, enum ig_hook hook, const struct ig_pkt *p)
{
	struct ig_req_scratch *s = ig_req_scratch();
	__u32 thlen = 0, l3 = p->l3_off, idx = IG_PORT_INDEX(p->proto, p->dport);
	struct ig_policy *pol = bpf_map_lookup_elem(&port_policy, &idx);
	void *data, *end;
	__s64 c;

	if (!s || l3 > IG_MAX_L2 || ig_req_copy_hdrs(ctx, hook, p, s, &thlen))
		return -1;
	thlen = ig_clamp(thlen - 20, 63) + 20;
	if (thlen > sizeof(s->th))
		return -1;
	if (!p->ipv6)
		c = bpf_tcp_raw_gen_syncookie_ipv4((struct iphdr *)s->ip, (struct tcphdr *)s->th, thlen);
	else
		c = bpf_tcp_raw_gen_syncookie_ipv6((struct ipv6hdr *)s->ip, (struct tcphdr *)s->th,
						   thlen);
	if (c < 0)
		return -1;
	l3 = ig_clamp(l3, 31);
	data = ig_req_reframe(ctx, hook, s,
			      l3 + (p->ipv6 ? sizeof(struct ig_synack6) : sizeof(struct ig_synack4)));
	if (!data)
		return -1;
	end = ctx_data_end(ctx, hook);
	if (!p->ipv6) {
		struct ig_synack4 *r = (struct ig_synack4 *)((__u8 *)data + l3);

		if ((void *)(r + 1) > end)
			return -1;
		ig_build_synack4(p, (__u32)c, (__u16)(c >> 32), p->seq, r);
	} else {
		struct ig_synack6 *r = (struct ig_synack6 *)((__u8 *)data + l3);

		if ((void *)(r + 1) > end)
			return -1;
		ig_build_synack6(p, (__u32)c, (__u16)(c >> 32), p->seq, r);
	}
	/* the port's non-SYN segments are checked against cookies from now */
	if (pol) {
		__u32 slot = pol->slot;
		__u64 *last = bpf_map_lookup_elem(&http_refused, &slot);

		if (last)
			*last = ig_now();
	}
	return 0;
}

/*
 * A segment that is not a SYN, on a `conn` port with action 429 that sent a
 * cookie lately: is it one of ours? IG_NEED_REJECT for a request (the 429),
 * a drop for the rest of such a connection, a free pass for any other.
 */
static __always_inline int ig_cookie_in(void *ctx, enum ig_hook hook, const struct ig_pkt *p)
{
	struct ig_req_scratch *s = ig_req_scratch();
	__u32 thlen = 0;
	long bad;

	if ((p->tcp_flags & (IG_TCP_ACK | IG_TCP_SYN | IG_TCP_RST)) != IG_TCP_ACK || !s ||
	    ig_req_copy_hdrs(ctx, hook, p, s, &thlen))
		return IG_R_PASS_FREE;
	if (!p->ipv6)
		bad = bpf_tcp_raw_check_syncookie_ipv4((struct iphdr *)s->ip, (struct tcphdr *)s->th);
	else
		bad = bpf_tcp_raw_check_syncookie_ipv6((struct ipv6hdr *)s->ip,
						       (struct tcphdr *)s->th);
	if (bad)
		return IG_R_PASS_FREE;
	if (!ig_req_payload_len(p))
		return IG_R_DROP_COOKIE_ACK;
	s->h2_stream = 0; /* not followed: the 429 goes in HTTP/1.1 */
	return IG_NEED_REJECT;
}

#endif /* IG_COOKIE_H */
