/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's config file (INI, parsed with libinih): the interface to
 * protect, per-port limits and breakers. Loaded whole and validated before
 * anything is applied; an error names file:line and what is wrong.
 */
#ifndef IG_CONFIG_H
#define IG_CONFIG_H

#include <net/if.h>
#include <linux/types.h>
#include "ig_abi.h"
#include "lib/loader.h"
#include "agent/fsm.h"
#include "agent/fleet.h"
#include "lib/tiers.h"
#include "lib/adaptive_cfg.h"
#include "lib/keys.h"

#define IG_CFG_MAX_PORTS 256
#define IG_CFG_MAX_TIER_PREFIXES 4096
#define IG_CFG_MAX_TIER_RATES 256
#define IG_CFG_MAX_KEYS 512 /* [keys] lines; a token file holds any number */

enum ig_probe_kind {
	IG_PROBE_NONE = 0,
	IG_PROBE_HTTP = 1, /* GET health_url; 2xx/3xx is healthy */
	IG_PROBE_TCP = 2,  /* connect to health_tcp */
};

struct ig_cfg_port {
	__u16 port;
	enum ig_proto proto;
	int line;                  /* of the [port ...] header */
	int has_limit;
	struct ig_policy limit;    /* rate, burst, unit, action (slot is the CLI's) */
	int has_breaker;
	__u16 fallback;            /* 0 = none: refuse while open */
	struct ig_fsm_cfg fsm;
	enum ig_probe_kind probe;
	char probe_target[512];    /* URL, or host:port */
	__u64 probe_interval_ms;
	__u64 probe_timeout_ms;
	struct ig_limits levels;   /* fair share: prefix, port, newcomer, conns, tokens */
	__u64 fleet_rate;          /* 0: no fleet-wide limit */
	__u64 fleet_burst;
	struct ig_adaptive_cfg adaptive; /* mode IG_AD_OFF: the port rate is static */
	/* key = api-key: how requests without a known key are charged (the
	 * key mode itself is in limit.flags) */
	struct ig_key_policy keys;
	/* requests in flight (max_inflight; max 0: none). inflight_auto:
	 * `max_inflight = auto`, the engine's slots as adaptive admission
	 * measures them (IG_INFLIGHT_MAX until it has) */
	struct ig_inflight_cfg inflight;
	int inflight_auto;
};

struct ig_cfg_file {
	char ifname[IF_NAMESIZE];
	struct ig_attach_opts attach;  /* ifname points into this struct */
	__u64 tick_ms;                 /* how often the agent reads the counters */
	char metrics_addr[80];         /* HOST:PORT of /metrics; empty = off */
	int has_reject_budget;
	struct ig_globals reject_budget;
	int nports;
	struct ig_cfg_port ports[IG_CFG_MAX_PORTS];
	char control[108];             /* the control socket; "" = the default, "off" = none */
	int has_tiers;                 /* a [tiers] section: the agent owns the tier set */
	int ntiers;
	struct ig_tier_want tiers[IG_CFG_MAX_TIER_PREFIXES];
	int ntier_rates;
	struct ig_tier_rate_want tier_rates[IG_CFG_MAX_TIER_RATES];
	int has_keys;                  /* a [keys] section: the agent owns map `keys` */
	int nkeys;
	struct ig_key_want keys[IG_CFG_MAX_KEYS];
	/* every proxy_from of the [port] sections: the instance's one list,
	 * owned by the agent while a config has any */
	int nproxy_from;
	struct ig_lpm_key proxy_from[IG_MAX_PROXY_FROM];
	int has_cluster;               /* a [cluster] section: fleet limits through Redis */
	int cluster_line;
	struct ig_fleet_cfg cluster;
};

/* Defaults of a breaker, also what user/README.md and infergate.conf(5) document. */
#define IG_CFG_DEFAULT_TICK_MS 100
#define IG_CFG_DEFAULT_WINDOW_MS 10000
#define IG_CFG_DEFAULT_MIN_REQUESTS 20
#define IG_CFG_DEFAULT_FAILURE_PCT 50
#define IG_CFG_DEFAULT_CONSECUTIVE 3
#define IG_CFG_DEFAULT_OPEN_MS 5000
#define IG_CFG_DEFAULT_MAX_OPEN_MS 300000
#define IG_CFG_DEFAULT_PROBES 3
#define IG_CFG_DEFAULT_SLOW_CALL_PCT 100 /* Resilience4j's: every call in the window slow */
#define IG_CFG_DEFAULT_PROBE_INTERVAL_MS 1000
#define IG_CFG_DEFAULT_PROBE_TIMEOUT_MS 1000

/* 0, or -errno with "FILE:LINE: what is wrong" (or "FILE: ...") in err. */
int ig_config_load(const char *path, struct ig_cfg_file *out, char *err, size_t errlen);

#endif
