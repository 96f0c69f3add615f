// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <bpf/bpf.h>
#include "lib/policy.h"
#include "lib/timing.h"
#include "lib/args.h"
#include "lib/log.h"
#include "lib/loader.h"
#include "pure/bucket.h"
#include "lib/algo.h"
#include "lib/keys.h"
#include "lib/inflight.h"
#include "lib/levels.h"
#include "lib/names.h"

int ig_policy_read_all(const struct ig_instance *in, struct ig_policy **out)
{
	struct ig_policy *all = calloc(IG_POLICY_ENTRIES, sizeof(*all));
	int err;

	if (!all)
		return -ENOMEM;
	err = ig_array_read_all(in->fd[IG_MAP_PORT_POLICY], "port_policy", IG_POLICY_ENTRIES,
				sizeof(*all), all);
	if (err) {
		free(all);
		return err;
	}
	*out = all;
	return 0;
}

int ig_ports_read(const struct ig_instance *in, struct ig_port_row **rows, int *n)
{
	struct ig_port_row *r = calloc(IG_MAX_SLOTS, sizeof(*r));
	struct ig_policy *all = NULL;
	int err, k = 0;

	if (!r)
		return -ENOMEM;
	err = ig_policy_read_all(in, &all);
	for (__u32 i = 0; !err && i < IG_POLICY_ENTRIES && k < IG_MAX_SLOTS; i++) {
		if (!all[i].slot)
			continue;
		r[k].port = (__u16)(i & 0xffff);
		r[k].proto = (enum ig_proto)(i >> 16);
		r[k].pol = all[i];
		/* a slot out of range (bpftool) is counted in slot 0 by the data path */
		err = ig_stats_read(in, all[i].slot < IG_MAX_SLOTS ? all[i].slot : 0, &r[k].st);
		if (!err && all[i].slot < IG_MAX_SLOTS)
			err = ig_levels_get(in, all[i].slot, &r[k].lim);
		if (!err && all[i].slot < IG_MAX_SLOTS)
			err = ig_level_stats_read(in, all[i].slot, &r[k].ls);
		if (!err && all[i].slot < IG_MAX_SLOTS)
			err = ig_token_rules_read(in, all[i].slot, &r[k].tr);
		if (!err && all[i].slot < IG_MAX_SLOTS)
			err = ig_timing_read(in, all[i].slot, &r[k].tm);
		/* adaptive admission's decision; none (mode off) where the agent
		 * never drove the port or the instance predates the map */
		if (!err && all[i].slot < IG_MAX_SLOTS)
			ig_adaptive_get(in, all[i].slot, &r[k].ad);
		/* none on an instance older than the map */
		if (!err && all[i].slot < IG_MAX_SLOTS)
			err = ig_key_policy_get(in, all[i].slot, &r[k].kp);
		if (!err && all[i].slot < IG_MAX_SLOTS)
			err = ig_inflight_get(in, all[i].slot, &r[k].cap);
		if (!err && r[k].cap.max) {
			int n = ig_inflight_now(in, all[i].slot);

			err = n < 0 ? n : 0;
			r[k].inflight = n < 0 ? 0 : (__u32)n;
		}
		k++;
	}
	free(all);
	if (err) {
		free(r);
		return err;
	}
	*rows = r;
	*n = k;
	return 0;
}

int ig_policy_get(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  struct ig_policy *pol)
{
	__u32 idx = IG_PORT_INDEX(proto, port);

	if (bpf_map_lookup_elem(in->fd[IG_MAP_PORT_POLICY], &idx, pol)) {
		int err = -errno;

		ig_err("cannot read the policy of %u/%s: %s", port, ig_proto_name(proto),
		       strerror(-err));
		return err;
	}
	return 0;
}

int ig_policy_put(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_policy *pol)
{
	__u32 idx = IG_PORT_INDEX(proto, port);
	struct ig_policy p = *pol;

	/* Times are taken wherever requests are followed (issue 15): on every
	 * `request` port and every token-budget port, TCP. */
	p.flags &= ~(__u32)IG_POL_F_TIMED;
	if (p.slot && proto == IG_PROTO_TCP &&
	    (p.unit == IG_UNIT_REQUEST || (p.flags & IG_POL_F_TOKENS)))
		p.flags |= IG_POL_F_TIMED;
	/* One update: the data path sees either the old policy or the new one. */
	if (bpf_map_update_elem(in->fd[IG_MAP_PORT_POLICY], &idx, &p, BPF_ANY)) {
		int err = -errno;

		ig_err("cannot write the policy of %u/%s: %s", port, ig_proto_name(proto),
		       strerror(-err));
		return err;
	}
	return 0;
}

int ig_policy_free_slot(const struct ig_instance *in, __u32 *slot)
{
	unsigned char used[IG_MAX_SLOTS] = { 1 }; /* slot 0 is never handed out */
	struct ig_policy *all = NULL;
	int err = ig_policy_read_all(in, &all);

	if (err)
		return err;
	for (__u32 i = 0; i < IG_POLICY_ENTRIES; i++)
		if (all[i].slot && all[i].slot < IG_MAX_SLOTS)
			used[all[i].slot] = 1;
	free(all);
	for (__u32 s = 1; s < IG_MAX_SLOTS; s++)
		if (!used[s]) {
			*slot = s;
			return 0;
		}
	return -ENOSPC;
}

int ig_policy_clear(const struct ig_instance *in, enum ig_proto proto, __u16 port)
{
	struct ig_policy cur, none = {};
	int err;

	err = ig_policy_get(in, proto, port, &cur);
	if (err)
		return err;
	if (!cur.slot)
		return 0;
	err = ig_policy_put(in, proto, port, &none);
	if (err)
		return err;
	/* The levels go with the policy, so that the pinned maps show no stale
	 * port_limits; a packet still in flight may touch port_state once more,
	 * which is why a slot is cleared again when it is handed out. */
	err = ig_levels_clear_slot(in, cur.slot);
	if (!err && cur.slot < IG_MAX_SLOTS) {
		struct ig_key_policy no_keys = {};

		err = ig_key_policy_put(in, cur.slot, &no_keys); /* nothing on an older instance */
	}
	return err ? err : 1;
}

int ig_globals_set(const struct ig_instance *in, const struct ig_globals *g)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(in->fd[IG_MAP_GLOBALS], &zero, g, BPF_ANY)) {
		int err = -errno;

		ig_err("cannot write map globals: %s", strerror(-err));
		return err;
	}
	return 0;
}

int ig_globals_get(const struct ig_instance *in, struct ig_globals *g)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(in->fd[IG_MAP_GLOBALS], &zero, g)) {
		int err = -errno;

		ig_err("cannot read map globals: %s", strerror(-err));
		return err;
	}
	return 0;
}

int ig_instance_clock(const struct ig_instance *in, __u32 *clock, __u64 *tick_ns)
{
	__u32 key = IG_SEED_KEY_CLOCK;
	struct ig_seed s;

	if (bpf_map_lookup_elem(in->fd[IG_MAP_SEED], &key, &s)) {
		int err = -errno;

		ig_err("%s: cannot read the clock record in map seed: %s", in->pin_dir,
		       strerror(-err));
		return err;
	}
	if (ig_clock_unrecord(s.value, clock, tick_ns)) {
		/* guessing could be months off: refuse rather than lock someone out */
		ig_err("%s: no clock recorded (pinned by an older version): attach again to "
		       "record it", in->pin_dir);
		return -ENODATA;
	}
	return 0;
}

int ig_datapath_now(const struct ig_instance *in, __u64 *now)
{
	__u32 clock;
	__u64 tick_ns;
	int err;

	err = ig_instance_clock(in, &clock, &tick_ns);
	if (err)
		return err;
	if (clock == IG_CLOCK_TEST) {
		ig_err("%s: the data path runs on a test clock", in->pin_dir);
		return -EOPNOTSUPP;
	}
	if (clock == IG_CLOCK_TICK) {
		/* bpf_jiffies64(): the kernel's jiffies, which /proc/timer_list shows */
		char line[128];
		unsigned long long j = 0;
		FILE *f = fopen("/proc/timer_list", "r");

		if (!f) {
			int err = -errno;

			ig_err("cannot read /proc/timer_list (for jiffies): %s", strerror(-err));
			return err;
		}
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "jiffies: %llu", &j) == 1)
				break;
		fclose(f);
		if (!j) {
			ig_err("no jiffies in /proc/timer_list");
			return -ENOENT;
		}
		*now = (__u64)j * tick_ns;
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		*now = (__u64)ts.tv_sec * IG_NSEC_PER_SEC + (__u64)ts.tv_nsec;
	}
	return 0;
}

struct rescale_ctx {
	enum ig_proto proto;
	__u16 port;
	struct ig_limit_of from, to;
	__u64 now;
	int rescaled;
};

/*
 * One way's tat under the new policy, by compare-and-swap on the mapped
 * table: a charge the data path makes in between makes the swap fail and is
 * read again, so none is lost, and nothing else of the set is written (a way
 * another CPU claims meanwhile keeps its owner and its tat).
 */
static int rescale_way(struct ig_source *src, const struct rescale_ctx *c)
{
	__u64 *tatp = &src->tat;

	for (int tries = 0; tries < 16; tries++) {
		struct ig_source id;
		__u64 old, tat;

		__builtin_memcpy(&id, src, sizeof(id)); /* the identity half, as loaded */
		old = __atomic_load_n(tatp, __ATOMIC_ACQUIRE);
		if (!id.used || id.port != c->port || id.proto != c->proto)
			return 0;
		/* a change of unit or algorithm too keeps the share used */
		tat = ig_limit_rescale(old, c->now, &c->from, &c->to);
		if (tat == old)
			return 0;
		if (__atomic_compare_exchange_n(tatp, &old, tat, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return 1;
	}
	return 0; /* charged on every try: left as the data path has it */
}

static int rescale_set(__u32 index, struct ig_source_set *set, void *ctx)
{
	struct rescale_ctx *c = ctx;

	(void)index;
	for (int w = 0; w < IG_WAYS; w++)
		c->rescaled += rescale_way(&set->way[w], c);
	return 0; /* written in place: nothing for the walk to write back */
}

/* The source table mapped into our memory (the map is BPF_F_MMAPABLE). */
static int rescale_mapped(const struct ig_instance *in, struct rescale_ctx *c)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = ((size_t)in->sets * sizeof(struct ig_source_set) + page - 1) & ~(page - 1);
	struct ig_source_set *sets;

	sets = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, in->fd[IG_MAP_SOURCES], 0);
	if (sets == MAP_FAILED) {
		int err = -errno;

		ig_err("%s: cannot map the source table: %s", in->pin_dir, strerror(-err));
		return err;
	}
	for (__u32 i = 0; i < in->sets; i++)
		rescale_set(i, &sets[i], c);
	munmap(sets, len);
	return 0;
}

int ig_sources_rescale(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		       const struct ig_policy *from, const struct ig_policy *to)
{
	struct rescale_ctx c = {
		.proto = proto,
		.port = port,
		.from = { from->rate, from->burst, IG_POL_ALGO(from->flags) },
		.to = { to->rate, to->burst, IG_POL_ALGO(to->flags) },
	};
	int err;

	if (from->rate == to->rate && from->burst == to->burst && from->unit == to->unit &&
	    c.from.algo == c.to.algo)
		return 0;
	err = ig_datapath_now(in, &c.now);
	if (!err)
		err = rescale_mapped(in, &c);
	return err ? err : c.rescaled;
}

/*
 * The port's own words under another algorithm (a bucket's TAT is no window's
 * counts): the port-wide word and the port's prefix ways, each keeping the
 * share it had used. Read, converted and written back a set at a time (the
 * prefix table is not mapped): a charge the data path makes to the same set
 * in that instant is lost, once, at an operator's change of algorithm.
 */
int ig_levels_rescale(const struct ig_instance *in, __u32 slot, enum ig_proto proto, __u16 port,
		      const struct ig_limit_of *from_port, const struct ig_limit_of *to_port,
		      const struct ig_limit_of *from_prefix, const struct ig_limit_of *to_prefix)
{
	int fd = in->fd[IG_MAP_PREFIXES], err;
	struct ig_port_state ps;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	__u64 now;

	err = ig_datapath_now(in, &now);
	if (err)
		return err;
	if (!bpf_map_lookup_elem(in->fd[IG_MAP_PORT_STATE], &slot, &ps)) {
		ps.port_tat = ig_limit_rescale(ps.port_tat, now, from_port, to_port);
		if (bpf_map_update_elem(in->fd[IG_MAP_PORT_STATE], &slot, &ps, BPF_ANY))
			ig_warn("slot %u: port state not converted: %s", slot, strerror(errno));
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0; /* an instance without the prefix table has no prefix ways */
	for (__u32 i = 0; i < info.max_entries; i++) {
		struct rescale_ctx c = { .proto = proto, .port = port, .from = *from_prefix,
					 .to = *to_prefix, .now = now };
		struct ig_source_set set;

		if (bpf_map_lookup_elem(fd, &i, &set))
			continue;
		rescale_set(i, &set, &c); /* on our copy: its swaps cannot fail */
		if (c.rescaled && bpf_map_update_elem(fd, &i, &set, BPF_ANY))
			ig_warn("prefix set %u: not converted: %s", i, strerror(errno));
	}
	return 0;
}
