// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * key [list | add NAME (--hash H | --token-file F) [--tier T] [--deny] [--force] | del NAME|HASH |
 *      seed [--seed-file F | --instance]]
 * proxy-from [list | add CIDR | del CIDR]
 * No key's text is printed or logged: a token file is hashed here, with the
 * instance's seed, and only the hashes go anywhere.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/proxy.h"
#include "lib/tiers.h"

struct key_cfg {
	const char *hash;
	const char *token_file;
	const char *tier;
	int deny;
	int force;
	int json;
	const char *seed_file;
	int instance;
};

static const struct ig_opt key_opts[] = {
	IG_OPT("hash", IG_OPT_STRING, struct key_cfg, hash, .metavar = "HEX16",
	       .help = "with add: the key's hash (16 hex digits, as list, top\n"
		       "and the drop events show it)"),
	IG_OPT("token-file", IG_OPT_STRING, struct key_cfg, token_file, .metavar = "FILE",
	       .complete = IG_COMPLETE_FILE,
	       .help = "with add: keys one a line (blank lines and # comments\n"
		       "skipped), hashed here with the instance's seed; the\n"
		       "hashes are printed, the keys never"),
	IG_OPT("tier", IG_OPT_STRING, struct key_cfg, tier, .metavar = "TIER",
	       .help = "with add: a named tier (made if new); its rate per port\n"
		       "comes from `tier set TIER PORT --rate`"),
	IG_OPT("deny", IG_OPT_BOOL, struct key_cfg, deny,
	       .help = "with add: refuse the key on every api-key port (revoked)"),
	IG_OPT("force", IG_OPT_BOOL, struct key_cfg, force,
	       .help = "with add: move a key stored under another name to this\n"
		       "one (without it such a key is refused, naming its name)"),
	IG_OPT("json", IG_OPT_BOOL, struct key_cfg, json, .help = "with list"),
	IG_OPT("seed-file", IG_OPT_STRING, struct key_cfg, seed_file, .metavar = "FILE",
	       .complete = IG_COMPLETE_FILE,
	       .help = "with seed: hash keys with the seed in FILE (16 hex\n"
		       "digits), the same on every node of a fleet, so that a key\n"
		       "is one client everywhere; refused while keys are loaded"),
	IG_OPT("instance", IG_OPT_BOOL, struct key_cfg, instance,
	       .help = "with seed: back to the instance's own seed"),
	{}
};

enum { K_LIST, K_ADD, K_DEL, K_SEED, K_MAX };

static const char *const key_words[K_MAX + 1] = {
	[K_LIST] = "list", [K_ADD] = "add", [K_DEL] = "del", [K_SEED] = "seed",
};

static const int key_nargs[K_MAX] = { [K_LIST] = 0, [K_ADD] = 1, [K_DEL] = 1, [K_SEED] = 0 };
static const char *const key_usages[K_MAX] = {
	[K_LIST] = "list takes no arguments",
	[K_ADD] = "add NAME (--hash HEX16 | --token-file FILE) [--tier TIER] [--deny] [--force]",
	[K_DEL] = "del NAME|HASH",
	[K_SEED] = "seed [--seed-file FILE | --instance]",
};

/* seed: show it (a fingerprint), or set or drop the shared one */
static int key_seed(const struct ig_instance *in, const struct key_cfg *c)
{
	__u64 seed;
	int err;

	if (!c->seed_file && !c->instance)
		return ig_key_seed_print(in, stdout);
	if (c->seed_file && (err = ig_key_seed_file(c->seed_file, &seed)))
		return err;
	err = ig_key_seed_set(in, c->instance ? NULL : &seed, 0);
	if (err > 0)
		ig_info("key seed: %s", c->instance ? "the instance's own" : "shared, from the file");
	return err < 0 ? err : ig_key_seed_print(in, stdout);
}

static int key_add(const struct ig_instance *in, const struct key_cfg *c, const char *name,
		   __u64 hash)
{
	__u64 *hashes = &hash, seed;
	int n = 1, err = 0;

	if (c->token_file) {
		err = ig_key_seed(in, &seed);
		if (!err)
			err = ig_token_file_hashes(c->token_file, seed, &hashes, &n);
		if (err)
			return err;
	}
	err = ig_keys_add(in, name, hashes, n, c->tier, c->deny, c->force);
	if (!err) {
		for (int i = 0; i < n; i++)
			printf("%016llx\n", (unsigned long long)hashes[i]);
		ig_info("key %s: %d hash(es)%s%s%s", name, n, c->tier ? ", tier " : "",
			c->tier ? c->tier : "", c->deny ? ", denied" : "");
	}
	if (hashes != &hash)
		free(hashes);
	return err;
}

static int cmd_key(const void *cfg, int argc, char **argv)
{
	const struct key_cfg *c = cfg;
	struct ig_instance in;
	__u64 hash = 0;
	int v = K_LIST, err;

	if (argc) {
		for (v = 0; v < K_MAX && strcmp(argv[0], key_words[v]); v++)
			;
		if (v == K_MAX)
			return ig_cli_usage("key", "unknown action '%s': add, del, list or seed",
					    argv[0]);
	}
	if ((argc ? argc - 1 : 0) != key_nargs[v])
		return ig_cli_usage("key", "%s", key_usages[v]);
	if (v != K_ADD && (c->hash || c->token_file || c->tier || c->deny || c->force))
		return ig_cli_usage("key", "%s",
				    "--hash, --token-file, --tier, --deny and --force go with add");
	if (v != K_LIST && c->json)
		return ig_cli_usage("key", "%s", "--json goes with list");
	if (v != K_SEED && (c->seed_file || c->instance))
		return ig_cli_usage("key", "%s", "--seed-file and --instance go with seed");
	if (c->seed_file && c->instance)
		return ig_cli_usage("key", "%s", "seed takes --seed-file FILE or --instance, not both");
	if (v == K_ADD) {
		if (!c->hash == !c->token_file)
			return ig_cli_usage("key", "%s", "add takes one of --hash HEX16 and "
					    "--token-file FILE");
		if (c->hash && ig_key_hash_parse(c->hash, &hash))
			return ig_cli_usage("key", "invalid --hash '%s': 16 hex digits", c->hash);
		if (!ig_key_name_valid(argv[1]))
			return ig_cli_usage("key", "invalid key name '%s': 1-%d of [A-Za-z0-9_.@-], "
					    "not 16 hex digits", argv[1], IG_KEY_NAME_LEN - 1);
		if (c->tier && !ig_tier_name_valid(c->tier))
			return ig_cli_usage("key", "invalid tier name '%s': 1-%d of [A-Za-z0-9_-], "
					    "not allow or deny", c->tier, IG_TIER_NAME_LEN - 1);
	}

	if (ig_cli_open(&in))
		return 1;
	if (v == K_LIST) {
		err = ig_keys_print(&in, c->json, stdout);
	} else if (v == K_SEED) {
		err = key_seed(&in, c);
	} else if (v == K_ADD) {
		err = key_add(&in, c, argv[1], hash);
	} else {
		err = ig_keys_del(&in, argv[1]);
		if (err > 0) {
			ig_info("%s: %d key(s) removed", argv[1], err);
			err = 0;
		}
	}
	ig_instance_close(&in);
	return ig_cli_exit(err);
}

struct proxy_cfg {
	int json;
};

static const struct ig_opt proxy_opts[] = {
	IG_OPT("json", IG_OPT_BOOL, struct proxy_cfg, json, .help = "with list"),
	{}
};

static const char *const proxy_words[K_MAX + 1] = {
	[K_LIST] = "list", [K_ADD] = "add", [K_DEL] = "del",
};

static int cmd_proxy_from(const void *cfg, int argc, char **argv)
{
	const struct proxy_cfg *c = cfg;
	struct ig_lpm_key keys[64];
	struct ig_instance in;
	int v = K_LIST, n = 0, err;

	if (argc) {
		/* its verbs are key's first three */
		for (v = 0; v < K_SEED && strcmp(argv[0], proxy_words[v]); v++)
			;
		if (v == K_SEED)
			return ig_cli_usage("proxy-from", "unknown action '%s': add, del or list",
					    argv[0]);
	}
	if ((argc ? argc - 1 : 0) != key_nargs[v])
		return ig_cli_usage("proxy-from", "%s", v == K_LIST ? "list takes no arguments"
								    : "add|del CIDR[,CIDR...]");
	if (v != K_LIST && c->json)
		return ig_cli_usage("proxy-from", "%s", "--json goes with list");
	if (v != K_LIST && ig_proxy_from_parse(argv[1], keys, 64, &n))
		return 2;

	if (ig_cli_open(&in))
		return 1;
	if (v == K_LIST)
		err = ig_proxy_from_print(&in, c->json, stdout);
	else if (v == K_ADD)
		err = ig_proxy_from_add(&in, keys, n, NULL);
	else
		err = ig_proxy_from_del(&in, keys, n);
	ig_instance_close(&in);
	if (!err && v != K_LIST)
		ig_info("proxy_from: %s %s", v == K_ADD ? "added" : "removed", argv[1]);
	return ig_cli_exit(err);
}

const struct ig_cmd ig_key_cmds[] = {
	IG_CMD("key", cmd_key, key_opts, struct key_cfg,
	       .args = "[list | add NAME | del NAME|HASH | seed]",
	       .complete = IG_COMPLETE_WORDS, .words = key_words, .word_pos = 1,
	       .doc = "API keys of --key api-key ports, stored by the seeded hash of their text only\n"
		      "(never the text). A known key is a client of its own, at the port's rate or\n"
		      "its tier's; --deny refuses it everywhere. del NAME removes every key of that\n"
		      "name, del HASH one key. seed: the seed the hashes are made with; a fleet\n"
		      "that limits keys together (fleet_rate) shares one (--seed-file), set before\n"
		      "its keys are loaded."),
	IG_CMD("proxy-from", cmd_proxy_from, proxy_opts, struct proxy_cfg,
	       .args = "[list | add CIDR | del CIDR]",
	       .complete = IG_COMPLETE_WORDS, .words = proxy_words, .word_pos = 1,
	       .doc = "The load balancers whose PROXY protocol headers are believed on --key\n"
		      "proxy-source ports: one list for every such port of the instance. A\n"
		      "connection from anywhere else that starts with a PROXY header is refused."),
	{}
};
