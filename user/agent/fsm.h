/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The breaker's decision logic, pure: no maps, no clock, no I/O. The agent
 * feeds it passive counts (per tick), active probe results and the time, and
 * writes whatever state it returns into the map. Unit-tested on its own.
 *
 *   closed    -> open       failure rate over the window >= threshold (with at
 *                           least min_requests), or `consecutive_failures`
 *                           failed probes in a row
 *   open      -> half_open  after the open time; that time doubles with each
 *                           consecutive trip, up to max_open
 *   half_open -> closed     `half_open_probes` successes (probe connections that
 *                           were answered, or active probes)
 *   half_open -> open       any failure
 */
#ifndef IG_FSM_H
#define IG_FSM_H

#include <linux/types.h>
#include "ig_abi.h"

struct ig_fsm_cfg {
	__u64 window_ms;      /* sliding window of the failure rate */
	__u64 min_requests;   /* below this many requests in the window: no verdict */
	__u32 failure_pct;    /* trip at or above this rate (1..100) */
	__u32 consecutive_failures; /* trip after this many failed probes in a row; 0 = off */
	__u64 open_ms;        /* first open period */
	__u64 max_open_ms;    /* cap of the doubling */
	__u32 half_open_probes; /* K */
	__u32 slow_call_pct;  /* trip at or above this share of slow calls (1..100) */
	__u64 slow_call_ms;   /* a call at least this long is slow (kernel-measured);
			       * 0 = the slow-call rule is off */
};

/* Passive counts per tick, kept for the window (a ring of tick buckets). */
#define IG_FSM_MAX_SAMPLES 4096

struct ig_fsm_sample {
	__u64 t_ms;
	__u64 ok;
	__u64 failed;
	__u64 timed; /* calls whose duration the kernel measured */
	__u64 slow;  /* ...of them slow */
};

struct ig_fsm {
	struct ig_fsm_cfg cfg;
	enum ig_brk_state state;
	__u32 trips;          /* consecutive trips (0 while closed and healthy) */
	__u32 probe_failures; /* consecutive failed active probes */
	__u32 half_ok;        /* successes since half-open */
	__u64 open_until_ms;  /* open: when to go half-open */
	struct ig_fsm_sample ring[IG_FSM_MAX_SAMPLES];
	__u32 head, count;
};

/* Why a breaker changed state: a metric label, so a short closed set. */
enum ig_fsm_cause {
	IG_CAUSE_FAILURE_RATE = 0,  /* closed -> open: the window's failure rate */
	IG_CAUSE_PROBES = 1,        /* closed -> open: consecutive failed probes */
	IG_CAUSE_OPEN_ELAPSED = 2,  /* open -> half_open */
	IG_CAUSE_RECOVERED = 3,     /* half_open -> closed */
	IG_CAUSE_RELAPSED = 4,      /* half_open -> open */
	IG_CAUSE_SLOW_CALLS = 5,    /* closed -> open: the window's slow-call rate */
	IG_CAUSE_MAX,
};

/* What happened, for the log: the states and a sentence with the numbers. */
struct ig_fsm_change {
	enum ig_brk_state from, to;
	enum ig_fsm_cause cause;
	char reason[192];
};

const char *ig_fsm_cause_name(enum ig_fsm_cause c);

/* Start in `state` (the one found in the map when adopting). */
void ig_fsm_init(struct ig_fsm *f, const struct ig_fsm_cfg *cfg, enum ig_brk_state state,
		 __u64 now_ms);
/* Passive counts since the last call. Returns 1 and fills *ch on a change. */
int ig_fsm_observe(struct ig_fsm *f, __u64 now_ms, __u64 ok, __u64 failed,
		   struct ig_fsm_change *ch);
/* The same with the calls the kernel timed since the last call, and how many
 * of them were slow (Resilience4j's slow-call rule: slow_call_ms,
 * slow_call_pct over the window, min_requests timed calls at least; while
 * half-open a slow call is a failure). */
int ig_fsm_observe_calls(struct ig_fsm *f, __u64 now_ms, __u64 ok, __u64 failed, __u64 timed,
			 __u64 slow, struct ig_fsm_change *ch);
/* An active probe's result; `detail` says what happened ("HTTP 503", "timeout"). */
int ig_fsm_probe(struct ig_fsm *f, __u64 now_ms, int success, const char *detail,
		 struct ig_fsm_change *ch);
/* Time passing: open -> half_open. */
int ig_fsm_tick(struct ig_fsm *f, __u64 now_ms, struct ig_fsm_change *ch);
/* Requests and failures in the window ending at now_ms. */
void ig_fsm_window(const struct ig_fsm *f, __u64 now_ms, __u64 *total, __u64 *failed);
/* Timed calls and slow ones in the window ending at now_ms. */
void ig_fsm_window_slow(const struct ig_fsm *f, __u64 now_ms, __u64 *timed, __u64 *slow);
/* The open period the next trip would get. */
__u64 ig_fsm_open_period(const struct ig_fsm *f, __u32 trips);

#endif
