// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The lib's map layer on the loaded data path (no pin dir, no root-only shell
 * suite): a port's whole limit (lib/port.c) with slot reuse and rollback, the
 * tiers applied as a diff, and the flags that follow levels and tiers.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "dp.h"
#include "harness.h"
#include "lib/levels.h"
#include "lib/policy.h"
#include "lib/port.h"
#include "lib/tiers.h"

#define OTHER_PORT 9000

static struct ig_policy pol_get(const struct ig_instance *in, __u16 port)
{
	struct ig_policy p;

	ASSERT_OK(ig_policy_get(in, IG_PROTO_TCP, port, &p), "read a policy");
	return p;
}

static struct ig_limits levels_of(const struct ig_instance *in, __u16 port)
{
	struct ig_limits l;

	ASSERT_OK(ig_levels_get(in, pol_get(in, port).slot, &l), "read the levels");
	return l;
}

static struct ig_port_limit conn_limit(__u64 rate, __u64 burst)
{
	struct ig_port_limit l = { .policy = { .rate = rate, .burst = burst, .unit = IG_UNIT_CONN,
					       .action = IG_ACTION_DROP } };
	return l;
}

IG_TEST(port_slot_reuse_starts_clean)
{
	struct infergate *skel = dp_load();
	struct ig_port_limit l = conn_limit(1, 1);
	struct ig_frame f = syn(0);
	struct ig_limits lim, none = {};
	struct ig_level_stats ls;
	struct ig_port_state ps;
	struct ig_instance in;
	struct ig_stats st;
	__u32 slot;

	dp_instance(skel, &in);
	l.levels.port_rate = 1;
	l.levels.port_burst = 1;
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &l), 0, "limit 8000");
	slot = pol_get(&in, PORT).slot;
	ASSERT_EQ(slot, 1, "the first free slot");
	ASSERT_EQ(pol_get(&in, PORT).flags, IG_POL_F_HIER, "levels on: the hierarchy");
	for (int i = 0; i < 3; i++)
		dp_run(skel, XDP, f.buf, f.len, NULL);
	ASSERT_EQ(dp_count(skel, slot, IG_R_PASS_ADMITTED), 1, "one admitted");
	ASSERT_EQ(dp_count(skel, slot, IG_R_DROP_LIMIT), 2, "two dropped");

	ASSERT_EQ(ig_policy_clear(&in, IG_PROTO_TCP, PORT), 1, "unlimit 8000");
	ASSERT_EQ(pol_get(&in, PORT).slot, 0, "8000 has no slot");

	l = conn_limit(100, 100);
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, OTHER_PORT, &l), 0, "limit 9000");
	ASSERT_EQ(pol_get(&in, OTHER_PORT).slot, slot, "9000 reuses the slot");
	ASSERT_EQ(pol_get(&in, OTHER_PORT).flags, 0, "no levels, no tiers: no level flags");
	lim = levels_of(&in, OTHER_PORT);
	ASSERT_MEMEQ(&lim, &none, sizeof(lim), "no levels inherited");
	ASSERT_OK(ig_stats_read(&in, slot, &st), "counters");
	ASSERT_EQ(st.packets[IG_R_PASS_ADMITTED] + st.packets[IG_R_DROP_LIMIT], 0,
		  "no counters inherited");
	ASSERT_OK(ig_level_stats_read(&in, slot, &ls), "level counters");
	for (int i = 0; i < IG_L_MAX; i++)
		ASSERT_EQ(ls.refused[i], 0, "no refusals inherited");
	ASSERT_OK(bpf_map_lookup_elem(in.fd[IG_MAP_PORT_STATE], &slot, &ps), "port state");
	ASSERT_EQ(ps.port_tat, 0, "no port-wide bucket inherited");
	ig_instance_close(&in);
}

IG_TEST(port_apply_in_place_keeps_the_slot_and_sets_the_flags)
{
	struct infergate *skel = dp_load();
	struct ig_port_limit l = conn_limit(10, 10);
	struct ig_instance in;
	__u32 slot;

	dp_instance(skel, &in);
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &l), 0, "limit");
	slot = pol_get(&in, PORT).slot;
	l.levels.max_conns = 4;
	l.levels.tokens_per_min = 1000;
	l.policy.flags = IG_POL_F_DRY_RUN;
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &l), 0, "levels on");
	ASSERT_EQ(pol_get(&in, PORT).slot, slot, "same slot");
	ASSERT_EQ(pol_get(&in, PORT).flags,
		  IG_POL_F_DRY_RUN | IG_POL_F_HIER | IG_POL_F_CONNS | IG_POL_F_TOKENS |
			  IG_POL_F_TIMED, "flags (a token port is timed)");
	ASSERT_EQ(levels_of(&in, PORT).max_conns, 4, "levels written");
	l = conn_limit(20, 20);
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &l), 0, "levels off");
	ASSERT_EQ(pol_get(&in, PORT).flags, 0, "flags off with their levels");
	ASSERT_EQ(pol_get(&in, PORT).rate, 20, "the new rate");
	ASSERT_EQ(levels_of(&in, PORT).max_conns, 0, "levels cleared");
	/* the CLI's older calls: policy_set keeps the levels, levels_set the policy */
	l.levels.max_conns = 2;
	ASSERT_OK(ig_levels_set(&in, IG_PROTO_TCP, PORT, &l.levels), "levels_set");
	ASSERT_EQ(pol_get(&in, PORT).rate, 20, "levels_set keeps the rate");
	ASSERT_OK(ig_policy_set(&in, IG_PROTO_TCP, PORT, &(struct ig_policy){ .rate = 30, .burst = 30 }),
		  "policy_set");
	ASSERT_EQ(levels_of(&in, PORT).max_conns, 2, "policy_set keeps the levels");
	ASSERT_EQ(pol_get(&in, PORT).flags, IG_POL_F_HIER | IG_POL_F_CONNS, "and their flags");
	ASSERT_EQ(ig_levels_set(&in, IG_PROTO_TCP, OTHER_PORT, &l.levels), -ENOENT,
		  "levels of a port not limited");
	ig_instance_close(&in);
}

/* The same maps, with port_limits writable no more: every write of levels fails. */
static void read_only_levels(const struct ig_instance *in, struct ig_instance *ro)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, opts, .open_flags = BPF_F_RDONLY);

	*ro = *in;
	ASSERT_OK(bpf_obj_get_info_by_fd(in->fd[IG_MAP_PORT_LIMITS], &info, &len), "map info");
	ro->fd[IG_MAP_PORT_LIMITS] = bpf_map_get_fd_by_id_opts(info.id, &opts);
	ASSERT_TRUE(ro->fd[IG_MAP_PORT_LIMITS] >= 0, "a read-only fd");
}

IG_TEST(port_apply_failure_leaves_the_old_limit)
{
	struct infergate *skel = dp_load();
	struct ig_port_limit a = conn_limit(10, 10), b = conn_limit(20, 20);
	struct ig_policy before, after;
	struct ig_instance in, ro;

	dp_instance(skel, &in);
	a.levels.port_rate = 100;
	a.levels.port_burst = 100;
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &a), 0, "limit");
	before = pol_get(&in, PORT);
	read_only_levels(&in, &ro);
	b.levels.max_conns = 5;
	ASSERT_LT(ig_port_apply(&ro, IG_PROTO_TCP, PORT, &b), 0, "the levels cannot be written");
	after = pol_get(&in, PORT);
	ASSERT_MEMEQ(&before, &after, sizeof(before), "the policy is back as it was");
	ASSERT_EQ(levels_of(&in, PORT).port_rate, 100, "the levels as they were");
	ASSERT_EQ(levels_of(&in, PORT).max_conns, 0, "no level half-applied");
	ASSERT_LT(ig_port_apply(&ro, IG_PROTO_TCP, OTHER_PORT, &b), 0, "a new port fails too");
	ASSERT_EQ(pol_get(&in, OTHER_PORT).slot, 0, "and is not limited");
	close(ro.fd[IG_MAP_PORT_LIMITS]);
	ig_instance_close(&in);
}

static int tier_of(const struct ig_instance *in, const char *cidr, struct ig_tier *t)
{
	struct ig_lpm_key k;

	ASSERT_OK(ig_cidr_parse(cidr, &k), cidr);
	return bpf_map_lookup_elem(in->fd[IG_MAP_TIERS], &k, t);
}

static struct ig_tier_want want(const char *cidr, const char *what)
{
	struct ig_tier_want w = {};

	ASSERT_OK(ig_cidr_parse(cidr, &w.key), cidr);
	snprintf(w.what, sizeof(w.what), "%s", what);
	return w;
}

IG_TEST(tiers_apply_is_a_diff_and_flags_follow)
{
	struct infergate *skel = dp_load();
	struct ig_port_limit l = conn_limit(10, 10);
	struct ig_tier_want a[] = { want("10.0.0.0/8", "allow"), want("192.168.0.0/16", "gold") };
	struct ig_tier_want b[] = { want("10.0.0.0/8", "deny"), want("172.16.0.0/12", "silver") };
	struct ig_tier_rate_want ra[] = { { "gold", PORT, IG_PROTO_TCP, { 50, 50 } } };
	struct ig_tier_rate_want rb[] = { { "silver", PORT, IG_PROTO_TCP, { 5, 5 } } };
	struct ig_tier_key tk = { .port = PORT, .proto = IG_PROTO_TCP };
	struct ig_tier_name nm;
	struct ig_instance in;
	struct ig_rate r;
	struct ig_tier t;
	int silver;

	dp_instance(skel, &in);
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &l), 0, "limit");
	ASSERT_EQ(pol_get(&in, PORT).flags, 0, "no tiers: no hierarchy");
	ASSERT_OK(ig_tiers_apply(&in, a, 2, ra, 1), "tiers A");
	ASSERT_EQ(ig_tiers_count(&in), 2, "two prefixes");
	ASSERT_EQ(pol_get(&in, PORT).flags, IG_POL_F_HIER, "tiers: the hierarchy");
	ASSERT_OK(ig_tiers_apply(&in, b, 2, rb, 1), "tiers B");
	ASSERT_EQ(ig_tiers_count(&in), 2, "two prefixes");
	ASSERT_OK(tier_of(&in, "10.0.0.0/8", &t), "kept prefix");
	ASSERT_EQ(t.kind, IG_TIER_DENY, "changed in place");
	ASSERT_NEQ(tier_of(&in, "192.168.0.0/16", &t), 0, "prefix not wanted is gone");
	ASSERT_OK(tier_of(&in, "172.16.0.0/12", &t), "new prefix");
	silver = ig_tier_id(&in, "silver", 0);
	ASSERT_GT(silver, 0, "silver named");
	ASSERT_EQ(t.kind, IG_TIER_LIMIT, "a named tier");
	ASSERT_EQ(t.id, silver, "silver's id");
	ASSERT_EQ(ig_tier_id(&in, "gold", 0), -ENOENT, "gold's name freed");
	tk.tier = (__u32)silver;
	ASSERT_OK(bpf_map_lookup_elem(in.fd[IG_MAP_TIER_POLICY], &tk, &r), "silver's rate");
	ASSERT_EQ(r.rate, 5, "silver's rate");
	memset(&tk, 0, sizeof(tk));
	ASSERT_EQ(bpf_map_get_next_key(in.fd[IG_MAP_TIER_POLICY], NULL, &tk), 0, "one rate");
	ASSERT_EQ(bpf_map_get_next_key(in.fd[IG_MAP_TIER_POLICY], &tk, &tk), -ENOENT, "only one rate");
	ASSERT_OK(ig_tiers_apply(&in, NULL, 0, NULL, 0), "no tiers");
	ASSERT_EQ(ig_tiers_count(&in), 0, "trie empty");
	ASSERT_EQ(pol_get(&in, PORT).flags, 0, "no tiers: hierarchy off again");
	ASSERT_NEQ(bpf_map_lookup_elem(in.fd[IG_MAP_TIER_NAMES], &silver, &nm) == 0 &&
			   nm.name[0], 1, "silver's name freed");
	ig_instance_close(&in);
}

IG_TEST(flags_refresh_follows_levels_written_behind_its_back)
{
	struct infergate *skel = dp_load();
	struct ig_port_limit l = conn_limit(10, 10);
	struct ig_limits lim = { .max_conns = 3 };
	struct ig_policy p;
	struct ig_instance in;

	dp_instance(skel, &in);
	l.policy.flags = IG_POL_F_FLEET;
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, PORT, &l), 0, "a fleet port");
	ASSERT_EQ(pol_get(&in, PORT).flags, IG_POL_F_FLEET | IG_POL_F_HIER, "fleet needs HIER");
	l.policy.flags = 0;
	ASSERT_EQ(ig_port_apply(&in, IG_PROTO_TCP, OTHER_PORT, &l), 0, "a plain port");
	/* a bpftool user writes levels and stale flags by hand */
	ASSERT_OK(ig_levels_put(&in, pol_get(&in, OTHER_PORT).slot, &lim), "levels by hand");
	p = pol_get(&in, PORT);
	p.flags |= IG_POL_F_TOKENS;
	ASSERT_OK(ig_policy_put(&in, IG_PROTO_TCP, PORT, &p), "a stale flag by hand");
	ASSERT_OK(ig_flags_refresh(&in), "refresh");
	ASSERT_EQ(pol_get(&in, OTHER_PORT).flags, IG_POL_F_HIER | IG_POL_F_CONNS, "flags on");
	ASSERT_EQ(pol_get(&in, PORT).flags, IG_POL_F_FLEET | IG_POL_F_HIER, "stale flag off");
	ig_instance_close(&in);
}
