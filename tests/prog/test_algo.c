// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The algorithms in the loaded data path (BPF_PROG_TEST_RUN, both hooks, the
 * test clock): a fixed window admits N per aligned window and 2N across its
 * edge; a sliding window weighs the previous window by what is left of it; a
 * leaky bucket spaces evenly whatever the burst says; the port level counts
 * by the port's algorithm and a refusal above gives the window back; a word
 * another algorithm left reads as empty, and a change of algorithm through
 * the lib keeps each source's share used. The math against reference models:
 * tests/unit/test_window.c.
 */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "dp.h"
#include "frames.h"
#include "harness.h"
#include "lib/algo.h"
#include "lib/policy.h"
#include "lib/port.h"

#define SLOT 1 /* dp's slot for TCP */

static __u64 per(__u64 n, __u64 period_s)
{
	return ig_rate_make(n, period_s, 1);
}

static struct ig_frame syn_from(const char *src)
{
	struct ig_frame_spec s;

	ig_frame_defaults(&s, 0, IG_F_TCP);
	ig_frame_addrs(&s, src, "198.18.0.2");
	return IG_FRAME(&s);
}

static int admitted_from(struct infergate *skel, enum hook h, const char *src, int count)
{
	struct ig_frame f = syn_from(src);
	int ok = 0;

	for (int i = 0; i < count; i++)
		ok += dp_run(skel, h, f.buf, f.len, NULL) == rc_pass[h];
	return ok;
}

/* A policy for PORT with an algorithm, written as the lib would (flags). */
static void limit_algo(struct infergate *skel, __u64 rate, __u64 burst, __u32 algo, __u32 flags)
{
	struct ig_policy pol = { .rate = rate, .burst = burst, .slot = SLOT,
				 .unit = IG_UNIT_CONN, .action = IG_ACTION_DROP,
				 .flags = flags | algo << IG_POL_ALGO_SHIFT };
	__u32 idx = IG_PORT_INDEX(IG_PROTO_TCP, PORT);

	dp_limit(skel, IG_PROTO_TCP, PORT, rate, burst, IG_UNIT_CONN, IG_ACTION_DROP);
	ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol),
				       BPF_ANY), "policy");
}

/* The test clock moved to `at` ns past the start of a window of w seconds. */
static void at_window(struct infergate *skel, __u64 w, __u64 at)
{
	__u64 W = w * SEC_NS, now = skel->bss->ig_test_now_ns;

	skel->bss->ig_test_now_ns = (now / W + 1) * W + at;
}

IG_TEST(algo_fixed_window_n_per_window_and_2n_across_its_edge)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();

		limit_algo(skel, per(5, 60), 5, IG_ALGO_FIXED_WINDOW, 0);
		at_window(skel, 60, 0);
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 8), 5, "5 in the window");
		skel->bss->ig_test_now_ns += 60 * SEC_NS - 1;
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 3), 0, "none 1 ns before its end");
		skel->bss->ig_test_now_ns += 1;
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 8), 5, "5 again in the next");
		/* the known price: a fresh source spends 5 in the last ns of a
		 * window and 5 more in the first of the next */
		at_window(skel, 60, 60 * SEC_NS - 1);
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.2", 8), 5, "5 at the window's end");
		skel->bss->ig_test_now_ns += 1;
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.2", 8), 5, "and 5 a ns later: 2N");
	}
}

IG_TEST(algo_sliding_window_weighs_the_previous_window)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();

		limit_algo(skel, per(10, 60), 10, IG_ALGO_SLIDING_WINDOW, 0);
		at_window(skel, 60, 0);
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 12), 10, "10 in the window");
		/* half into the next: 10 * 1/2 still weigh, 5 more fit */
		skel->bss->ig_test_now_ns += 90 * SEC_NS;
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 12), 5, "5 half a window on");
		/* a quarter later: 10 * 1/4 + 5 = 7.5, room for 2 */
		skel->bss->ig_test_now_ns += 15 * SEC_NS;
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 12), 2, "2 a quarter on");
		/* no 2N across the edge: 10 at the end, then none at the start */
		at_window(skel, 60, 60 * SEC_NS - 1);
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.2", 12), 10, "10 at the window's end");
		skel->bss->ig_test_now_ns += 1;
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.2", 12), 0, "none a ns later");
		/* 10 * 53/60 = 8.8: one fits (at exactly 6 s, 9 + 1 would: the
		 * weight is rounded up, so the edge itself is refused) */
		skel->bss->ig_test_now_ns += 7 * SEC_NS;
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.2", 12), 1, "one 7 s on");
	}
}

IG_TEST(algo_leaky_bucket_spaces_evenly_whatever_the_burst)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();

		/* a hand-written burst of 50: the leaky bucket has none */
		limit_algo(skel, per(60, 60), 50, IG_ALGO_LEAKY_BUCKET, 0);
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 10), 1, "one at once");
		for (int k = 0; k < 5; k++) {
			skel->bss->ig_test_now_ns += SEC_NS - 1;
			ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 1), 0, "1 ns early");
			skel->bss->ig_test_now_ns += 1;
			ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 3), 1, "one a second");
		}
	}
}

IG_TEST(algo_port_level_counts_by_window_and_a_refusal_gives_it_back)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = { .port_rate = per(3, 60), .port_burst = 3 };
		__u32 slot = SLOT;
		char src[32];
		int ok = 0;

		limit_algo(skel, per(1, 60), 1, IG_ALGO_FIXED_WINDOW, IG_POL_F_HIER);
		ASSERT_OK(bpf_map__update_elem(skel->maps.port_limits, &slot, 4, &lim, sizeof(lim),
					       BPF_ANY), "levels");
		at_window(skel, 60, 0);
		for (int i = 0; i < 5; i++) {
			snprintf(src, sizeof(src), "198.18.1.%d", 10 + i);
			ok += admitted_from(skel, h, src, 1);
		}
		ASSERT_EQ(ok, 3, "the port's 3 a minute, one per source");
		/* sources 13 and 14 were refused by the port: their own window was
		 * given back, so each has its 1 in the next window */
		skel->bss->ig_test_now_ns += 60 * SEC_NS;
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.13", 2), 1, "13: its one");
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.14", 2), 1, "14: its one");
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.10", 2), 1, "10: its one");
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.11", 2), 0, "the port's 3 are spent");
	}
}

IG_TEST(algo_a_word_of_another_algorithm_reads_as_empty)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();

		/* a fixed window's word left behind: a bucket reads it as full,
		 * not as days of debt */
		limit_algo(skel, per(2, 60), 2, IG_ALGO_FIXED_WINDOW, 0);
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 5), 2, "window: 2");
		limit_algo(skel, per(2, 60), 2, IG_ALGO_TOKEN_BUCKET, 0);
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 5), 2, "bucket: its burst of 2");
		skel->bss->ig_test_now_ns += 30 * SEC_NS;
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 5), 1, "then 2 a minute");
		/* and a TAT read by a window: an empty window */
		limit_algo(skel, per(2, 60), 2, IG_ALGO_SLIDING_WINDOW, 0);
		ASSERT_EQ(admitted_from(skel, h, "198.18.1.1", 5), 2, "sliding: 2");
	}
}

/* The clock the lib converts at (the instance's recorded one). */
static __u64 lib_now(const struct ig_instance *in)
{
	__u64 now = 0;

	ASSERT_OK(ig_datapath_now(in, &now), "the lib's clock");
	return now;
}

IG_TEST(algo_change_through_the_lib_keeps_the_share_used)
{
	struct infergate *skel = dp_load();
	struct ig_port_limit l = {
		.policy = { .rate = per(4, 3600), .burst = 4, .unit = IG_UNIT_CONN,
			    .action = IG_ACTION_DROP },
	};
	struct ig_algo_want w = { .algo = IG_ALGO_FIXED_WINDOW };
	struct ig_instance in;

	/* the lib converts at its own clock: the test clock follows it */
	dp_instance(skel, &in);
	skel->bss->ig_test_now_ns = lib_now(&in);
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &l), 0, "4/h token bucket");
	ASSERT_EQ(admitted_from(skel, XDP, "198.18.1.1", 2), 2, "half the burst spent");
	ASSERT_EQ(admitted_from(skel, XDP, "198.18.1.2", 4), 4, "all of it spent");
	ASSERT_OK(ig_algo_apply(&l.policy, &l.levels, &w, "test"), "to fixed-window");
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &l), 2, "two sources converted");
	skel->bss->ig_test_now_ns = lib_now(&in);
	ASSERT_EQ(admitted_from(skel, XDP, "198.18.1.1", 4), 2, "half of the window's 4 left");
	ASSERT_EQ(admitted_from(skel, XDP, "198.18.1.2", 4), 0, "none left");
	ASSERT_EQ(admitted_from(skel, XDP, "198.18.1.3", 5), 4, "a new source: the window's 4");
	/* and back: the window's use becomes debt, no refill */
	w.algo = IG_ALGO_TOKEN_BUCKET;
	ASSERT_OK(ig_algo_apply(&l.policy, &l.levels, &w, "test"), "to token-bucket");
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &l), 3, "three sources converted");
	skel->bss->ig_test_now_ns = lib_now(&in);
	ASSERT_EQ(admitted_from(skel, XDP, "198.18.1.2", 4), 0, "2: still none");
	ASSERT_EQ(admitted_from(skel, XDP, "198.18.1.3", 4), 0, "3: still none");
	ASSERT_EQ(admitted_from(skel, XDP, "198.18.1.4", 5), 4, "a new source: a full burst");
	ig_instance_close(&in);
}
