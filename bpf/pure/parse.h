/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header parsing with a bounds-checked cursor. Plain C: the same code runs in
 * the data path and in the native unit tests and fuzzer.
 *
 * Every read goes through ig_cursor_pull(), which checks `pos + len <= end`
 * against the real end pointer: that comparison is what the verifier needs to
 * see before it lets us touch packet bytes, and what keeps the native build
 * honest about truncated frames.
 */
#ifndef IG_PARSE_H
#define IG_PARSE_H

#include "ig_abi.h"
#include "pure/hdr.h"

struct ig_cursor {
	void *pos;
	void *end;
};

static __always_inline void *ig_cursor_pull(struct ig_cursor *c, __u32 len)
{
	void *p = c->pos;

	if ((char *)p + len > (char *)c->end)
		return (void *)0;
	c->pos = (char *)p + len;
	return p;
}

#define IG_PULL(c, type) ((type *)ig_cursor_pull((c), sizeof(type)))

enum ig_parse_result {
	IG_PARSE_OK = 0,       /* TCP or UDP header found: p is filled in */
	IG_PARSE_OTHER = 1,    /* well formed, but not IP or not TCP/UDP */
	IG_PARSE_FRAGMENT = 2, /* a non-first fragment: no transport header */
	IG_PARSE_BAD = 3,      /* truncated or malformed */
};

/* IPv6 extension headers walked before giving up (each costs verifier work). */
#define IG_MAX_EXT_HDRS 6

/* What the data path needs of one packet. Offsets count from the frame start. */
struct ig_pkt {
	__u8 saddr[16]; /* IPv4 stored IPv4-mapped (::ffff:a.b.c.d): one hash for both families */
	__u8 daddr[16];
	__u16 l3_off;
	__u16 l4_off;
	__u16 ip_len; /* IPv4 total length / IPv6 40 + payload length, as the header says */
	__u16 sport; /* host byte order */
	__u16 dport;
	__u16 payload_off; /* TCP: where the segment's payload starts (after options) */
	__u32 seq;         /* TCP: sequence number, host byte order */
	__u8 ipv6;   /* 0 = IPv4, 1 = IPv6 */
	__u8 proto;  /* enum ig_proto */
	__u8 tcp_flags;
	__u8 nvlan;
};

static __always_inline void ig_map_v4(__u8 *dst, __be32 a)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &a, 4);
}

static __always_inline int ig_parse_l4(struct ig_cursor *c, __u8 l4proto, struct ig_pkt *p,
				       void *data)
{
	p->l4_off = (__u16)((char *)c->pos - (char *)data);
	if (l4proto == IG_IPPROTO_TCP) {
		struct ig_tcp *th = IG_PULL(c, struct ig_tcp);

		if (!th)
			return IG_PARSE_BAD;
		if ((th->doff_res >> 4) < 5)
			return IG_PARSE_BAD;
		p->proto = IG_PROTO_TCP;
		p->sport = ig_ntohs(th->source);
		p->dport = ig_ntohs(th->dest);
		p->tcp_flags = th->flags;
		p->seq = ig_ntohl(th->seq);
		p->payload_off = (__u16)(p->l4_off + (th->doff_res >> 4) * 4);
		return IG_PARSE_OK;
	}
	if (l4proto == IG_IPPROTO_UDP) {
		struct ig_udp *uh = IG_PULL(c, struct ig_udp);

		if (!uh)
			return IG_PARSE_BAD;
		p->proto = IG_PROTO_UDP;
		p->sport = ig_ntohs(uh->source);
		p->dport = ig_ntohs(uh->dest);
		return IG_PARSE_OK;
	}
	return IG_PARSE_OTHER;
}

static __always_inline int ig_parse_ipv4(struct ig_cursor *c, struct ig_pkt *p, void *data)
{
	struct ig_ipv4 *iph = IG_PULL(c, struct ig_ipv4);
	__u32 ihl;

	if (!iph)
		return IG_PARSE_BAD;
	if ((iph->ver_ihl >> 4) != 4)
		return IG_PARSE_BAD;
	ihl = (__u32)(iph->ver_ihl & 0x0f) * 4;
	if (ihl < sizeof(*iph))
		return IG_PARSE_BAD;
	/* Options: skip them; the pull checks they are really there. */
	if (ihl > sizeof(*iph) && !ig_cursor_pull(c, ihl - sizeof(*iph)))
		return IG_PARSE_BAD;
	ig_map_v4(p->saddr, iph->saddr);
	ig_map_v4(p->daddr, iph->daddr);
	p->ipv6 = 0;
	p->ip_len = ig_ntohs(iph->tot_len);
	if (ig_ntohs(iph->frag_off) & IG_IP_OFFMASK)
		return IG_PARSE_FRAGMENT;
	return ig_parse_l4(c, iph->proto, p, data);
}

static __always_inline int ig_parse_ipv6(struct ig_cursor *c, struct ig_pkt *p, void *data)
{
	struct ig_ipv6 *ip6h = IG_PULL(c, struct ig_ipv6);
	__u8 nexthdr;
	int i;

	if (!ip6h)
		return IG_PARSE_BAD;
	if ((ig_ntohl(ip6h->ver_tc_flow) >> 28) != 6)
		return IG_PARSE_BAD;
	__builtin_memcpy(p->saddr, ip6h->saddr, 16);
	__builtin_memcpy(p->daddr, ip6h->daddr, 16);
	p->ipv6 = 1;
	p->ip_len = (__u16)(ig_ntohs(ip6h->payload_len) + sizeof(*ip6h));
	nexthdr = ip6h->nexthdr;

#pragma unroll
	for (i = 0; i < IG_MAX_EXT_HDRS; i++) {
		if (nexthdr == IG_IPPROTO_HOPOPTS || nexthdr == IG_IPPROTO_ROUTING ||
		    nexthdr == IG_IPPROTO_DSTOPTS) {
			struct ig_ipv6_opt *opt = IG_PULL(c, struct ig_ipv6_opt);
			__u32 len;

			if (!opt)
				return IG_PARSE_BAD;
			len = ((__u32)opt->hdrlen + 1) * 8;
			nexthdr = opt->nexthdr;
			if (!ig_cursor_pull(c, len - sizeof(*opt)))
				return IG_PARSE_BAD;
		} else if (nexthdr == IG_IPPROTO_FRAGMENT) {
			struct ig_ipv6_frag *fh = IG_PULL(c, struct ig_ipv6_frag);

			if (!fh)
				return IG_PARSE_BAD;
			if (ig_ntohs(fh->frag_off) & 0xfff8)
				return IG_PARSE_FRAGMENT;
			nexthdr = fh->nexthdr;
		} else {
			return ig_parse_l4(c, nexthdr, p, data);
		}
	}
	/* More extension headers than we walk: not ours to judge. */
	return IG_PARSE_OTHER;
}

/*
 * Parse one frame. Only IG_PARSE_OK fills in every field of p; the other
 * results mean "pass it untouched".
 */
static __always_inline int ig_parse(void *data, void *data_end, struct ig_pkt *p)
{
	struct ig_cursor c = { .pos = data, .end = data_end };
	struct ig_eth *eth = IG_PULL(&c, struct ig_eth);
	__u16 proto;
	int i;

	if (!eth)
		return IG_PARSE_BAD;
	proto = ig_ntohs(eth->proto);
	p->nvlan = 0;

	/* Up to two tags: 802.1ad outer (or a second 802.1Q), 802.1Q inner. */
#pragma unroll
	for (i = 0; i < 2; i++) {
		struct ig_vlan *vh;

		if (proto != IG_ETH_P_8021Q && proto != IG_ETH_P_8021AD)
			break;
		vh = IG_PULL(&c, struct ig_vlan);
		if (!vh)
			return IG_PARSE_BAD;
		proto = ig_ntohs(vh->proto);
		p->nvlan++;
	}

	p->l3_off = (__u16)((char *)c.pos - (char *)data);
	if (proto == IG_ETH_P_IP)
		return ig_parse_ipv4(&c, p, data);
	if (proto == IG_ETH_P_IPV6)
		return ig_parse_ipv6(&c, p, data);
	return IG_PARSE_OTHER;
}

#endif /* IG_PARSE_H */
