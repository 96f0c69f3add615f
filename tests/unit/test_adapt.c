// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Adaptive admission's controller (agent/adapt_ctl.c) and the engine metrics
 * reader (agent/promtext.c), driven by hand-made time and text. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "agent/adapt_ctl.h"
#include "agent/promtext.h"
#include "harness.h"

static const struct ig_actl_cfg ecfg = {
	.mode = IG_AD_ENGINE, .queue_target = 5, .kv_ceiling = 0.8,
	.min_rate = 1, .max_rate = 400, .static_rate = 100,
};

static struct ig_actl c;
static struct ig_actl_out out;

/* An engine reading at `now`: queue, kv, completed; the port admitted at the
 * rate in force (demand presses) or not. */
static void feed(__u64 now, double queue, double kv, double completed, int pressed)
{
	struct ig_actl_in in = { .fresh = 1, .seen_ms = now, .queue = queue, .running = 4,
				 .kv = kv, .completed = completed };

	in.admitted = pressed ? (__u64)(c.rate * 0.25 + 1) : 0;
	in.refused = pressed ? 3 : 0;
	ig_actl_step(&c, now, &in, &out);
}

IG_TEST(adapt_starts_static_and_tracks_once_inputs_arrive)
{
	struct ig_actl_in none = { 0 };

	ig_actl_init(&c, &ecfg, 1000);
	ig_actl_step(&c, 1000, &none, &out);
	ASSERT_EQ(out.state, IG_AS_STATIC, "no inputs yet: static");
	ASSERT_EQ((int)out.rate, 100, "the static rate");
	feed(1250, 5, 0.3, 0, 1);
	ASSERT_EQ(out.state, IG_AS_TRACKING, "tracking");
}

IG_TEST(adapt_overload_step_converges_to_the_completion_rate)
{
	double done = 0;
	__u64 t = 1000;

	ig_actl_init(&c, &ecfg, t);
	/* an engine that completes 40/s, with a queue far over target */
	for (int i = 0; i < 8; i++, t += 250) {
		feed(t, 60, 0.5, done, 1);
		done += 10;
	}
	ASSERT_LT(out.rate, 60, "cut towards capacity within 2 s");
	ASSERT_GE(out.rate, 1, "never below min");
	/* the queue back at target: the rate settles near 40/s */
	for (int i = 0; i < 40; i++, t += 250) {
		feed(t, 5, 0.5, done, 1);
		done += 10;
	}
	ASSERT_GT(out.rate, 30, "near the completion rate from below");
	ASSERT_LT(out.rate, 52, "near the completion rate from above");
}

/* A fluid engine of `slots` slots, each request running `svc` seconds,
 * offered `offered`/s, admitted at the controller's rate: t steps of 250 ms.
 * Returns the queue at the end; *done_s the completions of the last 5 s. */
struct fluid {
	double q, r, completed, slots, svc;
};

static double fluid_run(struct fluid *e, __u64 *t, int steps, double offered, double *done_s)
{
	double first = 0;

	for (int i = 0; i < steps; i++, *t += 250) {
		double adm = (offered < c.rate ? offered : c.rate) * 0.25;
		struct ig_actl_in in = { .fresh = 1, .seen_ms = *t, .kv = 0.3 };

		/* in 10 ms steps: running is then its average at a sample */
		for (int k = 0; k < 25; k++) {
			double go, fin;

			e->q += adm / 25;
			fin = e->r * 0.01 / e->svc;
			e->r -= fin;
			e->completed += fin;
			go = e->slots - e->r < e->q ? e->slots - e->r : e->q;
			e->r += go;
			e->q -= go;
		}
		if (i == steps - 20)
			first = e->completed;
		in.queue = floor(e->q);
		in.running = e->r; /* a real count averages to it */
		in.completed = floor(e->completed);
		in.admitted = (__u64)adm;
		in.refused = offered > c.rate ? 3 : 0;
		ig_actl_step(&c, *t, &in, &out);
	}
	*done_s = (e->completed - first) / 5.0;
	return e->q;
}

IG_TEST(adapt_headroom_holds_the_engine_just_under_its_capacity)
{
	struct ig_actl_cfg cfg = ecfg;
	struct fluid e = { .slots = 8, .svc = 0.5 }; /* 16/s */
	double done, q;
	__u64 t = 1000;

	cfg.headroom = 0.1;
	cfg.static_rate = 30; /* twice capacity: the step fills the engine */
	ig_actl_init(&c, &cfg, t);
	q = fluid_run(&e, &t, 160, 48, &done); /* 40 s at 3x */
	ASSERT_TRUE(!isnan(c.capacity), "capacity known once the engine was full");
	ASSERT_GT(100 * (c.capacity), 100 * (14.4), "capacity: 8 slots / 0.5 s");
	ASSERT_LT(100 * (c.capacity), 100 * (17.6), "capacity: 8 slots / 0.5 s");
	ASSERT_GT(100 * (out.rate), 100 * (0.9 * 16 * 0.93), "rate at 90 % of capacity");
	ASSERT_LT(100 * (out.rate), 100 * (0.9 * 16 * 1.07), "rate at 90 % of capacity");
	ASSERT_LT(100 * (q), 100 * (1.0), "queue drained and kept empty");
	ASSERT_GT(100 * (done), 100 * (0.85 * 16), "goodput near the ceiling");
	/* the model slows to half: the ceiling follows within seconds */
	e.svc = 1.0;
	q = fluid_run(&e, &t, 80, 48, &done);
	ASSERT_GT(100 * (c.capacity), 100 * (7.0), "capacity halved");
	ASSERT_LT(100 * (c.capacity), 100 * (9.5), "capacity halved");
	ASSERT_LT(100 * (out.rate), 100 * (0.9 * 8 * 1.15), "rate followed it down");
	ASSERT_LT(100 * (q), 100 * (2.0), "queue back to empty");
	/* without headroom the same engine is held at queue_target instead */
	cfg.headroom = 0;
	e = (struct fluid){ .slots = 8, .svc = 0.5 };
	ig_actl_init(&c, &cfg, t);
	q = fluid_run(&e, &t, 160, 48, &done);
	ASSERT_GT(100 * (q), 100 * (2.0), "queue_target alone keeps a queue");
	/* the slots are followed all the same (max_inflight = auto takes them) */
	ASSERT_GT(100 * (c.slots), 100 * (7.5), "the engine's 8 slots seen");
	ASSERT_LT(100 * (c.slots), 100 * (8.5), "the engine's 8 slots seen");
}

IG_TEST(adapt_steps_are_bounded_half_down_sqrt_up)
{
	double before;

	ig_actl_init(&c, &ecfg, 0);
	feed(250, 5, 0.3, 0, 1);
	before = c.rate;
	feed(500, 10000, 0.3, 0, 1); /* a huge queue: wants 0 */
	ASSERT_TRUE(out.rate >= before / 2 - 1e-9, "no lower than half");
	ASSERT_TRUE(out.rate <= before / 2 + 1e-9, "and down to half");
	before = c.rate;
	feed(750, 0, 0.3, 100000, 1); /* a huge completion rate: wants a lot */
	ASSERT_TRUE(out.rate <= before + sqrt(before) + 1e-9, "up by no more than sqrt(rate)");
	ASSERT_TRUE(out.rate > before, "but up");
}

IG_TEST(adapt_no_raise_without_demand)
{
	ig_actl_init(&c, &ecfg, 0);
	feed(250, 0, 0.3, 0, 0);
	feed(500, 0, 0.3, 1000, 0); /* room and a high completion rate, no demand */
	ASSERT_EQ((int)out.rate, 100, "held");
	ASSERT_FALSE(out.pressed, "not pressed");
	feed(750, 0, 0.3, 2000, 1);
	ASSERT_GT(out.rate, 100, "raised once demand presses");
}

IG_TEST(adapt_kv_brake_cuts_and_forbids_raises)
{
	ig_actl_init(&c, &ecfg, 0);
	feed(250, 0, 0.3, 0, 1);
	feed(500, 0, 0.95, 1000, 1); /* room in the queue, but the cache is full */
	ASSERT_TRUE(out.braked, "braked");
	ASSERT_LT(out.rate, 100, "cut");
	ASSERT_GE(out.rate, 50, "by at most half");
	feed(750, 0, 0.81, 2000, 1);
	ASSERT_LT(out.rate, 100, "just above the ceiling: no raise");
}

IG_TEST(adapt_stale_inputs_freeze_then_fall_back)
{
	struct ig_actl_in in = { .fresh = 0, .seen_ms = 1000, .queue = NAN, .kv = NAN,
				 .completed = NAN };
	double frozen;

	ig_actl_init(&c, &ecfg, 0);
	feed(1000, 60, 0.5, 0, 1);
	feed(1250, 60, 0.5, 10, 1);
	frozen = c.rate;
	ASSERT_LT(frozen, 100, "moved");
	ig_actl_step(&c, 1900, &in, &out);
	ASSERT_EQ(out.state, IG_AS_TRACKING, "0.65 s old: still tracking");
	ig_actl_step(&c, 2300, &in, &out);
	ASSERT_EQ(out.state, IG_AS_FROZEN, "1.05 s old: frozen");
	ASSERT_TRUE(out.rate == frozen, "held");
	ig_actl_step(&c, 6000, &in, &out);
	ASSERT_EQ(out.state, IG_AS_FROZEN, "5 s old: still frozen");
	ig_actl_step(&c, 6100, &in, &out);
	ASSERT_EQ(out.state, IG_AS_STATIC, "5.1 s old: static");
	ASSERT_EQ((int)out.rate, 100, "the static rate back");
	feed(6350, 5, 0.5, 20, 1);
	ASSERT_EQ(out.state, IG_AS_TRACKING, "fresh again: tracking");
}

IG_TEST(adapt_bounds_min_max)
{
	struct ig_actl_cfg b = ecfg;
	__u64 t = 0;

	b.min_rate = 30;
	b.max_rate = 120;
	ig_actl_init(&c, &b, 0);
	for (int i = 0; i < 30; i++, t += 250)
		feed(t + 250, 10000, 0.3, 0, 1);
	ASSERT_EQ((int)out.rate, 30, "floored at adaptive_min");
	for (int i = 0; i < 200; i++, t += 250)
		feed(t + 250, 0, 0.3, (double)i * 1000, 1);
	ASSERT_EQ((int)out.rate, 120, "capped at adaptive_max");
}

IG_TEST(adapt_latency_gradient_cuts_on_slow_and_grows_on_fast)
{
	struct ig_actl_cfg l = ecfg;
	struct ig_actl_in in = { .fresh = 1, .queue = NAN, .kv = NAN, .completed = NAN };

	l.mode = IG_AD_LATENCY;
	ig_actl_init(&c, &l, 0);
	in.seen_ms = 250;
	in.ttft[5] = 100; /* 16..32 ms */
	in.admitted = 30;
	ig_actl_step(&c, 250, &in, &out);
	in.seen_ms = 500;
	ig_actl_step(&c, 500, &in, &out);
	ASSERT_GT(out.rate, 100, "at the minimum: grows");
	memset(in.ttft, 0, sizeof(in.ttft));
	in.ttft[9] = 100; /* 256..512 ms: ten times the minimum */
	in.seen_ms = 750;
	{
		double before = c.rate;

		ig_actl_step(&c, 750, &in, &out);
		ASSERT_LT(out.rate, before * 0.7, "slow: cut");
		ASSERT_TRUE(out.rate >= before / 2, "by at most half");
	}
	ASSERT_GT(c.ttft_p99, c.ttft_p50, "p99 over p50");
	memset(in.ttft, 0, sizeof(in.ttft));
	in.ttft[9] = 2; /* too few samples: held */
	in.seen_ms = 1000;
	{
		double before = c.rate;

		ig_actl_step(&c, 1000, &in, &out);
		ASSERT_TRUE(out.rate == before, "two samples say nothing");
	}
}

IG_TEST(adapt_share_splits_the_port_rate_among_active_sources)
{
	ASSERT_EQ(ig_actl_share(12, 0, 12), 12, "nobody active: the configured rate");
	ASSERT_EQ(ig_actl_share(12, 1, 12), 12, "one source: the configured rate");
	ASSERT_EQ(ig_actl_share(12, 2, 12), 6, "two: half each");
	ASSERT_EQ(ig_actl_share(13, 2, 12), 7, "rounded up: the shares cover the port");
	ASSERT_EQ(ig_actl_share(100, 2, 12), 12, "never above the configured rate");
	ASSERT_EQ(ig_actl_share(10, 1000, 12), 1, "never below 1/s");
	ASSERT_FALSE(ig_actl_share_due(6, 6, 12), "unchanged");
	ASSERT_TRUE(ig_actl_share_due(6, 0, 12), "first write");
	ASSERT_FALSE(ig_actl_share_due(100, 105, 200), "a 5 % move is not worth a write");
	ASSERT_TRUE(ig_actl_share_due(100, 120, 200), "a 17 % one is");
	ASSERT_TRUE(ig_actl_share_due(12, 11, 12), "back to the configured rate: always");
}

/* ---------------------------------------------------------------- metrics text */

static struct ig_engine_sample s;

static int parse(const char *t)
{
	return ig_prom_parse(t, strlen(t), &s);
}

IG_TEST(prom_vllm_sums_label_sets_and_takes_the_fullest_cache)
{
	ASSERT_OK(parse("# HELP vllm:num_requests_waiting Number of requests waiting.\n"
			"# TYPE vllm:num_requests_waiting gauge\n"
			"vllm:num_requests_waiting{model_name=\"a\"} 3.0\n"
			"vllm:num_requests_waiting{model_name=\"b\",x=\"}{ \\\"q\"} 4\n"
			"vllm:num_requests_running{model_name=\"a\"} 8.0\n"
			"vllm:kv_cache_usage_perc{model_name=\"a\"} 0.25\n"
			"vllm:kv_cache_usage_perc{model_name=\"b\"} 0.75\r\n"
			"vllm:request_success_total{finished_reason=\"stop\",model_name=\"a\"} 100\n"
			"vllm:request_success_total{finished_reason=\"length\",model_name=\"a\"} 23 1700000000000\n"
			"vllm:time_to_first_token_seconds_bucket{le=\"0.1\"} 5\n"),
		  "parsed");
	ASSERT_EQ(s.kind, IG_ENGINE_VLLM, "vllm");
	ASSERT_TRUE(s.queue == 7, "queues summed, a brace inside a quoted label");
	ASSERT_TRUE(s.running == 8, "running");
	ASSERT_TRUE(s.kv == 0.75, "the fullest cache");
	ASSERT_TRUE(s.completed == 123, "finished reasons summed, timestamp ignored");
}

IG_TEST(prom_older_vllm_tgi_triton)
{
	ASSERT_OK(parse("vllm:gpu_cache_usage_perc 0.5\nvllm:num_requests_waiting 1\n"), "old vllm");
	ASSERT_TRUE(s.kv == 0.5, "gpu_cache_usage_perc");
	ASSERT_TRUE(isnan(s.completed), "no counter: NAN");
	ASSERT_OK(parse("tgi_queue_size 12\ntgi_batch_current_size 32\n"), "tgi");
	ASSERT_EQ(s.kind, IG_ENGINE_TGI, "tgi");
	ASSERT_TRUE(s.queue == 12 && s.running == 32, "tgi numbers");
	ASSERT_TRUE(isnan(s.kv), "no kv");
	ASSERT_OK(parse("nv_inference_pending_request_count{model=\"m\",version=\"1\"} 2\n"
			"nv_inference_pending_request_count{model=\"n\",version=\"1\"} 5\n"), "triton");
	ASSERT_EQ(s.kind, IG_ENGINE_TRITON, "triton");
	ASSERT_TRUE(s.queue == 7, "triton models summed");
}

IG_TEST(prom_nan_comments_and_garbage)
{
	ASSERT_OK(parse("vllm:num_requests_waiting NaN\nvllm:num_requests_waiting{a=\"1\"} 2\n"
			"vllm:kv_cache_usage_perc +Inf\n  # a comment\n\n"
			"vllm:num_requests_running{unterminated=\"x 3\n"
			"vllm:num_requests_running 1e400\nvllm:num_requests_running abc\n"),
		  "parsed around the bad lines");
	ASSERT_TRUE(s.queue == 2, "NaN skipped");
	ASSERT_TRUE(isnan(s.kv), "Inf skipped");
	ASSERT_TRUE(isnan(s.running), "garbage skipped");
	ASSERT_EQ(parse("<html>502 Bad Gateway</html>\n"), -ENOENT, "not an engine");
	ASSERT_EQ(parse(""), -ENOENT, "empty");
	ASSERT_EQ(parse("vllm:num_requests_waitingX 3\nvllm:num_requests_waiting"), -ENOENT,
		  "a longer name, a name without value");
	ASSERT_OK(parse("vllm:kv_cache_usage_perc 80\n"), "percent");
	ASSERT_TRUE(fabs(s.kv - 0.8) < 1e-9, "percents read as a fraction");
}
