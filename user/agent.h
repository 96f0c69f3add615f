/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent (`infergate run --config FILE`): attaches or adopts the pinned
 * instance, applies the config, then drives every breaker from the passive
 * counters of the data path and its own active probes, until SIGINT/SIGTERM.
 * The data path keeps the last state when the agent stops or dies.
 */
#ifndef IG_AGENT_H
#define IG_AGENT_H

/* 0 on a clean stop; -EINVAL for a bad config (nothing applied); -errno. */
int ig_agent_run(const char *pin_dir, const char *config_path);

#endif
