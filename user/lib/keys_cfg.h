/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Who the client is, in the agent's config file (issue 16): the keys of a
 * [port] section (key, anonymous_rate, anonymous_burst, any_key, proxy_from)
 * and the entries of [keys]. Errors are said with ig_args_error, which the
 * loader captures into "FILE:LINE: ...".
 */
#ifndef IG_LIB_KEYS_CFG_H
#define IG_LIB_KEYS_CFG_H

#include <linux/types.h>
#include "ig_abi.h"
#include "lib/keys.h"

/* What a [port] section gave, for the checks of ig_key_cfg_finish. */
struct ig_key_cfg_given {
	int key, anon_rate, anon_burst, any_key, proxy_from;
};

/*
 * One [port] key: `key` and `any_key` go into the policy's flags,
 * `anonymous_*` into *kp, `proxy_from`'s prefixes onto the file's one list
 * (proxy, *nproxy of at most max; a prefix given twice is kept once).
 * 0 (set), -ENOENT (not one of these keys) or -EINVAL.
 */
int ig_key_cfg_parse(struct ig_policy *limit, struct ig_key_policy *kp, struct ig_key_cfg_given *g,
		     struct ig_lpm_key *proxy, int *nproxy, int max, const char *key,
		     const char *value);
/* What only the whole section can tell: api-key needs unit = request,
 * proxy-source tcp, the others their mode, all of them a rate; the
 * anonymous burst defaults to a second of its rate. 0 or -EINVAL. */
int ig_key_cfg_finish(const struct ig_policy *limit, int has_limit, enum ig_proto proto,
		      struct ig_key_policy *kp, const struct ig_key_cfg_given *g);

/* One [keys] line: NAME = hash HEX16 | token-file PATH, then optionally
 * `tier TIER` and `deny`. A token file is read here once (that it holds
 * keys; hashed again with the instance's seed when applied). */
int ig_key_cfg_entry(struct ig_key_want *w, const char *name, const char *value);

#endif
