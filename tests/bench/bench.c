// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of the data path, measured with BPF_PROG_TEST_RUN.
 *
 *   bench OUTDIR      (writes OUTDIR/results.md and OUTDIR/results.csv)
 *
 * Every case is loaded up front and the cases run interleaved, round after
 * round, on one pinned CPU: a VM's speed drifts by ±10 % over a minute, and
 * interleaving spreads that drift over all cases alike. A case's figure is the
 * median over rounds of thread CPU time / repeat; costs are reported above a
 * baseline program that does the same pre-work and drops.
 *
 * Each timed run is checked afterwards against the port counters: a case only
 * counts if (nearly) every packet took the path the case is named after.
 *
 * A packet that changes what the next one meets (a 429) cannot be repeated on
 * one frame: such cases run one packet per test run and take the kernel's own
 * timing of it, against a baseline timed alike (bench_run.c: run_single()).
 *
 * Knobs (environment): IG_BENCH_ROUNDS (31), IG_BENCH_REPEAT (200000 packets
 * per timed run), IG_BENCH_CPU (the last online CPU), IG_BENCH_ONLY (a
 * substring of the case names to time: the others are left out of the rounds,
 * their rows then meaningless; for comparing builds on a few rows quickly).
 * OUTDIR/rounds.csv has each timed case's time in every round.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/names.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ig_abi.h"
#include "benchlib.h"
#include "bench.h"
#include "bench.skel.h"
#include "infergate.skel.h"

#define PORT_CONN 8000   /* protected: conn, rate 1, burst 1, drop */
#define PORT_OPEN 9000   /* not protected */
#define PORT_REJECT 8001 /* protected: packet, rate 1, burst 1, reject */
/* Two breakers forced open, each the other's fallback: a steered ACK has its
 * destination rewritten from one to the other, and since test runs reuse one
 * frame, every repeat is again an ACK of a steered connection. */
#define TC_UNSPEC_RC 0xffffffffu
#define PORT_STEER_A 9100
#define PORT_STEER_B 9101
#define SLOT_CONN 1
#define SLOT_REJECT 2
/* Fair share: one bucket that admits everything, the same through the whole
 * hierarchy, and a drop at the source level through the hierarchy. */
#define PORT_ADMIT 8002
#define PORT_HIER 8003
#define PORT_HDROP 8004
#define SLOT_ADMIT 3
#define SLOT_HIER 4
#define SLOT_HDROP 5
/* issue 20: the same buckets at periods above a second (the 128-bit
 * comparison, the remainders in three steps) */
#define PORT_ADMIT_MIN 8011 /* conn, 6e10/min (1e9/s as written per minute) */
#define PORT_DROP_DAY 8012  /* conn, 1/d, burst 1, drop */
#define SLOT_ADMIT_MIN 12
#define SLOT_DROP_DAY 13
#define BENCH_TIERS 1000 /* prefixes in the tier trie, none of them the source's */

#define DEFAULT_ENTRIES 262144 /* source-table ways (sets * IG_WAYS) */

/* Targets from the issue. */
#define TARGET_DROP_1_NS 60.0
#define TARGET_ACK_NS 10.0
#define TARGET_DROP_1M_NS 200.0
#define TARGET_BYTES_PER_SRC 100.0

static void set_policy_full(int fd, __u16 port, __u32 slot, enum ig_unit unit,
			    enum ig_action action, __u64 rate, __u32 flags)
{
	struct ig_policy pol = {
		.rate = rate, .burst = rate, .slot = slot, .unit = unit, .action = action,
		.flags = flags,
	};
	__u32 key = IG_PORT_INDEX(IG_PROTO_TCP, port);

	if (bpf_map_update_elem(fd, &key, &pol, BPF_ANY))
		die("port_policy update: %s", strerror(errno));
}

static void set_policy_rb(int fd, __u16 port, __u32 slot, __u64 rate, __u64 burst)
{
	struct ig_policy pol = { .rate = rate, .burst = burst, .slot = slot, .unit = IG_UNIT_CONN,
				 .action = IG_ACTION_DROP };
	__u32 key = IG_PORT_INDEX(IG_PROTO_TCP, port);

	if (bpf_map_update_elem(fd, &key, &pol, BPF_ANY))
		die("port_policy update: %s", strerror(errno));
}

static void set_policy(int fd, __u16 port, __u32 slot, enum ig_unit unit, enum ig_action action)
{
	set_policy_full(fd, port, slot, unit, action, 1, 0);
}

/*
 * Every level on: tiers (a trie of BENCH_TIERS prefixes the source is not
 * in), prefix, port, newcomer budget (the source is known after the warm-up,
 * so it is never charged), a token budget (looked up) and max-conns (the
 * repeated SYN is a retransmission after the first: a lookup). Generous
 * rates: only the source bucket of PORT_HDROP refuses.
 */
static void setup_hierarchy(struct bench *s)
{
	struct ig_limits lim = { .prefix_rate = 1000000000, .prefix_burst = 1000000000,
				 .port_rate = 1000000000, .port_burst = 1000000000,
				 .newcomer_rate = 1, .newcomer_burst = 1,
				 .tokens_per_min = 1000000000, .max_conns = 1000000 };
	int pol = bpf_map__fd(s->maps.port_policy), lfd = bpf_map__fd(s->maps.port_limits);
	__u32 slots[] = { SLOT_HIER, SLOT_HDROP }, flags;
	__u32 i;

	set_policy_full(pol, PORT_ADMIT, SLOT_ADMIT, IG_UNIT_CONN, IG_ACTION_DROP, 1000000000, 0);
	set_policy_rb(pol, PORT_ADMIT_MIN, SLOT_ADMIT_MIN, ig_rate_make(60000000000ULL, 60, 1),
		      1000000000);
	set_policy_rb(pol, PORT_DROP_DAY, SLOT_DROP_DAY, ig_rate_make(1, 86400, 1), 1);
	flags = IG_POL_F_HIER | IG_POL_F_CONNS | IG_POL_F_TOKENS;
	set_policy_full(pol, PORT_HIER, SLOT_HIER, IG_UNIT_CONN, IG_ACTION_DROP, 1000000000, flags);
	set_policy_full(pol, PORT_HDROP, SLOT_HDROP, IG_UNIT_CONN, IG_ACTION_DROP, 1, flags);
	for (i = 0; i < 2; i++)
		if (bpf_map_update_elem(lfd, &slots[i], &lim, BPF_ANY))
			die("port_limits update: %s", strerror(errno));
	for (i = 0; i < BENCH_TIERS; i++) {
		struct ig_lpm_key k = { .prefixlen = 96 + 24,
					.addr = { [10] = 0xff, [11] = 0xff, 10, (__u8)(i >> 8),
						  (__u8)i, 0 } };
		struct ig_tier t = { .kind = IG_TIER_LIMIT, .id = 1 };

		if (bpf_map_update_elem(bpf_map__fd(s->maps.tiers), &k, &t, BPF_ANY))
			die("tiers update: %s", strerror(errno));
	}
}

/* ACKs on the max-conns port (PORT_HIER): from 40001, whose connection is
 * counted (in `conns`: the close stage stops there), and from 40002, neither
 * counted nor in its handshake (also `pending`, then the socket lookup that
 * tells a handshake whose record was pushed out). */
static __u8 ack_counted[FRAME_LEN], ack_uncounted[FRAME_LEN];

static void setup_counted(struct bench *s)
{
	conn_counted(bpf_map__fd(s->maps.conns), 40001, PORT_HIER);
	make_frame(ack_counted, 40001, PORT_HIER, IG_TCP_ACK);
	make_frame(ack_uncounted, 40002, PORT_HIER, IG_TCP_ACK);
}

static struct req_frames reqf;
static struct tok_frames tokf;

/* The `request` ports (bench_req.h) and their connections' entries; the 429
 * is checked to be one before anything is timed. */
static void setup_request(struct bench *s)
{
	int pol = bpf_map__fd(s->maps.port_policy);

	set_policy(pol, PORT_REQ, SLOT_REQ, IG_UNIT_REQUEST, IG_ACTION_DROP);
	set_policy(pol, PORT_REQ_OPAQUE, SLOT_REQ_OPAQUE, IG_UNIT_REQUEST, IG_ACTION_DROP);
	set_policy(pol, PORT_REQ_429, SLOT_REQ_429, IG_UNIT_REQUEST, IG_ACTION_REJECT);
	set_policy_full(pol, PORT_REQ_ADMIT, SLOT_REQ_ADMIT, IG_UNIT_REQUEST, IG_ACTION_DROP,
			1000000000, 0);
	set_policy_full(pol, PORT_REQ_SRC1K, SLOT_REQ_SRC1K, IG_UNIT_REQUEST, IG_ACTION_DROP, 1,
			IG_POL_F_HIER);
	set_policy_full(pol, PORT_REQ_KEY1K, SLOT_REQ_KEY1K, IG_UNIT_REQUEST, IG_ACTION_DROP, 1,
			IG_POL_F_HIER | (IG_KEY_API << IG_POL_KEY_SHIFT));
	req_frames_init(&reqf, bpf_map__fd(s->maps.http_conns));
	req_check(&reqf, bpf_program__fd(s->progs.bench_ig));
	tok_frames_init(&tokf, bpf_map__fd(s->maps.bench_resp_tmpl));
	tok_check(&tokf, bpf_program__fd(s->progs.bench_tok_read), bpf_map__fd(s->maps.tokens));
}

/* A budget that never runs out during the bench, so every over-limit packet
 * of the reject case gets a reply. */
static void set_reject_budget(int fd)
{
	struct ig_globals g = { .reject_rate = 1000000000ULL, .reject_burst = 1000000000ULL };
	__u32 zero = 0;

	if (bpf_map_update_elem(fd, &zero, &g, BPF_ANY))
		die("globals update: %s", strerror(errno));
}

/* One loaded copy of the bench object: its own maps, clock and source count. */
struct inst {
	const char *label;
	enum ig_clock clock;
	__u32 nsrc;
	__u32 entries;
	__u32 algo; /* enum ig_algo of PORT_CONN (issue 17's rows) */
	struct bench *skel;
	unsigned long long memlock;
};

static struct inst *load_inst(struct inst *in, __u64 tick_ns)
{
	struct bench *s = bench__open();
	int pol_fd, err;

	if (!s)
		die("open bench object (%s): %s", in->label, strerror(errno));
	s->rodata->ig_cfg.clock = in->clock;
	s->rodata->ig_cfg.tick_ns = tick_ns;
	s->rodata->bench_nsrc = in->nsrc;
	s->rodata->bench_base = SRC_BASE;
	/* entries counts ways: IG_WAYS per set, a power of two of sets */
	s->rodata->ig_cfg.set_mask = in->entries / IG_WAYS - 1;
	s->rodata->ig_cfg.hash_seed = 0x9e3779b97f4a7c15ULL; /* any fixed seed: runs compare */
	if (bpf_map__set_max_entries(s->maps.sources, in->entries / IG_WAYS))
		die("set sources max_entries");
	err = bench__load(s);
	if (err)
		die("load bench object (%s): %s", in->label, strerror(-err));
	/* A frozen test clock: sources exhausted once stay exhausted. */
	s->bss->ig_test_now_ns = 1000000000ULL;
	pol_fd = bpf_map__fd(s->maps.port_policy);
	set_policy_full(pol_fd, PORT_CONN, SLOT_CONN, IG_UNIT_CONN, IG_ACTION_DROP, 1,
			in->algo << IG_POL_ALGO_SHIFT);
	set_policy(pol_fd, PORT_REJECT, SLOT_REJECT, IG_UNIT_PACKET, IG_ACTION_REJECT);
	set_reject_budget(bpf_map__fd(s->maps.globals));
	in->memlock = map_memlock(bpf_map__fd(s->maps.sources));
	in->skel = s;
	return in;
}

static void set_breaker(int fd, __u16 port, __u16 fallback)
{
	struct ig_breaker b = { .state = IG_BRK_OPEN, .force = IG_FORCE_OPEN,
				.fallback = fallback, .flags = IG_BRK_F_ON };
	__u32 key = port;

	if (bpf_map_update_elem(fd, &key, &b, BPF_ANY))
		die("breakers update: %s", strerror(errno));
}

static __u8 syn_steer_a[FRAME_LEN], syn_steer_b[FRAME_LEN], ack_steer[FRAME_LEN];
/* Replies, server to client: from a port without breaker, and from B on the
 * connection steered there (rewritten to A, then back: see PORT_STEER_A). */
static __u8 reply_open[FRAME_LEN], reply_steer[FRAME_LEN];

static void make_reply(__u8 *f, __u16 sport, __u16 dport)
{
	__u8 tmp[4];

	make_frame(f, sport, dport, IG_TCP_ACK);
	/* swap the IPv4 addresses (offsets 26 and 30); the header checksum is
	 * not looked at */
	memcpy(tmp, f + 26, 4);
	memcpy(f + 26, f + 30, 4);
	memcpy(f + 30, tmp, 4);
}

/* Source port of what one run of `prog` on `frame` leaves behind. */
static __u16 run_sport(int prog, const __u8 *frame)
{
	__u8 out[FRAME_OUT];

	test_run_once(prog, frame, FRAME_LEN, NULL, out);
	return (__u16)(out[34] << 8 | out[35]);
}

/* One steered connection's handshake past its SYN: the fallback `from` answers
 * with a SYN-ACK whose sequence number ack_steer acknowledges, and the
 * client's ACK to `dialed` makes the connection established (in `flows`). */
static void complete_steered(struct inst *in, __u16 from, __u16 dialed)
{
	__u8 synack[FRAME_LEN], ack[FRAME_LEN];
	__u32 isn = ig_htonl(0x0a0b0c0c);

	make_reply(synack, from, 40000);
	synack[14 + 20 + 13] |= IG_TCP_SYN;
	memcpy(synack + 14 + 20 + 4, &isn, 4);
	make_frame(ack, 40000, dialed, IG_TCP_ACK);
	test_run(bpf_program__fd(in->skel->progs.bench_tc_egress), synack, 1, NULL);
	test_run(bpf_program__fd(in->skel->progs.bench_ig), ack, 1, NULL);
}

/* Breakers and one steered connection each way, in the instance's maps. */
static void setup_steering(struct inst *in)
{
	int prog = bpf_program__fd(in->skel->progs.bench_ig);

	set_breaker(bpf_map__fd(in->skel->maps.breakers), PORT_STEER_A, PORT_STEER_B);
	set_breaker(bpf_map__fd(in->skel->maps.breakers), PORT_STEER_B, PORT_STEER_A);
	test_run(prog, syn_steer_a, 1, NULL);
	test_run(prog, syn_steer_b, 1, NULL);
	complete_steered(in, PORT_STEER_B, PORT_STEER_A);
	complete_steered(in, PORT_STEER_A, PORT_STEER_B);
	/* the egress cases time nothing if the rewrite does not happen */
	if (run_sport(bpf_program__fd(in->skel->progs.bench_tc_egress), reply_steer) != PORT_STEER_A)
		die("egress did not rewrite the steered reply");
	if (run_sport(bpf_program__fd(in->skel->progs.bench_tc_egress), reply_open) != PORT_OPEN)
		die("egress rewrote a reply it should not touch");
}

struct memory {
	__u32 small_entries, big_entries;
	double small, big, marginal, worst; /* bytes per entry */
};

static void report(FILE *o, struct bcase *cases, int ncase, const struct memory *mem,
		   unsigned long rounds, unsigned long repeat, unsigned long cpu, const char *hzsrc)
{
	struct bcase *d1 = find_target(cases, ncase, T_DROP_1);
	struct bcase *ack = find_target(cases, ncase, T_ACK);
	struct bcase *d1m = find_target(cases, ncase, T_DROP_1M);
	unsigned long long reruns = 0;
	int i, bad = 0;

	fprintf(o, "## infergate data path, BPF_PROG_TEST_RUN\n\n");
	fprintf(o, "%lu interleaved rounds x %lu packets per case; IPv4 TCP frames of 64 bytes "
		   "(with a payload: 54 + payload); "
		   "CPU %lu pinned; thread CPU time per packet, median over rounds; "
		   "%s. \"above bare\" is the median minus the baseline's median.\n\n",
		rounds, repeat, cpu, hzsrc);
	fprintf(o, "| case | sources | median ns | above bare ns | p25 | p75 | rounds | on path |\n");
	fprintf(o, "|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < ncase; i++) {
		struct bcase *c = &cases[i];

		fprintf(o, "| %s%s | %u | %.1f | %+.1f | %.1f | %.1f | %lu | %.2f %% |\n", c->name,
			case_ok(c) ? "" : " (OFF PATH)", c->sources, c->med, c->above, c->p25,
			c->p75, rounds, c->timed ? 100.0 * c->on_path / c->timed : 0.0);
		bad += !case_ok(c);
		reruns += c->reruns;
	}
	fprintf(o, "\nsources map, fdinfo memlock / ways: %.1f B at %u ways, "
		   "%.1f B at %u ways; marginal %.1f B per way. The 1M-source case runs a table of "
		   "%u ways: %.1f B per tracked source.\n\n",
		mem->small, mem->small_entries, mem->big, mem->big_entries, mem->marginal,
		mem->big_entries, mem->worst);
	fprintf(o, "| target | measured | limit | result |\n|---|---:|---:|---|\n");
	fprintf(o, "| drop path, 1 source, above bare | %.1f ns | %.0f ns | %s |\n", d1->above,
		TARGET_DROP_1_NS, target_word(case_ok(d1) && d1->above <= TARGET_DROP_1_NS));
	fprintf(o, "| non-SYN on a conn port, above bare | %.1f ns | %.0f ns | %s |\n", ack->above,
		TARGET_ACK_NS, target_word(case_ok(ack) && ack->above <= TARGET_ACK_NS));
	fprintf(o, "| drop path, %u sources, above bare | %.1f ns | %.0f ns | %s |\n",
		d1m->sources, d1m->above, TARGET_DROP_1M_NS,
		target_word(case_ok(d1m) && d1m->above <= TARGET_DROP_1M_NS));
	fprintf(o, "| memory per tracked source | %.1f B | %.0f B | %s |\n", mem->worst,
		TARGET_BYTES_PER_SRC, target_word(mem->worst <= TARGET_BYTES_PER_SRC));
	report_request(o, cases, ncase, (int)rounds, repeat / SINGLES_PER_REPEAT,
		       reqf.request_len, reqf.hdr1k_len);
	report_tokens(o, cases, ncase);
	report_timing(o, cases, ncase);
	{
		struct bcase *a1 = find_target(cases, ncase, T_ADMIT_1);
		struct bcase *ah = find_target(cases, ncase, T_ADMIT_H);
		struct bcase *dh = find_target(cases, ncase, T_DROP_H);

		fprintf(o, "\nFair share, above bare: an admitted SYN costs %.1f ns with one bucket "
			   "and %.1f ns through every level (%d tier prefixes, prefix, port, "
			   "newcomer, tokens, max-conns): +%.1f ns, x%.2f. A drop at the source "
			   "level costs %.1f ns through the hierarchy against %.1f ns with one "
			   "bucket.\n", a1->above, ah->above, BENCH_TIERS, ah->above - a1->above,
			ah->above / a1->above, dh->above, d1->above);
	}
	if (reruns)
		fprintf(o, "\n%llu timed runs were run again: some of their sources refilled "
			   "during the run.\n", reruns);
	if (bad) {
		fprintf(o, "\nOFF PATH: in some rounds fewer than %.1f %% of the timed packets "
			   "took the case's path, or the verdict was wrong, even after %d "
			   "attempts:\n", MIN_ON_PATH * 100, MAX_ATTEMPTS);
		for (i = 0; i < ncase; i++)
			if (!case_ok(&cases[i]))
				report_off_path(o, &cases[i]);
	}
}

static struct infergate *load_prod(__u64 tick_ns)
{
	struct infergate *p = infergate__open();
	int err;

	if (!p)
		die("open infergate object: %s", strerror(errno));
	p->rodata->ig_cfg.clock = IG_CLOCK_TICK;
	p->rodata->ig_cfg.tick_ns = tick_ns;
	err = infergate__load(p);
	if (err)
		die("load infergate object: %s", strerror(-err));
	set_policy(bpf_map__fd(p->maps.port_policy), PORT_CONN, SLOT_CONN, IG_UNIT_CONN,
		   IG_ACTION_DROP);
	return p;
}

enum { I_T1, I_T1K, I_T100K, I_T1M, I_C1, I_X1, I_FW1, I_FW1M, I_SW1, I_SW1M, I_LB1, I_LB1M,
       NINST };

#define INST(l, c, n, e, ...) [l] = { .label = #l, .clock = c, .nsrc = n, .entries = e, __VA_ARGS__ }
static struct inst insts[NINST] = {
	INST(I_T1, IG_CLOCK_TICK, 1, DEFAULT_ENTRIES),
	INST(I_T1K, IG_CLOCK_TEST, 1000, DEFAULT_ENTRIES),
	INST(I_T100K, IG_CLOCK_TEST, 100000, 1u << 19),
	/* a table of 4 ways per source: sets rarely overflow even when every
	 * source is in debt at once (the worst case, measured here) */
	INST(I_T1M, IG_CLOCK_TEST, 1000000, 1u << 22),
	INST(I_C1, IG_CLOCK_COARSE, 1, DEFAULT_ENTRIES),
	INST(I_X1, IG_CLOCK_TEST, 1, DEFAULT_ENTRIES),
	/* issue 17: the conn port counted by each other algorithm, a window of
	 * a second (1/s, N 1) on the frozen test clock */
	INST(I_FW1, IG_CLOCK_TEST, 1, DEFAULT_ENTRIES, .algo = IG_ALGO_FIXED_WINDOW),
	INST(I_FW1M, IG_CLOCK_TEST, 1000000, 1u << 22, .algo = IG_ALGO_FIXED_WINDOW),
	INST(I_SW1, IG_CLOCK_TEST, 1, DEFAULT_ENTRIES, .algo = IG_ALGO_SLIDING_WINDOW),
	INST(I_SW1M, IG_CLOCK_TEST, 1000000, 1u << 22, .algo = IG_ALGO_SLIDING_WINDOW),
	INST(I_LB1, IG_CLOCK_TEST, 1, DEFAULT_ENTRIES, .algo = IG_ALGO_LEAKY_BUCKET),
	INST(I_LB1M, IG_CLOCK_TEST, 1000000, 1u << 22, .algo = IG_ALGO_LEAKY_BUCKET),
};
#undef INST

static __u8 syn_conn[FRAME_LEN], ack_conn[FRAME_LEN], syn_open[FRAME_LEN], syn_rej[FRAME_LEN];
static __u8 syn_admit[FRAME_LEN], syn_hier[FRAME_LEN], syn_hdrop[FRAME_LEN];
static __u8 syn_admit_min[FRAME_LEN], syn_drop_day[FRAME_LEN];
static struct proxy_frames proxyf;

#define MAX_CASES 60

/* Fills cases[]; returns how many. */
static int build_cases(struct bcase *cases, struct infergate *prod)
{
#define P(in, prog) bpf_program__fd(insts[in].skel->progs.prog)
#define ST(in) bpf_map__fd(insts[in].skel->maps.port_stats)
	/* A drop-path case; the warm-up exhausts its sources first. */
#define DROPC(nm, in, t) { .name = nm, .target = t, .sources = insts[in].nsrc,             \
		.prog_fd = P(in, bench_ig), .frame = syn_conn, .warm = insts[in].nsrc,       \
		.ctr_fd = bpf_map__fd(insts[in].skel->maps.bench_ctr), .stats_fd = ST(in), \
		.slot = SLOT_CONN, .want = IG_R_DROP_LIMIT, .want_ret = XDP_DROP_RC }
	/* A drop-path case on an algorithm's instance, above `base`'s drop. */
#define DROPA(nm, in, base) { .name = nm, .sources = insts[in].nsrc,                           \
		.prog_fd = P(in, bench_ig), .frame = syn_conn, .warm = insts[in].nsrc,       \
		.ctr_fd = bpf_map__fd(insts[in].skel->maps.bench_ctr), .stats_fd = ST(in), \
		.slot = SLOT_CONN, .want = IG_R_DROP_LIMIT, .want_ret = XDP_DROP_RC,        \
		.base_t = (base) == I_T1M ? T_DROP_1M : T_DROP_X1 }
	struct bcase list[] = {
		{ .name = "bare: pre-work + XDP_DROP (baseline)", .sources = 1,
		  .prog_fd = P(I_T1, bench_bare), .frame = syn_conn, .stats_fd = -1,
		  .want_ret = XDP_DROP_RC },
		{ .name = "bare0: XDP_DROP only", .target = T_BARE0, .sources = 1,
		  .prog_fd = P(I_T1, bench_bare0),
		  .frame = syn_conn, .stats_fd = -1, .want_ret = XDP_DROP_RC },
		{ .name = "pass: unprotected port", .sources = 1, .prog_fd = P(I_T1, bench_ig),
		  .frame = syn_open, .stats_fd = ST(I_T1), .slot = 0, .want = IG_R_PASS_OTHER,
		  .want_ret = XDP_PASS_RC },
		{ .name = "non-SYN (ACK) on conn port", .target = T_ACK, .sources = 1,
		  .prog_fd = P(I_T1, bench_ig), .frame = ack_conn, .stats_fd = ST(I_T1),
		  .slot = SLOT_CONN, .want = IG_R_PASS_FREE, .want_ret = XDP_PASS_RC },
		DROPC("drop, tick clock", I_T1, T_DROP_1),
		/* Many sources: a frozen clock, so that sources exhausted once stay
		 * exhausted however long the bench runs (with a real clock they
		 * refill after a second, in the middle of some timed run). Reading
		 * jiffies costs nothing: compare the three 1-source rows. */
		DROPC("drop, frozen clock", I_T1K, T_NONE),
		DROPC("drop, frozen clock", I_T100K, T_NONE),
		DROPC("drop, frozen clock", I_T1M, T_DROP_1M),
		DROPC("drop, coarse clock", I_C1, T_NONE),
		/* the algorithms against the token bucket's drop at the same
		 * clock and table (I_X1, I_T1M) */
		DROPA("drop, fixed window (above the bucket's, test clock)", I_FW1, I_X1),
		DROPA("drop, sliding window (above the bucket's, test clock)", I_SW1, I_X1),
		DROPA("drop, leaky bucket (above the bucket's, test clock)", I_LB1, I_X1),
		DROPA("drop, fixed window, 1M sources (above the bucket's)", I_FW1M, I_T1M),
		DROPA("drop, sliding window, 1M sources (above the bucket's)", I_SW1M, I_T1M),
		DROPA("drop, leaky bucket, 1M sources (above the bucket's)", I_LB1M, I_T1M),
		DROPC("drop, no clock read (test clock)", I_X1, T_DROP_X1),
		{ .name = "ACK of a steered connection (breaker open)", .sources = 1,
		  .prog_fd = P(I_T1, bench_ig), .frame = ack_steer, .stats_fd = ST(I_T1),
		  .slot = 0, .want = IG_R_STEERED, .want_ret = XDP_PASS_RC },
		{ .name = "reject (RST), tick clock", .sources = 1, .prog_fd = P(I_T1, bench_ig),
		  .frame = syn_rej, .warm = 1, .stats_fd = ST(I_T1), .slot = SLOT_REJECT,
		  .want = IG_R_REJECT, .want_ret = XDP_TX_RC },
		{ .name = "admitted SYN, one bucket", .target = T_ADMIT_1, .sources = 1,
		  .prog_fd = P(I_T1, bench_ig), .frame = syn_admit, .warm = 1, .stats_fd = ST(I_T1),
		  .slot = SLOT_ADMIT, .want = IG_R_PASS_ADMITTED, .want_ret = XDP_PASS_RC },
		{ .name = "admitted SYN, one bucket at N/min (above the same at N/s)", .sources = 1,
		  .prog_fd = P(I_T1, bench_ig), .frame = syn_admit_min, .warm = 1,
		  .stats_fd = ST(I_T1), .slot = SLOT_ADMIT_MIN, .want = IG_R_PASS_ADMITTED,
		  .want_ret = XDP_PASS_RC, .base_t = T_ADMIT_1 },
		{ .name = "drop, one bucket at 1/d (above drop at 1/s)", .sources = 1,
		  .prog_fd = P(I_T1, bench_ig), .frame = syn_drop_day, .warm = 1,
		  .stats_fd = ST(I_T1), .slot = SLOT_DROP_DAY, .want = IG_R_DROP_LIMIT,
		  .want_ret = XDP_DROP_RC, .base_t = T_DROP_1 },
		{ .name = "admitted SYN, full fair-share hierarchy", .target = T_ADMIT_H,
		  .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = syn_hier, .warm = 1,
		  .stats_fd = ST(I_T1), .slot = SLOT_HIER, .want = IG_R_PASS_ADMITTED,
		  .want_ret = XDP_PASS_RC },
		{ .name = "drop, through the full hierarchy", .target = T_DROP_H, .sources = 1,
		  .prog_fd = P(I_T1, bench_ig), .frame = syn_hdrop, .warm = 1, .stats_fd = ST(I_T1),
		  .slot = SLOT_HDROP, .want = IG_R_DROP_LIMIT, .want_ret = XDP_DROP_RC },
		{ .name = "non-SYN (ACK) on a max-conns port, counted connection (above the conn port's)",
		  .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = ack_counted,
		  .stats_fd = ST(I_T1), .slot = SLOT_HIER, .want = IG_R_PASS_FREE,
		  .want_ret = XDP_PASS_RC, .base_t = T_ACK },
		{ .name = "non-SYN (ACK) on a max-conns port, uncounted connection (above the conn port's)",
		  .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = ack_uncounted,
		  .stats_fd = ST(I_T1), .slot = SLOT_HIER, .want = IG_R_PASS_FREE,
		  .want_ret = XDP_PASS_RC, .base_t = T_ACK },
		/* Egress (TC): against a TC program that does nothing. Every reply
		 * the server sends pays the first; the second is a steered reply. */
		{ .name = "tc bare: TC_ACT_UNSPEC (egress baseline)", .target = T_TC_BARE, .sources = 1,
		  .prog_fd = P(I_T1, bench_tc_bare), .frame = reply_open, .stats_fd = -1,
		  .want_ret = TC_UNSPEC_RC },
		{ .name = "egress: reply from a port without breaker (above tc bare)", .sources = 1,
		  .prog_fd = P(I_T1, bench_tc_egress), .frame = reply_open, .stats_fd = -1,
		  .want_ret = TC_UNSPEC_RC, .base_t = T_TC_BARE },
		{ .name = "egress: reply of a steered connection (above tc bare)", .sources = 1,
		  .prog_fd = P(I_T1, bench_tc_egress), .frame = reply_steer, .stats_fd = -1,
		  .want_ret = TC_UNSPEC_RC, .base_t = T_TC_BARE },
		/* The unmodified production program: no pre-work, so its
		 * baseline is bare0. */
		{ .name = "drop, production ig_xdp (above bare0)", .sources = 1,
		  .prog_fd = bpf_program__fd(prod->progs.ig_xdp), .frame = syn_conn, .warm = 1,
		  .stats_fd = bpf_map__fd(prod->maps.port_stats), .slot = SLOT_CONN,
		  .want = IG_R_DROP_LIMIT, .want_ret = XDP_DROP_RC, .base_t = T_BARE0 },
		/* Token counting (bench_tok.h): a reply segment read, against the
		 * same segment charged by its bytes. */
#define TOKC(nm, t, c, prog) { .name = nm, .target = t, .sources = 1,                          \
		.prog_fd = P(I_T1, prog), .frame = tokf.f[c], .len = tokf.len[c], .stats_fd = -1, \
		.want_ret = TC_UNSPEC_RC }
		TOKC("tokens: a streamed event's segment charged by bytes", T_TOK_BYTES, TOK_EVENT,
		     bench_tok_bytes),
		TOKC("tokens: a streamed event's segment read", T_TOK_EVENT, TOK_EVENT, bench_tok_read),
		TOKC("tokens: a stream's usage event read", T_TOK_USAGE, TOK_USAGE, bench_tok_read),
		TOKC("tokens: a JSON body's last 1000 bytes read (usage)", T_TOK_TAIL, TOK_TAIL,
		     bench_tok_read),
		TOKC("tokens: 1000 bytes amid a JSON body read", T_TOK_MIDDLE, TOK_MIDDLE,
		     bench_tok_read),
		TOKC("times: a streamed event read, timed", T_TIME_EVENT, TOK_EVENT, bench_tok_timed),
		TOKC("times: a stream's first event read", T_TIME_FIRST0, TOK_FIRST, bench_tok_read),
		TOKC("times: a stream's first event read, timed", T_TIME_FIRST, TOK_FIRST,
		     bench_tok_timed),
		TOKC("times: a stream's end read", T_TIME_END0, TOK_END, bench_tok_read),
		TOKC("times: a stream's end read, timed", T_TIME_END, TOK_END, bench_tok_timed),
		TOKC("times: a streamed event read for its times alone", T_TIME_ONLY, TOK_EVENT,
		     bench_times_only),
#undef TOKC
		/* The `request` unit (setup_request()). Each port's connection has
		 * its entry in http_conns, put in before every run. */
		{ .name = "ACK on a request port", .target = T_ACK_REQ, .sources = 1,
		  .prog_fd = P(I_T1, bench_ig), .frame = reqf.ack, .len = reqf.ack_len,
		  .entry = &reqf.body_e, .keep = true, .stats_fd = ST(I_T1), .slot = SLOT_REQ,
		  .want = IG_R_PASS_FREE, .want_ret = XDP_PASS_RC },
		/* A data segment counted before (a retransmission): the entry's
		 * lookup and a compare, no byte read and nothing written, so every
		 * repeat meets the same entry. A body segment in order costs that
		 * and the skip's arithmetic and the entry's update. */
		{ .name = "retransmitted segment on a request port (lookup, compare)", .sources = 1,
		  .prog_fd = P(I_T1, bench_ig), .frame = reqf.body, .len = reqf.body_len,
		  .entry = &reqf.body_e, .keep = true, .stats_fd = ST(I_T1), .slot = SLOT_REQ,
		  .want = IG_R_PASS_FREE, .want_ret = XDP_PASS_RC },
		/* The stage advances the entry, the refused charge takes it back:
		 * every repeat is charged and refused alike. */
		{ .name = "request segment, opaque connection, dropped", .target = T_OPAQUE,
		  .sources = 1,
		  .prog_fd = P(I_T1, bench_ig), .frame = reqf.opaque, .len = reqf.opaque_len,
		  .warm = 1, .entry = &reqf.opaque_e, .keep = true, .stats_fd = ST(I_T1),
		  .slot = SLOT_REQ_OPAQUE, .want = IG_R_DROP_LIMIT, .want_ret = XDP_DROP_RC },
		/* The same with the scanner reading the request each time: what
		 * it costs with everything in the caches. */
		{ .name = "request segment (the 100-byte request), dropped", .target = T_REQ_DROP,
		  .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = reqf.drop,
		  .len = reqf.drop_len, .warm = 1, .entry = &reqf.drop_e, .keep = true,
		  .stats_fd = ST(I_T1), .slot = SLOT_REQ, .want = IG_R_DROP_LIMIT,
		  .want_ret = XDP_DROP_RC },
		/* issue 16: a 1 KB header block read on a port keyed by source and
		 * on one keyed by API key (the key found, hashed, looked up) */
		{ .name = "request segment, 1 KB of headers, --key source, dropped",
		  .target = T_REQ1K_SRC, .sources = 1, .prog_fd = P(I_T1, bench_ig),
		  .frame = reqf.src1k, .len = reqf.src1k_len, .warm = 1, .entry = &reqf.src1k_e,
		  .keep = true, .stats_fd = ST(I_T1), .slot = SLOT_REQ_SRC1K,
		  .want = IG_R_DROP_LIMIT, .want_ret = XDP_DROP_RC },
		{ .name = "request segment, 1 KB of headers, --key api-key, dropped",
		  .target = T_REQ1K_KEY, .sources = 1, .prog_fd = P(I_T1, bench_ig),
		  .frame = reqf.key1k, .len = reqf.key1k_len, .warm = 1, .entry = &reqf.key1k_e,
		  .keep = true, .stats_fd = ST(I_T1), .slot = SLOT_REQ_KEY1K,
		  .want = IG_R_DROP_LIMIT, .want_ret = XDP_DROP_RC },
		/* issue 16: the same, the request stage alone (bench_req_stage):
		 * finding the key without the charge that uses it */
		{ .name = "request stage alone, 1 KB of headers, --key source",
		  .target = T_STAGE1K_SRC, .sources = 1, .prog_fd = P(I_T1, bench_req_stage),
		  .frame = reqf.src1k, .len = reqf.src1k_len, .entry = &reqf.src1k_e,
		  .keep = true, .stats_fd = -1, .want_ret = XDP_DROP_RC },
		{ .name = "request stage alone, 1 KB of headers, --key api-key",
		  .target = T_STAGE1K_KEY, .sources = 1, .prog_fd = P(I_T1, bench_req_stage),
		  .frame = reqf.key1k, .len = reqf.key1k_len, .entry = &reqf.key1k_e,
		  .keep = true, .stats_fd = -1, .want_ret = XDP_DROP_RC },
		/* issue 16: the PROXY check at a connection's first segment,
		 * called directly (no socket in a test run); above bare. The
		 * balancer is trusted on I_X1's instance only. */
		{ .name = "connection start: PROXY v2 header, IPv6 client, parsed and stored",
		  .sources = 1, .prog_fd = P(I_X1, bench_proxy_hdr), .frame = proxyf.v2,
		  .len = proxyf.v2_len, .stats_fd = -1, .want_ret = XDP_DROP_RC },
		{ .name = "connection start: PROXY v1 header, IPv6 client, parsed and stored",
		  .sources = 1, .prog_fd = P(I_X1, bench_proxy_hdr), .frame = proxyf.v1,
		  .len = proxyf.v1_len, .stats_fd = -1, .want_ret = XDP_DROP_RC },
		{ .name = "connection start: no PROXY header, untrusted source (the check alone)",
		  .sources = 1, .prog_fd = P(I_T1, bench_proxy_none), .frame = proxyf.none,
		  .len = proxyf.none_len, .stats_fd = -1, .want_ret = XDP_DROP_RC },
		/* One packet per run (run_single()), against a baseline run alike;
		 * those without an entry of their own put another connection's,
		 * so that all do the same between runs. */
		{ .name = "bare (repeat 1; baseline of the repeat-1 rows)", .target = T_BARE1,
		  .single = true, .sources = 1, .prog_fd = P(I_T1, bench_bare), .frame = syn_conn,
		  .entry = &reqf.other_e, .stats_fd = -1, .want_ret = XDP_DROP_RC },
		{ .name = "reject (RST), tick clock (repeat 1)", .target = T_RST1, .single = true,
		  .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = syn_rej, .warm = 1,
		  .entry = &reqf.other_e, .stats_fd = ST(I_T1), .slot = SLOT_REJECT,
		  .want = IG_R_REJECT, .want_ret = XDP_TX_RC, .base_t = T_BARE1 },
		{ .name = "request answered 429 (repeat 1)", .target = T_429, .single = true,
		  .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = reqf.r429,
		  .len = reqf.r429_len, .warm = 1, .entry = &reqf.r429_e, .stats_fd = ST(I_T1),
		  .slot = SLOT_REQ_429, .want = IG_R_REJECT_HTTP, .want_ret = XDP_TX_RC,
		  .base_t = T_BARE1 },
		{ .name = "admitted SYN, one bucket (repeat 1)", .target = T_SYN1, .single = true,
		  .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = syn_admit,
		  .entry = &reqf.other_e, .stats_fd = ST(I_T1), .slot = SLOT_ADMIT,
		  .want = IG_R_PASS_ADMITTED, .want_ret = XDP_PASS_RC, .base_t = T_BARE1 },
		{ .name = "request segment admitted (repeat 1)", .target = T_REQ1, .single = true,
		  .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = reqf.admit,
		  .len = reqf.admit_len, .entry = &reqf.admit_e, .stats_fd = ST(I_T1),
		  .slot = SLOT_REQ_ADMIT, .want = IG_R_PASS_ADMITTED, .want_ret = XDP_PASS_RC,
		  .base_t = T_BARE1 },
		/* Where that goes: the stage without the scanner and the charge,
		 * and the scanner without the hot caches of the repeated row. */
		{ .name = "request segment counted before (repeat 1)", .target = T_RETX1,
		  .single = true, .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = reqf.admit,
		  .len = reqf.admit_len, .entry = &reqf.retx_e, .stats_fd = ST(I_T1),
		  .slot = SLOT_REQ_ADMIT, .want = IG_R_PASS_FREE, .want_ret = XDP_PASS_RC,
		  .base_t = T_BARE1 },
		{ .name = "request segment, dropped (repeat 1)", .target = T_REQ_DROP1,
		  .single = true, .sources = 1, .prog_fd = P(I_T1, bench_ig), .frame = reqf.drop,
		  .len = reqf.drop_len, .warm = 1, .entry = &reqf.drop_e, .stats_fd = ST(I_T1),
		  .slot = SLOT_REQ, .want = IG_R_DROP_LIMIT, .want_ret = XDP_DROP_RC,
		  .base_t = T_BARE1 },
	};
#undef DROPC
#undef DROPA
#undef P
#undef ST
	int i, n = sizeof(list) / sizeof(list[0]);

	if (n > MAX_CASES)
		die("%d cases: raise MAX_CASES", n);
	memcpy(cases, list, sizeof(list));
	for (i = 0; i < n; i++) {
		if (!cases[i].len)
			cases[i].len = FRAME_LEN;
		if (cases[i].base_t != T_NONE)
			cases[i].base = find_target(cases, n, cases[i].base_t);
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned long rounds = env_ul("IG_BENCH_ROUNDS", 31, 3, 1001);
	unsigned long repeat = env_ul("IG_BENCH_REPEAT", 200000, 1000, 100000000);
	unsigned long cpu = env_ul("IG_BENCH_CPU", (unsigned long)sysconf(_SC_NPROCESSORS_ONLN) - 1,
				   0, 4095);
	struct bcase cases[MAX_CASES] = {};
	char hzsrc[700], path[PATH_MAX];
	struct infergate *prod;
	struct memory mem;
	const char *outdir, *only = getenv("IG_BENCH_ONLY");
	__u64 tick_ns;
	int i, r, ncase, bad = 0;
	FILE *md;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: bench OUTDIR\n"
				"  the BPF_PROG_TEST_RUN bench; results go to OUTDIR;\n"
				"  IG_BENCH_ROUNDS, IG_BENCH_REPEAT, IG_BENCH_CPU tune it\n");
		return argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? 0 : 2;
	}
	outdir = argv[1];
	if (geteuid() != 0)
		die("needs root (loads BPF programs)");
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0 || cpu >= (unsigned long)ncpus)
		die("CPU %lu: not a possible CPU", cpu);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	tick_ns = tick_ns_from_config(hzsrc, sizeof(hzsrc));

	make_frame(syn_conn, 40000, PORT_CONN, IG_TCP_SYN);
	make_frame(ack_conn, 40000, PORT_CONN, IG_TCP_ACK);
	make_frame(syn_open, 40000, PORT_OPEN, IG_TCP_SYN);
	make_frame(syn_admit, 40000, PORT_ADMIT, IG_TCP_SYN);
	make_frame(syn_hier, 40000, PORT_HIER, IG_TCP_SYN);
	make_frame(syn_hdrop, 40000, PORT_HDROP, IG_TCP_SYN);
	make_frame(syn_admit_min, 40000, PORT_ADMIT_MIN, IG_TCP_SYN);
	make_frame(syn_drop_day, 40000, PORT_DROP_DAY, IG_TCP_SYN);
	/* Same source and destination port: the RST that replaces the frame on
	 * the first run then still hits the protected port on every later run
	 * (test runs reuse one frame), so each repeat takes the reject path. */
	make_frame(syn_rej, PORT_REJECT, PORT_REJECT, IG_TCP_SYN);
	make_frame(syn_steer_a, 40000, PORT_STEER_A, IG_TCP_SYN);
	make_frame(syn_steer_b, 40000, PORT_STEER_B, IG_TCP_SYN);
	make_frame(ack_steer, 40000, PORT_STEER_A, IG_TCP_ACK);
	make_reply(reply_open, PORT_OPEN, 40000);
	make_reply(reply_steer, PORT_STEER_B, 40000);

	/* Pin before loading and warming, so that per-CPU state lives with the
	 * CPU that runs the bench. */
	bench_cpu = (int)cpu;
	pin_cpu(bench_cpu);
	for (i = 0; i < NINST; i++)
		load_inst(&insts[i], tick_ns);
	prod = load_prod(tick_ns);
	setup_steering(&insts[I_T1]);
	setup_hierarchy(insts[I_T1].skel);
	setup_counted(insts[I_T1].skel);
	setup_request(insts[I_T1].skel);
	proxy_frames_init(&proxyf, bpf_map__fd(insts[I_X1].skel->maps.proxy_from));
	ncase = build_cases(cases, prod);
	for (i = 0; i < ncase; i++) {
		cases[i].ns = calloc(rounds, sizeof(double));
		if (!cases[i].ns)
			die("out of memory");
	}

	fprintf(stderr, "bench: %d cases x %lu rounds x %lu packets on CPU %lu; %s\n", ncase,
		rounds, repeat, cpu, hzsrc);
	/* The first pass creates every source (a claim in the source table);
	 * that pass is not what is measured. Later passes visit the sources with
	 * a large step (bench_step), so consecutive packets touch unrelated sets. */
	for (i = 0; i < ncase; i++)
		if (cases[i].warm) {
			if (cases[i].entry)
				req_entry_put(cases[i].entry);
			test_run_len(cases[i].prog_fd, cases[i].frame, cases[i].len, cases[i].warm,
				     NULL);
		}
	for (i = 0; i < NINST; i++)
		insts[i].skel->data->bench_step = spread_step(insts[i].nsrc);
	for (r = 0; r < (int)rounds; r++)
		for (i = 0; i < ncase; i++)
			if (!only || strstr(cases[i].name, only))
				run_case(&cases[i], r, (__u32)repeat);

	for (i = 0; i < ncase; i++)
		summarise(&cases[i], (int)rounds);
	for (i = 0; i < ncase; i++) {
		cases[i].above = cases[i].med - (cases[i].base ? cases[i].base : &cases[0])->med;
		bad += !case_ok(&cases[i]);
	}

	mem.small_entries = insts[I_T1].entries;
	mem.big_entries = insts[I_T1M].entries;
	mem.small = (double)insts[I_T1].memlock / mem.small_entries;
	mem.big = (double)insts[I_T1M].memlock / mem.big_entries;
	mem.marginal = ((double)insts[I_T1M].memlock - (double)insts[I_T1].memlock) /
		       ((double)mem.big_entries - mem.small_entries);
	/* What a source really costs: the whole table over the sources it holds
	 * in the measured configuration (4 ways per source). */
	mem.worst = (double)insts[I_T1M].memlock / insts[I_T1M].nsrc;

	if (mkdir(outdir, 0755) && errno != EEXIST)
		die("mkdir %s: %s", outdir, strerror(errno));
	snprintf(path, sizeof(path), "%s/results.md", outdir);
	md = fopen(path, "w");
	if (!md)
		die("%s: %s", path, strerror(errno));
	report(stdout, cases, ncase, &mem, rounds, repeat, cpu, hzsrc);
	report(md, cases, ncase, &mem, rounds, repeat, cpu, hzsrc);
	if (fclose(md))
		die("%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/results.csv", outdir);
	write_csv(path, cases, ncase, rounds);
	snprintf(path, sizeof(path), "%s/rounds.csv", outdir);
	write_rounds(path, cases, ncase, rounds);
	fprintf(stderr, "bench: wrote %s/results.md and %s/results.csv\n", outdir, outdir);

	infergate__destroy(prod);
	for (i = 0; i < NINST; i++)
		bench__destroy(insts[i].skel);
	for (i = 0; i < ncase; i++)
		free(cases[i].ns);
	return bad ? 1 : 0;
}
