// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The parser (bpf/pure/parse.h) compiled natively, on frames from tests/lib/frames.c.
 * Truncated frames are exact-size heap copies, so a read past the end is a
 * heap overflow that valgrind or ASan would report.
 */
#include <stdlib.h>
#include "pure/parse.h"
#include "frames.h"
#include "harness.h"

static int parse(const struct ig_frame *f, size_t len, struct ig_pkt *p)
{
	void *copy = ig_frame_copy(f, len);
	int r;

	ASSERT_TRUE(copy != NULL, "memory");
	memset(p, 0xa5, sizeof(*p));
	r = ig_parse(copy, (char *)copy + len, p);
	free(copy);
	return r;
}

static const __u8 v4_src[16] = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 };
static const __u8 v4_dst[16] = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 2 };

IG_TEST(parse_ipv4_tcp_syn)
{
	struct ig_frame_spec s;
	struct ig_frame f;
	struct ig_pkt p;

	ig_frame_defaults(&s, 0, IG_F_TCP);
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_OK, "parses");
	ASSERT_EQ(p.ipv6, 0, "IPv4");
	ASSERT_EQ(p.proto, IG_PROTO_TCP, "TCP");
	ASSERT_EQ(p.sport, 40000, "source port, host order");
	ASSERT_EQ(p.dport, 8000, "destination port, host order");
	ASSERT_EQ(p.tcp_flags, 0x02, "SYN");
	ASSERT_MEMEQ(p.saddr, v4_src, 16, "source IPv4-mapped");
	ASSERT_MEMEQ(p.daddr, v4_dst, 16, "destination IPv4-mapped");
	ASSERT_EQ(p.l3_off, f.l3_off, "L3 offset");
	ASSERT_EQ(p.l4_off, f.l4_off, "L4 offset");
	ASSERT_EQ(p.ip_len, f.len - f.l3_off, "IP length");
	ASSERT_EQ(p.nvlan, 0, "no tags");
}

IG_TEST(parse_vlan_qinq_and_ipv4_options)
{
	for (int tags = 0; tags <= 2; tags++) {
		for (int words = 0; words <= 10; words += 5) {
			struct ig_frame_spec s;
			struct ig_frame f;
			struct ig_pkt p;

			ig_frame_defaults(&s, 0, IG_F_UDP);
			s.nvlan = tags;
			ig_frame_ipv4_nops(&s, words);
			f = IG_FRAME(&s);
			ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_OK, "parses");
			ASSERT_EQ(p.nvlan, tags, "tags counted");
			ASSERT_EQ(p.l3_off, 14 + 4 * tags, "L3 after the tags");
			ASSERT_EQ(p.l4_off, f.l4_off, "L4 after the options");
			ASSERT_EQ(p.proto, IG_PROTO_UDP, "UDP");
			ASSERT_EQ(p.dport, 8000, "port");
		}
	}
}

IG_TEST(parse_ipv6_extension_headers)
{
	static const __u8 chain[][3] = {
		{ IG_F_HOPOPTS, 0, 0 },
		{ IG_F_ROUTING, IG_F_DSTOPTS, 0 },
		{ IG_F_HOPOPTS, IG_F_ROUTING, IG_F_DSTOPTS },
	};

	for (size_t c = 0; c < sizeof(chain) / sizeof(chain[0]); c++) {
		struct ig_frame_spec s;
		struct ig_frame f;
		struct ig_pkt p;

		ig_frame_defaults(&s, 1, IG_F_TCP);
		for (int i = 0; i < 3 && (i == 0 || chain[c][i]); i++)
			ig_frame_add_ext(&s, chain[c][i], (__u8)i);
		f = IG_FRAME(&s);
		ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_OK, "parses");
		ASSERT_EQ(p.ipv6, 1, "IPv6");
		ASSERT_EQ(p.l4_off, f.l4_off, "L4 after the extension headers");
		ASSERT_EQ(p.dport, 8000, "port");
		ASSERT_MEMEQ(p.saddr, f.buf + f.l3_off + 8, 16, "source address");
	}
}

IG_TEST(parse_extension_headers_past_the_walk_are_too_deep)
{
	for (int n = IG_MAX_EXT_HDRS; n <= IG_MAX_EXT_HDRS + 1; n++) {
		struct ig_frame_spec s;
		struct ig_frame f;
		struct ig_pkt p;

		ig_frame_defaults(&s, 1, IG_F_TCP);
		for (int i = 0; i < n; i++)
			ig_frame_add_ext(&s, IG_F_DSTOPTS, 0);
		f = IG_FRAME(&s);
		ASSERT_EQ(parse(&f, f.len, &p), n > IG_MAX_EXT_HDRS ? IG_PARSE_DEEP : IG_PARSE_OK,
			  "the walk's length parses, one more is too deep");
	}
}

IG_TEST(parse_tiny_fragments)
{
	struct ig_frame_spec s;
	struct ig_frame f;
	struct ig_pkt p;

	/* the IP length leaves 8 bytes of the TCP header; the frame holds all */
	ig_frame_defaults(&s, 0, IG_F_TCP);
	s.frag_off = IG_F_MF;
	f = IG_FRAME(&s);
	f.buf[f.l3_off + 3] = 20 + 8;
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_TINY_FRAG, "IPv4 first fragment, 8 bytes of TCP");
	s.frag_off = 0;
	f = IG_FRAME(&s);
	f.buf[f.l3_off + 3] = 20 + 8;
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_BAD, "not a fragment: just short");
	s.frag_off = 1; /* 8 bytes */
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_TINY_FRAG, "IPv4 TCP at offset 8");
	s.frag_off = 3;
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_FRAGMENT, "IPv4 TCP at offset 24");
	ig_frame_defaults(&s, 1, IG_F_TCP);
	ig_frame_add_frag(&s, 1, 0);
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_TINY_FRAG, "IPv6 TCP at offset 8");
	ig_frame_defaults(&s, 1, IG_F_TCP);
	ig_frame_add_frag(&s, 0, 1);
	f = IG_FRAME(&s);
	f.buf[f.l3_off + 5] = 8 + 8;
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_TINY_FRAG, "IPv6 first fragment, 8 bytes of TCP");
}

IG_TEST(parse_three_vlan_tags_are_too_deep)
{
	struct ig_frame_spec s;
	struct ig_frame f;
	struct ig_pkt p;

	ig_frame_defaults(&s, 0, IG_F_TCP);
	s.nvlan = 2;
	f = IG_FRAME(&s);
	memmove(f.buf + 16, f.buf + 12, f.len - 12);
	memcpy(f.buf + 12, "\x81\x00\x00\x00", 4);
	f.len += 4;
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_DEEP, "a third tag");
}

IG_TEST(parse_fragments)
{
	struct ig_frame_spec s;
	struct ig_frame f;
	struct ig_pkt p;

	ig_frame_defaults(&s, 0, IG_F_TCP);
	s.frag_off = IG_F_MF;
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_OK, "IPv4 first fragment has the ports");
	s.frag_off = 100;
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_FRAGMENT, "IPv4 later fragment");
	ig_frame_defaults(&s, 1, IG_F_UDP);
	ig_frame_add_frag(&s, 0, 1);
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_OK, "IPv6 first fragment");
	ig_frame_defaults(&s, 1, IG_F_UDP);
	ig_frame_add_frag(&s, 3, 0);
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_FRAGMENT, "IPv6 later fragment");
}

IG_TEST(parse_malformed_headers)
{
	struct ig_frame_spec s;
	struct ig_frame f;
	struct ig_pkt p;

	for (__u8 ihl = 1; ihl < 5; ihl++) { /* 0 means "computed" to the builder */
		ig_frame_defaults(&s, 0, IG_F_TCP);
		s.ihl = ihl;
		f = IG_FRAME(&s);
		ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_BAD, "IHL below 5");
	}
	ig_frame_defaults(&s, 0, IG_F_TCP);
	s.ihl = 15; /* 60 bytes claimed, 20 present before the TCP header */
	f = IG_FRAME(&s);
	ASSERT_NEQ(parse(&f, f.len, &p), IG_PARSE_OK, "IHL beyond the frame never parses OK");
	ig_frame_defaults(&s, 0, IG_F_TCP);
	s.version = 5;
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_BAD, "IPv4 ethertype with version 5");
	ig_frame_defaults(&s, 0, IG_F_TCP);
	s.doff = 4;
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_BAD, "TCP data offset below 5");
	ig_frame_defaults(&s, 0, IG_F_ICMP);
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_OTHER, "ICMP is not ours");
	ig_frame_defaults(&s, 0, IG_F_TCP);
	s.ethertype = 0x0806;
	f = IG_FRAME(&s);
	ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_OTHER, "ARP is not ours");
}

/* Never OK on a cut frame, whatever was cut; never a read past its end. */
IG_TEST(parse_every_truncation_is_refused)
{
	for (int v = 0; v < 6; v++) {
		struct ig_frame_spec s;
		struct ig_frame f;
		struct ig_pkt p;

		ig_frame_defaults(&s, v & 1, v < 4 ? IG_F_TCP : IG_F_UDP);
		s.nvlan = v / 2 % 3;
		if (!(v & 1))
			ig_frame_ipv4_nops(&s, 3);
		else
			ig_frame_add_ext(&s, IG_F_HOPOPTS, 1);
		f = IG_FRAME(&s);
		ASSERT_EQ(parse(&f, f.len, &p), IG_PARSE_OK, "the whole frame parses");
		/* the transport header ends the part the parser reads */
		for (size_t len = 0; len < f.payload_off; len++) {
			int r = parse(&f, len, &p);

			ASSERT_TRUE(r == IG_PARSE_BAD || r == IG_PARSE_OTHER, "cut frame refused");
		}
	}
}
