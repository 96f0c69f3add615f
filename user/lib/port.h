/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A port's whole limit in one call: its policy (`port_policy`, which holds
 * its slot), its fair-share levels (`port_limits[slot]`) and the policy flags
 * that switch those levels on. The data path reads the flags first and the
 * levels only when a flag says so, so the three are written in an order
 * where it never sees a level switched on without its flag, nor a new port
 * whose slot still holds a former port's levels or counters.
 */
#ifndef IG_PORT_H
#define IG_PORT_H

#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"

struct ig_port_limit {
	/* rate, burst, unit, action and the flags IG_POL_F_DRY_RUN,
	 * IG_POL_F_FLEET and the token count rule (IG_POL_COUNT_MASK); the slot
	 * and the level flags (HIER, CONNS, TOKENS) are ig_port_apply's to set */
	struct ig_policy policy;
	struct ig_limits levels; /* all 0: no levels */
	/* api-key ports: how requests without a known key are charged
	 * (`key_policy[slot]`); all 0 elsewhere. The key mode itself is in the
	 * policy's flags (IG_POL_KEY_MASK, IG_POL_F_ANY_KEY). */
	struct ig_key_policy keys;
	/* requests in flight (`inflight_cfg[slot]`; max 0: no cap). A cap is
	 * only for a `request` port on TCP: ig_port_apply() sets
	 * IG_POL_F_INFLIGHT with it and refuses it elsewhere (-EINVAL). */
	struct ig_inflight_cfg inflight;
	/* an already limited port whose rate, burst or unit changes keeps every
	 * source's share of its burst (ig_sources_rescale), never a refill; 0:
	 * the sources' state is kept as it is (the CLI's `limit`) */
	int rescale;
};

/*
 * Limit (proto, port) to `want`, whole or not at all: on an error every map
 * is as it was (a rescale is undone, at the cost of the rounding of two
 * rescales). A port already limited keeps its slot, its counters and its
 * port-wide buckets; a new one gets a free slot, cleaned. Returns the number
 * of sources rescaled (>= 0), or -errno, logged.
 */
int ig_port_apply(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_port_limit *want);

/* Rewrite every limited port's level flags after the tiers changed (the
 * tier calls of lib/tiers.h do it themselves). */
int ig_flags_refresh(const struct ig_instance *in);

/*
 * The CLI's older calls, kept until it calls ig_port_apply (thin wrappers):
 * ig_policy_set changes the policy and keeps the port's levels and key
 * policy; ig_levels_set changes the levels of a limited port (-ENOENT if it
 * is not) and keeps its policy and key policy.
 */
int ig_policy_set(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_policy *want);
int ig_levels_set(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_limits *lim);

#endif
