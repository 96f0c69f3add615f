/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Response times of timed ports (issue 15): maps `timing` and `timing_cfg`. */
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

/* Responses counted in a histogram (the sum of its buckets). */
__u64 ig_timing_count(const __u64 *buckets);

#endif
