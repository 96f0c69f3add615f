// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Adaptive admission's controller: see adapt_ctl.h for the design. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "agent/adapt_ctl.h"
#include "pure/timing.h"

/* The queue error is drained in 1/KP seconds; KI removes what the
 * feed-forward's lag leaves, ten times slower so the two do not fight. */
#define KP 0.5
#define KI 0.05
#define PRESSED_SHARE 0.9   /* admitted/rate at which demand presses on the limit */
/* Envoy allows 25 % over the minimum; the kernel's TTFT comes in jiffies
 * (4 ms) and log2 buckets, whose interpolated quantile can be off by up to a
 * bucket's width (2x): 1.25 read that noise as congestion and kept the engine
 * half idle (step bench: 47 % goodput at 3x, 61 % with 2.0) */
#define LAT_BUFFER 2.0
#define LAT_QUANTILE 0.9
#define LAT_MIN_SAMPLES 3   /* fewer responses in an interval say nothing */
#define CAP_SMOOTH_S 3.0    /* seconds the capacity estimate is averaged over */

void ig_actl_init(struct ig_actl *c, const struct ig_actl_cfg *cfg, __u64 now_ms)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->rate = cfg->static_rate;
	c->state = IG_AS_STATIC;
	c->completed = NAN;
	c->done_rate = NAN;
	c->run_avg = NAN;
	c->capacity = NAN;
	c->epoch_ms = now_ms;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Little's law on the engine's own counters (adapt_ctl.h). */
static void capacity(struct ig_actl *c, const struct ig_actl_in *in, double dt, int pressed)
{
	double w = clamp(dt, 0.1, 1.0);

	if (isnan(in->running))
		return;
	c->run_avg = isnan(c->run_avg) ? in->running : (1 - w) * c->run_avg + w * in->running;
	if (in->running > c->slots)
		c->slots = in->running; /* more at once than ever seen: it grew */
	else if (!isnan(in->queue) && in->queue >= 1 && in->running >= 1)
		/* full now, with fewer running: a KV cache that holds fewer
		 * (longer prompts); followed, not jumped to, as one reading
		 * may fall between a finish and the next start */
		c->slots += w * (in->running - c->slots);
	/* only under load (demand pressing, half the slots busy) and once
	 * the engine was seen full (its slots known): as an engine drains,
	 * its running count falls at once and the smoothed completion rate
	 * a second later, and their ratio overstates it (adaptive.sh read
	 * 13.9/s of an 11.8/s engine after the load) */
	if (pressed && c->slots >= 1 && c->seen_full && c->run_avg >= c->slots / 2 &&
	    !isnan(c->done_rate) && c->done_rate > 0) {
		/* a few slots finish a handful of requests a second: one
		 * second's ratio swings by a third (step bench: 7 to 13/s on an
		 * engine of 11.8); capacity moves with the model and the
		 * prompts, over seconds, so it is averaged over CAP_SMOOTH_S */
		double cap = c->slots * c->done_rate / c->run_avg;
		double wc = clamp(dt / CAP_SMOOTH_S, 0.02, 0.5);

		c->capacity = isnan(c->capacity) ? cap : (1 - wc) * c->capacity + wc * cap;
	}
	if (!isnan(in->queue) && in->queue >= 1)
		c->seen_full = 1;
}

/* engine: feed-forward + PI on the queue, KV brake. Returns the rate wanted;
 * *dI is what this step adds to the integral (kept only if unclamped). */
static double engine_want(struct ig_actl *c, const struct ig_actl_in *in, double dt,
			  struct ig_actl_out *out, double *dI)
{
	double e, ff, want;

	if (!isnan(in->completed)) {
		if (!isnan(c->completed) && in->completed >= c->completed &&
		    in->seen_ms > c->completed_ms) {
			double r = (in->completed - c->completed) * 1000.0 /
				   (double)(in->seen_ms - c->completed_ms);

			/* a second's average: a few slots finish a handful of requests
			 * per interval, too few to steer by one interval's count */
			double w = clamp((double)(in->seen_ms - c->completed_ms) / 1000.0, 0.1, 1.0);

			c->done_rate = isnan(c->done_rate) ? r : (1 - w) * c->done_rate + w * r;
		}
		c->completed = in->completed; /* a smaller counter: the engine restarted */
		c->completed_ms = in->seen_ms;
	}
	if (isnan(in->queue))
		return c->rate;
	e = in->queue - c->cfg.queue_target;
	/* only while in control: an idle port's negative error would wind up */
	*dI = (e > 0 || out->pressed) ? e * dt : 0;
	ff = isnan(c->done_rate) ? c->rate : c->done_rate;
	/* the slots and capacity are followed whatever the mode uses them for
	 * (the headroom's ceiling; max_inflight = auto takes the slots) */
	capacity(c, in, dt, out->pressed);
	if (c->cfg.headroom > 0) {
		if (!isnan(c->capacity)) {
			/* the ceiling, less what waits above queue_target: a
			 * queue under it buys nothing (P only: an integral of
			 * errors that are never negative would only ratchet) */
			*dI = 0;
			want = (1.0 - c->cfg.headroom) * c->capacity - KP * (e > 0 ? e : 0);
			goto brake;
		}
		/* not yet seen full: the queue target's control, until the
		 * engine shows its slots (a probe upwards let the step's first
		 * burst through: p99 TTFT 9x) */
	}
	want = ff - KP * e - KI * (c->integral + *dI);
	if (e <= 0 && want < c->rate)
		want = c->rate; /* under target: the engine has room; nothing to cut */
brake:
	if (!isnan(in->kv) && in->kv > c->cfg.kv_ceiling) {
		double over = (in->kv - c->cfg.kv_ceiling) / (1.0 - c->cfg.kv_ceiling + 1e-9);
		double brake = c->rate * clamp(1.0 - 2.0 * over, 0.5, 1.0);

		out->braked = 1;
		if (want > brake)
			want = brake;
	}
	if (c->cfg.headroom > 0)
		snprintf(out->why, sizeof(out->why), "queue %.1f (target %.1f), kv %.2f, done %.1f/s, "
			 "running %.1f, capacity %.1f/s (%.1f slots)", in->queue,
			 c->cfg.queue_target, in->kv, c->done_rate, in->running, c->capacity,
			 c->slots);
	else
		snprintf(out->why, sizeof(out->why), "queue %.1f (target %.1f), kv %.2f, done %.1f/s, "
			 "running %.1f", in->queue, c->cfg.queue_target, in->kv, c->done_rate,
			 in->running);
	return want;
}

/* latency: Envoy's gradient of the minimum over the sampled TTFT. */
static double latency_want(struct ig_actl *c, const struct ig_actl_in *in, __u64 now,
			   struct ig_actl_out *out)
{
	double p, minv, g;

	if (now - c->epoch_ms >= IG_ACTL_EPOCH_MS) {
		c->min_ttft[1] = c->min_ttft[0];
		c->min_ttft[0] = 0;
		c->epoch_ms = now;
	}
	p = c->ttft_p90;
	if (p <= 0)
		return c->rate;
	if (!c->min_ttft[0] || p < c->min_ttft[0])
		c->min_ttft[0] = p;
	minv = c->min_ttft[0];
	if (c->min_ttft[1] && c->min_ttft[1] < minv)
		minv = c->min_ttft[1];
	g = clamp(minv * LAT_BUFFER / p, 0.5, 2.0);
	snprintf(out->why, sizeof(out->why), "ttft p90 %.1f ms, min %.1f ms, gradient %.2f", p,
		 minv, g);
	return c->rate * g + sqrt(c->rate);
}

void ig_actl_step(struct ig_actl *c, __u64 now, const struct ig_actl_in *in,
		  struct ig_actl_out *out)
{
	double dt = c->last_ms && now > c->last_ms ? (double)(now - c->last_ms) / 1000.0 : 0;
	__u64 age = in->seen_ms && now >= in->seen_ms ? now - in->seen_ms : ~0ULL;
	double want, lo, hi, dI = 0;
	int fresh = in->fresh;

	memset(out, 0, sizeof(*out));
	c->last_ms = now;
	if (age > IG_ACTL_STATIC_MS) {
		/* too old to steer by: the operator's rate, and a clean start */
		c->state = IG_AS_STATIC;
		c->rate = c->cfg.static_rate;
		c->integral = 0;
		c->done_rate = NAN;
		c->completed = NAN;
		c->run_avg = NAN;
		c->capacity = NAN;
		c->slots = 0;
		c->seen_full = 0;
		snprintf(out->why, sizeof(out->why), "%s", in->seen_ms ? "inputs older than 5 s" :
			 "no inputs yet");
		goto done;
	}
	if (age > IG_ACTL_FREEZE_MS) {
		c->state = IG_AS_FROZEN;
		snprintf(out->why, sizeof(out->why), "inputs older than 1 s");
		goto done;
	}
	c->state = IG_AS_TRACKING;
	if (c->cfg.mode == IG_AD_LATENCY) {
		__u64 n = 0;

		for (int k = 0; k < IG_TIME_BUCKETS; k++)
			n += in->ttft[k];
		fresh = fresh && n >= LAT_MIN_SAMPLES;
		if (fresh) {
			c->ttft_p50 = ig_time_quantile_ms(in->ttft, 0.5);
			c->ttft_p90 = ig_time_quantile_ms(in->ttft, LAT_QUANTILE);
			c->ttft_p99 = ig_time_quantile_ms(in->ttft, 0.99);
		}
	}
	if (!fresh || dt <= 0)
		goto done; /* nothing new: the rate holds */
	out->pressed = in->refused > 0 ||
		       (double)in->admitted >= PRESSED_SHARE * c->rate * dt;
	want = c->cfg.mode == IG_AD_LATENCY ? latency_want(c, in, now, out)
					    : engine_want(c, in, dt, out, &dI);
	lo = c->rate / 2;
	hi = c->rate + sqrt(c->rate);
	if (!out->pressed || out->braked)
		hi = c->rate;
	lo = clamp(lo, c->cfg.min_rate, c->cfg.max_rate);
	hi = clamp(hi, c->cfg.min_rate, c->cfg.max_rate);
	if (want >= lo && want <= hi) {
		c->integral = clamp(c->integral + dI, -10 * (c->cfg.queue_target + 1),
				    10 * (c->cfg.queue_target + 1));
		c->rate = want;
	} else {
		c->rate = want < lo ? lo : hi; /* at a bound: no wind-up */
	}
done:
	out->rate = c->rate;
	out->state = c->state;
}

__u64 ig_actl_share(__u64 port_rate, __u64 active, __u64 source_rate)
{
	__u64 share;

	if (active <= 1 || !port_rate)
		return source_rate;
	share = port_rate / active + (port_rate % active != 0);
	return share < 1 ? 1 : share < source_rate ? share : source_rate;
}

int ig_actl_share_due(__u64 share, __u64 written, __u64 source_rate)
{
	if (share == written)
		return 0;
	if (!written || share == source_rate)
		return 1;
	return fabs((double)share - (double)written) > 0.1 * (double)written;
}
