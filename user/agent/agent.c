// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "agent/agent.h"
#include "lib/util.h"
#include "lib/args.h"
#include "lib/loader.h"
#include "lib/breakers.h"
#include "lib/config.h"
#include "agent/fsm.h"
#include "lib/instance.h"
#include "lib/log.h"
#include "agent/metrics.h"
#include "agent/top.h"
#include "lib/policy.h"
#include "agent/probe.h"
#include "agent/fleet.h"
#include "lib/levels.h"
#include "agent/ctl.h"

/* One breaker the agent drives. */
struct watched {
	const struct ig_cfg_port *cfg;
	struct ig_fsm fsm;
	__u64 seen_ok, seen_failed; /* counters at the last tick */
	enum ig_brk_force force;    /* as last read from the map */
	struct ig_probe probe;
	__u64 next_probe_ms;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static struct ig_metrics *metrics;
static struct ig_fleet *fleet;

/* The config's fleet ports, for the sync. */
static int fleet_ports(const struct ig_cfg_file *cfg)
{
	struct ig_fleet_port ports[IG_FLEET_MAX_PORTS];
	int n = 0;

	for (int i = 0; i < cfg->nports; i++) {
		const struct ig_cfg_port *p = &cfg->ports[i];

		if (!p->has_limit || !p->fleet_rate)
			continue;
		if (n == IG_FLEET_MAX_PORTS) {
			ig_err("at most %d ports with a fleet_rate", IG_FLEET_MAX_PORTS);
			return -E2BIG;
		}
		ports[n++] = (struct ig_fleet_port){ .port = p->port, .proto = p->proto,
						     .rate = p->fleet_rate, .burst = p->fleet_burst };
	}
	return ig_fleet_set_ports(fleet, ports, n);
}

/* What this node publishes for `status --fleet`: its breakers and the sync. */
static void node_json(char *buf, size_t len, const struct ig_cfg_file *cfg,
		      const struct ig_instance *in)
{
	static const char *const states[] = { "closed", "open", "half_open" };
	struct ig_fleet_stats st;
	size_t off;
	int first = 1;

	ig_fleet_stats(fleet, &st);
	off = (size_t)snprintf(buf, len, "{\"node\":\"%s\",\"interface\":\"%s\",\"breakers\":[",
			       cfg->cluster.node, cfg->ifname);
	for (int i = 0; i < cfg->nports && off < len; i++) {
		const struct ig_cfg_port *p = &cfg->ports[i];
		struct ig_health h;
		struct ig_breaker b;

		if (!p->has_breaker || ig_breaker_get(in, p->port, &b) || ig_health_read(in, p->port, &h))
			continue;
		off += (size_t)snprintf(buf + off, len - off,
					"%s{\"port\":%u,\"state\":\"%s\",\"forced\":%s,\"http_5xx\":%llu,"
					"\"http_2xx\":%llu,\"rst\":%llu}", first ? "" : ",", p->port,
					b.state < 3 ? states[b.state] : "?",
					b.force ? "true" : "false",
					(unsigned long long)h.http[IG_HTTP_5XX],
					(unsigned long long)h.http[IG_HTTP_2XX], (unsigned long long)h.rst);
		first = 0;
	}
	if (off < len)
		snprintf(buf + off, len - off,
			 "],\"fleet\":{\"up\":%s,\"syncs\":%llu,\"blocks\":%llu,\"sent_bytes\":%llu}}",
			 st.up ? "true" : "false", (unsigned long long)st.syncs,
			 (unsigned long long)st.blocks, (unsigned long long)st.bytes_sent);
}

/* Write a decided change into the map and say why. */
static int apply_change(const struct ig_instance *in, struct watched *w,
			const struct ig_fsm_change *ch)
{
	__s32 probes = ch->to == IG_BRK_HALF_OPEN ? (__s32)w->cfg->fsm.half_open_probes : 0;

	ig_metrics_transition(metrics, w->cfg->port, ch->cause);
	ig_info("breaker %u/tcp: %s -> %s: %s", w->cfg->port, ig_brk_state_name(ch->from),
		ig_brk_state_name(ch->to), ch->reason);
	return ig_breaker_set_state(in, w->cfg->port, ch->to, probes);
}

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
static int apply_config(const struct ig_instance *in, const struct ig_cfg_file *old,
			const struct ig_cfg_file *cfg)
{
	int err, n;

	if (cfg->has_reject_budget &&
	    (!old || !old->has_reject_budget ||
	     memcmp(&old->reject_budget, &cfg->reject_budget, sizeof(cfg->reject_budget)))) {
		struct ig_globals g = cfg->reject_budget;

		if (!g.reject_burst)
			g.reject_burst = g.reject_rate ? g.reject_rate : 1;
		err = ig_globals_set(in, &g);
		if (err)
			return err;
		if (old)
			ig_info("reload: replies at most %llu/s, burst %llu",
				(unsigned long long)g.reject_rate, (unsigned long long)g.reject_burst);
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

		int limit_changed = p->has_limit && !(o && o->has_limit && same_limit(&o->limit, &p->limit));
		int levels_changed = p->has_limit && !(o && o->has_limit &&
				      !memcmp(&o->levels, &p->levels, sizeof(p->levels)));

		if (limit_changed || levels_changed) {
			struct ig_port_limit l = { .policy = p->limit, .levels = p->levels, .rescale = 1 };

			n = ig_port_apply(in, p->proto, p->port, &l);
			if (n < 0)
				return n;
		}
		if (limit_changed && old)
			ig_info("reload: %u/%s %llu/s burst %llu per %s, %s%s (%d source(s) rescaled)",
				p->port, ig_proto_name(p->proto), (unsigned long long)p->limit.rate,
				(unsigned long long)p->limit.burst, ig_unit_name(p->limit.unit),
				ig_action_name(p->limit.action),
				p->limit.flags & IG_POL_F_DRY_RUN ? " (dry run)" : "", n);
		/* levels change in place: their buckets (port_state) are kept */
		if (levels_changed && old)
			ig_info("reload: %u/%s fair-share levels changed", p->port,
				ig_proto_name(p->proto));
		if (p->has_breaker) {
			struct ig_breaker b;

			err = ig_breaker_get(in, p->port, &b);
			if (err)
				return err;
			if (!(b.flags & IG_BRK_F_ON)) { /* new: closed, nothing forced */
				memset(&b, 0, sizeof(b));
				b.flags = IG_BRK_F_ON;
			}
			if (b.fallback != p->fallback || old) {
				b.fallback = p->fallback;
				err = ig_breaker_put(in, p->port, &b);
				if (err)
					return err;
			}
		}
	}
	return ig_flags_refresh(in);
}

/* One tick of one breaker: the operator's force, then the passive counters,
 * then time. */
static void tick_one(const struct ig_instance *in, struct watched *w, __u64 now)
{
	struct ig_fsm_change ch;
	struct ig_health h;
	struct ig_breaker b;
	__u64 ok, failed;

	if (ig_breaker_get(in, w->cfg->port, &b) || ig_health_read(in, w->cfg->port, &h))
		return;
	ok = ig_health_ok(&h);
	failed = ig_health_failed(&h);
	if (b.force != w->force) {
		ig_info("breaker %u/tcp: forced %s by an operator%s", w->cfg->port,
			ig_brk_force_name(b.force),
			b.force == IG_FORCE_AUTO ? "; the agent decides again" : "");
		w->force = b.force;
		if (b.force == IG_FORCE_AUTO) /* start afresh from what the map says */
			ig_fsm_init(&w->fsm, &w->cfg->fsm, b.state, now);
	}
	/* counters can only grow; a smaller value means the map was recreated */
	if (ok < w->seen_ok || failed < w->seen_failed)
		w->seen_ok = w->seen_failed = 0;
	if (b.force == IG_FORCE_AUTO) {
		if (ig_fsm_observe(&w->fsm, now, ok - w->seen_ok, failed - w->seen_failed, &ch))
			apply_change(in, w, &ch);
		if (ig_fsm_tick(&w->fsm, now, &ch))
			apply_change(in, w, &ch);
	}
	w->seen_ok = ok;
	w->seen_failed = failed;
}

/* Room for cfg's breakers: a watched breaker carries its window (~100 KB), so
 * not one per possible port. */
static struct watched *watch_alloc(const struct ig_cfg_file *cfg)
{
	int n = 0;

	for (int i = 0; i < cfg->nports; i++)
		n += cfg->ports[i].has_breaker;
	return calloc((size_t)(n ? n : 1), sizeof(struct watched));
}

/* Start watching cfg's breakers; those that were watched before (in old[])
 * keep their state machine, counters baselines and force. */
static int watch_breakers(const struct ig_instance *in, const struct ig_cfg_file *cfg,
			  struct watched *w, const struct watched *old, int nold)
{
	int nw = 0;

	for (int i = 0; i < cfg->nports; i++) {
		const struct ig_cfg_port *p = &cfg->ports[i];
		const struct watched *prev = NULL;
		struct ig_breaker b;
		struct ig_health h;

		if (!p->has_breaker)
			continue;
		for (int k = 0; k < nold; k++)
			if (old[k].cfg->port == p->port)
				prev = &old[k];
		memset(&w[nw], 0, sizeof(w[nw]));
		w[nw].cfg = p;
		if (prev) {
			w[nw].fsm = prev->fsm;
			w[nw].fsm.cfg = p->fsm; /* new thresholds, same state */
			w[nw].seen_ok = prev->seen_ok;
			w[nw].seen_failed = prev->seen_failed;
			w[nw].force = prev->force;
			nw++;
			continue;
		}
		if (ig_breaker_get(in, p->port, &b) || ig_health_read(in, p->port, &h))
			return -EIO;
		/* adopt: the state the data path is steering by, not a fresh one */
		ig_fsm_init(&w[nw].fsm, &p->fsm, b.state, now_ms());
		w[nw].force = b.force;
		w[nw].seen_ok = ig_health_ok(&h);
		w[nw].seen_failed = ig_health_failed(&h);
		ig_info("breaker %u/tcp: %s%s%s, fallback %s%u, probe %s", p->port,
			ig_brk_state_name(b.state), b.force != IG_FORCE_AUTO ? ", forced " : "",
			b.force != IG_FORCE_AUTO ? ig_brk_force_name(b.force) : "",
			p->fallback ? "" : "none (refuse) ", p->fallback,
			p->probe == IG_PROBE_NONE ? "none" : p->probe_target);
		ig_metrics_watch(metrics, p->port);
		nw++;
	}
	return nw;
}

/* Re-read the config on SIGHUP. Refused whole when invalid or when it would
 * move the agent (interface, hook, table size, metrics address). */
static void reload(const struct ig_instance *in, const char *path, struct ig_cfg_file **cfg,
		   struct watched **w, int *nw, struct ig_prober *prober)
{
	struct ig_cfg_file *nc = calloc(1, sizeof(*nc));
	struct watched *nw_list = NULL;
	const struct ig_cfg_file *oc = *cfg;
	char msg[600];
	int n;

	if (!nc) {
		ig_err("reload refused: out of memory; nothing changed");
		goto out;
	}
	if (ig_config_load(path, nc, msg, sizeof(msg))) {
		ig_err("reload refused: %s; nothing changed", msg);
		goto out;
	}
	nw_list = watch_alloc(nc);
	if (!nw_list) {
		ig_err("reload refused: out of memory; nothing changed");
		goto out;
	}
	if (strcmp(nc->ifname, oc->ifname) || nc->attach.hook != oc->attach.hook ||
	    nc->attach.xdp_generic != oc->attach.xdp_generic ||
	    nc->attach.max_sources != oc->attach.max_sources ||
	    nc->attach.max_flows != oc->attach.max_flows ||
	    strcmp(nc->metrics_addr, oc->metrics_addr) || nc->has_cluster != oc->has_cluster ||
	    memcmp(&nc->cluster, &oc->cluster, sizeof(nc->cluster))) {
		ig_err("reload refused: interface, hook, xdp_mode, max_sources, max_flows, metrics and "
		       "[cluster] take a restart of the agent; nothing changed");
		goto out;
	}
	nc->attach.ifname = nc->ifname;
	/* probes in flight belong to the old list */
	for (int i = 0; i < *nw; i++)
		ig_probe_cancel(prober, &(*w)[i].probe);
	if (apply_config(in, oc, nc)) {
		ig_err("reload: applying %s failed part way (see above); the agent keeps the new "
		       "config", path);
	}
	n = watch_breakers(in, nc, nw_list, *w, *nw);
	if (n < 0) {
		ig_err("reload: cannot read the breakers; breakers are not watched until the next "
		       "reload");
		n = 0;
	}
	if (fleet && fleet_ports(nc))
		ig_err("reload: fleet limits keep the old ports");
	ig_info("reload: applied %s (%d port(s), %d breaker(s))", path, nc->nports, n);
	free(*w);
	free(*cfg);
	*w = nw_list;
	*cfg = nc;
	*nw = n;
	return;
out:
	free(nw_list);
	free(nc);
}

void ig_agent_pid_file(const char *pin_dir, char *buf, size_t len)
{
	if (ig_run_path(pin_dir, ".pid", buf, len))
		buf[0] = '\0';
}

static int write_pid_file(const char *path)
{
	char dir[300], *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	f = fopen(path, "w");
	if (!f) {
		int err = -errno;

		ig_err("cannot write pid file %s: %s", path, strerror(-err));
		return err;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	return 0;
}

static volatile sig_atomic_t reload_signal;

static void on_reload(int sig)
{
	(void)sig;
	reload_signal = 1;
}

int ig_agent_run(const char *pin_dir, const char *config_path, const char *pid_file)
{
	struct ig_prober prober = {};
	struct ig_top *top = NULL;
	struct ig_instance in;
	struct ig_cfg_file *cfg;
	struct watched *w = NULL;
	struct sigaction sa;
	char err_msg[600], pid_path[300];
	int nw = 0, err, opened = 0, pid_written = 0, nfds;
	int fds[IG_PROBER_EXTRA_FDS];
	struct ig_ctl *ctl = NULL;
	char ctl_path[sizeof(cfg->control) + 200];
	__u64 next_tick;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	err = ig_config_load(config_path, cfg, err_msg, sizeof(err_msg));
	if (err) {
		ig_err("%s; nothing applied", err_msg);
		goto out;
	}
	if (pid_file)
		snprintf(pid_path, sizeof(pid_path), "%s", pid_file);
	else
		ig_agent_pid_file(pin_dir, pid_path, sizeof(pid_path));
	err = ig_attach(pin_dir, &cfg->attach);
	if (err)
		goto out;
	err = ig_instance_open(&in, pin_dir);
	if (err)
		goto out;
	opened = 1;
	err = apply_config(&in, NULL, cfg);
	if (err)
		goto out;
	w = watch_alloc(cfg);
	if (!w) {
		err = -ENOMEM;
		goto out;
	}
	err = ig_prober_init(&prober);
	if (err)
		goto out;
	err = ig_top_open(&top, &in);
	if (err)
		goto out;
	if (cfg->metrics_addr[0]) {
		err = ig_metrics_start(&metrics, cfg->metrics_addr, &in);
		if (err)
			goto out;
		ig_metrics_set_top(metrics, top);
	}
	if (cfg->has_cluster) {
		err = ig_fleet_new(&fleet, &cfg->cluster);
		if (!err)
			err = fleet_ports(cfg);
		if (err)
			goto out;
	}
	nw = watch_breakers(&in, cfg, w, NULL, 0);
	if (nw < 0) {
		err = nw;
		nw = 0;
		goto out;
	}
	if (strcmp(cfg->control, "off")) {
		if (cfg->control[0])
			snprintf(ctl_path, sizeof(ctl_path), "%s", cfg->control);
		else
			ig_ctl_default_path(pin_dir, ctl_path, sizeof(ctl_path));
		err = ig_ctl_open(&ctl, ctl_path);
		if (err)
			goto out;
	}
	err = write_pid_file(pid_path);
	if (err)
		goto out;
	pid_written = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, NULL);
	/* a peer gone mid-write (Redis, a metrics scraper) is an error return,
	 * not the end of the agent */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	ig_info("running on %s: %d port(s), %d breaker(s), tick %llu ms; pid %d in %s", cfg->ifname,
		cfg->nports, nw, (unsigned long long)cfg->tick_ms, (int)getpid(), pid_path);
	ig_notify_ready();

	next_tick = now_ms();
	while (!stop_signal) {
		__u64 now = now_ms();
		struct ig_probe *done;
		char detail[300];
		int success;

		if (reload_signal) {
			reload_signal = 0;
			ig_notify("RELOADING=1");
			reload(&in, config_path, &cfg, &w, &nw, &prober);
			ig_notify("READY=1");
		}
		if (now >= next_tick) {
			if (ig_top_poll(top) < 0)
				ig_warn("cannot read the drop events");
			ig_top_log(top, now);
			for (int i = 0; i < nw; i++)
				tick_one(&in, &w[i], now);
			if (fleet) {
				char node[4096];
				struct ig_fleet_stats st;

				node_json(node, sizeof(node), cfg, &in);
				ig_fleet_tick(fleet, &in, now, node);
				ig_fleet_stats(fleet, &st);
				ig_metrics_fleet(metrics, &st);
			}
			next_tick += cfg->tick_ms;
			if (next_tick <= now) /* we fell behind: no burst of catch-up ticks */
				next_tick = now + cfg->tick_ms;
		}
		for (int i = 0; i < nw; i++) {
			const struct ig_cfg_port *p = w[i].cfg;

			if (p->probe == IG_PROBE_NONE || ig_probe_busy(&w[i].probe) ||
			    now < w[i].next_probe_ms)
				continue;
			/* a probe that cannot start is tried again at the next interval */
			ig_probe_start(&prober, &w[i].probe, p->probe, p->probe_target,
				       p->probe_timeout_ms);
			w[i].next_probe_ms = now + p->probe_interval_ms;
		}
		nfds = ctl ? ig_ctl_fds(ctl, fds, IG_PROBER_EXTRA_FDS) : 0;
		if (ig_prober_wait(&prober, (int)(next_tick > now ? next_tick - now : 0), fds, nfds))
			ig_warn("libcurl failed to run the health probes");
		if (ctl)
			ig_ctl_serve(ctl, &in);
		while ((done = ig_prober_done(&prober, &success, detail, sizeof(detail)))) {
			struct watched *x = NULL;
			struct ig_fsm_change ch;

			for (int i = 0; i < nw; i++)
				if (&w[i].probe == done)
					x = &w[i];
			if (!x)
				continue;
			ig_dbg("probe of %u/tcp: %s (%s)", x->cfg->port, success ? "ok" : "failed",
			       detail);
			ig_metrics_probe(metrics, x->cfg->port, success);
			if (x->force == IG_FORCE_AUTO &&
			    ig_fsm_probe(&x->fsm, now_ms(), success, detail, &ch))
				apply_change(&in, x, &ch);
		}
	}
	ig_notify("STOPPING=1");
	ig_info("stopping on signal %d; the data path keeps running with the pinned state in %s",
		(int)stop_signal, pin_dir);
	err = 0;
out:
	if (pid_written)
		unlink(pid_path);
	ig_ctl_close(ctl);
	ig_metrics_stop(metrics); /* first: it reads the top table */
	metrics = NULL;
	ig_top_close(top);
	ig_fleet_free(fleet);
	fleet = NULL;
	for (int i = 0; i < nw; i++)
		ig_probe_cancel(&prober, &w[i].probe);
	ig_prober_free(&prober);
	if (opened)
		ig_instance_close(&in);
	free(w);
	free(cfg);
	return err;
}
