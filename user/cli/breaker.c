// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* breaker [PORT[/tcp]] [open|closed|auto] [--fallback PORT|none] [--remove] [--json] */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/args.h"
#include "lib/breakers.h"
#include "lib/json.h"
#include "lib/log.h"
#include "pure/steer.h"

/* One breaker's object; with its health counters when h is given. */
static void breaker_json(struct ig_json *j, __u16 port, const struct ig_breaker *b,
			 const struct ig_health *h)
{
	ig_json_obj_open(j);
	ig_json_ku64(j, "port", port);
	ig_json_kstr(j, "state", ig_brk_state_name(b->state));
	ig_json_kstr(j, "force", ig_brk_force_name(b->force));
	ig_json_kstr(j, "effective", ig_brk_state_name(ig_brk_effective(b)));
	ig_json_ku64(j, "fallback", b->fallback);
	ig_json_ks64(j, "probes_left", b->probes);
	if (h) {
		ig_json_key(j, "health");
		ig_json_obj_open(j);
		ig_json_ku64(j, "http_1xx", h->http[IG_HTTP_1XX]);
		ig_json_ku64(j, "http_2xx", h->http[IG_HTTP_2XX]);
		ig_json_ku64(j, "http_3xx", h->http[IG_HTTP_3XX]);
		ig_json_ku64(j, "http_4xx", h->http[IG_HTTP_4XX]);
		ig_json_ku64(j, "http_5xx", h->http[IG_HTTP_5XX]);
		ig_json_ku64(j, "rst", h->rst);
		ig_json_ku64(j, "to_primary", h->conns[IG_ROUTE_PRIMARY]);
		ig_json_ku64(j, "probes", h->conns[IG_ROUTE_PROBE]);
		ig_json_ku64(j, "to_fallback", h->conns[IG_ROUTE_FALLBACK]);
		ig_json_ku64(j, "refused", h->refused);
		ig_json_obj_close(j);
	}
	ig_json_obj_close(j);
}

int ig_cli_breakers_json(const struct ig_instance *in, struct ig_json *j)
{
	__u16 *ports = calloc(65536, sizeof(*ports));
	int n, err = 0;

	if (!ports)
		return -ENOMEM;
	n = ig_breaker_list(in, ports, 65536);
	if (n < 0)
		err = n;
	ig_json_arr_open(j);
	for (int i = 0; i < n && !err; i++) {
		struct ig_breaker b;
		struct ig_health h;

		err = ig_breaker_get(in, ports[i], &b);
		if (!err)
			err = ig_health_read(in, ports[i], &h);
		if (!err)
			breaker_json(j, ports[i], &b, &h);
	}
	ig_json_arr_close(j);
	free(ports);
	return err;
}

static int show_one(const struct ig_instance *in, __u16 port, int json)
{
	struct ig_breaker b;
	struct ig_json j;
	char fb[64];
	int err;

	err = ig_breaker_get(in, port, &b);
	if (!err && !(b.flags & IG_BRK_F_ON)) {
		ig_err("%u/tcp has no breaker (set one up: infergate breaker %u --fallback PORT)",
		       port, port);
		err = -ENOENT;
	}
	if (err)
		return err;
	if (json) {
		ig_json_init(&j, stdout, 0);
		breaker_json(&j, port, &b, NULL);
		ig_json_end(&j);
		return 0;
	}
	if (b.fallback)
		snprintf(fb, sizeof(fb), "%u", b.fallback);
	else
		snprintf(fb, sizeof(fb), "none (refused while open)");
	printf("%u/tcp: %s", port, ig_brk_state_name(ig_brk_effective(&b)));
	if (b.force != IG_FORCE_AUTO)
		printf(" (forced; the agent says %s)", ig_brk_state_name(b.state));
	printf(", fallback %s\n", fb);
	return 0;
}

static int show(const char *port_arg, __u16 port, int json)
{
	struct ig_instance in;
	struct ig_json j;
	int err;

	if (ig_cli_open(&in))
		return 1;
	if (port_arg) {
		err = show_one(&in, port, json);
	} else if (json) {
		ig_json_init(&j, stdout, 0);
		ig_json_obj_open(&j);
		ig_json_key(&j, "breakers");
		err = ig_cli_breakers_json(&in, &j);
		ig_json_obj_close(&j);
		ig_json_end(&j);
	} else {
		err = ig_breakers_print(&in, stdout);
	}
	ig_instance_close(&in);
	return ig_cli_exit(err);
}

/* Apply --remove, or the fallback and the force, in one update each. */
static int change(const struct ig_instance *in, __u16 port, int remove, int fallback, int force)
{
	struct ig_breaker b;
	char fb[32] = "none (refuse while open)";
	int err = ig_breaker_get(in, port, &b);

	if (err)
		return err;
	if (remove) {
		if (!(b.flags & IG_BRK_F_ON)) {
			ig_info("%u/tcp: had no breaker", port);
			return 0;
		}
		memset(&b, 0, sizeof(b));
		err = ig_breaker_put(in, port, &b);
		if (!err)
			ig_info("%u/tcp: breaker removed; established steered connections keep "
				"their route until they end", port);
		return err;
	}
	if (!(b.flags & IG_BRK_F_ON)) {
		memset(&b, 0, sizeof(b));
		b.flags = IG_BRK_F_ON;
	}
	if (fallback >= 0)
		b.fallback = (__u16)fallback;
	if (force >= 0)
		b.force = (enum ig_brk_force)force;
	/* one update: the data path sees the old breaker or the new one */
	err = ig_breaker_put(in, port, &b);
	if (err)
		return err;
	if (b.fallback)
		snprintf(fb, sizeof(fb), "%u", b.fallback);
	ig_info("%u/tcp: breaker %s%s, fallback %s", port,
		b.force == IG_FORCE_AUTO ? "automatic, now " : "forced ",
		ig_brk_state_name(ig_brk_effective(&b)), fb);
	return 0;
}

struct breaker_cfg {
	int fallback; /* -1: not given; 0: none */
	int remove;
	int json;
};

static const struct ig_opt breaker_opts[] = {
	IG_OPT("fallback", IG_OPT_PORT, struct breaker_cfg, fallback, .metavar = "PORT|none",
	       .zero = 1, .what = "fallback port", .help = "where new connections go while open"),
	IG_OPT("remove", IG_OPT_BOOL, struct breaker_cfg, remove, .help = "remove the breaker"),
	IG_OPT("json", IG_OPT_BOOL, struct breaker_cfg, json, .help = "show as JSON"),
	{}
};

static const char *const states[] = { "open", "closed", "auto", NULL };

/* open, closed (or close), auto: a force. */
static int parse_state(const char *s)
{
	if (!strcmp(s, "close"))
		return IG_FORCE_CLOSED;
	for (int f = 0; f < IG_FORCE_MAX; f++)
		if (!strcmp(s, ig_brk_force_name((enum ig_brk_force)f)))
			return f;
	return -1;
}

static int cmd_breaker(const void *cfg, int argc, char **argv)
{
	const struct breaker_cfg *c = cfg;
	const char *port_s = NULL;
	struct ig_instance in;
	enum ig_proto proto;
	int err, given, force = -1;
	__u16 port = 0;

	if (argc > 0) {
		port_s = argv[0];
		if (ig_parse_port_spec(port_s, &port, &proto, &given))
			return 2;
		if (proto != IG_PROTO_TCP)
			return ig_cli_usage("breaker", "%s", "breakers are for TCP ports only");
	}
	if (argc > 1) {
		force = parse_state(argv[1]);
		if (force < 0)
			return ig_cli_usage("breaker",
					    "invalid state '%s': expected open, closed or auto", argv[1]);
	}
	if (argc > 2)
		return ig_cli_usage("breaker", "unexpected argument '%s'", argv[2]);
	if (c->fallback >= 0 && c->fallback == port && port)
		return ig_cli_usage("breaker", "%s", "the fallback cannot be the port itself");
	if (c->remove && (c->fallback >= 0 || force >= 0))
		return ig_cli_usage("breaker", "%s", "--remove takes no other setting");
	if (!port_s && (c->remove || c->fallback >= 0))
		return ig_cli_usage("breaker", "%s", "which PORT?");
	if (!c->remove && c->fallback < 0 && force < 0)
		return show(port_s, port, c->json);

	if (ig_cli_open(&in))
		return 1;
	err = change(&in, port, c->remove, c->fallback, force);
	ig_instance_close(&in);
	return ig_cli_exit(err);
}

const struct ig_cmd ig_breaker_cmds[] = {
	IG_CMD("breaker", cmd_breaker, breaker_opts, struct breaker_cfg,
	       .defaults = &(const struct breaker_cfg){ .fallback = -1 },
	       .args = "[PORT[/tcp]] [open|closed|auto]",
	       .complete = IG_COMPLETE_WORDS, .words = states, .word_pos = 2,
	       .doc = "Set up a port's circuit breaker, force its state, or show breakers.\n"
		      "While open, new connections to PORT go to the fallback port (the client still\n"
		      "sees PORT) or, without a fallback, are refused with a RST; established\n"
		      "connections stay where they are. The agent (infergate run) opens and closes\n"
		      "breakers from the backend's health; a forced state holds until set to auto.\n\n"
		      "  PORT                   without a setting: show this breaker; without PORT: all\n"
		      "  open|closed            force the state, whatever the agent concludes\n"
		      "  auto                   hand the state back to the agent"),
	{}
};
