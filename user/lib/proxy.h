/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The load balancers whose PROXY protocol headers are believed (issue 16):
 * map `proxy_from`, an LPM trie keyed like `tiers` (IPv4 IPv4-mapped), one
 * list for every proxy-source port of the instance. A connection to such a
 * port from anywhere else that starts with a PROXY header is refused.
 */
#ifndef IG_LIB_PROXY_H
#define IG_LIB_PROXY_H

#include <stdio.h>
#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"

/* "CIDR[,CIDR...]" (commas or blanks) into at most max keys; -EINVAL logged
 * naming the bad one. */
int ig_proxy_from_parse(const char *list, struct ig_lpm_key *keys, int max, int *n);
/* Every prefix in the list (caller frees); none where the map is missing. */
int ig_proxy_from_read(const struct ig_instance *in, struct ig_lpm_key **keys, int *n);
/* Add n prefixes; added[i] (may be NULL) says which were new, for undoing. */
int ig_proxy_from_add(const struct ig_instance *in, const struct ig_lpm_key *keys, int n,
		      int *added);
int ig_proxy_from_del(const struct ig_instance *in, const struct ig_lpm_key *keys, int n);
int ig_proxy_from_print(const struct ig_instance *in, int json, FILE *out);
/* The whole list as wanted (the agent's config): added first, then the rest
 * deleted. */
int ig_proxy_from_apply(const struct ig_instance *in, const struct ig_lpm_key *keys, int n);

#endif
