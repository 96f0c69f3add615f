// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The breaker's decision logic (user/fsm.c), driven by hand-made time. */
#include <string.h>
#include "agent/fsm.h"
#include "harness.h"

static struct ig_fsm fsm;
static struct ig_fsm_change ch;

static const struct ig_fsm_cfg cfg = {
	.window_ms = 10000, .min_requests = 10, .failure_pct = 50, .consecutive_failures = 3,
	.open_ms = 5000, .max_open_ms = 30000, .half_open_probes = 2,
};

IG_TEST(fsm_needs_min_requests_before_judging)
{
	ig_fsm_init(&fsm, &cfg, IG_BRK_CLOSED, 0);
	ASSERT_EQ(ig_fsm_observe(&fsm, 100, 0, 9, &ch), 0, "9 failures: too few requests");
	ASSERT_EQ(ig_fsm_observe(&fsm, 200, 0, 1, &ch), 1, "the 10th trips it");
	ASSERT_EQ(ch.from, IG_BRK_CLOSED, "from closed");
	ASSERT_EQ(ch.to, IG_BRK_OPEN, "to open");
	ASSERT_TRUE(strstr(ch.reason, "10 of 10 requests") != NULL, ch.reason);
	ASSERT_EQ(ch.cause, IG_CAUSE_FAILURE_RATE, "cause");
}

IG_TEST(fsm_trips_at_the_failure_rate_not_below)
{
	ig_fsm_init(&fsm, &cfg, IG_BRK_CLOSED, 0);
	ASSERT_EQ(ig_fsm_observe(&fsm, 100, 11, 10, &ch), 0, "10 of 21 = 47%");
	ASSERT_EQ(ig_fsm_observe(&fsm, 200, 0, 1, &ch), 1, "11 of 22 = 50%");
	ASSERT_TRUE(strstr(ch.reason, "failure rate 50%") != NULL, ch.reason);
}

IG_TEST(fsm_window_slides_old_failures_out)
{
	ig_fsm_init(&fsm, &cfg, IG_BRK_CLOSED, 0);
	ASSERT_EQ(ig_fsm_observe(&fsm, 1000, 0, 8, &ch), 0, "8 failures at 1 s");
	ASSERT_EQ(ig_fsm_observe(&fsm, 11000, 2, 2, &ch), 0, "at 11 s they have left the window");
	ASSERT_EQ(ig_fsm_observe(&fsm, 11500, 0, 6, &ch), 1, "8 of 10 within 10 s");
}

IG_TEST(fsm_consecutive_probe_failures_trip_and_success_resets)
{
	ig_fsm_init(&fsm, &cfg, IG_BRK_CLOSED, 0);
	ASSERT_EQ(ig_fsm_probe(&fsm, 1, 0, "timeout", &ch), 0, "1st failure");
	ASSERT_EQ(ig_fsm_probe(&fsm, 2, 0, "timeout", &ch), 0, "2nd failure");
	ASSERT_EQ(ig_fsm_probe(&fsm, 3, 1, "HTTP 200", &ch), 0, "a success");
	ASSERT_EQ(ig_fsm_probe(&fsm, 4, 0, "timeout", &ch), 0, "count restarted");
	ASSERT_EQ(ig_fsm_probe(&fsm, 5, 0, "timeout", &ch), 0, "2nd again");
	ASSERT_EQ(ig_fsm_probe(&fsm, 6, 0, "connection refused", &ch), 1, "3rd in a row trips");
	ASSERT_EQ(ch.cause, IG_CAUSE_PROBES, "cause");
	ASSERT_TRUE(strstr(ch.reason, "3 consecutive failed probes (last: connection refused)") != NULL,
		    ch.reason);
}

IG_TEST(fsm_open_time_doubles_per_consecutive_trip_up_to_the_cap)
{
	__u64 t = 0, expect[] = { 5000, 10000, 20000, 30000, 30000 };

	ig_fsm_init(&fsm, &cfg, IG_BRK_CLOSED, 0);
	ASSERT_EQ(ig_fsm_observe(&fsm, t, 0, 10, &ch), 1, "trip");
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(fsm.open_until_ms - t, expect[i], "open period");
		ASSERT_EQ(ig_fsm_tick(&fsm, fsm.open_until_ms - 1, &ch), 0, "not yet");
		t = fsm.open_until_ms;
		ASSERT_EQ(ig_fsm_tick(&fsm, t, &ch), 1, "half-open on time");
		ASSERT_EQ(ch.to, IG_BRK_HALF_OPEN, "to half-open");
		ASSERT_EQ(ch.cause, IG_CAUSE_OPEN_ELAPSED, "cause");
		ASSERT_EQ(ig_fsm_observe(&fsm, t, 0, 1, &ch), 1, "one failure reopens");
		ASSERT_EQ(ch.to, IG_BRK_OPEN, "reopened");
		ASSERT_EQ(ch.cause, IG_CAUSE_RELAPSED, "cause");
	}
}

IG_TEST(fsm_half_open_closes_after_k_successes_and_forgets_the_trips)
{
	ig_fsm_init(&fsm, &cfg, IG_BRK_CLOSED, 0);
	ig_fsm_observe(&fsm, 0, 0, 10, &ch);
	ig_fsm_tick(&fsm, 5000, &ch);
	ASSERT_EQ(ig_fsm_observe(&fsm, 5100, 1, 0, &ch), 0, "one success of two");
	ASSERT_EQ(ig_fsm_probe(&fsm, 5200, 1, "HTTP 200", &ch), 1, "the second closes");
	ASSERT_EQ(ch.to, IG_BRK_CLOSED, "closed");
	ASSERT_EQ(ch.cause, IG_CAUSE_RECOVERED, "cause");
	ASSERT_EQ(fsm.trips, 0, "trips forgotten");
	/* the next trip gets the base period again */
	ig_fsm_observe(&fsm, 6000, 0, 10, &ch);
	ASSERT_EQ(fsm.open_until_ms - 6000, 5000, "base open period");
}

IG_TEST(fsm_open_ignores_signals_until_its_time_is_up)
{
	ig_fsm_init(&fsm, &cfg, IG_BRK_CLOSED, 0);
	ig_fsm_observe(&fsm, 0, 0, 10, &ch);
	ASSERT_EQ(ig_fsm_observe(&fsm, 100, 50, 0, &ch), 0, "successes while open");
	ASSERT_EQ(ig_fsm_probe(&fsm, 200, 1, "HTTP 200", &ch), 0, "probe success while open");
	ASSERT_EQ(fsm.state, IG_BRK_OPEN, "still open");
}

IG_TEST(fsm_adopted_open_state_gets_a_full_period)
{
	ig_fsm_init(&fsm, &cfg, IG_BRK_OPEN, 1000);
	ASSERT_EQ(fsm.open_until_ms, 6000, "open until now + open time");
	ig_fsm_init(&fsm, &cfg, (enum ig_brk_state)9, 1000);
	ASSERT_EQ(fsm.state, IG_BRK_CLOSED, "unknown state adopted as closed");
}

/* Resilience4j's slow-call rule (issue 15): the window's share of slow calls
 * among those the kernel timed, from min_requests of them; off without
 * slow_call_ms; a slow call while half-open reopens. */
IG_TEST(fsm_slow_call_rate_opens)
{
	struct ig_fsm_cfg c = { .window_ms = 5000, .min_requests = 4, .failure_pct = 50,
				.open_ms = 1000, .max_open_ms = 8000, .half_open_probes = 2,
				.slow_call_pct = 50, .slow_call_ms = 1000 };
	static struct ig_fsm f;
	struct ig_fsm_change ch;

	ig_fsm_init(&f, &c, IG_BRK_CLOSED, 0);
	/* answered fine (2xx), but 1 of 3 slow: under min_requests, and under 50 % */
	ASSERT_EQ(ig_fsm_observe_calls(&f, 100, 3, 0, 3, 1, &ch), 0, "3 timed calls");
	ASSERT_EQ(ig_fsm_observe_calls(&f, 200, 1, 0, 1, 0, &ch), 0, "1 of 4 slow");
	ASSERT_EQ(ig_fsm_observe_calls(&f, 300, 2, 0, 2, 2, &ch), 1, "3 of 6 slow: 50 %");
	ASSERT_EQ(ch.to, IG_BRK_OPEN, "opened");
	ASSERT_EQ(ch.cause, IG_CAUSE_SLOW_CALLS, "by the slow-call rule");
	ASSERT_TRUE(strstr(ch.reason, "slow-call rate 50%") != NULL, "the reason says it");
	/* half-open: a slow call is a failure */
	ASSERT_EQ(ig_fsm_tick(&f, 1300, &ch), 1, "half-open");
	ASSERT_EQ(ig_fsm_observe_calls(&f, 1400, 1, 0, 1, 1, &ch), 1, "a slow probe call");
	ASSERT_EQ(ch.cause, IG_CAUSE_RELAPSED, "relapsed");
	/* the rule off: slow calls are nobody's business */
	c.slow_call_ms = 0;
	ig_fsm_init(&f, &c, IG_BRK_CLOSED, 0);
	ASSERT_EQ(ig_fsm_observe_calls(&f, 100, 10, 0, 10, 10, &ch), 0, "rule off");
	/* old slow calls leave the window */
	c.slow_call_ms = 1000;
	ig_fsm_init(&f, &c, IG_BRK_CLOSED, 0);
	ASSERT_EQ(ig_fsm_observe_calls(&f, 100, 0, 0, 3, 3, &ch), 0, "3 slow, under min");
	ASSERT_EQ(ig_fsm_observe_calls(&f, 6000, 0, 0, 3, 0, &ch), 0, "the slow ones left");
}
