/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Issue 15's maps: response times of timed ports (`timing`, `timing_cfg`)
 * and adaptive admission's decisions (`adaptive`). */
#ifndef IG_LIB_TIMING_H
#define IG_LIB_TIMING_H

#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"

/* A slot's histograms, summed over CPUs. */
int ig_timing_read(const struct ig_instance *in, __u32 slot, struct ig_timing *sum);
/* Zero them (a recycled slot). */
int ig_timing_clear(const struct ig_instance *in, __u32 slot);
/* What a slow call is on a slot's port (0: none counted). */
int ig_timing_set_slow(const struct ig_instance *in, __u32 slot, __u64 slow_ns);

/* A slot's adaptive decision (all 0: none, the port is static). */
int ig_adaptive_get(const struct ig_instance *in, __u32 slot, struct ig_adaptive *ad);
int ig_adaptive_put(const struct ig_instance *in, __u32 slot, const struct ig_adaptive *ad);

/* Responses counted in a histogram (the sum of its buckets). */
__u64 ig_timing_count(const __u64 *buckets);

#endif
