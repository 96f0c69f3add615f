// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rates per minute, hour and day in the loaded data path (BPF_PROG_TEST_RUN,
 * both hooks, the test clock): 3/min admits one connection every 20 s, never
 * a nanosecond sooner; 500/d one every 172.8 s; a 429 at 3/min tells the
 * client 20 s and names 3 requests a minute; the fair-share levels and the
 * token budget read their periods too. The bucket math itself is checked
 * against the exact model natively (tests/unit/test_bucket.c).
 */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "dp.h"
#include "frames.h"
#include "harness.h"
#include "pure/http_reply.h"
#include "pure/steer.h"

#define SLOT 1 /* dp's slot for TCP */

static __u64 per(__u64 n, __u64 period_s)
{
	return ig_rate_make(n, period_s, 1);
}

/* Admitted SYNs of `count` sent now from one source. */
static int admitted(struct infergate *skel, enum hook h, int count)
{
	struct ig_frame f = syn(0);
	int ok = 0;

	for (int i = 0; i < count; i++)
		ok += dp_run(skel, h, f.buf, f.len, NULL) == rc_pass[h];
	return ok;
}

IG_TEST(rates_three_a_minute_is_one_every_20_s)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();

		dp_limit(skel, IG_PROTO_TCP, PORT, per(3, 60), 1, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_EQ(admitted(skel, h, 5), 1, "3/min burst 1: one at once");
		for (int k = 0; k < 6; k++) {
			skel->bss->ig_test_now_ns += 20 * SEC_NS - 1;
			ASSERT_EQ(admitted(skel, h, 1), 0, "1 ns before the 20 s are up");
			skel->bss->ig_test_now_ns += 1;
			ASSERT_EQ(admitted(skel, h, 5), 1, "one at 20 s");
		}
		/* burst 3: a minute's 3 at once, and 30 over the next 10 minutes */
		dp_limit(skel, IG_PROTO_TCP, PORT + 1, per(3, 60), 3, IG_UNIT_CONN, IG_ACTION_DROP);
		{
			struct ig_frame_spec s;
			struct ig_frame f;
			int ok = 0;

			ig_frame_defaults(&s, 0, IG_F_TCP);
			s.dport = PORT + 1;
			f = IG_FRAME(&s);
			for (int i = 0; i < 10; i++)
				ok += dp_run(skel, h, f.buf, f.len, NULL) == rc_pass[h];
			ASSERT_EQ(ok, 3, "3/min burst 3: three at once");
			ok = 0;
			for (int sec = 1; sec <= 600; sec++) {
				skel->bss->ig_test_now_ns += SEC_NS;
				ok += dp_run(skel, h, f.buf, f.len, NULL) == rc_pass[h];
			}
			ASSERT_EQ(ok, 30, "then 3 a minute for 10 minutes, one a second tried");
		}
	}
}

IG_TEST(rates_five_hundred_a_day_is_one_every_172_8_s)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();

		dp_limit(skel, IG_PROTO_TCP, PORT, per(500, 86400), 1, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_EQ(admitted(skel, h, 3), 1, "500/d burst 1: one at once");
		skel->bss->ig_test_now_ns += 172800000000ULL - 1;
		ASSERT_EQ(admitted(skel, h, 1), 0, "1 ns before 172.8 s");
		skel->bss->ig_test_now_ns += 1;
		ASSERT_EQ(admitted(skel, h, 3), 1, "one at 172.8 s");
		/* a day at burst 500: the day's 500 and not one more */
		dp_limit(skel, IG_PROTO_TCP, PORT, per(500, 86400), 500, IG_UNIT_CONN,
			 IG_ACTION_DROP);
		skel->bss->ig_test_now_ns += 2 * 86400 * SEC_NS; /* full again */
		ASSERT_EQ(admitted(skel, h, 600), 500, "500/d burst 500: 500 at once");
		skel->bss->ig_test_now_ns += 86400 * SEC_NS / 2;
		ASSERT_EQ(admitted(skel, h, 600), 250, "half a day later: 250");
	}
}

/* A period past a day, or N 0 with a period, written by hand with bpftool:
 * the data path refuses everything rather than read a rate it cannot hold. */
IG_TEST(rates_hand_written_bad_period_fails_closed)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();

		dp_limit(skel, IG_PROTO_TCP, PORT, 5 | ((IG_RATE_PERIOD_MAX + 1) << IG_RATE_N_BITS),
			 10, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_EQ(admitted(skel, h, 3), 0, "period of a day and a second: refused");
		dp_limit(skel, IG_PROTO_TCP, PORT, 60ULL << IG_RATE_N_BITS, 10, IG_UNIT_CONN,
			 IG_ACTION_DROP);
		ASSERT_EQ(admitted(skel, h, 3), 0, "N 0 a minute: refused");
	}
}

/* The levels above the source read their periods: a port rate of 6/min
 * shared by every source, a newcomer budget of 2/h. */
IG_TEST(rates_levels_per_minute_and_hour)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_limits lim = { .port_rate = per(6, 60), .port_burst = 1,
					 .newcomer_rate = per(2, 3600), .newcomer_burst = 2 };
		struct ig_policy pol = { .rate = 100, .burst = 100, .slot = SLOT,
					 .unit = IG_UNIT_CONN, .action = IG_ACTION_DROP,
					 .flags = IG_POL_F_HIER };
		__u32 idx = IG_PORT_INDEX(IG_PROTO_TCP, PORT), slot = SLOT;
		int ok = 0;

		dp_limit(skel, IG_PROTO_TCP, PORT, 100, 100, IG_UNIT_CONN, IG_ACTION_DROP);
		ASSERT_OK(bpf_map__update_elem(skel->maps.port_limits, &slot, 4, &lim, sizeof(lim),
					       BPF_ANY), "levels");
		ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol),
					       BPF_ANY), "policy");
		/* one source: the port's 6/min at burst 1 spaces it 10 s apart */
		ASSERT_EQ(admitted(skel, h, 5), 1, "port 6/min burst 1: one at once");
		skel->bss->ig_test_now_ns += 10 * SEC_NS - 1;
		ASSERT_EQ(admitted(skel, h, 1), 0, "1 ns before 10 s");
		skel->bss->ig_test_now_ns += 1;
		ASSERT_EQ(admitted(skel, h, 1), 1, "at 10 s");
		/* new sources: the newcomer level's 2/h, burst 2 (one spent above) */
		for (int i = 0; i < 4; i++) {
			struct ig_frame_spec s;
			struct ig_frame f;
			char src[32];

			skel->bss->ig_test_now_ns += 10 * SEC_NS;
			snprintf(src, sizeof(src), "198.18.1.%d", 10 + i);
			ig_frame_defaults(&s, 0, IG_F_TCP);
			ig_frame_addrs(&s, src, "198.18.0.2");
			f = IG_FRAME(&s);
			ok += dp_run(skel, h, f.buf, f.len, NULL) == rc_pass[h];
		}
		ASSERT_EQ(ok, 1, "newcomers 2/h burst 2, one already spent: one more");
		skel->bss->ig_test_now_ns += 1800 * SEC_NS; /* half an hour: one newcomer */
		{
			struct ig_frame_spec s;
			struct ig_frame f;

			ig_frame_defaults(&s, 0, IG_F_TCP);
			ig_frame_addrs(&s, "198.18.1.99", "198.18.0.2");
			f = IG_FRAME(&s);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_pass[h],
				  "a newcomer half an hour later");
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, NULL), rc_drop[h],
				  "(its second SYN: the port's 6/min)");
		}
	}
}
