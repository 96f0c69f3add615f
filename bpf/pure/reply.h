/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reply crafting, the pure half: building the L3/L4 headers of a TCP RST or an
 * ICMP / ICMPv6 port-unreachable into a buffer on the stack, checksums included.
 * The data path copies the result into the frame (reply_tx.h); the unit tests
 * call these directly.
 */
#ifndef IG_REPLY_H
#define IG_REPLY_H

#include "pure/hdr.h"
#include "pure/parse.h"
#include "pure/csum.h"

#define IG_REPLY_TTL 64

/* Longest ICMPv6 quote (bytes of the offending packet from its IPv6 header).
 * RFC 4443 asks for "as much as fits in the minimum MTU"; the offending
 * headers are what a client's stack needs to match the error to its socket, and
 * a bounded quote keeps the checksum loop small for the verifier. */
#define IG_ICMP6_QUOTE_MAX 256
/* IPv4 quote: the IP header (options included, so up to 60) and 8 bytes. */
#define IG_ICMP4_QUOTE_MAX (60 + 8)

/*
 * May this packet be answered at all? Not when its sender is no single host
 * (RFC 1122 3.2.2 and 4.2.3.10, RFC 4443 2.4 e): a broadcast, multicast,
 * unspecified, loopback or class E source, or an Ethernet group address as
 * the frame's source; nor when it went to a group (IP multicast or
 * broadcast, or an Ethernet group destination): every host on the LAN that
 * got it would answer the one spoofed source. (A subnet's directed broadcast is not known here; on its last hop it
 * travels as an Ethernet broadcast, caught by the group bit.) `macs` is the
 * first byte of the destination MAC or'ed with the source MAC's: bit 0 is
 * the group bit.
 */
static __always_inline int ig_reply_allowed(const struct ig_pkt *p, __u8 macs)
{
	const __u8 *s = p->saddr, *d = p->daddr;

	if (macs & 1)
		return 0;
	if (!p->ipv6) /* 0/8, 127/8, 224/4 and 240/4 (255.255.255.255 among them) */
		return s[12] != 0 && s[12] != 127 && s[12] < 224 && d[12] < 224;
	if (s[0] == 0xff || d[0] == 0xff)
		return 0;
	{
		static const __u8 one_be[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
		__u64 hi, lo, one;

		__builtin_memcpy(&hi, s, 8);
		__builtin_memcpy(&lo, s + 8, 8);
		__builtin_memcpy(&one, one_be, 8);
		/* :: and ::1 */
		return hi != 0 || (lo != 0 && lo != one);
	}
}

/* Fill the reply's IP header: addresses swapped, no options, no extensions. */
static __always_inline void ig_build_ipv4(const struct ig_pkt *p, struct ig_ipv4 *ip,
					  __u16 tot_len, __u8 proto)
{
	ip->ver_ihl = 0x45;
	ip->tos = 0;
	ip->tot_len = ig_htons(tot_len);
	ip->id = 0;
	ip->frag_off = ig_htons(IG_IP_DF);
	ip->ttl = IG_REPLY_TTL;
	ip->proto = proto;
	ip->check = 0;
	__builtin_memcpy(&ip->saddr, p->daddr + 12, 4);
	__builtin_memcpy(&ip->daddr, p->saddr + 12, 4);
	ip->check = ig_csum_fold(ig_csum_add(0, ip, sizeof(*ip)));
}

static __always_inline void ig_build_ipv6(const struct ig_pkt *p, struct ig_ipv6 *ip,
					  __u16 payload_len, __u8 nexthdr)
{
	ip->ver_tc_flow = ig_htonl(6U << 28);
	ip->payload_len = ig_htons(payload_len);
	ip->nexthdr = nexthdr;
	ip->hop_limit = IG_REPLY_TTL;
	__builtin_memcpy(ip->saddr, p->daddr, 16);
	__builtin_memcpy(ip->daddr, p->saddr, 16);
}

/* What a RST answers: the offending segment's numbers. */
struct ig_tcp_seg {
	__u32 seq; /* host order */
	__u32 ack;
	__u32 len; /* payload bytes, plus one each for SYN and FIN */
	__u8 flags;
};

/* A segment we send: its numbers (host order), and what it carries. */
struct ig_tcp_out {
	__u32 seq;
	__u32 ack;
	__u32 payload_len;
	__u32 payload_sum; /* one's-complement sum of the payload as it lies (ig_csum_add()) */
	__u16 window;
	__u8 flags;
	__u8 pad;
};

/* The TCP header of a segment to p's sender, without options; its checksum
 * covers the payload through payload_sum. */
static __always_inline void ig_build_tcp(const struct ig_pkt *p, const struct ig_tcp_out *o,
					 struct ig_tcp *th)
{
	__u32 sum;

	th->source = ig_htons(p->dport);
	th->dest = ig_htons(p->sport);
	th->seq = ig_htonl(o->seq);
	th->ack_seq = ig_htonl(o->ack);
	th->doff_res = 5 << 4;
	th->flags = o->flags;
	th->window = ig_htons(o->window);
	th->check = 0;
	th->urg_ptr = 0;
	sum = ig_csum_pseudo(p, sizeof(*th) + o->payload_len, IG_IPPROTO_TCP) + o->payload_sum;
	th->check = ig_csum_fold(ig_csum_add(sum, th, sizeof(*th)));
}

/* RFC 9293 3.10.7.1: a segment with ACK gets <SEQ=SEG.ACK><CTL=RST>; one
 * without gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (a SYN: ack = seq + 1). */
static __always_inline void ig_build_rst_tcp(const struct ig_pkt *p, const struct ig_tcp_seg *s,
					     struct ig_tcp *th)
{
	__u32 sum;

	th->source = ig_htons(p->dport);
	th->dest = ig_htons(p->sport);
	if (s->flags & IG_TCP_ACK) {
		th->seq = ig_htonl(s->ack);
		th->ack_seq = 0;
		th->flags = IG_TCP_RST;
	} else {
		th->seq = 0;
		th->ack_seq = ig_htonl(s->seq + s->len);
		th->flags = IG_TCP_RST | IG_TCP_ACK;
	}
	th->doff_res = 5 << 4;
	th->window = 0;
	th->check = 0;
	th->urg_ptr = 0;
	sum = ig_csum_pseudo(p, sizeof(*th), IG_IPPROTO_TCP);
	th->check = ig_csum_fold(ig_csum_add(sum, th, sizeof(*th)));
}

struct ig_rst4 {
	struct ig_ipv4 ip;
	struct ig_tcp tcp;
} __attribute__((packed, aligned(2)));

struct ig_rst6 {
	struct ig_ipv6 ip;
	struct ig_tcp tcp;
} __attribute__((packed, aligned(2)));

static __always_inline void ig_build_rst4(const struct ig_pkt *p, const struct ig_tcp_seg *s,
					  struct ig_rst4 *r)
{
	ig_build_ipv4(p, &r->ip, sizeof(*r), IG_IPPROTO_TCP);
	ig_build_rst_tcp(p, s, &r->tcp);
}

static __always_inline void ig_build_rst6(const struct ig_pkt *p, const struct ig_tcp_seg *s,
					  struct ig_rst6 *r)
{
	ig_build_ipv6(p, &r->ip, sizeof(r->tcp), IG_IPPROTO_TCP);
	ig_build_rst_tcp(p, s, &r->tcp);
}

/* The headers of a data segment; its payload follows them. */
struct ig_seg4 {
	struct ig_ipv4 ip;
	struct ig_tcp tcp;
} __attribute__((packed, aligned(2)));

struct ig_seg6 {
	struct ig_ipv6 ip;
	struct ig_tcp tcp;
} __attribute__((packed, aligned(2)));

static __always_inline void ig_build_seg4(const struct ig_pkt *p, const struct ig_tcp_out *o,
					  struct ig_seg4 *r)
{
	ig_build_ipv4(p, &r->ip, (__u16)(sizeof(*r) + o->payload_len), IG_IPPROTO_TCP);
	ig_build_tcp(p, o, &r->tcp);
}

static __always_inline void ig_build_seg6(const struct ig_pkt *p, const struct ig_tcp_out *o,
					  struct ig_seg6 *r)
{
	ig_build_ipv6(p, &r->ip, (__u16)(sizeof(r->tcp) + o->payload_len), IG_IPPROTO_TCP);
	ig_build_tcp(p, o, &r->tcp);
}

/* ICMP headers placed in front of the quote; quote_sum is the one's-complement
 * sum of the quoted bytes, computed where they lie (in the frame). */
struct ig_unreach4 {
	struct ig_ipv4 ip;
	struct ig_icmp icmp;
} __attribute__((packed, aligned(2)));

struct ig_unreach6 {
	struct ig_ipv6 ip;
	struct ig_icmp icmp;
} __attribute__((packed, aligned(2)));

static __always_inline void ig_build_unreach4(const struct ig_pkt *p, __u32 quote_len,
					      __u32 quote_sum, struct ig_unreach4 *r)
{
	ig_build_ipv4(p, &r->ip, (__u16)(sizeof(*r) + quote_len), IG_IPPROTO_ICMP);
	r->icmp.type = IG_ICMP_DEST_UNREACH;
	r->icmp.code = IG_ICMP_PORT_UNREACH;
	r->icmp.check = 0;
	r->icmp.unused = 0;
	r->icmp.check = ig_csum_fold(ig_csum_add(quote_sum, &r->icmp, sizeof(r->icmp)));
}

static __always_inline void ig_build_unreach6(const struct ig_pkt *p, __u32 quote_len,
					      __u32 quote_sum, struct ig_unreach6 *r)
{
	__u32 l4len = sizeof(r->icmp) + quote_len;
	__u32 sum;

	ig_build_ipv6(p, &r->ip, (__u16)l4len, IG_IPPROTO_ICMPV6);
	r->icmp.type = IG_ICMPV6_DEST_UNREACH;
	r->icmp.code = IG_ICMPV6_PORT_UNREACH;
	r->icmp.check = 0;
	r->icmp.unused = 0;
	sum = ig_csum_pseudo(p, l4len, IG_IPPROTO_ICMPV6) + quote_sum;
	r->icmp.check = ig_csum_fold(ig_csum_add(sum, &r->icmp, sizeof(r->icmp)));
}

#endif /* IG_REPLY_H */
