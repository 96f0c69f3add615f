// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <ini.h>
#include "lib/config.h"
#include "lib/algo.h"
#include "lib/inflight.h"
#include "lib/args.h"
#include "lib/cidr.h"
#include "lib/keys.h"
#include "lib/keys_cfg.h"
#include "lib/levels.h"
#include "lib/names.h"
#include "agent/metrics.h"

struct load_state {
	struct ig_cfg_file *cfg;
	FILE *file;
	int line;                /* of the line libinih is handling */
	int failed;              /* first error: its line (0: none) and message */
	int err_line;
	char err[256];
	struct ig_cfg_port *cur; /* the [port] section being read, NULL in [agent] */
	int in_agent;
	int in_cluster;
	int in_tiers;
	int in_keys;
	struct ig_tier_rate_want *tier_rate; /* the [tier NAME PORT] being read */
	int tier_rate_given[IG_CFG_MAX_TIER_RATES];
	int fleet_burst_given[IG_CFG_MAX_PORTS];
	unsigned int levels_given[IG_CFG_MAX_PORTS];
	int unit_given[IG_CFG_MAX_PORTS], burst_given[IG_CFG_MAX_PORTS];
	int token_count_given[IG_CFG_MAX_PORTS];
	struct ig_algo_want algo[IG_CFG_MAX_PORTS]; /* .algo read when algo_given */
	int algo_given[IG_CFG_MAX_PORTS];
	int adaptive_keys[IG_CFG_MAX_PORTS]; /* adaptive keys other than `adaptive` */
	struct ig_key_cfg_given key_given[IG_CFG_MAX_PORTS];
	const char *path;
	char section[256];       /* the section of the last entry */
	int header_line;         /* line of the last [section] header */
};

__attribute__((format(printf, 2, 3))) static int fail(struct load_state *st, const char *fmt, ...)
{
	va_list ap;

	if (!st->failed) {
		st->failed = 1;
		st->err_line = st->line;
		va_start(ap, fmt);
		vsnprintf(st->err, sizeof(st->err), fmt, ap);
		va_end(ap);
	}
	return 0; /* libinih: an error on this line */
}

/* libinih's reader, counting lines so that every error can name its own. */
static char *read_line(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	char *r = fgets(str, num, st->file);

	if (r) {
		st->line++;
		/* libinih reports sections only with their first entry */
		if (str[strspn(str, " \t")] == '[') {
			const char *name = str + strspn(str, " \t") + 1;
			size_t len = strcspn(name, "]");

			st->header_line = st->line;
			/* an unknown section without entries would pass unseen */
			if (!(len == 5 && !strncmp(name, "agent", 5)) &&
			    !(len == 7 && !strncmp(name, "cluster", 7)) &&
			    !(len == 5 && !strncmp(name, "tiers", 5)) && strncmp(name, "tier ", 5) &&
			    !(len == 4 && !strncmp(name, "keys", 4)) && strncmp(name, "port ", 5))
				fail(st, "unknown section [%.*s]: expected [agent], [cluster], [tiers], "
				     "[tier NAME PORT], [keys] or [port N[/tcp|/udp]]",
				     (int)(len < 64 ? len : 64), name);
		}
	}
	return r;
}

/* Run a parser with what it says captured; when `failing` (an expression
 * of its result __r) holds, that goes into the config's error. */
#define CAPTURED(st, call, failing)                                            \
	({                                                                     \
		char __m[256];                                                 \
		int __r;                                                       \
		ig_args_capture(__m, sizeof(__m));                            \
		__r = (call);                                                  \
		ig_args_capture(NULL, 0);                                     \
		if (failing)                                                   \
			fail((st), "%s", __m);                                 \
		__r;                                                           \
	})

/* One of args.c's parsers: any error is the config's. */
#define PARSE(st, call) CAPTURED(st, call, __r)
/* A parser of a group of keys (keys_cfg.c, levels.c, inflight.c,
 * adaptive_cfg.c): 0 its key, set; -ENOENT not its key, nothing said;
 * -EINVAL its message into the error. */
#define SUBPARSE(st, call) CAPTURED(st, call, __r == -EINVAL)

static int section_start(struct load_state *st, const char *section)
{
	struct ig_cfg_file *cfg = st->cfg;
	struct ig_cfg_port *p;
	enum ig_proto proto;
	__u16 port;
	int given;

	st->cur = NULL;
	st->in_agent = 0;
	st->in_cluster = 0;
	st->in_tiers = 0;
	st->in_keys = 0;
	st->tier_rate = NULL;
	if (!strcmp(section, "keys")) {
		st->in_keys = 1;
		cfg->has_keys = 1;
		return 1;
	}
	if (!strcmp(section, "tiers")) {
		st->in_tiers = 1;
		cfg->has_tiers = 1;
		return 1;
	}
	if (!strncmp(section, "tier ", 5)) {
		char name[IG_TIER_NAME_LEN + 1], spec[32], extra[2];
		struct ig_tier_rate_want *r;

		if (sscanf(section + 5, "%24s %31s %1s", name, spec, extra) != 2)
			return fail(st, "[%s]: expected [tier NAME PORT[/tcp|/udp]]", section);
		if (!ig_tier_name_valid(name))
			return fail(st, "[%s]: invalid tier name '%s' (1-%d of A-Za-z0-9_-, not allow "
				    "or deny)", section, name, IG_TIER_NAME_LEN - 1);
		if (cfg->ntier_rates == IG_CFG_MAX_TIER_RATES)
			return fail(st, "too many [tier] sections (at most %d)", IG_CFG_MAX_TIER_RATES);
		r = &cfg->tier_rates[cfg->ntier_rates];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%.*s", IG_TIER_NAME_LEN - 1, name); /* valid: fits */
		if (PARSE(st, ig_parse_port_spec(spec, &port, &proto, &given)))
			return 0;
		r->port = port;
		r->proto = proto;
		for (int i = 0; i < cfg->ntier_rates; i++)
			if (!strcmp(cfg->tier_rates[i].name, name) && cfg->tier_rates[i].port == port &&
			    cfg->tier_rates[i].proto == proto)
				return fail(st, "[%s]: this tier and port already have a section", section);
		st->tier_rate = r;
		cfg->ntier_rates++;
		return 1;
	}
	if (!strcmp(section, "agent")) {
		st->in_agent = 1;
		return 1;
	}
	if (!strcmp(section, "cluster")) {
		st->in_cluster = 1;
		cfg->has_cluster = 1;
		cfg->cluster_line = st->line;
		return 1;
	}
	if (strncmp(section, "port ", 5))
		return fail(st, "unknown section [%s]: expected [agent], [cluster] or [port N[/tcp|/udp]]",
			    section);
	if (PARSE(st, ig_parse_port_spec(section + 5, &port, &proto, &given)))
		return 0;
	for (int i = 0; i < cfg->nports; i++)
		if (cfg->ports[i].port == port && cfg->ports[i].proto == proto)
			return fail(st, "[%s]: this port already has a section (line %d)", section,
				    cfg->ports[i].line);
	if (cfg->nports == IG_CFG_MAX_PORTS)
		return fail(st, "too many [port] sections (at most %d)", IG_CFG_MAX_PORTS);
	p = &cfg->ports[cfg->nports++];
	memset(p, 0, sizeof(*p));
	p->port = port;
	p->proto = proto;
	p->line = st->line;
	p->limit.action = IG_ACTION_DROP;
	p->fsm = (struct ig_fsm_cfg){
		.window_ms = IG_CFG_DEFAULT_WINDOW_MS,
		.min_requests = IG_CFG_DEFAULT_MIN_REQUESTS,
		.failure_pct = IG_CFG_DEFAULT_FAILURE_PCT,
		.consecutive_failures = IG_CFG_DEFAULT_CONSECUTIVE,
		.open_ms = IG_CFG_DEFAULT_OPEN_MS,
		.max_open_ms = IG_CFG_DEFAULT_MAX_OPEN_MS,
		.half_open_probes = IG_CFG_DEFAULT_PROBES,
		.slow_call_pct = IG_CFG_DEFAULT_SLOW_CALL_PCT,
	};
	p->probe_interval_ms = IG_CFG_DEFAULT_PROBE_INTERVAL_MS;
	p->probe_timeout_ms = IG_CFG_DEFAULT_PROBE_TIMEOUT_MS;
	ig_adaptive_cfg_init(&p->adaptive);
	st->cur = p;
	return 1;
}

static int agent_key(struct load_state *st, const char *name, const char *value)
{
	struct ig_cfg_file *cfg = st->cfg;
	__u64 v;

	if (!strcmp(name, "interface")) {
		if (!*value || strlen(value) >= sizeof(cfg->ifname) || strpbrk(value, " \t/"))
			return fail(st, "invalid interface name '%s'", value);
		snprintf(cfg->ifname, sizeof(cfg->ifname), "%s", value);
	} else if (!strcmp(name, "hook")) {
		if (!strcmp(value, "xdp"))
			cfg->attach.hook = IG_ATTACH_XDP;
		else if (!strcmp(value, "tc"))
			cfg->attach.hook = IG_ATTACH_TC;
		else
			return fail(st, "invalid hook '%s': expected xdp or tc", value);
	} else if (!strcmp(name, "xdp_mode")) {
		if (strcmp(value, "native") && strcmp(value, "generic"))
			return fail(st, "invalid xdp_mode '%s': expected native or generic", value);
		cfg->attach.xdp_generic = !strcmp(value, "generic");
	} else if (!strcmp(name, "tc_position")) {
		if (ig_parse_tc_place(value, &cfg->attach.tc_place))
			return fail(st, "invalid tc_position '%s': expected first, last, before:NAME "
				    "or after:NAME", value);
	} else if (!strcmp(name, "max_sources")) {
		if (PARSE(st, ig_parse_count(value, "max_sources", 1, 1ULL << 28, &v)))
			return 0;
		cfg->attach.max_sources = v;
	} else if (!strcmp(name, "metrics")) {
		struct sockaddr_storage ss;
		unsigned int len;

		if (!strcmp(value, "off")) {
			cfg->metrics_addr[0] = '\0';
			return 1;
		}
		if (strlen(value) >= sizeof(cfg->metrics_addr) ||
		    ig_metrics_parse_addr(value, &ss, &len))
			return fail(st, "invalid metrics '%s': expected HOST:PORT (an IPv4 or [IPv6] "
				    "address) or off", value);
		snprintf(cfg->metrics_addr, sizeof(cfg->metrics_addr), "%s", value);
	} else if (!strcmp(name, "max_flows")) {
		if (PARSE(st, ig_parse_count(value, "max_flows", 1024, 1ULL << 26, &v)))
			return 0;
		cfg->attach.max_flows = v;
	} else if (!strcmp(name, "control")) {
		if (strcmp(value, "off") && (value[0] != '/' || strlen(value) >= sizeof(cfg->control)))
			return fail(st, "invalid control '%s': an absolute socket path (at most %zu "
				    "characters) or off", value, sizeof(cfg->control) - 1);
		snprintf(cfg->control, sizeof(cfg->control), "%s", value);
	} else if (!strcmp(name, "tick")) {
		if (PARSE(st, ig_parse_duration(value, "tick", 10, 10000, &cfg->tick_ms)))
			return 0;
	} else if (!strcmp(name, "reject_rate")) {
		cfg->has_reject_budget = 1;
		if (!strcmp(value, "0") || !strcmp(value, "0/s"))
			cfg->reject_budget.reject_rate = 0;
		else if (PARSE(st, ig_parse_rate(value, &cfg->reject_budget.reject_rate)))
			return 0;
	} else if (!strcmp(name, "reject_burst")) {
		cfg->has_reject_budget = 1;
		if (PARSE(st, ig_parse_count(value, "reject_burst", 1, IG_MAX_BURST,
					     &cfg->reject_budget.reject_burst)))
			return 0;
	} else {
		return fail(st, "unknown key '%s' in [agent]", name);
	}
	return 1;
}

/* [tiers]: allow|deny|NAME = CIDR [CIDR ...] (repeatable) */
static int tiers_key(struct load_state *st, const char *name, const char *value)
{
	struct ig_cfg_file *cfg = st->cfg;
	char buf[4096], *save = NULL, *tok;

	if (strcmp(name, ig_tier_kind_name(IG_TIER_ALLOW)) &&
	    strcmp(name, ig_tier_kind_name(IG_TIER_DENY)) && !ig_tier_name_valid(name))
		return fail(st, "invalid tier '%s' in [tiers]: allow, deny or a tier name", name);
	if (strlen(value) >= sizeof(buf))
		return fail(st, "line too long");
	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		struct ig_tier_want *t;

		if (cfg->ntiers == IG_CFG_MAX_TIER_PREFIXES)
			return fail(st, "too many tier prefixes (at most %d)", IG_CFG_MAX_TIER_PREFIXES);
		t = &cfg->tiers[cfg->ntiers];
		memset(t, 0, sizeof(*t));
		if (ig_cidr_parse(tok, &t->key))
			return fail(st, "invalid CIDR '%s': expected " IG_CIDR_FORMS, tok);
		for (int i = 0; i < cfg->ntiers; i++)
			if (!memcmp(&cfg->tiers[i].key, &t->key, sizeof(t->key)))
				return fail(st, "%s is already in the tier '%s'", tok, cfg->tiers[i].what);
		snprintf(t->what, sizeof(t->what), "%s", name);
		cfg->ntiers++;
	}
	return 1;
}

/* [keys]: NAME = hash HEX16 | token-file PATH [tier TIER] [deny] (a name repeats) */
static int keys_key(struct load_state *st, const char *name, const char *value)
{
	struct ig_cfg_file *cfg = st->cfg;

	if (cfg->nkeys == IG_CFG_MAX_KEYS)
		return fail(st, "too many [keys] lines (at most %d; a token file holds any number)",
			    IG_CFG_MAX_KEYS);
	if (PARSE(st, ig_key_cfg_entry(&cfg->keys[cfg->nkeys], name, value)))
		return 0;
	cfg->nkeys++;
	return 1;
}

/* [tier NAME PORT]: rate, burst */
static int tier_rate_key(struct load_state *st, const char *name, const char *value)
{
	struct ig_tier_rate_want *r = st->tier_rate;
	int i = (int)(r - st->cfg->tier_rates);

	if (!strcmp(name, "rate"))
		return !PARSE(st, ig_parse_rate(value, &r->rate.rate));
	if (!strcmp(name, "burst")) {
		st->tier_rate_given[i] = 1;
		return !PARSE(st, ig_parse_count(value, "burst", 1, IG_MAX_BURST, &r->rate.burst));
	}
	return fail(st, "unknown key '%s' in [tier %s %u/%s]: rate or burst", name, r->name, r->port,
		    ig_proto_name(r->proto));
}

static int cluster_key(struct load_state *st, const char *name, const char *value)
{
	struct ig_fleet_cfg *c = &st->cfg->cluster;
	char host[256];
	int port, is_unix;

	if (!strcmp(name, "redis")) {
		char m[256];
		int bad;

		ig_args_capture(m, sizeof(m));
		bad = strlen(value) >= sizeof(c->redis) ||
		      ig_fleet_parse_addr(value, host, sizeof(host), &port, &is_unix);
		ig_args_capture(NULL, 0);
		if (bad)
			return fail(st, "invalid redis '%s': expected HOST:PORT or unix:/path", value);
		snprintf(c->redis, sizeof(c->redis), "%s", value);
	} else if (!strcmp(name, "password")) {
		if (strlen(value) >= sizeof(c->password))
			return fail(st, "password too long");
		snprintf(c->password, sizeof(c->password), "%s", value);
	} else if (!strcmp(name, "node")) {
		if (!*value || strlen(value) >= sizeof(c->node) || strpbrk(value, " \t:*"))
			return fail(st, "invalid node '%s': a name without spaces, ':' or '*'", value);
		snprintf(c->node, sizeof(c->node), "%s", value);
	} else if (!strcmp(name, "interval")) {
		return !PARSE(st, ig_parse_duration(value, "interval", 10, 60000, &c->interval_ms));
	} else if (!strcmp(name, "key_seed_file")) {
		/* read now: a reload with a file that cannot be read is refused */
		if (PARSE(st, ig_key_seed_file(value, &c->key_seed)))
			return 0;
		c->has_key_seed = 1;
	} else {
		return fail(st, "unknown key '%s' in [cluster]", name);
	}
	return 1;
}

static int probe_target(struct load_state *st, struct ig_cfg_port *p, enum ig_probe_kind kind,
			const char *value)
{
	if (p->probe != IG_PROBE_NONE && p->probe != kind)
		return fail(st, "health_url and health_tcp exclude each other: pick one");
	if (strlen(value) >= sizeof(p->probe_target))
		return fail(st, "health target too long (at most %zu characters)",
			    sizeof(p->probe_target) - 1);
	if (kind == IG_PROBE_HTTP && strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
		return fail(st, "invalid health_url '%s': expected http://HOST[:PORT]/PATH", value);
	if (kind == IG_PROBE_TCP) {
		const char *colon = strrchr(value, ':');
		__u64 port;
		char m[256];
		int bad;

		if (!colon || colon == value)
			return fail(st, "invalid health_tcp '%s': expected HOST:PORT", value);
		ig_args_capture(m, sizeof(m));
		bad = ig_parse_count(colon + 1, "port", 1, 65535, &port);
		ig_args_capture(NULL, 0);
		if (bad)
			return fail(st, "invalid health_tcp '%s': expected HOST:PORT", value);
	}
	p->probe = kind;
	snprintf(p->probe_target, sizeof(p->probe_target), "%s", value);
	p->has_breaker = 1;
	return 1;
}

static int port_key(struct load_state *st, const char *name, const char *value)
{
	struct ig_cfg_port *p = st->cur;
	int i = (int)(p - st->cfg->ports), r;
	__u64 v;

	if (!strcmp(name, "rate")) {
		p->has_limit = 1;
		return !PARSE(st, ig_parse_rate(value, &p->limit.rate));
	}
	if (!strcmp(name, "burst")) {
		st->burst_given[i] = 1;
		return !PARSE(st, ig_parse_count(value, "burst", 1, IG_MAX_BURST, &p->limit.burst));
	}
	if (!strcmp(name, "unit")) {
		st->unit_given[i] = 1;
		return !PARSE(st, ig_parse_unit(value, &p->limit.unit));
	}
	if (!strcmp(name, "action"))
		return !PARSE(st, ig_parse_action(value, &p->limit.action));
	if (!strcmp(name, "algorithm")) {
		st->algo_given[i] = 1;
		return !PARSE(st, ig_parse_algo(value, &st->algo[i].algo));
	}
	/* `window` is the breaker's (an error rate's window) */
	if (!strcmp(name, "rate_window"))
		return !PARSE(st, ig_parse_window(value, &st->algo[i].window_s));
	if (!strcmp(name, "token_count")) {
		enum ig_token_count c;

		st->token_count_given[i] = 1;
		if (PARSE(st, ig_parse_token_count(value, &c)))
			return 0;
		/* a rule of the policy, kept in its flags (not a level) */
		p->limit.flags = ig_token_count_flags(p->limit.flags, c);
		return 1;
	}
	r = SUBPARSE(st, ig_key_cfg_parse(&p->limit, &p->keys, &st->key_given[i], st->cfg->proxy_from,
					  &st->cfg->nproxy_from, IG_MAX_PROXY_FROM, name, value));
	if (r != -ENOENT)
		return !r;
	r = SUBPARSE(st, ig_levels_parse(&p->levels, &st->levels_given[i], name, value));
	if (!r && p->levels.max_conns && p->proto != IG_PROTO_TCP)
		return fail(st, "max_conns counts TCP connections");
	if (r != -ENOENT)
		return !r;
	r = SUBPARSE(st, ig_inflight_parse(&p->inflight, &p->inflight_auto, name, value));
	if (r != -ENOENT)
		return !r;
	r = SUBPARSE(st, ig_adaptive_cfg_parse(&p->adaptive, name, value));
	if (!r)
		st->adaptive_keys[i] |= strcmp(name, "adaptive") != 0;
	if (r != -ENOENT)
		return !r;
	if (!strcmp(name, "fleet_rate"))
		return !PARSE(st, ig_parse_rate(value, &p->fleet_rate));
	if (!strcmp(name, "fleet_burst")) {
		st->fleet_burst_given[i] = 1;
		return !PARSE(st, ig_parse_count(value, "fleet_burst", 1, IG_MAX_BURST, &p->fleet_burst));
	}
	if (!strcmp(name, "enforce")) {
		if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1"))
			p->limit.flags &= ~IG_POL_F_DRY_RUN;
		else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcmp(value, "0"))
			p->limit.flags |= IG_POL_F_DRY_RUN;
		else
			return fail(st, "invalid enforce '%s': expected true or false", value);
		return 1;
	}

	/* the rest configures the breaker */
	if (p->proto != IG_PROTO_TCP)
		return fail(st, "'%s': breakers are for TCP ports only", name);
	p->has_breaker = 1;
	if (!strcmp(name, "breaker")) {
		if (!strcasecmp(value, "on") || !strcasecmp(value, "yes") || !strcmp(value, "1"))
			return 1;
		if (!strcasecmp(value, "off") || !strcasecmp(value, "no") || !strcmp(value, "0")) {
			p->has_breaker = 0;
			return 1;
		}
		return fail(st, "invalid breaker '%s': expected on or off", value);
	}
	if (!strcmp(name, "fallback")) {
		if (!strcmp(value, "none")) {
			p->fallback = 0;
			return 1;
		}
		if (PARSE(st, ig_parse_count(value, "fallback port", 1, 65535, &v)))
			return 0;
		if (v == p->port)
			return fail(st, "fallback %llu is the port itself", (unsigned long long)v);
		p->fallback = (__u16)v;
		return 1;
	}
	if (!strcmp(name, "window"))
		return !PARSE(st, ig_parse_duration(value, "window", 100, 3600000, &p->fsm.window_ms));
	if (!strcmp(name, "min_requests"))
		return !PARSE(st, ig_parse_count(value, "min_requests", 1, 1000000000,
						 &p->fsm.min_requests));
	if (!strcmp(name, "failure_rate"))
		return !PARSE(st, ig_parse_percent(value, "failure_rate", &p->fsm.failure_pct));
	if (!strcmp(name, "slow_call_duration"))
		return !PARSE(st, ig_parse_duration(value, "slow_call_duration", 1, 3600000,
						    &p->fsm.slow_call_ms));
	if (!strcmp(name, "slow_call_rate"))
		return !PARSE(st, ig_parse_percent(value, "slow_call_rate", &p->fsm.slow_call_pct));
	if (!strcmp(name, "consecutive_failures")) {
		if (PARSE(st, ig_parse_count(value, "consecutive_failures", 0, 1000, &v)))
			return 0;
		p->fsm.consecutive_failures = (__u32)v;
		return 1;
	}
	if (!strcmp(name, "open_time"))
		return !PARSE(st, ig_parse_duration(value, "open_time", 100, 86400000, &p->fsm.open_ms));
	if (!strcmp(name, "max_open_time"))
		return !PARSE(st, ig_parse_duration(value, "max_open_time", 100, 86400000,
						    &p->fsm.max_open_ms));
	if (!strcmp(name, "half_open_probes")) {
		if (PARSE(st, ig_parse_count(value, "half_open_probes", 1, 10000, &v)))
			return 0;
		p->fsm.half_open_probes = (__u32)v;
		return 1;
	}
	if (!strcmp(name, "health_url"))
		return probe_target(st, p, IG_PROBE_HTTP, value);
	if (!strcmp(name, "health_tcp"))
		return probe_target(st, p, IG_PROBE_TCP, value);
	if (!strcmp(name, "probe_interval"))
		return !PARSE(st, ig_parse_duration(value, "probe_interval", 50, 3600000,
						    &p->probe_interval_ms));
	if (!strcmp(name, "probe_timeout"))
		return !PARSE(st, ig_parse_duration(value, "probe_timeout", 10, 600000,
						    &p->probe_timeout_ms));
	return fail(st, "unknown key '%s' in [port %u/%s]", name, p->port, ig_proto_name(p->proto));
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;

	/* libinih hands the section name with every entry; a new name is a new
	 * section (a repeated header of the same name merges, as in Python) */
	if (!st->in_agent && !st->in_cluster && !st->in_tiers && !st->in_keys && !st->tier_rate &&
	    !st->cur && !section[0])
		return fail(st, "'%s' before any section: put it under [agent] or [port N]", name);
	if (strcmp(section, st->section) ||
	    (!st->in_agent && !st->in_cluster && !st->in_tiers && !st->in_keys && !st->tier_rate &&
	     !st->cur)) {
		int line = st->line, ok;

		snprintf(st->section, sizeof(st->section), "%s", section);
		st->line = st->header_line;
		ok = section_start(st, section);
		st->line = line;
		if (!ok)
			return 0;
	}
	if (st->in_agent)
		return agent_key(st, name, value);
	if (st->in_cluster)
		return cluster_key(st, name, value);
	if (st->in_tiers)
		return tiers_key(st, name, value);
	if (st->in_keys)
		return keys_key(st, name, value);
	if (st->tier_rate)
		return tier_rate_key(st, name, value);
	return port_key(st, name, value);
}

/* What only the whole file can tell. Sets st->line to the line to blame. */
static int validate(struct load_state *st)
{
	struct ig_cfg_file *cfg = st->cfg;

	if (!cfg->ifname[0]) {
		st->line = 0;
		return fail(st, "no interface: set interface = IFACE in [agent]");
	}
	for (int i = 0; i < cfg->ntier_rates; i++) {
		struct ig_tier_rate_want *r = &cfg->tier_rates[i];

		if (!r->rate.rate) {
			st->line = 0;
			return fail(st, "[tier %s %u/%s] has no rate", r->name, r->port,
				    ig_proto_name(r->proto));
		}
		if (!st->tier_rate_given[i])
			r->rate.burst = ig_rate_default_burst(r->rate.rate);
		if (PARSE(st, ig_rate_check_burst(r->rate.rate, r->rate.burst, "burst")))
			return 0;
	}
	if (cfg->has_reject_budget && cfg->reject_budget.reject_rate &&
	    PARSE(st, ig_rate_check_burst(cfg->reject_budget.reject_rate,
					  cfg->reject_budget.reject_burst ?
						  cfg->reject_budget.reject_burst :
						  ig_rate_default_burst(cfg->reject_budget.reject_rate),
					  "reject_burst")))
		return 0;
	if (cfg->has_cluster) {
		st->line = cfg->cluster_line;
		if (!cfg->cluster.redis[0])
			return fail(st, "[cluster] needs redis = HOST:PORT or unix:/path");
		if (!cfg->cluster.interval_ms)
			cfg->cluster.interval_ms = IG_FLEET_DEFAULT_INTERVAL_MS;
	}
	for (int i = 0; i < cfg->nports; i++) {
		struct ig_cfg_port *p = &cfg->ports[i];

		st->line = p->line;
		if (!p->has_limit && !p->has_breaker)
			return fail(st, "[port %u/%s] sets neither a rate nor a breaker", p->port,
				    ig_proto_name(p->proto));
		if ((p->inflight.max || p->inflight_auto || p->inflight.timeout_s ||
		     p->inflight.per_client) &&
		    (!p->has_limit || p->limit.unit != IG_UNIT_REQUEST || p->proto != IG_PROTO_TCP))
			return fail(st, "[port %u/%s]: max_inflight counts HTTP requests: it needs "
				    "unit = request on tcp", p->port, ig_proto_name(p->proto));
		if ((p->inflight.timeout_s || p->inflight.per_client) && !p->inflight.max &&
		    !p->inflight_auto)
			return fail(st, "[port %u/%s]: inflight_timeout and max_inflight_per_client go "
				    "with max_inflight", p->port, ig_proto_name(p->proto));
		if (p->inflight_auto && p->adaptive.mode != IG_AD_ENGINE)
			return fail(st, "[port %u/%s]: max_inflight = auto is the engine's slots: it "
				    "needs adaptive = engine", p->port, ig_proto_name(p->proto));
		/* auto: no cap the data path would feel until the slots are known */
		if (p->inflight_auto)
			p->inflight.max = IG_INFLIGHT_MAX;
		if (st->token_count_given[i] && !p->levels.tokens_per_min)
			return fail(st, "[port %u/%s]: token_count needs tokens_per_minute", p->port,
				    ig_proto_name(p->proto));
		if (p->has_limit) {
			if (!st->burst_given[i])
				p->limit.burst = ig_rate_default_burst(p->limit.rate);
			if (PARSE(st, ig_rate_check_burst(p->limit.rate, p->limit.burst, "burst")))
				return 0;
			if (!st->unit_given[i])
				p->limit.unit = p->proto == IG_PROTO_TCP ? IG_UNIT_CONN : IG_UNIT_PACKET;
			if (p->limit.action == IG_ACTION_429 &&
			    (p->proto != IG_PROTO_TCP || (p->limit.unit != IG_UNIT_CONN &&
							  p->limit.unit != IG_UNIT_REQUEST)))
				return fail(st, "[port %u/%s]: action 429 answers HTTP requests: it "
					    "needs tcp and unit conn or request", p->port,
					    ig_proto_name(p->proto));
			if (p->proto == IG_PROTO_UDP &&
			    (p->limit.unit == IG_UNIT_CONN || p->limit.unit == IG_UNIT_REQUEST))
				return fail(st, "[port %u/udp]: unit %s needs TCP", p->port,
					    ig_unit_name(p->limit.unit));
			if (p->limit.unit == IG_UNIT_BYTE) {
				char where[320];

				snprintf(where, sizeof(where), "%s:%d: [port %u/%s]: ", st->path, p->line,
					 p->port, ig_proto_name(p->proto));
				ig_byte_burst_warn(p->limit.burst, cfg->attach.hook == IG_ATTACH_TC, where);
			}
			{
				char m[256];
				int bad;

				ig_args_capture(m, sizeof(m));
				bad = ig_levels_finish(&p->levels, st->levels_given[i]);
				ig_args_capture(NULL, 0);
				if (bad)
					return fail(st, "[port %u/%s]: %s", p->port,
						    ig_proto_name(p->proto), m);
				st->algo[i].algo = st->algo_given[i] ? st->algo[i].algo : -1;
				st->algo[i].burst_given = st->burst_given[i];
				st->algo[i].levels_given = st->levels_given[i];
				ig_args_capture(m, sizeof(m));
				bad = ig_algo_apply(&p->limit, &p->levels, &st->algo[i], "algorithm");
				ig_args_capture(NULL, 0);
				if (bad)
					return fail(st, "[port %u/%s]: %s", p->port,
						    ig_proto_name(p->proto), m);
				p->limit.flags = ig_policy_flags(p->limit.flags, &p->levels, 0);
			}
			if (p->fleet_rate) {
				if (!cfg->has_cluster)
					return fail(st, "[port %u/%s]: fleet_rate needs a [cluster] section",
						    p->port, ig_proto_name(p->proto));
				/* the fleet counts as the port does (agent/fleet_lua.h):
				 * only a token bucket reads a burst there */
				if (st->fleet_burst_given[i] &&
				    IG_POL_ALGO(p->limit.flags) != IG_ALGO_TOKEN_BUCKET)
					return fail(st, "[port %u/%s]: fleet_burst goes with "
						    "token-bucket, not %s", p->port,
						    ig_proto_name(p->proto),
						    ig_algo_name(IG_POL_ALGO(p->limit.flags)));
				if (!st->fleet_burst_given[i])
					p->fleet_burst = ig_rate_default_burst(p->fleet_rate);
				if (PARSE(st, ig_rate_check_burst(p->fleet_rate, p->fleet_burst,
								  "fleet_burst")))
					return 0;
				/* the data path counts and blocks in the hierarchy */
				p->limit.flags |= IG_POL_F_HIER | IG_POL_F_FLEET;
			} else if (st->fleet_burst_given[i]) {
				return fail(st, "[port %u/%s]: fleet_burst needs a fleet_rate", p->port,
					    ig_proto_name(p->proto));
			}
		} else if (st->burst_given[i] || st->unit_given[i] || p->fleet_rate ||
			   st->algo_given[i] || st->algo[i].window_s) {
			return fail(st, "[port %u/%s]: burst, unit, algorithm, rate_window and "
				    "fleet_rate need a rate", p->port,
				    ig_proto_name(p->proto));
		}
		{
			char m[256];
			int bad;

			ig_args_capture(m, sizeof(m));
			bad = ig_key_cfg_finish(&p->limit, p->has_limit, p->proto, &p->keys,
						&st->key_given[i]);
			ig_args_capture(NULL, 0);
			if (bad)
				return fail(st, "[port %u/%s]: %s", p->port, ig_proto_name(p->proto), m);
		}
		{
			char m[256];
			int bad;

			ig_args_capture(m, sizeof(m));
			bad = ig_adaptive_cfg_finish(&p->adaptive, st->adaptive_keys[i], p->has_limit,
						     p->limit.unit,
						     p->limit.unit == IG_UNIT_REQUEST ||
							     p->levels.tokens_per_min != 0,
						     p->levels.port_rate, p->limit.rate);
			ig_args_capture(NULL, 0);
			if (bad)
				return fail(st, "[port %u/%s]: %s", p->port, ig_proto_name(p->proto), m);
		}
		if (p->has_breaker) {
			if (p->fsm.max_open_ms < p->fsm.open_ms)
				return fail(st, "[port %u/tcp]: max_open_time is shorter than open_time",
					    p->port);
			if (p->probe_timeout_ms > p->probe_interval_ms)
				return fail(st, "[port %u/tcp]: probe_timeout is longer than "
					    "probe_interval", p->port);
			if (p->fsm.window_ms / cfg->tick_ms > IG_FSM_MAX_SAMPLES)
				return fail(st, "[port %u/tcp]: window is more than %d ticks", p->port,
					    IG_FSM_MAX_SAMPLES);
			/* the kernel times calls only where it follows requests */
			if (p->fsm.slow_call_ms &&
			    !(p->has_limit && (p->limit.unit == IG_UNIT_REQUEST ||
					       p->levels.tokens_per_min)))
				return fail(st, "[port %u/tcp]: slow_call_duration needs the port's "
					    "call times: a limit with unit = request (or a token "
					    "budget)", p->port);
		}
	}
	return 1;
}

int ig_config_load(const char *path, struct ig_cfg_file *cfg, char *err, size_t errlen)
{
	struct load_state *st;
	int res, ret = 0;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	memset(cfg, 0, sizeof(*cfg));
	cfg->tick_ms = IG_CFG_DEFAULT_TICK_MS;
	snprintf(cfg->metrics_addr, sizeof(cfg->metrics_addr), "%s", IG_DEFAULT_METRICS_ADDR);
	st->cfg = cfg;
	st->path = path;
	st->file = fopen(path, "r");
	if (!st->file) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	/* Debian's libinih takes these at run time. No continuation lines: an
	 * indented line is a mistake far more often than a wrapped value. */
	ini_allow_multiline = 0;
	ini_inline_comment_prefixes = ";#";
	ini_use_stack = 0;
	ini_max_line = 4096;
	ini_initial_alloc = 4096;
	res = ini_parse_stream(read_line, st, on_entry, st);
	if (res == -2) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (res > 0 && (!st->failed || res < st->err_line)) {
		/* libinih's own complaint, on an earlier line than ours: a line
		 * that is neither a section, a key = value nor a comment */
		st->failed = 1;
		st->err_line = res;
		snprintf(st->err, sizeof(st->err), "expected [section], key = value or a comment");
	}
	if (!st->failed)
		validate(st);
	if (st->failed) {
		ret = -EINVAL;
		if (st->err_line > 0)
			snprintf(err, errlen, "%s:%d: %s", path, st->err_line, st->err);
		else
			snprintf(err, errlen, "%s: %s", path, st->err);
		goto out;
	}
	cfg->attach.ifname = cfg->ifname;
out:
	if (st->file)
		fclose(st->file);
	free(st);
	return ret;
}
