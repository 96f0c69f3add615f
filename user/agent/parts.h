/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the agent: its state, and the parts it is made of. Each part
 * (the maps, the prober, the control socket, top, metrics, the breakers, the
 * fleet, the pid file) is one entry of the table in agent.c with what it does
 * at start, at each step, at a reload and at stop; adding a part is adding an
 * entry, not a local, an `if` in the loop and a cleanup line.
 */
#ifndef IG_AGENT_PARTS_H
#define IG_AGENT_PARTS_H

#include <linux/types.h>
#include "agent/adapt_ctl.h"
#include "agent/agent.h"
#include "agent/ctl.h"
#include "agent/fleet.h"
#include "agent/fsm.h"
#include "agent/metrics.h"
#include "agent/probe.h"
#include "agent/top.h"
#include "lib/config.h"
#include "lib/instance.h"

/* One breaker the agent drives. */
struct ig_watched {
	const struct ig_cfg_port *cfg;
	struct ig_fsm fsm;
	__u64 seen_ok, seen_failed; /* counters at the last tick */
	__u64 seen_timed, seen_slow; /* the kernel's timed and slow calls, likewise */
	__u32 slow_slot;            /* the slot whose timing_cfg holds our slow time */
	enum ig_brk_force force;    /* as last read from the map */
	struct ig_probe probe;
	__u64 next_probe_ms;
};

/* One port whose rate adaptive admission drives (adaptive.c). */
struct ig_adapted {
	const struct ig_cfg_port *cfg;
	struct ig_actl ctl;
	struct ig_probe scrape;     /* engine: the /metrics fetch */
	int scrape_failing;         /* said once, not every interval */
	__u64 next_ms;              /* the next scrape (engine) or reading (latency) */
	__u64 decided_ms;           /* the last decision */
	__u64 seen_ms;              /* the newest good reading (0: none) */
	int fresh;                  /* a reading since the last decision */
	double queue, running, kv, completed; /* the newest reading (NAN: unknown) */
	__u64 seen_admitted, seen_refused, seen_ttft[IG_TIME_BUCKETS];
	__u32 slot;                 /* of the baselines above (0: none yet) */
	double logged_rate;         /* the rate of the last log line */
	enum ig_adaptive_state logged_state;
	__u64 written_rate;         /* what port_limits holds from us (0: write) */
	__u32 written_cap;          /* max_inflight = auto: the cap inflight_cfg holds from us */
	__u64 active;               /* sources admitted in the last second */
	__u64 written_src_rate;     /* the per-source rate written (0: write) */
};

struct ig_agent {
	struct ig_agent_opts opts;
	char pin_dir[256], config_path[512], pid_path[300];
	struct ig_cfg_file *cfg;
	struct ig_instance in;
	int opened;             /* in holds open fds */
	__u64 now;              /* the clock of the last step (or of the start) */
	__u64 next_tick;        /* when the counters are read next */
	struct ig_prober prober;
	int prober_ready;
	struct ig_top *top;
	struct ig_metrics *metrics;
	struct ig_fleet *fleet;
	struct ig_ctl *ctl;
	struct ig_watched *w;   /* the breakers watched */
	int nw;
	struct ig_adapted *ad;  /* the ports adaptive admission drives */
	int nad;
	__u64 fair_next_ms;     /* the next count of active sources */
	int pid_written;
};

/*
 * A part. start: 0 or -errno (the agent does not start; the parts started
 * before are stopped). step: every step; `tick` is 1 when the counters are
 * due (every tick_ms). reload: bring the part from a->cfg to nc, the new
 * config already checked; errors are logged and the agent goes on. stop:
 * also after a failed start of a later part, so it must cope with its own
 * start not having run to the end. Any of them may be NULL.
 */
struct ig_agent_part {
	const char *name;
	int (*start)(struct ig_agent *a);
	void (*step)(struct ig_agent *a, __u64 now, int tick);
	void (*reload)(struct ig_agent *a, const struct ig_cfg_file *nc);
	void (*stop)(struct ig_agent *a);
};

/* apply.c: the config into the maps, and what a reload may change. */
int ig_apply_config(const struct ig_instance *in, const struct ig_cfg_file *old,
		    const struct ig_cfg_file *cfg);
/* 0 when nc differs from oc only in what a reload applies; -EINVAL (logged)
 * when it would move the agent (interface, hook, table sizes, metrics,
 * [cluster]). */
int ig_reload_check(const struct ig_cfg_file *oc, const struct ig_cfg_file *nc);
extern const struct ig_agent_part ig_part_maps;

/* watch.c: the breakers, their state machines and probes. */
extern const struct ig_agent_part ig_part_breakers;

/* adaptive.c: adaptive admission, the port rates that follow the engine. */
extern const struct ig_agent_part ig_part_adaptive;

#endif
