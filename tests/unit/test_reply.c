// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pure reply builders (bpf/pure/reply.h) run natively: RST and ICMP / ICMPv6
 * port-unreachable headers for parsed frames, every field checked and every
 * checksum verified with tests/lib/frames.c's own RFC 1071 code.
 */
#include <stdlib.h>
#include "pure/reply.h"
#include "frames.h"
#include "harness.h"

static unsigned long long rng_state = 0x243f6a8885a308d3ULL;

static __u64 rnd(void)
{
	return ig_rnd(&rng_state);
}

static struct ig_pkt parse(struct ig_frame *f)
{
	struct ig_pkt p;

	ASSERT_EQ(ig_parse(f->buf, f->buf + f->len, &p), IG_PARSE_OK, "parse the offending frame");
	return p;
}

/* What the frame half (reply_tx.h) reads from the segment: its numbers, and
 * its length in sequence space (payload, plus one each for SYN and FIN). */
static struct ig_tcp_seg segment_of(const struct ig_frame *f)
{
	const __u8 *th = f->buf + f->l4_off;
	struct ig_tcp_seg s = {
		.seq = ig_get32(th + 4),
		.ack = ig_get32(th + 8),
		.flags = th[13],
	};

	s.len = (__u32)(f->len - f->payload_off) + !!(th[13] & 0x02) + !!(th[13] & 0x01);
	return s;
}

/* The RST built for frame f, as bytes from its IP header: 40 or 60 long. */
static size_t rst_of(struct ig_frame *f, __u8 *out)
{
	struct ig_pkt p = parse(f);
	struct ig_tcp_seg s = segment_of(f);

	if (p.ipv6) {
		struct ig_rst6 r;

		ig_build_rst6(&p, &s, &r);
		memcpy(out, &r, sizeof(r));
		return sizeof(r);
	}
	struct ig_rst4 r;

	ig_build_rst4(&p, &s, &r);
	memcpy(out, &r, sizeof(r));
	return sizeof(r);
}

/* IP header of a reply to `f`: addresses swapped, TTL 64, no options or
 * extension headers, lengths and checksum right. Returns its length. */
static size_t check_ip(const struct ig_frame *f, const __u8 *ip, size_t l4len, __u8 proto)
{
	const __u8 *oip = f->buf + f->l3_off;

	if ((oip[0] >> 4) == 4) {
		ASSERT_EQ(ip[0], 0x45, "IPv4 without options");
		ASSERT_EQ(ip[1], 0, "TOS");
		ASSERT_EQ(ig_get16(ip + 2), 20 + l4len, "total length");
		ASSERT_EQ(ig_get16(ip + 4), 0, "id");
		ASSERT_EQ(ig_get16(ip + 6), 0x4000, "DF, offset 0");
		ASSERT_EQ(ip[8], 64, "TTL");
		ASSERT_EQ(ip[9], proto, "protocol");
		ASSERT_MEMEQ(ip + 12, oip + 16, 4, "source = the original destination");
		ASSERT_MEMEQ(ip + 16, oip + 12, 4, "destination = the original source");
		ASSERT_TRUE(ig_ipv4_csum_ok(ip), "IPv4 header checksum");
		return 20;
	}
	ASSERT_EQ(ig_get32(ip), 6U << 28, "IPv6, traffic class and flow label 0");
	ASSERT_EQ(ig_get16(ip + 4), l4len, "payload length");
	ASSERT_EQ(ip[6], proto, "next header");
	ASSERT_EQ(ip[7], 64, "hop limit");
	ASSERT_MEMEQ(ip + 8, oip + 24, 16, "source = the original destination");
	ASSERT_MEMEQ(ip + 24, oip + 8, 16, "destination = the original source");
	return 40;
}

static void check_rst(struct ig_frame *f, __u32 want_seq, __u32 want_ack, __u8 want_flags)
{
	__u8 r[64];
	size_t len = rst_of(f, r), l3;
	const __u8 *th;

	l3 = check_ip(f, r, 20, IG_F_TCP);
	ASSERT_EQ(len, l3 + 20, "reply length");
	th = r + l3;
	ASSERT_EQ(ig_get16(th), ig_get16(f->buf + f->l4_off + 2), "source port = the port dialed");
	ASSERT_EQ(ig_get16(th + 2), ig_get16(f->buf + f->l4_off), "destination port = the client's");
	ASSERT_EQ(ig_get32(th + 4), want_seq, "seq");
	ASSERT_EQ(ig_get32(th + 8), want_ack, "ack");
	ASSERT_EQ(th[12], 5 << 4, "data offset 5, no options");
	ASSERT_EQ(th[13], want_flags, "flags");
	ASSERT_EQ(ig_get16(th + 14), 0, "window");
	ASSERT_EQ(ig_get16(th + 18), 0, "urgent pointer");
	ASSERT_TRUE(ig_l4_csum_ok(r, th, 20, IG_F_TCP), "TCP checksum with pseudo header");
}

IG_TEST(reply_rst_to_a_syn_is_rst_ack_with_ack_seq_plus_one)
{
	for (int ipv6 = 0; ipv6 < 2; ipv6++) {
		struct ig_frame_spec s;
		struct ig_frame f;

		ig_frame_defaults(&s, ipv6, IG_F_TCP);
		s.seq = 0x01020304;
		f = IG_FRAME(&s);
		check_rst(&f, 0, 0x01020305, IG_TCP_RST | IG_TCP_ACK);
	}
}

IG_TEST(reply_rst_ack_wraps_around_the_sequence_space)
{
	struct ig_frame_spec s;
	struct ig_frame f;

	ig_frame_defaults(&s, 0, IG_F_TCP);
	s.seq = 0xffffffff;
	f = IG_FRAME(&s);
	check_rst(&f, 0, 0, IG_TCP_RST | IG_TCP_ACK);
}

IG_TEST(reply_rst_to_a_segment_with_ack_takes_its_ack_as_seq)
{
	for (int ipv6 = 0; ipv6 < 2; ipv6++) {
		struct ig_frame_spec s;
		struct ig_frame f;

		ig_frame_defaults(&s, ipv6, IG_F_TCP);
		s.tcp_flags = IG_TCP_ACK | IG_TCP_PSH;
		s.seq = 777;
		s.ack = 0xdeadbeef;
		s.payload = "hello, model";
		s.payload_len = 12;
		f = IG_FRAME(&s);
		check_rst(&f, 0xdeadbeef, 0, IG_TCP_RST);
	}
}

IG_TEST(reply_rst_to_a_fin_without_ack_counts_payload_and_fin)
{
	for (int ipv6 = 0; ipv6 < 2; ipv6++) {
		struct ig_frame_spec s;
		struct ig_frame f;

		ig_frame_defaults(&s, ipv6, IG_F_TCP);
		s.tcp_flags = IG_TCP_FIN;
		s.seq = 5000;
		s.payload = "12345";
		s.payload_len = 5;
		f = IG_FRAME(&s);
		check_rst(&f, 0, 5006, IG_TCP_RST | IG_TCP_ACK);
	}
}

IG_TEST(reply_rst_of_an_encapsulated_frame_drops_options_and_extensions)
{
	for (int v = 0; v < 2; v++) {
		struct ig_frame_spec s;
		struct ig_frame f;

		ig_frame_defaults(&s, v, IG_F_TCP);
		s.nvlan = 2;
		if (v) {
			ig_frame_add_ext(&s, IG_F_HOPOPTS, 1);
			ig_frame_add_ext(&s, IG_F_ROUTING, 0);
		} else {
			ig_frame_ipv4_nops(&s, 10);
		}
		f = IG_FRAME(&s);
		check_rst(&f, 0, 1001, IG_TCP_RST | IG_TCP_ACK);
	}
}

/* The data path sums the quote as 16-bit words where they lie in memory;
 * reply.h takes that sum as input. */
static __u32 memory_order_sum(const __u8 *p, size_t len)
{
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		__u16 w;

		memcpy(&w, p + i, 2);
		sum += w;
	}
	return sum;
}

/* The ICMP / ICMPv6 reply for UDP frame f, header and quote, into out. */
static size_t unreach_of(struct ig_frame *f, __u8 *out, size_t *quote_len)
{
	struct ig_pkt p = parse(f);
	const __u8 *q = f->buf + f->l3_off;
	size_t quote;

	if (p.ipv6) {
		struct ig_unreach6 r;

		quote = p.ip_len < 256 ? p.ip_len : 256;
		quote &= ~1UL;
		ig_build_unreach6(&p, (__u32)quote, memory_order_sum(q, quote), &r);
		memcpy(out, &r, sizeof(r));
		memcpy(out + sizeof(r), q, quote);
		*quote_len = quote;
		return sizeof(r) + quote;
	}
	struct ig_unreach4 r;

	quote = f->l4_off - f->l3_off + 8;
	ig_build_unreach4(&p, (__u32)quote, memory_order_sum(q, quote), &r);
	memcpy(out, &r, sizeof(r));
	memcpy(out + sizeof(r), q, quote);
	*quote_len = quote;
	return sizeof(r) + quote;
}

static void check_unreach(struct ig_frame *f)
{
	__u8 r[IG_FRAME_MAX];
	size_t quote, len = unreach_of(f, r, &quote), l3;
	int v6 = (f->buf[f->l3_off] >> 4) == 6;
	const __u8 *icmp;

	l3 = check_ip(f, r, 8 + quote, v6 ? IG_F_ICMPV6 : IG_F_ICMP);
	ASSERT_EQ(len, l3 + 8 + quote, "reply length");
	icmp = r + l3;
	ASSERT_EQ(icmp[0], v6 ? 1 : 3, "destination unreachable");
	ASSERT_EQ(icmp[1], v6 ? 4 : 3, "port unreachable");
	ASSERT_EQ(ig_get32(icmp + 4), 0, "unused word");
	ASSERT_MEMEQ(icmp + 8, f->buf + f->l3_off, quote, "the quote is the offending packet");
	ASSERT_TRUE(ig_l4_csum_ok(r, icmp, 8 + quote, v6 ? IG_F_ICMPV6 : IG_F_ICMP),
		    v6 ? "ICMPv6 checksum with pseudo header" : "ICMP checksum");
}

IG_TEST(reply_icmp_port_unreachable_quotes_ip_header_and_8_bytes)
{
	for (int words = 0; words <= 10; words += 5) {
		struct ig_frame_spec s;
		struct ig_frame f;

		ig_frame_defaults(&s, 0, IG_F_UDP);
		ig_frame_ipv4_nops(&s, words);
		s.payload = "a request that is longer than eight bytes";
		s.payload_len = 41;
		f = IG_FRAME(&s);
		check_unreach(&f);
	}
}

IG_TEST(reply_icmpv6_port_unreachable_quotes_up_to_256_even_bytes)
{
	static __u8 payload[400];

	memset(payload, 0xff, sizeof(payload)); /* all-ones words stress the carries */
	for (size_t n = 0; n < 300; n += 37) {
		struct ig_frame_spec s;
		struct ig_frame f;

		ig_frame_defaults(&s, 1, IG_F_UDP);
		s.payload = payload;
		s.payload_len = n;
		f = IG_FRAME(&s);
		check_unreach(&f);
	}
}

/* Random addresses, ports and numbers: a fold that drops a carry shows up in
 * a few percent of cases, so thousands of them are checked. */
IG_TEST(reply_checksums_hold_for_random_headers)
{
	static __u8 payload[200];

	for (int i = 0; i < 20000; i++) {
		struct ig_frame_spec s;
		struct ig_frame f;
		int v6 = i & 1, udp = (i >> 1) & 1;

		ig_frame_defaults(&s, v6, udp ? IG_F_UDP : IG_F_TCP);
		for (int b = 0; b < 16; b++) {
			s.saddr[b] = (__u8)rnd();
			s.daddr[b] = (__u8)(b < 2 ? 0xff : rnd());
		}
		s.sport = (__u16)rnd();
		s.dport = (__u16)rnd();
		s.seq = (__u32)rnd();
		s.ack = (__u32)rnd();
		s.tcp_flags = (__u8)(rnd() & (IG_TCP_SYN | IG_TCP_ACK | IG_TCP_FIN | IG_TCP_PSH));
		for (size_t b = 0; b < sizeof(payload); b++)
			payload[b] = (__u8)rnd();
		s.payload = payload;
		s.payload_len = rnd() % sizeof(payload);
		f = IG_FRAME(&s);
		if (udp) {
			check_unreach(&f);
		} else {
			struct ig_tcp_seg seg = segment_of(&f);

			if (seg.flags & IG_TCP_ACK)
				check_rst(&f, seg.ack, 0, IG_TCP_RST);
			else
				check_rst(&f, 0, seg.seq + seg.len, IG_TCP_RST | IG_TCP_ACK);
		}
	}
}

/* Only a single host is answered, and only for a packet sent to it alone. */
IG_TEST(reply_allowed_only_between_single_hosts)
{
	static const struct {
		int ipv6;
		const char *src, *dst;
		__u8 macs;
		int ok;
	} cases[] = {
		{ 0, "198.18.0.1", "198.18.0.2", 0x02, 1 },
		{ 0, "223.255.255.254", "10.0.0.1", 0x02, 1 },
		{ 0, "1.0.0.0", "10.0.0.1", 0x00, 1 },
		{ 0, "255.255.255.255", "10.0.0.1", 0x02, 0 },
		{ 0, "224.0.0.1", "10.0.0.1", 0x02, 0 },
		{ 0, "239.255.255.255", "10.0.0.1", 0x02, 0 },
		{ 0, "240.0.0.0", "10.0.0.1", 0x02, 0 },
		{ 0, "0.0.0.0", "10.0.0.1", 0x02, 0 },
		{ 0, "0.255.255.255", "10.0.0.1", 0x02, 0 },
		{ 0, "127.0.0.1", "10.0.0.1", 0x02, 0 },
		{ 0, "198.18.0.1", "255.255.255.255", 0x02, 0 },
		{ 0, "198.18.0.1", "224.0.0.251", 0x02, 0 },
		{ 0, "198.18.0.1", "198.18.0.2", 0x01, 0 },
		{ 0, "198.18.0.1", "198.18.0.2", 0xff, 0 },
		{ 1, "fd00::1", "fd00::2", 0x02, 1 },
		{ 1, "::2", "fd00::2", 0x02, 1 },
		{ 1, "::1:0:0:0:1", "fd00::2", 0x02, 1 },
		{ 1, "fe80::1", "fe80::2", 0x02, 1 },
		{ 1, "ff02::1", "fd00::2", 0x02, 0 },
		{ 1, "ff05::1:3", "fd00::2", 0x02, 0 },
		{ 1, "::", "fd00::2", 0x02, 0 },
		{ 1, "::1", "fd00::2", 0x02, 0 },
		{ 1, "fd00::1", "ff02::1", 0x02, 0 },
		{ 1, "fd00::1", "fd00::2", 0x33, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ig_frame_spec s;
		struct ig_frame f;
		struct ig_pkt p;
		char what[96];

		ig_frame_defaults(&s, cases[i].ipv6, IG_F_TCP);
		ig_frame_addrs(&s, cases[i].src, cases[i].dst);
		f = IG_FRAME(&s);
		p = parse(&f);
		snprintf(what, sizeof(what), "%s -> %s, MAC bits %#x", cases[i].src, cases[i].dst,
			 cases[i].macs);
		ASSERT_EQ(ig_reply_allowed(&p, cases[i].macs), cases[i].ok, what);
	}
}
