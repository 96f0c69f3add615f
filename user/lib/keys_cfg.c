// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Who the client is, in the config file: see keys_cfg.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lib/keys_cfg.h"
#include "lib/args.h"
#include "lib/cidr.h"
#include "lib/tiers.h"

static int parse_proxy_from(struct ig_lpm_key *proxy, int *nproxy, int max, const char *value)
{
	char buf[4096], *save = NULL, *tok;
	int n = 0;

	if (strlen(value) >= sizeof(buf)) {
		ig_args_error("proxy_from: line too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save), n++) {
		struct ig_lpm_key k;
		int dup = 0;

		if (ig_cidr_parse(tok, &k)) {
			ig_args_error("invalid proxy_from '%s': expected " IG_CIDR_FORMS, tok);
			return -EINVAL;
		}
		for (int i = 0; i < *nproxy && !dup; i++)
			dup = !memcmp(&proxy[i], &k, sizeof(k));
		if (dup)
			continue;
		if (*nproxy == max) {
			ig_args_error("too many proxy_from prefixes (at most %d)", max);
			return -EINVAL;
		}
		proxy[(*nproxy)++] = k;
	}
	if (!n) {
		ig_args_error("empty proxy_from: expected CIDR[, CIDR...]");
		return -EINVAL;
	}
	return 0;
}

int ig_key_cfg_parse(struct ig_policy *limit, struct ig_key_policy *kp, struct ig_key_cfg_given *g,
		     struct ig_lpm_key *proxy, int *nproxy, int max, const char *key,
		     const char *value)
{
	if (!strcmp(key, "key")) {
		enum ig_key_mode m;

		if (ig_key_mode_parse(value, &m)) {
			ig_args_error("invalid key '%s': expected source, api-key or proxy-source",
				      value);
			return -EINVAL;
		}
		g->key = 1;
		limit->flags = (limit->flags & ~IG_POL_KEY_MASK) | ((__u32)m << IG_POL_KEY_SHIFT);
		return 0;
	}
	if (!strcmp(key, "anonymous_rate")) {
		g->anon_rate = 1;
		kp->flags |= IG_KP_F_ANON;
		/* 0 is a rate here: requests without a known key are refused */
		if (!strcmp(value, "0") || !strcmp(value, "0/s")) {
			kp->anon_rate = 0;
			return 0;
		}
		return ig_parse_rate(value, &kp->anon_rate) ? -EINVAL : 0;
	}
	if (!strcmp(key, "anonymous_burst")) {
		g->anon_burst = 1;
		return ig_parse_count(value, "anonymous_burst", 1, IG_MAX_BURST, &kp->anon_burst)
			       ? -EINVAL : 0;
	}
	if (!strcmp(key, "any_key")) {
		g->any_key = 1;
		if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcmp(value, "1"))
			limit->flags |= IG_POL_F_ANY_KEY;
		else if (!strcasecmp(value, "no") || !strcasecmp(value, "false") || !strcmp(value, "0"))
			limit->flags &= ~(__u32)IG_POL_F_ANY_KEY;
		else {
			ig_args_error("invalid any_key '%s': expected yes or no", value);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "proxy_from")) {
		g->proxy_from = 1;
		return parse_proxy_from(proxy, nproxy, max, value);
	}
	return -ENOENT;
}

int ig_key_cfg_finish(const struct ig_policy *limit, int has_limit, enum ig_proto proto,
		      struct ig_key_policy *kp, const struct ig_key_cfg_given *g)
{
	unsigned int mode = IG_POL_KEY(limit->flags);

	if (!has_limit && (g->key || g->anon_rate || g->anon_burst || g->any_key || g->proxy_from)) {
		ig_args_error("key, anonymous_rate, anonymous_burst, any_key and proxy_from go "
			      "with a rate");
		return -EINVAL;
	}
	if (mode == IG_KEY_API && limit->unit != IG_UNIT_REQUEST) {
		ig_args_error("key = api-key reads each request's headers: it needs unit = request");
		return -EINVAL;
	}
	if (mode == IG_KEY_PROXY && (proto != IG_PROTO_TCP || limit->unit != IG_UNIT_REQUEST)) {
		ig_args_error("key = proxy-source reads the PROXY header where it reads requests: "
			      "it needs unit = request");
		return -EINVAL;
	}
	if (mode != IG_KEY_API && (g->anon_rate || g->anon_burst || g->any_key)) {
		ig_args_error("anonymous_rate, anonymous_burst and any_key go with key = api-key");
		return -EINVAL;
	}
	if (mode != IG_KEY_PROXY && g->proxy_from) {
		ig_args_error("proxy_from goes with key = proxy-source");
		return -EINVAL;
	}
	if (g->anon_burst && !g->anon_rate) {
		ig_args_error("anonymous_burst needs anonymous_rate");
		return -EINVAL;
	}
	if (g->anon_rate && !g->anon_burst)
		kp->anon_burst = ig_rate_default_burst(kp->anon_rate);
	if (kp->anon_rate && ig_rate_check_burst(kp->anon_rate, kp->anon_burst, "anonymous_burst"))
		return -ERANGE;
	return 0;
}

int ig_key_cfg_entry(struct ig_key_want *w, const char *name, const char *value)
{
	char buf[512], *save = NULL, *kind, *arg, *tok;
	__u64 *hashes;
	int n;

	memset(w, 0, sizeof(*w));
	if (!ig_key_name_valid(name)) {
		ig_args_error("invalid key name '%s' in [keys]: 1-%d of [A-Za-z0-9_.@-], not 16 hex "
			      "digits", name, IG_KEY_NAME_LEN - 1);
		return -EINVAL;
	}
	snprintf(w->name, sizeof(w->name), "%s", name);
	if (strlen(value) >= sizeof(buf)) {
		ig_args_error("[keys] %s: line too long", name);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	kind = strtok_r(buf, " \t", &save);
	arg = kind ? strtok_r(NULL, " \t", &save) : NULL;
	if (!kind || !arg || (strcmp(kind, "hash") && strcmp(kind, "token-file"))) {
		ig_args_error("[keys] %s: expected hash HEX16 or token-file PATH, then [tier TIER] "
			      "[deny]", name);
		return -EINVAL;
	}
	if (!strcmp(kind, "hash") && ig_key_hash_parse(arg, &w->hash)) {
		ig_args_error("[keys] %s: invalid hash '%s': 16 hex digits", name, arg);
		return -EINVAL;
	}
	if (!strcmp(kind, "token-file")) {
		if (arg[0] != '/' || strlen(arg) >= sizeof(w->path)) {
			ig_args_error("[keys] %s: token-file '%s': an absolute path (at most %zu "
				      "characters)", name, arg, sizeof(w->path) - 1);
			return -EINVAL;
		}
		snprintf(w->path, sizeof(w->path), "%s", arg);
		/* readable and holding keys now, not at the first apply */
		if (ig_token_file_hashes(w->path, 0, &hashes, &n))
			return -EINVAL;
		free(hashes);
	}
	while ((tok = strtok_r(NULL, " \t", &save))) {
		if (!strcmp(tok, "deny")) {
			w->deny = 1;
		} else if (!strcmp(tok, "tier") && (tok = strtok_r(NULL, " \t", &save)) &&
			   ig_tier_name_valid(tok)) {
			snprintf(w->tier, sizeof(w->tier), "%s", tok);
		} else {
			ig_args_error("[keys] %s: expected tier TIER or deny after the %s, not '%s'",
				      name, kind, tok ? tok : "tier");
			return -EINVAL;
		}
	}
	return 0;
}
