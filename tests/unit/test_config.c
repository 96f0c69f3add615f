// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The config file loader (user/config.c): the shipped example, defaults, and
 * every kind of mistake rejected with its line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/config.h"
#include "agent/metrics.h"
#include "harness.h"

static struct ig_cfg_file cfg;
static char err[512];

/* Load `text` from a temporary file; returns what ig_config_load returned. */
static int load_text(const char *text)
{
	char path[] = "/tmp/ig-config-XXXXXX";
	int fd = mkstemp(path), ret;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	ASSERT_TRUE(f != NULL, "temporary file");
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	ret = ig_config_load(path, &cfg, err, sizeof(err));
	/* the message names the file; keep only what follows it */
	if (ret && !strncmp(err, path, strlen(path)))
		memmove(err, err + strlen(path), strlen(err + strlen(path)) + 1);
	unlink(path);
	return ret;
}

IG_TEST(config_the_shipped_example_loads)
{
	const struct ig_cfg_port *p;

	ASSERT_OK(ig_config_load("user/infergate.conf.example", &cfg, err, sizeof(err)), err);
	ASSERT_STREQ(cfg.attach.ifname, "eth1", "interface");
	ASSERT_EQ(cfg.nports, 2, "two ports");
	p = &cfg.ports[0];
	ASSERT_EQ(p->port, 8000, "port");
	ASSERT_EQ(p->limit.rate, 20, "rate");
	ASSERT_EQ(p->limit.burst, 40, "burst");
	ASSERT_EQ(p->limit.action, IG_ACTION_REJECT, "action");
	ASSERT_TRUE(p->has_breaker, "breaker");
	ASSERT_EQ(p->fallback, 8001, "fallback");
	ASSERT_EQ(p->fsm.window_ms, 10000, "window");
	ASSERT_EQ(p->fsm.failure_pct, 50, "failure rate");
	ASSERT_EQ(p->fsm.max_open_ms, 300000, "max open time");
	ASSERT_EQ(p->probe, IG_PROBE_HTTP, "probe kind");
	ASSERT_STREQ(p->probe_target, "http://127.0.0.1:8000/health", "inline comment stripped");
	p = &cfg.ports[1];
	ASSERT_EQ(p->limit.burst, 5, "burst defaults to one second of rate");
	ASSERT_EQ(p->limit.unit, IG_UNIT_CONN, "tcp defaults to conn");
	ASSERT_FALSE(p->has_breaker, "no breaker");
	ASSERT_EQ(cfg.reject_budget.reject_rate, 1000, "reject rate");
	ASSERT_STREQ(cfg.metrics_addr, "127.0.0.1:9464", "metrics address");
	ASSERT_EQ(cfg.attach.max_flows, 262144, "max_flows");
	ASSERT_EQ(cfg.attach.tc_place.pos, IG_TC_FIRST, "tc_position first");
}

IG_TEST(config_breaker_defaults)
{
	const struct ig_cfg_port *p = &cfg.ports[0];

	ASSERT_OK(load_text("[agent]\ninterface = v0\n[port 8000]\nfallback = 8001\n"), err);
	ASSERT_EQ(cfg.tick_ms, IG_CFG_DEFAULT_TICK_MS, "tick");
	ASSERT_STREQ(cfg.metrics_addr, IG_DEFAULT_METRICS_ADDR, "metrics on by default");
	ASSERT_EQ(cfg.attach.max_flows, 0, "flow table: the default (or what is pinned)");
	ASSERT_FALSE(p->has_limit, "no limit");
	ASSERT_EQ(p->fsm.min_requests, IG_CFG_DEFAULT_MIN_REQUESTS, "min requests");
	ASSERT_EQ(p->fsm.consecutive_failures, IG_CFG_DEFAULT_CONSECUTIVE, "consecutive");
	ASSERT_EQ(p->fsm.open_ms, IG_CFG_DEFAULT_OPEN_MS, "open time");
	ASSERT_EQ(p->fsm.half_open_probes, IG_CFG_DEFAULT_PROBES, "probes");
	ASSERT_EQ(p->probe, IG_PROBE_NONE, "no active probe");
	ASSERT_EQ(p->limit.flags & IG_POL_F_DRY_RUN, 0, "enforced by default");
	ASSERT_OK(load_text("[agent]\ninterface = v0\n[port 9000]\nrate = 2/s\nenforce = false\n"), err);
	ASSERT_EQ(cfg.ports[0].limit.flags & IG_POL_F_DRY_RUN, IG_POL_F_DRY_RUN, "enforce = false: dry run");
	ASSERT_OK(load_text("[agent]\ninterface = v0\n[port 8000]\nbreaker = on\n"), err);
	ASSERT_EQ(cfg.ports[0].fallback, 0, "no fallback: refuse while open");
	ASSERT_EQ(cfg.ports[0].fsm.slow_call_ms, 0, "no slow-call rule by default");
	/* the slow-call rule on a request port; its rate defaults to 100 % */
	ASSERT_OK(load_text("[agent]\ninterface = v0\n[port 8000]\nrate = 9/s\nunit = request\n"
			    "slow_call_duration = 1500ms\n"), err);
	ASSERT_EQ(cfg.ports[0].fsm.slow_call_ms, 1500, "slow_call_duration");
	ASSERT_EQ(cfg.ports[0].fsm.slow_call_pct, 100, "slow_call_rate's default");
	ASSERT_TRUE(cfg.ports[0].has_breaker, "a slow-call rule makes a breaker");
	ASSERT_OK(load_text("[agent]\ninterface = v0\n[port 8000]\nrate = 9/s\n"
			    "tokens_per_minute = 6000\nslow_call_duration = 2s\nslow_call_rate = 50%\n"),
		  err);
	ASSERT_EQ(cfg.ports[0].fsm.slow_call_pct, 50, "slow_call_rate, on a token port");
}

IG_TEST(config_fair_share_tiers_and_cluster)
{
	const struct ig_cfg_port *p = &cfg.ports[0];

	ASSERT_OK(load_text("[agent]\ninterface = v0\ncontrol = /run/ig.sock\n"
			    "[tiers]\nallow = 10.0.0.0/8 fd00:1::/32\ngold = 198.18.0.0/16\n"
			    "gold = 198.19.1.2\n"
			    "[tier gold 8000]\nrate = 50/s\n"
			    "[cluster]\nredis = unix:/run/redis.sock\ninterval = 250ms\n"
			    "[port 8000]\nrate = 10/s\nprefix_rate = 100/s\nprefix_len = 20,48\n"
			    "port_rate = 1k/s\nport_burst = 2k\nnewcomer_rate = 50/s\nmax_conns = 8\n"
			    "tokens_per_minute = 60000\nbytes_per_token = 3\nfleet_rate = 30/s\n"
			    "token_count = events\n"
			    "[port 8001]\nrate = 1/s\ntokens_per_minute = 600\n"), err);
	ASSERT_STREQ(cfg.control, "/run/ig.sock", "control socket");
	ASSERT_TRUE(cfg.has_tiers, "tiers");
	ASSERT_EQ(cfg.ntiers, 4, "four prefixes");
	ASSERT_EQ(cfg.tiers[1].key.prefixlen, 32, "an IPv6 /32");
	ASSERT_EQ(cfg.tiers[3].key.prefixlen, 128, "a bare IPv4 address is a /32 (96 + 32)");
	ASSERT_STREQ(cfg.tiers[2].what, "gold", "tier name");
	ASSERT_EQ(cfg.ntier_rates, 1, "one tier rate");
	ASSERT_EQ(cfg.tier_rates[0].rate.burst, 50, "a tier's burst defaults to its rate");
	ASSERT_STREQ(cfg.cluster.redis, "unix:/run/redis.sock", "redis");
	ASSERT_EQ(cfg.cluster.interval_ms, 250, "interval");
	ASSERT_EQ(p->levels.prefix_rate, 100, "prefix rate");
	ASSERT_EQ(p->levels.prefix_burst, 100, "prefix burst defaults to its rate");
	ASSERT_EQ(p->levels.prefix_v4, 20, "prefix v4");
	ASSERT_EQ(p->levels.prefix_v6, 48, "prefix v6");
	ASSERT_EQ(p->levels.port_burst, 2000, "port burst");
	ASSERT_EQ(p->levels.max_conns, 8, "max conns");
	ASSERT_EQ(p->levels.tokens_per_min, 60000, "tokens");
	ASSERT_EQ(p->levels.bytes_per_token, 3, "bytes per token");
	ASSERT_EQ(p->fleet_burst, 30, "fleet burst defaults to its rate");
	ASSERT_EQ(p->limit.flags & (IG_POL_F_HIER | IG_POL_F_CONNS | IG_POL_F_TOKENS | IG_POL_F_FLEET),
		  IG_POL_F_HIER | IG_POL_F_CONNS | IG_POL_F_TOKENS | IG_POL_F_FLEET, "flags");
	/* the rule is in the policy's flags, and survives the level flags */
	ASSERT_EQ(IG_POL_COUNT(p->limit.flags), IG_TC_EVENTS, "token_count = events");
	ASSERT_EQ(IG_POL_COUNT(cfg.ports[1].limit.flags), IG_TC_USAGE, "token_count defaults to usage");
	ASSERT_TRUE(cfg.ports[1].limit.flags & IG_POL_F_TOKENS, "8001: tokens");
}

/* Each broken file, and the line and words its error must carry. */
/* a port adaptive admission accepts, but for the key under test */
#define AD_HEAD "[agent]\ninterface = v0\n[port 8000]\n"
#define AD_RATE "rate = 2/s\nunit = request\nport_rate = 40/s\n"

static const struct {
	const char *text, *want;
} broken[] = {
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = fast\n", ":4: invalid rate 'fast'" },
	{ "[agent]\ninterface = v0\nspeed = 3\n", ":3: unknown key 'speed' in [agent]" },
	{ "[agent]\ninterface = v0\n[port 70000]\nrate = 1/s\n", ":3: invalid port '70000'" },
	{ "[agent]\ninterface = v0\n[ports 8000]\n", ":3: unknown section [ports 8000]" },
	{ "[agent]\ninterface = v0\n\nthis line is nonsense\n", ":4: expected [section]" },
	{ "rate = 1/s\n", ":1: 'rate' before any section" },
	{ "[agent]\ninterface = v0\n[port 53/udp]\nrate = 5/s\nfallback = 54\n",
	  ":5: 'fallback': breakers are for TCP ports only" },
	{ "[agent]\ninterface = v0\n[port 8000]\nfallback = 8000\n", ":4: fallback 8000 is the port itself" },
	{ "[agent]\ninterface = v0\n[port 8000]\nfailure_rate = 150%\n", ":4: invalid failure_rate '150%'" },
	{ "[agent]\ninterface = v0\n[port 8000]\nslow_call_rate = 0%\n", ":4: invalid slow_call_rate '0%'" },
	{ "[agent]\ninterface = v0\n[port 8000]\nslow_call_duration = soon\n",
	  ":4: invalid slow_call_duration" },
	{ "[agent]\ninterface = v0\n[port 8000]\nslow_call_duration = 1s\n",
	  ":3: [port 8000/tcp]: slow_call_duration needs the port's call times" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 5/s\nslow_call_duration = 1s\n",
	  ":3: [port 8000/tcp]: slow_call_duration needs the port's call times" },
	{ "[agent]\ninterface = v0\n[port 8000]\nwindow = 10 parsecs\n", ":4: invalid window" },
	{ "[agent]\ninterface = v0\n[port 8000]\nhealth_url = ftp://x/\n", ":4: invalid health_url" },
	{ "[agent]\ninterface = v0\n[port 8000]\nhealth_tcp = localhost\n", ":4: invalid health_tcp" },
	{ "[agent]\ninterface = v0\n[port 8000]\nhealth_tcp = h:1\nhealth_url = http://h/\n",
	  ":5: health_url and health_tcp exclude each other" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\n[port 8000/tcp]\nrate = 2/s\n",
	  ":5: [port 8000/tcp]: this port already has a section (line 3)" },
	{ "[agent]\ninterface = v0\n[port 8000]\n\nburst = 5\n", ":3: [port 8000/tcp] sets neither" },
	{ "[agent]\ninterface = v0\n[port 8000]\nopen_time = 10s\nmax_open_time = 5s\n",
	  ":3: [port 8000/tcp]: max_open_time is shorter than open_time" },
	{ "[agent]\nhook = xdp\n", ": no interface" },
	{ "[agent]\ninterface = v0\nhook = ebpf\n", ":3: invalid hook 'ebpf'" },
	{ "[agent]\ninterface = v0\ntc_position = middle\n", ":3: invalid tc_position 'middle'" },
	{ "[agent]\ninterface = v0\nmetrics = localhost:9464\n", ":3: invalid metrics 'localhost:9464'" },
	{ "[agent]\ninterface = v0\nmetrics = [::1]:99999\n", ":3: invalid metrics '[::1]:99999'" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\naction = explode\n", ":5: invalid action" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\nenforce = maybe\n", ":5: invalid enforce 'maybe'" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\nprefix_len = 40\n", ":5: invalid prefix_len" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\nport_burst = 5\n",
	  ":3: [port 8000/tcp]: a port burst needs a port rate" },
	{ "[agent]\ninterface = v0\n[port 53/udp]\nrate = 1/s\nmax_conns = 2\n",
	  ":5: max_conns counts TCP connections" },
	{ "[agent]\ninterface = v0\n[tiers]\ngold = 10.0.0.0/33\n", ":4: invalid CIDR '10.0.0.0/33'" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\nprefix_len = 24,129\n", ":5: invalid prefix_len" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\nnewcomer_rate = fast\n",
	  ":5: invalid rate 'fast'" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\nmax_conns = 0\n", ":5: invalid max_conns" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\ntokens_per_minute = lots\n",
	  ":5: invalid tokens_per_minute" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\nbytes_per_token = 3\n",
	  ":3: [port 8000/tcp]: bytes_per_token needs tokens_per_minute" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\ntoken_count = events\n",
	  ":3: [port 8000/tcp]: token_count needs tokens_per_minute" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\ntokens_per_minute = 60\ntoken_count = words\n",
	  ":6: invalid token_count 'words': expected usage, events or bytes" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\ntokens_per_minute = 60\ntoken_count = Usage\n",
	  ":6: invalid token_count 'Usage'" },
	{ "[agent]\ninterface = v0\n[tiers]\ngold = 10.0.0.0/8 fd00::/129\n", ":4: invalid CIDR 'fd00::/129'" },
	{ "[agent]\ninterface = v0\n[tiers]\nabcdefghijklmnopqrstuvwxyz = 10.0.0.0/8\n",
	  ":4: invalid tier 'abcdefghijklmnopqrstuvwxyz'" },
	{ "[agent]\ninterface = v0\n[tiers]\ngold = 10.0.0.0/8\ndeny = 10.0.0.0/8\n",
	  ":5: 10.0.0.0/8 is already in the tier 'gold'" },
	{ "[agent]\ninterface = v0\n[tiers]\nno way = 10.0.0.0/8\n", ":4: invalid tier 'no way'" },
	{ "[agent]\ninterface = v0\n[tier gold]\nrate = 1/s\n", ":3: [tier gold]: expected [tier NAME PORT" },
	{ "[agent]\ninterface = v0\n[tier gold 8000]\nburst = 4\n", ": [tier gold 8000/tcp] has no rate" },
	{ "[agent]\ninterface = v0\n[tier allow 8000]\nrate = 4/s\n", ":3: [tier allow 8000]: invalid tier name" },
	{ "[agent]\ninterface = v0\ncontrol = relative.sock\n", ":3: invalid control 'relative.sock'" },
	{ "[agent]\ninterface = v0\n[cluster]\nnode = a\n", ":3: [cluster] needs redis" },
	{ "[agent]\ninterface = v0\n[cluster]\nredis = nowhere\n", ":4: invalid redis 'nowhere'" },
	{ "[agent]\ninterface = v0\n[cluster]\nredis = h:6379\nkey_seed_file = /nonexistent/seed\n",
	  ":5: cannot read the key seed file /nonexistent/seed" },
	{ "[agent]\ninterface = v0\n[port 8000]\nrate = 1/s\nfleet_rate = 5/s\n",
	  ":3: [port 8000/tcp]: fleet_rate needs a [cluster] section" },
	{ "[agent]\ninterface = v0\n[cluster]\nredis = h:6379\n[port 8000]\nfallback = 9\nfleet_rate = 5/s\n",
	  ":5: [port 8000/tcp]: burst, unit, algorithm, rate_window and fleet_rate need a rate" },
	/* adaptive admission */
	/* who the client is (issue 16) */
	{ AD_HEAD "rate = 2/s\nkey = api-key\n",
	  ":3: [port 8000/tcp]: key = api-key reads each request's headers: it needs unit = request" },
	{ AD_HEAD "rate = 2/s\nkey = apikey\n", ":5: invalid key 'apikey': expected source, api-key" },
	{ "[agent]\ninterface = v0\n[port 53/udp]\nrate = 2/s\nkey = proxy-source\n",
	  ":3: [port 53/udp]: key = proxy-source reads the PROXY header where it reads requests: it needs unit = request" },
	{ AD_HEAD "rate = 2/s\nanonymous_rate = 1/s\n",
	  ":3: [port 8000/tcp]: anonymous_rate, anonymous_burst and any_key go with key = api-key" },
	{ AD_HEAD "rate = 2/s\nunit = request\nkey = api-key\nany_key = maybe\n",
	  ":7: invalid any_key 'maybe': expected yes or no" },
	{ AD_HEAD "rate = 2/s\nunit = request\nkey = api-key\nanonymous_burst = 3\n",
	  ":3: [port 8000/tcp]: anonymous_burst needs anonymous_rate" },
	{ AD_HEAD "rate = 2/s\nunit = request\nkey = api-key\nanonymous_rate = lots\n",
	  ":7: invalid rate 'lots'" },
	{ AD_HEAD "rate = 2/s\nproxy_from = 10.0.0.0/8\n",
	  ":3: [port 8000/tcp]: proxy_from goes with key = proxy-source" },
	{ AD_HEAD "rate = 2/s\nkey = proxy-source\nproxy_from = 10.0.0.0/8, 10.1.0.0/33\n",
	  ":6: invalid proxy_from '10.1.0.0/33'" },
	{ AD_HEAD "key = api-key\nfallback = 8001\n",
	  ":3: [port 8000/tcp]: key, anonymous_rate, anonymous_burst, any_key and proxy_from go with a rate" },
	{ "[agent]\ninterface = v0\n[keys]\nalice = hash 0123\n",
	  ":4: [keys] alice: invalid hash '0123': 16 hex digits" },
	{ "[agent]\ninterface = v0\n[keys]\nalice = sha 0123456789abcdef\n",
	  ":4: [keys] alice: expected hash HEX16 or token-file PATH" },
	{ "[agent]\ninterface = v0\n[keys]\n0123456789abcdef = hash 0123456789abcdef\n",
	  ":4: invalid key name '0123456789abcdef' in [keys]" },
	{ "[agent]\ninterface = v0\n[keys]\nalice = hash 0123456789abcdef tier\n",
	  ":4: [keys] alice: expected tier TIER or deny after the hash" },
	{ "[agent]\ninterface = v0\n[keys]\nalice = token-file relative.txt\n",
	  ":4: [keys] alice: token-file 'relative.txt': an absolute path" },
	{ "[agent]\ninterface = v0\n[keys]\nalice = token-file /nonexistent/tokens\n",
	  ":4: cannot open token file /nonexistent/tokens" },
	{ "[agent]\ninterface = v0\n[key]\nalice = hash 0123456789abcdef\n",
	  ":3: unknown section [key]" },
	{ AD_HEAD "adaptive = sometimes\n", ":4: invalid adaptive 'sometimes': expected off, engine or latency" },
	{ AD_HEAD "adaptive = engine\n" AD_RATE "", ":3: [port 8000/tcp]: adaptive = engine needs engine_metrics" },
	{ AD_HEAD "adaptive = latency\nrate = 2k/s\nunit = byte\nport_rate = 40k/s\n",
	  ":3: [port 8000/tcp]: adaptive needs a rate with unit = request (or conn)" },
	{ AD_HEAD "adaptive = latency\nrate = 2/s\nunit = packet\nport_rate = 40/s\n",
	  ":3: [port 8000/tcp]: adaptive needs a rate with unit = request (or conn)" },
	{ AD_HEAD "adaptive = latency\nrate = 2/s\nunit = request\n",
	  ":3: [port 8000/tcp]: adaptive needs a static port_rate" },
	{ AD_HEAD "adaptive = latency\nrate = 2/s\nunit = conn\nport_rate = 40/s\n",
	  ":3: [port 8000/tcp]: adaptive = latency needs the port's times to first token" },
	{ AD_HEAD "adaptive = latency\nfallback = 8001\n",
	  ":3: [port 8000/tcp]: adaptive needs a rate with unit = request (or conn)" },
	{ AD_HEAD AD_RATE "queue_target = 3\n", ":3: [port 8000/tcp]: engine_metrics, adaptive_interval, queue_target" },
	{ AD_HEAD "adaptive = engine\nengine_metrics = https://h:1/metrics\n",
	  ":5: invalid engine_metrics 'https://h:1/metrics': expected http://HOST:PORT/PATH" },
	{ AD_HEAD "kv_ceiling = 1.5\n", ":4: invalid kv_ceiling '1.5': expected a number from 0.05 to 1" },
	{ AD_HEAD "queue_target = five\n", ":4: invalid queue_target 'five'" },
	{ AD_HEAD "adaptive_headroom = 0.6\n",
	  ":4: invalid adaptive_headroom '0.6': expected a number from 0 to 0.5" },
	{ AD_HEAD AD_RATE "adaptive = latency\nadaptive_headroom = 0.1\n",
	  ":3: [port 8000/tcp]: adaptive_headroom needs adaptive = engine" },
	{ AD_HEAD "adaptive_interval = 10ms\n", ":4: invalid adaptive_interval '10ms'" },
	{ AD_HEAD "adaptive = latency\n" AD_RATE "adaptive_min = 50/s\n",
	  ":3: [port 8000/tcp]: adaptive_min 50/s and adaptive_max 160/s must hold port_rate 40/s" },
	{ AD_HEAD "adaptive = latency\n" AD_RATE "adaptive_max = 20/s\n",
	  ":3: [port 8000/tcp]: adaptive_min 1/s and adaptive_max 20/s must hold port_rate 40/s" },
	{ AD_HEAD "rate = 5/s\nalgorithm = fixed\n", ":5: invalid algorithm 'fixed'" },
	{ AD_HEAD "rate = 5/s\nalgorithm = fixed-window\nrate_window = 0s\n",
	  ":6: invalid window '0s'" },
	{ AD_HEAD "rate = 5/s\nalgorithm = fixed-window\nrate_window = 2d\n",
	  ":6: invalid window '2d'" },
	{ AD_HEAD "rate = 5/s\nburst = 9\nalgorithm = fixed-window\n",
	  ":3: [port 8000/tcp]: algorithm: fixed-window has no burst" },
	{ AD_HEAD "rate = 5/s\nalgorithm = leaky-bucket\nport_rate = 50/s\nport_burst = 9\n",
	  ":3: [port 8000/tcp]: algorithm: leaky-bucket has no burst" },
	{ AD_HEAD "rate = 5/s\nrate_window = 60s\n",
	  ":3: [port 8000/tcp]: algorithm: a window goes with fixed-window or sliding-window" },
	{ AD_HEAD "rate = 7/min\nalgorithm = sliding-window\nrate_window = 1s\n",
	  ":3: [port 8000/tcp]: algorithm: rate 7/min is not a whole number of units per 1s" },
	{ AD_HEAD "rate = 20000000/s\nalgorithm = sliding-window\n",
	  ":3: [port 8000/tcp]: algorithm: sliding-window counts at most 16777215" },
	{ AD_HEAD "algorithm = fixed-window\nfallback = 8001\n",
	  ":3: [port 8000/tcp]: burst, unit, algorithm" },
	{ "[agent]\ninterface = v0\n[cluster]\nredis = h:6379\n[port 8000]\nrate = 5/s\n"
	  "algorithm = sliding-window\nfleet_rate = 5/s\nfleet_burst = 9\n",
	  ":5: [port 8000/tcp]: fleet_burst goes with token-bucket, not sliding-window" },
};

IG_TEST(config_algorithm_and_its_window)
{
	const struct ig_cfg_port *p;

	ASSERT_OK(load_text("[agent]\ninterface = v0\n"
			    "[port 8000]\nrate = 10/s\nalgorithm = sliding-window\nrate_window = 1m\n"
			    "port_rate = 1/s\n"
			    "[port 8001]\nrate = 60/min\nalgorithm = leaky-bucket\n"
			    "[port 8002]\nrate = 3/min\nalgorithm = fixed-window\n"
			    "[port 8003]\nrate = 3/min\nburst = 5\nalgorithm = token-bucket\n"),
		  err);
	p = &cfg.ports[0];
	ASSERT_EQ(IG_POL_ALGO(p->limit.flags), IG_ALGO_SLIDING_WINDOW, "sliding");
	ASSERT_EQ(p->limit.rate, ig_rate_make(600, 60, 1), "10/s written per minute: 600/min");
	ASSERT_EQ(p->limit.burst, 600, "a window's burst is its N");
	ASSERT_EQ(p->levels.port_rate, ig_rate_make(60, 60, 1), "the port's too: 60/min");
	ASSERT_EQ(p->levels.port_burst, 60, "and its burst");
	p = &cfg.ports[1];
	ASSERT_EQ(IG_POL_ALGO(p->limit.flags), IG_ALGO_LEAKY_BUCKET, "leaky");
	ASSERT_EQ(p->limit.burst, 1, "no burst");
	p = &cfg.ports[2];
	ASSERT_EQ(IG_POL_ALGO(p->limit.flags), IG_ALGO_FIXED_WINDOW, "fixed");
	ASSERT_EQ(p->limit.rate, ig_rate_make(3, 60, 1), "3/min as written");
	p = &cfg.ports[3];
	ASSERT_EQ(IG_POL_ALGO(p->limit.flags), IG_ALGO_TOKEN_BUCKET, "named default");
	ASSERT_EQ(p->limit.burst, 5, "its burst");
}

IG_TEST(config_mistakes_are_rejected_with_their_line)
{
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		ASSERT_EQ(load_text(broken[i].text), -EINVAL, broken[i].want);
		if (strncmp(err, broken[i].want, strlen(broken[i].want)))
			ASSERT_STREQ(err, broken[i].want, "error message starts with");
	}
}

IG_TEST(config_adaptive_defaults_and_keys)
{
	const struct ig_adaptive_cfg *a = &cfg.ports[0].adaptive;

	ASSERT_OK(load_text(AD_HEAD AD_RATE), err);
	ASSERT_EQ(a->mode, IG_AD_OFF, "off by default");
	ASSERT_OK(load_text(AD_HEAD AD_RATE "adaptive = engine\n"
			    "engine_metrics = http://127.0.0.1:8000/metrics\n"), err);
	ASSERT_EQ(a->mode, IG_AD_ENGINE, "engine");
	ASSERT_STREQ(a->engine_metrics, "http://127.0.0.1:8000/metrics", "endpoint");
	ASSERT_EQ(a->interval_ms, IG_AD_DEFAULT_INTERVAL_MS, "interval 250 ms");
	ASSERT_EQ(a->queue_target_milli, 5000, "queue target 5");
	ASSERT_EQ(a->kv_ceiling_milli, 800, "KV ceiling 0.8");
	ASSERT_EQ(a->min_rate, 1, "min: 1/s");
	ASSERT_EQ(a->max_rate, 160, "max: 4 x port_rate");
	ASSERT_OK(load_text(AD_HEAD "rate = 2/s\nunit = conn\nport_rate = 40/s\nadaptive = engine\n"
			    "engine_metrics = http://[::1]:8000/metrics\n"
			    "adaptive_interval = 100ms\nqueue_target = 2.5\nkv_ceiling = 0.9\n"
			    "adaptive_min = 10/s\nadaptive_max = 40/s\n"), err);
	ASSERT_EQ(a->mode, IG_AD_ENGINE, "engine, conn unit");
	ASSERT_EQ(a->interval_ms, 100, "interval");
	ASSERT_EQ(a->queue_target_milli, 2500, "queue target");
	ASSERT_EQ(a->kv_ceiling_milli, 900, "KV ceiling");
	ASSERT_EQ(a->headroom_milli, 0, "no headroom by default");
	ASSERT_EQ(a->min_rate, 10, "min");
	ASSERT_EQ(a->max_rate, 40, "max (= port_rate: allowed)");
	ASSERT_OK(load_text(AD_HEAD AD_RATE "adaptive = latency\n"), err);
	ASSERT_EQ(a->mode, IG_AD_LATENCY, "latency on a request port");
	ASSERT_OK(load_text(AD_HEAD "rate = 2/s\nunit = conn\nport_rate = 40/s\n"
			    "tokens_per_minute = 6000\nadaptive = latency\n"), err);
	ASSERT_EQ(a->mode, IG_AD_LATENCY, "latency on a conn port with a token budget");
	ASSERT_OK(load_text(AD_HEAD AD_RATE "adaptive = off\n"), err);
	ASSERT_EQ(a->mode, IG_AD_OFF, "off said");
	ASSERT_OK(load_text(AD_HEAD AD_RATE "adaptive = engine\n"
			    "engine_metrics = http://127.0.0.1:8000/metrics\n"
			    "adaptive_headroom = 0.05\nqueue_target = 0\n"), err);
	ASSERT_EQ(a->headroom_milli, 50, "headroom");
	ASSERT_EQ(a->queue_target_milli, 0, "queue target 0");
}

IG_TEST(config_who_the_client_is)
{
	char tokens[] = "/tmp/ig-config-tokens-XXXXXX";
	char text[1024];
	int fd = mkstemp(tokens);
	const struct ig_cfg_port *p;

	ASSERT_TRUE(fd >= 0, "token file");
	ASSERT_TRUE(write(fd, "# premium\nsk-1\nsk-2\n", 20) == 20, "write tokens");
	close(fd);
	snprintf(text, sizeof(text),
		 "[agent]\ninterface = v0\n"
		 "[port 8000]\nrate = 5/s\nunit = request\nkey = api-key\nanonymous_rate = 2/s\n"
		 "any_key = yes\n"
		 "[port 8001]\nrate = 5/s\nunit = request\nkey = proxy-source\nproxy_from = 10.0.0.0/8, fd00::/64\n"
		 "[port 8002]\nrate = 5/s\nunit = request\nkey = proxy-source\nproxy_from = 10.0.0.0/8 192.0.2.1\n"
		 "[port 8003]\nrate = 5/s\nunit = request\nkey = api-key\nanonymous_rate = 0\n"
		 "[port 8004]\nrate = 5/s\nunit = request\nkey = api-key\n"
		 "[port 8005]\nrate = 5/s\nkey = source\n"
		 "[keys]\nalice = token-file %s tier premium\nbob = hash 0123456789ABCDEF deny\n"
		 "alice = hash 00000000000000ff\n", tokens);
	ASSERT_OK(load_text(text), err);
	unlink(tokens);
	p = &cfg.ports[0];
	ASSERT_EQ(IG_POL_KEY(p->limit.flags), IG_KEY_API, "api-key");
	ASSERT_TRUE(p->limit.flags & IG_POL_F_HIER, "a key mode needs the hierarchy");
	ASSERT_TRUE(p->limit.flags & IG_POL_F_ANY_KEY, "any_key");
	ASSERT_EQ(p->keys.flags, IG_KP_F_ANON, "an anonymous rate");
	ASSERT_EQ(p->keys.anon_rate, 2, "anonymous_rate");
	ASSERT_EQ(p->keys.anon_burst, 2, "anonymous_burst: a second of it");
	p = &cfg.ports[1];
	ASSERT_EQ(IG_POL_KEY(p->limit.flags), IG_KEY_PROXY, "proxy-source");
	ASSERT_TRUE(p->limit.flags & IG_POL_F_HIER, "hierarchy");
	ASSERT_EQ(cfg.nproxy_from, 3, "one list for all ports, 10.0.0.0/8 once");
	ASSERT_EQ(cfg.proxy_from[1].prefixlen, 64, "fd00::/64");
	p = &cfg.ports[3];
	ASSERT_EQ(p->keys.flags, IG_KP_F_ANON, "anonymous_rate = 0 is a rate");
	ASSERT_EQ(p->keys.anon_rate, 0, "refused");
	p = &cfg.ports[4];
	ASSERT_EQ(p->keys.flags, 0, "no anonymous rate: the port's");
	ASSERT_FALSE(p->limit.flags & IG_POL_F_ANY_KEY, "any_key off by default");
	p = &cfg.ports[5];
	ASSERT_EQ(IG_POL_KEY(p->limit.flags), IG_KEY_SOURCE, "source said");
	ASSERT_FALSE(p->limit.flags & IG_POL_F_HIER, "source alone needs no hierarchy");
	ASSERT_TRUE(cfg.has_keys, "[keys]");
	ASSERT_EQ(cfg.nkeys, 3, "three lines, a name may repeat");
	ASSERT_STREQ(cfg.keys[0].path, tokens, "a token file");
	ASSERT_STREQ(cfg.keys[0].tier, "premium", "its tier");
	ASSERT_EQ(cfg.keys[1].hash, 0x0123456789abcdefULL, "a hash");
	ASSERT_EQ(cfg.keys[1].deny, 1, "denied");
	ASSERT_STREQ(cfg.keys[2].name, "alice", "the name again");
}

IG_TEST(config_missing_file_is_a_clear_error)
{
	ASSERT_EQ(ig_config_load("/nonexistent/ig.conf", &cfg, err, sizeof(err)), -ENOENT, "ENOENT");
	ASSERT_STREQ(err, "/nonexistent/ig.conf: cannot open: No such file or directory", "message");
}

/* What load_text(text) wrote to stderr, into buf. */
static int load_text_stderr(const char *text, char *buf, size_t len)
{
	char path[] = "/tmp/ig-stderr-XXXXXX";
	int fd = mkstemp(path), saved = dup(2), ret;
	ssize_t n;

	ASSERT_TRUE(fd >= 0 && saved >= 0, "temporary file");
	fflush(stderr);
	dup2(fd, 2);
	ret = load_text(text);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return ret;
}

/* A byte-unit burst below the largest packet charged at once never admits
 * such a packet: the config warns as the CLI does, and on tc the largest is
 * a GRO aggregate (64 KiB), not a frame. */
IG_TEST(config_byte_burst_below_the_largest_charge_warns)
{
	static const struct { const char *hook, *burst; int warns; } cases[] = {
		{ "xdp", "1000", 1 }, { "xdp", "1514", 0 }, { "xdp", "10000", 0 },
		{ "tc", "10000", 1 }, { "tc", "65548", 1 }, { "tc", "65549", 0 },
	};
	char text[256], out[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[agent]\ninterface = v0\nhook = %s\n[port 8000]\n"
			 "rate = 100k/s\nunit = byte\nburst = %s\n", cases[i].hook, cases[i].burst);
		ASSERT_OK(load_text_stderr(text, out, sizeof(out)), err);
		ASSERT_EQ(strstr(out, "admitted only from a full bucket") != NULL, cases[i].warns, text);
		if (cases[i].warns)
			ASSERT_TRUE(strstr(out, ":4: [port 8000/tcp]: burst") != NULL, out);
	}
	ASSERT_OK(load_text_stderr("[agent]\ninterface = v0\nhook = tc\n[port 8000]\nrate = 5/s\n",
				   out, sizeof(out)), err);
	ASSERT_STREQ(out, "", "a conn unit: nothing to say");
}

IG_TEST(config_tc_position)
{
	ASSERT_OK(load_text("[agent]\ninterface = v0\nhook = tc\ntc_position = last\n"), err);
	ASSERT_EQ(cfg.attach.tc_place.pos, IG_TC_LAST, "last");
	ASSERT_OK(load_text("[agent]\ninterface = v0\ntc_position = first\n"), err);
	ASSERT_EQ(cfg.attach.tc_place.pos, IG_TC_FIRST, "first");
	ASSERT_OK(load_text("[agent]\ninterface = v0\ntc_position = after:cil_from_netdev\n"), err);
	ASSERT_EQ(cfg.attach.tc_place.pos, IG_TC_AFTER, "after");
	ASSERT_STREQ(cfg.attach.tc_place.anchor, "cil_from_netdev", "anchor");
	ASSERT_NEQ(load_text("[agent]\ninterface = v0\ntc_position = before:\n"), 0, "no name");
	ASSERT_NEQ(load_text("[agent]\ninterface = v0\ntc_position = after:a_name_of_16chars\n"), 0,
		  "a name longer than the kernel keeps");
}
