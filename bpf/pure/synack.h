/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The SYN-ACK of `--action 429` on a `conn` port: the over-limit SYN is
 * answered in place with a SYN cookie as its sequence number (the kernel's
 * bpf_tcp_raw_gen_syncookie_*(), no socket, no state), so that the client
 * completes the handshake and sends its request, which gets the 429
 * (request.h). Only the MSS option: what the cookie encodes; no window
 * scaling, SACK or timestamps (a 429 needs none of them).
 */
#ifndef IG_SYNACK_H
#define IG_SYNACK_H

#include "pure/hdr.h"
#include "pure/parse.h"
#include "pure/csum.h"
#include "pure/reply.h"

#define IG_TCPOPT_MSS 2
#define IG_TCPOLEN_MSS 4

struct ig_synack4 {
	struct ig_seg4 seg;
	__u8 opt[IG_TCPOLEN_MSS];
} __attribute__((packed, aligned(2)));

struct ig_synack6 {
	struct ig_seg6 seg;
	__u8 opt[IG_TCPOLEN_MSS];
} __attribute__((packed, aligned(2)));

/* The options ride as the data segment builder's payload (its checksum
 * covers them), then the header is told they are options: data offset 6,
 * and the checksum patched for that one field. */
static __always_inline void ig_synack_opts(__u8 *opt, __u16 mss, struct ig_tcp_out *o,
					   __u32 cookie, __u32 client_isn)
{
	opt[0] = IG_TCPOPT_MSS;
	opt[1] = IG_TCPOLEN_MSS;
	opt[2] = (__u8)(mss >> 8);
	opt[3] = (__u8)mss;
	o->seq = cookie;
	o->ack = client_isn + 1;
	o->flags = IG_TCP_SYN | IG_TCP_ACK;
	o->window = 0xffff;
	o->payload_len = IG_TCPOLEN_MSS;
	o->payload_sum = ig_csum_add(0, opt, IG_TCPOLEN_MSS);
}

static __always_inline void ig_synack_doff(struct ig_tcp *th)
{
	__u16 old, new;

	__builtin_memcpy(&old, &th->doff_res, 2); /* doff_res and flags: one word */
	th->doff_res = (5 + IG_TCPOLEN_MSS / 4) << 4;
	__builtin_memcpy(&new, &th->doff_res, 2);
	th->check = ig_csum_replace16(th->check, old, new);
}

static __always_inline void ig_build_synack4(const struct ig_pkt *p, __u32 cookie, __u16 mss,
					     __u32 client_isn, struct ig_synack4 *r)
{
	struct ig_tcp_out o = {};

	ig_synack_opts(r->opt, mss, &o, cookie, client_isn);
	ig_build_seg4(p, &o, &r->seg);
	ig_synack_doff(&r->seg.tcp);
}

static __always_inline void ig_build_synack6(const struct ig_pkt *p, __u32 cookie, __u16 mss,
					     __u32 client_isn, struct ig_synack6 *r)
{
	struct ig_tcp_out o = {};

	ig_synack_opts(r->opt, mss, &o, cookie, client_isn);
	ig_build_seg6(p, &o, &r->seg);
	ig_synack_doff(&r->seg.tcp);
}

#endif /* IG_SYNACK_H */
