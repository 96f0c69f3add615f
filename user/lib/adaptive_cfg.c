// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Adaptive admission's config keys: see adaptive_cfg.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/adaptive_cfg.h"
#include "lib/args.h"

void ig_adaptive_cfg_init(struct ig_adaptive_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->interval_ms = IG_AD_DEFAULT_INTERVAL_MS;
	c->queue_target_milli = IG_AD_DEFAULT_QUEUE_MILLI;
	c->kv_ceiling_milli = IG_AD_DEFAULT_KV_MILLI;
}

/* A decimal in [lo, hi], x1000 (queue_target = 2.5, kv_ceiling = 0.8). */
static int parse_milli(const char *s, const char *what, double lo, double hi, __u32 *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !isfinite(v) || v < lo || v > hi) {
		ig_args_error("invalid %s '%s': expected a number from %g to %g", what, s, lo, hi);
		return -EINVAL;
	}
	*out = (__u32)(v * 1000.0 + 0.5);
	return 0;
}

int ig_adaptive_cfg_parse(struct ig_adaptive_cfg *c, const char *key, const char *value)
{
	if (!strcmp(key, "adaptive")) {
		if (!strcmp(value, "off"))
			c->mode = IG_AD_OFF;
		else if (!strcmp(value, "engine"))
			c->mode = IG_AD_ENGINE;
		else if (!strcmp(value, "latency"))
			c->mode = IG_AD_LATENCY;
		else {
			ig_args_error("invalid adaptive '%s': expected off, engine or latency", value);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "engine_metrics")) {
		/* libcurl reads it; https would need certificates the agent has not */
		if (strncmp(value, "http://", 7) || !value[7] ||
		    strlen(value) >= sizeof(c->engine_metrics)) {
			ig_args_error("invalid engine_metrics '%s': expected http://HOST:PORT/PATH "
				      "(at most %zu characters)", value, sizeof(c->engine_metrics) - 1);
			return -EINVAL;
		}
		snprintf(c->engine_metrics, sizeof(c->engine_metrics), "%s", value);
		return 0;
	}
	if (!strcmp(key, "adaptive_interval"))
		return ig_parse_duration(value, "adaptive_interval", 50, 10000, &c->interval_ms)
			       ? -EINVAL : 0;
	if (!strcmp(key, "queue_target"))
		return parse_milli(value, "queue_target", 0, 100000, &c->queue_target_milli);
	if (!strcmp(key, "kv_ceiling"))
		return parse_milli(value, "kv_ceiling", 0.05, 1, &c->kv_ceiling_milli);
	if (!strcmp(key, "adaptive_headroom"))
		return parse_milli(value, "adaptive_headroom", 0, 0.5, &c->headroom_milli);
	if (!strcmp(key, "adaptive_min"))
		return ig_parse_rate(value, &c->min_rate) ? -EINVAL : 0;
	if (!strcmp(key, "adaptive_max"))
		return ig_parse_rate(value, &c->max_rate) ? -EINVAL : 0;
	return -ENOENT;
}

int ig_adaptive_cfg_finish(struct ig_adaptive_cfg *c, int any_key, int has_limit,
			   enum ig_unit unit, int timed, __u64 port_rate, __u64 source_rate)
{
	if (c->mode == IG_AD_OFF) {
		if (any_key) {
			ig_args_error("engine_metrics, adaptive_interval, queue_target, kv_ceiling, "
				      "adaptive_headroom, adaptive_min and adaptive_max need adaptive = "
				      "engine or latency");
			return -EINVAL;
		}
		return 0;
	}
	/* the port level counts requests or connections: what an engine queues */
	if (!has_limit || (unit != IG_UNIT_REQUEST && unit != IG_UNIT_CONN)) {
		ig_args_error("adaptive needs a rate with unit = request (or conn)");
		return -EINVAL;
	}
	if (!port_rate) {
		ig_args_error("adaptive needs a static port_rate: the port rate it starts from and "
			      "falls back to when the inputs go stale");
		return -EINVAL;
	}
	/* the controller steers units per second (and the per-source share
	 * with them): a rate written per minute or day has no place in it */
	if (ig_rate_period(port_rate, 1) != 1 || ig_rate_period(source_rate, 1) != 1 ||
	    ig_rate_period(c->min_rate, 1) != 1 || ig_rate_period(c->max_rate, 1) != 1) {
		ig_args_error("adaptive steers rates per second: write rate, port_rate, "
			      "adaptive_min and adaptive_max as N/s");
		return -EINVAL;
	}
	if (c->mode == IG_AD_LATENCY && !timed) {
		ig_args_error("adaptive = latency needs the port's times to first token: unit = "
			      "request (or a token budget)");
		return -EINVAL;
	}
	/* the ceiling is a share of the capacity the engine's own counters
	 * show; the kernel's TTFT says nothing of how many requests fit */
	if (c->mode == IG_AD_LATENCY && c->headroom_milli) {
		ig_args_error("adaptive_headroom needs adaptive = engine: latency mode cannot "
			      "measure the engine's capacity");
		return -EINVAL;
	}
	if (c->mode == IG_AD_ENGINE && !c->engine_metrics[0]) {
		ig_args_error("adaptive = engine needs engine_metrics = http://HOST:PORT/metrics");
		return -EINVAL;
	}
	if (!c->min_rate)
		c->min_rate = IG_AD_DEFAULT_MIN < port_rate ? IG_AD_DEFAULT_MIN : port_rate;
	if (!c->max_rate)
		c->max_rate = port_rate * IG_AD_DEFAULT_MAX_FACTOR;
	if (c->min_rate > port_rate || c->max_rate < port_rate) {
		ig_args_error("adaptive_min %llu/s and adaptive_max %llu/s must hold port_rate %llu/s",
			      (unsigned long long)c->min_rate, (unsigned long long)c->max_rate,
			      (unsigned long long)port_rate);
		return -EINVAL;
	}
	return 0;
}

const char *ig_adaptive_mode_name(enum ig_adaptive_mode m)
{
	static const char *const n[] = { "off", "engine", "latency" };

	return (unsigned int)m < IG_AD_MODE_MAX ? n[m] : "?";
}

const char *ig_adaptive_state_name(enum ig_adaptive_state s)
{
	static const char *const n[] = { "tracking", "frozen", "static" };

	return (unsigned int)s < IG_AS_STATE_MAX ? n[s] : "?";
}
