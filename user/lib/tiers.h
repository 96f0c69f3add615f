/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Tiers in the pinned maps: the prefixes (`tiers`, an LPM trie, most specific
 * wins), the names of the named tiers (`tier_names`) and their rates per port
 * (`tier_policy`). Every change refreshes the ports' flags (IG_POL_F_HIER is
 * on while any tier exists) and frees the names nothing refers to any more.
 */
#ifndef IG_TIERS_H
#define IG_TIERS_H

#include <stdio.h>
#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"

/* 1-23 of [A-Za-z0-9_-], and not "allow" or "deny" (those are kinds). */
int ig_tier_name_valid(const char *name);
/* Entries in the trie (0: no tiers). */
int ig_tiers_count(const struct ig_instance *in);
/* The id of a named tier, made if `create`; -ENOENT / -ENOSPC. */
int ig_tier_id(const struct ig_instance *in, const char *name, int create);
/* what: allow, deny or a tier name. */
int ig_tier_add(const struct ig_instance *in, const char *cidr, const char *what);
int ig_tier_del(const struct ig_instance *in, const char *cidr);
int ig_tier_rate(const struct ig_instance *in, const char *name, enum ig_proto proto, __u16 port,
		 const struct ig_rate *rate); /* rate NULL: remove */
/* Free the names no prefix, rate or API key refers to (the tier calls here
 * do it themselves; lib/keys.c after it removes keys). */
int ig_tier_names_gc(const struct ig_instance *in);
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

#endif
