/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A port's algorithm (ig_abi.h, enum ig_algo) as the CLI's --algorithm and
 * --window and the config file's `algorithm` and `rate_window` say it: one check
 * and one rewrite of the policy and levels, shared by both.
 */
#ifndef IG_ALGO_H
#define IG_ALGO_H

#include <linux/types.h>
#include "ig_abi.h"

/* token-bucket, fixed-window, sliding-window, leaky-bucket; NULL-ended (an
 * IG_OPT_ENUM's values). */
extern const char *const ig_algo_names[];
const char *ig_algo_name(__u32 algo);
/* 0, or -EINVAL said with ig_err. */
int ig_parse_algo(const char *s, int *algo);
/* A window: whole seconds, 1 s .. a day: 90, 90s, 10m/10min, 1h, 1d. */
int ig_parse_window(const char *s, __u64 *secs);

struct ig_algo_want {
	int algo;            /* enum ig_algo; -1: not given (token bucket) */
	__u64 window_s;      /* 0: each rate's own period */
	int burst_given;     /* the policy's burst was given */
	unsigned int levels_given; /* ig_levels_parse's `given` */
};

/*
 * Put the algorithm into pol->flags and make the rates and bursts mean what
 * it counts: with a window, each of the rate, prefix_rate and port_rate is
 * written per that window (10/s over 60 s is 600/min; a rate that is not a
 * whole number per window is refused); a window algorithm's bursts are its
 * N (what a status shows; the data path does not read them), a leaky
 * bucket's 1. A burst given with either is refused: neither has one. The
 * sliding window counts at most IG_SW_COUNT_MAX per window. `where` starts
 * each message ("--window", "[port 8000/tcp]"). 0, or -EINVAL said.
 */
int ig_algo_apply(struct ig_policy *pol, struct ig_limits *lim, const struct ig_algo_want *w,
		  const char *where);

/* What a state word is counted by: a level's rate, burst and algorithm. */
struct ig_limit_of {
	__u64 rate, burst;
	__u32 algo;
};

/*
 * A state word (a source's, a prefix's, the port's: a TAT or a window's
 * counts) under another rate, burst or algorithm, at `now` in the data
 * path's clock: it keeps the share of its capacity it had used (a bucket's
 * burst, a window's N, counting the sliding window's estimate), rounded
 * towards more use, so that no change hands out a refill. Between buckets
 * it is ig_gcra_rescale; a window keeps its counts when only N changes.
 */
__u64 ig_limit_rescale(__u64 word, __u64 now, const struct ig_limit_of *from,
		       const struct ig_limit_of *to);

#endif
