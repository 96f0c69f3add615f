// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What spoofed packets must not be able to do to other clients, through
 * BPF_PROG_TEST_RUN on both ingress hooks and the egress program: open or
 * hold open a breaker, spend its half-open probes, push steered connections
 * out of `flows`, free or lock max-conns slots, fill the connection tables,
 * or keep new clients out of the source table while the newcomer budget has
 * room. Each test is named after the attack.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "dp.h"
#include "harness.h"

#define FALLBACK 8001
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10
#define CLIENT "198.18.0.1"
#define SERVER "198.18.0.2"

/* A TCP segment src:sport -> dst:dport (IPv4). */
static struct ig_frame seg(const char *src, const char *dst, __u16 sport, __u16 dport, __u8 flags,
			   __u32 seq, __u32 ack)
{
	struct ig_frame_spec s;

	ig_frame_defaults(&s, 0, IG_F_TCP);
	ig_frame_addrs(&s, src, dst);
	s.sport = sport;
	s.dport = dport;
	s.tcp_flags = flags;
	s.seq = seq;
	s.ack = ack;
	return IG_FRAME(&s);
}

/* The client's segment to the protected port, and the server's answer. */
static struct ig_frame cseg(__u16 cport, __u8 flags, __u32 seq, __u32 ack)
{
	return seg(CLIENT, SERVER, cport, PORT, flags, seq, ack);
}

static struct ig_frame sseg(__u16 from, __u16 cport, __u8 flags, __u32 seq, __u32 ack)
{
	return seg(SERVER, CLIENT, from, cport, flags, seq, ack);
}

static __u16 dport_of(const struct ig_frame *f, const struct ig_frame *layout)
{
	return ig_get16(f->buf + layout->l4_off + 2);
}

static void brk_set(struct infergate *skel, enum ig_brk_state state, __u16 fallback, __s32 probes)
{
	struct ig_breaker b = { .state = state, .fallback = fallback, .flags = IG_BRK_F_ON,
				.probes = probes };
	__u32 key = PORT;

	ASSERT_OK(bpf_map__update_elem(skel->maps.breakers, &key, 4, &b, sizeof(b), BPF_ANY),
		  "write the breaker");
}

static __s32 brk_probes(struct infergate *skel)
{
	struct ig_breaker b;
	__u32 key = PORT;

	ASSERT_OK(bpf_map__lookup_elem(skel->maps.breakers, &key, 4, &b, sizeof(b), 0),
		  "read the breaker");
	return b.probes;
}

/* The RSTs the primary sent that health counted as failures. */
static __u64 brk_failed_rsts(struct infergate *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ig_health *v = calloc((size_t)ncpu, sizeof(*v));
	__u32 key = PORT;
	__u64 sum = 0;

	ASSERT_TRUE(v != NULL, "memory");
	if (!bpf_map__lookup_elem(skel->maps.health, &key, 4, v, sizeof(*v) * (size_t)ncpu, 0))
		for (int c = 0; c < ncpu; c++)
			sum += v[c].rst;
	free(v);
	return sum;
}

static __u32 map_entries(struct bpf_map *map)
{
	__u8 key[64], next[64];
	int fd = bpf_map__fd(map);
	__u32 n = 0;

	if (bpf_map_get_next_key(fd, NULL, next))
		return 0;
	do {
		memcpy(key, next, sizeof(key));
		n++;
	} while (!bpf_map_get_next_key(fd, key, next));
	return n;
}

/* One handshake of client port `cport` with ISN `isn`: SYN in, SYN-ACK
 * (server ISN `sisn`) out of `backend`, the client's ACK in. Returns where the
 * ACK went (its destination port as the data path left it). */
static __u16 handshake(struct infergate *skel, enum hook h, __u16 cport, __u32 isn, __u32 sisn,
		       __u16 backend)
{
	struct ig_frame s = cseg(cport, F_SYN, isn, 0), a = cseg(cport, F_ACK, isn + 1, sisn + 1);
	struct ig_frame sa = sseg(backend, cport, F_SYN | F_ACK, sisn, isn + 1), out;

	dp_run(skel, h, s.buf, s.len, NULL);
	ASSERT_EQ(dp_run_egress(skel, sa.buf, sa.len, NULL), TC_UNSPEC_RC, "SYN-ACK passes");
	dp_run(skel, h, a.buf, a.len, &out);
	return dport_of(&out, &a);
}

/* SYNs to the protected port from `n` distinct spoofed sources 10.x.y.z, each
 * `times` times in a row (a retransmission looks the decision up again). */
static void spoofed_syns(struct infergate *skel, enum hook h, __u32 n, __u32 first, int times)
{
	struct ig_frame s = seg("10.0.0.0", SERVER, 40000, PORT, F_SYN, 1, 0);
	__u8 *sa = s.buf + s.l3_off + 12;

	for (__u32 i = first; i < first + n; i++) {
		sa[1] = (__u8)(i >> 16), sa[2] = (__u8)(i >> 8), sa[3] = (__u8)i;
		for (int k = 0; k < times; k++)
			dp_run(skel, h, s.buf, s.len, NULL);
	}
}

/* ---------------------------------------------------------------- breakers */

/* Finding 4: each spoofed SYN to an open breaker port used to make two `flows`
 * entries, looked up again by a retransmission, until the LRU dropped the
 * established connections; their next packet then went to the primary,
 * which reset them. */
IG_TEST(spoofed_syn_flood_cannot_evict_a_steered_connection)
{
	cpu_set_t was, one;

	/* one CPU, as a flood arriving on one queue: the LRU keeps per-CPU lists,
	 * and entries on another CPU's list are out of the flood's reach */
	ASSERT_OK(sched_getaffinity(0, sizeof(was), &was), "affinity");
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	ASSERT_OK(sched_setaffinity(0, sizeof(one), &one), "pin to one CPU");
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		__u32 flows = bpf_map__max_entries(skel->maps.flows);
		struct ig_frame a = cseg(40000, F_ACK, 1001, 5001), out;

		brk_set(skel, IG_BRK_OPEN, FALLBACK, 0);
		ASSERT_EQ(handshake(skel, h, 40000, 1000, 5000, FALLBACK), FALLBACK,
			  "the keep-alive connection is steered");
		/* as many spoofed sources as `flows` has entries, each SYN twice */
		spoofed_syns(skel, h, flows, 0, 2);
		ASSERT_EQ(dp_run(skel, h, a.buf, a.len, &out), rc_pass[h], hook_name[h]);
		ASSERT_EQ(dport_of(&out, &a), FALLBACK, "still steered after the flood");
		ASSERT_EQ(map_entries(skel->maps.flows), 2, "flows holds the real connection only");
	}
	sched_setaffinity(0, sizeof(was), &was);
}

/* Finding 1: the kernel answers a bare ACK to the port with a RST (no ACK
 * flag); a second in-window SYN makes it reset a handshake it answered (RST
 * with ACK, seq 0). Neither is the backend failing. A RST refusing a SYN the
 * breaker decided on, and an established socket's reset, are. */
IG_TEST(spoofed_acks_and_syns_make_no_backend_failures)
{
	struct infergate *skel = dp_load();
	struct ig_frame f;

	brk_set(skel, IG_BRK_CLOSED, FALLBACK, 0);
	/* a bare ACK from anyone: the host's RST carries its ack number as seq */
	f = sseg(PORT, 41000, F_RST, 777, 0);
	dp_run_egress(skel, f.buf, f.len, NULL);
	/* a SYN nobody saw: the RST+ACK answering it */
	f = sseg(PORT, 41001, F_RST | F_ACK, 0, 1001);
	dp_run_egress(skel, f.buf, f.len, NULL);
	/* SYN, SYN-ACK, a second SYN: the kernel resets its own handshake */
	f = cseg(41002, F_SYN, 1000, 0);
	dp_run(skel, XDP, f.buf, f.len, NULL);
	f = sseg(PORT, 41002, F_SYN | F_ACK, 5000, 1001);
	dp_run_egress(skel, f.buf, f.len, NULL);
	f = cseg(41002, F_SYN, 1001, 0);
	dp_run(skel, XDP, f.buf, f.len, NULL);
	f = sseg(PORT, 41002, F_RST | F_ACK, 0, 1002);
	dp_run_egress(skel, f.buf, f.len, NULL);
	ASSERT_EQ(brk_failed_rsts(skel), 0, "no failure counted");

	/* a SYN the primary refused (nothing listens) */
	f = cseg(41003, F_SYN, 3000, 0);
	dp_run(skel, TC, f.buf, f.len, NULL);
	f = sseg(PORT, 41003, F_RST | F_ACK, 0, 3001);
	dp_run_egress(skel, f.buf, f.len, NULL);
	ASSERT_EQ(brk_failed_rsts(skel), 1, "a refused connection is a failure");
	dp_run_egress(skel, f.buf, f.len, NULL);
	ASSERT_EQ(brk_failed_rsts(skel), 1, "counted once");
	/* an established socket aborting its connection */
	f = sseg(PORT, 41004, F_RST | F_ACK, 5001, 1001);
	dp_run_egress(skel, f.buf, f.len, NULL);
	ASSERT_EQ(brk_failed_rsts(skel), 2, "an aborted connection is a failure");
}

/* Finding 1: half-open let the first K SYNs through and took the budget with
 * them, spoofed or not. */
IG_TEST(spoofed_syns_cannot_spend_the_probe_budget)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame s = cseg(42000, F_SYN, 1000, 0), out;

		brk_set(skel, IG_BRK_HALF_OPEN, FALLBACK, 2);
		spoofed_syns(skel, h, 1000, 0, 2);
		ASSERT_EQ(brk_probes(skel), 2, "the budget is untouched");
		ASSERT_EQ(handshake(skel, h, 42001, 1000, 5000, PORT), PORT, "a probe");
		ASSERT_EQ(brk_probes(skel), 1, "spent by a completed probe");
		ASSERT_EQ(handshake(skel, h, 42002, 1000, 6000, PORT), PORT, "the last probe");
		ASSERT_EQ(brk_probes(skel), 0, "spent");
		ASSERT_EQ(dp_run(skel, h, s.buf, s.len, &out), rc_pass[h], hook_name[h]);
		ASSERT_EQ(dport_of(&out, &s), FALLBACK, "then the fallback");
	}
}
