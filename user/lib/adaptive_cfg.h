/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Adaptive admission's keys of a [port N] section (issue 15): `adaptive`,
 * `engine_metrics`, `adaptive_interval`, `queue_target`, `kv_ceiling`,
 * `adaptive_min`, `adaptive_max`. Parsed here, not in config.c, so that the
 * keys, their defaults and their checks sit in one place; the controller
 * that uses them is agent/adapt_ctl.h.
 */
#ifndef IG_ADAPTIVE_CFG_H
#define IG_ADAPTIVE_CFG_H

#include <linux/types.h>
#include "ig_abi.h"

#define IG_AD_DEFAULT_INTERVAL_MS 250
#define IG_AD_DEFAULT_QUEUE_MILLI 5000 /* the endpoint picker's saturation queue */
#define IG_AD_DEFAULT_KV_MILLI 800     /* ... and KV-cache use */
#define IG_AD_DEFAULT_MIN 1            /* units/s: never shut the port */
#define IG_AD_DEFAULT_MAX_FACTOR 4     /* adaptive_max: 4 x the static port_rate */

struct ig_adaptive_cfg {
	enum ig_adaptive_mode mode;  /* IG_AD_OFF: none of the rest is used */
	char engine_metrics[256];    /* http://HOST:PORT/metrics (engine) */
	__u64 interval_ms;
	__u32 queue_target_milli;    /* waiting requests x1000 */
	__u32 kv_ceiling_milli;      /* KV-cache use x1000 */
	__u32 headroom_milli;        /* capacity left unused x1000 (0: no ceiling) */
	__u64 min_rate, max_rate;    /* units/s; 0 until ig_adaptive_cfg_finish */
};

void ig_adaptive_cfg_init(struct ig_adaptive_cfg *c);
/* 0 (set), -ENOENT (not an adaptive key) or -EINVAL (said with ig_err). */
int ig_adaptive_cfg_parse(struct ig_adaptive_cfg *c, const char *key, const char *value);
/*
 * What only the whole section can tell: adaptive needs a limit whose unit is
 * request or conn and a static port_rate (the fallback); engine needs
 * engine_metrics; the bounds default around port_rate and must hold it.
 * 0, or -EINVAL said with ig_err. Keys other than `adaptive` without it are
 * an error too (a typo would otherwise leave the port static unseen).
 */
int ig_adaptive_cfg_finish(struct ig_adaptive_cfg *c, int any_key, int has_limit,
			   enum ig_unit unit, int timed, __u64 port_rate, __u64 source_rate);

const char *ig_adaptive_mode_name(enum ig_adaptive_mode m);
const char *ig_adaptive_state_name(enum ig_adaptive_state s);

#endif
