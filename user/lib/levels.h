/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A port's fair-share levels in the pinned maps: `port_limits`, `port_state`
 * and `level_stats`, all indexed by the port's slot, and the policy flags that
 * switch them on. See bpf/fairshare.h for what the data path does with them.
 * To change a port's levels use ig_port_apply() (lib/port.h): it writes the
 * policy, the levels and the flags in the order the data path needs.
 */
#ifndef IG_LEVELS_H
#define IG_LEVELS_H

#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"
#include "lib/names.h"  /* ig_level_name, ig_tier_kind_name */
/* What levels.h declared before the split (the CLI and status include only
 * this header for them): tiers, token charges, CIDRs, ig_levels_set and
 * ig_flags_refresh. */
#include "lib/tiers.h"
#include "lib/tokens.h"
#include "lib/cidr.h"
#include "lib/port.h"

/*
 * The levels as key = value, shared by the CLI (--prefix-rate ... with '-'
 * for '_') and the config file: prefix_rate, prefix_burst, prefix_len
 * (V4[,V6]), port_rate, port_burst, newcomer_rate, newcomer_burst, max_conns,
 * tokens_per_minute, bytes_per_token. Returns 0 (set), -ENOENT (not a level
 * key) or -EINVAL (bad value, said with ig_err). `given` collects the bursts
 * given, for ig_levels_finish().
 */
int ig_levels_parse(struct ig_limits *lim, unsigned int *given, const char *key, const char *value);
/* Bits of `given` that lib/algo.c reads: bursts an algorithm has no use for. */
#define IG_LEVEL_G_PREFIX_BURST 1U
#define IG_LEVEL_G_PORT_BURST 2U
/* Bursts default to their rates; 0, or -EINVAL when a burst has no rate. */
int ig_levels_finish(struct ig_limits *lim, unsigned int given);

/* Whether any level of `lim` is on. */
int ig_limits_any(const struct ig_limits *lim);

/* The levels of a slot (slot 0 or out of range: none). */
int ig_levels_get(const struct ig_instance *in, __u32 slot, struct ig_limits *lim);
/* Write a slot's levels, nothing else (the flags are ig_port_apply's). */
int ig_levels_put(const struct ig_instance *in, __u32 slot, const struct ig_limits *lim);
/* A slot handed to a new port starts without levels, state or counters. */
int ig_levels_clear_slot(const struct ig_instance *in, __u32 slot);
/* Refusals by level, summed over CPUs. */
int ig_level_stats_read(const struct ig_instance *in, __u32 slot, struct ig_level_stats *sum);

/* The flags a policy needs for its levels and the tiers: IG_POL_F_HIER when
 * any level is on, the port is a fleet port, its client is not the source
 * address (--key) or tiers exist; CONNS, TOKENS. */
__u32 ig_policy_flags(__u32 flags, const struct ig_limits *lim, int tiers);

#endif
