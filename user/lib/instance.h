/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* An instance is one pin dir: the pinned maps (state) and links (attachments). */
#ifndef IG_INSTANCE_H
#define IG_INSTANCE_H

#include <stddef.h>
#include <linux/types.h>
#include "ig_abi.h"

/* The maps of the data path, in pin-name order; see bpf/maps.h. */
enum ig_map_id {
	IG_MAP_PORT_POLICY = 0,
	IG_MAP_SOURCES,
	IG_MAP_PORT_STATS,
	IG_MAP_GLOBALS,
	IG_MAP_REJECT_STATE,
	IG_MAP_SEED,
	IG_MAP_BREAKERS,
	IG_MAP_FLOWS,
	IG_MAP_HEALTH,
	IG_MAP_FALLBACK_PORTS,
	IG_MAP_EVENTS,
	IG_MAP_PORT_LIMITS,
	IG_MAP_PORT_STATE,
	IG_MAP_LEVEL_STATS,
	IG_MAP_PREFIXES,
	IG_MAP_TIERS,
	IG_MAP_TIER_NAMES,
	IG_MAP_TIER_POLICY,
	IG_MAP_TOKENS,
	IG_MAP_CONNS,
	IG_MAP_CONN_COUNTS,
	IG_MAP_FLEET_COUNTS,
	IG_MAP_FLEET_BLOCK,
	IG_MAP_HTTP_CONNS,
	IG_MAP_TOKEN_RULES,
	IG_MAP_RESP_SOCKS, /* socket storage: pinned so a reload keeps it; never read here */
	IG_MAP_TIMING,
	IG_MAP_TIMING_CFG,
	IG_MAP_ADAPTIVE,
	/* issue 16 (0.9): optional, see ig_instance_need() */
	IG_MAP_KEYS,
	IG_MAP_KEY_POLICY,
	IG_MAP_PROXY_FROM,
	IG_MAP_PROXY_CONNS,
	IG_MAP_KEY_SEED,
	/* issue 15 (0.14): optional too */
	IG_MAP_INFLIGHT_CFG,
	IG_MAP_INFLIGHT,
	IG_MAP_COUNT,
};

const char *ig_map_name(enum ig_map_id id);

struct ig_instance {
	char pin_dir[256];
	int fd[IG_MAP_COUNT];
	__u32 sets;        /* max_entries of the pinned sources map */
	__u64 max_sources; /* what the table is sized for: one set per source */
	__u32 max_flows;   /* max_entries of the pinned flows map */
	int ncpus;
};

/* Root, and a bpffs under the pin dir (or its parent when it does not exist yet). */
int ig_env_check(const char *pin_dir);
int ig_path(char *buf, size_t len, const char *dir, const char *name);

/* Open every pinned map of the instance; -ENOENT when nothing is pinned there.
 * A map newer than the instance (the maps of 0.9: keys, key_policy,
 * proxy_from, proxy_conns) is left closed (fd -1) rather than refusing the
 * whole instance: every command that does not need it keeps working until
 * the next attach pins it. */
int ig_instance_open(struct ig_instance *in, const char *pin_dir);
/* 0 when map `id` is open, else -ENOENT logged as "attach again" (what a
 * command that needs an optional map calls first). */
int ig_instance_need(const struct ig_instance *in, enum ig_map_id id);
void ig_instance_close(struct ig_instance *in);
/* The maps of a loaded (not pinned) infergate object, e.g. a test's
 * skeleton: the instance holds its own fds, closed by ig_instance_close. */
struct bpf_object;
int ig_instance_from_object(struct ig_instance *in, const struct bpf_object *obj);

/*
 * Every set of the source table, read in batches: fn(index, set, ctx) per set;
 * fn may change *set and return 1 to have it written back (a negative return
 * stops the walk and is returned).
 */
struct ig_source_set;
int ig_sources_walk(const struct ig_instance *in,
		    int (*fn)(__u32 index, struct ig_source_set *set, void *ctx), void *ctx);

/* All n values of an ARRAY map, in index order, with one batch syscall per
 * chunk instead of n lookups: into vals (n * vsize bytes, caller's). */
int ig_array_read_all(int fd, const char *name, __u32 n, size_t vsize, void *vals);

/* Connections in the flow table (both directions' entries count). */
int ig_flows_count(const struct ig_instance *in, __u64 *n);

/* Sum of one slot's per-CPU counters. */
/* The sum over CPUs of a per-CPU array's value at key, `words` u64s; and
 * zeroing one. */
int ig_percpu_sum(const struct ig_instance *in, enum ig_map_id id, __u32 key, __u64 *sum,
		  size_t words);
int ig_percpu_zero(const struct ig_instance *in, enum ig_map_id id, __u32 key, size_t size);
int ig_stats_read(const struct ig_instance *in, __u32 slot, struct ig_stats *sum);
/* Zero one slot's counters on every CPU. */
int ig_stats_clear(const struct ig_instance *in, __u32 slot);

#endif
