// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include "agent/fsm.h"


void ig_fsm_init(struct ig_fsm *f, const struct ig_fsm_cfg *cfg, enum ig_brk_state state,
		 __u64 now_ms)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	f->state = state < IG_BRK_STATE_MAX ? state : IG_BRK_CLOSED;
	if (f->state == IG_BRK_OPEN) {
		/* adopted open: how long it has been open is unknown; a full period */
		f->trips = 1;
		f->open_until_ms = now_ms + ig_fsm_open_period(f, 1);
	}
}

__u64 ig_fsm_open_period(const struct ig_fsm *f, __u32 trips)
{
	__u64 t = f->cfg.open_ms;

	for (__u32 i = 1; i < trips && t < f->cfg.max_open_ms; i++)
		t *= 2;
	return t < f->cfg.max_open_ms ? t : f->cfg.max_open_ms;
}

static void window_drop_old(struct ig_fsm *f, __u64 now_ms)
{
	while (f->count) {
		struct ig_fsm_sample *s = &f->ring[f->head];

		if (s->t_ms + f->cfg.window_ms > now_ms)
			break;
		f->head = (f->head + 1) % IG_FSM_MAX_SAMPLES;
		f->count--;
	}
}

void ig_fsm_window(const struct ig_fsm *f, __u64 now_ms, __u64 *total, __u64 *failed)
{
	*total = *failed = 0;
	for (__u32 i = 0; i < f->count; i++) {
		const struct ig_fsm_sample *s = &f->ring[(f->head + i) % IG_FSM_MAX_SAMPLES];

		if (s->t_ms + f->cfg.window_ms <= now_ms)
			continue;
		*total += s->ok + s->failed;
		*failed += s->failed;
	}
}

void ig_fsm_window_slow(const struct ig_fsm *f, __u64 now_ms, __u64 *timed, __u64 *slow)
{
	*timed = *slow = 0;
	for (__u32 i = 0; i < f->count; i++) {
		const struct ig_fsm_sample *s = &f->ring[(f->head + i) % IG_FSM_MAX_SAMPLES];

		if (s->t_ms + f->cfg.window_ms <= now_ms)
			continue;
		*timed += s->timed;
		*slow += s->slow;
	}
}

static void window_clear(struct ig_fsm *f)
{
	f->head = f->count = 0;
}

static int change(struct ig_fsm *f, __u64 now_ms, enum ig_brk_state to,
		  struct ig_fsm_change *ch)
{
	ch->from = f->state;
	ch->to = to;
	f->state = to;
	if (to == IG_BRK_OPEN) {
		f->trips++;
		f->open_until_ms = now_ms + ig_fsm_open_period(f, f->trips);
		f->half_ok = 0;
	} else if (to == IG_BRK_HALF_OPEN) {
		f->half_ok = 0;
	} else {
		f->trips = 0;
	}
	f->probe_failures = 0;
	/* failures seen before a change must not judge the new state */
	window_clear(f);
	return 1;
}

const char *ig_fsm_cause_name(enum ig_fsm_cause c)
{
	static const char *const names[IG_CAUSE_MAX] = {
		[IG_CAUSE_FAILURE_RATE] = "failure_rate",
		[IG_CAUSE_PROBES] = "probe_failures",
		[IG_CAUSE_OPEN_ELAPSED] = "open_elapsed",
		[IG_CAUSE_RECOVERED] = "recovered",
		[IG_CAUSE_RELAPSED] = "relapsed",
		[IG_CAUSE_SLOW_CALLS] = "slow_call_rate",
	};

	return (unsigned)c < IG_CAUSE_MAX ? names[c] : "unknown";
}

static int open_for(struct ig_fsm *f, __u64 now_ms, enum ig_fsm_cause cause,
		    struct ig_fsm_change *ch)
{
	char why[sizeof(ch->reason)];

	memcpy(why, ch->reason, sizeof(why));
	change(f, now_ms, IG_BRK_OPEN, ch);
	ch->cause = cause;
	snprintf(ch->reason, sizeof(ch->reason), "%.140s; open for %llu ms (trip %u)", why,
		 (unsigned long long)(f->open_until_ms - now_ms), f->trips);
	return 1;
}

int ig_fsm_observe(struct ig_fsm *f, __u64 now_ms, __u64 ok, __u64 failed,
		   struct ig_fsm_change *ch)
{
	return ig_fsm_observe_calls(f, now_ms, ok, failed, 0, 0, ch);
}

int ig_fsm_observe_calls(struct ig_fsm *f, __u64 now_ms, __u64 ok, __u64 failed, __u64 timed,
			 __u64 slow, struct ig_fsm_change *ch)
{
	__u64 total, bad;

	if (!f->cfg.slow_call_ms)
		timed = slow = 0;
	if (f->state == IG_BRK_OPEN)
		return 0; /* the primary only has leftover connections: no signal */
	if (f->state == IG_BRK_HALF_OPEN) {
		if (failed) {
			snprintf(ch->reason, sizeof(ch->reason),
				 "%llu failed answer(s) from the primary while half-open",
				 (unsigned long long)failed);
			return open_for(f, now_ms, IG_CAUSE_RELAPSED, ch);
		}
		if (slow) {
			snprintf(ch->reason, sizeof(ch->reason),
				 "%llu slow call(s) (>= %llu ms) to the primary while half-open",
				 (unsigned long long)slow, (unsigned long long)f->cfg.slow_call_ms);
			return open_for(f, now_ms, IG_CAUSE_RELAPSED, ch);
		}
		f->half_ok += (__u32)(ok < 1000000 ? ok : 1000000);
		goto half_open_done;
	}

	if (ok || failed || timed) {
		struct ig_fsm_sample *last = f->count ?
			&f->ring[(f->head + f->count - 1) % IG_FSM_MAX_SAMPLES] : NULL;

		if (last && last->t_ms == now_ms) {
			last->ok += ok;
			last->failed += failed;
			last->timed += timed;
			last->slow += slow;
		} else {
			if (f->count == IG_FSM_MAX_SAMPLES) { /* oldest goes */
				f->head = (f->head + 1) % IG_FSM_MAX_SAMPLES;
				f->count--;
			}
			f->ring[(f->head + f->count) % IG_FSM_MAX_SAMPLES] =
				(struct ig_fsm_sample){ now_ms, ok, failed, timed, slow };
			f->count++;
		}
	}
	window_drop_old(f, now_ms);
	ig_fsm_window(f, now_ms, &total, &bad);
	if (total && total >= f->cfg.min_requests && bad * 100 >= (__u64)f->cfg.failure_pct * total) {
		snprintf(ch->reason, sizeof(ch->reason),
			 "failure rate %llu%% (%llu of %llu requests in %llu ms) >= %u%%",
			 (unsigned long long)(bad * 100 / total), (unsigned long long)bad,
			 (unsigned long long)total, (unsigned long long)f->cfg.window_ms,
			 f->cfg.failure_pct);
		return open_for(f, now_ms, IG_CAUSE_FAILURE_RATE, ch);
	}
	ig_fsm_window_slow(f, now_ms, &total, &bad);
	if (f->cfg.slow_call_ms && total && total >= f->cfg.min_requests &&
	    bad * 100 >= (__u64)f->cfg.slow_call_pct * total) {
		snprintf(ch->reason, sizeof(ch->reason),
			 "slow-call rate %llu%% (%llu of %llu calls >= %llu ms in %llu ms) >= %u%%",
			 (unsigned long long)(bad * 100 / total), (unsigned long long)bad,
			 (unsigned long long)total, (unsigned long long)f->cfg.slow_call_ms,
			 (unsigned long long)f->cfg.window_ms, f->cfg.slow_call_pct);
		return open_for(f, now_ms, IG_CAUSE_SLOW_CALLS, ch);
	}
	return 0;

half_open_done:
	if (f->half_ok >= f->cfg.half_open_probes) {
		change(f, now_ms, IG_BRK_CLOSED, ch);
		ch->cause = IG_CAUSE_RECOVERED;
		snprintf(ch->reason, sizeof(ch->reason), "%u successful probe(s) while half-open",
			 f->cfg.half_open_probes);
		return 1;
	}
	return 0;
}

int ig_fsm_probe(struct ig_fsm *f, __u64 now_ms, int success, const char *detail,
		 struct ig_fsm_change *ch)
{
	if (f->state == IG_BRK_OPEN)
		return 0; /* the open period runs its course; half-open tests recovery */
	if (f->state == IG_BRK_HALF_OPEN) {
		if (!success) {
			snprintf(ch->reason, sizeof(ch->reason), "probe failed while half-open (%s)",
				 detail);
			return open_for(f, now_ms, IG_CAUSE_RELAPSED, ch);
		}
		if (++f->half_ok >= f->cfg.half_open_probes) {
			change(f, now_ms, IG_BRK_CLOSED, ch);
			ch->cause = IG_CAUSE_RECOVERED;
			snprintf(ch->reason, sizeof(ch->reason),
				 "%u successful probe(s) while half-open (last: %s)",
				 f->cfg.half_open_probes, detail);
			return 1;
		}
		return 0;
	}
	if (success) {
		f->probe_failures = 0;
		return 0;
	}
	f->probe_failures++;
	if (f->cfg.consecutive_failures && f->probe_failures >= f->cfg.consecutive_failures) {
		snprintf(ch->reason, sizeof(ch->reason), "%u consecutive failed probes (last: %s)",
			 f->probe_failures, detail);
		return open_for(f, now_ms, IG_CAUSE_PROBES, ch);
	}
	return 0;
}

int ig_fsm_tick(struct ig_fsm *f, __u64 now_ms, struct ig_fsm_change *ch)
{
	if (f->state != IG_BRK_OPEN || now_ms < f->open_until_ms)
		return 0;
	change(f, now_ms, IG_BRK_HALF_OPEN, ch);
	ch->cause = IG_CAUSE_OPEN_ELAPSED;
	snprintf(ch->reason, sizeof(ch->reason), "open period over; letting %u probe(s) through",
		 f->cfg.half_open_probes);
	return 1;
}

