// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A port's whole limit in one call: see port.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/port.h"
#include "lib/algo.h"
#include "lib/keys.h"
#include "lib/inflight.h"
#include "lib/levels.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/policy.h"
#include "lib/timing.h"

#define LEVEL_FLAGS (IG_POL_F_HIER | IG_POL_F_CONNS | IG_POL_F_TOKENS)

/* Whether the trie holds any prefix: 1, 0, or -errno. */
static int tiers_exist(const struct ig_instance *in)
{
	struct ig_lpm_key k;
	int err;

	if (!bpf_map_get_next_key(in->fd[IG_MAP_TIERS], NULL, &k))
		return 1;
	err = -errno;
	if (err == -ENOENT)
		return 0;
	ig_err("cannot read map tiers: %s", strerror(-err));
	return err;
}

/* A port not limited yet: its slot is cleaned and given its levels while no
 * policy points at it, then one write of the policy makes the port appear
 * whole. */
static int apply_new(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		     const struct ig_port_limit *want, int tiers)
{
	struct ig_policy next = want->policy;
	int err;

	err = ig_policy_free_slot(in, &next.slot);
	if (err) {
		ig_err("cannot limit %u/%s: all %d port slots are in use", port,
		       ig_proto_name(proto), IG_MAX_SLOTS - 1);
		return err;
	}
	/* A recycled slot must not inherit the counters (by reason and by
	 * token rule), levels or port-wide buckets of its last port. */
	if (IG_POL_KEY(next.flags) != IG_KEY_SOURCE) {
		/* programs older than the maps would ignore the key mode */
		err = ig_instance_need(in, IG_MAP_KEY_POLICY);
		if (err)
			return err;
	}
	err = ig_stats_clear(in, next.slot);
	if (!err)
		err = ig_token_rules_clear(in, next.slot);
	if (!err)
		err = ig_timing_clear(in, next.slot);
	if (!err)
		err = ig_levels_clear_slot(in, next.slot);
	if (!err)
		err = ig_levels_put(in, next.slot, &want->levels);
	/* the anonymous policy before the mode that reads it (and a recycled
	 * slot's cleared when there is none) */
	if (!err)
		err = ig_key_policy_put(in, next.slot, &want->keys);
	/* the cap before the flag that reads it; a recycled slot's records go */
	if (!err) {
		struct ig_inflight_cfg none = {};

		err = ig_inflight_put(in, next.slot, &none);
		if (!err && want->inflight.max)
			err = ig_inflight_put(in, next.slot, &want->inflight);
	}
	if (err)
		return err;
	next.flags = ig_policy_flags(next.flags, &want->levels, tiers);
	err = ig_policy_put(in, proto, port, &next);
	if (err) { /* no policy holds the slot: free again */
		struct ig_key_policy none = {};
		struct ig_inflight_cfg no_cap = {};

		ig_levels_clear_slot(in, next.slot);
		ig_key_policy_put(in, next.slot, &none);
		ig_inflight_put(in, next.slot, &no_cap);
	}
	return err;
}

/*
 * A limited port changes in place. While its levels change, its flags are
 * those of the old and the new levels together: a flag with its level off
 * costs a lookup that finds nothing to do, a level on without its flag would
 * be skipped (a max-conns connection not counted is never uncounted).
 */
static int apply_in_place(const struct ig_instance *in, enum ig_proto proto, __u16 port,
			  const struct ig_port_limit *want, const struct ig_policy *cur, int tiers)
{
	struct ig_policy next = want->policy;
	struct ig_limits old;
	struct ig_key_policy old_keys;
	struct ig_inflight_cfg old_cap;
	int rescaled = 0, levels_written = 0, keys_early, keys_written = 0, algo_changed, err;
	int cap_changed, cap_written = 0;
	struct ig_limit_of fp, tp, fx, tx; /* the port and prefix words: from, to */

	next.slot = cur->slot;
	err = ig_levels_get(in, cur->slot, &old);
	if (!err)
		err = ig_key_policy_get(in, cur->slot, &old_keys);
	if (!err)
		err = ig_inflight_get(in, cur->slot, &old_cap);
	if (!err && IG_POL_KEY(next.flags) != IG_KEY_SOURCE)
		err = ig_instance_need(in, IG_MAP_KEY_POLICY);
	if (err)
		return err;
	/* a cap is written before a policy whose flag reads it, and a cap
	 * that goes after the policy that no longer does (its records then) */
	cap_changed = memcmp(&old_cap, &want->inflight, sizeof(old_cap)) != 0;
	if (cap_changed && want->inflight.max) {
		err = ig_inflight_put(in, cur->slot, &want->inflight);
		if (err)
			return err;
		cap_written = 1;
	}
	/* The anonymous policy is read only in api-key mode: written before a
	 * policy that has that mode, after one that leaves it. */
	keys_early = IG_POL_KEY(next.flags) == IG_KEY_API;
	if (keys_early && memcmp(&old_keys, &want->keys, sizeof(old_keys))) {
		err = ig_key_policy_put(in, cur->slot, &want->keys);
		if (err)
			return err;
		keys_written = 1;
	}
	/* a change of algorithm converts every word, whoever asks: a TAT read
	 * as a window's counts (or the other way) means nothing */
	algo_changed = IG_POL_ALGO(cur->flags) != IG_POL_ALGO(next.flags);
	if (want->rescale || algo_changed) {
		/* the sources first: the policy they are rescaled for follows */
		rescaled = ig_sources_rescale(in, proto, port, cur, &next);
		if (rescaled < 0)
			return rescaled;
	}
	fp = (struct ig_limit_of){ old.port_rate, old.port_burst, IG_POL_ALGO(cur->flags) };
	tp = (struct ig_limit_of){ want->levels.port_rate, want->levels.port_burst,
				   IG_POL_ALGO(next.flags) };
	fx = (struct ig_limit_of){ old.prefix_rate, old.prefix_burst, fp.algo };
	tx = (struct ig_limit_of){ want->levels.prefix_rate, want->levels.prefix_burst, tp.algo };
	if (algo_changed) {
		err = ig_levels_rescale(in, cur->slot, proto, port, &fp, &tp, &fx, &tx);
		if (err)
			return err;
	}
	if (memcmp(&old, &want->levels, sizeof(old))) {
		next.flags = ig_policy_flags(next.flags, &old, tiers) |
			     (ig_policy_flags(next.flags, &want->levels, tiers) & LEVEL_FLAGS);
		err = ig_policy_put(in, proto, port, &next);
		if (!err) {
			err = ig_levels_put(in, cur->slot, &want->levels);
			levels_written = !err;
		}
	}
	if (!err) {
		next.flags = ig_policy_flags(want->policy.flags, &want->levels, tiers);
		err = ig_policy_put(in, proto, port, &next);
	}
	if (!err && !keys_early && memcmp(&old_keys, &want->keys, sizeof(old_keys))) {
		err = ig_key_policy_put(in, cur->slot, &want->keys);
		keys_written = !err;
	}
	if (!err && cap_changed && !want->inflight.max) {
		err = ig_inflight_put(in, cur->slot, &want->inflight);
		cap_written = !err;
	}
	if (!err)
		return rescaled;
	/* back to what it was: the flags cover both while the levels go back */
	if (levels_written)
		ig_levels_put(in, cur->slot, &old);
	ig_policy_put(in, proto, port, cur);
	if (keys_written)
		ig_key_policy_put(in, cur->slot, &old_keys);
	if (cap_written)
		ig_inflight_put(in, cur->slot, &old_cap);
	if (rescaled > 0)
		ig_sources_rescale(in, proto, port, &next, cur);
	if (algo_changed)
		ig_levels_rescale(in, cur->slot, proto, port, &tp, &fp, &tx, &fx);
	return err;
}

/*
 * Client counts at zero or below in `conn_counts`: the data path deletes a
 * count with its client's last connection, and a full table refuses new
 * clients rather than admit them uncounted, so counts left at zero (by a
 * bpftool user, or state carried over from before those rules) would lock
 * clients out. Swept when a port gets max-conns; keys first, then deletes
 * (deleting while walking restarts the walk).
 */
static void conn_counts_gc(const struct ig_instance *in)
{
	int fd = in->fd[IG_MAP_CONN_COUNTS], n = 0, max = IG_DEFAULT_TOKEN_CLIENTS, first = 1;
	struct ig_client_key *keys = calloc((size_t)max, sizeof(*keys)), cur, next;
	__s64 v;

	if (!keys)
		return;
	while (n < max && !bpf_map_get_next_key(fd, first ? NULL : &cur, &next)) {
		first = 0;
		cur = next;
		if (!bpf_map_lookup_elem(fd, &cur, &v) && v <= 0)
			keys[n++] = cur;
	}
	for (int i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]);
	if (n)
		ig_info("max-conns: %d stale client count(s) removed", n);
	free(keys);
}

int ig_port_apply(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_port_limit *want_in)
{
	struct ig_port_limit want_l = *want_in, *want = &want_l;
	struct ig_policy cur;
	int tiers, err;

	/* requests in flight are a request port's (their replies are read) */
	want->policy.flags &= ~(__u32)IG_POL_F_INFLIGHT;
	if (want->inflight.max) {
		if (want->policy.unit != IG_UNIT_REQUEST || proto != IG_PROTO_TCP) {
			ig_err("%u/%s: max_inflight counts HTTP requests: it needs unit request on tcp",
			       port, ig_proto_name(proto));
			return -EINVAL;
		}
		want->policy.flags |= IG_POL_F_INFLIGHT;
	}

	if (want->levels.max_conns)
		conn_counts_gc(in);
	err = ig_policy_get(in, proto, port, &cur);
	if (err)
		return err;
	tiers = tiers_exist(in);
	if (tiers < 0)
		return tiers;
	/* a slot out of range (bpftool) holds nothing of ours: a new port */
	if (!cur.slot || cur.slot >= IG_MAX_SLOTS)
		return apply_new(in, proto, port, want, tiers);
	return apply_in_place(in, proto, port, want, &cur, tiers);
}

int ig_flags_refresh(const struct ig_instance *in)
{
	struct ig_policy *all = NULL;
	int tiers = tiers_exist(in), err;

	if (tiers < 0)
		return tiers;
	err = ig_policy_read_all(in, &all);
	for (__u32 i = 0; !err && i < IG_POLICY_ENTRIES; i++) {
		struct ig_limits lim;
		__u32 want;

		if (!all[i].slot)
			continue;
		err = ig_levels_get(in, all[i].slot, &lim);
		if (err)
			break;
		want = ig_policy_flags(all[i].flags, &lim, tiers);
		if (want == all[i].flags)
			continue;
		all[i].flags = want;
		err = ig_policy_put(in, (enum ig_proto)(i >> 16), (__u16)(i & 0xffff), &all[i]);
	}
	free(all);
	return err;
}

int ig_policy_set(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_policy *want)
{
	struct ig_port_limit l = { .policy = *want };
	struct ig_policy cur;
	int err;

	err = ig_policy_get(in, proto, port, &cur);
	if (!err)
		err = ig_levels_get(in, cur.slot, &l.levels);
	if (!err)
		err = ig_key_policy_get(in, cur.slot, &l.keys);
	if (!err)
		err = ig_inflight_get(in, cur.slot, &l.inflight);
	if (!err)
		err = ig_port_apply(in, proto, port, &l);
	return err < 0 ? err : 0;
}

int ig_levels_set(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_limits *lim)
{
	struct ig_port_limit l = { .levels = *lim };
	int err;

	err = ig_policy_get(in, proto, port, &l.policy);
	if (err)
		return err;
	if (!l.policy.slot || l.policy.slot >= IG_MAX_SLOTS) {
		ig_err("%u/%s is not limited: its levels need a limit first", port, ig_proto_name(proto));
		return -ENOENT;
	}
	err = ig_key_policy_get(in, l.policy.slot, &l.keys);
	if (!err)
		err = ig_inflight_get(in, l.policy.slot, &l.inflight);
	if (!err)
		err = ig_port_apply(in, proto, port, &l);
	return err < 0 ? err : 0;
}
