// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* limit, unlimit, reject-budget: per-port policies and the reply budget. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/algo.h"
#include "lib/args.h"
#include "lib/inflight.h"
#include "lib/keys.h"
#include "lib/levels.h"
#include "lib/log.h"
#include "lib/policy.h"
#include "lib/port.h"
#include "lib/proxy.h"

/* Indexed by the ABI's values: the index is what the parser stores. */
static const char *const units[IG_UNIT_MAX + 1] = {
	[IG_UNIT_CONN] = "conn", [IG_UNIT_PACKET] = "packet", [IG_UNIT_BYTE] = "byte",
	[IG_UNIT_REQUEST] = "request",
};
static const char *const actions[IG_ACTION_MAX + 1] = {
	[IG_ACTION_DROP] = "drop", [IG_ACTION_REJECT] = "reject", [IG_ACTION_429] = "429",
};

/* Does the instance drive some interface from the tc hook (a pinned link_tc_*)? */
static int pinned_tc_link(const char *pin_dir)
{
	struct dirent *e;
	DIR *d = opendir(pin_dir);
	int tc = 0;

	if (!d)
		return 0;
	while (!tc && (e = readdir(d)))
		tc = !strncmp(e->d_name, "link_tc_", 8);
	closedir(d);
	return tc;
}

struct limit_cfg {
	__u64 rate, burst;
	int unit; /* -1: by the protocol */
	int action;
	int dry_run;
	struct ig_limits lim;
	unsigned int given; /* the level bursts given (ig_levels_parse) */
	int token_count;    /* enum ig_token_count; -1: not given (usage) */
	int key;            /* enum ig_key_mode: source unless given */
	__u64 anon_rate, anon_burst;
	int anon_given;     /* --anonymous-rate, 0 included */
	int any_key;
	const char *proxy_from;
	struct ig_algo_want algo; /* .algo -1: not given */
	struct ig_inflight_cfg inflight;
};

static int parse_window(const struct ig_opt *o, const char *arg, void *cfg)
{
	(void)o;
	return ig_parse_window(arg, &((struct limit_cfg *)cfg)->algo.window_s);
}

/* --anonymous-rate: 0 is a rate here (refuse requests without a known key),
 * so whether it was given is kept apart from its value. */
static int parse_anon_rate(const struct ig_opt *o, const char *arg, void *cfg)
{
	struct limit_cfg *c = cfg;

	(void)o;
	c->anon_given = 1;
	if (!strcmp(arg, "0") || !strcmp(arg, "0/s")) {
		c->anon_rate = 0;
		return 0;
	}
	return ig_parse_rate(arg, &c->anon_rate) ? -EINVAL : 0;
}

/* A fair-share level: .what is its key in the config file, whose parser
 * (ig_levels_parse) reads the command line's value too. */
static int parse_level(const struct ig_opt *o, const char *arg, void *cfg)
{
	struct limit_cfg *c = cfg;

	return ig_levels_parse(&c->lim, &c->given, o->what, arg) ? -EINVAL : 0;
}

/* Requests in flight: .what is the config file's key, read by the same
 * parser (ig_inflight_parse). */
static int parse_inflight(const struct ig_opt *o, const char *arg, void *cfg)
{
	struct limit_cfg *c = cfg;

	return ig_inflight_parse(&c->inflight, NULL, o->what, arg) ? -EINVAL : 0;
}

#define INFLIGHT(_name, _meta, _key, ...)                                                    \
	{ .name = (_name), .type = IG_OPT_CUSTOM, .parse = parse_inflight, .metavar = (_meta), \
	  .what = (_key), .detail = 1, __VA_ARGS__ }

#define LEVEL(_name, _meta, _key, ...)                                                       \
	{ .name = (_name), .type = IG_OPT_CUSTOM, .parse = parse_level, .metavar = (_meta),  \
	  .what = (_key), .detail = 1, __VA_ARGS__ }

static const struct ig_opt limit_opts[] = {
	IG_OPT("rate", IG_OPT_RATE, struct limit_cfg, rate, .metavar = "N/PERIOD", .required = 1,
	       .help = "units per source and period (required): N/s, N/min\n"
		       "(or N/m), N/h, N/d, or a count of them (5/10s, 100/15min)"),
	IG_OPT("burst", IG_OPT_COUNT, struct limit_cfg, burst, .metavar = "N", .what = "burst",
	       .min = 1, .max = IG_MAX_BURST,
	       .help = "units a source may use at once; new sources start full\n"
		       "(default: the rate's N, a period's worth)"),
	IG_OPT("unit", IG_OPT_ENUM, struct limit_cfg, unit, .values = units, .what = "unit",
	       .help = "what a unit is: a new TCP connection (SYN; default for\n"
		       "tcp), a packet (default for udp), a byte, or an HTTP\n"
		       "request (tcp: HTTP/1.x and h2c; keep-alive and pipelined\n"
		       "requests each count; TLS cannot be seen into: use conn)"),
	IG_OPT("action", IG_OPT_ENUM, struct limit_cfg, action, .values = actions,
	       .what = "action",
	       .help = "over the limit: drop silently (default; on a request port\n"
		       "the client's TCP sends it again later: a delay), or answer\n"
		       "within the reject budget: TCP RST / ICMP port unreachable,\n"
		       "and on a request port HTTP 429 with Retry-After; 429: an\n"
		       "HTTP 429 on a conn port too (the SYN gets a SYN cookie, the\n"
		       "request the 429; the server never sees the connection)"),
	IG_OPT("algorithm", IG_OPT_ENUM, struct limit_cfg, algo.algo, .values = ig_algo_names,
	       .what = "--algorithm",
	  .help = "how the rate is counted, at the source, prefix and port\n"
		  "levels: token-bucket (default: up to --burst at once),\n"
		  "fixed-window (N per aligned window), sliding-window (N per\n"
		  "window ending now, estimated), leaky-bucket (no burst: evenly\n"
		  "spaced); a window is the rate's period (60/min: a minute)"),
	{ .name = "window", .type = IG_OPT_CUSTOM, .parse = parse_window, .metavar = "DURATION",
	  .help = "fixed-window and sliding-window: write the rates per this\n"
		  "window (10/s with --window 60s counts 600 per minute)" },
	IG_OPT("dry-run", IG_OPT_BOOL, struct limit_cfg, dry_run,
	       .help = "refuse nothing: count what the action would have done\n"
		       "(reasons would_drop, would_reject; sampled for top)"),
	LEVEL("prefix-rate", "N/PERIOD", "prefix_rate", .help = "all sources of one prefix together",
	      .heading = "Fair share (each level is off unless given; a unit is admitted only if every\n"
			 "level admits it, and a refused one is charged to none):"),
	LEVEL("prefix-burst", "N", "prefix_burst", .help = "(default: the N of prefix-rate)"),
	LEVEL("prefix-len", "V4[,V6]", "prefix_len", .help = "the prefix (default 24,64)"),
	LEVEL("port-rate", "N/PERIOD", "port_rate", .help = "all sources of the port together"),
	LEVEL("port-burst", "N", "port_burst", .help = "(default: the N of port-rate)"),
	LEVEL("newcomer-rate", "N/PERIOD", "newcomer_rate",
	      .help = "sources not yet tracked admitted, together:\n"
		      "a spoofed flood cannot buy fresh bursts"),
	LEVEL("newcomer-burst", "N", "newcomer_burst",
	      .help = "(default: the N of newcomer-rate)"),
	LEVEL("max-conns", "N", "max_conns", .help = "simultaneous connections per source (TCP)"),
	LEVEL("tokens-per-min", "N", "tokens_per_minute",
	      .help = "LLM-token budget per source: replies are charged (as\n"
		      "--token-count says), and `infergate charge` what a request cost"),
	LEVEL("tokens", "N/PERIOD", "tokens",
	      .help = "the same budget per any period (100000/d, 2M/h; a bare N is\n"
		      "a minute's): a period's worth is what a source may owe"),
	LEVEL("bytes-per-token", "N", "bytes_per_token",
	      .help = "bytes charged as one token where bytes are counted (default 4)"),
	INFLIGHT("max-inflight", "N", "max_inflight",
		 .heading = "Requests in flight (--unit request; off unless given):",
		 .help = "at most N requests admitted and not yet answered on the port\n"
			 "(1..256; 0: off): set it to what the engine runs at once\n"
			 "(vLLM's max_num_seqs) and nothing waits in its queue; one\n"
			 "more is refused like any level (429 with --action 429)"),
	INFLIGHT("inflight-timeout", "SECONDS", "inflight_timeout",
		 .help = "a request whose answer was not seen to end (client gone\n"
			 "silent, framing lost) counts for this long (default 300)"),
	INFLIGHT("max-inflight-per-client", "N", "max_inflight_per_client",
		 .help = "at most N of them one client's: its address, or a PROXY\n"
			 "header's client (default: no share; a client reading its\n"
			 "answers slowly holds its requests that long)"),
	/* not a level: a rule of the policy (its flags), so not in LEVEL() */
	IG_OPT("token-count", IG_OPT_ENUM, struct limit_cfg, token_count,
	       .values = ig_token_count_names, .what = "--token-count", .detail = 1,
	       .help = "how replies are counted against --tokens-per-min.\n"
		       "usage (default): the engine's own \"usage\" object (JSON\n"
		       "replies; streams with stream_options.include_usage), exact;\n"
		       "until it comes, a stream pays a token per data: event, other\n"
		       "replies by bytes, the prompt by the request's bytes.\n"
		       "events: a token per data: event of a stream, the rest by\n"
		       "bytes. bytes: every reply byte / --bytes-per-token (0.6)."),
	IG_OPT("key", IG_OPT_ENUM, struct limit_cfg, key, .values = ig_key_mode_names,
	       .what = "--key", .detail = 1,
	       .heading = "Who the client is (default: the source address; a limit without --key\n"
			  "goes back to it):",
	       .help = "source: the source address. api-key (unit request): the\n"
		       "API key of each request (Authorization: Bearer, x-api-key,\n"
		       "api-key), known by its seeded hash (`infergate key`);\n"
		       "requests without a known key are charged to their source.\n"
		       "proxy-source (unit request): the client address of the PROXY\n"
		       "header (v1, v2) a trusted load balancer (--proxy-from)\n"
		       "starts each connection with"),
	{ .name = "anonymous-rate", .type = IG_OPT_CUSTOM, .parse = parse_anon_rate,
	  .metavar = "N/PERIOD", .detail = 1,
	  .help = "api-key: requests without a known key, per source address\n"
		  "(default: the port's --rate); 0 refuses them all" },
	IG_OPT("anonymous-burst", IG_OPT_COUNT, struct limit_cfg, anon_burst, .metavar = "N",
	       .what = "--anonymous-burst", .min = 1, .max = IG_MAX_BURST, .detail = 1,
	       .help = "(default: the N of anonymous-rate)"),
	IG_OPT("any-key", IG_OPT_BOOL, struct limit_cfg, any_key, .detail = 1,
	       .help = "api-key: a key `infergate key` does not hold is a client\n"
		       "of its own (at the port's rate) instead of anonymous"),
	IG_OPT("proxy-from", IG_OPT_STRING, struct limit_cfg, proxy_from, .metavar = "CIDR[,CIDR]",
	       .detail = 1,
	       .help = "proxy-source: load balancers whose PROXY headers are\n"
		       "believed, added to the instance's one list (shared by\n"
		       "every proxy-source port; `infergate proxy-from`)"),
	{}
};

/* PORT[/proto]: the one positional argument of limit and unlimit. */
static int port_arg(const char *cmd, int argc, char **argv, __u16 *port, enum ig_proto *proto)
{
	int proto_given;

	if (argc != 1)
		return ig_cli_usage(cmd, "%s", "expected one PORT[/tcp|/udp]");
	return ig_parse_port_spec(argv[0], port, proto, &proto_given) ? 2 : 0;
}

/* --key and what goes with it, checked before anything is opened. */
static int key_args(const struct limit_cfg *c, enum ig_proto proto, struct ig_policy *pol,
		    struct ig_key_policy *kp, struct ig_lpm_key *proxy, int *nproxy)
{
	enum ig_key_mode mode = (enum ig_key_mode)c->key;

	if (mode == IG_KEY_API && pol->unit != IG_UNIT_REQUEST)
		return ig_cli_usage("limit", "%s", "--key api-key reads each request's headers: it "
				    "needs --unit request");
	if (mode == IG_KEY_PROXY && (proto != IG_PROTO_TCP || pol->unit != IG_UNIT_REQUEST))
		return ig_cli_usage("limit", "%s", "--key proxy-source reads the PROXY header "
				    "where it reads requests: it needs --unit request (TCP)");
	if (mode != IG_KEY_API && (c->anon_given || c->anon_burst || c->any_key))
		return ig_cli_usage("limit", "%s", "--anonymous-rate, --anonymous-burst and "
				    "--any-key go with --key api-key");
	if (c->anon_burst && !c->anon_given)
		return ig_cli_usage("limit", "%s", "--anonymous-burst needs --anonymous-rate");
	if (mode != IG_KEY_PROXY && c->proxy_from)
		return ig_cli_usage("limit", "%s", "--proxy-from goes with --key proxy-source");
	if (c->proxy_from && ig_proxy_from_parse(c->proxy_from, proxy, 64, nproxy))
		return 2;
	pol->flags |= (__u32)mode << IG_POL_KEY_SHIFT;
	if (c->any_key)
		pol->flags |= IG_POL_F_ANY_KEY;
	if (c->anon_given) {
		kp->flags = IG_KP_F_ANON;
		kp->anon_rate = c->anon_rate;
		kp->anon_burst = c->anon_burst ? c->anon_burst : ig_rate_default_burst(c->anon_rate);
		if (kp->anon_rate &&
		    ig_rate_check_burst(kp->anon_rate, kp->anon_burst, "--anonymous-burst"))
			return -ERANGE;
	}
	return 0;
}

/* A proxy-source port with no load balancer trusted refuses every header. */
static void proxy_from_warn(const struct ig_instance *in)
{
	struct ig_lpm_key *keys;
	int n;

	if (!ig_proxy_from_read(in, &keys, &n)) {
		if (!n)
			ig_warn("proxy_from is empty: every connection with a PROXY header is "
				"refused (infergate proxy-from add CIDR)");
		free(keys);
	}
}

static const char *anon_text(const struct ig_policy *pol, const struct ig_key_policy *kp)
{
	static char buf[128];

	if (IG_POL_KEY(pol->flags) != IG_KEY_API)
		return "";
	if (!(kp->flags & IG_KP_F_ANON))
		snprintf(buf, sizeof(buf), ", without a known key: the port's rate per source%s",
			 pol->flags & IG_POL_F_ANY_KEY ? " (any key: a client of its own)" : "");
	else if (!kp->anon_rate)
		snprintf(buf, sizeof(buf), ", without a known key: refused%s",
			 pol->flags & IG_POL_F_ANY_KEY ? " (any key: a client of its own)" : "");
	else
		snprintf(buf, sizeof(buf), ", without a known key: %s, burst %llu per source%s",
			 ig_rate_s(kp->anon_rate), (unsigned long long)kp->anon_burst,
			 pol->flags & IG_POL_F_ANY_KEY ? " (any key: a client of its own)" : "");
	return buf;
}

static int cmd_limit(const void *cfg, int argc, char **argv)
{
	const struct limit_cfg *c = cfg;
	struct ig_policy pol = { .rate = c->rate, .burst = c->burst };
	struct ig_limits lim = c->lim;
	struct ig_key_policy keys = {};
	struct ig_lpm_key proxy[64];
	int added[64], nproxy = 0;
	struct ig_instance in;
	enum ig_proto proto;
	__u16 port;
	int err;

	err = port_arg("limit", argc, argv, &port, &proto);
	if (err)
		return err;
	pol.action = (enum ig_action)c->action;
	if (c->dry_run)
		pol.flags |= IG_POL_F_DRY_RUN;
	/* like --dry-run, a re-limit without it goes back to the default */
	if (c->token_count >= 0)
		pol.flags = ig_token_count_flags(pol.flags, (enum ig_token_count)c->token_count);
	if (!pol.burst)
		pol.burst = ig_rate_default_burst(pol.rate);
	if (ig_rate_check_burst(pol.rate, pol.burst, "--burst"))
		return 2;
	if (c->unit >= 0)
		pol.unit = (enum ig_unit)c->unit;
	else
		pol.unit = proto == IG_PROTO_TCP ? IG_UNIT_CONN : IG_UNIT_PACKET;
	if (proto == IG_PROTO_UDP && (pol.unit == IG_UNIT_CONN || pol.unit == IG_UNIT_REQUEST))
		return ig_cli_usage("limit", "unit %s needs TCP: use packet or byte for UDP",
				    units[pol.unit]);
	if (pol.action == IG_ACTION_429 &&
	    (proto != IG_PROTO_TCP || (pol.unit != IG_UNIT_CONN && pol.unit != IG_UNIT_REQUEST)))
		return ig_cli_usage("limit", "%s", "action 429 answers HTTP requests: it needs a TCP "
				    "port with --unit conn or request (use reject for the others)");
	if (ig_levels_finish(&lim, c->given))
		return 2;
	{
		struct ig_algo_want w = c->algo;

		w.burst_given = c->burst != 0;
		w.levels_given = c->given;
		if (ig_algo_apply(&pol, &lim, &w, "limit"))
			return 2;
	}
	if (lim.max_conns && proto != IG_PROTO_TCP)
		return ig_cli_usage("limit", "%s", "--max-conns counts TCP connections");
	if ((c->inflight.max || c->inflight.timeout_s || c->inflight.per_client) &&
	    (proto != IG_PROTO_TCP || pol.unit != IG_UNIT_REQUEST))
		return ig_cli_usage("limit", "%s", "--max-inflight counts HTTP requests: it needs "
				    "--unit request (TCP)");
	if ((c->inflight.timeout_s || c->inflight.per_client) && !c->inflight.max)
		return ig_cli_usage("limit", "%s", "--inflight-timeout and --max-inflight-per-client "
				    "go with --max-inflight");
	if (c->token_count >= 0 && !lim.tokens_per_min)
		return ig_cli_usage("limit", "%s", "--token-count says how a token budget is "
				    "charged: it needs --tokens-per-min");
	err = key_args(c, proto, &pol, &keys, proxy, &nproxy);
	if (err)
		return err;

	if (ig_cli_open(&in))
		return 1;
	/* what a byte burst must hold depends on the hook: a GRO aggregate
	 * (64 KiB) on tc, a frame on xdp */
	if (pol.unit == IG_UNIT_BYTE)
		ig_byte_burst_warn(pol.burst, pinned_tc_link(in.pin_dir), "");
	/* policy, levels and flags in the order the data path needs, or nothing;
	 * a changed limit keeps every source's state as it is (no rescale: the
	 * agent's reload rescales, an operator's limit is taken as written) */
	/* the load balancers first, so that a proxy-source port never refuses
	 * one for want of its entry; taken out again if the limit fails */
	err = ig_proxy_from_add(&in, proxy, nproxy, added);
	if (!err) {
		struct ig_port_limit want = { .policy = pol, .levels = lim, .keys = keys,
					      .inflight = c->inflight };

		err = ig_port_apply(&in, proto, port, &want);
		if (err > 0)
			err = 0;
	}
	for (int i = 0; err && i < nproxy; i++)
		if (added[i])
			ig_proxy_from_del(&in, &proxy[i], 1);
	if (!err && IG_POL_KEY(pol.flags) == IG_KEY_PROXY)
		proxy_from_warn(&in);
	ig_instance_close(&in);
	if (!err && ig_limits_any(&lim))
		ig_info("%u/%s levels:%s%s%s%s%s%s%s", port, ig_proto_name(proto),
			lim.prefix_rate ? " prefix" : "", lim.port_rate ? " port" : "",
			lim.newcomer_rate ? " newcomer" : "", lim.max_conns ? " max-conns" : "",
			lim.tokens_per_min ? " tokens (counted by " : "",
			lim.tokens_per_min ? ig_token_count_name(ig_token_count_of(pol.flags)) : "",
			lim.tokens_per_min ? ")" : "");
	if (!err && c->inflight.max)
		ig_info("%u/%s: at most %u requests in flight%s (timeout %u s)", port,
			ig_proto_name(proto), c->inflight.max,
			c->inflight.per_client ? ", a share per client" : "",
			c->inflight.timeout_s ? c->inflight.timeout_s : IG_INFLIGHT_TIMEOUT_S);
	if (!err && c->inflight.max)
		ig_info("%u/%s: at most %u requests in flight%s (timeout %u s)", port,
			ig_proto_name(proto), c->inflight.max,
			c->inflight.per_client ? ", a share per client" : "",
			c->inflight.timeout_s ? c->inflight.timeout_s : IG_INFLIGHT_TIMEOUT_S);
	if (!err && IG_POL_KEY(pol.flags) != IG_KEY_SOURCE)
		ig_info("%u/%s client: %s%s", port, ig_proto_name(proto),
			ig_key_mode_name(IG_POL_KEY(pol.flags)), anon_text(&pol, &keys));
	if (!err)
		ig_info("%u/%s: %s (%s), burst %llu, per %s, over the limit: %s%s", port,
			ig_proto_name(proto), ig_rate_s(pol.rate),
			ig_algo_name(IG_POL_ALGO(pol.flags)),
			(unsigned long long)pol.burst, ig_unit_name(pol.unit),
			ig_action_name(pol.action),
			pol.flags & IG_POL_F_DRY_RUN ? " (dry run: counted as would_*, nothing refused)" : "");
	return ig_cli_exit(err);
}

static int cmd_unlimit(const void *cfg, int argc, char **argv)
{
	struct ig_instance in;
	enum ig_proto proto;
	__u16 port;
	int err;

	(void)cfg;
	err = port_arg("unlimit", argc, argv, &port, &proto);
	if (err)
		return err;
	if (ig_cli_open(&in))
		return 1;
	err = ig_policy_clear(&in, proto, port);
	ig_instance_close(&in);
	if (err == 1)
		ig_info("%u/%s: no longer limited", port, ig_proto_name(proto));
	else if (!err)
		ig_info("%u/%s: was not limited", port, ig_proto_name(proto));
	return ig_cli_exit(err < 0 ? err : 0);
}

static const struct ig_opt budget_opts[] = {
	IG_OPT("rate", IG_OPT_RATE, struct ig_globals, reject_rate, .metavar = "N/PERIOD",
	       .zero = 1, .help = "replies, all ports together (1000/s); 0: none"),
	IG_OPT("burst", IG_OPT_COUNT, struct ig_globals, reject_burst, .metavar = "N",
	       .what = "burst", .min = 0, .max = 100000000,
	       .help = "replies at once (default: the rate's N)"),
	{}
};

static int cmd_reject_budget(const void *cfg, int argc, char **argv)
{
	struct ig_globals g = *(const struct ig_globals *)cfg;
	struct ig_instance in;
	int err;

	(void)argc, (void)argv;
	if (ig_cli_open(&in))
		return 1;
	if (!g.reject_burst)
		g.reject_burst = g.reject_rate ? ig_rate_default_burst(g.reject_rate) : 0;
	if (g.reject_burst > 100000000)
		g.reject_burst = 100000000;
	if (ig_rate_check_burst(g.reject_rate, g.reject_burst, "--burst")) {
		ig_instance_close(&in);
		return 2;
	}
	err = ig_globals_set(&in, &g);
	ig_instance_close(&in);
	if (!err)
		ig_info("replies: at most %s, burst %llu", ig_rate_s(g.reject_rate),
			(unsigned long long)g.reject_burst);
	return ig_cli_exit(err);
}

const struct ig_cmd ig_limit_cmds[] = {
	IG_CMD("limit", cmd_limit, limit_opts, struct limit_cfg, .args = "PORT[/tcp|/udp]",
	       .defaults = &(const struct limit_cfg){ .unit = -1, .action = IG_ACTION_DROP,
						      .token_count = -1, .algo = { .algo = -1 } },
	       .doc = "Limit each source address on PORT (tcp unless /udp) to N units a period.\n"
		      "Applies to the next packet; changing a limit keeps every source's state\n"
		      "(a change of --algorithm converts it, keeping the share each had used)."),
	IG_CMD("unlimit", cmd_unlimit, NULL, char, .args = "PORT[/tcp|/udp]",
	       .complete = IG_COMPLETE_LIMITED_PORT,
	       .doc = "Stop limiting PORT. Its counters stay until the slot is reused."),
	IG_CMD("reject-budget", cmd_reject_budget, budget_opts, struct ig_globals,
	       .doc = "Cap the replies (RST, ICMP) sent for all ports together, so that spoofed\n"
		      "floods cannot use infergate as a reflector. Beyond it, rejects become drops.\n"
		      "Default 1000/s, burst 1000. --rate 0 turns replies off."),
	{}
};
