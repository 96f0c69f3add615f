/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading the instance's state for status and metrics (the printing is the
 * command line's, cli/status.c). */
#ifndef IG_STATUS_H
#define IG_STATUS_H

#include <linux/types.h>
#include "lib/instance.h"

/* Tracked sources: per IG_PORT_INDEX (an IG_POLICY_ENTRIES array, or NULL)
 * and in all. Reads the whole table, in batches. */
int ig_sources_count(const struct ig_instance *in, __u64 *per_index, __u64 *total);

#endif
