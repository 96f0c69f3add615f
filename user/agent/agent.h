/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent (`infergate run --config FILE`): attaches or adopts the pinned
 * instance, applies the config, then drives every breaker from the passive
 * counters of the data path and its own active probes, until SIGINT/SIGTERM.
 * The data path keeps the last state when the agent stops or dies.
 */
#ifndef IG_AGENT_H
#define IG_AGENT_H

#include <stddef.h>
#include <linux/types.h>

/* 0 on a clean stop; -EINVAL for a bad config (nothing applied); -errno.
 * SIGHUP re-reads the config; the pid goes to pid_file (NULL: the default). */
int ig_agent_run(const char *pin_dir, const char *config_path, const char *pid_file);
/*
 * The agent as an object, for the driver above and for tests with a fake
 * clock: start (config loaded and applied, every part up), step (one pass at
 * now_ms: control clients answered, and when a tick is due the drop events,
 * the breakers' counters and the fleet sync; due probes started and ended
 * ones judged), reload (the config again, applied as a diff), wait (for
 * probes and control clients, at most timeout_ms), stop.
 */
struct ig_agent;
struct bpf_object;
struct ig_instance;
struct ig_agent_opts {
	const char *pin_dir;
	const char *config_path;
	const char *pid_file;          /* NULL: ig_agent_pid_file() */
	/* tests: the maps of this loaded object, instead of attaching at pin_dir */
	const struct bpf_object *obj;
	__u64 now_ms;                  /* the clock at start; 0: CLOCK_MONOTONIC */
};
/* 0, or -errno with nothing left running (-EINVAL: a bad config). */
int ig_agent_start(struct ig_agent **out, const struct ig_agent_opts *opts);
/* Returns the ms until the next tick is due. Never blocks. */
int ig_agent_step(struct ig_agent *a, __u64 now_ms);
/* 0 applied; -errno refused with nothing changed (a bad config, or one that
 * would move the agent). */
int ig_agent_reload(struct ig_agent *a);
int ig_agent_wait(struct ig_agent *a, int timeout_ms);
const struct ig_instance *ig_agent_instance(const struct ig_agent *a);
void ig_agent_stop(struct ig_agent *a);

/* Where the agent of the instance at pin_dir keeps its pid by default:
 * /run/infergate/<pin dir, slashes as underscores>.pid */
void ig_agent_pid_file(const char *pin_dir, char *buf, size_t len);
/* sd_notify(3) without libsystemd: a datagram to $NOTIFY_SOCKET, if set. */
void ig_notify(const char *state);
void ig_notify_ready(void);

#endif
