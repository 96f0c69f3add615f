// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lib/algo.h"
#include "lib/args.h"
#include "lib/log.h"
#include "lib/rate.h"
#include "lib/levels.h"
#include "pure/limit.h"

const char *const ig_algo_names[] = {
	[IG_ALGO_TOKEN_BUCKET] = "token-bucket",
	[IG_ALGO_FIXED_WINDOW] = "fixed-window",
	[IG_ALGO_SLIDING_WINDOW] = "sliding-window",
	[IG_ALGO_LEAKY_BUCKET] = "leaky-bucket",
	NULL,
};

const char *ig_algo_name(__u32 algo)
{
	return algo < IG_ALGO_MAX ? ig_algo_names[algo] : "?";
}

int ig_parse_algo(const char *s, int *algo)
{
	for (int i = 0; i < IG_ALGO_MAX; i++)
		if (!strcmp(s, ig_algo_names[i])) {
			*algo = i;
			return 0;
		}
	ig_args_error("invalid algorithm '%s': expected token-bucket, fixed-window, "
		      "sliding-window or leaky-bucket", s);
	return -EINVAL;
}

int ig_parse_window(const char *s, __u64 *secs)
{
	__u64 ms;

	if (ig_parse_duration(s, "window", 1000, IG_RATE_PERIOD_MAX * 1000ULL, &ms))
		return -EINVAL;
	if (ms % 1000) {
		ig_args_error("invalid window '%s': whole seconds (60s, 10m, 1h, 1d)", s);
		return -EINVAL;
	}
	*secs = ms / 1000;
	return 0;
}

/* A rate per `win` seconds, if it is a whole number of units per window. */
static int per_window(__u64 *rate, __u64 win, const char *where, const char *what)
{
	__u64 n = ig_rate_n(*rate), per = ig_rate_period(*rate, 1);
	unsigned __int128 units = (unsigned __int128)n * win;

	if (!n)
		return 0;
	if (units % per || units / per > IG_RATE_MAX || !(units / per)) {
		ig_args_error("%s: %s %s is not a whole number of units per %llus window: write it per "
		       "the window (N/%llus)", where, what, ig_rate_s(*rate), (unsigned long long)win,
		       (unsigned long long)win);
		return -EINVAL;
	}
	*rate = ig_rate_make((__u64)(units / per), win, 1);
	return 0;
}

/* One level's rate and burst under the algorithm. */
static int level(__u64 *rate, __u64 *burst, int burst_given, const struct ig_algo_want *w,
		 const char *where, const char *what, const char *burst_what)
{
	if (!*rate)
		return 0;
	if (w->window_s && per_window(rate, w->window_s, where, what))
		return -EINVAL;
	if (w->algo == IG_ALGO_TOKEN_BUCKET)
		return 0;
	if (burst_given) {
		ig_args_error("%s: %s has no burst: %s goes with token-bucket", where,
		       ig_algo_name((__u32)w->algo), burst_what);
		return -EINVAL;
	}
	if (w->algo == IG_ALGO_SLIDING_WINDOW && ig_rate_n(*rate) > IG_SW_COUNT_MAX) {
		ig_args_error("%s: sliding-window counts at most %llu units per window, not %s: use a "
		       "shorter window, or fixed-window or token-bucket", where,
		       (unsigned long long)IG_SW_COUNT_MAX, ig_rate_s(*rate));
		return -EINVAL;
	}
	*burst = w->algo == IG_ALGO_LEAKY_BUCKET ? 1 : ig_rate_n(*rate);
	return 0;
}

int ig_algo_apply(struct ig_policy *pol, struct ig_limits *lim, const struct ig_algo_want *w,
		  const char *where)
{
	struct ig_algo_want a = *w;

	if (a.algo < 0)
		a.algo = IG_ALGO_TOKEN_BUCKET;
	if (a.window_s && !ig_algo_windowed((__u32)a.algo)) {
		ig_args_error("%s: a window goes with fixed-window or sliding-window (a bucket's "
			      "rate says its own period)", where);
		return -EINVAL;
	}
	if (level(&pol->rate, &pol->burst, a.burst_given, &a, where, "rate", "burst") ||
	    level(&lim->prefix_rate, &lim->prefix_burst,
		  !!(a.levels_given & IG_LEVEL_G_PREFIX_BURST), &a, where, "prefix rate",
		  "prefix burst") ||
	    level(&lim->port_rate, &lim->port_burst, !!(a.levels_given & IG_LEVEL_G_PORT_BURST),
		  &a, where, "port rate", "port burst"))
		return -EINVAL;
	pol->flags = (pol->flags & ~IG_POL_ALGO_MASK) | (__u32)a.algo << IG_POL_ALGO_SHIFT;
	return 0;
}

/* The share of its capacity a word has used, as num / den (0 / 1: none). */
static void used_share(__u64 word, __u64 now, const struct ig_limit_of *f, unsigned __int128 *num,
		       unsigned __int128 *den)
{
	__u64 n = ig_rate_n(f->rate), w = ig_win_len(f->rate), idx, prev, cur;

	*num = 0;
	*den = 1;
	if (!n || !w)
		return;
	if (!ig_algo_windowed(f->algo)) {
		__u64 cap = f->algo == IG_ALGO_LEAKY_BUCKET ? 1 : f->burst;

		if (word <= now || !cap || word >> IG_WIN_TAG_SHIFT >= IG_WIN_TAG_FIXED)
			return;
		*num = (unsigned __int128)(word - now) * n;
		*den = (unsigned __int128)cap * w;
	} else if (f->algo == IG_ALGO_FIXED_WINDOW) {
		*num = ig_fw_count(word, now / w);
		*den = n;
	} else {
		idx = now / w;
		ig_sw_counts(word, idx, &prev, &cur);
		*num = (unsigned __int128)prev * (w - (now - idx * w)) + (unsigned __int128)cur * w;
		*den = (unsigned __int128)n * w;
	}
	if (*num > *den)
		*num = *den;
}

__u64 ig_limit_rescale(__u64 word, __u64 now, const struct ig_limit_of *from,
		       const struct ig_limit_of *to)
{
	__u64 nn = ig_rate_n(to->rate), w = ig_win_len(to->rate), count, idx;
	unsigned __int128 num, den;
	long double share;

	if (!ig_algo_windowed(from->algo) && !ig_algo_windowed(to->algo))
		return ig_gcra_rescale(word, now, from->rate,
				       from->algo == IG_ALGO_LEAKY_BUCKET ? 1 : from->burst,
				       to->rate, to->algo == IG_ALGO_LEAKY_BUCKET ? 1 : to->burst);
	/* the same window: the units counted in it are what they were */
	if (from->algo == to->algo && ig_win_len(from->rate) == w)
		return word;
	used_share(word, now, from, &num, &den);
	if (!num || !nn || !w)
		return 0; /* nothing used (or nothing admitted): a word with no state */
	share = (long double)num / (long double)den;
	if (!ig_algo_windowed(to->algo)) {
		__u64 cap = to->algo == IG_ALGO_LEAKY_BUCKET ? 1 : to->burst;
		long double owed = ceill(share * (long double)cap * (long double)w);

		return ig_gcra_owing(now, (unsigned __int128)owed, to->rate);
	}
	count = (__u64)ceill(share * (long double)nn);
	if (count > nn)
		count = nn;
	idx = now / w;
	if (to->algo == IG_ALGO_FIXED_WINDOW)
		return IG_FW_TAG | (idx & IG_FW_IDX_MASK) << IG_FW_COUNT_BITS | count;
	return IG_SW_TAG | (idx & IG_SW_IDX_MASK) << IG_SW_IDX_SHIFT | count;
}
