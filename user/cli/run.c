// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* run (the agent), reload (signal it), charge (tell it what a request cost). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "agent/agent.h"
#include "agent/ctl.h"
#include "lib/args.h"
#include "lib/cfgread.h"
#include "lib/log.h"
#include "lib/pidfile.h"

struct agent_cfg {
	const char *config, *pid_file;
};

#define CONFIG_OPT(_help, ...)                                                               \
	IG_OPT("config", IG_OPT_STRING, struct agent_cfg, config, .short_name = 'c',        \
	       .metavar = "FILE", .complete = IG_COMPLETE_FILE, .help = (_help), __VA_ARGS__)
#define PID_FILE_OPT(_help)                                                                  \
	IG_OPT("pid-file", IG_OPT_STRING, struct agent_cfg, pid_file, .metavar = "PATH",    \
	       .complete = IG_COMPLETE_FILE, .help = (_help))

static const struct ig_opt run_opts[] = {
	CONFIG_OPT("the config (see user/infergate.conf.example)", .required = 1),
	PID_FILE_OPT("where to write the pid (default /run/infergate/<pin dir>.pid)"),
	{}
};

static int cmd_run(const void *cfg, int argc, char **argv)
{
	const struct agent_cfg *c = cfg;

	(void)argc, (void)argv;
	return ig_cli_exit(ig_agent_run(ig_cli_pin_dir, c->config, c->pid_file));
}

static const struct ig_opt reload_opts[] = {
	CONFIG_OPT("check this file first; if it is invalid, say why (FILE:LINE)\n"
		   "and do not signal the agent"),
	PID_FILE_OPT("the agent's pid file (default /run/infergate/<pin dir>.pid)"),
	{}
};

static int cmd_reload(const void *cfg, int argc, char **argv)
{
	const struct agent_cfg *c = cfg;
	char path[300], msg[600], cmd[128];
	pid_t pid = 0;
	int err;

	(void)argc, (void)argv;
	if (c->config) {
		struct ig_cfg_file *file;

		err = ig_config_read(c->config, &file, msg, sizeof(msg));
		free(file);
		if (err) {
			ig_err("%s; the agent was not asked to reload", msg);
			return 1;
		}
	}
	if (c->pid_file)
		snprintf(path, sizeof(path), "%s", c->pid_file);
	else
		ig_agent_pid_file(ig_cli_pin_dir, path, sizeof(path));
	err = ig_pidfile_read(path, &pid);
	if (err == -EINVAL) {
		ig_err("%s does not hold a pid", path);
		return 1;
	}
	if (err) {
		ig_err("no agent for %s: cannot read %s (%s)", ig_cli_pin_dir, path, strerror(-err));
		return 1;
	}
	/* a stale pid file may name a pid now reused by anything else */
	err = ig_pid_is_agent(pid, cmd, sizeof(cmd));
	if (err == -EPERM) {
		ig_err("pid %d from %s is not an infergate agent (it runs '%s'): not signalled",
		       (int)pid, path, cmd);
		return 1;
	}
	if (!err && kill(pid, SIGHUP))
		err = -errno;
	if (err) {
		ig_err("cannot signal the agent (pid %d from %s): %s", (int)pid, path, strerror(-err));
		return 1;
	}
	ig_info("asked the agent (pid %d) to reload; it logs what changed, or why it refused",
		(int)pid);
	return 0;
}

struct charge_cfg {
	const char *socket;
};

static const struct ig_opt charge_opts[] = {
	IG_OPT("socket", IG_OPT_STRING, struct charge_cfg, socket, .metavar = "PATH",
	       .complete = IG_COMPLETE_FILE,
	       .help = "the agent's socket (default /run/infergate/<pin dir>.sock)"),
	{}
};

/* Without an agent, into the map: the same handler the agent runs. */
static int charge_map(const char *path, const char *line, char *reply, size_t len)
{
	struct ig_instance in;
	int err;

	if (ig_cli_open(&in))
		return -EIO;
	err = ig_ctl_handle(&in, line, reply, len);
	ig_instance_close(&in);
	if (err)
		return err; /* ig_tokens_charge() said why, in one line */
	/* stdout carries the balance only, for scripts */
	fprintf(stderr, "infergate: no agent on %s: charged the map directly\n", path);
	return 0;
}

/* charge SRC PORT TOKENS: through the agent's control socket when one
 * answers, else straight into the map. */
static int cmd_charge(const void *cfg, int argc, char **argv)
{
	const struct charge_cfg *c = cfg;
	char sock[300], line[256], reply[300];
	const char *path = c->socket;
	unsigned long long tokens;
	enum ig_proto proto;
	int err, given;
	__u16 port;
	char *end;

	if (argc != 3)
		return ig_cli_usage("charge", "%s", "expected SRC PORT[/tcp|/udp] TOKENS");
	if (ig_parse_port_spec(argv[1], &port, &proto, &given))
		return 2;
	tokens = strtoull(argv[2], &end, 10);
	if (!argv[2][0] || *end || argv[2][0] == '-')
		return ig_cli_usage("charge", "invalid TOKENS '%s': a whole number", argv[2]);
	snprintf(line, sizeof(line), "charge %s %u/%s %llu", argv[0], port, ig_proto_name(proto),
		 tokens);
	if (!path) {
		ig_ctl_default_path(ig_cli_pin_dir, sock, sizeof(sock));
		path = sock;
	}
	err = ig_ctl_request(path, line, reply, sizeof(reply));
	if (err == -ENOENT || err == -ECONNREFUSED) {
		if (charge_map(path, line, reply, sizeof(reply)))
			return 1;
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

const struct ig_cmd ig_agent_cmds[] = {
	IG_CMD("run", cmd_run, run_opts, struct agent_cfg,
	       .doc = "Run the agent in the foreground: attach (or adopt the pinned instance), apply\n"
		      "the config, and drive every breaker from the data path's passive health\n"
		      "counters (HTTP status classes and RSTs the backend sends) and active probes.\n"
		      "Stops on SIGINT/SIGTERM; the data path keeps running with the pinned state,\n"
		      "and a restarted agent adopts it (buckets, flows and breakers are kept).\n"
		      "A config with a mistake is refused with FILE:LINE and nothing is applied.\n\n"
		      "SIGHUP (or infergate reload) re-reads the config and applies what changed.\n"
		      "Under systemd (Type=notify) it reports readiness and reloads."),
	IG_CMD("reload", cmd_reload, reload_opts, struct agent_cfg,
	       .doc = "Ask the running agent to re-read its config (the same as sending it SIGHUP).\n"
		      "Only what changed is applied: limits that change keep every source's share of\n"
		      "its burst (a reload never hands out a fresh burst), removed ports stop being\n"
		      "limited, new ones start; breakers keep their state. An invalid file changes\n"
		      "nothing. The pid file is checked to name an infergate agent before it is\n"
		      "signalled."),
	IG_CMD("charge", cmd_charge, charge_opts, struct charge_cfg,
	       .args = "SRC PORT[/tcp|/udp] TOKENS",
	       .doc = "Charge TOKENS to SRC's LLM-token budget on PORT (limit PORT --tokens-per-min N):\n"
		      "what a gateway reports a request really cost. Prints the balance after it\n"
		      "(negative: in debt; new connections are refused until it is positive again).\n"
		      "Goes through the agent's control socket; without an agent, into the map."),
	{}
};
