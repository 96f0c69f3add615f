// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Adaptive admission (issue 15): for each `[port N] adaptive = engine|latency`
 * the agent reads, every adaptive_interval, the engine's /metrics (a libcurl
 * transfer on the prober's multi handle: the loop never waits for it) or the
 * kernel's TTFT histogram, hands them with the port's admitted and refused
 * counts to the controller (adapt_ctl.c), and writes what it decides into
 * port_limits[slot].port_rate (read-modify-write: the other levels stay) and
 * the decision into map `adaptive`. At stop, and when a reload turns it off,
 * the static port rate goes back.
 *
 * Per-source fairness inside the adaptive rate: the port level alone is first
 * come, first served, so a greedy source would take what a polite one leaves.
 * Each second the agent counts the port's active sources (ways of the source
 * table charged within the last second) and sets the per-source rate to
 * adaptive rate / active sources, never above the configured per-source rate
 * and never below 1/s. A source that wants less than its share leaves the
 * rest unused at first; the refusals of the others then press on the
 * controller, which raises the port rate until the shares of those who want
 * more fill what the engine can take: max-min fairness reached through the
 * loop rather than computed from per-source demands the kernel does not keep.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent/parts.h"
#include "agent/promtext.h"
#include "lib/levels.h"
#include "lib/inflight.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/policy.h"
#include "lib/timing.h"
#include "pure/timing.h"

#define SCRAPE_MAX_BODY (1u << 20) /* vLLM's /metrics is ~100 KB with its histograms */
#define LOG_MOVE 0.2                /* a log line when the rate moves by more */
#define ACTIVE_NS IG_NSEC_PER_SEC   /* a source charged within this is active */

static const char *proto_of(const struct ig_adapted *x)
{
	return ig_proto_name(x->cfg->proto);
}

static void actl_cfg(const struct ig_cfg_port *p, struct ig_actl_cfg *c)
{
	*c = (struct ig_actl_cfg){
		.mode = p->adaptive.mode,
		.queue_target = p->adaptive.queue_target_milli / 1000.0,
		.kv_ceiling = p->adaptive.kv_ceiling_milli / 1000.0,
		.headroom = p->adaptive.headroom_milli / 1000.0,
		.min_rate = (double)p->adaptive.min_rate,
		.max_rate = (double)p->adaptive.max_rate,
		.static_rate = (double)p->levels.port_rate,
	};
}

static __u64 real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static __u64 scaled(__u64 burst, __u64 rate, __u64 static_rate)
{
	double b = static_rate ? (double)burst * (double)rate / (double)static_rate : 1;

	return b < 1 ? 1 : b > IG_MAX_BURST ? IG_MAX_BURST : (__u64)(b + 0.5);
}

/* The port's rate and a burst in the same proportion to it as the static
 * ones, into port_limits[slot]; the other levels as they are. */
static int write_port_rate(struct ig_agent *a, __u32 slot, const struct ig_cfg_port *p, __u64 rate)
{
	struct ig_limits lim;
	int err = ig_levels_get(&a->in, slot, &lim);

	if (err)
		return err;
	lim.port_rate = rate;
	lim.port_burst = scaled(p->levels.port_burst, rate, p->levels.port_rate);
	return ig_levels_put(&a->in, slot, &lim);
}

/* The per-source rate (the policy's), its burst in proportion. */
static int write_source_rate(struct ig_agent *a, const struct ig_cfg_port *p, __u64 rate)
{
	struct ig_policy pol;
	int err = ig_policy_get(&a->in, p->proto, p->port, &pol);

	if (err || !pol.slot)
		return err ? err : -ENOENT;
	pol.rate = rate;
	pol.burst = scaled(p->limit.burst, rate, p->limit.rate);
	return ig_policy_put(&a->in, p->proto, p->port, &pol);
}

/* The operator's rates back, and no decision left in the map. */
static void restore_static(struct ig_agent *a, const struct ig_cfg_port *p)
{
	struct ig_adaptive none = { 0 };
	struct ig_policy pol;

	if (ig_policy_get(&a->in, p->proto, p->port, &pol) || !pol.slot || pol.slot >= IG_MAX_SLOTS)
		return;
	if (!write_port_rate(a, pol.slot, p, p->levels.port_rate) &&
	    !write_source_rate(a, p, p->limit.rate))
		ig_info("adaptive %u/%s: off; static port rate %llu/s, %llu/s per source", p->port,
			ig_proto_name(p->proto), (unsigned long long)p->levels.port_rate,
			(unsigned long long)p->limit.rate);
	ig_adaptive_put(&a->in, pol.slot, &none);
}

/* The port's counters since the last decision; a new slot (a re-limit)
 * restarts the baselines. 0, or -errno. */
static int read_port(struct ig_agent *a, struct ig_adapted *x, __u32 *slot, __u64 *admitted,
		     __u64 *refused, __u64 *ttft)
{
	struct ig_level_stats ls;
	struct ig_stats st;
	struct ig_timing tm = { 0 };
	struct ig_policy pol;
	__u64 adm, ref;
	int err;

	err = ig_policy_get(&a->in, x->cfg->proto, x->cfg->port, &pol);
	if (!err && (!pol.slot || pol.slot >= IG_MAX_SLOTS))
		err = -ENOENT;
	if (!err)
		err = ig_stats_read(&a->in, pol.slot, &st);
	if (!err)
		err = ig_level_stats_read(&a->in, pol.slot, &ls);
	if (!err && (pol.flags & IG_POL_F_TIMED))
		err = ig_timing_read(&a->in, pol.slot, &tm);
	if (err)
		return err;
	adm = st.packets[IG_R_PASS_ADMITTED];
	ref = ls.refused[IG_L_PORT] + ls.refused[IG_L_SOURCE];
	if (pol.slot != x->slot || adm < x->seen_admitted || ref < x->seen_refused) {
		x->slot = pol.slot; /* a new slot, or recreated maps: baselines only */
		x->seen_admitted = adm;
		x->seen_refused = ref;
		memcpy(x->seen_ttft, tm.ttft, sizeof(x->seen_ttft));
		x->written_rate = x->written_src_rate = 0;
	}
	*slot = pol.slot;
	*admitted = adm - x->seen_admitted;
	*refused = ref - x->seen_refused;
	for (int k = 0; k < IG_TIME_BUCKETS; k++)
		ttft[k] = tm.ttft[k] >= x->seen_ttft[k] ? tm.ttft[k] - x->seen_ttft[k] : 0;
	x->seen_admitted = adm;
	x->seen_refused = ref;
	memcpy(x->seen_ttft, tm.ttft, sizeof(x->seen_ttft));
	return 0;
}

static __u32 milli(double v)
{
	return isnan(v) || v < 0 ? 0 : v * 1000 > 4e9 ? 4000000000u : (__u32)(v * 1000 + 0.5);
}

/* Say what changed: the state, or a move of more than 20 %. */
static void log_decision(struct ig_adapted *x, const struct ig_actl_out *out, __u64 admitted,
			 __u64 refused, __u64 dt_ms)
{
	const struct ig_cfg_port *p = x->cfg;

	if (out->state != x->logged_state) {
		ig_info("adaptive %u/%s: %s, rate %.0f/s (%s)", p->port, proto_of(x),
			ig_adaptive_state_name(out->state), out->rate, out->why);
		x->logged_state = out->state;
		x->logged_rate = out->rate;
		return;
	}
	if (fabs(out->rate - x->logged_rate) <= LOG_MOVE * x->logged_rate)
		return;
	ig_info("adaptive %u/%s: rate %.0f/s -> %.0f/s: %s; admitted %llu, refused %llu in %llu ms%s",
		p->port, proto_of(x), x->logged_rate, out->rate, out->why,
		(unsigned long long)admitted, (unsigned long long)refused, (unsigned long long)dt_ms,
		out->braked ? "; KV brake" : "");
	x->logged_rate = out->rate;
}

/*
 * max_inflight = auto: the engine's slots (what it runs at once while others
 * wait, adapt_ctl.c) become the port's cap of requests in flight, so that
 * none waits in its queue. Until the engine has been seen full its slots are
 * unknown and the cap stays where the config put it (IG_INFLIGHT_MAX).
 */
static void follow_slots(struct ig_agent *a, struct ig_adapted *x, __u32 slot)
{
	struct ig_inflight_cfg c;
	double s = x->ctl.slots;
	__u32 want;

	if (!x->cfg->inflight_auto || !x->ctl.seen_full || !(s >= 1))
		return;
	want = s > IG_INFLIGHT_MAX ? IG_INFLIGHT_MAX : (__u32)(s + 0.5);
	/* read back each time: a reload that rewrote the port put the config's
	 * cap there */
	if (ig_inflight_get(&a->in, slot, &c) || !c.max || c.max == want)
		return;
	c.max = want;
	if (ig_inflight_put(&a->in, slot, &c))
		return;
	if (want != x->written_cap)
		ig_info("adaptive %u/%s: at most %u requests in flight (the engine's slots, %.1f)",
			x->cfg->port, proto_of(x), want, s);
	x->written_cap = want;
}

static void decide(struct ig_agent *a, struct ig_adapted *x, __u64 now)
{
	struct ig_actl_in in = { .queue = NAN, .running = NAN, .kv = NAN, .completed = NAN };
	struct ig_adaptive rec = { 0 };
	struct ig_actl_out out;
	__u64 dt = x->decided_ms ? now - x->decided_ms : 0;
	__u32 slot;
	__u64 rate;

	x->decided_ms = now;
	if (read_port(a, x, &slot, &in.admitted, &in.refused, in.ttft))
		return; /* said by the reader; the port is not limited right now */
	if (x->cfg->adaptive.mode == IG_AD_LATENCY) {
		x->seen_ms = now; /* the kernel's histogram is always fresh */
		x->fresh = 1;
	}
	in.fresh = x->fresh;
	in.seen_ms = x->seen_ms;
	in.queue = x->queue;
	in.running = x->running;
	in.kv = x->kv;
	in.completed = x->completed;
	x->fresh = 0;
	ig_actl_step(&x->ctl, now, &in, &out);
	rate = out.rate < 1 ? 1 : (__u64)(out.rate + 0.5);
	if (rate != x->written_rate && !write_port_rate(a, slot, x->cfg, rate))
		x->written_rate = rate;
	log_decision(x, &out, in.admitted, in.refused, dt);
	follow_slots(a, x, slot);
	rec.rate = rate;
	rec.static_rate = x->cfg->levels.port_rate;
	rec.updated_ms = real_ms();
	rec.mode = x->cfg->adaptive.mode;
	rec.state = out.state;
	rec.queue_milli = milli(x->queue);
	rec.running_milli = milli(x->running);
	rec.kv_milli = milli(x->kv);
	rec.ttft_p50_us = milli(ig_time_quantile_ms(in.ttft, 0.5));
	rec.ttft_p99_us = milli(ig_time_quantile_ms(in.ttft, 0.99));
	rec.capacity_milli = milli(x->ctl.capacity);
	ig_adaptive_put(&a->in, slot, &rec);
}

/* A finished scrape: the engine's numbers, or a failure said once. */
static void scrape_done(struct ig_adapted *x, __u64 now)
{
	struct ig_engine_sample s;
	const char *why = NULL;

	if (!x->scrape.ok)
		why = x->scrape.errbuf[0] ? x->scrape.errbuf : "not a 2xx answer";
	else if (ig_prom_parse(x->scrape.body, x->scrape.body_len, &s))
		why = "no metric of vLLM, TGI or Triton in the answer";
	ig_probe_reset(&x->scrape);
	if (why) {
		if (!x->scrape_failing)
			ig_warn("adaptive %u/%s: cannot read %s: %s; the rate holds for 1 s, then "
				"the static rate", x->cfg->port, proto_of(x),
				x->cfg->adaptive.engine_metrics, why);
		x->scrape_failing = 1;
		return;
	}
	if (x->scrape_failing)
		ig_info("adaptive %u/%s: %s answers again (%s)", x->cfg->port, proto_of(x),
			x->cfg->adaptive.engine_metrics, ig_engine_kind_name(s.kind));
	x->scrape_failing = 0;
	x->queue = s.queue;
	x->running = s.running;
	x->kv = s.kv;
	x->completed = s.completed;
	x->seen_ms = now;
	x->fresh = 1;
}

struct active_count {
	struct ig_agent *a;
	__u64 now;
};

static int count_active(__u32 index, struct ig_source_set *set, void *ctx)
{
	struct active_count *c = ctx;

	(void)index;
	for (int w = 0; w < IG_WAYS; w++) {
		const struct ig_source *s = &set->way[w];

		if (!s->used || s->tat + ACTIVE_NS < c->now)
			continue;
		for (int i = 0; i < c->a->nad; i++)
			if (c->a->ad[i].cfg->port == s->port && c->a->ad[i].cfg->proto == s->proto)
				c->a->ad[i].active++;
	}
	return 0;
}

/* Each second: the active sources of every adaptive port (one walk of the
 * table for all of them), and each one's share of its port's rate. */
static void fair_share(struct ig_agent *a, __u64 now)
{
	struct active_count c = { .a = a };

	if (!a->nad || now < a->fair_next_ms)
		return;
	a->fair_next_ms = now + 1000;
	if (ig_datapath_now(&a->in, &c.now))
		return;
	for (int i = 0; i < a->nad; i++)
		a->ad[i].active = 0;
	if (ig_sources_walk(&a->in, count_active, &c))
		return;
	for (int i = 0; i < a->nad; i++) {
		struct ig_adapted *x = &a->ad[i];
		__u64 per = ig_actl_share(x->written_rate, x->active, x->cfg->limit.rate);

		if (!ig_actl_share_due(per, x->written_src_rate, x->cfg->limit.rate))
			continue;
		if (!write_source_rate(a, x->cfg, per)) {
			ig_dbg("adaptive %u/%s: %llu active sources, %llu/s each", x->cfg->port,
			       proto_of(x), (unsigned long long)x->active, (unsigned long long)per);
			x->written_src_rate = per;
		}
	}
}

static struct ig_adapted *adapted_alloc(const struct ig_cfg_file *cfg, int *n)
{
	*n = 0;
	for (int i = 0; i < cfg->nports; i++)
		*n += cfg->ports[i].adaptive.mode != IG_AD_OFF;
	return calloc((size_t)(*n ? *n : 1), sizeof(struct ig_adapted));
}

/* cfg's adaptive ports into x[]; those in old[] keep their controller. */
static void adapted_fill(struct ig_agent *a, const struct ig_cfg_file *cfg, struct ig_adapted *x,
			 struct ig_adapted *old, int nold)
{
	int k = 0;

	for (int i = 0; i < cfg->nports; i++) {
		const struct ig_cfg_port *p = &cfg->ports[i];
		struct ig_actl_cfg c;

		if (p->adaptive.mode == IG_AD_OFF)
			continue;
		actl_cfg(p, &c);
		for (int j = 0; j < nold; j++) {
			if (!old[j].cfg || old[j].cfg->port != p->port || old[j].cfg->proto != p->proto ||
			    old[j].cfg->adaptive.mode != p->adaptive.mode)
				continue;
			/* the transfer points at the old element: it goes */
			if (a->prober_ready)
				ig_probe_cancel(&a->prober, &old[j].scrape);
			x[k] = old[j];
			ig_probe_reset(&x[k].scrape);
			old[j].cfg = NULL; /* taken */
			old[j].scrape.body = NULL;
			x[k].ctl.cfg = c;
			x[k].written_rate = x[k].written_src_rate = 0; /* the reload wrote static */
		}
		if (!x[k].cfg) {
			ig_actl_init(&x[k].ctl, &c, a->now);
			x[k].queue = x[k].running = x[k].kv = x[k].completed = NAN;
			x[k].logged_rate = c.static_rate;
			x[k].logged_state = IG_AS_STATIC;
			ig_info("adaptive %u/%s: %s%s%s, start at the static %llu/s, within %llu..%llu/s "
				"every %llu ms", p->port, ig_proto_name(p->proto),
				ig_adaptive_mode_name(p->adaptive.mode),
				p->adaptive.mode == IG_AD_ENGINE ? " from " : "",
				p->adaptive.mode == IG_AD_ENGINE ? p->adaptive.engine_metrics : "",
				(unsigned long long)p->levels.port_rate,
				(unsigned long long)p->adaptive.min_rate,
				(unsigned long long)p->adaptive.max_rate,
				(unsigned long long)p->adaptive.interval_ms);
		}
		x[k].cfg = p;
		k++;
	}
}

static int adaptive_start(struct ig_agent *a)
{
	a->ad = adapted_alloc(a->cfg, &a->nad);
	if (!a->ad)
		return -ENOMEM;
	adapted_fill(a, a->cfg, a->ad, NULL, 0);
	a->fair_next_ms = a->now;
	return 0;
}

static void adaptive_step(struct ig_agent *a, __u64 now, int tick)
{
	(void)tick;
	for (int i = 0; i < a->nad; i++) {
		struct ig_adapted *x = &a->ad[i];
		const struct ig_adaptive_cfg *c = &x->cfg->adaptive;
		int due = 0;

		if (c->mode == IG_AD_ENGINE) {
			if (x->scrape.finished) {
				scrape_done(x, now);
				due = 1;
			}
			if (now >= x->next_ms && !ig_probe_busy(&x->scrape) && a->prober_ready) {
				/* a hung endpoint holds one transfer for 1 s, then fails:
				 * the staleness the controller freezes on */
				ig_probe_fetch(&a->prober, &x->scrape, c->engine_metrics,
					       IG_ACTL_FREEZE_MS, SCRAPE_MAX_BODY);
				x->next_ms = now + c->interval_ms;
			}
			/* no answer for two intervals: decide on what is known */
			due |= now >= x->decided_ms + 2 * c->interval_ms;
		} else if (now >= x->next_ms) {
			x->next_ms = now + c->interval_ms;
			due = 1;
		}
		if (due)
			decide(a, x, now);
	}
	fair_share(a, now);
}

static void drop(struct ig_agent *a, struct ig_adapted *x, int n, const struct ig_cfg_file *keep)
{
	for (int i = 0; i < n; i++) {
		const struct ig_cfg_port *p = x[i].cfg, *np = NULL;

		if (a->prober_ready)
			ig_probe_cancel(&a->prober, &x[i].scrape);
		ig_probe_free(&x[i].scrape);
		if (!p)
			continue; /* carried over to the new list */
		for (int k = 0; keep && k < keep->nports; k++)
			if (keep->ports[k].port == p->port && keep->ports[k].proto == p->proto)
				np = &keep->ports[k];
		if (!keep)
			restore_static(a, p);
		else if (np && np->has_limit)
			restore_static(a, np); /* still limited: its new static rates */
	}
}

static void adaptive_reload(struct ig_agent *a, const struct ig_cfg_file *nc)
{
	int n;
	struct ig_adapted *x = adapted_alloc(nc, &n);

	if (!x) {
		ig_err("reload: out of memory; adaptive admission keeps the old ports");
		return;
	}
	adapted_fill(a, nc, x, a->ad, a->nad);
	drop(a, a->ad, a->nad, nc);
	free(a->ad);
	a->ad = x;
	a->nad = n;
}

static void adaptive_stop(struct ig_agent *a)
{
	if (a->ad)
		drop(a, a->ad, a->nad, NULL);
	free(a->ad);
	a->ad = NULL;
	a->nad = 0;
}

const struct ig_agent_part ig_part_adaptive = {
	.name = "adaptive admission", .start = adaptive_start, .step = adaptive_step,
	.reload = adaptive_reload, .stop = adaptive_stop,
};
