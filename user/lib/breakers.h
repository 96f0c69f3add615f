/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Circuit breakers in the pinned maps: the breaker entries (map `breakers`)
 * and their passive health counters (map `health`).
 * Writers touch only their own fields: the agent the state and the probe
 * budget, an operator the force and the fallback.
 */
#ifndef IG_USER_BREAKERS_H
#define IG_USER_BREAKERS_H

#include <stdio.h>
#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"
#include "lib/names.h" /* ig_brk_state_name, ig_brk_force_name */

int ig_breaker_get(const struct ig_instance *in, __u16 port, struct ig_breaker *b);
int ig_breaker_put(const struct ig_instance *in, __u16 port, const struct ig_breaker *b);
/* The agent's write: state and probe budget only; the operator's force and
 * fallback, read just before, are kept. */
int ig_breaker_set_state(const struct ig_instance *in, __u16 port, enum ig_brk_state state,
			 __s32 probes);
/* Every port with a breaker, ascending: fills ports[] (up to max), returns the count. */
int ig_breaker_list(const struct ig_instance *in, __u16 *ports, int max);
/* A port's health counters summed over CPUs (zero when it has none yet). */
int ig_health_read(const struct ig_instance *in, __u16 port, struct ig_health *sum);

/* Passive outcome of a port's counters: ok = 2xx..4xx status lines; failed =
 * 5xx status lines and RSTs from the primary. */
static inline __u64 ig_health_ok(const struct ig_health *h)
{
	return h->http[IG_HTTP_2XX] + h->http[IG_HTTP_3XX] + h->http[IG_HTTP_4XX];
}

static inline __u64 ig_health_failed(const struct ig_health *h)
{
	return h->http[IG_HTTP_5XX] + h->rst;
}

/* Every breaker with its health counters, as a table (JSON: the CLI's
 * ig_cli_breakers_json, through lib/json.c). */
int ig_breakers_print(const struct ig_instance *in, FILE *out);

#endif
