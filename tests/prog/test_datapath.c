// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The data path through BPF_PROG_TEST_RUN: crafted frames into the real XDP
 * and TC programs, verdicts and counters out, replies checked field by field
 * with checksums recomputed by tests/lib/frames.c (not by the data path's code).
 * Every test runs over both hooks. Time is driven by hand (IG_CLOCK_TEST).
 */
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include "ig_abi.h"
#include "infergate.skel.h"
#include "frames.h"
#include "harness.h"
#include "dp.h"

/* ---------------------------------------------------------------- parsing */

IG_TEST(prog_unprotected_port_passes_untouched)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame f = syn(0), out;

		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &out), rc_pass[h], hook_name[h]);
		ASSERT_EQ(out.len, f.len, "length unchanged");
		ASSERT_MEMEQ(out.buf, f.buf, f.len, "frame unchanged");
		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_OTHER), 1, "counted as other traffic");
	}
}

/* Every encapsulation the parser knows reaches the bucket: burst 2, the
 * third SYN is dropped. */
IG_TEST(prog_every_encapsulation_is_limited)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int v = 0; v < 7; v++) {
			static const char *const what[] = {
				"ipv4", "ipv6", "802.1q", "qinq", "ipv4 options", "ipv6 ext headers",
				"ipv6 first fragment",
			};
			struct infergate *skel = dp_load();
			struct ig_frame_spec s;
			struct ig_frame f;
			char msg[96];

			ig_frame_defaults(&s, v == 1 || v >= 5, IG_F_TCP);
			if (v == 2 || v == 3) {
				s.nvlan = v == 2 ? 1 : 2;
				s.vlan_tci[0] = 100;
				s.vlan_tci[1] = 200;
			}
			if (v == 4)
				ig_frame_ipv4_nops(&s, 10);
			if (v == 5) {
				ig_frame_add_ext(&s, IG_F_HOPOPTS, 0);
				ig_frame_add_ext(&s, IG_F_ROUTING, 1);
				ig_frame_add_ext(&s, IG_F_DSTOPTS, 2);
			}
			if (v == 6)
				ig_frame_add_frag(&s, 0, 1);
			f = IG_FRAME(&s);
			dp_limit(skel, IG_PROTO_TCP, PORT, 1, 2, IG_UNIT_CONN, IG_ACTION_DROP);
			snprintf(msg, sizeof(msg), "%s, %s", hook_name[h], what[v]);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], msg);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], msg);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], msg);
			ASSERT_EQ(dp_count(skel, 1, IG_R_PASS_ADMITTED), 2, msg);
			ASSERT_EQ(dp_count(skel, 1, IG_R_DROP_LIMIT), 1, msg);
		}
	}
}

IG_TEST(prog_every_truncation_of_a_limited_frame_passes)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int ipv6 = 0; ipv6 < 2; ipv6++) {
			struct infergate *skel = dp_load();
			struct ig_frame_spec s;
			struct ig_frame f;
			__u64 passed = 0;

			ig_frame_defaults(&s, ipv6, IG_F_TCP);
			s.nvlan = 1;
			f = IG_FRAME(&s);
			/* limit 0: anything the parser accepted would be dropped */
			dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_PACKET, IG_ACTION_DROP);
			dp_limit(skel, IG_PROTO_TCP, PORT, 0, 1, IG_UNIT_PACKET, IG_ACTION_DROP);
			/* test runs refuse frames shorter than an Ethernet header */
			for (size_t len = ETH_HLEN; len < f.len; len++) {
				ASSERT_EQ(dp_run(skel, h, f.buf, len, NULL), rc_pass[h], hook_name[h]);
				passed++;
			}
			ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_UNPARSED), passed,
				  "every truncation counted as unparsed");
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "whole frame");
		}
	}
}

IG_TEST(prog_malformed_and_fragments_pass)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame_spec s;
		struct ig_frame f;

		dp_limit(skel, IG_PROTO_TCP, PORT, 0, 1, IG_UNIT_PACKET, IG_ACTION_DROP);
		ig_frame_defaults(&s, 0, IG_F_TCP);
		s.ihl = 4;
		f = IG_FRAME(&s);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "IHL 4 passes");
		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_UNPARSED), 1, "counted unparsed");

		ig_frame_defaults(&s, 0, IG_F_TCP);
		s.frag_off = 185; /* offset 1480 bytes */
		f = IG_FRAME(&s);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "IPv4 fragment passes");
		ig_frame_defaults(&s, 1, IG_F_TCP);
		ig_frame_add_frag(&s, 185, 0);
		f = IG_FRAME(&s);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "IPv6 fragment passes");
		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_FRAGMENT), 2, "counted as fragments");
	}
}

/* ---------------------------------------------------------------- buckets */

IG_TEST(prog_conn_unit_charges_only_syns)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame_spec s;
		struct ig_frame syn4 = syn(0), ack;

		ig_frame_defaults(&s, 0, IG_F_TCP);
		s.tcp_flags = 0x10;
		ack = IG_FRAME(&s);
		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_EQ(dp_run(skel, h, syn4.buf, syn4.len, NULL), rc_pass[h], "first SYN");
		ASSERT_EQ(dp_run(skel, h, syn4.buf, syn4.len, NULL), rc_drop[h], "second SYN");
		for (int i = 0; i < 5; i++)
			ASSERT_EQ(dp_run(skel, h, ack.buf, ack.len, NULL), rc_pass[h],
				  "ACKs of an exhausted source still pass");
		ASSERT_EQ(dp_count(skel, 1, IG_R_PASS_FREE), 5, "counted free");
	}
}

IG_TEST(prog_burst_then_exact_refill)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame f = syn(0);
		int ok = 0;

		dp_limit(skel, IG_PROTO_TCP, PORT, 5, 10, IG_UNIT_CONN, IG_ACTION_DROP);
		for (int i = 0; i < 30; i++)
			ok += dp_run(skel, h, f.buf, f.len, NULL) == rc_pass[h];
		ASSERT_EQ(ok, 10, "a new source gets its burst");
		skel->bss->ig_test_now_ns += SEC_NS;
		ok = 0;
		for (int i = 0; i < 30; i++)
			ok += dp_run(skel, h, f.buf, f.len, NULL) == rc_pass[h];
		ASSERT_EQ(ok, 5, "one second later: rate units");
		skel->bss->ig_test_now_ns += SEC_NS / 5 - 1;
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "1 ns short of a token");
		skel->bss->ig_test_now_ns += 1;
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "exactly one token");
	}
}

IG_TEST(prog_sources_and_ports_are_independent)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame_spec s;
		struct ig_frame a, b, other;

		ig_frame_defaults(&s, 0, IG_F_TCP);
		a = IG_FRAME(&s);
		ig_frame_addrs(&s, "198.18.0.9", "198.18.0.2");
		b = IG_FRAME(&s);
		ig_frame_defaults(&s, 1, IG_F_UDP);
		other = IG_FRAME(&s);
		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_DROP);
		dp_limit(skel, IG_PROTO_UDP, PORT, 1, 1, IG_UNIT_PACKET, IG_ACTION_DROP);
		ASSERT_EQ(dp_run(skel, h, a.buf, a.len, NULL), rc_pass[h], "source a");
		ASSERT_EQ(dp_run(skel, h, a.buf, a.len, NULL), rc_drop[h], "source a again");
		ASSERT_EQ(dp_run(skel, h, b.buf, b.len, NULL), rc_pass[h], "source b has its own");
		ASSERT_EQ(dp_run(skel, h, other.buf, other.len, NULL), rc_pass[h], "udp/8000 its own");
		ASSERT_EQ(dp_run(skel, h, other.buf, other.len, NULL), rc_drop[h], "udp again");
	}
}

IG_TEST(prog_byte_unit_charges_the_frame_length)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame f = syn(0);

		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 2 * f.len + f.len / 2, IG_UNIT_BYTE,
			 IG_ACTION_DROP);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "1st frame");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "2nd frame");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "2.5 frames of burst");
	}
}

IG_TEST(prog_policy_change_applies_to_the_next_packet)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame f = syn(0);

		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "burst 1");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "exhausted");
		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 3, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "burst raised to 3");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "... its third unit");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "... and no more");
		dp_limit(skel, IG_PROTO_TCP, PORT, 0, 3, IG_UNIT_CONN, IG_ACTION_DROP);
		skel->bss->ig_test_now_ns += 100 * SEC_NS;
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "rate 0 refuses all");
	}
}

/* ---------------------------------------------------------------- replies */

/* The reply in `r` answers the frame `in`: L2 swapped with tags kept, IP
 * addresses swapped, TTL 64, checksums right. Returns the reply's L3 offset. */
static size_t check_reply_l3(const struct ig_frame *in, const struct ig_frame *r, int ipv6,
			     __u8 proto, size_t l4len)
{
	size_t l3 = in->l3_off;
	const __u8 *ip = r->buf + l3, *oip = in->buf + in->l3_off;

	ASSERT_MEMEQ(r->buf, in->buf + 6, 6, "destination MAC = the sender's");
	ASSERT_MEMEQ(r->buf + 6, in->buf, 6, "source MAC = ours");
	ASSERT_MEMEQ(r->buf + 12, in->buf + 12, l3 - 12, "ethertype and VLAN tags kept");
	if (!ipv6) {
		ASSERT_EQ(ip[0], 0x45, "IPv4, no options");
		ASSERT_EQ(ig_get16(ip + 2), 20 + l4len, "IPv4 total length");
		ASSERT_EQ(ig_get16(ip + 6), 0x4000, "DF, no fragment");
		ASSERT_EQ(ip[8], 64, "TTL");
		ASSERT_EQ(ip[9], proto, "protocol");
		ASSERT_MEMEQ(ip + 12, oip + 16, 4, "source = the original destination");
		ASSERT_MEMEQ(ip + 16, oip + 12, 4, "destination = the original source");
		ASSERT_TRUE(ig_ipv4_csum_ok(ip), "IPv4 header checksum");
		ASSERT_EQ(r->len, l3 + 20 + l4len, "frame length");
		ASSERT_TRUE(ig_l4_csum_ok(ip, ip + 20, l4len, proto), "transport checksum");
		return l3 + 20;
	}
	ASSERT_EQ(ip[0] >> 4, 6, "IPv6");
	ASSERT_EQ(ig_get16(ip + 4), l4len, "payload length");
	ASSERT_EQ(ip[6], proto, "next header: no extension headers");
	ASSERT_EQ(ip[7], 64, "hop limit");
	ASSERT_MEMEQ(ip + 8, oip + 24, 16, "source = the original destination");
	ASSERT_MEMEQ(ip + 24, oip + 8, 16, "destination = the original source");
	ASSERT_EQ(r->len, l3 + 40 + l4len, "frame length");
	ASSERT_TRUE(ig_l4_csum_ok(ip, ip + 40, l4len, proto), "transport checksum");
	return l3 + 40;
}

static void exhaust(struct infergate *skel, enum hook h, const struct ig_frame *f)
{
	ASSERT_EQ(dp_run(skel, h, f->buf, f->len, NULL), rc_pass[h], "the burst of 1");
}

IG_TEST(prog_reject_syn_gets_rst_ack)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int v = 0; v < 4; v++) { /* v4, v6, v4 in QinQ, v4 with options */
			struct infergate *skel = dp_load();
			struct ig_frame_spec s;
			struct ig_frame f, r;
			const __u8 *th;

			ig_frame_defaults(&s, v == 1, IG_F_TCP);
			if (v == 2)
				s.nvlan = 2;
			if (v == 3)
				ig_frame_ipv4_nops(&s, 3);
			s.seq = 0xfffffffe; /* ack = seq + 1 wraps correctly */
			f = IG_FRAME(&s);
			dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_REJECT);
			exhaust(skel, h, &f);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &r), rc_tx[h], "over the limit: a reply");
			th = r.buf + check_reply_l3(&f, &r, v == 1, IG_F_TCP, 20);
			ASSERT_EQ(ig_get16(th), PORT, "source port = the port dialed");
			ASSERT_EQ(ig_get16(th + 2), 40000, "destination port = the client's");
			ASSERT_EQ(ig_get32(th + 4), 0, "seq 0");
			ASSERT_EQ(ig_get32(th + 8), 0xffffffff, "ack = seq + 1");
			ASSERT_EQ(th[12] >> 4, 5, "no options");
			ASSERT_EQ(th[13], 0x14, "RST|ACK");
			ASSERT_EQ(dp_count(skel, 1, IG_R_REJECT), 1, "counted as rejected");
		}
	}
}

IG_TEST(prog_reject_segment_with_ack_gets_rst_at_its_ack)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame_spec s;
		struct ig_frame f, r;
		const __u8 *th;

		ig_frame_defaults(&s, 0, IG_F_TCP);
		s.tcp_flags = 0x18; /* PSH|ACK */
		s.ack = 0x12345678;
		s.payload = "GET / HTTP/1.1\r\n\r\n";
		s.payload_len = 18;
		f = IG_FRAME(&s);
		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_PACKET, IG_ACTION_REJECT);
		exhaust(skel, h, &f);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &r), rc_tx[h], "a reply");
		th = r.buf + check_reply_l3(&f, &r, 0, IG_F_TCP, 20);
		ASSERT_EQ(ig_get32(th + 4), 0x12345678, "seq = the segment's ack");
		ASSERT_EQ(th[13], 0x04, "RST alone");
	}
}

IG_TEST(prog_reject_udp_gets_port_unreachable_quoting_it)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int v = 0; v < 3; v++) { /* v4, v6, v4 with options in a VLAN */
			struct infergate *skel = dp_load();
			struct ig_frame_spec s;
			struct ig_frame f, r;
			size_t quote, l4;
			const __u8 *icmp;

			ig_frame_defaults(&s, v == 1, IG_F_UDP);
			s.payload = "some request payload.."; /* even length */
			s.payload_len = 22;
			if (v == 2) {
				s.nvlan = 1;
				ig_frame_ipv4_nops(&s, 2);
			}
			f = IG_FRAME(&s);
			dp_limit(skel, IG_PROTO_UDP, PORT, 1, 1, IG_UNIT_PACKET, IG_ACTION_REJECT);
			exhaust(skel, h, &f);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &r), rc_tx[h], "a reply");
			/* IPv4 quotes the IP header and 8 bytes; IPv6 all of this short packet */
			quote = v == 1 ? f.len - f.l3_off : f.l4_off - f.l3_off + 8;
			l4 = 8 + quote;
			icmp = r.buf + check_reply_l3(&f, &r, v == 1, v == 1 ? IG_F_ICMPV6 : IG_F_ICMP, l4);
			ASSERT_EQ(icmp[0], v == 1 ? 1 : 3, "destination unreachable");
			ASSERT_EQ(icmp[1], v == 1 ? 4 : 3, "port unreachable");
			ASSERT_EQ(ig_get32(icmp + 4), 0, "unused word");
			ASSERT_MEMEQ(icmp + 8, f.buf + f.l3_off, quote, "quotes the offending packet");
		}
	}
}

IG_TEST(prog_reject_budget_caps_replies)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_globals g = { .reject_rate = 1, .reject_burst = 2 };
		struct ig_frame f = syn(0);
		__u32 zero = 0;

		ASSERT_OK(bpf_map__update_elem(skel->maps.globals, &zero, 4, &g, sizeof(g), BPF_ANY),
			  "budget 1/s burst 2");
		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_REJECT);
		exhaust(skel, h, &f);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_tx[h], "reply 1");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_tx[h], "reply 2");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "budget spent: drop");
		ASSERT_EQ(dp_count(skel, 1, IG_R_DROP_BUDGET), 1, "counted as over budget");
		g.reject_rate = 0;
		ASSERT_OK(bpf_map__update_elem(skel->maps.globals, &zero, 4, &g, sizeof(g), BPF_ANY),
			  "replies off");
		skel->bss->ig_test_now_ns += 10 * SEC_NS;
		exhaust(skel, h, &f);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "rate 0: never a reply");
	}
}

/* ------------------------------------------------------------ edge cases */

IG_TEST(prog_reject_ipv6_with_extension_headers_gets_rst_without_them)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame_spec s;
		struct ig_frame f, r;
		const __u8 *th;

		ig_frame_defaults(&s, 1, IG_F_TCP);
		s.nvlan = 1;
		ig_frame_add_ext(&s, IG_F_HOPOPTS, 0);
		ig_frame_add_ext(&s, IG_F_DSTOPTS, 1);
		f = IG_FRAME(&s);
		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_REJECT);
		exhaust(skel, h, &f);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &r), rc_tx[h], "over the limit: a reply");
		th = r.buf + check_reply_l3(&f, &r, 1, IG_F_TCP, 20);
		ASSERT_EQ(ig_get32(th + 8), 1001, "ack = seq + 1");
		ASSERT_EQ(th[13], 0x14, "RST|ACK");
	}
}

/* ICMPv6 quotes from the IPv6 header, at most 256 bytes and an even count. */
IG_TEST(prog_reject_udp6_quote_is_capped_and_even)
{
	static __u8 payload[600];

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (__u8)(i * 7 + 1);
	for (int h = 0; h < NHOOKS; h++) {
		static const size_t lens[] = { 23, 501 }; /* ip_len 71 -> 70; 549 -> 256 */

		for (int v = 0; v < 2; v++) {
			struct infergate *skel = dp_load();
			struct ig_frame_spec s;
			struct ig_frame f, r;
			size_t ip_len = 40 + 8 + lens[v], quote = ip_len > 256 ? 256 : ip_len & ~1UL;
			const __u8 *icmp;
			char msg[96];

			ig_frame_defaults(&s, 1, IG_F_UDP);
			s.payload = payload;
			s.payload_len = lens[v];
			f = IG_FRAME(&s);
			dp_limit(skel, IG_PROTO_UDP, PORT, 1, 1, IG_UNIT_PACKET, IG_ACTION_REJECT);
			exhaust(skel, h, &f);
			snprintf(msg, sizeof(msg), "%s, %zu-byte datagram: a reply", hook_name[h],
				 lens[v]);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &r), rc_tx[h], msg);
			icmp = r.buf + check_reply_l3(&f, &r, 1, IG_F_ICMPV6, 8 + quote);
			ASSERT_EQ(icmp[0], 1, "destination unreachable");
			ASSERT_EQ(icmp[1], 4, "port unreachable");
			ASSERT_MEMEQ(icmp + 8, f.buf + f.l3_off, quote, "quote from the IPv6 header");
		}
	}
}

/* A GRO'd train (gso_segs > 1) cannot become one reply: TC drops it, and the
 * reply it did not send costs none of the reject budget. */
IG_TEST(prog_tc_gro_train_over_limit_is_dropped_without_spending_budget)
{
	struct infergate *skel = dp_load();
	struct ig_globals g = { .reject_rate = 1, .reject_burst = 1 };
	struct ig_frame f = syn(0);
	struct __sk_buff ctx = { .gso_segs = 4, .gso_size = 1448 };
	__u32 zero = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.buf, .data_size_in = (__u32)f.len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	ASSERT_OK(bpf_map__update_elem(skel->maps.globals, &zero, 4, &g, sizeof(g), BPF_ANY),
		  "budget of one reply");
	dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_REJECT);
	exhaust(skel, TC, &f);
	ASSERT_OK(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.ig_tc), &opts),
		  "test run with gso_segs 4");
	ASSERT_EQ(opts.retval, TC_SHOT_RC, "a train over the limit is dropped");
	ASSERT_EQ(dp_count(skel, 1, IG_R_DROP_REPLY_FAIL), 1, "counted as reply failed");
	ASSERT_EQ(dp_run(skel, TC, f.buf, f.len, NULL), TC_REDIRECT_RC,
		  "the budget's one reply is still there");
}

/* Bytes counted under `reason` in `slot`. */
static __u64 dp_bytes(struct infergate *skel, __u32 slot, enum ig_reason reason)
{
	return dp_stats(skel, slot).bytes[reason];
}

/* Every verdict is counted once, under its reason, with the frame's length as
 * it arrived (not the reply's). */
IG_TEST(prog_counters_hold_packets_and_bytes_per_reason)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame_spec s;
		struct ig_frame syn4 = syn(0), ack, other, udp;
		__u64 total = 0;

		ig_frame_defaults(&s, 0, IG_F_TCP);
		s.tcp_flags = 0x10;
		ack = IG_FRAME(&s);
		s.dport = 9999;
		other = IG_FRAME(&s);
		ig_frame_defaults(&s, 0, IG_F_UDP);
		udp = IG_FRAME(&s);
		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 2, IG_UNIT_CONN, IG_ACTION_REJECT);
		/* on UDP a `conn` unit counts packets */
		dp_limit(skel, IG_PROTO_UDP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_DROP);

		dp_run(skel, h, other.buf, other.len, NULL);
		/* cut inside TCP: the skb test run refuses IPv4 shorter than 20 bytes */
		dp_run(skel, h, syn4.buf, 40, NULL);
		for (int i = 0; i < 3; i++)
			dp_run(skel, h, syn4.buf, syn4.len, NULL);
		dp_run(skel, h, ack.buf, ack.len, NULL);
		ASSERT_EQ(dp_run(skel, h, udp.buf, udp.len, NULL), rc_pass[h], "first datagram");
		ASSERT_EQ(dp_run(skel, h, udp.buf, udp.len, NULL), rc_drop[h], "second datagram");

		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_OTHER), 1, "other port: packets");
		ASSERT_EQ(dp_bytes(skel, 0, IG_R_PASS_OTHER), other.len, "other port: bytes");
		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_UNPARSED), 1, "truncated: packets");
		ASSERT_EQ(dp_bytes(skel, 0, IG_R_PASS_UNPARSED), 40, "truncated: bytes");
		ASSERT_EQ(dp_count(skel, 1, IG_R_PASS_ADMITTED), 2, "admitted SYNs: packets");
		ASSERT_EQ(dp_bytes(skel, 1, IG_R_PASS_ADMITTED), 2 * syn4.len, "admitted SYNs: bytes");
		ASSERT_EQ(dp_count(skel, 1, IG_R_REJECT), 1, "rejected SYN: packets");
		ASSERT_EQ(dp_bytes(skel, 1, IG_R_REJECT), syn4.len, "rejected SYN: bytes as received");
		ASSERT_EQ(dp_count(skel, 1, IG_R_PASS_FREE), 1, "ACK: packets");
		ASSERT_EQ(dp_bytes(skel, 1, IG_R_PASS_FREE), ack.len, "ACK: bytes");
		ASSERT_EQ(dp_count(skel, 2, IG_R_PASS_ADMITTED), 1, "UDP admitted: packets");
		ASSERT_EQ(dp_count(skel, 2, IG_R_DROP_LIMIT), 1, "UDP dropped: packets");
		ASSERT_EQ(dp_bytes(skel, 2, IG_R_DROP_LIMIT), udp.len, "UDP dropped: bytes");
		for (__u32 slot = 0; slot < 3; slot++)
			for (int r = 0; r < IG_R_MAX; r++)
				total += dp_count(skel, slot, r);
		ASSERT_EQ(total, 8, "frames run, each counted once");
	}
}

IG_TEST(prog_slot_out_of_range_is_counted_in_slot_0)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_policy p = { .rate = 1, .burst = 1, .slot = IG_MAX_SLOTS + 5,
				       .unit = IG_UNIT_CONN, .action = IG_ACTION_DROP };
		__u32 idx = IG_PORT_INDEX(IG_PROTO_TCP, PORT);
		struct ig_frame f = syn(0);

		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &p, sizeof(p),
					       BPF_ANY), "a policy with slot 261 (bpftool edit)");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "still limited: burst 1");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "still limited: over");
		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_ADMITTED), 1, "admitted, counted in slot 0");
		ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_LIMIT), 1, "dropped, counted in slot 0");
	}
}

/* The RST acks everything the segment occupied in sequence space: payload
 * (measured past IP options and TCP options), plus one for SYN and for FIN. */
IG_TEST(prog_reject_rst_acks_payload_syn_and_fin)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int v = 0; v < 3; v++) {
			struct infergate *skel = dp_load();
			struct ig_frame_spec s;
			struct ig_frame f, r;
			const __u8 *th;
			__u32 want;

			ig_frame_defaults(&s, v == 2, IG_F_TCP);
			s.seq = 100000;
			s.payload = "abcde";
			if (v == 0) { /* FIN, 5 bytes */
				s.tcp_flags = 0x01;
				s.payload_len = 5;
				want = 100006;
			} else { /* SYN with 12 bytes of TCP options and 3 of data */
				s.tcp_flags = 0x02;
				s.tcp_opts_len = 12;
				memset(s.tcp_opts, 1, 12);
				s.payload_len = 3;
				if (v == 1)
					ig_frame_ipv4_nops(&s, 4);
				want = 100004;
			}
			f = IG_FRAME(&s);
			dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_PACKET, IG_ACTION_REJECT);
			exhaust(skel, h, &f);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &r), rc_tx[h], "a reply");
			th = r.buf + check_reply_l3(&f, &r, v == 2, IG_F_TCP, 20);
			ASSERT_EQ(ig_get32(th + 8), want, "ack = seq + payload + SYN + FIN");
			ASSERT_EQ(th[13], 0x14, "RST|ACK");
		}
	}
}

/* Drops are sampled into the ring buffer: one per CPU per interval, with the
 * source, port and reason; a reply's event names the client, not us. */
IG_TEST(prog_drops_are_sampled_into_the_event_ring)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame f = syn(h), out;
		struct ig_event ev[4];
		__u8 want[16] = { 0 };

		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "first SYN admitted");
		ASSERT_EQ(dp_events(skel, ev, 4), 0, "no event for a pass");
		for (int i = 0; i < 3; i++)
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "dropped");
		ASSERT_EQ(dp_events(skel, ev, 4), 1, "three drops within the interval: one event");
		if (h == XDP) {
			want[10] = want[11] = 0xff; /* ::ffff:198.18.0.1 */
			want[12] = 198, want[13] = 18, want[14] = 0, want[15] = 1;
		} else {
			want[0] = 0xfd, want[15] = 1; /* fd00::1 (the TC pass runs IPv6) */
		}
		ASSERT_MEMEQ(ev[0].source, want, 16, "the source");
		ASSERT_EQ(ev[0].port, PORT, "the port");
		ASSERT_EQ(ev[0].proto, IG_PROTO_TCP, "the protocol");
		ASSERT_EQ(ev[0].reason, IG_R_DROP_LIMIT, "the reason");
		skel->bss->ig_test_now_ns += IG_EVENT_INTERVAL_NS;
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "dropped later");
		ASSERT_EQ(dp_events(skel, ev, 4), 1, "one more event after the interval");

		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_REJECT);
		skel->bss->ig_test_now_ns += IG_EVENT_INTERVAL_NS;
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &out), rc_tx[h], "rejected");
		ASSERT_EQ(dp_events(skel, ev, 4), 1, "an event for the reject");
		ASSERT_MEMEQ(ev[0].source, want, 16, "the client, from the reply");
		ASSERT_EQ(ev[0].port, PORT, "the port, from the reply");
		ASSERT_EQ(ev[0].reason, IG_R_REJECT, "reason reject");
	}
}

/* A dry-run port refuses nothing: what it would have refused is counted under
 * would_drop / would_reject (and sampled), and the bucket is charged exactly
 * as when enforcing, so switching enforcement on later changes nothing else. */
IG_TEST(prog_dry_run_counts_and_passes)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_policy pol = { .rate = 1, .burst = 1, .slot = 1, .unit = IG_UNIT_CONN,
					 .action = IG_ACTION_DROP, .flags = IG_POL_F_DRY_RUN };
		__u32 idx = IG_PORT_INDEX(IG_PROTO_TCP, PORT);
		struct ig_frame f = syn(0), out;
		struct ig_event ev[2];

		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol),
					       BPF_ANY), "dry-run policy");
		for (int i = 0; i < 3; i++) {
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &out), rc_pass[h], "passed");
			ASSERT_MEMEQ(out.buf, f.buf, f.len, "untouched");
		}
		ASSERT_EQ(dp_count(skel, 1, IG_R_PASS_ADMITTED), 1, "admitted within the limit");
		ASSERT_EQ(dp_count(skel, 1, IG_R_DRY_DROP), 2, "would have dropped");
		ASSERT_EQ(dp_events(skel, ev, 2), 1, "a sampled event");
		ASSERT_EQ(ev[0].reason, IG_R_DRY_DROP, "for the would-be drop");

		pol.action = IG_ACTION_REJECT;
		ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol),
					       BPF_ANY), "dry-run reject");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &out), rc_pass[h], "no RST in a dry run");
		ASSERT_EQ(dp_count(skel, 1, IG_R_DRY_REJECT), 1, "would have rejected");

		pol.flags = 0; /* enforce: the bucket is as spent as it would have been */
		ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol),
					       BPF_ANY), "enforce");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &out), rc_tx[h], "enforced at once");
	}
}
