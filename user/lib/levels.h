/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fair share in the pinned maps: each port's levels (`port_limits`), the
 * tiers (`tiers`, `tier_names`, `tier_policy`), the per-level counters and
 * LLM-token charges (`tokens`). See bpf/fairshare.h for what the data path
 * does with them.
 */
#ifndef IG_LEVELS_H
#define IG_LEVELS_H

#include <stdio.h>
#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"

const char *ig_level_name(enum ig_level l);
const char *ig_tier_kind_name(enum ig_tier_kind k);

/*
 * The levels as key = value, shared by the CLI (--prefix-rate ... with '-'
 * for '_') and the config file: prefix_rate, prefix_burst, prefix_len
 * (V4[,V6]), port_rate, port_burst, newcomer_rate, newcomer_burst, max_conns,
 * tokens_per_minute, bytes_per_token. Returns 0 (set), -ENOENT (not a level
 * key) or -EINVAL (bad value, said with ig_err). `given` collects the bursts
 * given, for ig_levels_finish().
 */
int ig_levels_parse(struct ig_limits *lim, unsigned int *given, const char *key, const char *value);
/* Bursts default to their rates; 0, or -EINVAL when a burst has no rate. */
int ig_levels_finish(struct ig_limits *lim, unsigned int given);

/* Whether any level of `lim` is on. */
int ig_limits_any(const struct ig_limits *lim);

/* A port's levels: the port must be limited (it has a slot). */
int ig_levels_get(const struct ig_instance *in, __u32 slot, struct ig_limits *lim);
int ig_levels_set(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_limits *lim);
/* A slot handed to a new port starts without levels, state or counters. */
int ig_levels_clear_slot(const struct ig_instance *in, __u32 slot);
/* Refusals by level, summed over CPUs. */
int ig_level_stats_read(const struct ig_instance *in, __u32 slot, struct ig_level_stats *sum);

/* The flags a policy needs for its levels and the tiers: IG_POL_F_HIER when
 * any level is on, the port is a fleet port or tiers exist; CONNS, TOKENS. */
__u32 ig_policy_flags(__u32 flags, const struct ig_limits *lim, int tiers);
/* Rewrite every limited port's flags after the tiers or levels changed. */
int ig_flags_refresh(const struct ig_instance *in);

/* Tiers. A CIDR is "a.b.c.d/n" or "x::y/n" (IPv4 as IPv4-mapped). */
int ig_parse_cidr(const char *s, struct ig_lpm_key *k);
int ig_cidr_parse(const char *s, struct ig_lpm_key *k); /* the same, silent */
void ig_format_cidr(const struct ig_lpm_key *k, char *buf, size_t len);
/* Entries in the trie (0: no tiers). */
int ig_tiers_count(const struct ig_instance *in);
/* The id of a named tier, made if `create`; -ENOENT / -ENOSPC. */
int ig_tier_id(const struct ig_instance *in, const char *name, int create);
int ig_tier_add(const struct ig_instance *in, const char *cidr, const char *what);
int ig_tier_del(const struct ig_instance *in, const char *cidr);
int ig_tier_rate(const struct ig_instance *in, const char *name, enum ig_proto proto, __u16 port,
		 const struct ig_rate *rate); /* rate NULL: remove */
int ig_tiers_print(const struct ig_instance *in, int json, FILE *out);

/* A wanted set of tiers (the agent's config), applied as a diff: entries not
 * wanted are deleted, others added or changed in place; the trie is never
 * empty in between. */
struct ig_tier_want {
	struct ig_lpm_key key;
	char what[IG_TIER_NAME_LEN]; /* allow, deny or a tier name */
};
struct ig_tier_rate_want {
	char name[IG_TIER_NAME_LEN];
	__u16 port;
	enum ig_proto proto;
	struct ig_rate rate;
};
int ig_tiers_apply(const struct ig_instance *in, const struct ig_tier_want *t, int n,
		   const struct ig_tier_rate_want *r, int nr);

/* Charge `tokens` to a client's LLM-token budget on (proto, port): a
 * read-modify-write of its `tokens` entry, as a bpftool user would do it.
 * *left: the balance after (negative: in debt). */
int ig_tokens_charge(const struct ig_instance *in, const char *src, enum ig_proto proto,
		     __u16 port, __u64 tokens, long long *left);

struct ig_port_row;
/* Fill token_clients and token_debtors of the rows from the `tokens` map. */
int ig_tokens_count(const struct ig_instance *in, struct ig_port_row *rows, int nrows);

#endif
