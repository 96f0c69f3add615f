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

/* 0 on a clean stop; -EINVAL for a bad config (nothing applied); -errno.
 * SIGHUP re-reads the config; the pid goes to pid_file (NULL: the default). */
int ig_agent_run(const char *pin_dir, const char *config_path, const char *pid_file);
/* Where the agent of the instance at pin_dir keeps its pid by default:
 * /run/infergate/<pin dir, slashes as underscores>.pid */
void ig_agent_pid_file(const char *pin_dir, char *buf, size_t len);
/* sd_notify(3) without libsystemd: a datagram to $NOTIFY_SOCKET, if set. */
void ig_notify(const char *state);
void ig_notify_ready(void);

#endif
