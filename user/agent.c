// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "args.h"
#include "attach.h"
#include "breaker.h"
#include "config.h"
#include "fsm.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "probe.h"

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

static const char *state_name(enum ig_brk_state s)
{
	return ig_brk_state_name(s);
}

static struct ig_metrics *metrics;

/* Write a decided change into the map and say why. */
static int apply_change(const struct ig_instance *in, struct watched *w,
			const struct ig_fsm_change *ch)
{
	ig_metrics_transition(metrics, w->cfg->port, ch->cause);
	__s32 probes = ch->to == IG_BRK_HALF_OPEN ? (__s32)w->cfg->fsm.half_open_probes : 0;

	ig_info("breaker %u/tcp: %s -> %s: %s", w->cfg->port, state_name(ch->from),
		state_name(ch->to), ch->reason);
	return ig_breaker_set_state(in, w->cfg->port, ch->to, probes);
}

/* Limits, the reject budget and the breakers' settings; a breaker's state,
 * force and probe budget, like every bucket, are left as they are. */
static int apply_config(const struct ig_instance *in, const struct ig_cfg_file *cfg)
{
	int err;

	if (cfg->has_reject_budget) {
		struct ig_globals g = cfg->reject_budget;

		if (!g.reject_burst)
			g.reject_burst = g.reject_rate ? g.reject_rate : 1;
		err = ig_globals_set(in, &g);
		if (err)
			return err;
	}
	for (int i = 0; i < cfg->nports; i++) {
		const struct ig_cfg_port *p = &cfg->ports[i];

		if (p->has_limit) {
			err = ig_policy_set(in, p->proto, p->port, &p->limit);
			if (err)
				return err;
		}
		if (p->has_breaker) {
			struct ig_breaker b;

			err = ig_breaker_get(in, p->port, &b);
			if (err)
				return err;
			if (!(b.flags & IG_BRK_F_ON)) { /* new: closed, nothing forced */
				memset(&b, 0, sizeof(b));
				b.flags = IG_BRK_F_ON;
			}
			b.fallback = p->fallback;
			err = ig_breaker_put(in, p->port, &b);
			if (err)
				return err;
		}
	}
	return 0;
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

int ig_agent_run(const char *pin_dir, const char *config_path)
{
	struct ig_prober prober = {};
	struct ig_instance in;
	struct ig_cfg_file *cfg;
	struct watched *w = NULL;
	struct sigaction sa;
	char err_msg[600];
	int nw = 0, err, opened = 0;
	__u64 next_tick;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	err = ig_config_load(config_path, cfg, err_msg, sizeof(err_msg));
	if (err) {
		ig_err("%s; nothing applied", err_msg);
		goto out;
	}
	err = ig_attach(pin_dir, &cfg->attach);
	if (err)
		goto out;
	err = ig_instance_open(&in, pin_dir);
	if (err)
		goto out;
	opened = 1;
	err = apply_config(&in, cfg);
	if (err)
		goto out;

	w = calloc(IG_CFG_MAX_PORTS, sizeof(*w));
	if (!w) {
		err = -ENOMEM;
		goto out;
	}
	err = ig_prober_init(&prober);
	if (err)
		goto out;
	for (int i = 0; i < cfg->nports; i++) {
		struct ig_breaker b;
		struct ig_health h;

		if (!cfg->ports[i].has_breaker)
			continue;
		err = ig_breaker_get(&in, cfg->ports[i].port, &b);
		if (!err)
			err = ig_health_read(&in, cfg->ports[i].port, &h);
		if (err)
			goto out;
		w[nw].cfg = &cfg->ports[i];
		/* adopt: the state the data path is steering by, not a fresh one */
		ig_fsm_init(&w[nw].fsm, &w[nw].cfg->fsm, b.state, now_ms());
		w[nw].force = b.force;
		w[nw].seen_ok = ig_health_ok(&h);
		w[nw].seen_failed = ig_health_failed(&h);
		ig_info("breaker %u/tcp: %s%s%s, fallback %s%u, probe %s", cfg->ports[i].port,
			state_name(b.state), b.force != IG_FORCE_AUTO ? ", forced " : "",
			b.force != IG_FORCE_AUTO ? ig_brk_force_name(b.force) : "",
			cfg->ports[i].fallback ? "" : "none (refuse) ", cfg->ports[i].fallback,
			cfg->ports[i].probe == IG_PROBE_NONE ? "none" : cfg->ports[i].probe_target);
		nw++;
	}

	if (cfg->metrics_addr[0]) {
		err = ig_metrics_start(&metrics, cfg->metrics_addr, &in);
		if (err)
			goto out;
		for (int i = 0; i < nw; i++)
			ig_metrics_watch(metrics, w[i].cfg->port);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ig_info("running on %s: %d port(s), %d breaker(s), tick %llu ms", cfg->ifname, cfg->nports,
		nw, (unsigned long long)cfg->tick_ms);

	next_tick = now_ms();
	while (!stop_signal) {
		__u64 now = now_ms();
		struct ig_probe *done;
		char detail[300];
		int success;

		if (now >= next_tick) {
			for (int i = 0; i < nw; i++)
				tick_one(&in, &w[i], now);
			next_tick += cfg->tick_ms;
			if (next_tick <= now) /* we fell behind: no burst of catch-up ticks */
				next_tick = now + cfg->tick_ms;
		}
		for (int i = 0; i < nw; i++) {
			const struct ig_cfg_port *p = w[i].cfg;

			if (p->probe == IG_PROBE_NONE || ig_probe_busy(&w[i].probe) ||
			    now < w[i].next_probe_ms)
				continue;
			if (!ig_probe_start(&prober, &w[i].probe, p->probe, p->probe_target,
					    p->probe_timeout_ms))
				w[i].probe.started_ms = now;
			w[i].next_probe_ms = now + p->probe_interval_ms;
		}
		if (ig_prober_wait(&prober, (int)(next_tick - now)))
			ig_warn("libcurl failed to run the health probes");
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
	ig_info("stopping on signal %d; the data path keeps running with the pinned state in %s",
		(int)stop_signal, pin_dir);
	err = 0;
out:
	ig_metrics_stop(metrics);
	metrics = NULL;
	for (int i = 0; i < nw; i++)
		ig_probe_cancel(&prober, &w[i].probe);
	ig_prober_free(&prober);
	if (opened)
		ig_instance_close(&in);
	free(w);
	free(cfg);
	return err;
}
