// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/timing.h"
#include "lib/log.h"

int ig_timing_read(const struct ig_instance *in, __u32 slot, struct ig_timing *sum)
{
	return ig_percpu_sum(in, IG_MAP_TIMING, slot, (__u64 *)sum, sizeof(*sum) / 8);
}

int ig_timing_clear(const struct ig_instance *in, __u32 slot)
{
	int err = ig_percpu_zero(in, IG_MAP_TIMING, slot, sizeof(struct ig_timing));

	if (!err)
		err = ig_timing_set_slow(in, slot, 0);
	return err;
}

int ig_timing_set_slow(const struct ig_instance *in, __u32 slot, __u64 slow_ns)
{
	struct ig_timing_cfg c = { .slow_ns = slow_ns };

	if (bpf_map_update_elem(in->fd[IG_MAP_TIMING_CFG], &slot, &c, BPF_ANY)) {
		int err = -errno;

		ig_err("cannot write the slow-call time of slot %u (map timing_cfg): %s", slot,
		       strerror(-err));
		return err;
	}
	return 0;
}

int ig_adaptive_get(const struct ig_instance *in, __u32 slot, struct ig_adaptive *ad)
{
	memset(ad, 0, sizeof(*ad));
	if (in->fd[IG_MAP_ADAPTIVE] < 0 || slot >= IG_MAX_SLOTS)
		return -ENOENT; /* an instance pinned before adaptive admission */
	if (bpf_map_lookup_elem(in->fd[IG_MAP_ADAPTIVE], &slot, ad)) {
		int err = -errno;

		ig_err("cannot read the adaptive decision of slot %u (map adaptive): %s", slot,
		       strerror(-err));
		return err;
	}
	return 0;
}

int ig_adaptive_put(const struct ig_instance *in, __u32 slot, const struct ig_adaptive *ad)
{
	if (in->fd[IG_MAP_ADAPTIVE] < 0 || slot >= IG_MAX_SLOTS)
		return -ENOENT;
	if (bpf_map_update_elem(in->fd[IG_MAP_ADAPTIVE], &slot, ad, BPF_ANY)) {
		int err = -errno;

		ig_err("cannot write the adaptive decision of slot %u (map adaptive): %s", slot,
		       strerror(-err));
		return err;
	}
	return 0;
}

__u64 ig_timing_count(const __u64 *buckets)
{
	__u64 n = 0;

	for (int k = 0; k < IG_TIME_BUCKETS; k++)
		n += buckets[k];
	return n;
}
