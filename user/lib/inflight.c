// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Requests in flight: see inflight.h. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/inflight.h"
#include "lib/args.h"
#include "lib/log.h"
#include "lib/policy.h" /* ig_datapath_now */
#include "pure/inflight.h"

int ig_inflight_get(const struct ig_instance *in, __u32 slot, struct ig_inflight_cfg *c)
{
	memset(c, 0, sizeof(*c));
	if (in->fd[IG_MAP_INFLIGHT_CFG] < 0 || !slot || slot >= IG_MAX_SLOTS)
		return 0;
	if (bpf_map_lookup_elem(in->fd[IG_MAP_INFLIGHT_CFG], &slot, c)) {
		int err = -errno;

		ig_err("cannot read slot %u of map inflight_cfg: %s", slot, strerror(-err));
		return err;
	}
	return 0;
}

int ig_inflight_put(const struct ig_instance *in, __u32 slot, const struct ig_inflight_cfg *c)
{
	static const struct ig_inflight none;
	int err;

	if (in->fd[IG_MAP_INFLIGHT_CFG] < 0 || in->fd[IG_MAP_INFLIGHT] < 0) {
		if (!c->max)
			return 0; /* nothing to switch off in an instance without them */
		return ig_instance_need(in, IG_MAP_INFLIGHT_CFG);
	}
	if (bpf_map_update_elem(in->fd[IG_MAP_INFLIGHT_CFG], &slot, c, BPF_ANY)) {
		err = -errno;
		ig_err("cannot write slot %u of map inflight_cfg: %s", slot, strerror(-err));
		return err;
	}
	if (!c->max && bpf_map_update_elem(in->fd[IG_MAP_INFLIGHT], &slot, &none, BPF_ANY)) {
		err = -errno;
		ig_err("cannot clear slot %u of map inflight: %s", slot, strerror(-err));
		return err;
	}
	return 0;
}

int ig_inflight_now(const struct ig_instance *in, __u32 slot)
{
	struct ig_inflight_cfg c;
	struct ig_inflight t;
	__u64 now;
	int err;

	err = ig_inflight_get(in, slot, &c);
	if (err || !c.max)
		return err;
	if (bpf_map_lookup_elem(in->fd[IG_MAP_INFLIGHT], &slot, &t)) {
		err = -errno;
		ig_err("cannot read slot %u of map inflight: %s", slot, strerror(-err));
		return err;
	}
	err = ig_datapath_now(in, &now);
	if (err)
		return err;
	return (int)ig_inflight_count(&t, c.max, ig_inflight_stamp(now), ig_inflight_ticks(c.timeout_s));
}

int ig_inflight_parse(struct ig_inflight_cfg *c, int *autop, const char *key, const char *value)
{
	__u64 v;

	if (!strcmp(key, "max_inflight")) {
		if (autop)
			*autop = 0;
		if (autop && !strcmp(value, "auto")) {
			*autop = 1;
			return 0;
		}
		if (ig_parse_count(value, "max_inflight", 0, IG_INFLIGHT_MAX, &v))
			return -EINVAL;
		c->max = (__u32)v;
		return 0;
	}
	if (!strcmp(key, "inflight_timeout")) {
		if (ig_parse_count(value, "inflight_timeout (seconds)", 1, 7 * 86400, &v))
			return -EINVAL;
		c->timeout_s = (__u32)v;
		return 0;
	}
	if (!strcmp(key, "max_inflight_per_client")) {
		c->flags &= ~(__u32)IG_INFLIGHT_F_FAIR;
		c->per_client = 0;
		if (!strcmp(value, "fair")) {
			c->flags |= IG_INFLIGHT_F_FAIR;
			return 0;
		}
		if (ig_parse_count(value, "max_inflight_per_client", 0, IG_INFLIGHT_MAX, &v))
			return -EINVAL;
		c->per_client = (__u32)v;
		return 0;
	}
	return -ENOENT;
}
