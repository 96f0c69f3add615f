/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IG_STATUS_H
#define IG_STATUS_H

#include <stdio.h>
#include <linux/types.h>
#include "lib/instance.h"

/* Print the instance: attachments, reject budget, ports with their policies,
 * counters and tracked sources. */
int ig_status(const char *pin_dir, int json, FILE *out);

/* Tracked sources: per IG_PORT_INDEX (an IG_POLICY_ENTRIES array, or NULL)
 * and in all. Reads the whole table, in batches. */
int ig_sources_count(const struct ig_instance *in, __u64 *per_index, __u64 *total);

#endif
