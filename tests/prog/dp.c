// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* See dp.h. */
#include <stdlib.h>
#include <string.h>
#include "dp.h"
#include "lib/loader.h"
#include "harness.h"

const char *const hook_name[NHOOKS] = { "xdp", "tc" };
const __u32 rc_pass[NHOOKS] = { XDP_PASS_RC, TC_UNSPEC_RC };
const __u32 rc_drop[NHOOKS] = { XDP_DROP_RC, TC_SHOT_RC };
const __u32 rc_tx[NHOOKS] = { XDP_TX_RC, TC_REDIRECT_RC };

/* Zero every entry of an array map with one batch update (the per-CPU value
 * size is rounded up to 8 bytes per CPU, as the kernel lays it out). */
static void dp_zero_array(struct bpf_map *map, int percpu)
{
	__u32 n = bpf_map__max_entries(map), vsz = bpf_map__value_size(map);
	size_t each = percpu ? ((vsz + 7) & ~7U) * (size_t)libbpf_num_possible_cpus() : vsz;
	__u32 *keys = calloc(n, sizeof(*keys));
	void *vals = calloc(n, each);
	__u32 count = n;

	ASSERT_TRUE(keys && vals, "memory");
	for (__u32 i = 0; i < n; i++)
		keys[i] = i;
	ASSERT_OK(bpf_map_update_batch(bpf_map__fd(map), keys, vals, &count, NULL),
		  bpf_map__name(map));
	free(keys);
	free(vals);
}

/* Delete every entry of a hash map. */
static void dp_clear_hash(struct bpf_map *map)
{
	__u8 key[64], next[64];
	int fd = bpf_map__fd(map);

	ASSERT_LE(bpf_map__key_size(map), sizeof(key), "key size");
	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, sizeof(key));
		ASSERT_OK(bpf_map_delete_elem(fd, key), bpf_map__name(map));
	}
}

struct dp_events_ctx {
	struct ig_event *out;
	int max, n;
};

static int dp_on_event(void *ctx, void *data, size_t len)
{
	struct dp_events_ctx *c = ctx;

	if (len == sizeof(struct ig_event) && c->n < c->max)
		memcpy(&c->out[c->n], data, len);
	c->n++;
	return 0;
}

int dp_events(struct infergate *skel, struct ig_event *out, int max)
{
	struct dp_events_ctx c = { .out = out, .max = max };
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.events), dp_on_event, &c, NULL);

	ASSERT_TRUE(rb != NULL, "ring buffer");
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return c.n;
}

static struct infergate *dp_skel;
/* Policies written since the last reset (a handful per test). */
static __u32 dp_policy_idx[64];
static int dp_npolicies;
/* an ig_instance was handed out: policies may be anywhere */
static int dp_any_policy;

/*
 * The data path, as if freshly loaded: time at 1000 s, no policies, no source
 * state, counters and the reject budget's bucket at zero, a generous budget.
 * Loaded once: verifying both programs takes ~2 s, and the suite has dozens
 * of cases per hook.
 */
struct infergate *dp_load(void)
{
	struct ig_globals g = { .reject_rate = 1000, .reject_burst = 1000 };
	struct ig_policy none = {};
	struct ig_bucket idle = {};
	__u32 zero = 0;

	if (!dp_skel) {
		struct infergate *skel = infergate__open();

		ASSERT_TRUE(skel != NULL, "open the skeleton");
		skel->rodata->ig_cfg.clock = IG_CLOCK_TEST;
		skel->rodata->ig_cfg.hash_seed = 0x5eed;
		/* as `attach --max-flows` may: small enough to fill in a test */
		ASSERT_OK(bpf_map__set_max_entries(skel->maps.flows, 16384), "size flows");
		ASSERT_OK(infergate__load(skel), "load the data path");
		dp_skel = skel;
	}
	{
		/* The user-space code under test (rescale, token charges, fleet
		 * blocks) reads the recorded clock: give it a real one, as an
		 * attach would record; the programs themselves run on the test
		 * clock. */
		struct ig_seed rec;
		__u32 key = IG_SEED_KEY_CLOCK, clock;
		__u64 tick_ns;

		ig_pick_clock(&clock, &tick_ns);
		rec.value = ig_clock_record(clock, tick_ns);
		ASSERT_OK(bpf_map__update_elem(dp_skel->maps.seed, &key, 4, &rec, sizeof(rec),
					       BPF_ANY), "clock record");
	}
	for (int i = 0; i < dp_npolicies; i++)
		ASSERT_OK(bpf_map__update_elem(dp_skel->maps.port_policy, &dp_policy_idx[i], 4,
					       &none, sizeof(none), BPF_ANY), "clear a policy");
	dp_npolicies = 0;
	if (dp_any_policy)
		dp_zero_array(dp_skel->maps.port_policy, 0);
	dp_any_policy = 0;
	dp_zero_array(dp_skel->maps.sources, 0);
	dp_zero_array(dp_skel->maps.port_stats, 1);
	dp_zero_array(dp_skel->maps.breakers, 0);
	dp_zero_array(dp_skel->maps.fallback_ports, 0);
	dp_clear_hash(dp_skel->maps.flows);
	dp_clear_hash(dp_skel->maps.pending);
	dp_clear_hash(dp_skel->maps.health);
	dp_zero_array(dp_skel->maps.event_gate, 1);
	dp_zero_array(dp_skel->maps.port_limits, 0);
	dp_zero_array(dp_skel->maps.port_state, 0);
	dp_zero_array(dp_skel->maps.level_stats, 1);
	dp_zero_array(dp_skel->maps.prefixes, 0);
	dp_zero_array(dp_skel->maps.tier_names, 0);
	dp_clear_hash(dp_skel->maps.tiers);
	dp_clear_hash(dp_skel->maps.tier_policy);
	dp_clear_hash(dp_skel->maps.tokens);
	dp_clear_hash(dp_skel->maps.conns);
	dp_clear_hash(dp_skel->maps.conn_counts);
	dp_clear_hash(dp_skel->maps.fleet_counts);
	dp_clear_hash(dp_skel->maps.fleet_block);
	dp_clear_hash(dp_skel->maps.keys);
	dp_zero_array(dp_skel->maps.key_policy, 0);
	dp_clear_hash(dp_skel->maps.proxy_from);
	dp_clear_hash(dp_skel->maps.proxy_conns);
	dp_events(dp_skel, NULL, 0); /* drain */
	ASSERT_OK(bpf_map__update_elem(dp_skel->maps.reject_state, &zero, 4, &idle, sizeof(idle),
				       BPF_ANY), "reject budget bucket");
	ASSERT_OK(bpf_map__update_elem(dp_skel->maps.globals, &zero, 4, &g, sizeof(g), BPF_ANY),
		  "reject budget");
	dp_skel->bss->ig_test_now_ns = 1000 * SEC_NS;
	return dp_skel;
}

void dp_limit(struct infergate *skel, enum ig_proto proto, __u16 port, __u64 rate,
		     __u64 burst, enum ig_unit unit, enum ig_action action)
{
	struct ig_policy p = { .rate = rate, .burst = burst, .slot = 1 + proto, .unit = unit,
			       .action = action };
	__u32 idx = IG_PORT_INDEX(proto, port);

	ASSERT_LT(dp_npolicies, 64, "policies per test");
	dp_policy_idx[dp_npolicies++] = idx;
	ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &p, sizeof(p), BPF_ANY),
		  "write a policy");
}

void dp_lib_writes(void)
{
	dp_any_policy = 1;
}

void dp_instance(struct infergate *skel, struct ig_instance *in)
{
	dp_lib_writes();
	ASSERT_OK(ig_instance_from_object(in, skel->obj), "an instance of the skeleton");
}

/* One slot's counters, summed over CPUs. */
struct ig_stats dp_stats(struct infergate *skel, __u32 slot)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ig_stats *st = calloc((size_t)ncpu, sizeof(*st)), sum = {};

	ASSERT_TRUE(st != NULL, "memory");
	ASSERT_OK(bpf_map__lookup_elem(skel->maps.port_stats, &slot, 4, st,
				       sizeof(*st) * (size_t)ncpu, 0), "read counters");
	for (int c = 0; c < ncpu; c++)
		for (int r = 0; r < IG_R_MAX; r++) {
			sum.packets[r] += st[c].packets[r];
			sum.bytes[r] += st[c].bytes[r];
		}
	free(st);
	return sum;
}

/* Packets counted under `reason` in `slot`. */
__u64 dp_count(struct infergate *skel, __u32 slot, enum ig_reason reason)
{
	return dp_stats(skel, slot).packets[reason];
}

/* Run one frame through a hook; the frame as the program left it in *out. */
static __u32 dp_run_prog(struct bpf_program *prog, const void *frame, size_t len,
			 struct ig_frame *out)
{
	static __u8 scratch[IG_FRAME_MAX + 512];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = scratch, .data_size_out = sizeof(scratch), .repeat = 1);

	ASSERT_OK(bpf_prog_test_run_opts(bpf_program__fd(prog), &opts), "test run");
	if (out) {
		ASSERT_LE(opts.data_size_out, sizeof(out->buf), "output frame size");
		memcpy(out->buf, scratch, opts.data_size_out);
		out->len = opts.data_size_out;
	}
	return opts.retval;
}

__u32 dp_run(struct infergate *skel, enum hook h, const void *frame, size_t len,
	     struct ig_frame *out)
{
	return dp_run_prog(h == XDP ? skel->progs.ig_xdp : skel->progs.ig_tc, frame, len, out);
}

__u32 dp_run_tc_gro(struct infergate *skel, const void *frame, size_t len, __u32 segs)
{
	struct __sk_buff ctx = { .gso_segs = segs, .gso_size = 1448 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	ASSERT_OK(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.ig_tc), &opts), "test run");
	return opts.retval;
}

__u32 dp_run_egress(struct infergate *skel, const void *frame, size_t len, struct ig_frame *out)
{
	return dp_run_prog(skel->progs.ig_tc_egress, frame, len, out);
}

struct ig_frame syn(int ipv6)
{
	struct ig_frame_spec s;

	ig_frame_defaults(&s, ipv6, IG_F_TCP);
	return IG_FRAME(&s);
}

