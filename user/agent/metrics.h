/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus metrics of the agent: text exposition format on GET /metrics,
 * served by libmicrohttpd from its own thread. Counters of the data path are
 * read from the pinned maps at scrape time; what only the agent knows
 * (breaker transitions, probe results) is kept here, behind a lock.
 */
#ifndef IG_METRICS_H
#define IG_METRICS_H

#include <stdio.h>
#include <linux/types.h>
#include "lib/instance.h"
#include "agent/fsm.h"

#define IG_DEFAULT_METRICS_ADDR "127.0.0.1:9464"

struct ig_metrics;

/* Listen on `addr` ("127.0.0.1:9464", "[::1]:9464"); -errno (logged) if it
 * cannot. The instance must outlive the server. */
int ig_metrics_start(struct ig_metrics **out, const char *addr, const struct ig_instance *in);
void ig_metrics_stop(struct ig_metrics *m);
struct ig_top;
/* Serve `top` (GET /top, /top.json, ?n=N) from this table too. */
void ig_metrics_set_top(struct ig_metrics *m, struct ig_top *top);
/* What only the agent sees; m may be NULL (metrics off). A watched port shows
 * its transitions and probes even while they are all 0. */
void ig_metrics_watch(struct ig_metrics *m, __u16 port);
void ig_metrics_transition(struct ig_metrics *m, __u16 port, enum ig_fsm_cause cause);
void ig_metrics_probe(struct ig_metrics *m, __u16 port, int success);
/* The fleet sync's counters, as of the agent's last tick. */
struct ig_fleet_stats;
void ig_metrics_fleet(struct ig_metrics *m, const struct ig_fleet_stats *st);
/* The whole exposition, as a scrape gets it (also for tests and `status`). */
int ig_metrics_render(struct ig_metrics *m, FILE *out);
/* "HOST:PORT" with an IPv4 or [IPv6] literal: 0 or -EINVAL. */
int ig_metrics_parse_addr(const char *addr, void *sockaddr_storage, unsigned int *len);

#endif
