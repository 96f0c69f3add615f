// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The set-associative source table (bpf/pure/sources.h), natively. */
#include <pthread.h>
#include <stdlib.h>
#include "harness.h"
#include "pure/sources.h"

#define SEC_NS 1000000000ULL
#define T0 (1000 * SEC_NS)

static __u64 ident_of(__u32 v4, __u16 port, __u8 proto, __u64 seed)
{
	__u8 addr[16] = { [10] = 0xff, [11] = 0xff };

	__builtin_memcpy(addr + 12, &v4, 4);
	return ig_source_ident(ig_source_hash(addr, port, proto, seed), port, proto);
}

static int admitted(struct ig_source_set *set, __u64 ident, __u64 now, int n, __u64 rate,
		    __u64 burst)
{
	int ok = 0;

	for (int i = 0; i < n; i++)
		ok += ig_source_charge(set, ident, now, 1, rate, burst, 0) == IG_CHARGE_OK;
	return ok;
}

IG_TEST(sources_new_source_gets_exactly_its_burst)
{
	struct ig_source_set set = {};
	__u64 id = ident_of(0x01020304, 8000, IG_PROTO_TCP, 42);

	ASSERT_EQ(admitted(&set, id, T0, 25, 5, 10), 10, "burst of a new source");
	ASSERT_EQ(admitted(&set, id, T0 + SEC_NS, 25, 5, 10), 5, "one second of refill at 5/s");
}

IG_TEST(sources_sources_in_one_set_are_independent)
{
	struct ig_source_set set = {};
	__u64 a = ident_of(0x0a000001, 8000, IG_PROTO_TCP, 1);
	__u64 b = ident_of(0x0a000002, 8000, IG_PROTO_TCP, 1);
	__u64 c = ident_of(0x0a000001, 8001, IG_PROTO_TCP, 1);

	ASSERT_NEQ(a, b, "two addresses, two identities");
	ASSERT_NEQ(a, c, "two ports, two identities");
	ASSERT_EQ(admitted(&set, a, T0, 5, 1, 3), 3, "source a");
	ASSERT_EQ(admitted(&set, b, T0, 5, 1, 3), 3, "source b is not charged for a");
	ASSERT_EQ(admitted(&set, c, T0, 5, 1, 3), 3, "a on another port");
	ASSERT_EQ(admitted(&set, a, T0, 5, 1, 3), 0, "a stays refused");
}

IG_TEST(sources_refusal_writes_nothing)
{
	struct ig_source_set set = {}, before;
	__u64 a = ident_of(0x0a000001, 8000, IG_PROTO_TCP, 1);

	ASSERT_EQ(admitted(&set, a, T0, 2, 1, 2), 2, "burst");
	before = set;
	ASSERT_EQ(ig_source_charge(&set, a, T0, 1, 1, 2, 0), IG_CHARGE_REFUSED, "over the limit");
	ASSERT_MEMEQ(&set, &before, sizeof(set), "a refused charge leaves the set untouched");
	ASSERT_EQ(ig_source_charge(&set, a, T0, 5, 1, 2, 0), IG_CHARGE_REFUSED,
		  "a charge above the burst, from a bucket not full");
	ASSERT_MEMEQ(&set, &before, sizeof(set), "... leaves the set untouched");
}

IG_TEST(sources_full_set_of_talking_sources_refuses_a_newcomer)
{
	struct ig_source_set set = {}, before;
	__u64 id[IG_WAYS + 1];
	int i;

	for (i = 0; i <= IG_WAYS; i++)
		id[i] = ident_of(0x0a000000 + (__u32)i, 8000, IG_PROTO_TCP, 7);
	for (i = 0; i < IG_WAYS; i++)
		ASSERT_EQ(admitted(&set, id[i], T0, 1, 1, 4), 1, "fill");
	before = set;
	ASSERT_EQ(ig_source_charge(&set, id[IG_WAYS], T0 + IG_HOLD_NS - SEC_NS, 1, 1, 4, 0),
		  IG_CHARGE_FULL, "every way holds a source that talked within the hold time");
	ASSERT_MEMEQ(&set, &before, sizeof(set), "the refused newcomer took nothing");
}

IG_TEST(sources_full_set_forgets_the_least_indebted_once_idle)
{
	struct ig_source_set set = {};
	__u64 id[IG_WAYS + 1];
	int i;

	for (i = 0; i <= IG_WAYS; i++)
		id[i] = ident_of(0x0a000000 + (__u32)i, 8000, IG_PROTO_TCP, 7);
	/* Four sources in debt, source 2 the least; all idle past the hold
	 * time by T1, and their buckets full again. */
	for (i = 0; i < IG_WAYS; i++)
		ASSERT_EQ(admitted(&set, id[i], T0, i == 2 ? 2 : 4, 1, 4), i == 2 ? 2 : 4, "fill");
	__u64 t1 = T0 + 4 * SEC_NS + IG_HOLD_NS;

	ASSERT_EQ(admitted(&set, id[IG_WAYS], t1, 1, 1, 4), 1, "a fifth source is admitted");
	for (i = 0; i < IG_WAYS; i++) {
		int kept = 0;

		for (int w = 0; w < IG_WAYS; w++)
			kept += *ig_way_ident(&set.way[w]) == id[i];
		ASSERT_EQ(kept, i == 2 ? 0 : 1, "only the least indebted source was replaced");
	}
}

/* A newcomer that paid the newcomer budget (IG_CLAIM_PAID) may take the way of
 * the held source charged longest ago, once its bucket has been full for
 * IG_TAKE_NS; sources charged more recently keep their ways. */
IG_TEST(sources_paid_newcomer_takes_the_stalest_held_way)
{
	struct ig_source_set set = {}, before;
	__u64 id[IG_WAYS + 1], now = T0 + IG_HOLD_NS;
	int i;

	for (i = 0; i <= IG_WAYS; i++)
		id[i] = ident_of(0x0a000000 + (__u32)i, 8000, IG_PROTO_TCP, 7);
	/* charged 4.5, 3.5, 2.5 and 0.5 s ago at 1/s: all held */
	for (i = 0; i < IG_WAYS; i++)
		ASSERT_EQ(admitted(&set, id[i], now - SEC_NS / 2 - (__u64)(IG_WAYS - 1 - i) * SEC_NS -
					   (i == IG_WAYS - 1 ? 0 : SEC_NS), 1, 1, 4), 1, "fill");
	before = set;
	ASSERT_EQ(ig_source_charge_rf(&set, id[IG_WAYS], now, 1, 1, 4, 0, IG_CLAIM, NULL),
		  IG_CHARGE_FULL, "unpaid: every way is held");
	ASSERT_EQ(ig_source_charge_rf(&set, id[IG_WAYS], now, 1, 1, 4, 0, IG_CLAIM_PAID, NULL),
		  IG_CHARGE_NEW, "paid: there is a way to take");
	ASSERT_MEMEQ(&set, &before, sizeof(set), "asking writes nothing");
	ASSERT_EQ(ig_source_charge_rf(&set, id[IG_WAYS], now, 1, 1, 4, 0, IG_CLAIM | IG_CLAIM_PAID,
				      NULL), IG_CHARGE_OK, "claimed");
	ASSERT_EQ(*ig_way_ident(&set.way[0]), id[IG_WAYS], "the way charged longest ago");
	for (i = 1; i < IG_WAYS; i++)
		ASSERT_EQ(*ig_way_ident(&set.way[i]), id[i], "the others keep theirs");

	/* four sources charged within the last second: nothing to take */
	for (i = 0; i < IG_WAYS; i++)
		ASSERT_EQ(admitted(&set, *ig_way_ident(&set.way[i]), now + 3 * SEC_NS, 1, 1, 4), 1,
			  "all talking");
	ASSERT_EQ(ig_source_charge_rf(&set, id[0], now + 3 * SEC_NS + SEC_NS / 2, 1, 1, 4, 0,
				      IG_CLAIM | IG_CLAIM_PAID, NULL), IG_CHARGE_FULL,
		  "sources charged within IG_TAKE_NS keep their ways");
}

IG_TEST(sources_claim_can_wait_for_the_caller)
{
	struct ig_source_set set = {}, before;
	__u64 a = ident_of(0x0a000001, 8000, IG_PROTO_TCP, 1);
	struct ig_refund rf = {};

	before = set;
	ASSERT_EQ(ig_source_charge_rf(&set, a, T0, 1, 1, 4, 0, 0, &rf), IG_CHARGE_NEW,
		  "a new source without leave to claim");
	ASSERT_MEMEQ(&set, &before, sizeof(set), "... writes nothing");
	ASSERT_EQ(ig_source_charge_rf(&set, a, T0, 1, 1, 4, 0, 1, &rf), IG_CHARGE_OK, "claimed");
	ASSERT_TRUE(rf.owner == a, "the refund knows the way was claimed");
	ig_refund(&rf);
	ASSERT_MEMEQ(&set.way[0], &before.way[0], 8, "a refund gives the way back empty");
	ASSERT_EQ(admitted(&set, a, T0, 5, 1, 4), 4, "and the source starts full");
}

IG_TEST(sources_refund_restores_the_debt_exactly)
{
	struct ig_source_set set = {};
	__u64 a = ident_of(0x0a000001, 8000, IG_PROTO_TCP, 1);
	struct ig_refund rf = {};
	__u64 tat = 0;

	ASSERT_EQ(admitted(&set, a, T0, 2, 3, 10), 2, "two spent");
	for (int w = 0; w < IG_WAYS; w++)
		if (*ig_way_ident(&set.way[w]) == a)
			tat = set.way[w].tat;
	ASSERT_EQ(ig_source_charge_rf(&set, a, T0, 3, 3, 10, 0, 1, &rf), IG_CHARGE_OK, "three more");
	ig_refund(&rf);
	ASSERT_TRUE(rf.owner == 0, "a known source's way is not given back");
	for (int w = 0; w < IG_WAYS; w++)
		if (*ig_way_ident(&set.way[w]) == a)
			ASSERT_EQ(set.way[w].tat, tat, "tat back where it was");
	ASSERT_EQ(admitted(&set, a, T0, 20, 3, 10), 8, "eight left of ten");
}

IG_TEST(sources_prefix_of_masks_v4_and_v6)
{
	__u8 v4[16] = { [10] = 0xff, [11] = 0xff, 198, 18, 7, 200 }, out[16];
	__u8 want4[16] = { [10] = 0xff, [11] = 0xff, 198, 18, 7, 0 };
	__u8 v6[16] = { 0xfd, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
	__u8 want64[16] = { 0xfd, 0, 1, 2, 3, 4, 5, 6 };
	__u8 want20[16] = { 0xfd, 0, 0 };

	ig_prefix_of(v4, 96 + 24, out);
	ASSERT_MEMEQ(out, want4, 16, "IPv4 /24");
	ig_prefix_of(v6, 64, out);
	ASSERT_MEMEQ(out, want64, 16, "IPv6 /64");
	ig_prefix_of(v6, 20, out);
	ASSERT_MEMEQ(out, want20, 16, "IPv6 /20 (a partial byte)");
	ig_prefix_of(v6, 128, out);
	ASSERT_MEMEQ(out, v6, 16, "a /128 is the address");
}

IG_TEST(sources_idle_source_holds_no_state)
{
	struct ig_source_set set = {};
	__u64 a = ident_of(1, 80, IG_PROTO_TCP, 3), n = ident_of(2, 80, IG_PROTO_TCP, 3);

	for (int i = 0; i < IG_WAYS; i++)
		admitted(&set, ident_of(100 + (__u32)i, 80, IG_PROTO_TCP, 3), T0, 4, 1, 4);
	/* 10 s later every bucket is full again: the way a newcomer takes loses
	 * nothing, and the source it displaced starts full when it returns. */
	ASSERT_EQ(admitted(&set, n, T0 + 10 * SEC_NS, 4, 1, 4), 4, "newcomer");
	ASSERT_EQ(admitted(&set, a, T0 + 10 * SEC_NS, 4, 1, 4), 4, "returning idle source");
}

IG_TEST(sources_hash_depends_on_seed_port_and_protocol)
{
	__u8 addr[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

	ASSERT_NEQ(ig_source_hash(addr, 80, 0, 1), ig_source_hash(addr, 80, 0, 2), "seed");
	ASSERT_NEQ(ig_source_hash(addr, 80, 0, 1), ig_source_hash(addr, 81, 0, 1), "port");
	ASSERT_NEQ(ig_source_hash(addr, 80, 0, 1), ig_source_hash(addr, 80, 1, 1), "protocol");
	addr[15] = 2;
	ASSERT_NEQ(ig_source_hash(addr, 80, 0, 1),
		   ig_source_hash((__u8[16]){ 0xfd, [15] = 1 }, 80, 0, 1), "address");
}

IG_TEST(sources_spread_evenly_over_sets)
{
	enum { SETS = 1024, N = SETS * IG_WAYS };
	unsigned short *load = calloc(SETS, sizeof(*load));
	int max = 0;

	for (__u32 i = 0; i < N; i++) {
		__u8 addr[16] = { [10] = 0xff, [11] = 0xff, 198, 18, (__u8)(i >> 8), (__u8)i };
		__u32 s = (__u32)ig_source_hash(addr, 8000, 0, 0x1234) & (SETS - 1);

		if (++load[s] > max)
			max = load[s];
	}
	free(load);
	/* Balls in bins: mean 4, a maximum near 12 for 1024 bins; far above
	 * that means consecutive addresses cluster. */
	ASSERT_LE(max, 16, "fullest set for consecutive addresses");
}

struct race {
	struct ig_source_set *set;
	__u64 ident;
	pthread_barrier_t *go;
	int ok;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->go);
	for (int i = 0; i < 400; i++)
		r->ok += ig_source_charge(r->set, r->ident, T0, 1, 1, 200, 0) == IG_CHARGE_OK;
	return NULL;
}

IG_TEST(sources_two_threads_on_a_new_source_admit_exactly_burst)
{
	/* Many short rounds: the race worth catching is in a source's first
	 * charge, when both CPUs may try to claim a way for it at once. */
	for (int round = 0; round < 3000; round++) {
		struct ig_source_set set = {};
		pthread_barrier_t go;
		struct race r[2];
		pthread_t t[2];
		int ways = 0;

		pthread_barrier_init(&go, NULL, 2);
		for (int i = 0; i < 2; i++) {
			r[i] = (struct race){ &set, ident_of(0xc6120001, 8000, 0, 9), &go, 0 };
			pthread_create(&t[i], NULL, race_thread, &r[i]);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		ASSERT_EQ(r[0].ok + r[1].ok, 200, "admitted with no lost and no extra updates");
		for (int w = 0; w < IG_WAYS; w++)
			ways += set.way[w].used;
		ASSERT_EQ(ways, 1, "one way for the one source");
	}
}
