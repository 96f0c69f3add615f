/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Requests in flight (max_inflight, issue 15): a port's cap in
 * `inflight_cfg[slot]` and the records the data path takes in
 * `inflight[slot]` (ig_abi.h, bpf/pure/inflight.h). The cap is switched on by
 * the policy flag IG_POL_F_INFLIGHT, which ig_port_apply() writes after the
 * cap (and clears before clearing it).
 */
#ifndef IG_LIB_INFLIGHT_H
#define IG_LIB_INFLIGHT_H

#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"

/* A slot's cap (all 0: none, or an instance older than the maps). */
int ig_inflight_get(const struct ig_instance *in, __u32 slot, struct ig_inflight_cfg *c);
/* Write it; with max 0 the slot's records are cleared too. */
int ig_inflight_put(const struct ig_instance *in, __u32 slot, const struct ig_inflight_cfg *c);
/* The slot's requests in flight now (live records), or -errno. */
int ig_inflight_now(const struct ig_instance *in, __u32 slot);
/* "max_inflight" and friends, as key = value (config file and CLI alike):
 * 0 set, -ENOENT not one of them, -EINVAL bad value (said). "auto" for
 * max_inflight sets *autop (the agent's engine mode fills the cap in). */
int ig_inflight_parse(struct ig_inflight_cfg *c, int *autop, const char *key, const char *value);

#endif
