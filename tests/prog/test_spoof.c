// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The spoofing matrix through BPF_PROG_TEST_RUN: frames an attacker shapes so
 * that the receiving stack accepts them but the limiter would not charge them
 * (free passes), or so that a reply would go where it must not (amplifiers).
 * Each test is named after its attack and runs over both hooks. tests/netns/
 * spoof.sh sends the fragment and extension-header attacks over veth, where
 * the receiving kernel really reassembles them.
 */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ig_abi.h"
#include "infergate.skel.h"
#include "frames.h"
#include "harness.h"
#include "dp.h"
#include "lib/instance.h"
#include "lib/levels.h"

/* Ethernet pads a frame to 60 bytes (without FCS): the tiny fragments are
 * shorter than that, and the padding is where a careless parser finds the
 * rest of a transport header. */
#define ETH_MIN 60

static void pad_to_min(struct ig_frame *f, __u8 fill)
{
	if (f->len < ETH_MIN) {
		memset(f->buf + f->len, fill, ETH_MIN - f->len);
		f->len = ETH_MIN;
	}
}

/*
 * One fragment of the datagram in `whole` (IPv4, or IPv6 without extension
 * headers): `len` bytes of its payload from `off` (a multiple of 8), with
 * the More Fragments flag as given, padded with `fill`. What the kernel
 * reassembles from such fragments is `whole` again.
 */
static struct ig_frame fragment(const struct ig_frame *whole, int ipv6, size_t off, size_t len,
				int more, __u8 fill)
{
	size_t l3 = whole->l3_off, l4 = whole->l4_off;
	struct ig_frame f;
	__u8 *ip;

	memset(&f, 0, sizeof(f));
	memcpy(f.buf, whole->buf, l4);
	ip = f.buf + l3;
	if (!ipv6) {
		ip[2] = (__u8)((l4 - l3 + len) >> 8);
		ip[3] = (__u8)(l4 - l3 + len);
		ip[6] = (__u8)(((more ? 0x2000 : 0) | off / 8) >> 8);
		ip[7] = (__u8)(off / 8);
		ip[10] = ip[11] = 0;
		ip[10] = (__u8)(ig_ref_csum(ip, l4 - l3) >> 8);
		ip[11] = (__u8)ig_ref_csum(ip, l4 - l3);
		memcpy(f.buf + l4, whole->buf + l4 + off, len);
		f.len = l4 + len;
	} else {
		__u8 *fh = f.buf + l4;

		ip[4] = (__u8)((8 + len) >> 8);
		ip[5] = (__u8)(8 + len);
		ip[6] = 44; /* Fragment */
		fh[0] = whole->buf[l3 + 6];
		fh[1] = 0;
		fh[2] = (__u8)(off >> 8);
		fh[3] = (__u8)((off & 0xf8) | !!more);
		memcpy(fh + 4, "\x1e\x1e\x1e\x1e", 4);
		memcpy(fh + 8, whole->buf + l4 + off, len);
		f.len = l4 + 8 + len;
	}
	f.l3_off = l3;
	f.l4_off = l4;
	pad_to_min(&f, fill);
	return f;
}

/* A limited port that a second SYN from the same source would exceed. */
static struct infergate *limited(void)
{
	struct infergate *skel = dp_load();

	dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_DROP);
	return skel;
}

/* The burst of 1 of a limited port. */
static void exhaust_one(struct infergate *skel, enum hook h, const struct ig_frame *f)
{
	ASSERT_EQ(dp_run(skel, h, f->buf, f->len, NULL), rc_pass[h], "the burst of 1");
}

/* ------------------------------------------- frames the parser did not walk */

/* Six extension headers is the longest chain RFC 8200 recommends: walked,
 * so the SYN behind them is charged like any other. */
IG_TEST(spoof_ipv6_six_dstopts_syn_is_charged)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = limited();
		struct ig_frame_spec s;
		struct ig_frame f;

		ig_frame_defaults(&s, 1, IG_F_TCP);
		for (int i = 0; i < 6; i++)
			ig_frame_add_ext(&s, IG_F_DSTOPTS, 0);
		f = IG_FRAME(&s);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], hook_name[h]);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "the second SYN");
		ASSERT_EQ(dp_count(skel, 1, IG_R_DROP_LIMIT), 1, "charged: over the limit");
	}
}

/* Linux walks any number of destination options headers to the TCP socket. */
IG_TEST(spoof_ipv6_seven_dstopts_syn_is_dropped)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int n = 7; n <= 8; n++) {
			struct infergate *skel = limited();
			struct ig_frame_spec s;
			struct ig_frame f;

			ig_frame_defaults(&s, 1, IG_F_TCP);
			for (int i = 0; i < n; i++)
				ig_frame_add_ext(&s, i == 3 ? IG_F_ROUTING : IG_F_DSTOPTS, 0);
			f = IG_FRAME(&s);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], hook_name[h]);
			ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_DEEP), 1, "counted as too deep");
		}
	}
}

/* The kernel strips priority tags (VID 0) one after the other. */
IG_TEST(spoof_three_vlan_priority_tags_are_dropped)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int ipv6 = 0; ipv6 < 2; ipv6++) {
			struct infergate *skel = limited();
			struct ig_frame_spec s;
			struct ig_frame f;

			ig_frame_defaults(&s, ipv6, IG_F_TCP);
			s.nvlan = 2;
			s.vlan_tpid[0] = s.vlan_tpid[1] = 0x8100;
			f = IG_FRAME(&s);
			/* a third tag, VID 0, in front of the other two */
			memmove(f.buf + 16, f.buf + 12, f.len - 12);
			memcpy(f.buf + 12, "\x81\x00\x00\x00", 4);
			f.len += 4;
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], hook_name[h]);
			ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_DEEP), 1, "counted as too deep");
		}
	}
}

/* ----------------------------------------------------- tiny fragments */

/*
 * RFC 1858 / RFC 3128: 8 bytes of TCP header (ports and sequence number) in
 * the first fragment, the flags in the second. The padding either reads as a
 * TCP header with a data offset of 0 (the parser gave up and passed it) or,
 * shaped by the attacker, as a plain ACK (the limiter let it through free).
 */
IG_TEST(spoof_ipv4_tiny_first_fragment_is_dropped)
{
	static const __u8 fills[] = { 0x00, 0x50 /* doff 5, and flags 0x50: ACK */ };

	for (int h = 0; h < NHOOKS; h++) {
		for (size_t k = 0; k < sizeof(fills); k++) {
			struct infergate *skel = limited();
			struct ig_frame whole = syn(0);
			struct ig_frame f = fragment(&whole, 0, 0, 8, 1, fills[k]), rest;

			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], hook_name[h]);
			ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_FRAGMENT), 1, "counted as a bad fragment");
			/* its second half overlaps the TCP header: dropped too (RFC 1858) */
			rest = fragment(&whole, 0, 8, whole.len - whole.l4_off - 8, 0, 0);
			ASSERT_EQ(dp_run(skel, h, rest.buf, rest.len, NULL), rc_drop[h],
				  "the fragment at offset 8");
			ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_FRAGMENT), 2, "counted as a bad fragment");
		}
	}
}

IG_TEST(spoof_ipv4_fragment_offsets_within_the_tcp_header_are_dropped)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = limited();
		struct ig_frame_spec s;
		struct ig_frame whole, f;
		static __u8 payload[64];

		ig_frame_defaults(&s, 0, IG_F_TCP);
		s.payload = payload;
		s.payload_len = sizeof(payload);
		whole = IG_FRAME(&s);
		f = fragment(&whole, 0, 16, 16, 1, 0);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "offset 16 bytes");
		f = fragment(&whole, 0, 24, 16, 0, 0);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "offset 24: past it");
		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_FRAGMENT), 1, "counted as a fragment");
		/* UDP's header is 8 bytes: offset 8 is already past it */
		ig_frame_defaults(&s, 0, IG_F_UDP);
		s.payload = payload;
		s.payload_len = sizeof(payload);
		whole = IG_FRAME(&s);
		f = fragment(&whole, 0, 8, 16, 0, 0);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "UDP at offset 8");
		/* a first fragment that holds the whole TCP header is charged */
		f = fragment(&whole, 0, 0, 24, 1, 0);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "UDP first fragment");
		ig_frame_defaults(&s, 0, IG_F_TCP);
		s.payload = payload;
		s.payload_len = sizeof(payload);
		whole = IG_FRAME(&s);
		f = fragment(&whole, 0, 0, 24, 1, 0);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], "whole header: admitted");
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "... and charged");
		ASSERT_EQ(dp_count(skel, 1, IG_R_DROP_LIMIT), 1, "over the limit");
	}
}

/* RFC 7112: an IPv6 first fragment must hold the whole header chain. */
IG_TEST(spoof_ipv6_tiny_first_fragment_is_dropped)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = limited();
		struct ig_frame whole = syn(1);
		struct ig_frame f = fragment(&whole, 1, 0, 8, 1, 0x50);

		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], hook_name[h]);
		f = fragment(&whole, 1, 8, whole.len - whole.l4_off - 8, 0, 0);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "its second half");
		ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_FRAGMENT), 2, "counted as bad fragments");
	}
}

IG_TEST(spoof_ipv6_first_fragment_cutting_the_header_chain_is_dropped)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = limited();
		struct ig_frame_spec s;
		struct ig_frame f;

		ig_frame_defaults(&s, 1, IG_F_TCP);
		ig_frame_add_frag(&s, 0, 1);
		ig_frame_add_ext(&s, IG_F_DSTOPTS, 3); /* 32 bytes */
		f = IG_FRAME(&s);
		/* the datagram ends 16 bytes into the destination options */
		f.buf[f.l3_off + 4] = 0;
		f.buf[f.l3_off + 5] = 8 + 16;
		f.len = f.l3_off + 40 + 8 + 16;
		pad_to_min(&f, 0);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], hook_name[h]);
		ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_FRAGMENT), 1, "counted as a bad fragment");
	}
}

/* Not a fragment: a datagram too short for its TCP header is passed as
 * unparsed (the stack drops it), never read from the padding behind it. */
IG_TEST(spoof_ipv4_tcp_header_in_the_padding_is_not_read)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame whole = syn(0);
		struct ig_frame f = fragment(&whole, 0, 0, 8, 0, 0x50);

		/* a policy that refuses all: anything charged would be dropped */
		dp_limit(skel, IG_PROTO_TCP, PORT, 0, 1, IG_UNIT_PACKET, IG_ACTION_DROP);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], hook_name[h]);
		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_UNPARSED), 1, "counted as unparsed");
	}
}

/* ------------------------------------------------ replies: no amplifiers */

struct group_case {
	const char *what;
	int ipv6;
	const char *src, *dst;
	__u8 smac0, dmac0; /* first bytes of the MACs: bit 0 is the group bit */
};

static const struct group_case group_cases[] = {
	{ "IPv4 limited broadcast source", 0, "255.255.255.255", "198.18.0.2", 2, 2 },
	{ "IPv4 multicast source", 0, "224.0.0.1", "198.18.0.2", 2, 2 },
	{ "IPv4 multicast source (239/8)", 0, "239.1.2.3", "198.18.0.2", 2, 2 },
	{ "IPv4 unspecified source", 0, "0.0.0.0", "198.18.0.2", 2, 2 },
	{ "IPv4 this-network source", 0, "0.1.2.3", "198.18.0.2", 2, 2 },
	{ "IPv4 class E source", 0, "240.0.0.1", "198.18.0.2", 2, 2 },
	{ "IPv4 loopback source", 0, "127.0.0.1", "198.18.0.2", 2, 2 },
	{ "IPv4 to the limited broadcast", 0, "198.18.0.1", "255.255.255.255", 2, 2 },
	{ "IPv4 to a multicast group", 0, "198.18.0.11", "224.0.0.1", 2, 2 },
	{ "IPv6 multicast source", 1, "ff02::1", "fd00::2", 2, 2 },
	{ "IPv6 unspecified source", 1, "::", "fd00::2", 2, 2 },
	{ "IPv6 loopback source", 1, "::1", "fd00::2", 2, 2 },
	{ "IPv6 to a multicast group", 1, "fd00::1", "ff02::1", 2, 2 },
	{ "Ethernet group source", 0, "198.18.0.12", "198.18.0.2", 0x01, 2 },
	{ "Ethernet broadcast destination", 0, "198.18.0.13", "198.18.0.2", 2, 0xff },
	{ "Ethernet multicast destination (IPv6)", 1, "fd00::11", "fd00::2", 2, 0x33 },
};

/* RFC 1122 3.2.2 / 4.2.3.10, RFC 4443 2.4 (e): over the limit with action
 * reject (each case its own source, so its own bucket), none of these gets a RST or a port unreachable (one broadcast SYN
 * would make every host on the LAN answer); the packet is dropped instead,
 * counted, and spends none of the reject budget. */
IG_TEST(spoof_reject_never_answers_a_group_or_unspecified_address)
{
	struct ig_globals g = { .reject_rate = 1, .reject_burst = 1 };
	__u32 zero = 0;

	for (int h = 0; h < NHOOKS; h++) {
		for (int udp = 0; udp < 2; udp++) {
			struct infergate *skel = dp_load();
			enum ig_proto proto = udp ? IG_PROTO_UDP : IG_PROTO_TCP;
			struct ig_frame_spec s;
			struct ig_frame f, r;
			size_t n = sizeof(group_cases) / sizeof(group_cases[0]);

			ASSERT_OK(bpf_map__update_elem(skel->maps.globals, &zero, 4, &g, sizeof(g),
						       BPF_ANY), "budget: one reply");
			dp_limit(skel, proto, PORT, 1, 1, IG_UNIT_PACKET, IG_ACTION_REJECT);
			for (size_t i = 0; i < n; i++) {
				const struct group_case *c = &group_cases[i];
				char what[128];

				ig_frame_defaults(&s, c->ipv6, udp ? IG_F_UDP : IG_F_TCP);
				ig_frame_addrs(&s, c->src, c->dst);
				s.smac[0] = c->smac0;
				s.dmac[0] = c->dmac0;
				f = IG_FRAME(&s);
				snprintf(what, sizeof(what), "%s, %s, %s", hook_name[h],
					 udp ? "udp" : "tcp", c->what);
				ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], what);
				ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &r), rc_drop[h], what);
				ASSERT_EQ(dp_count(skel, 1 + proto, IG_R_DROP_NO_REPLY), i + 1, what);
			}
			ASSERT_EQ(dp_count(skel, 1 + proto, IG_R_DROP_BUDGET), 0, "no budget asked for");
			/* the budget is still whole for a source that may be answered */
			ig_frame_defaults(&s, 0, udp ? IG_F_UDP : IG_F_TCP);
			ig_frame_addrs(&s, "198.18.0.99", "198.18.0.2");
			f = IG_FRAME(&s);
			exhaust_one(skel, h, &f);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_tx[h], "a unicast source");
		}
	}
}

/* ------------------------------------------------- families kept apart */

/* An IPv6 packet from ::ffff:a.b.c.d would be charged to the IPv4 address
 * a.b.c.d (sources are keyed IPv4-mapped): a spoofer could spend any IPv4
 * client's bucket, and its max-conns count, over IPv6. */
IG_TEST(spoof_ipv6_v4mapped_source_is_dropped)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = limited();
		struct ig_frame_spec s;
		struct ig_frame v4 = syn(0), mapped;

		ig_frame_defaults(&s, 1, IG_F_TCP);
		ig_frame_addrs(&s, "::ffff:198.18.0.1", "fd00::2");
		mapped = IG_FRAME(&s);
		ASSERT_EQ(dp_run(skel, h, mapped.buf, mapped.len, NULL), rc_drop[h], hook_name[h]);
		ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_V4MAPPED), 1, "counted as v4-mapped");
		ASSERT_EQ(dp_run(skel, h, v4.buf, v4.len, NULL), rc_pass[h],
			  "198.18.0.1's own SYN: its bucket is whole");
	}
}

/* User space's view of the test's data path (the maps of the skeleton). */
static struct ig_instance instance_of(struct infergate *skel)
{
	struct ig_instance in = { .ncpus = libbpf_num_possible_cpus() };

	for (int i = 0; i < IG_MAP_COUNT; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj,
								 ig_map_name((enum ig_map_id)i));

		ASSERT_TRUE(m != NULL, ig_map_name((enum ig_map_id)i));
		in.fd[i] = bpf_map__fd(m);
	}
	return in;
}

/* The verdict on a SYN from src (v6 or not) to the limited port. */
static __u32 syn_from(struct infergate *skel, enum hook h, int ipv6, const char *src)
{
	struct ig_frame_spec s;
	struct ig_frame f;

	ig_frame_defaults(&s, ipv6, IG_F_TCP);
	ig_frame_addrs(&s, src, ipv6 ? "fd00::2" : "198.18.0.2");
	f = IG_FRAME(&s);
	return dp_run(skel, h, f.buf, f.len, NULL);
}

/* IPv4 sources are looked up in the tier trie IPv4-mapped: `::/0 deny` once
 * denied every IPv4 client too. A tier is for the family it is written in;
 * only a prefix written inside ::ffff:0:0/96 reaches IPv4. */
IG_TEST(spoof_tier_deny_all_ipv6_leaves_ipv4_alone)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_instance in = instance_of(skel);
		__u8 key[20];

		dp_limit(skel, IG_PROTO_TCP, PORT, 1000, 1000, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_OK(ig_tier_add(&in, "::/0", "deny"), "tier add ::/0 deny");
		ASSERT_EQ(syn_from(skel, h, 1, "fd00::1"), rc_drop[h], "IPv6: denied");
		ASSERT_EQ(syn_from(skel, h, 0, "198.18.0.1"), rc_pass[h], "IPv4: not denied");
		ASSERT_EQ(ig_tiers_count(&in), 1, "one prefix (the fence is not one)");
		ASSERT_OK(ig_tier_del(&in, "::/0"), "tier del ::/0");
		ASSERT_NEQ(bpf_map_get_next_key(in.fd[IG_MAP_TIERS], NULL, key), 0,
			   "the trie is empty again");

		ASSERT_OK(ig_tier_add(&in, "0.0.0.0/0", "deny"), "tier add 0.0.0.0/0 deny");
		ASSERT_EQ(syn_from(skel, h, 0, "198.18.0.3"), rc_drop[h], "IPv4: denied");
		ASSERT_EQ(syn_from(skel, h, 1, "fd00::3"), rc_pass[h], "IPv6: not denied");
		ASSERT_OK(ig_tier_del(&in, "0.0.0.0/0"), "tier del 0.0.0.0/0");

		/* written inside ::ffff:0:0/96: meant for IPv4, and it reaches it */
		ASSERT_OK(ig_tier_add(&in, "::/0", "allow"), "tier add ::/0 allow");
		ASSERT_OK(ig_tier_add(&in, "::ffff:0:0/96", "deny"), "tier add ::ffff:0:0/96 deny");
		ASSERT_EQ(syn_from(skel, h, 0, "198.18.0.4"), rc_drop[h], "IPv4: denied");
		ASSERT_EQ(syn_from(skel, h, 1, "fd00::4"), rc_pass[h], "IPv6: allowed");
		ASSERT_EQ(dp_count(skel, 1, IG_R_PASS_ALLOW), 1, "... as allowed");
		ASSERT_OK(ig_tier_del(&in, "::ffff:0:0/96"), "tier del ::ffff:0:0/96");
		ASSERT_EQ(syn_from(skel, h, 0, "198.18.0.5"), rc_pass[h], "IPv4: admitted again");
		ASSERT_EQ(dp_count(skel, 1, IG_R_PASS_ALLOW), 1, "... not by ::/0 allow");
		ASSERT_EQ(ig_tier_del(&in, "0.0.0.0/0"), -ENOENT, "the fence is no user's prefix");
		ASSERT_OK(ig_tier_del(&in, "::/0"), "tier del ::/0");
		ASSERT_NEQ(bpf_map_get_next_key(in.fd[IG_MAP_TIERS], NULL, key), 0,
			   "the trie is empty again");
	}
}

/* The same through the agent's config (a wanted set applied as a diff). */
IG_TEST(spoof_tier_config_deny_all_ipv6_leaves_ipv4_alone)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_instance in = instance_of(skel);
		struct ig_tier_want want = { .what = "deny" };
		__u8 key[20];

		dp_limit(skel, IG_PROTO_TCP, PORT, 1000, 1000, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_OK(ig_cidr_parse("::/0", &want.key), "parse ::/0");
		ASSERT_OK(ig_tiers_apply(&in, &want, 1, NULL, 0), "config: ::/0 deny");
		ASSERT_EQ(syn_from(skel, h, 1, "fd00::1"), rc_drop[h], "IPv6: denied");
		ASSERT_EQ(syn_from(skel, h, 0, "198.18.0.1"), rc_pass[h], "IPv4: not denied");
		ASSERT_OK(ig_tiers_apply(&in, NULL, 0, NULL, 0), "config: no tiers");
		ASSERT_NEQ(bpf_map_get_next_key(in.fd[IG_MAP_TIERS], NULL, key), 0,
			   "the trie is empty again");
	}
}

/* ------------------------------------------- breaker refusals: budgeted */

/* A breaker open without a fallback refuses new connections with a RST. A
 * spoofed SYN flood made each SYN one RST to its (forged) source, whatever
 * the reject budget said: 5000 SYNs, 5000 RSTs with replies turned off. */
IG_TEST(spoof_breaker_refusals_obey_the_reject_budget)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int rate = 0; rate <= 1; rate++) {
			struct infergate *skel = dp_load();
			struct ig_globals g = { .reject_rate = (__u64)rate, .reject_burst = 3 };
			struct ig_breaker b = { .force = IG_FORCE_OPEN, .flags = IG_BRK_F_ON };
			__u32 zero = 0, key = PORT, tx = 0;
			struct ig_frame_spec s;

			ASSERT_OK(bpf_map__update_elem(skel->maps.globals, &zero, 4, &g, sizeof(g),
						       BPF_ANY), "reject budget");
			ASSERT_OK(bpf_map__update_elem(skel->maps.breakers, &key, 4, &b, sizeof(b),
						       BPF_ANY), "breaker open, no fallback");
			for (int i = 0; i < 200; i++) {
				struct ig_frame f;
				char src[32];
				__u32 rc;

				snprintf(src, sizeof(src), "198.18.%d.%d", 1 + i / 200, 1 + i % 200);
				ig_frame_defaults(&s, 0, IG_F_TCP);
				ig_frame_addrs(&s, src, "198.18.0.2");
				f = IG_FRAME(&s);
				rc = dp_run(skel, h, f.buf, f.len, NULL);
				ASSERT_TRUE(rc == rc_tx[h] || rc == rc_drop[h], "refused either way");
				tx += rc == rc_tx[h];
			}
			ASSERT_EQ(tx, rate ? 3 : 0, rate ? "the budget's burst of RSTs" : "replies off: none");
			ASSERT_EQ(dp_count(skel, 0, IG_R_REJECT_OPEN), tx, "counted as refused with a RST");
			ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_BUDGET), 200 - tx, "the rest: over budget");
		}
	}
}

/* ... and a refusal never goes to a broadcast source either. */
IG_TEST(spoof_breaker_refusal_never_answers_a_broadcast)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_breaker b = { .force = IG_FORCE_OPEN, .flags = IG_BRK_F_ON };
		__u32 key = PORT;

		ASSERT_OK(bpf_map__update_elem(skel->maps.breakers, &key, 4, &b, sizeof(b), BPF_ANY),
			  "breaker open, no fallback");
		ASSERT_EQ(syn_from(skel, h, 0, "255.255.255.255"), rc_drop[h], hook_name[h]);
		ASSERT_EQ(dp_count(skel, 0, IG_R_DROP_NO_REPLY), 1, "counted as not to be answered");
		ASSERT_EQ(syn_from(skel, h, 0, "198.18.0.1"), rc_tx[h], "a unicast source: a RST");
	}
}

/* ------------------------------------------------ buckets: the spacing */

/*
 * --rate 1/s --burst 1: a source first seen 0.7 s past a whole second was
 * admitted again at that next second, 0.3 s later (the bucket restarted from
 * the whole second before it). Now the second unit comes one second after
 * the first, from any start; likewise at 3/s with a burst of 2.
 */
IG_TEST(spoof_low_rate_source_gets_no_second_unit_before_its_interval)
{
	static const struct { __u64 rate, burst; } cases[] = { { 1, 1 }, { 3, 2 }, { 7, 1 } };

	for (int h = 0; h < NHOOKS; h++) {
		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			for (__u64 frac = 100 * 1000 * 1000; frac < SEC_NS; frac += 300 * 1000 * 1000) {
				struct infergate *skel = dp_load();
				__u64 rate = cases[c].rate, burst = cases[c].burst, t0, interval;
				struct ig_frame f = syn(0);
				char what[96];

				dp_limit(skel, IG_PROTO_TCP, PORT, rate, burst, IG_UNIT_CONN, IG_ACTION_DROP);
				t0 = skel->bss->ig_test_now_ns += frac;
				interval = (SEC_NS + rate - 1) / rate;
				snprintf(what, sizeof(what), "%s, %llu/s burst %llu, from %llu ms past a second",
					 hook_name[h], (unsigned long long)rate, (unsigned long long)burst,
					 (unsigned long long)(frac / 1000000));
				for (__u64 i = 0; i < burst; i++)
					ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], what);
				ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], what);
				/* the next whole second, and 2 ns short of the interval */
				skel->bss->ig_test_now_ns = t0 + (SEC_NS - frac) % (SEC_NS / rate);
				ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], what);
				skel->bss->ig_test_now_ns = t0 + interval - 3;
				ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], what);
				skel->bss->ig_test_now_ns = t0 + interval;
				ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h], what);
				ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], what);
			}
		}
	}
}

/* ------------------------------------------------ the byte unit on TC */

/* A GRO aggregate of n segments was n frames on the wire, each with its
 * headers: the byte unit charges what the wire carried, so that TC and XDP
 * count the same traffic alike (skb->len has one set of headers). */
IG_TEST(spoof_tc_gro_aggregate_is_charged_its_wire_bytes)
{
	for (int udp = 0; udp < 2; udp++) {
		static __u8 payload[100];
		struct ig_frame_spec s;
		struct ig_frame f;
		__u64 hdrs, wire;

		ig_frame_defaults(&s, 0, udp ? IG_F_UDP : IG_F_TCP);
		s.tcp_flags = 0x10;
		s.payload = payload;
		s.payload_len = sizeof(payload);
		f = IG_FRAME(&s);
		hdrs = f.payload_off;
		wire = f.len + 2 * hdrs; /* three segments */
		/* two of them: a charge above the burst is admitted from a full
		 * bucket, so the second one tells what the first cost */
		for (__u64 burst = 2 * wire - 1; burst <= 2 * wire; burst++) {
			struct infergate *skel = dp_load();

			dp_limit(skel, udp ? IG_PROTO_UDP : IG_PROTO_TCP, PORT, 1, burst, IG_UNIT_BYTE,
				 IG_ACTION_DROP);
			ASSERT_EQ(dp_run_tc_gro(skel, f.buf, f.len, 3), TC_UNSPEC_RC, "the first");
			ASSERT_EQ(dp_run_tc_gro(skel, f.buf, f.len, 3), burst < 2 * wire ? TC_SHOT_RC : TC_UNSPEC_RC,
				  burst < 2 * wire ? "a burst 1 byte short of twice the wire bytes"
						   : "twice the wire bytes");
		}
	}
}
