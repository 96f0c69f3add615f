/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reply crafting, the frame half: turn the offending frame, in place, into the
 * reply (RST or ICMP unreachable) and leave it ready to go back out the port it
 * came in on. The L2 header is kept (MACs swapped, VLAN tags untouched), so the
 * reply travels the same VLANs. Headers come from pure/reply.h.
 *
 * Packet pointers are re-derived after every helper that may move the frame,
 * and every offset taken from struct ig_pkt is re-bounded here: the verifier
 * forgets bounds across the stack spill of the parse result.
 */
#ifndef IG_REPLY_TX_H
#define IG_REPLY_TX_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pure/hdr.h"
#include "pure/parse.h"
#include "pure/reply.h"
#include "ctx.h"

/* Ethernet plus two VLAN tags. */
#define IG_MAX_L2 22
/* Deepest transport header offset the parser can produce with our limits is far
 * larger; replies are only built for headers within this offset. */
#define IG_MAX_L4_OFF 512

static __always_inline void ig_swap_macs(__u8 *l2)
{
	__u8 tmp[IG_ETH_ALEN];

	__builtin_memcpy(tmp, l2, IG_ETH_ALEN);
	__builtin_memcpy(l2, l2 + IG_ETH_ALEN, IG_ETH_ALEN);
	__builtin_memcpy(l2 + IG_ETH_ALEN, tmp, IG_ETH_ALEN);
}

/* ig_reply_allowed() on the frame in ctx, whose parse is p. */
static __always_inline int ig_reply_may(void *ctx, enum ig_hook hook, const struct ig_pkt *p)
{
	__u8 *data = ctx_data(ctx, hook);

	if (data + IG_ETH_ALEN * 2 > (__u8 *)ctx_data_end(ctx, hook))
		return 0;
	return ig_reply_allowed(p, data[0] | data[IG_ETH_ALEN]);
}

/* The RST that answers p (ig_build_rst4/6()) written at l3 (already
 * bounded by the caller), the frame cut to its end. */
static __always_inline int ig_put_rst(void *ctx, enum ig_hook hook, __u32 l3,
				      const struct ig_pkt *p, const struct ig_tcp_seg *s)
{
	void *data = ctx_data(ctx, hook);
	void *end = ctx_data_end(ctx, hook);
	__u8 *dst = (__u8 *)data + ig_clamp(l3, 31);

	if (!p->ipv6) {
		struct ig_rst4 r;

		if (dst + sizeof(r) > (__u8 *)end)
			return -1;
		ig_build_rst4(p, s, &r);
		__builtin_memcpy(dst, &r, sizeof(r));
		return ctx_set_len(ctx, hook, l3 + sizeof(r));
	} else {
		struct ig_rst6 r;

		if (dst + sizeof(r) > (__u8 *)end)
			return -1;
		ig_build_rst6(p, s, &r);
		__builtin_memcpy(dst, &r, sizeof(r));
		return ctx_set_len(ctx, hook, l3 + sizeof(r));
	}
}

static __always_inline int ig_reply_rst(void *ctx, enum ig_hook hook, const struct ig_pkt *p)
{
	void *data = ctx_data(ctx, hook);
	void *end = ctx_data_end(ctx, hook);
	__u32 l3 = p->l3_off, l4 = p->l4_off, hdrs;
	struct ig_tcp_seg s;
	struct ig_tcp *th;

	if (l3 > IG_MAX_L2 || l4 > IG_MAX_L4_OFF || l4 < l3)
		return -1;
	l3 = ig_clamp(l3, 31);
	l4 = ig_clamp(l4, 1023);
	th = (struct ig_tcp *)((__u8 *)data + l4);
	if ((void *)(th + 1) > end)
		return -1;
	s.seq = ig_ntohl(th->seq);
	s.ack = ig_ntohl(th->ack_seq);
	s.flags = th->flags;
	hdrs = l4 - l3 + (__u32)(th->doff_res >> 4) * 4;
	s.len = p->ip_len > hdrs ? p->ip_len - hdrs : 0;
	s.len += !!(s.flags & IG_TCP_SYN) + !!(s.flags & IG_TCP_FIN);

	if ((__u8 *)data + IG_ETH_ALEN * 2 > (__u8 *)end)
		return -1;
	ig_swap_macs(data);
	return ig_put_rst(ctx, hook, l3, p, &s);
}

/* One's-complement sum of `len` bytes (even) of the frame from `off`. */
static __always_inline int ig_frame_sum(void *ctx, enum ig_hook hook, __u32 off, __u32 len,
					__u32 *sum)
{
	void *data = ctx_data(ctx, hook);
	void *end = ctx_data_end(ctx, hook);
	__u32 i, s = 0;

	if (off > IG_MAX_L2 + sizeof(struct ig_unreach6) || len > IG_ICMP6_QUOTE_MAX)
		return -1;
	off = ig_clamp(off, 127);
	for (i = 0; i < IG_ICMP6_QUOTE_MAX / 2; i++) {
		__u16 *w = (__u16 *)((__u8 *)data + off + i * 2);

		if (i * 2 >= len)
			break;
		if ((void *)(w + 1) > end)
			return -1;
		s += *w;
	}
	*sum = s;
	return 0;
}

static __always_inline int ig_reply_unreach(void *ctx, enum ig_hook hook, const struct ig_pkt *p)
{
	__u32 l2 = p->l3_off, hdr, quote, sum, avail;
	__u8 l2buf[IG_MAX_L2];
	void *data = ctx_data(ctx, hook);
	void *end = ctx_data_end(ctx, hook);
	__u8 *dst;

	if (l2 > IG_MAX_L2 || p->l4_off > IG_MAX_L4_OFF || p->l4_off < l2)
		return -1;
	l2 = ig_clamp(l2, 31);
	/* Every frame we reply to holds at least L2 + 20 + 8 bytes, so a fixed-size
	 * copy of the longest L2 header stays inside it. */
	if ((__u8 *)data + IG_MAX_L2 > (__u8 *)end)
		return -1;
	__builtin_memcpy(l2buf, data, IG_MAX_L2);
	ig_swap_macs(l2buf);

	avail = ctx_wire_len(ctx, hook) - l2;
	if (!p->ipv6) {
		hdr = sizeof(struct ig_unreach4);
		quote = p->l4_off - l2 + sizeof(struct ig_udp); /* IP header + 8 bytes */
		if (quote > IG_ICMP4_QUOTE_MAX)
			return -1;
	} else {
		hdr = sizeof(struct ig_unreach6);
		quote = p->ip_len < avail ? p->ip_len : avail;
		if (quote > IG_ICMP6_QUOTE_MAX)
			quote = IG_ICMP6_QUOTE_MAX;
		quote &= ~1U;
	}
	if (quote > avail)
		return -1;

	/* The quote then sits exactly where the reply wants it: behind the new
	 * L2 + IP + ICMP headers. */
	if (ctx_grow_head(ctx, hook, hdr))
		return -1;
	if (ig_frame_sum(ctx, hook, l2 + hdr, quote, &sum))
		return -1;

	data = ctx_data(ctx, hook);
	end = ctx_data_end(ctx, hook);
	if ((__u8 *)data + IG_MAX_L2 > (__u8 *)end)
		return -1;
	__builtin_memcpy(data, l2buf, IG_MAX_L2);
	dst = (__u8 *)data + l2;
	if (!p->ipv6) {
		struct ig_unreach4 r;

		if (dst + sizeof(r) > (__u8 *)end)
			return -1;
		ig_build_unreach4(p, quote, sum, &r);
		__builtin_memcpy(dst, &r, sizeof(r));
	} else {
		struct ig_unreach6 r;

		if (dst + sizeof(r) > (__u8 *)end)
			return -1;
		ig_build_unreach6(p, quote, sum, &r);
		__builtin_memcpy(dst, &r, sizeof(r));
	}
	return ctx_set_len(ctx, hook, l2 + hdr + quote);
}

#endif /* IG_REPLY_TX_H */
