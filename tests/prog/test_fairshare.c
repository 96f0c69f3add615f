// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Fair share through BPF_PROG_TEST_RUN, on both ingress hooks (and the egress
 * program for token charges and freed connection slots): tiers, the prefix
 * and port levels with their refunds, the newcomer budget and the hold rule
 * of the source table, LLM-token debt, max-conns, and a dry run per level.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "dp.h"
#include "harness.h"
#include "pure/sources.h"

#define SLOT 1 /* dp's slot for TCP */

/* The port's policy with the hierarchy on, and its levels. */
static void fs_setup(struct infergate *skel, __u64 rate, __u64 burst, enum ig_action action,
		     __u32 flags, const struct ig_limits *lim)
{
	struct ig_policy pol = { .rate = rate, .burst = burst, .slot = SLOT, .unit = IG_UNIT_CONN,
				 .action = action, .flags = IG_POL_F_HIER | flags };
	__u32 idx = IG_PORT_INDEX(IG_PROTO_TCP, PORT), slot = SLOT;

	dp_limit(skel, IG_PROTO_TCP, PORT, rate, burst, IG_UNIT_CONN, action); /* reset on load */
	if (lim && lim->max_conns)
		pol.flags |= IG_POL_F_CONNS;
	if (lim && lim->tokens_per_min)
		pol.flags |= IG_POL_F_TOKENS;
	if (lim)
		ASSERT_OK(bpf_map__update_elem(skel->maps.port_limits, &slot, 4, lim, sizeof(*lim),
					       BPF_ANY), "levels");
	ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol), BPF_ANY),
		  "policy");
}

static struct ig_frame tcp_from(const char *src, __u16 sport, __u8 flags, __u32 seq)
{
	struct ig_frame_spec s;
	int v6 = strchr(src, ':') != NULL;

	ig_frame_defaults(&s, v6, IG_F_TCP);
	ig_frame_addrs(&s, src, v6 ? "fd00::2" : "198.18.0.2");
	s.sport = sport;
	s.tcp_flags = flags;
	s.seq = seq;
	if (flags & 0x10)
		s.ack = 1;
	return IG_FRAME(&s);
}

static struct ig_frame syn_from(const char *src, __u16 sport)
{
	return tcp_from(src, sport, 0x02, 1000 + sport);
}

/* A reply of the server to `client`:`cport`, `payload` bytes of body. A
 * SYN-ACK has ISN 0: tcp_from()'s ACKs (ack 1) acknowledge it. */
static struct ig_frame reply_to(const char *client, __u16 cport, __u8 flags, size_t payload)
{
	static __u8 body[1400];
	struct ig_frame_spec s;

	memset(body, 'x', sizeof(body));
	ig_frame_defaults(&s, 0, IG_F_TCP);
	ig_frame_addrs(&s, "198.18.0.2", client);
	s.sport = PORT;
	s.dport = cport;
	s.tcp_flags = flags;
	s.seq = flags & 0x02 ? 0 : 1;
	s.ack = 1;
	s.payload = body;
	s.payload_len = payload;
	return IG_FRAME(&s);
}

/* Admitted SYNs of `n` sent from src (each a new connection). */
static int admitted(struct infergate *skel, enum hook h, const char *src, int n)
{
	static __u16 sport = 20000;
	int ok = 0;

	for (int i = 0; i < n; i++) {
		struct ig_frame f = syn_from(src, sport++);

		ok += dp_run(skel, h, f.buf, f.len, NULL) == rc_pass[h];
	}
	return ok;
}

static __u64 level_count(struct infergate *skel, enum ig_level l)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ig_level_stats *st = calloc((size_t)ncpu, sizeof(*st));
	__u32 slot = SLOT;
	__u64 sum = 0;

	ASSERT_OK(bpf_map__lookup_elem(skel->maps.level_stats, &slot, 4, st,
				       sizeof(*st) * (size_t)ncpu, 0), "level counters");
	for (int c = 0; c < ncpu; c++)
		sum += st[c].refused[l];
	free(st);
	return sum;
}

static void tier_add(struct infergate *skel, const char *addr, int len, enum ig_tier_kind kind,
		     __u32 id)
{
	struct ig_lpm_key k = {};
	struct ig_tier t = { .kind = kind, .id = id };

	if (strchr(addr, ':')) {
		ASSERT_EQ(inet_pton(AF_INET6, addr, k.addr), 1, "IPv6 prefix");
		k.prefixlen = (__u32)len;
	} else {
		k.addr[10] = k.addr[11] = 0xff;
		ASSERT_EQ(inet_pton(AF_INET, addr, k.addr + 12), 1, "IPv4 prefix");
		k.prefixlen = 96 + (__u32)len;
	}
	ASSERT_OK(bpf_map__update_elem(skel->maps.tiers, &k, sizeof(k), &t, sizeof(t), BPF_ANY),
		  "tier prefix");
}

IG_TEST(fairshare_tiers_allow_deny_and_named_rates)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = {};
		struct ig_tier_key tk = { .tier = 3, .port = PORT, .proto = IG_PROTO_TCP };
		struct ig_rate premium = { .rate = 1, .burst = 10 };
		struct ig_frame f;

		fs_setup(skel, 1, 2, IG_ACTION_REJECT, 0, &lim);
		tier_add(skel, "198.18.9.0", 24, IG_TIER_DENY, 0);
		tier_add(skel, "198.18.9.7", 32, IG_TIER_ALLOW, 0); /* most specific wins */
		tier_add(skel, "198.18.5.0", 24, IG_TIER_LIMIT, 3);
		tier_add(skel, "fd00:66::", 48, IG_TIER_DENY, 0);
		ASSERT_OK(bpf_map__update_elem(skel->maps.tier_policy, &tk, sizeof(tk), &premium,
					       sizeof(premium), BPF_ANY), "premium rate");

		ASSERT_EQ(admitted(skel, h, "198.18.1.1", 5), 2, "an ordinary source: burst 2");
		ASSERT_EQ(admitted(skel, h, "198.18.5.1", 15), 10, "a premium source: burst 10");
		ASSERT_EQ(admitted(skel, h, "198.18.9.7", 20), 20, "an allowed source: unlimited");
		f = syn_from("198.18.9.8", 1);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h],
			  "denied: dropped, no RST even though the action is reject");
		f = syn_from("fd00:66::5", 1);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h], "IPv6 deny");
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_PASS_ALLOW), 20, "counted as allowed");
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_DROP_DENY), 2, "counted as denied");
		ASSERT_EQ(level_count(skel, IG_L_DENY), 2, "deny level");
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_REJECT), 3 + 5, "the rest got RSTs");
		ASSERT_EQ(level_count(skel, IG_L_SOURCE), 8, "refused by their own buckets");
	}
}

IG_TEST(fairshare_prefix_level_shares_and_is_not_charged_by_refusals_below)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = { .prefix_rate = 1, .prefix_burst = 4 };

		fs_setup(skel, 1, 2, IG_ACTION_DROP, 0, &lim);
		/* a source refused by its own bucket spends nothing of its /24 */
		ASSERT_EQ(admitted(skel, h, "198.18.1.1", 10), 2, "source .1: its burst");
		ASSERT_EQ(admitted(skel, h, "198.18.1.2", 10), 2, "source .2: the /24's last two");
		ASSERT_EQ(admitted(skel, h, "198.18.1.3", 10), 0, "the /24 is spent");
		ASSERT_EQ(level_count(skel, IG_L_PREFIX), 10, "refused at the prefix level");
		ASSERT_EQ(admitted(skel, h, "198.18.2.1", 10), 2, "another /24 is not affected");
		/* the prefix refusal refunded source .3: after one second the /24
		 * has one token, and .3 still has its full burst */
		skel->bss->ig_test_now_ns += SEC_NS;
		ASSERT_EQ(admitted(skel, h, "198.18.1.3", 10), 1, "one token of the /24 refilled");

		/* IPv6: a /64, so two addresses in one /64 share */
		ASSERT_EQ(admitted(skel, h, "fd00:1:2:3::1", 3), 2, "v6 source");
		ASSERT_EQ(admitted(skel, h, "fd00:1:2:3::2", 3), 2, "same /64");
		ASSERT_EQ(admitted(skel, h, "fd00:1:2:3::3", 3), 0, "the /64 is spent");
		ASSERT_EQ(admitted(skel, h, "fd00:1:2:4::1", 3), 2, "next /64");
	}
}

IG_TEST(fairshare_port_level_caps_everyone_together)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = { .port_rate = 2, .port_burst = 5,
					 .prefix_rate = 100, .prefix_burst = 2 };
		char src[32];
		int ok = 0;

		fs_setup(skel, 10, 10, IG_ACTION_DROP, 0, &lim);
		/* the prefix level refuses .x.2's third: it must not spend the port */
		ASSERT_EQ(admitted(skel, h, "198.18.7.1", 6), 2, "prefix caps one /24 at 2");
		for (int i = 0; i < 10; i++) {
			snprintf(src, sizeof(src), "198.18.%d.1", 20 + i);
			ok += admitted(skel, h, src, 1);
		}
		ASSERT_EQ(ok, 3, "the port's burst of 5, minus the 2 above");
		ASSERT_EQ(level_count(skel, IG_L_PORT), 7, "refused at the port level");
		ASSERT_EQ(level_count(skel, IG_L_PREFIX), 4, "refused at the prefix level");
		/* refunded: the seven refused sources were not charged, so each
		 * still has its whole burst once the port refills */
		skel->bss->ig_test_now_ns += 5 * SEC_NS / 2; /* port: 5 tokens */
		ASSERT_EQ(admitted(skel, h, "198.18.29.1", 10), 2, "prefix burst of a refused source");
	}
}

IG_TEST(fairshare_newcomers_draw_from_a_shared_budget_and_claim_nothing_when_refused)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = { .newcomer_rate = 1, .newcomer_burst = 3 };
		struct ig_source_set *sets;
		__u32 n = bpf_map__max_entries(skel->maps.sources), used = 0;
		char src[32];
		int ok = 0;

		fs_setup(skel, 1, 5, IG_ACTION_DROP, 0, &lim);
		for (int i = 0; i < 20; i++) {
			snprintf(src, sizeof(src), "198.18.%d.%d", 100 + i / 200, 1 + i % 200);
			ok += admitted(skel, h, src, 1);
		}
		ASSERT_EQ(ok, 3, "three newcomers in the budget's burst");
		ASSERT_EQ(level_count(skel, IG_L_NEWCOMER), 17, "the rest refused as newcomers");
		ASSERT_EQ(admitted(skel, h, "198.18.100.1", 10), 4,
			  "a known source is not a newcomer: the rest of its own burst");
		sets = calloc(n, sizeof(*sets));
		ASSERT_TRUE(sets != NULL, "memory");
		for (__u32 i = 0; i < n; i++) {
			ASSERT_OK(bpf_map__lookup_elem(skel->maps.sources, &i, 4, &sets[i],
						       sizeof(sets[i]), 0), "read a set");
			for (int w = 0; w < IG_WAYS; w++)
				used += sets[i].way[w].used;
		}
		free(sets);
		ASSERT_EQ(used, 3, "state only for the admitted sources");
	}
}

/* Five IPv4 sources that hash to one set of `sources` (as dp loads it). */
static void same_set(char out[IG_WAYS + 1][32], __u32 sets)
{
	__u32 want = 0, found = 0;

	for (__u32 i = 1; found <= IG_WAYS && i < (1U << 22); i++) {
		__u8 a[16] = { [10] = 0xff, [11] = 0xff, 198, 19, (__u8)(i >> 8), (__u8)i };
		__u32 set;

		a[13] = (__u8)(19 + (i >> 16));
		set = (__u32)ig_source_hash(a, PORT, IG_PROTO_TCP, 0x5eed) & (sets - 1);
		if (!found)
			want = set;
		if (set == want)
			snprintf(out[found++], 32, "198.%u.%u.%u", 19 + (i >> 16), (i >> 8) & 0xff,
				 i & 0xff);
	}
	ASSERT_EQ(found, IG_WAYS + 1, "colliding sources found");
}

IG_TEST(fairshare_talking_sources_keep_their_state_against_new_ones)
{
	char src[IG_WAYS + 1][32];

	same_set(src, bpf_map__max_entries(dp_load()->maps.sources));
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = {};

		fs_setup(skel, 1, 3, IG_ACTION_DROP, 0, &lim);
		for (int i = 0; i < IG_WAYS; i++)
			ASSERT_EQ(admitted(skel, h, src[i], 5), 3, "four talking sources, spent");
		ASSERT_EQ(admitted(skel, h, src[IG_WAYS], 1), 0, "a fifth: no way it may take");
		ASSERT_EQ(level_count(skel, IG_L_TABLE), 1, "refused for want of room");
		skel->bss->ig_test_now_ns += 2 * SEC_NS;
		ASSERT_EQ(admitted(skel, h, src[0], 5), 2, "the first kept its debt (2 s refill)");
		skel->bss->ig_test_now_ns += IG_HOLD_NS + 10 * SEC_NS;
		ASSERT_EQ(admitted(skel, h, src[IG_WAYS], 1), 1, "idle past the hold: room again");
	}
}

IG_TEST(fairshare_token_debt_refuses_new_connections_until_repaid)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		/* 600 tokens a minute, 4 bytes a token: 2400 bytes buy a minute */
		struct ig_limits lim = { .tokens_per_min = 600 };
		struct ig_client_key ck = { .port = PORT, .proto = IG_PROTO_TCP };
		struct ig_token_state ts;
		struct ig_frame r;

		fs_setup(skel, 100, 100, IG_ACTION_REJECT, 0, &lim);
		ASSERT_EQ(admitted(skel, h, "198.18.3.3", 1), 1, "a first connection");
		r = reply_to("198.18.3.3", 5555, 0x18, 1200);
		ASSERT_EQ(dp_run_egress(skel, r.buf, r.len, NULL), TC_UNSPEC_RC, "replies pass");
		ck.addr[10] = ck.addr[11] = 0xff;
		inet_pton(AF_INET, "198.18.3.3", ck.addr + 12);
		ASSERT_OK(bpf_map__lookup_elem(skel->maps.tokens, &ck, sizeof(ck), &ts, sizeof(ts), 0),
			  "the client's token state");
		ASSERT_EQ(ts.spent, 300, "1200 bytes / 4");
		ASSERT_EQ(admitted(skel, h, "198.18.3.3", 1), 1, "half the budget left: admitted");
		dp_run_egress(skel, r.buf, r.len, NULL);
		dp_run_egress(skel, r.buf, r.len, NULL); /* 900 tokens: in debt */
		ASSERT_EQ(admitted(skel, h, "198.18.3.3", 2), 0, "in debt: refused");
		ASSERT_EQ(level_count(skel, IG_L_TOKENS), 2, "at the token level");
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_REJECT), 2, "with the port's action (RST)");
		ASSERT_EQ(admitted(skel, h, "198.18.3.4", 1), 1, "another client is not affected");
		/* 300 tokens of debt past zero at 10/s: 30 s to repay */
		skel->bss->ig_test_now_ns += 29 * SEC_NS;
		ASSERT_EQ(admitted(skel, h, "198.18.3.3", 1), 0, "not yet repaid");
		skel->bss->ig_test_now_ns += 2 * SEC_NS;
		ASSERT_EQ(admitted(skel, h, "198.18.3.3", 1), 1, "refilled past zero");
	}
}

/* The same budget written per day: 600 tokens a day, so a day's worth of
 * debt refuses and 300 tokens past it take 12 hours to repay. */
IG_TEST(fairshare_token_budget_per_day)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = { .tokens_per_min = ig_rate_make(600, 86400,
									 IG_TOKEN_PERIOD_S) };
		struct ig_frame r = reply_to("198.18.3.3", 5555, 0x18, 1200);

		fs_setup(skel, 100, 100, IG_ACTION_REJECT, 0, &lim);
		ASSERT_EQ(admitted(skel, h, "198.18.3.3", 1), 1, "a first connection");
		for (int i = 0; i < 3; i++) /* 900 tokens */
			ASSERT_EQ(dp_run_egress(skel, r.buf, r.len, NULL), TC_UNSPEC_RC, "replies pass");
		ASSERT_EQ(admitted(skel, h, "198.18.3.3", 2), 0, "900 of 600/d: refused");
		skel->bss->ig_test_now_ns += 12 * 3600 * SEC_NS - SEC_NS;
		ASSERT_EQ(admitted(skel, h, "198.18.3.3", 1), 0, "a second short of 12 h");
		skel->bss->ig_test_now_ns += 2 * SEC_NS;
		ASSERT_EQ(admitted(skel, h, "198.18.3.3", 1), 1, "repaid after 12 h");
	}
}

/* A connection from src:sport: its SYN, the server's SYN-ACK, the client's
 * ACK. Returns what became of the ACK (the SYN's verdict when it was refused). */
static __u32 open_conn(struct infergate *skel, enum hook h, const char *src, __u16 sport)
{
	struct ig_frame syn = syn_from(src, sport), sa = reply_to(src, sport, 0x12, 0), ack;
	__u32 rc = dp_run(skel, h, syn.buf, syn.len, NULL);

	if (rc != rc_pass[h])
		return rc;
	ack = tcp_from(src, sport, 0x10, 1001 + sport);
	dp_run_egress(skel, sa.buf, sa.len, NULL);
	return dp_run(skel, h, ack.buf, ack.len, NULL);
}

IG_TEST(fairshare_max_conns_counts_open_connections)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = { .max_conns = 2 };
		struct ig_frame fin, rst;

		fs_setup(skel, 100, 100, IG_ACTION_DROP, 0, &lim);
		ASSERT_EQ(open_conn(skel, h, "198.18.4.4", 30001), rc_pass[h], "first connection");
		ASSERT_EQ(open_conn(skel, h, "198.18.4.4", 30002), rc_pass[h], "second");
		ASSERT_EQ(open_conn(skel, h, "198.18.4.4", 30002), rc_drop[h],
			  "its SYN again: the client holds two");
		ASSERT_EQ(open_conn(skel, h, "198.18.4.4", 30003), rc_drop[h], "a third is refused");
		ASSERT_EQ(level_count(skel, IG_L_CONNS), 2, "at the conns level");
		ASSERT_EQ(open_conn(skel, h, "198.18.4.5", 30001), rc_pass[h], "other clients");
		ASSERT_EQ(open_conn(skel, h, "198.18.4.5", 30002), rc_pass[h], "have their own two");

		fin = tcp_from("198.18.4.4", 30001, 0x11, 2000); /* the client's FIN */
		ASSERT_EQ(dp_run(skel, h, fin.buf, fin.len, NULL), rc_pass[h], "FIN passes");
		ASSERT_EQ(open_conn(skel, h, "198.18.4.4", 30003), rc_drop[h],
			  "the client's FIN frees nothing: the server may go on");
		fin = reply_to("198.18.4.4", 30001, 0x11, 0); /* the server's FIN */
		dp_run_egress(skel, fin.buf, fin.len, NULL);
		dp_run_egress(skel, fin.buf, fin.len, NULL); /* retransmitted: freed once only */
		ASSERT_EQ(open_conn(skel, h, "198.18.4.4", 30003), rc_pass[h], "a slot was freed");
		ASSERT_EQ(open_conn(skel, h, "198.18.4.4", 30004), rc_drop[h], "and only one");
		rst = reply_to("198.18.4.4", 30002, 0x14, 0); /* the server resets one */
		dp_run_egress(skel, rst.buf, rst.len, NULL);
		ASSERT_EQ(open_conn(skel, h, "198.18.4.4", 30004), rc_pass[h],
			  "the server's RST freed one");
	}
}

IG_TEST(fairshare_max_conns_resets_a_burst_past_the_limit_at_its_ack)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = { .max_conns = 2 };
		struct ig_frame out;

		fs_setup(skel, 100, 100, IG_ACTION_DROP, 0, &lim);
		/* three SYNs before any handshake completed: all admitted */
		for (__u16 p = 31001; p <= 31003; p++) {
			struct ig_frame syn = syn_from("198.18.4.6", p), sa = reply_to("198.18.4.6", p, 0x12, 0);

			ASSERT_EQ(dp_run(skel, h, syn.buf, syn.len, NULL), rc_pass[h], "SYN admitted");
			dp_run_egress(skel, sa.buf, sa.len, NULL);
		}
		for (__u16 p = 31001; p <= 31003; p++) {
			struct ig_frame ack = tcp_from("198.18.4.6", p, 0x10, 1001 + p);

			ASSERT_EQ(dp_run(skel, h, ack.buf, ack.len, &out), p < 31003 ? rc_pass[h] : rc_tx[h],
				  p < 31003 ? "counted" : "the third is reset");
		}
		ASSERT_EQ(out.buf[out.l4_off + 13], 0x04, "a RST");
		ASSERT_EQ(ig_get32(out.buf + out.l4_off + 4), 1, "seq = its ack, what the client expects");
		ASSERT_EQ(level_count(skel, IG_L_CONNS), 1, "at the conns level");
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_REJECT), 1, "counted as a reply");
	}
}

IG_TEST(fairshare_dry_run_counts_each_level_and_refuses_nothing)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = { .prefix_rate = 1, .prefix_burst = 1, .newcomer_rate = 1,
					 .newcomer_burst = 2 };
		struct ig_event ev[4];

		fs_setup(skel, 1, 1, IG_ACTION_REJECT, IG_POL_F_DRY_RUN, &lim);
		tier_add(skel, "198.18.8.0", 24, IG_TIER_DENY, 0);
		ASSERT_EQ(admitted(skel, h, "198.18.6.1", 2), 2, "own bucket: would refuse one");
		ASSERT_EQ(admitted(skel, h, "198.18.6.2", 1), 1, "prefix: would refuse");
		ASSERT_EQ(admitted(skel, h, "198.18.7.3", 1), 1, "the newcomer budget's second");
		ASSERT_EQ(admitted(skel, h, "198.18.7.4", 1), 1, "newcomer budget: would refuse");
		ASSERT_EQ(admitted(skel, h, "198.18.8.1", 1), 1, "deny: would drop");
		ASSERT_EQ(level_count(skel, IG_L_SOURCE), 1, "source level");
		ASSERT_EQ(level_count(skel, IG_L_PREFIX), 1, "prefix level");
		ASSERT_EQ(level_count(skel, IG_L_NEWCOMER), 1, "newcomer level");
		ASSERT_EQ(level_count(skel, IG_L_DENY), 1, "deny level");
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_DRY_REJECT), 3, "would reject");
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_DRY_DROP), 1, "would drop (deny)");
		ASSERT_TRUE(dp_events(skel, ev, 4) >= 1, "sampled");
		ASSERT_EQ(ev[0].level, IG_L_SOURCE, "the event names the level");
	}
}

IG_TEST(fairshare_fleet_counts_admissions_and_obeys_blocks)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = {};
		struct ig_client_key ck = { .port = PORT, .proto = IG_PROTO_TCP };
		__u64 n = 0, until;

		fs_setup(skel, 1, 3, IG_ACTION_DROP, IG_POL_F_FLEET, &lim);
		ASSERT_EQ(admitted(skel, h, "198.18.2.2", 5), 3, "the local limit");
		ck.addr[10] = ck.addr[11] = 0xff;
		inet_pton(AF_INET, "198.18.2.2", ck.addr + 12);
		ASSERT_OK(bpf_map__lookup_elem(skel->maps.fleet_counts, &ck, sizeof(ck), &n, sizeof(n),
					       0), "the source's fleet count");
		ASSERT_EQ(n, 3, "admitted units only");
		/* the agent blocks it for 2 s (the fleet is spent) */
		until = skel->bss->ig_test_now_ns + 2 * SEC_NS;
		ASSERT_OK(bpf_map__update_elem(skel->maps.fleet_block, &ck, sizeof(ck), &until,
					       sizeof(until), BPF_ANY), "block");
		skel->bss->ig_test_now_ns += SEC_NS;
		ASSERT_EQ(admitted(skel, h, "198.18.2.2", 2), 0, "blocked though a token refilled");
		ASSERT_EQ(level_count(skel, IG_L_FLEET), 2, "at the fleet level");
		ASSERT_EQ(admitted(skel, h, "198.18.2.3", 1), 1, "others are not blocked");
		skel->bss->ig_test_now_ns += SEC_NS;
		ASSERT_EQ(admitted(skel, h, "198.18.2.2", 5), 2,
			  "block over: two seconds of refill, none of it spent while blocked");
	}
}
