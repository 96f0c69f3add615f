// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * infergate: the command line. Global options come before the command; each
 * command (a file per noun: attach.c, limit.c, tier.c, breaker.c, status.c,
 * run.c, check.c) declares its options in a table (cli.h) that gives its parser, its
 * help, the man page and completion. Exit codes: 0 done, 1 failed, 2 bad usage.
 */
#include <stdio.h>
#include <string.h>
#include "ig_abi.h"
#include "cli/cli.h"
#include "lib/log.h"

struct global_cfg {
	const char *pin_dir;
	int verbose, version;
};

static const struct ig_opt global_opts[] = {
	IG_OPT("pin-dir", IG_OPT_STRING, struct global_cfg, pin_dir, .metavar = "DIR",
	       .complete = IG_COMPLETE_DIR,
	       .help = "the instance's pinned state (default " IG_DEFAULT_PIN_DIR ");\n"
		       "one instance per network namespace"),
	IG_OPT("verbose", IG_OPT_BOOL, struct global_cfg, verbose, .short_name = 'v',
	       .help = "more detail; twice for libbpf's debug output"),
	IG_OPT("version", IG_OPT_BOOL, struct global_cfg, version, .help = "print the version"),
	{}
};

static const struct ig_cmd global = {
	.opts = global_opts,
	.cfg_size = sizeof(struct global_cfg),
	.doc = "Per-source rate limits in XDP for the ports of an inference server.",
};

/* Generated from the tables, by the build: not for users, not listed. */
static const struct ig_cmd hidden_cmds[3];

static const struct ig_cmd *const groups[] = {
	ig_attach_cmds, ig_limit_cmds, ig_tier_cmds, ig_key_cmds, ig_breaker_cmds, ig_status_cmds,
	ig_agent_cmds, ig_check_cmds, hidden_cmds, NULL,
};

static int cmd_man(const void *cfg, int argc, char **argv)
{
	(void)cfg, (void)argc, (void)argv;
	return ig_cli_exit(ig_cli_man(&global, groups, stdout));
}

static int cmd_completion(const void *cfg, int argc, char **argv)
{
	(void)cfg;
	if (argc == 1 && !strcmp(argv[0], "bash")) {
		ig_cli_completion(&global, groups, stdout);
		return 0;
	}
	if (argc == 1 && !strcmp(argv[0], "ports"))
		return ig_cli_limited_ports(stdout);
	return ig_cli_usage("__completion", "%s", "expected bash or ports");
}

static const struct ig_cmd hidden_cmds[3] = {
	IG_CMD("__man", cmd_man, NULL, char, .hidden = 1, .doc = "The man page, in roff."),
	IG_CMD("__completion", cmd_completion, NULL, char, .args = "bash|ports", .hidden = 1,
	       .doc = "The bash completion script, or the limited ports it offers."),
	{}
};

static void usage(FILE *out)
{
	char syn[1024];

	fprintf(out, "usage: infergate [--pin-dir DIR] [-v] COMMAND [ARGS]\n\n%s\n\ncommands:\n",
		global.doc);
	for (const struct ig_cmd *const *g = groups; *g; g++)
		for (const struct ig_cmd *c = *g; c->name; c++) {
			if (c->hidden)
				continue;
			ig_cmd_synopsis(c, syn, sizeof(syn));
			fprintf(out, "  %-14s %s\n", c->name, syn);
		}
	fputs("\nglobal options:\n", out);
	ig_opts_help(global_opts, out);
	fputs("  -h, --help             this help; COMMAND --help for a command's options\n", out);
}

int main(int argc, char **argv)
{
	struct global_cfg g = { .pin_dir = IG_DEFAULT_PIN_DIR };
	const struct ig_cmd *cmd;
	int r, argi = argc;

	r = ig_opts_parse(&global, argc, argv, &g, 1, &argi);
	if (r == 1) {
		usage(stdout);
		return 0;
	}
	if (!r && g.version) {
		printf("infergate %s\n", IG_VERSION);
		return 0;
	}
	if (r || argi >= argc) {
		usage(stderr);
		return 2;
	}
	ig_cli_pin_dir = g.pin_dir;
	/* a line at a time even into a file or a pipe: the agent's log is read
	 * while it runs */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ig_log_set_level(g.verbose >= 2 ? IG_LOG_TRACE : g.verbose ? IG_LOG_DEBUG : IG_LOG_INFO);
	ig_log_setup_libbpf();

	cmd = ig_cmd_find(groups, argv[argi]);
	if (!cmd) {
		fprintf(stderr, "infergate: unknown command '%s' (see 'infergate --help')\n",
			argv[argi]);
		return 2;
	}
	return ig_cmd_run(cmd, argc - argi, argv + argi);
}
