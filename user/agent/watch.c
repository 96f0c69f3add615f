// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The breakers the agent drives: each one's state machine fed with the
 * passive counters of the data path every tick and with the results of its
 * active probes, and the decided changes written to the map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agent/parts.h"
#include "lib/breakers.h"
#include "lib/log.h"
#include "lib/policy.h"
#include "lib/timing.h"

/* Write a decided change into the map and say why. */
static int apply_change(struct ig_agent *a, struct ig_watched *w, const struct ig_fsm_change *ch)
{
	__s32 probes = ch->to == IG_BRK_HALF_OPEN ? (__s32)w->cfg->fsm.half_open_probes : 0;

	ig_metrics_transition(a->metrics, w->cfg->port, ch->cause);
	ig_info("breaker %u/tcp: %s -> %s: %s", w->cfg->port, ig_brk_state_name(ch->from),
		ig_brk_state_name(ch->to), ch->reason);
	return ig_breaker_set_state(&a->in, w->cfg->port, ch->to, probes);
}

/*
 * The calls the kernel timed on a breaker's port, and the slow ones (issue
 * 15): its slot's `timing`, whose slow count the data path keeps against
 * timing_cfg, written here each tick (a re-limit may have moved the port to
 * another slot; the write is one word).
 */
static void calls_read(struct ig_agent *a, struct ig_watched *w, __u64 *timed, __u64 *slow)
{
	struct ig_policy pol;
	struct ig_timing t;

	if (ig_policy_get(&a->in, IG_PROTO_TCP, w->cfg->port, &pol) || !pol.slot ||
	    pol.slot >= IG_MAX_SLOTS)
		return;
	if (pol.slot != w->slow_slot) {
		if (ig_timing_set_slow(&a->in, pol.slot, w->cfg->fsm.slow_call_ms * 1000000ULL))
			return;
		w->slow_slot = pol.slot;
	}
	if (ig_timing_read(&a->in, pol.slot, &t))
		return;
	*timed = ig_timing_count(t.dur);
	*slow = t.slow;
}

/* One tick of one breaker: the operator's force, then the passive counters,
 * then time. */
static void tick_one(struct ig_agent *a, struct ig_watched *w, __u64 now)
{
	struct ig_fsm_change ch;
	struct ig_health h;
	struct ig_breaker b;
	__u64 ok, failed, timed = 0, slow = 0;

	if (ig_breaker_get(&a->in, w->cfg->port, &b) || ig_health_read(&a->in, w->cfg->port, &h))
		return;
	ok = ig_health_ok(&h);
	failed = ig_health_failed(&h);
	if (w->cfg->fsm.slow_call_ms)
		calls_read(a, w, &timed, &slow);
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
	if (timed < w->seen_timed || slow < w->seen_slow)
		w->seen_timed = w->seen_slow = 0;
	if (b.force == IG_FORCE_AUTO) {
		if (ig_fsm_observe_calls(&w->fsm, now, ok - w->seen_ok, failed - w->seen_failed,
					 timed - w->seen_timed, slow - w->seen_slow, &ch))
			apply_change(a, w, &ch);
		if (ig_fsm_tick(&w->fsm, now, &ch))
			apply_change(a, w, &ch);
	}
	w->seen_ok = ok;
	w->seen_failed = failed;
	w->seen_timed = timed;
	w->seen_slow = slow;
}

/* Room for cfg's breakers: a watched breaker carries its window (~100 KB), so
 * not one per possible port. */
static struct ig_watched *watch_alloc(const struct ig_cfg_file *cfg)
{
	int n = 0;

	for (int i = 0; i < cfg->nports; i++)
		n += cfg->ports[i].has_breaker;
	return calloc((size_t)(n ? n : 1), sizeof(struct ig_watched));
}

/* Start watching cfg's breakers into w; those that were watched before (in
 * old[]) keep their state machine, counters baselines and force. */
static int watch_breakers(struct ig_agent *a, const struct ig_cfg_file *cfg, struct ig_watched *w,
			  const struct ig_watched *old, int nold)
{
	int nw = 0;

	for (int i = 0; i < cfg->nports; i++) {
		const struct ig_cfg_port *p = &cfg->ports[i];
		const struct ig_watched *prev = NULL;
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
			w[nw].seen_timed = prev->seen_timed;
			w[nw].seen_slow = prev->seen_slow;
			w[nw].slow_slot = 0; /* the slow time may have changed: written again */
			w[nw].force = prev->force;
			nw++;
			continue;
		}
		if (ig_breaker_get(&a->in, p->port, &b) || ig_health_read(&a->in, p->port, &h))
			return -EIO;
		/* adopt: the state the data path is steering by, not a fresh one */
		ig_fsm_init(&w[nw].fsm, &p->fsm, b.state, a->now);
		w[nw].force = b.force;
		w[nw].seen_ok = ig_health_ok(&h);
		w[nw].seen_failed = ig_health_failed(&h);
		if (p->fsm.slow_call_ms) /* calls timed before the agent came count not */
			calls_read(a, &w[nw], &w[nw].seen_timed, &w[nw].seen_slow);
		ig_info("breaker %u/tcp: %s%s%s, fallback %s%u, probe %s", p->port,
			ig_brk_state_name(b.state), b.force != IG_FORCE_AUTO ? ", forced " : "",
			b.force != IG_FORCE_AUTO ? ig_brk_force_name(b.force) : "",
			p->fallback ? "" : "none (refuse) ", p->fallback,
			p->probe == IG_PROBE_NONE ? "none" : p->probe_target);
		ig_metrics_watch(a->metrics, p->port);
		nw++;
	}
	return nw;
}

static int breakers_start(struct ig_agent *a)
{
	int n;

	a->w = watch_alloc(a->cfg);
	if (!a->w)
		return -ENOMEM;
	n = watch_breakers(a, a->cfg, a->w, NULL, 0);
	if (n < 0)
		return n;
	a->nw = n;
	return 0;
}

/* What the probes that ended since the last step say. */
static void probes_done(struct ig_agent *a, __u64 now)
{
	struct ig_probe *done;
	char detail[300];
	int success;

	while ((done = ig_prober_done(&a->prober, &success, detail, sizeof(detail)))) {
		struct ig_watched *x = NULL;
		struct ig_fsm_change ch;

		for (int i = 0; i < a->nw; i++)
			if (&a->w[i].probe == done)
				x = &a->w[i];
		if (!x)
			continue;
		ig_dbg("probe of %u/tcp: %s (%s)", x->cfg->port, success ? "ok" : "failed", detail);
		ig_metrics_probe(a->metrics, x->cfg->port, success);
		if (x->force == IG_FORCE_AUTO && ig_fsm_probe(&x->fsm, now, success, detail, &ch))
			apply_change(a, x, &ch);
	}
}

static void breakers_step(struct ig_agent *a, __u64 now, int tick)
{
	probes_done(a, now);
	for (int i = 0; tick && i < a->nw; i++)
		tick_one(a, &a->w[i], now);
	for (int i = 0; i < a->nw; i++) {
		struct ig_watched *w = &a->w[i];
		const struct ig_cfg_port *p = w->cfg;

		if (p->probe == IG_PROBE_NONE || ig_probe_busy(&w->probe) || now < w->next_probe_ms)
			continue;
		/* a probe that cannot start is tried again at the next interval */
		ig_probe_start(&a->prober, &w->probe, p->probe, p->probe_target, p->probe_timeout_ms);
		w->next_probe_ms = now + p->probe_interval_ms;
	}
}

static void cancel_probes(struct ig_agent *a)
{
	for (int i = 0; i < a->nw; i++)
		ig_probe_cancel(&a->prober, &a->w[i].probe);
}

static void breakers_reload(struct ig_agent *a, const struct ig_cfg_file *nc)
{
	struct ig_watched *w = watch_alloc(nc);
	int n;

	/* probes in flight belong to the old list */
	cancel_probes(a);
	n = w ? watch_breakers(a, nc, w, a->w, a->nw) : -ENOMEM;
	if (n < 0) {
		ig_err("reload: cannot read the breakers; breakers are not watched until the next "
		       "reload");
		n = 0;
	}
	free(a->w);
	a->w = w;
	a->nw = n;
}

static void breakers_stop(struct ig_agent *a)
{
	if (a->prober_ready)
		cancel_probes(a);
	free(a->w);
	a->w = NULL;
	a->nw = 0;
}

const struct ig_agent_part ig_part_breakers = {
	.name = "breakers", .start = breakers_start, .step = breakers_step,
	.reload = breakers_reload, .stop = breakers_stop,
};
