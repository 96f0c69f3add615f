// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * User space reads the data path's clock from the instance's record (map
 * seed, key 1), never from a fresh guess: the two clock domains (jiffies and
 * CLOCK_MONOTONIC_COARSE) differ by months on a long-running host, and a guess
 * that changed between attach and a charge locked a client out for months or
 * charged nothing, and a rescale refilled everyone.
 */
#include <errno.h>
#include <time.h>
#include <bpf/bpf.h>
#include "dp.h"
#include "harness.h"
#include "lib/policy.h"

static void record(struct infergate *skel, __u64 value)
{
	struct ig_seed rec = { .value = value };
	__u32 key = IG_SEED_KEY_CLOCK;

	ASSERT_OK(bpf_map__update_elem(skel->maps.seed, &key, 4, &rec, sizeof(rec), BPF_ANY),
		  "write the clock record");
}

static __u64 coarse_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

IG_TEST(clock_guess_changed_since_attach_is_not_used)
{
	struct infergate *skel = dp_load();
	struct ig_instance in;
	__u64 now, before, tick_ns;
	__u32 clock;

	dp_instance(skel, &in);
	/* attach recorded the coarse clock: whatever the kernel config says now,
	 * that is the domain of every pinned time */
	record(skel, ig_clock_record(IG_CLOCK_COARSE, 0));
	ASSERT_OK(ig_instance_clock(&in, &clock, &tick_ns), "read the record");
	ASSERT_EQ(clock, IG_CLOCK_COARSE, "the recorded clock");
	before = coarse_now();
	ASSERT_OK(ig_datapath_now(&in, &now), "now");
	ASSERT_TRUE(now >= before && now - before < 1000000000ULL, "now in the coarse domain");

	/* recorded as jiffies at 1000 Hz: now is jiffies * 1 ms, whatever the guess */
	record(skel, ig_clock_record(IG_CLOCK_TICK, 1000000));
	ASSERT_OK(ig_datapath_now(&in, &now), "now");
	ASSERT_EQ(now % 1000000, 0, "a whole number of recorded ticks");

	/* no record (an instance of an older version): refuse, never guess */
	record(skel, 0);
	ASSERT_EQ(ig_datapath_now(&in, &now), -ENODATA, "unrecorded clock refused");
	ig_instance_close(&in);
	dp_load(); /* back to the harness's record for the tests after this one */
}
