// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The agent's config in the maps: applied whole at start, as a diff at each
 * reload. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "agent/parts.h"
#include "lib/args.h"
#include "lib/breakers.h"
#include "lib/keys.h"
#include "lib/loader.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/policy.h"
#include "lib/port.h"
#include "lib/proxy.h"
#include "lib/tiers.h"
#include "lib/tokens.h"

static const struct ig_cfg_port *find_port(const struct ig_cfg_file *cfg, enum ig_proto proto,
					   __u16 port)
{
	for (int i = 0; cfg && i < cfg->nports; i++)
		if (cfg->ports[i].port == port && cfg->ports[i].proto == proto)
			return &cfg->ports[i];
	return NULL;
}

static int same_limit(const struct ig_policy *a, const struct ig_policy *b)
{
	return a->rate == b->rate && a->burst == b->burst && a->unit == b->unit &&
	       a->action == b->action && a->flags == b->flags;
}

/*
 * Bring the maps from `old` (NULL at start: whatever is pinned) to `cfg`,
 * touching only what differs. Limits that change keep every source's share
 * of its burst (never a refill); a breaker's state, force and probe budget are
 * never touched. A breaker dropped from the config is left closed, not
 * removed, so connections already on its fallback finish there.
 */
int ig_apply_config(const struct ig_instance *in, const struct ig_cfg_file *old,
		    const struct ig_cfg_file *cfg)
{
	int err, n;

	if (cfg->has_reject_budget &&
	    (!old || !old->has_reject_budget ||
	     memcmp(&old->reject_budget, &cfg->reject_budget, sizeof(cfg->reject_budget)))) {
		struct ig_globals g = cfg->reject_budget;

		if (!g.reject_burst)
			g.reject_burst = g.reject_rate ? ig_rate_default_burst(g.reject_rate) : 1;
		err = ig_globals_set(in, &g);
		if (err)
			return err;
		if (old)
			ig_info("reload: replies at most %s, burst %llu", ig_rate_s(g.reject_rate),
				(unsigned long long)g.reject_burst);
	}
	/* tiers before the ports: a port's flags follow them */
	if (cfg->has_tiers) {
		err = ig_tiers_apply(in, cfg->tiers, cfg->ntiers, cfg->tier_rates, cfg->ntier_rates);
		if (err)
			return err;
		if (old)
			ig_info("reload: %d tier prefix(es), %d tier rate(s)", cfg->ntiers,
				cfg->ntier_rates);
	} else {
		for (int i = 0; i < cfg->ntier_rates; i++) {
			const struct ig_tier_rate_want *r = &cfg->tier_rates[i];

			err = ig_tier_rate(in, r->name, r->proto, r->port, &r->rate);
			if (err)
				return err;
		}
	}
	/* keys before the ports (an api-key port finds its keys), after the
	 * tiers (their names are the tiers'); every token file is read before
	 * the map changes */
	/* the fleet's key seed first: [keys] is hashed with it */
	if (cfg->has_cluster && cfg->cluster.has_key_seed) {
		err = ig_key_seed_set(in, &cfg->cluster.key_seed, cfg->has_keys);
		if (err < 0)
			return err;
		if (err > 0)
			ig_info("key seed: the fleet's, from key_seed_file");
	}
	if (cfg->has_keys) {
		err = ig_keys_apply(in, cfg->keys, cfg->nkeys);
		if (err)
			return err;
		if (old)
			ig_info("reload: %d [keys] line(s) applied", cfg->nkeys);
	}
	/* load balancers added before the ports that believe them, the ones
	 * no longer listed removed after */
	err = ig_proxy_from_add(in, cfg->proxy_from, cfg->nproxy_from, NULL);
	if (err)
		return err;
	for (int i = 0; old && i < old->nports; i++) {
		const struct ig_cfg_port *o = &old->ports[i];
		const struct ig_cfg_port *p = find_port(cfg, o->proto, o->port);

		if (o->has_limit && (!p || !p->has_limit)) {
			err = ig_policy_clear(in, o->proto, o->port);
			if (err < 0)
				return err;
			ig_info("reload: %u/%s no longer limited", o->port, ig_proto_name(o->proto));
		}
		if (o->has_breaker && (!p || !p->has_breaker)) {
			err = ig_breaker_set_state(in, o->port, IG_BRK_CLOSED, 0);
			if (err)
				return err;
			ig_info("reload: breaker %u/tcp no longer in the config: left closed (connections "
				"on its fallback finish there; `infergate breaker %u --remove` removes it)",
				o->port, o->port);
		}
	}
	for (int i = 0; i < cfg->nports; i++) {
		const struct ig_cfg_port *p = &cfg->ports[i];
		const struct ig_cfg_port *o = find_port(old, p->proto, p->port);
		int was = o && o->has_limit;
		int limit_changed = p->has_limit && !(was && same_limit(&o->limit, &p->limit));
		int levels_changed = p->has_limit &&
				     !(was && !memcmp(&o->levels, &p->levels, sizeof(p->levels)));
		int keys_changed = p->has_limit && !(was && !memcmp(&o->keys, &p->keys, sizeof(p->keys)));
		int cap_changed = p->has_limit &&
				  !(was && !memcmp(&o->inflight, &p->inflight, sizeof(p->inflight)));

		if (limit_changed || levels_changed || keys_changed || cap_changed) {
			struct ig_port_limit l = { .policy = p->limit, .levels = p->levels,
						   .keys = p->keys, .inflight = p->inflight,
						   .rescale = 1 };

			n = ig_port_apply(in, p->proto, p->port, &l);
			if (n < 0)
				return n;
		}
		if (limit_changed && old)
			ig_info("reload: %u/%s %s burst %llu per %s, %s%s%s%s (%d source(s) "
				"rescaled)", p->port, ig_proto_name(p->proto),
				ig_rate_s(p->limit.rate), (unsigned long long)p->limit.burst,
				ig_unit_name(p->limit.unit), ig_action_name(p->limit.action),
				p->limit.flags & IG_POL_F_DRY_RUN ? " (dry run)" : "",
				p->levels.tokens_per_min ? ", tokens counted by " : "",
				p->levels.tokens_per_min ?
					ig_token_count_name(ig_token_count_of(p->limit.flags)) : "",
				n);
		/* levels change in place: their buckets (port_state) are kept */
		if (levels_changed && old)
			ig_info("reload: %u/%s fair-share levels changed", p->port,
				ig_proto_name(p->proto));
		if (keys_changed && old)
			ig_info("reload: %u/%s anonymous policy changed", p->port,
				ig_proto_name(p->proto));
		if (p->has_breaker) {
			struct ig_breaker b;
			int fresh;

			err = ig_breaker_get(in, p->port, &b);
			if (err)
				return err;
			fresh = !(b.flags & IG_BRK_F_ON);
			if (fresh) { /* new: closed, nothing forced */
				memset(&b, 0, sizeof(b));
				b.flags = IG_BRK_F_ON;
			}
			/* a new one is written even without a fallback: its flag is
			 * what switches it on in the data path */
			if (fresh || b.fallback != p->fallback || old) {
				b.fallback = p->fallback;
				err = ig_breaker_put(in, p->port, &b);
				if (err)
					return err;
			}
		}
	}
	/* the agent owns the list while its config has one (or had one) */
	if (cfg->nproxy_from || (old && old->nproxy_from)) {
		err = ig_proxy_from_apply(in, cfg->proxy_from, cfg->nproxy_from);
		if (err)
			return err;
	}
	return ig_flags_refresh(in);
}

int ig_reload_check(const struct ig_cfg_file *oc, const struct ig_cfg_file *nc)
{
	if (strcmp(nc->ifname, oc->ifname) || nc->attach.hook != oc->attach.hook ||
	    nc->attach.xdp_generic != oc->attach.xdp_generic ||
	    memcmp(&nc->attach.tc_place, &oc->attach.tc_place, sizeof(nc->attach.tc_place)) ||
	    nc->attach.max_sources != oc->attach.max_sources ||
	    nc->attach.max_flows != oc->attach.max_flows ||
	    strcmp(nc->metrics_addr, oc->metrics_addr) || nc->has_cluster != oc->has_cluster ||
	    memcmp(&nc->cluster, &oc->cluster, sizeof(nc->cluster))) {
		ig_err("reload refused: interface, hook, xdp_mode, tc_position, max_sources, max_flows, "
		       "metrics and [cluster] take a restart of the agent; nothing changed");
		return -EINVAL;
	}
	return 0;
}

/* The maps: attach (or adopt) the instance, then the config into it. */
static int maps_start(struct ig_agent *a)
{
	int err;

	if (a->opts.obj) {
		err = ig_instance_from_object(&a->in, a->opts.obj);
	} else {
		err = ig_attach(a->pin_dir, &a->cfg->attach);
		if (!err)
			err = ig_instance_open(&a->in, a->pin_dir);
	}
	if (err)
		return err;
	a->opened = 1;
	return ig_apply_config(&a->in, NULL, a->cfg);
}

static void maps_reload(struct ig_agent *a, const struct ig_cfg_file *nc)
{
	if (ig_apply_config(&a->in, a->cfg, nc))
		ig_err("reload: applying %s failed part way (see above); the agent keeps the new "
		       "config", a->config_path);
}

static void maps_stop(struct ig_agent *a)
{
	if (a->opened)
		ig_instance_close(&a->in);
	a->opened = 0;
}

const struct ig_agent_part ig_part_maps = {
	.name = "maps", .start = maps_start, .reload = maps_reload, .stop = maps_stop,
};
