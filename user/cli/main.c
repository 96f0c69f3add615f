// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * infergate: the command line. A table of subcommands, each with its own
 * options, defaults and help; global options come before the subcommand.
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ig_abi.h"
#include "lib/args.h"
#include "lib/loader.h"
#include "lib/instance.h"
#include "lib/policy.h"
#include "lib/status.h"
#include "agent/agent.h"
#include "lib/config.h"
#include <signal.h>
#include "lib/breakers.h"
#include "pure/steer.h"
#include "agent/metrics.h"
#include <curl/curl.h>
#include "lib/log.h"
#include "agent/fleet.h"
#include "lib/levels.h"
#include "agent/ctl.h"



static const char *pin_dir = IG_DEFAULT_PIN_DIR;

struct ig_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help; /* summary line, then the options */
};

static const struct ig_cmd *find_cmd(const char *name);

static int usage_error(const char *cmd, const char *fmt, const char *what)
{
	fprintf(stderr, "infergate %s: ", cmd);
	fprintf(stderr, fmt, what);
	fprintf(stderr, " (see 'infergate %s --help')\n", cmd);
	return 2;
}

static void print_cmd_help(const struct ig_cmd *c, FILE *out)
{
	fprintf(out, "usage: infergate [--pin-dir DIR] %s %s\n\n%s", c->name, c->args, c->help);
}

/* Common tail of every subcommand's option loop. */
#define HELP_OPT { "help", no_argument, NULL, 'h' }

/* Runtime failures exit 1; the message was logged where it happened. */
static int exit_code(int err)
{
	return err ? 1 : 0;
}

/* Every subcommand: parse its own options with getopt_long; return the exit
 * code. A --help prints the command's help and exits 0. */

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hook", required_argument, NULL, 'H' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ "max-sources", required_argument, NULL, 's' },
		{ "max-flows", required_argument, NULL, 'f' },
		HELP_OPT,
		{}
	};
	struct ig_attach_opts o = { .hook = IG_ATTACH_XDP };
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (!strcmp(optarg, "xdp"))
				o.hook = IG_ATTACH_XDP;
			else if (!strcmp(optarg, "tc"))
				o.hook = IG_ATTACH_TC;
			else
				return usage_error("attach", "invalid hook '%s': expected xdp or tc",
						   optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "native"))
				o.xdp_generic = 0;
			else if (!strcmp(optarg, "generic"))
				o.xdp_generic = 1;
			else
				return usage_error("attach",
						   "invalid XDP mode '%s': expected native or generic",
						   optarg);
			break;
		case 's':
			if (ig_parse_count(optarg, "--max-sources", 1024, 1U << 28, &o.max_sources))
				return 2;
			break;
		case 'f':
			if (ig_parse_count(optarg, "--max-flows", 1024, 1U << 26, &o.max_flows))
				return 2;
			break;
		case 'h':
			print_cmd_help(find_cmd("attach"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		return usage_error("attach", "%s", "expected one interface name");
	o.ifname = argv[optind];
	return exit_code(ig_attach(pin_dir, &o));
}

static int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "purge", no_argument, NULL, 'p' },
		HELP_OPT,
		{}
	};
	int c, do_purge = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			do_purge = 1;
			break;
		case 'h':
			print_cmd_help(find_cmd("detach"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		return usage_error("detach", "%s", "expected one interface name");
	return exit_code(ig_detach(pin_dir, argv[optind], do_purge));
}

/* PORT[/proto] as the one positional argument of limit and unlimit. */
static int port_arg(const char *cmd, int argc, char **argv, __u16 *port, enum ig_proto *proto,
		    int *proto_given)
{
	if (optind != argc - 1)
		return usage_error(cmd, "%s", "expected one PORT[/tcp|/udp]");
	return ig_parse_port_spec(argv[optind], port, proto, proto_given) ? 2 : 0;
}

static int cmd_limit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "unit", required_argument, NULL, 'u' },
		{ "action", required_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'd' },
		/* fair-share levels: their values go through ig_levels_parse() */
		{ "prefix-rate", required_argument, NULL, 'L' },
		{ "prefix-burst", required_argument, NULL, 'L' },
		{ "prefix-len", required_argument, NULL, 'L' },
		{ "port-rate", required_argument, NULL, 'L' },
		{ "port-burst", required_argument, NULL, 'L' },
		{ "newcomer-rate", required_argument, NULL, 'L' },
		{ "newcomer-burst", required_argument, NULL, 'L' },
		{ "max-conns", required_argument, NULL, 'L' },
		{ "tokens-per-min", required_argument, NULL, 'L' },
		{ "bytes-per-token", required_argument, NULL, 'L' },
		HELP_OPT,
		{}
	};
	struct ig_policy pol = { .action = IG_ACTION_DROP };
	struct ig_limits lim = {};
	unsigned int given = 0;
	int c, err, proto_given, unit_given = 0, li;
	struct ig_instance in;
	enum ig_proto proto;
	__u16 port;

	while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		switch (c) {
		case 'r':
			if (ig_parse_rate(optarg, &pol.rate))
				return 2;
			break;
		case 'b':
			if (ig_parse_count(optarg, "burst", 1, IG_MAX_BURST, &pol.burst))
				return 2;
			break;
		case 'L': {
			char key[32];

			snprintf(key, sizeof(key), "%s", opts[li].name);
			for (char *k = key; *k; k++)
				if (*k == '-')
					*k = '_';
			if (!strcmp(key, "tokens_per_min"))
				snprintf(key, sizeof(key), "tokens_per_minute");
			if (ig_levels_parse(&lim, &given, key, optarg))
				return 2;
			break;
		}
		case 'u':
			if (ig_parse_unit(optarg, &pol.unit))
				return 2;
			unit_given = 1;
			break;
		case 'a':
			if (ig_parse_action(optarg, &pol.action))
				return 2;
			break;
		case 'd':
			pol.flags |= IG_POL_F_DRY_RUN;
			break;
		case 'h':
			print_cmd_help(find_cmd("limit"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	err = port_arg("limit", argc, argv, &port, &proto, &proto_given);
	if (err)
		return err;
	if (!pol.rate)
		return usage_error("limit", "%s", "--rate N/s is required");
	if (!pol.burst)
		pol.burst = pol.rate < IG_MAX_BURST ? pol.rate : IG_MAX_BURST;
	if (!unit_given)
		pol.unit = proto == IG_PROTO_TCP ? IG_UNIT_CONN : IG_UNIT_PACKET;
	if (proto == IG_PROTO_UDP && pol.unit == IG_UNIT_CONN)
		return usage_error("limit", "%s", "unit conn needs TCP: use packet or byte for UDP");
	if (pol.unit == IG_UNIT_BYTE && pol.burst < 1514)
		ig_warn("burst %llu bytes is below one full-size frame: such frames will never "
			"be admitted", (unsigned long long)pol.burst);
	if (ig_levels_finish(&lim, given))
		return 2;
	if (lim.max_conns && proto != IG_PROTO_TCP)
		return usage_error("limit", "%s", "--max-conns counts TCP connections");

	err = ig_env_check(pin_dir);
	if (!err)
		err = ig_instance_open(&in, pin_dir);
	if (err)
		return 1;
	/* the policy first (it gets its slot), then its levels, then the flags
	 * that switch the levels on */
	err = ig_policy_set(&in, proto, port, &pol);
	if (!err)
		err = ig_levels_set(&in, proto, port, &lim);
	if (!err)
		err = ig_flags_refresh(&in);
	ig_instance_close(&in);
	if (!err && ig_limits_any(&lim))
		ig_info("%u/%s levels:%s%s%s%s%s", port, ig_proto_name(proto),
			lim.prefix_rate ? " prefix" : "", lim.port_rate ? " port" : "",
			lim.newcomer_rate ? " newcomer" : "", lim.max_conns ? " max-conns" : "",
			lim.tokens_per_min ? " tokens" : "");
	if (!err)
		ig_info("%u/%s: %llu/s, burst %llu, per %s, over the limit: %s%s", port,
			ig_proto_name(proto), (unsigned long long)pol.rate,
			(unsigned long long)pol.burst, ig_unit_name(pol.unit),
			ig_action_name(pol.action),
			pol.flags & IG_POL_F_DRY_RUN ? " (dry run: counted as would_*, nothing refused)" : "");
	return exit_code(err);
}

/* tier add CIDR allow|deny|NAME, del CIDR, set NAME PORT --rate --burst,
 * unset NAME PORT, [list] [--json] */
static int cmd_tier(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		HELP_OPT,
		{}
	};
	struct ig_rate rate = {};
	const char *verb = "list";
	int c, err, json = 0, nargs, given;
	struct ig_instance in;
	enum ig_proto proto;
	__u16 port = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (ig_parse_rate(optarg, &rate.rate))
				return 2;
			break;
		case 'b':
			if (ig_parse_count(optarg, "burst", 1, IG_MAX_BURST, &rate.burst))
				return 2;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			print_cmd_help(find_cmd("tier"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	nargs = argc - optind;
	if (nargs)
		verb = argv[optind];
	if (!strcmp(verb, "list")) {
		if (nargs > 1)
			return usage_error("tier", "%s", "list takes no arguments");
	} else if (!strcmp(verb, "add")) {
		if (nargs != 3)
			return usage_error("tier", "%s", "add CIDR allow|deny|NAME");
	} else if (!strcmp(verb, "del")) {
		if (nargs != 2)
			return usage_error("tier", "%s", "del CIDR");
	} else if (!strcmp(verb, "set") || !strcmp(verb, "unset")) {
		if (nargs != 3)
			return usage_error("tier", "%s", "set|unset NAME PORT[/tcp|/udp]");
		if (ig_parse_port_spec(argv[optind + 2], &port, &proto, &given))
			return 2;
		if (!strcmp(verb, "set") && !rate.rate)
			return usage_error("tier", "%s", "set needs --rate N/s");
		if (!rate.burst)
			rate.burst = rate.rate < IG_MAX_BURST ? rate.rate : IG_MAX_BURST;
	} else {
		return usage_error("tier", "unknown action '%s': add, del, set, unset or list", verb);
	}
	if (strcmp(verb, "set") && (rate.rate || rate.burst))
		return usage_error("tier", "%s", "--rate and --burst go with set");

	err = ig_env_check(pin_dir);
	if (!err)
		err = ig_instance_open(&in, pin_dir);
	if (err)
		return 1;
	if (!strcmp(verb, "list"))
		err = ig_tiers_print(&in, json, stdout);
	else if (!strcmp(verb, "add"))
		err = ig_tier_add(&in, argv[optind + 1], argv[optind + 2]);
	else if (!strcmp(verb, "del"))
		err = ig_tier_del(&in, argv[optind + 1]);
	else if (!strcmp(verb, "set"))
		err = ig_tier_rate(&in, argv[optind + 1], proto, port, &rate);
	else
		err = ig_tier_rate(&in, argv[optind + 1], proto, port, NULL);
	ig_instance_close(&in);
	if (!err && !strcmp(verb, "add"))
		ig_info("%s: %s", argv[optind + 1], argv[optind + 2]);
	return exit_code(err);
}

/* charge SRC PORT TOKENS: through the agent's control socket when one
 * answers, else straight into the map. */
static int cmd_charge(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		HELP_OPT,
		{}
	};
	char sock[300], line[256], reply[300];
	const char *path = NULL;
	struct ig_instance in;
	unsigned long long tokens;
	enum ig_proto proto;
	int c, err, given;
	__u16 port;
	char *end;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'h':
			print_cmd_help(find_cmd("charge"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (argc - optind != 3)
		return usage_error("charge", "%s", "expected SRC PORT[/tcp|/udp] TOKENS");
	if (ig_parse_port_spec(argv[optind + 1], &port, &proto, &given))
		return 2;
	tokens = strtoull(argv[optind + 2], &end, 10);
	if (!argv[optind + 2][0] || *end || argv[optind + 2][0] == '-')
		return usage_error("charge", "invalid TOKENS '%s': a whole number", argv[optind + 2]);
	snprintf(line, sizeof(line), "charge %s %u/%s %llu", argv[optind], port, ig_proto_name(proto),
		 tokens);
	if (!path) {
		ig_ctl_default_path(pin_dir, sock, sizeof(sock));
		path = sock;
	}
	err = ig_ctl_request(path, line, reply, sizeof(reply));
	if (err == -ENOENT || err == -ECONNREFUSED) {
		err = ig_env_check(pin_dir);
		if (!err)
			err = ig_instance_open(&in, pin_dir);
		if (err)
			return 1;
		err = ig_ctl_handle(&in, line, reply, sizeof(reply));
		ig_instance_close(&in);
		if (err)
			return 1; /* ig_tokens_charge() said why, in one line */
		/* stdout carries the balance only, for scripts */
		fprintf(stderr, "infergate: no agent on %s: charged the map directly\n", path);
	} else if (err) {
		ig_err("control socket %s: %s", path,
		       err == -ETIMEDOUT ? "no answer from the agent" : strerror(-err));
		return 1;
	}
	if (!strncmp(reply, "ok ", 3)) {
		printf("%s\n", reply + 3);
		return 0;
	}
	ig_err("%s", !strncmp(reply, "error ", 6) ? reply + 6 : reply);
	return 1;
}

static int cmd_unlimit(int argc, char **argv)
{
	static const struct option opts[] = { HELP_OPT, {} };
	int c, err, proto_given;
	struct ig_instance in;
	enum ig_proto proto;
	__u16 port;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'h')
			return 2;
		print_cmd_help(find_cmd("unlimit"), stdout);
		return 0;
	}
	err = port_arg("unlimit", argc, argv, &port, &proto, &proto_given);
	if (err)
		return err;
	err = ig_env_check(pin_dir);
	if (!err)
		err = ig_instance_open(&in, pin_dir);
	if (err)
		return 1;
	err = ig_policy_clear(&in, proto, port);
	ig_instance_close(&in);
	if (err == 1)
		ig_info("%u/%s: no longer limited", port, ig_proto_name(proto));
	else if (!err)
		ig_info("%u/%s: was not limited", port, ig_proto_name(proto));
	return exit_code(err < 0 ? err : 0);
}

static int cmd_reject_budget(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		HELP_OPT,
		{}
	};
	struct ig_globals g = {};
	struct ig_instance in;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			/* 0 is allowed here: it turns replies off (reject then drops) */
			if (!strcmp(optarg, "0") || !strcmp(optarg, "0/s"))
				g.reject_rate = 0;
			else if (ig_parse_rate(optarg, &g.reject_rate))
				return 2;
			break;
		case 'b':
			if (ig_parse_count(optarg, "burst", 0, 100000000, &g.reject_burst))
				return 2;
			break;
		case 'h':
			print_cmd_help(find_cmd("reject-budget"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc)
		return usage_error("reject-budget", "unexpected argument '%s'", argv[optind]);
	err = ig_env_check(pin_dir);
	if (!err)
		err = ig_instance_open(&in, pin_dir);
	if (err)
		return 1;
	if (!g.reject_burst)
		g.reject_burst = g.reject_rate;
	err = ig_globals_set(&in, &g);
	ig_instance_close(&in);
	if (!err)
		ig_info("replies: at most %llu/s, burst %llu", (unsigned long long)g.reject_rate,
			(unsigned long long)g.reject_burst);
	return exit_code(err);
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "fleet", no_argument, NULL, 'f' },
		{ "redis", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		HELP_OPT,
		{}
	};
	const char *redis = NULL, *config = NULL;
	int c, json = 0, fleet = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'f':
			fleet = 1;
			break;
		case 'r':
			redis = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			print_cmd_help(find_cmd("status"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc)
		return usage_error("status", "unexpected argument '%s'", argv[optind]);
	if ((redis || config) && !fleet)
		return usage_error("status", "%s", "--redis and --config go with --fleet");
	if (fleet) {
		struct ig_cfg_file *cfg;
		char msg[600];
		int err;

		if (redis)
			return exit_code(ig_fleet_print_nodes(redis, NULL, json));
		if (!config)
			return usage_error("status", "%s", "--fleet needs --redis ADDR or --config FILE");
		cfg = calloc(1, sizeof(*cfg));
		if (!cfg)
			return 1;
		err = ig_config_load(config, cfg, msg, sizeof(msg));
		if (err)
			ig_err("%s", msg);
		else if (!cfg->has_cluster)
			err = -EINVAL, ig_err("%s has no [cluster] section", config);
		else
			err = ig_fleet_print_nodes(cfg->cluster.redis, cfg->cluster.password, json);
		free(cfg);
		return exit_code(err);
	}
	return exit_code(ig_status(pin_dir, json, stdout));
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, 'p' },
		HELP_OPT,
		{}
	};
	const char *config = NULL, *pid_file = NULL;
	int c, err;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'h':
			print_cmd_help(find_cmd("run"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc)
		return usage_error("run", "unexpected argument '%s'", argv[optind]);
	if (!config)
		return usage_error("run", "%s", "--config FILE is required");
	err = ig_agent_run(pin_dir, config, pid_file);
	return exit_code(err);
}

static int cmd_reload(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, 'p' },
		HELP_OPT,
		{}
	};
	const char *config = NULL;
	char path[300], msg[600], line[32];
	long pid = 0;
	FILE *f;
	int c;

	path[0] = '\0';
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			snprintf(path, sizeof(path), "%s", optarg);
			break;
		case 'h':
			print_cmd_help(find_cmd("reload"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc)
		return usage_error("reload", "unexpected argument '%s'", argv[optind]);
	if (config) {
		struct ig_cfg_file *cfg = calloc(1, sizeof(*cfg));
		int err = cfg ? ig_config_load(config, cfg, msg, sizeof(msg)) : -ENOMEM;

		free(cfg);
		if (err) {
			ig_err("%s; the agent was not asked to reload", err == -ENOMEM ? "out of memory" : msg);
			return 1;
		}
	}
	if (!path[0])
		ig_agent_pid_file(pin_dir, path, sizeof(path));
	f = fopen(path, "r");
	if (!f) {
		ig_err("no agent for %s: cannot read %s (%s)", pin_dir, path, strerror(errno));
		return 1;
	}
	if (fgets(line, sizeof(line), f))
		pid = strtol(line, NULL, 10);
	fclose(f);
	if (pid <= 1) {
		ig_err("%s does not hold a pid", path);
		return 1;
	}
	if (kill((pid_t)pid, SIGHUP)) {
		ig_err("cannot signal the agent (pid %ld from %s): %s", pid, path, strerror(errno));
		return 1;
	}
	ig_info("asked the agent (pid %ld) to reload; it logs what changed, or why it refused", pid);
	return 0;
}

static size_t top_write(char *ptr, size_t size, size_t n, void *user)
{
	return fwrite(ptr, size, n, (FILE *)user) * size;
}

static int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "metrics", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		HELP_OPT,
		{}
	};
	const char *addr = IG_DEFAULT_METRICS_ADDR;
	char url[256], errbuf[CURL_ERROR_SIZE] = "";
	int c, json = 0, ret = 0;
	long code = 0;
	__u64 n = 10;
	CURL *e;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (ig_parse_count(optarg, "-n", 1, 1000, &n))
				return 2;
			break;
		case 'm':
			addr = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			print_cmd_help(find_cmd("top"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc)
		return usage_error("top", "unexpected argument '%s'", argv[optind]);
	snprintf(url, sizeof(url), "http://%s/top%s?n=%llu", addr, json ? ".json" : "",
		 (unsigned long long)n);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(e = curl_easy_init())) {
		ig_err("cannot initialise libcurl");
		return 1;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, top_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, stdout);
	if (curl_easy_perform(e) != CURLE_OK) {
		ig_err("no agent answering on %s (%s): top needs `infergate run` with metrics on",
		       addr, errbuf);
		ret = 1;
	} else if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code != 200) {
		ig_err("the agent on %s answered HTTP %ld", addr, code);
		ret = 1;
	}
	curl_easy_cleanup(e);
	curl_global_cleanup();
	return ret;
}

static int breaker_show(const char *port_arg, __u16 port, int json)
{
	struct ig_instance in;
	int err;

	err = ig_env_check(pin_dir);
	if (!err)
		err = ig_instance_open(&in, pin_dir);
	if (err)
		return 1;
	if (port_arg) {
		struct ig_breaker b;

		err = ig_breaker_get(&in, port, &b);
		if (!err && !(b.flags & IG_BRK_F_ON)) {
			ig_err("%u/tcp has no breaker (set one up: infergate breaker %u --fallback PORT)",
			       port, port);
			err = -ENOENT;
		}
		if (!err && json)
			printf("{\"port\":%u,\"state\":\"%s\",\"force\":\"%s\",\"effective\":\"%s\","
			       "\"fallback\":%u,\"probes_left\":%d}\n", port, ig_brk_state_name(b.state),
			       ig_brk_force_name(b.force), ig_brk_state_name(ig_brk_effective(&b)),
			       b.fallback, b.probes);
		else if (!err) {
			char fb[64];

			if (b.fallback)
				snprintf(fb, sizeof(fb), "%u", b.fallback);
			else
				snprintf(fb, sizeof(fb), "none (refused while open)");
			printf("%u/tcp: %s", port, ig_brk_state_name(ig_brk_effective(&b)));
			if (b.force != IG_FORCE_AUTO)
				printf(" (forced; the agent says %s)", ig_brk_state_name(b.state));
			printf(", fallback %s\n", fb);
		}
	} else if (json) {
		fputs("{\"breakers\":", stdout);
		err = ig_breakers_print(&in, 1, stdout);
		fputs("}\n", stdout);
	} else {
		err = ig_breakers_print(&in, 0, stdout);
	}
	ig_instance_close(&in);
	return exit_code(err);
}

static int cmd_breaker(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fallback", required_argument, NULL, 'f' },
		{ "remove", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		HELP_OPT,
		{}
	};
	int c, err, proto_given, remove = 0, json = 0, fallback_given = 0, force_given = 0;
	enum ig_brk_force force = IG_FORCE_AUTO;
	const char *port_s = NULL;
	struct ig_instance in;
	struct ig_breaker b;
	enum ig_proto proto;
	__u16 port = 0, fallback = 0;
	__u64 v;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			fallback_given = 1;
			if (!strcmp(optarg, "none"))
				fallback = 0;
			else if (ig_parse_count(optarg, "fallback port", 1, 65535, &v))
				return 2;
			else
				fallback = (__u16)v;
			break;
		case 'r':
			remove = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			print_cmd_help(find_cmd("breaker"), stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		port_s = argv[optind++];
		if (ig_parse_port_spec(port_s, &port, &proto, &proto_given))
			return 2;
		if (proto != IG_PROTO_TCP)
			return usage_error("breaker", "%s", "breakers are for TCP ports only");
	}
	if (optind < argc) {
		const char *st = argv[optind++];

		force_given = 1;
		if (!strcmp(st, "open"))
			force = IG_FORCE_OPEN;
		else if (!strcmp(st, "closed") || !strcmp(st, "close"))
			force = IG_FORCE_CLOSED;
		else if (!strcmp(st, "auto"))
			force = IG_FORCE_AUTO;
		else
			return usage_error("breaker", "invalid state '%s': expected open, closed or auto",
					   st);
	}
	if (optind < argc)
		return usage_error("breaker", "unexpected argument '%s'", argv[optind]);
	if (fallback_given && fallback == port && port)
		return usage_error("breaker", "%s", "the fallback cannot be the port itself");
	if (remove && (fallback_given || force_given))
		return usage_error("breaker", "%s", "--remove takes no other setting");
	if (!port_s && (remove || fallback_given))
		return usage_error("breaker", "%s", "which PORT?");
	if (!remove && !fallback_given && !force_given)
		return breaker_show(port_s, port, json);

	err = ig_env_check(pin_dir);
	if (!err)
		err = ig_instance_open(&in, pin_dir);
	if (err)
		return 1;
	err = ig_breaker_get(&in, port, &b);
	if (err)
		goto out;
	if (remove) {
		if (!(b.flags & IG_BRK_F_ON)) {
			ig_info("%u/tcp: had no breaker", port);
			goto out;
		}
		memset(&b, 0, sizeof(b));
		err = ig_breaker_put(&in, port, &b);
		if (!err)
			ig_info("%u/tcp: breaker removed; established steered connections keep "
				"their route until they end", port);
		goto out;
	}
	if (!(b.flags & IG_BRK_F_ON)) {
		memset(&b, 0, sizeof(b));
		b.flags = IG_BRK_F_ON;
	}
	if (fallback_given)
		b.fallback = fallback;
	if (force_given)
		b.force = force;
	/* one update: the data path sees the old breaker or the new one */
	err = ig_breaker_put(&in, port, &b);
	if (!err) {
		char fb[32] = "none (refuse while open)";

		if (b.fallback)
			snprintf(fb, sizeof(fb), "%u", b.fallback);
		ig_info("%u/tcp: breaker %s%s, fallback %s", port,
			b.force == IG_FORCE_AUTO ? "automatic, now " : "forced ",
			ig_brk_state_name(ig_brk_effective(&b)), fb);
	}
out:
	ig_instance_close(&in);
	return exit_code(err);
}

static const struct ig_cmd cmds[] = {
	{ "attach", cmd_attach, "IFACE [--hook xdp|tc] [--xdp-mode native|generic] [--max-sources N] [--max-flows N]",
	  "Load the data path (or reuse the pinned state) and attach it to IFACE.\n"
	  "Attaching again replaces the programs in place, atomically, keeping every\n"
	  "bucket, flow and breaker: how a new version is rolled out.\n\n"
	  "  --hook xdp|tc          xdp (default) runs in the driver before the stack; tc runs\n"
	  "                         the same code as a tcx ingress program, for devices where\n"
	  "                         XDP is taken or missing\n"
	  "  --xdp-mode native|generic   native (default) needs driver support\n"
	  "  --max-sources N        (source, port) pairs to size the table for (default\n"
	  "                         262144, rounded up to a power of two; 64 bytes each:\n"
	  "                         4 ways of 16 bytes). When a set is full, its least\n"
	  "                         indebted source is forgotten. Fixed while pinned\n"
	  "  --max-flows N          connections the breakers' flow table holds (default\n"
	  "                         262144, 64 bytes each with the kernel's overhead; LRU:\n"
	  "                         when full the least recently used is forgotten). Fixed\n"
	  "                         while pinned\n" },
	{ "detach", cmd_detach, "IFACE [--purge]",
	  "Detach from IFACE. Limits, buckets and counters stay pinned for the next attach.\n\n"
	  "  --purge                also remove the pinned state once no interface is attached\n" },
	{ "limit", cmd_limit, "PORT[/tcp|/udp] --rate N/s [--burst N] [--unit conn|packet|byte] [--action drop|reject] [--dry-run]",
	  "Limit each source address on PORT (tcp unless /udp) to N units a second.\n"
	  "Applies to the next packet; changing a limit keeps every source's state.\n\n"
	  "  --rate N/s             units per second and source (required)\n"
	  "  --burst N              units a source may use at once; new sources start full\n"
	  "                         (default: one second of rate)\n"
	  "  --unit conn|packet|byte  what a unit is: a new TCP connection (SYN; default for\n"
	  "                         tcp), a packet (default for udp) or a byte\n"
	  "  --action drop|reject   over the limit: drop silently (default), or answer with a\n"
	  "                         TCP RST / ICMP port unreachable within the reject budget\n"
	  "  --dry-run              refuse nothing: count what the action would have done\n"
	  "                         (reasons would_drop, would_reject; sampled for top)\n"
	  "Fair share (each level is off unless given; a unit is admitted only if every\n"
	  "level admits it, and a refused one is charged to none):\n"
	  "  --prefix-rate N/s --prefix-burst N   all sources of one prefix together\n"
	  "  --prefix-len V4[,V6]   the prefix (default 24,64)\n"
	  "  --port-rate N/s --port-burst N       all sources of the port together\n"
	  "  --newcomer-rate N/s --newcomer-burst N  sources not yet tracked admitted per\n"
	  "                         second, together: a spoofed flood cannot buy fresh bursts\n"
	  "  --max-conns N          simultaneous connections per source (TCP)\n"
	  "  --tokens-per-min N     LLM-token budget per source: replies are charged at\n"
	  "  --bytes-per-token N    N bytes a token (default 4), and `infergate charge`\n" },
	{ "tier", cmd_tier, "[list [--json] | add CIDR allow|deny|NAME | del CIDR | set NAME PORT --rate N/s [--burst N] | unset NAME PORT]",
	  "Tiers by source prefix (IPv4 and IPv6), most specific prefix wins: allow (never\n"
	  "limited), deny (always dropped, on every limited port) or a named tier whose\n"
	  "sources get their own rate per port (set) instead of the port's.\n\n"
	  "  --rate N/s             with set: units per second and source of that tier\n"
	  "  --burst N              with set (default: one second of rate)\n"
	  "  --json                 with list\n" },
	{ "charge", cmd_charge, "SRC PORT[/tcp|/udp] TOKENS [--socket PATH]",
	  "Charge TOKENS to SRC's LLM-token budget on PORT (limit PORT --tokens-per-min N):\n"
	  "what a gateway reports a request really cost. Prints the balance after it\n"
	  "(negative: in debt; new connections are refused until it is positive again).\n"
	  "Goes through the agent's control socket; without an agent, into the map.\n\n"
	  "  --socket PATH          the agent's socket (default /run/infergate/<pin dir>.sock)\n" },
	{ "unlimit", cmd_unlimit, "PORT[/tcp|/udp]",
	  "Stop limiting PORT. Its counters stay until the slot is reused.\n" },
	{ "reject-budget", cmd_reject_budget, "--rate N/s [--burst N]",
	  "Cap the replies (RST, ICMP) sent for all ports together, so that spoofed\n"
	  "floods cannot use infergate as a reflector. Beyond it, rejects become drops.\n"
	  "Default 1000/s, burst 1000. --rate 0 turns replies off.\n" },
	{ "breaker", cmd_breaker, "[PORT[/tcp]] [--fallback PORT|none] [open|closed|auto] [--remove] [--json]",
	  "Set up a port's circuit breaker, force its state, or show breakers.\n"
	  "While open, new connections to PORT go to the fallback port (the client still\n"
	  "sees PORT) or, without a fallback, are refused with a RST; established\n"
	  "connections stay where they are. The agent (infergate run) opens and closes\n"
	  "breakers from the backend's health; a forced state holds until set to auto.\n\n"
	  "  PORT                   without a setting: show this breaker; without PORT: all\n"
	  "  --fallback PORT|none   where new connections go while open\n"
	  "  open|closed            force the state, whatever the agent concludes\n"
	  "  auto                   hand the state back to the agent\n"
	  "  --remove               remove the breaker\n"
	  "  --json                 show as JSON\n" },
	{ "reload", cmd_reload, "[--config FILE] [--pid-file PATH]",
	  "Ask the running agent to re-read its config (the same as sending it SIGHUP).\n"
	  "Only what changed is applied: limits that change keep every source's share of\n"
	  "its burst (a reload never hands out a fresh burst), removed ports stop being\n"
	  "limited, new ones start; breakers keep their state. An invalid file changes\n"
	  "nothing.\n\n"
	  "  --config FILE          check this file first; if it is invalid, say why (FILE:LINE)\n"
	  "                         and do not signal the agent\n"
	  "  --pid-file PATH        the agent's pid file (default /run/infergate/<pin dir>.pid)\n" },
	{ "run", cmd_run, "--config FILE [--pid-file PATH]",
	  "Run the agent in the foreground: attach (or adopt the pinned instance), apply\n"
	  "the config, and drive every breaker from the data path's passive health\n"
	  "counters (HTTP status classes and RSTs the backend sends) and active probes.\n"
	  "Stops on SIGINT/SIGTERM; the data path keeps running with the pinned state,\n"
	  "and a restarted agent adopts it (buckets, flows and breakers are kept).\n"
	  "A config with a mistake is refused with FILE:LINE and nothing is applied.\n\n"
	  "SIGHUP (or infergate reload) re-reads the config and applies what changed.\n"
	  "Under systemd (Type=notify) it reports readiness and reloads.\n\n"
	  "  --config FILE          the config (see user/infergate.conf.example)\n"
	  "  --pid-file PATH        where to write the pid (default /run/infergate/<pin dir>.pid)\n" },
	{ "top", cmd_top, "[-n N] [--metrics ADDR] [--json]",
	  "Per port, the sources with the most drops and the fewest tokens left, from the\n"
	  "running agent (infergate run), which samples the data path's drops (at most one\n"
	  "per CPU per millisecond, so counts are samples, not totals: the per-port totals\n"
	  "are in status and /metrics) and reads each source's bucket.\n\n"
	  "  -n N                   sources per port (default 10)\n"
	  "  --metrics ADDR         where the agent serves metrics (default 127.0.0.1:9464)\n"
	  "  --json                 as JSON\n" },
	{ "status", cmd_status, "[--json] [--fleet --redis ADDR | --fleet --config FILE]",
	  "Show attachments, limits, counters and tracked sources.\n\n"
	  "  --json                 one JSON object, for scripts\n"
	  "  --fleet                instead, every node of the fleet as it last published itself\n"
	  "                         to Redis (its breakers and its sync), from any host\n"
	  "  --redis ADDR           the fleet's Redis: HOST:PORT or unix:/path\n"
	  "  --config FILE          or take it (and its password) from FILE's [cluster]\n" },
};

static const struct ig_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: infergate [--pin-dir DIR] [-v] COMMAND [ARGS]\n\n"
		"Per-source rate limits in XDP for the ports of an inference server.\n\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %-14s %s\n", cmds[i].name, cmds[i].args);
	fprintf(out,
		"\nglobal options:\n"
		"  --pin-dir DIR   the instance's pinned state (default %s);\n"
		"                  one instance per network namespace\n"
		"  -v, --verbose   more detail; twice for libbpf's debug output\n"
		"  -h, --help      this help; COMMAND --help for a command's options\n"
		"  --version       print the version\n",
		IG_DEFAULT_PIN_DIR);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	const struct ig_cmd *cmd;
	int c, verbose = 0;

	/* '+': stop at the subcommand, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("infergate %s\n", IG_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	/* a line at a time even into a file or a pipe: the agent's log is read
	 * while it runs */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ig_log_set_level(verbose >= 2 ? IG_LOG_TRACE : verbose ? IG_LOG_DEBUG : IG_LOG_INFO);
	ig_log_setup_libbpf();

	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "infergate: unknown command '%s' (see 'infergate --help')\n",
			argv[optind]);
		return 2;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* 0, not 1: glibc then starts afresh, permuting again (the "+" above stopped that) */
	return cmd->run(argc, argv);
}
