/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's view of who is being dropped: it drains the data path's sampled
 * drop events (map `events`), keeps the sources it saw per port, logs a
 * summary at most once per interval (bounded log volume whatever the flood),
 * and renders `infergate top`: per port, the sources with the most sampled
 * drops and the fewest tokens left in their bucket.
 */
#ifndef IG_TOP_H
#define IG_TOP_H

#include <stdio.h>
#include <linux/types.h>
#include "lib/instance.h"

struct ig_top;

#define IG_TOP_LOG_INTERVAL_MS 10000

int ig_top_open(struct ig_top **out, const struct ig_instance *in);
void ig_top_close(struct ig_top *t);
/* Drain the ring buffer (non-blocking); returns events read or -errno. */
int ig_top_poll(struct ig_top *t);
/* Log what was sampled since the last summary, if anything and if the
 * interval has passed. */
void ig_top_log(struct ig_top *t, __u64 now_ms);
/* Per port, up to n sources: a table, or JSON. Thread-safe. */
int ig_top_render(struct ig_top *t, int n, int json, FILE *out);

#endif
