// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The test frame builder and its reference checksum, checked against values
 * published elsewhere: every other test trusts them to judge the data path.
 */
#include <stdlib.h>
#include "frames.h"
#include "harness.h"

IG_TEST(frames_checksum_matches_rfc1071_example)
{
	/* RFC 1071 section 3: these bytes sum to 0xddf2, checksum ~0xddf2 */
	static const __u8 bytes[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ASSERT_EQ(ig_ref_fold(ig_ref_sum(0, bytes, sizeof(bytes))), 0x220d, "checksum of the example");
	/* an odd trailing byte counts as the high byte of a zero-padded word */
	ASSERT_EQ(ig_ref_csum(bytes, 7), 0x2304, "odd length pads with zero");
}

IG_TEST(frames_checksum_matches_a_captured_ipv4_header)
{
	/* 192.168.0.1 -> 192.168.0.199 UDP, a well-known worked example: 0xb861 */
	__u8 ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	ASSERT_EQ(ig_ref_csum(ip, sizeof(ip)), 0xb861, "header checksum");
	ip[10] = 0xb8;
	ip[11] = 0x61;
	ASSERT_TRUE(ig_ipv4_csum_ok(ip), "header with its checksum verifies");
	ip[15] ^= 1;
	ASSERT_FALSE(ig_ipv4_csum_ok(ip), "a flipped bit fails");
}

IG_TEST(frames_tcp_syn_has_the_requested_fields_and_valid_checksums)
{
	struct ig_frame_spec s;
	struct ig_frame f;
	const __u8 *ip, *th;

	ig_frame_defaults(&s, 0, IG_F_TCP);
	s.nvlan = 2;
	s.vlan_tci[0] = 10;
	s.vlan_tci[1] = 20;
	ig_frame_ipv4_nops(&s, 2);
	ASSERT_OK(ig_frame_build(&s, &f), "build");
	ASSERT_EQ(f.len, 14 + 8 + 28 + 20, "frame length");
	ASSERT_EQ(ig_get16(f.buf + 12), 0x88a8, "outer tag 802.1ad");
	ASSERT_EQ(ig_get16(f.buf + 14), 10, "outer TCI");
	ASSERT_EQ(ig_get16(f.buf + 16), 0x8100, "inner tag 802.1Q");
	ASSERT_EQ(ig_get16(f.buf + 18), 20, "inner TCI");
	ASSERT_EQ(ig_get16(f.buf + 20), 0x0800, "ethertype IPv4");
	ASSERT_EQ(f.l3_off, 22, "l3 offset");
	ip = f.buf + f.l3_off;
	ASSERT_EQ(ip[0], 0x47, "IHL 7");
	ASSERT_EQ(ig_get16(ip + 2), 48, "total length");
	ASSERT_TRUE(ig_ipv4_csum_ok(ip), "IPv4 checksum");
	ASSERT_EQ(f.l4_off, 22 + 28, "l4 offset");
	th = f.buf + f.l4_off;
	ASSERT_EQ(ig_get16(th), 40000, "source port");
	ASSERT_EQ(ig_get16(th + 2), 8000, "destination port");
	ASSERT_EQ(th[13], 0x02, "SYN");
	ASSERT_TRUE(ig_l4_csum_ok(ip, th, 20, IG_F_TCP), "TCP checksum");
	f.buf[f.l4_off + 4] ^= 0x80;
	ASSERT_FALSE(ig_l4_csum_ok(ip, th, 20, IG_F_TCP), "a changed seq fails the TCP checksum");
}

IG_TEST(frames_ipv6_extension_chain_links_next_headers)
{
	struct ig_frame_spec s;
	struct ig_frame f;
	const __u8 *ip, *e;

	ig_frame_defaults(&s, 1, IG_F_UDP);
	ig_frame_add_ext(&s, IG_F_HOPOPTS, 0);
	ig_frame_add_ext(&s, IG_F_ROUTING, 2);
	ig_frame_add_frag(&s, 0, 1);
	ig_frame_add_ext(&s, IG_F_DSTOPTS, 1);
	s.payload = "odd";
	s.payload_len = 3;
	ASSERT_OK(ig_frame_build(&s, &f), "build");
	ip = f.buf + f.l3_off;
	ASSERT_EQ(ip[6], IG_F_HOPOPTS, "IPv6 next header");
	e = ip + 40;
	ASSERT_EQ(e[0], IG_F_ROUTING, "hop-by-hop next header");
	e += 8;
	ASSERT_EQ(e[0], IG_F_FRAGMENT, "routing next header");
	ASSERT_EQ(e[1], 2, "routing length");
	e += 24;
	ASSERT_EQ(e[0], IG_F_DSTOPTS, "fragment next header");
	ASSERT_EQ(ig_get16(e + 2), 1, "offset 0, M set");
	e += 8;
	ASSERT_EQ(e[0], IG_F_UDP, "destination options next header");
	ASSERT_EQ(f.l4_off - f.l3_off, 40 + 8 + 24 + 8 + 16, "extension bytes");
	ASSERT_EQ(ig_get16(ip + 4), f.len - f.l3_off - 40, "payload length");
	ASSERT_TRUE(ig_l4_csum_ok(ip, f.buf + f.l4_off, 8 + 3, IG_F_UDP),
		    "UDP checksum over an odd length");
}
