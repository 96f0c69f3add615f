/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Adaptive admission's controller (issue 15): from what the engine (or the
 * kernel's TTFT histogram) said over the last interval and what the port
 * admitted, the port rate for the next one. Pure: no I/O, time is given.
 *
 * engine mode. The engine's completion rate is what it can take right now
 * whenever its queue is not empty, so it is the feed-forward term: the rate
 * jumps to capacity at once instead of integrating there. A PI term on the
 * queue error (waiting - queue_target) drains or fills the queue on top of
 * it: P drains the error in 2 s, I removes the bias a feed-forward measured
 * through a lag leaves (integrated only while the output is not at a bound:
 * no wind-up). The queue, not TTFT, is the error because it is what the
 * engine reports exactly and it leads TTFT by a prefill. Above kv_ceiling the
 * KV brake lowers the rate in proportion to how far above (the engine is
 * about to preempt; its queue would say so too late) and forbids raises.
 *
 * latency mode. Envoy's adaptive-concurrency gradient on a rate: gradient =
 * (min_ttft x 2) / sampled_ttft, clamped to [0.5, 2]; rate x gradient +
 * sqrt(rate) (2, not Envoy's 1.25: the histogram's resolution, see
 * LAT_BUFFER). sampled: the interval's p90 TTFT (from the log2 histogram's
 * bucket deltas, interpolated: ig_time_quantile_ms); min: the smallest
 * sample of the last two 30-s epochs (it must forget: a slower model would otherwise be judged
 * against the fast one forever).
 *
 * engine mode with adaptive_headroom h. Capacity by Little's law: while
 * requests wait, the engine runs as many as it can at once (slots); a
 * request stays running run_avg / done_rate seconds, at any load; so it
 * completes at most slots x done_rate / run_avg a second. The feed-forward
 * is (1 - h) of that instead of the completion rate: an engine kept just
 * under its capacity by admissions spaced by the bucket has a free slot for
 * nearly every request, whose TTFT is then the unloaded one, where a queue
 * held at queue_target (5 by default) costs every request the wait of five
 * (step bench: p99 TTFT 6x unloaded at queue_target 1, 1.1-1.4x with
 * h = 0.05). Until the engine has once been seen full (a queue), the queue
 * target steers as without h.
 *
 * Both. A step lowers the rate to no less than half, raises it by no more
 * than sqrt(rate) (Envoy's headroom), and raises it only while demand
 * presses on it (admitted >= 90 % of the rate, or refusals at the port or
 * source level: without that, a rate would grow without bound over an idle
 * port and let the next burst through unchecked). Within [min, max].
 * Inputs older than 1 s freeze the rate; older than 5 s (or none yet) put
 * the static port rate back.
 */
#ifndef IG_ADAPT_CTL_H
#define IG_ADAPT_CTL_H

#include <linux/types.h>
#include "ig_abi.h"

#define IG_ACTL_FREEZE_MS 1000
#define IG_ACTL_STATIC_MS 5000
#define IG_ACTL_EPOCH_MS 30000

struct ig_actl_cfg {
	enum ig_adaptive_mode mode;
	double queue_target; /* requests */
	double kv_ceiling;   /* 0..1 */
	double headroom;     /* 0..0.5: capacity left unused (0: no ceiling) */
	double min_rate, max_rate, static_rate; /* units/s */
};

/* One interval's inputs. */
struct ig_actl_in {
	int fresh;          /* a new reading arrived in this interval */
	__u64 seen_ms;      /* when the newest reading arrived (0: never) */
	/* engine: NAN where the engine does not say */
	double queue, running, kv;
	double completed;   /* the engine's counter of finished requests */
	/* latency: the TTFT histogram's bucket deltas over the interval */
	__u64 ttft[IG_TIME_BUCKETS];
	/* the port, from the kernel: admitted units and refusals at the port
	 * and source levels, over the interval */
	__u64 admitted, refused;
};

struct ig_actl {
	struct ig_actl_cfg cfg;
	double rate;
	enum ig_adaptive_state state;
	__u64 last_ms;      /* the last step (0: none yet) */
	double integral;    /* of the queue error, request-seconds */
	double completed;   /* the counter at the last fresh reading (NAN: none) */
	__u64 completed_ms;
	double done_rate;   /* completion rate, smoothed (NAN: not known) */
	double run_avg;     /* requests running, smoothed (NAN: not known) */
	double slots;       /* running while some waited: the engine's ceiling (0: none seen) */
	double capacity;    /* slots x done_rate / run_avg, requests/s (NAN: not known) */
	int seen_full;      /* some waited once: slots is the engine's ceiling */
	double min_ttft[2]; /* ms; this epoch's and the last one's (0: none) */
	__u64 epoch_ms;
	double ttft_p50, ttft_p90, ttft_p99; /* ms, the last interval's (0: none) */
};

/* What a step did, for the log line and the gauges. */
struct ig_actl_out {
	double rate;
	enum ig_adaptive_state state;
	int pressed;        /* demand was near the limit */
	int braked;         /* KV above the ceiling */
	char why[160];
};

/*
 * Per-source fairness inside the adaptive rate: each of `active` sources gets
 * port_rate / active, rounded up (the shares cover the port), never above the
 * configured per-source rate and never below 1/s. One source or none: the
 * configured rate. And whether to write it over `written` (0: nothing
 * written yet): moves of 10 % or less are not worth a write, the way back to
 * the configured rate always is.
 */
__u64 ig_actl_share(__u64 port_rate, __u64 active, __u64 source_rate);
int ig_actl_share_due(__u64 share, __u64 written, __u64 source_rate);

void ig_actl_init(struct ig_actl *c, const struct ig_actl_cfg *cfg, __u64 now_ms);
/* The rate for the next interval. */
void ig_actl_step(struct ig_actl *c, __u64 now_ms, const struct ig_actl_in *in,
		  struct ig_actl_out *out);

#endif
