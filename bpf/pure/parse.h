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

/*
 * `rem` is what the IP header says is left of the datagram: Ethernet pads a
 * short frame to 60 bytes, and a transport header read from the padding is
 * not one the receiving stack ever sees (it trims the skb to the IP length).
 * A plain count, not a second end pointer: the verifier derives bounds only
 * from comparisons with the real end.
 */
struct ig_cursor {
	void *pos;
	void *end;
	__u32 rem;
};

#define IG_REM_ANY 0xffffffffU /* before the IP header, or a length of 0 (BIG TCP) */

static __always_inline void *ig_cursor_pull(struct ig_cursor *c, __u32 len)
{
	void *p = c->pos;

	if ((char *)p + len > (char *)c->end || len > c->rem)
		return (void *)0;
	c->pos = (char *)p + len;
	c->rem -= len;
	return p;
}

#define IG_PULL(c, type) ((type *)ig_cursor_pull((c), sizeof(type)))

/*
 * What the parser makes of a frame. Only OK describes a packet the limiter
 * can charge; the caller passes OTHER, FRAGMENT and BAD (the receiving stack
 * drops a BAD frame too: truncated, or a header it refuses) and drops the
 * rest, which the stack would accept but the limiter cannot judge: each would
 * otherwise reach a limited port for free (ig_parse_reason()).
 */
enum ig_parse_result {
	IG_PARSE_OK = 0,       /* TCP or UDP header found: p is filled in */
	IG_PARSE_OTHER = 1,    /* well formed, but not IP or not TCP/UDP */
	IG_PARSE_FRAGMENT = 2, /* a non-first fragment past the transport header */
	IG_PARSE_BAD = 3,      /* truncated or malformed */
	IG_PARSE_DEEP = 4,     /* more VLAN tags or IPv6 extension headers than we walk */
	IG_PARSE_TINY_FRAG = 5, /* a first fragment without the whole transport header,
				 * or a later one that would overlap it (RFC 1858,
				 * RFC 3128, RFC 7112) */
	IG_PARSE_V4MAPPED = 6, /* IPv6 from ::ffff:0:0/96 (ig_is_v4mapped()) */
};

/* IPv6 extension headers walked (each costs verifier work). Six is the
 * longest chain RFC 8200 4.1 recommends before the upper-layer header
 * (hop-by-hop, destination, routing, fragment, AH, destination); a longer one
 * is dropped (IG_PARSE_DEEP), as Cilium drops past its limit. */
#define IG_MAX_EXT_HDRS 6
/* VLAN tags walked: 802.1ad outer (or a second 802.1Q) and 802.1Q inner. */
#define IG_MAX_VLANS 2

/* What the data path needs of one packet. Offsets count from the frame start. */
struct ig_pkt {
	__u8 saddr[16]; /* IPv4 stored IPv4-mapped (::ffff:a.b.c.d): one hash for both families */
	__u8 daddr[16];
	__u16 l3_off;
	__u16 l4_off;
	__u16 ip_len; /* IPv4 total length / IPv6 40 + payload length, as the header says */
	__u16 sport; /* host byte order */
	__u16 dport;
	__u16 payload_off; /* where the payload starts (after TCP options, the UDP header) */
	__u32 seq;         /* TCP: sequence number, host byte order */
	__u8 ipv6;   /* 0 = IPv4, 1 = IPv6 */
	__u8 proto;  /* enum ig_proto */
	__u8 tcp_flags;
	__u8 nvlan;
	/* the first of several IP fragments: its transport payload goes on in
	 * fragments that carry no header (a request port refuses it) */
	__u8 first_frag;
};

static __always_inline void ig_map_v4(__u8 *dst, __be32 a)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &a, 4);
}

/* Bytes of the transport header the limiter reads: a fragment must not hold
 * fewer (the first) or start within them (a later one). Other protocols are
 * not ours: 0. */
static __always_inline __u32 ig_l4_min(__u8 l4proto)
{
	if (l4proto == IG_IPPROTO_TCP)
		return sizeof(struct ig_tcp);
	if (l4proto == IG_IPPROTO_UDP)
		return sizeof(struct ig_udp);
	return 0;
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
		p->payload_off = (__u16)(p->l4_off + sizeof(*uh));
		return IG_PARSE_OK;
	}
	return IG_PARSE_OTHER;
}

static __always_inline int ig_parse_ipv4(struct ig_cursor *c, struct ig_pkt *p, void *data)
{
	struct ig_ipv4 *iph = IG_PULL(c, struct ig_ipv4);
	__u32 ihl;
	__u16 frag;
	int res;

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
	if (p->ip_len) {
		if (p->ip_len < ihl)
			return IG_PARSE_BAD;
		c->rem = p->ip_len - ihl;
	}
	frag = ig_ntohs(iph->frag_off);
	if (frag & IG_IP_OFFMASK)
		return (__u32)(frag & IG_IP_OFFMASK) * 8 < ig_l4_min(iph->proto) ? IG_PARSE_TINY_FRAG
										 : IG_PARSE_FRAGMENT;
	res = ig_parse_l4(c, iph->proto, p, data);
	/* the rest of the header would come with a later fragment, unjudged */
	if (res == IG_PARSE_BAD && (frag & IG_IP_MF))
		return IG_PARSE_TINY_FRAG;
	p->first_frag = !!(frag & IG_IP_MF);
	return res;
}

static __always_inline int ig_is_ext_hdr(__u8 nexthdr)
{
	return nexthdr == IG_IPPROTO_HOPOPTS || nexthdr == IG_IPPROTO_ROUTING ||
	       nexthdr == IG_IPPROTO_DSTOPTS || nexthdr == IG_IPPROTO_FRAGMENT;
}

/*
 * ::ffff:0:0/96, the sockets API's form of an IPv4 address (RFC 4291
 * 2.5.5.2), and how sources are keyed here: an IPv6 packet from there would
 * spend the IPv4 address's bucket, max-conns count and tier. It is never a
 * real sender's address on the wire; Linux drops a SYN from there, but late
 * (tcp_v6_conn_request), and delivers UDP.
 */
static __always_inline int ig_is_v4mapped(const __u8 *a)
{
	__u64 hi;
	__u32 mid;

	__builtin_memcpy(&hi, a, 8);
	__builtin_memcpy(&mid, a + 8, 4);
	return hi == 0 && mid == ig_htonl(0xffff);
}

/* An IPv6 address, 4 bytes at a time: a 16-byte memcpy loads all of it
 * before storing any, which spilled it to the stack, and the stages' parse
 * (core.h) then broke the 512-byte stack budget of the call chain. (Word by
 * word it grew the egress program's frames instead.) */
static __always_inline void ig_copy_addr(__u8 *dst, const __u8 *src)
{
	int i;

#pragma unroll
	for (i = 0; i < 16; i += 4)
		__builtin_memcpy(dst + i, src + i, 4);
}

static __always_inline int ig_parse_ipv6(struct ig_cursor *c, struct ig_pkt *p, void *data)
{
	struct ig_ipv6 *ip6h = IG_PULL(c, struct ig_ipv6);
	__u8 nexthdr;
	int i, first_frag = 0, res;

	if (!ip6h)
		return IG_PARSE_BAD;
	if ((ig_ntohl(ip6h->ver_tc_flow) >> 28) != 6)
		return IG_PARSE_BAD;
	if (ig_is_v4mapped(ip6h->saddr))
		return IG_PARSE_V4MAPPED;
	ig_copy_addr(p->saddr, ip6h->saddr);
	ig_copy_addr(p->daddr, ip6h->daddr);
	p->ipv6 = 1;
	p->ip_len = (__u16)(ig_ntohs(ip6h->payload_len) + sizeof(*ip6h));
	if (ip6h->payload_len) /* 0: a jumbogram or a BIG TCP aggregate */
		c->rem = ig_ntohs(ip6h->payload_len);
	nexthdr = ip6h->nexthdr;

#pragma unroll
	for (i = 0; i < IG_MAX_EXT_HDRS; i++) {
		if (nexthdr == IG_IPPROTO_HOPOPTS || nexthdr == IG_IPPROTO_ROUTING ||
		    nexthdr == IG_IPPROTO_DSTOPTS) {
			struct ig_ipv6_opt *opt = IG_PULL(c, struct ig_ipv6_opt);
			__u32 len;

			if (!opt)
				return first_frag ? IG_PARSE_TINY_FRAG : IG_PARSE_BAD;
			len = ((__u32)opt->hdrlen + 1) * 8;
			nexthdr = opt->nexthdr;
			if (!ig_cursor_pull(c, len - sizeof(*opt)))
				return first_frag ? IG_PARSE_TINY_FRAG : IG_PARSE_BAD;
		} else if (nexthdr == IG_IPPROTO_FRAGMENT) {
			struct ig_ipv6_frag *fh = IG_PULL(c, struct ig_ipv6_frag);
			__u32 off;

			if (!fh)
				return IG_PARSE_BAD;
			off = ig_ntohs(fh->frag_off) & 0xfff8; /* in bytes: offset << 3 */
			if (off)
				return off < ig_l4_min(fh->nexthdr) ? IG_PARSE_TINY_FRAG
								    : IG_PARSE_FRAGMENT;
			/* RFC 7112: a first fragment holds the whole header chain */
			first_frag = ig_ntohs(fh->frag_off) & 1;
			nexthdr = fh->nexthdr;
		} else {
			break;
		}
	}
	/* Linux walks any number of them (7 destination options headers reach a
	 * TCP socket), so a chain past our walk would pass uncharged. */
	if (ig_is_ext_hdr(nexthdr))
		return IG_PARSE_DEEP;
	res = ig_parse_l4(c, nexthdr, p, data);
	if (res == IG_PARSE_BAD && first_frag)
		return IG_PARSE_TINY_FRAG;
	p->first_frag = (__u8)first_frag;
	return res;
}

/*
 * Parse one frame. Only IG_PARSE_OK fills in every field of p; see enum
 * ig_parse_result for the others.
 */
static __always_inline int ig_parse(void *data, void *data_end, struct ig_pkt *p)
{
	struct ig_cursor c = { .pos = data, .end = data_end, .rem = IG_REM_ANY };
	struct ig_eth *eth = IG_PULL(&c, struct ig_eth);
	__u16 proto;
	int i;

	if (!eth)
		return IG_PARSE_BAD;
	proto = ig_ntohs(eth->proto);
	p->nvlan = 0;

#pragma unroll
	for (i = 0; i < IG_MAX_VLANS; i++) {
		struct ig_vlan *vh;

		if (proto != IG_ETH_P_8021Q && proto != IG_ETH_P_8021AD)
			break;
		vh = IG_PULL(&c, struct ig_vlan);
		if (!vh)
			return IG_PARSE_BAD;
		proto = ig_ntohs(vh->proto);
		p->nvlan++;
	}
	/* Linux strips priority tags (VID 0) one after the other and delivers
	 * what is inside: a tag we do not walk would hide a limited port. */
	if (proto == IG_ETH_P_8021Q || proto == IG_ETH_P_8021AD)
		return IG_PARSE_DEEP;

	p->l3_off = (__u16)((char *)c.pos - (char *)data);
	if (proto == IG_ETH_P_IP)
		return ig_parse_ipv4(&c, p, data);
	if (proto == IG_ETH_P_IPV6)
		return ig_parse_ipv6(&c, p, data);
	return IG_PARSE_OTHER;
}

/* The counter a frame the parser did not accept goes under. */
static __always_inline int ig_parse_reason(int res)
{
	switch (res) {
	case IG_PARSE_FRAGMENT:
		return IG_R_PASS_FRAGMENT;
	case IG_PARSE_BAD:
		return IG_R_PASS_UNPARSED;
	case IG_PARSE_DEEP:
		return IG_R_DROP_DEEP;
	case IG_PARSE_TINY_FRAG:
		return IG_R_DROP_FRAGMENT;
	case IG_PARSE_V4MAPPED:
		return IG_R_DROP_V4MAPPED;
	default:
		return IG_R_PASS_OTHER;
	}
}

#endif /* IG_PARSE_H */
