/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fleet-wide limits through Redis (the agent's background job; never on the
 * packet path). Each sync the agent reads what the data path admitted per
 * source of a fleet port (map `fleet_counts`), charges the difference since
 * the last sync to one shared bucket per (port, source) in Redis with a Lua
 * script (a GCRA kept on Redis's clock, allowed to go into debt), and blocks
 * the source locally (map `fleet_block`) for as long as the shared bucket
 * says it is spent. A window port's fleet counts windows instead (one
 * script per algorithm, fleet_lua.h), with the same blocks. Error bound: a host learns of the fleet's state once per
 * sync, so the fleet over-admits at most what all hosts admit locally in one
 * interval; since every admission is charged, that overshoot is paid back
 * by a longer block, and over a window t the fleet admits
 * fleet_rate * t + fleet_burst + (what is still owed) <= ... + H * local
 * rate * interval.
 */
#ifndef IG_FLEET_H
#define IG_FLEET_H

#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"

#define IG_FLEET_DEFAULT_INTERVAL_MS 200
#define IG_FLEET_MAX_PORTS 64

struct ig_fleet_cfg {
	char redis[256];    /* host:port, or unix:/path */
	char password[128]; /* "" = no AUTH */
	char node[64];      /* this host in the fleet (default: the hostname) */
	__u64 interval_ms;
	__u64 key_seed;     /* key_seed_file's: the fleet's seed of API keys' hashes */
	int has_key_seed;
};

struct ig_fleet_port {
	__u16 port;
	enum ig_proto proto;
	__u64 rate;  /* units per second for all hosts together */
	__u64 burst;
	/* enum ig_algo, the port's: the fleet counts as each host does, a
	 * window being fleet_rate's period (fleet_lua.h) */
	__u32 algo;
};

/* Counters for metrics and the log. */
struct ig_fleet_stats {
	int up;                   /* 1 while Redis answers */
	__u64 syncs;              /* completed */
	__u64 errors;             /* failed syncs and connects */
	__u64 bytes_sent;         /* request bytes written to Redis */
	__u64 blocks;             /* times a source was blocked */
	__u64 last_sync_us;       /* how long the last sync took */
	__u64 sources;            /* sources charged in the last sync */
};

struct ig_fleet;

/* Does not connect yet (the first tick does); -errno on a bad address. */
int ig_fleet_new(struct ig_fleet **out, const struct ig_fleet_cfg *cfg);
void ig_fleet_free(struct ig_fleet *f);
/* The ports with a fleet limit; replaces the previous set (a reload). */
int ig_fleet_set_ports(struct ig_fleet *f, const struct ig_fleet_port *ports, int n);
/* Sync if one is due at now_ms (a monotonic clock): bounded by Redis's
 * timeouts (~100 ms); never fails the caller, Redis errors are logged once
 * and retried with backoff. node_json, if not NULL, is published as this
 * node's status (for `status --fleet`). */
void ig_fleet_tick(struct ig_fleet *f, const struct ig_instance *in, __u64 now_ms,
		   const char *node_json);
void ig_fleet_stats(const struct ig_fleet *f, struct ig_fleet_stats *st);
/* Delete the blocks of map fleet_block that have run out (the sync does it
 * every few seconds, and when the map is full): how many, or -errno. */
int ig_fleet_prune(const struct ig_instance *in);

/* `infergate status --fleet`: every node's published status from Redis.
 * Returns 0, or -errno when Redis cannot be asked. */
int ig_fleet_print_nodes(const char *redis, const char *password, int json);

/* "host:port" or "unix:/path" -> 0, or -EINVAL with a message. */
int ig_fleet_parse_addr(const char *addr, char *host, size_t hostlen, int *port, int *is_unix);

#endif
