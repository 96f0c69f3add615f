// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tier [list] | add CIDR allow|deny|NAME | del CIDR | set NAME PORT | unset NAME PORT */
#include <string.h>
#include "cli/cli.h"
#include "lib/args.h"
#include "lib/levels.h"
#include "lib/log.h"

struct tier_cfg {
	__u64 rate, burst;
	int json;
};

static const struct ig_opt tier_opts[] = {
	IG_OPT("rate", IG_OPT_RATE, struct tier_cfg, rate, .metavar = "N/PERIOD",
	       .help = "with set: units per period and source of that tier"),
	IG_OPT("burst", IG_OPT_COUNT, struct tier_cfg, burst, .metavar = "N", .what = "burst",
	       .min = 1, .max = IG_MAX_BURST, .help = "with set (default: the rate's N)"),
	IG_OPT("json", IG_OPT_BOOL, struct tier_cfg, json, .help = "with list"),
	{}
};

/* One request: the verb's arguments, read and checked. */
struct tier_req {
	char **args; /* after the verb */
	struct ig_rate rate;
	enum ig_proto proto;
	__u16 port;
	int json;
};

static int tier_list(const struct ig_instance *in, const struct tier_req *r)
{
	return ig_tiers_print(in, r->json, stdout);
}

static int tier_add(const struct ig_instance *in, const struct tier_req *r)
{
	int err = ig_tier_add(in, r->args[0], r->args[1]);

	if (!err)
		ig_info("%s: %s", r->args[0], r->args[1]);
	return err;
}

static int tier_del(const struct ig_instance *in, const struct tier_req *r)
{
	return ig_tier_del(in, r->args[0]);
}

static int tier_set(const struct ig_instance *in, const struct tier_req *r)
{
	return ig_tier_rate(in, r->args[0], r->proto, r->port, &r->rate);
}

static int tier_unset(const struct ig_instance *in, const struct tier_req *r)
{
	return ig_tier_rate(in, r->args[0], r->proto, r->port, NULL);
}

enum { T_LIST, T_ADD, T_DEL, T_SET, T_UNSET, T_MAX };

static const char *const tier_words[T_MAX + 1] = {
	[T_LIST] = "list", [T_ADD] = "add", [T_DEL] = "del", [T_SET] = "set", [T_UNSET] = "unset",
};

static const struct {
	int nargs;         /* after the verb */
	const char *usage; /* when their count is wrong */
	int (*run)(const struct ig_instance *in, const struct tier_req *r);
} verbs[T_MAX] = {
	[T_LIST] = { 0, "list takes no arguments", tier_list },
	[T_ADD] = { 2, "add CIDR allow|deny|NAME", tier_add },
	[T_DEL] = { 1, "del CIDR", tier_del },
	[T_SET] = { 2, "set|unset NAME PORT[/tcp|/udp]", tier_set },
	[T_UNSET] = { 2, "set|unset NAME PORT[/tcp|/udp]", tier_unset },
};

static int cmd_tier(const void *cfg, int argc, char **argv)
{
	const struct tier_cfg *c = cfg;
	struct tier_req r = { .args = argv + 1, .rate = { .rate = c->rate, .burst = c->burst },
			      .json = c->json };
	struct ig_instance in;
	int v = T_LIST, given, err;

	if (argc) {
		for (v = 0; v < T_MAX && strcmp(argv[0], tier_words[v]); v++)
			;
		if (v == T_MAX)
			return ig_cli_usage("tier", "unknown action '%s': add, del, set, unset or list",
					    argv[0]);
	}
	if ((argc ? argc - 1 : 0) != verbs[v].nargs)
		return ig_cli_usage("tier", "%s", verbs[v].usage);
	if (v == T_SET || v == T_UNSET) {
		if (ig_parse_port_spec(argv[2], &r.port, &r.proto, &given))
			return 2;
		if (v == T_SET && !r.rate.rate)
			return ig_cli_usage("tier", "%s", "set needs --rate N/PERIOD");
		if (!r.rate.burst)
			r.rate.burst = ig_rate_default_burst(r.rate.rate);
		if (r.rate.rate && ig_rate_check_burst(r.rate.rate, r.rate.burst, "--burst"))
			return 2;
	}
	if (v != T_SET && (r.rate.rate || r.rate.burst))
		return ig_cli_usage("tier", "%s", "--rate and --burst go with set");

	if (ig_cli_open(&in))
		return 1;
	err = verbs[v].run(&in, &r);
	ig_instance_close(&in);
	return ig_cli_exit(err);
}

const struct ig_cmd ig_tier_cmds[] = {
	IG_CMD("tier", cmd_tier, tier_opts, struct tier_cfg,
	       .args = "[list | add CIDR allow|deny|NAME | del CIDR | set NAME PORT | unset NAME PORT]",
	       .complete = IG_COMPLETE_WORDS, .words = tier_words, .word_pos = 1,
	       .doc = "Tiers by source prefix (IPv4 and IPv6), most specific prefix wins: allow (never\n"
		      "limited), deny (always dropped, on every limited port) or a named tier whose\n"
		      "sources get their own rate per port (set) instead of the port's."),
	{}
};
