/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The agent's pid file, read by whoever wants to signal the agent. A pid file
 * outlives a crashed agent and its pid may be reused: check before signalling. */
#ifndef IG_PIDFILE_H
#define IG_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* The pid in the file: 0; -errno when it cannot be read; -EINVAL when it does
 * not hold a pid above 1. */
int ig_pidfile_read(const char *path, pid_t *pid);

/* 0 when pid is an infergate agent: its command line runs a program named
 * infergate with the command `run`. -ESRCH when there is no such process,
 * -EPERM when it is something else; its command line (spaces between the
 * arguments, truncated) in cmd either way it runs. */
int ig_pid_is_agent(pid_t pid, char *cmd, size_t len);

#endif
