// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Requests in flight (bpf/pure/inflight.h): records taken all or none, given
 * back by connection, expired by time, a client's share and the fair share
 * of a contended port, and what an attacker gets by holding records.
 */
#include <string.h>
#include "pure/inflight.h"
#include "harness.h"

#define SEED 0x5eedULL
#define T0 (1000ULL * 1000000000ULL) /* a data-path time, ns */

static struct ig_inflight tbl;

static __u64 owner_of(__u32 client, __u16 cport)
{
	__u8 a[16] __attribute__((aligned(4))) = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 0 };

	a[15] = (__u8)client;
	a[14] = (__u8)(client >> 8);
	return ig_inflight_owner(ig_inflight_flow_hash(a, cport, 8000, SEED),
				 ig_inflight_client_hash(a, SEED));
}

static int take(__u64 owner, __u32 n, __u32 max, __u64 now, __u32 per_client, int fair)
{
	struct ig_inflight_scan sc = { .owner = owner, .now = ig_inflight_stamp(now),
				       .ticks = ig_inflight_ticks(300), .max = (__u16)max,
				       .want = (__u16)n, .per_client = (__u16)per_client };

	sc.fair = fair && ig_inflight_contended(tbl.refused, owner, sc.now);
	return ig_inflight_take(&tbl, &sc);
}

static __u32 give(__u64 owner, __u32 n, __u32 max)
{
	struct ig_inflight_scan sc = { .owner = owner, .max = (__u16)max, .want = (__u16)n };

	ig_inflight_give(&tbl, &sc);
	return sc.done;
}

/* A give as the data path's egress and close make it: the connection's
 * half only, in the owner's form. */
static __u32 give_flow(__u32 client, __u16 cport, __u32 n, __u32 max)
{
	__u8 a[16] __attribute__((aligned(4))) = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 0 };

	a[15] = (__u8)client;
	a[14] = (__u8)(client >> 8);
	return give(ig_inflight_owner(ig_inflight_flow_hash(a, cport, 8000, SEED), 0), n, max);
}

static __u32 live(__u64 now)
{
	return ig_inflight_count(&tbl, IG_INFLIGHT_MAX, ig_inflight_stamp(now), ig_inflight_ticks(300));
}

IG_TEST(inflight_takes_up_to_the_cap_and_gives_back_by_connection)
{
	__u64 a = owner_of(1, 40000), b = owner_of(2, 40001);

	memset(&tbl, 0, sizeof(tbl));
	ASSERT_EQ(take(a, 1, 4, T0, 0, 0), 0, "first");
	ASSERT_EQ(take(a, 2, 4, T0, 0, 0), 0, "two more, pipelined");
	ASSERT_EQ(take(b, 2, 4, T0, 0, 0), 1, "two would pass the cap: none taken");
	ASSERT_EQ(live(T0), 3, "the refused take left nothing");
	ASSERT_EQ(take(b, 1, 4, T0, 0, 0), 0, "the last one");
	ASSERT_EQ(take(b, 1, 4, T0, 0, 0), 1, "full");
	ASSERT_EQ(give(a, 1, 4), 1, "a's response ended");
	ASSERT_EQ(live(T0), 3, "one back");
	ASSERT_EQ(give(b, 5, 4), 1, "b's connection holds one only");
	ASSERT_EQ(give(a, IG_INFLIGHT_MAX, 4), 2, "a's connection closed: its two");
	ASSERT_EQ(live(T0), 0, "all back");
	ASSERT_EQ(give(a, 1, 4), 0, "nothing more to give back: nobody else's record goes");
}

IG_TEST(inflight_records_not_given_back_expire)
{
	__u64 a = owner_of(1, 40000), b = owner_of(2, 40001);
	__u64 later = T0 + 301ULL * 1000000000ULL;

	memset(&tbl, 0, sizeof(tbl));
	/* a silent client holds all four: the port is full for the timeout,
	 * then its records are anyone's again without any sweep */
	ASSERT_EQ(take(a, 4, 4, T0, 0, 0), 0, "a takes all");
	ASSERT_EQ(take(b, 1, 4, T0 + 299ULL * 1000000000ULL, 0, 0), 1, "full until the timeout");
	ASSERT_EQ(take(b, 1, 4, later, 0, 0), 0, "expired: taken over");
	ASSERT_EQ(live(later), 1, "the others count no longer");
	/* a late end of a's (or its close) must not give b's record back */
	ASSERT_EQ(give(a, IG_INFLIGHT_MAX, 4), 3, "a's expired ones only");
	ASSERT_EQ(live(later), 1, "b's stays");
}

IG_TEST(inflight_a_client_share_holds)
{
	__u64 a1 = owner_of(1, 40000), a2 = owner_of(1, 40002), b = owner_of(2, 40001);

	memset(&tbl, 0, sizeof(tbl));
	ASSERT_EQ(take(a1, 1, 4, T0, 2, 0), 0, "a, first connection");
	ASSERT_EQ(take(a2, 1, 4, T0, 2, 0), 0, "a, second connection");
	ASSERT_EQ(take(a2, 1, 4, T0, 2, 0), 1, "a holds its 2 over two connections");
	ASSERT_EQ(take(b, 2, 4, T0, 2, 0), 0, "b gets its 2");
	ASSERT_EQ(live(T0), 4, "what was refused left nothing");
}

IG_TEST(inflight_fair_share_only_while_contended)
{
	__u64 a[4], b = owner_of(2, 41000);

	memset(&tbl, 0, sizeof(tbl));
	for (int i = 0; i < 4; i++)
		a[i] = owner_of(1, (__u16)(40000 + i));
	/* alone, a may hold all: no record idles while someone wants it */
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(take(a[i], 1, 4, T0, 0, 1), 0, "a alone");
	ASSERT_EQ(take(b, 1, 4, T0, 0, 1), 1, "b refused: the port is contended now");
	ASSERT_EQ(give(a[0], 1, 4), 1, "a record frees");
	/* a over its fair share (4 / 2 clients) is refused the free record... */
	ASSERT_EQ(take(a[0], 1, 4, T0 + 1, 0, 1), 1, "a over its share while b waits");
	/* ...which stays for b */
	ASSERT_EQ(take(b, 1, 4, T0 + 2, 0, 1), 0, "b takes it");
	ASSERT_EQ(give(a[1], 1, 4), 1, "another of a's frees");
	ASSERT_EQ(take(a[1], 1, 4, T0 + 3, 0, 1), 1, "a still at 2 of 2 plus... refused: 3 > 2");
	ASSERT_EQ(give(a[2], 1, 4), 1, "and another");
	ASSERT_EQ(take(a[2], 1, 4, T0 + 4, 0, 1), 0, "a back under its share: 2 of 2");
	/* over its share, a takes a free record only while another stays free */
	ASSERT_EQ(give(b, 1, 4), 1, "b's ends: two free");
	ASSERT_EQ(take(a[1], 1, 4, T0 + 5, 0, 1), 0, "a over its share: one stays free");
	ASSERT_EQ(take(a[0], 1, 4, T0 + 6, 0, 1), 1, "not the last one");
	ASSERT_EQ(take(b, 1, 4, T0 + 7, 0, 1), 0, "which b gets");
	/* a second later nobody else was refused: shares no longer hold */
	ASSERT_EQ(give(b, 1, 4), 1, "b's ends");
	ASSERT_EQ(take(a[1], 1, 4, T0 + 2000000000ULL, 0, 1), 0, "uncontended: a takes the free one");
}

IG_TEST(inflight_the_whole_table)
{
	__u64 o[IG_INFLIGHT_MAX];

	memset(&tbl, 0, sizeof(tbl));
	for (int i = 0; i < IG_INFLIGHT_MAX; i++) {
		o[i] = owner_of((__u32)i, (__u16)(40000 + i));
		ASSERT_EQ(take(o[i], 1, IG_INFLIGHT_MAX, T0, 0, 1), 0, "each its record");
	}
	ASSERT_EQ(take(owner_of(999, 1), 1, IG_INFLIGHT_MAX, T0, 0, 1), 1, "full");
	ASSERT_EQ(live(T0), IG_INFLIGHT_MAX, "all live");
	/* given back as the data path does, by the connection alone (0.14's
	 * first cut gave the raw hash here: half the connections never
	 * matched, and their records leaked until the timeout) */
	for (int i = 0; i < IG_INFLIGHT_MAX; i++)
		ASSERT_EQ(give_flow((__u32)i, (__u16)(40000 + i), 1, IG_INFLIGHT_MAX), 1, "each back");
	ASSERT_EQ(live(T0), 0, "none left");
}
