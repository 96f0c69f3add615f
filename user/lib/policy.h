/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Writing policies into the pinned maps: per-port limits and the reject budget. */
#ifndef IG_POLICY_H
#define IG_POLICY_H

#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"
#include "lib/port.h" /* ig_policy_set: a policy alone, over ig_port_apply */

/* All IG_POLICY_ENTRIES policies, read in one go (caller frees). */
int ig_policy_read_all(const struct ig_instance *in, struct ig_policy **out);

/* A limited port as status and metrics show it. */
struct ig_port_row {
	__u16 port;
	enum ig_proto proto;
	struct ig_policy pol;
	struct ig_stats st;  /* its slot's counters, summed over CPUs */
	struct ig_limits lim;        /* its fair-share levels */
	struct ig_level_stats ls;    /* refusals by level, summed over CPUs */
	struct ig_token_rules tr;    /* replies and tokens by counting rule, summed over CPUs */
	struct ig_timing tm;         /* response times (timed ports), summed over CPUs */
	struct ig_adaptive ad;       /* adaptive admission's decision (mode off: none) */
	struct ig_key_policy kp;     /* api-key ports: the anonymous policy */
	struct ig_inflight_cfg cap;  /* requests in flight: the cap (max 0: none) */
	__u32 inflight;              /* and how many are, now */
	__u64 sources;       /* tracked sources: left 0, for the caller to fill */
	/* clients with a token budget entry, and those of them in debt (new
	 * connections refused): left 0, filled by ig_tokens_count() */
	__u64 token_clients, token_debtors;
};

/* Every limited port, in (proto, port) order, with its counters (caller frees). */
int ig_ports_read(const struct ig_instance *in, struct ig_port_row **rows, int *n);

/* The policy of (proto, port) as pinned (slot 0: not limited). */
int ig_policy_get(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  struct ig_policy *pol);

/* Write the policy of (proto, port) as given, slot and flags included: the
 * raw map write under ig_port_apply() (lib/port.h), which is what limits a
 * port. */
int ig_policy_put(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_policy *pol);
/* The lowest slot no policy holds; -ENOSPC when all are taken (silent). */
int ig_policy_free_slot(const struct ig_instance *in, __u32 *slot);
/* 1 if the port was limited and now is not, 0 if it was not limited. Its
 * levels go with it (the slot is left clean). */
int ig_policy_clear(const struct ig_instance *in, enum ig_proto proto, __u16 port);

/*
 * Rewrite the TAT of every source of (proto, port) so that each keeps its
 * share of its burst when the policy goes from `from` to `to`
 * (ig_gcra_rescale). Returns the number of sources rescaled (0 when rate,
 * burst and unit are the same), or -errno. Each way's TAT is swapped in place
 * (compare-and-swap on the memory-mapped table, as the data path charges it),
 * so no charge made meanwhile is lost and no other way is written. What is
 * left: a packet charged between the rescale and the policy write is judged
 * by the old policy against the new TAT, for the microseconds in between.
 */
int ig_sources_rescale(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		       const struct ig_policy *from, const struct ig_policy *to);
struct ig_limit_of;
/* The port-wide word and the port's prefix ways under another algorithm
 * (lib/algo.h: ig_limit_rescale). 0, or -errno. */
int ig_levels_rescale(const struct ig_instance *in, __u32 slot, enum ig_proto proto, __u16 port,
		      const struct ig_limit_of *from_port, const struct ig_limit_of *to_port,
		      const struct ig_limit_of *from_prefix, const struct ig_limit_of *to_prefix);
/* The clock the instance recorded when it was made (map seed, key 1). */
int ig_instance_clock(const struct ig_instance *in, __u32 *clock, __u64 *tick_ns);
/* The data path's clock now (ns), as the instance's programs read it. */
int ig_datapath_now(const struct ig_instance *in, __u64 *now);

int ig_globals_set(const struct ig_instance *in, const struct ig_globals *g);
int ig_globals_get(const struct ig_instance *in, struct ig_globals *g);

#endif
