// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rates as operators write them (user/lib/rate.c): what the parser takes and
 * refuses, the text it shows back, the default burst (a period's N) and the
 * refill bound that keeps a bucket's TAT within 64 bits.
 */
#include <stdio.h>
#include <string.h>
#include "lib/rate.h"
#include "lib/args.h"
#include "harness.h"

static __u64 parsed(const char *s)
{
	__u64 r = 0;
	char err[256];

	ig_args_capture(err, sizeof(err));
	if (ig_parse_rate(s, &r))
		r = 0;
	ig_args_capture(NULL, 0);
	return r;
}

IG_TEST(rate_parser_takes_every_period_as_written)
{
	static const struct {
		const char *in;
		__u64 n, period;
		const char *shown;
	} ok[] = {
		{ "100", 100, 1, "100/s" },	  { "100/s", 100, 1, "100/s" },
		{ "100/sec", 100, 1, "100/s" },	  { "3/min", 3, 60, "3/min" },
		{ "3/m", 3, 60, "3/min" },	  { "90/minute", 90, 60, "90/min" },
		{ "2/h", 2, 3600, "2/h" },	  { "2/hour", 2, 3600, "2/h" },
		{ "500/d", 500, 86400, "500/d" }, { "500/day", 500, 86400, "500/d" },
		{ "5/10s", 5, 10, "5/10s" },	  { "100/15min", 100, 900, "100/15min" },
		{ "1/12h", 1, 43200, "1/12h" },	  { "1/24h", 1, 86400, "1/d" },
		{ "60/60s", 60, 60, "60/min" },	  { "2M/d", 2000000, 86400, "2000000/d" },
		{ "1k/90s", 1000, 90, "1000/90s" }, { "7/86400s", 7, 86400, "7/d" },
	};
	static const char *const bad[] = {
		"0/min", "0", "1/0s", "1/86401s", "1/25h", "1/2d", "2000000000000/s", "x/s",
		"3/fortnight", "3/", "/min", "-1/s", "3/min/s", "1.5/s", "3 /min", "",
	};
	char what[128], buf[IG_RATE_STR];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		__u64 r = parsed(ok[i].in);

		snprintf(what, sizeof(what), "'%s'", ok[i].in);
		ASSERT_EQ(ig_rate_n(r), ok[i].n, what);
		ASSERT_EQ(ig_rate_period(r, 1), ok[i].period, what);
		ASSERT_TRUE(!strcmp(ig_rate_str(r, 1, buf, sizeof(buf)), ok[i].shown), ok[i].shown);
		/* per second is stored as 0.9 stored it: N alone */
		if (ok[i].period == 1)
			ASSERT_EQ(r, ok[i].n, "a per-second rate is its N");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "'%s' refused", bad[i]);
		ASSERT_EQ(parsed(bad[i]), 0, what);
	}
}

IG_TEST(rate_text_parses_back_to_the_same_rate)
{
	unsigned long long rng = 20;
	char buf[IG_RATE_STR];

	for (int i = 0; i < 100000; i++) {
		__u64 n = 1 + ig_rnd(&rng) % IG_RATE_MAX, per = 1 + ig_rnd(&rng) % IG_RATE_PERIOD_MAX;
		__u64 r = ig_rate_make(n, per, 1);

		ASSERT_EQ(parsed(ig_rate_str(r, 1, buf, sizeof(buf))), r, buf);
	}
}

IG_TEST(rate_token_budget_is_a_minute_unless_written)
{
	__u64 t;
	char buf[IG_RATE_STR];

	ASSERT_OK(ig_parse_tokens("60000", &t), "a bare budget");
	ASSERT_EQ(t, 60000, "a minute's budget is stored as 0.9 stored it");
	ASSERT_EQ(ig_token_window(t), 60 * IG_NSEC_PER_SEC, "its window: a minute");
	ASSERT_OK(ig_parse_tokens("100000/d", &t), "a day's budget");
	ASSERT_EQ(ig_rate_n(t), 100000, "its N");
	ASSERT_EQ(ig_token_window(t), 86400 * IG_NSEC_PER_SEC, "its window: a day");
	ASSERT_TRUE(!strcmp(ig_rate_str(t, IG_TOKEN_PERIOD_S, buf, sizeof(buf)), "100000/d"), buf);
	ASSERT_OK(ig_parse_tokens("1000/s", &t), "a second's budget");
	ASSERT_EQ(ig_token_window(t), IG_NSEC_PER_SEC, "its window: a second");
}

IG_TEST(rate_default_burst_is_a_periods_worth)
{
	ASSERT_EQ(ig_rate_default_burst(100), 100, "100/s: 100, as before");
	ASSERT_EQ(ig_rate_default_burst(ig_rate_make(3, 60, 1)), 3, "3/min: 3");
	ASSERT_EQ(ig_rate_default_burst(ig_rate_make(500, 86400, 1)), 500, "500/d: 500");
	ASSERT_EQ(ig_rate_default_burst(IG_RATE_MAX), IG_MAX_BURST, "capped at the largest burst");
	ASSERT_EQ(ig_rate_default_burst(0), 0, "none for a rate of 0 (tier unset, no replies)");
}

IG_TEST(rate_burst_must_refill_within_the_tat)
{
	char err[256];
	__u64 day = ig_rate_make(1, 86400, 1);

	ig_args_capture(err, sizeof(err));
	ASSERT_OK(ig_rate_check_burst(1, IG_MAX_BURST, "--burst"), "1e10 at 1/s, as always");
	ASSERT_OK(ig_rate_check_burst(day, 115740, "--burst"), "115740 at 1/d: 317 years");
	ASSERT_EQ(ig_rate_check_burst(day, 115741, "--burst"), -ERANGE, "one more: refused");
	ASSERT_TRUE(strstr(err, "at most 115740") != NULL, err);
	ASSERT_OK(ig_rate_check_burst(ig_rate_make(1000, 86400, 1), 1000000, "--burst"),
		  "1e6 at 1000/d");
	ig_args_capture(NULL, 0);
}

IG_TEST(rate_compare_is_exact_across_periods)
{
	ASSERT_EQ(ig_rate_cmp(ig_rate_make(60, 60, 1), 1), 0, "60/min is 1/s");
	ASSERT_EQ(ig_rate_cmp(ig_rate_make(61, 60, 1), 1), 1, "61/min is more");
	ASSERT_EQ(ig_rate_cmp(ig_rate_make(86399, 86400, 1), 1), -1, "86399/d is less");
}
