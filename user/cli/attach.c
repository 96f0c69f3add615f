// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* attach, detach: the data path on an interface. */
#include "cli/cli.h"
#include "lib/loader.h"

struct attach_cfg {
	int hook;     /* enum ig_attach_hook: its index in hooks[] */
	int generic;  /* index in xdp_modes[] */
	__u64 max_sources, max_flows;
	int replace;
	const char *tc_pos;
};

static const char *const hooks[] = { [IG_ATTACH_XDP] = "xdp", [IG_ATTACH_TC] = "tc", NULL };
static const char *const xdp_modes[] = { "native", "generic", NULL };

static const struct ig_opt attach_opts[] = {
	IG_OPT("hook", IG_OPT_ENUM, struct attach_cfg, hook, .values = hooks, .what = "hook",
	       .help = "xdp (default) runs in the driver before the stack; tc runs\n"
		       "the same code as a tcx ingress program, for devices where\n"
		       "XDP is taken or missing"),
	IG_OPT("xdp-mode", IG_OPT_ENUM, struct attach_cfg, generic, .values = xdp_modes,
	       .what = "XDP mode", .help = "native (default) needs driver support"),
	IG_OPT("replace", IG_OPT_BOOL, struct attach_cfg, replace,
	       .help = "detach another program holding the XDP hook and take it\n"
		       "(without it, attach stops and names that program)"),
	IG_OPT("tc-position", IG_OPT_STRING, struct attach_cfg, tc_pos, .metavar = "POS",
	       .help = "where the tcx programs run among others on the interface:\n"
		       "first (default: drop before others spend on a packet),\n"
		       "last, before:NAME or after:NAME (a tcx ingress program's\n"
		       "name or id). Kept by an in-place upgrade"),
	IG_OPT("max-sources", IG_OPT_COUNT, struct attach_cfg, max_sources, .metavar = "N",
	       .min = 1024, .max = 1U << 28,
	       .help = "(source, port) pairs to size the table for (default\n"
		       "262144, rounded up to a power of two; 64 bytes each:\n"
		       "4 ways of 16 bytes). When a set is full, its least\n"
		       "indebted source is forgotten. Fixed while pinned"),
	IG_OPT("max-flows", IG_OPT_COUNT, struct attach_cfg, max_flows, .metavar = "N",
	       .min = 1024, .max = 1U << 26,
	       .help = "connections the breakers' flow table holds (default\n"
		       "262144, 64 bytes each with the kernel's overhead; LRU:\n"
		       "when full the least recently used is forgotten). Fixed\n"
		       "while pinned"),
	{}
};

static int cmd_attach(const void *cfg, int argc, char **argv)
{
	const struct attach_cfg *c = cfg;
	struct ig_attach_opts o = {
		.hook = (enum ig_attach_hook)c->hook,
		.xdp_generic = c->generic,
		.max_sources = c->max_sources,
		.max_flows = c->max_flows,
		.replace = c->replace,
	};

	if (argc != 1)
		return ig_cli_usage("attach", "%s", "expected one interface name");
	o.ifname = argv[0];
	if (c->tc_pos && ig_parse_tc_place(c->tc_pos, &o.tc_place))
		return ig_cli_usage("attach", "invalid --tc-position '%s': expected first, last, "
				    "before:NAME or after:NAME", c->tc_pos);
	return ig_cli_exit(ig_attach(ig_cli_pin_dir, &o));
}

struct detach_cfg {
	int purge;
};

static const struct ig_opt detach_opts[] = {
	IG_OPT("purge", IG_OPT_BOOL, struct detach_cfg, purge,
	       .help = "also remove the pinned state once no interface is attached"),
	{}
};

static int cmd_detach(const void *cfg, int argc, char **argv)
{
	const struct detach_cfg *c = cfg;

	if (argc != 1)
		return ig_cli_usage("detach", "%s", "expected one interface name");
	return ig_cli_exit(ig_detach(ig_cli_pin_dir, argv[0], c->purge));
}

const struct ig_cmd ig_attach_cmds[] = {
	IG_CMD("attach", cmd_attach, attach_opts, struct attach_cfg, .args = "IFACE",
	       .complete = IG_COMPLETE_IFACE,
	       .doc = "Load the data path (or reuse the pinned state) and attach it to IFACE.\n"
		      "Attaching again replaces the programs in place, atomically, keeping every\n"
		      "bucket, flow and breaker: how a new version is rolled out."),
	IG_CMD("detach", cmd_detach, detach_opts, struct detach_cfg, .args = "IFACE",
	       .complete = IG_COMPLETE_IFACE,
	       .doc = "Detach from IFACE. Limits, buckets and counters stay pinned for the next attach."),
	{}
};
