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
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "dp.h"
#include "harness.h"

#define FALLBACK 8001
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10
#define CLIENT "198.18.0.1"
#define SERVER "198.18.0.2"

/* A TCP segment src:sport -> dst:dport (IPv6 when dst is). */
static struct ig_frame seg(const char *src, const char *dst, __u16 sport, __u16 dport, __u8 flags,
			   __u32 seq, __u32 ack)
{
	struct ig_frame_spec s;

	ig_frame_defaults(&s, strchr(dst, ':') != NULL, IG_F_TCP);
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

/* ---------------------------------------------------------------- max-conns */

#define SLOT_TCP 1 /* dp_limit()'s slot for TCP */

/* The port with max-conns `max` (and a generous connection rate). */
static void conns_setup(struct infergate *skel, __u32 max)
{
	struct ig_limits lim = { .max_conns = max };
	struct ig_policy pol;
	__u32 idx = IG_PORT_INDEX(IG_PROTO_TCP, PORT), slot = SLOT_TCP;

	dp_limit(skel, IG_PROTO_TCP, PORT, 1000, 1000, IG_UNIT_CONN, IG_ACTION_DROP);
	ASSERT_OK(bpf_map__lookup_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol), 0),
		  "policy");
	pol.flags |= IG_POL_F_HIER | IG_POL_F_CONNS;
	ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol), BPF_ANY),
		  "policy");
	ASSERT_OK(bpf_map__update_elem(skel->maps.port_limits, &slot, 4, &lim, sizeof(lim), BPF_ANY),
		  "limits");
}

/* A whole connection from src:cport to dst:8000 as the data path sees it:
 * SYN, SYN-ACK, ACK. What became of the ACK, or of the SYN when it was
 * refused. */
static __u32 connect_from(struct infergate *skel, enum hook h, const char *src, const char *dst,
			  __u16 cport)
{
	struct ig_frame s = seg(src, dst, cport, PORT, F_SYN, 1000, 0);
	struct ig_frame sa = seg(dst, src, PORT, cport, F_SYN | F_ACK, 9000, 1001);
	struct ig_frame a = seg(src, dst, cport, PORT, F_ACK, 1001, 9001);
	__u32 rc = dp_run(skel, h, s.buf, s.len, NULL);

	if (rc != rc_pass[h])
		return rc;
	dp_run_egress(skel, sa.buf, sa.len, NULL);
	return dp_run(skel, h, a.buf, a.len, NULL);
}

/* A namespace of the test's own with lo up: the data path asks the kernel
 * about sockets (bpf_skc_lookup_tcp) in the namespace of the test run, so
 * real connections there are what it finds. Returns the old namespace. */
static int netns_enter(void)
{
	struct ifreq ifr = {};
	int old = open("/proc/self/ns/net", O_RDONLY), fd;

	ASSERT_TRUE(old >= 0, "the test's namespace");
	ASSERT_OK(unshare(CLONE_NEWNET), "a namespace of our own");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ASSERT_OK(ioctl(fd, SIOCGIFFLAGS, &ifr), "lo flags");
	ifr.ifr_flags |= IFF_UP;
	ASSERT_OK(ioctl(fd, SIOCSIFFLAGS, &ifr), "lo up");
	close(fd);
	return old;
}

static void netns_leave(int old)
{
	ASSERT_OK(setns(old, CLONE_NEWNET), "back to the test's namespace");
	close(old);
}

/* A real connection to the loopback's `port` (listener `l` of family `af`):
 * the client's socket, its port in *cport. */
static int real_conn(int af, int l, __u16 port, __u16 *cport, int *server)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr *a = af == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6;
	socklen_t len = af == AF_INET ? sizeof(a4) : sizeof(a6);
	int c = socket(af, SOCK_STREAM, 0);

	ASSERT_OK(connect(c, a, len), "connect");
	*server = accept(l, NULL, NULL);
	ASSERT_TRUE(*server >= 0, "accept");
	ASSERT_OK(getsockname(c, a, &len), "client port");
	*cport = ntohs(af == AF_INET ? a4.sin_port : a6.sin6_port);
	return c;
}

/* A listener on the loopback's `port`. */
static int real_listener(int af, __u16 port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int l = socket(af, SOCK_STREAM, 0), one = 1;

	ASSERT_OK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), "reuse");
	ASSERT_OK(af == AF_INET ? bind(l, (struct sockaddr *)&a4, sizeof(a4))
				: bind(l, (struct sockaddr *)&a6, sizeof(a6)), "bind a loopback port");
	ASSERT_OK(listen(l, 8), "listen");
	return l;
}

/* What the server expects next from client socket `c`: its send sequence
 * (TCP_REPAIR reads it; nothing is sent). */
static __u32 next_seq(int c)
{
	int on = 1, off = 0, q = TCP_SEND_QUEUE;
	socklen_t len = sizeof(__u32);
	__u32 seq;

	ASSERT_OK(setsockopt(c, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)), "repair mode");
	ASSERT_OK(setsockopt(c, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)), "send queue");
	ASSERT_OK(getsockopt(c, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, &len), "its sequence");
	ASSERT_OK(setsockopt(c, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)), "repair off");
	return seq;
}

/* Finding 2: any FIN or RST from the client freed a slot, while the kernel
 * ignores a RST whose sequence number is not exactly the one it expects: a
 * client sent a stray RST after each connection and kept all of them
 * (max-conns 2 admitted 50). A client's FIN never ends the server's side
 * either. */
IG_TEST(spoofed_client_fin_and_rst_cannot_free_max_conns_slots)
{
	for (int h = 0; h < 2 * NHOOKS; h++) {
		struct infergate *skel = dp_load();
		int af = h < NHOOKS ? AF_INET : AF_INET6, hook = h % NHOOKS, admitted = 0;
		const char *lo = af == AF_INET ? "127.0.0.1" : "::1";
		int ns = netns_enter(), l = real_listener(af, PORT), c[2], srv[2];
		__u16 cport[2];

		conns_setup(skel, 2);
		for (int i = 0; i < 2; i++) {
			c[i] = real_conn(af, l, PORT, &cport[i], &srv[i]);
			ASSERT_EQ(connect_from(skel, hook, lo, lo, cport[i]), rc_pass[hook],
				  "a real connection, counted");
		}
		for (int i = 0; i < 50; i++) {
			__u32 seq = next_seq(c[i % 2]) + 1 + (__u32)i * 1000;
			struct ig_frame rst = seg(lo, lo, cport[i % 2], PORT, F_RST, seq, 0);
			struct ig_frame fin = seg(lo, lo, cport[i % 2], PORT, F_FIN | F_ACK, seq, 9001);

			dp_run(skel, hook, rst.buf, rst.len, NULL);
			dp_run(skel, hook, fin.buf, fin.len, NULL);
			admitted += connect_from(skel, hook, lo, lo, (__u16)(50000 + i)) ==
				    rc_pass[hook];
		}
		ASSERT_EQ(admitted, 0, "connections admitted past max-conns 2");
		/* the RST the kernel will act on frees the slot */
		{
			struct ig_frame rst = seg(lo, lo, cport[0], PORT, F_RST, next_seq(c[0]), 0);

			dp_run(skel, hook, rst.buf, rst.len, NULL);
		}
		ASSERT_EQ(connect_from(skel, hook, lo, lo, 50100), rc_pass[hook],
			  "an exact RST gives the slot back");
		for (int i = 0; i < 2; i++) {
			close(c[i]);
			close(srv[i]);
		}
		close(l);
		netns_leave(ns);
	}
}

/* The same for a connection a breaker sent to its fallback: its socket is the
 * fallback's, and a stray RST to the dialed port must be judged by that one. */
IG_TEST(spoofed_rsts_cannot_free_a_steered_connections_slot)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		int ns = netns_enter(), l = real_listener(AF_INET, FALLBACK), c, srv;
		struct ig_frame rst;
		__u16 cport;

		conns_setup(skel, 1);
		brk_set(skel, IG_BRK_OPEN, FALLBACK, 0);
		c = real_conn(AF_INET, l, FALLBACK, &cport, &srv);
		ASSERT_EQ(connect_from(skel, h, "127.0.0.1", "127.0.0.1", cport), rc_pass[h],
			  "steered and counted");
		rst = seg("127.0.0.1", "127.0.0.1", cport, PORT, F_RST, next_seq(c) + 7, 0);
		dp_run(skel, h, rst.buf, rst.len, NULL);
		ASSERT_EQ(connect_from(skel, h, "127.0.0.1", "127.0.0.1", 50200), rc_drop[h],
			  "a stray RST freed nothing");
		rst = seg("127.0.0.1", "127.0.0.1", cport, PORT, F_RST, next_seq(c), 0);
		dp_run(skel, h, rst.buf, rst.len, NULL);
		ASSERT_EQ(connect_from(skel, h, "127.0.0.1", "127.0.0.1", 50201), rc_pass[h],
			  "the exact one did");
		close(c);
		close(srv);
		close(l);
		netns_leave(ns);
	}
}

/* Finding 2: SYNs the kernel drops were counted, and nothing gave them back:
 * four spoofed packets with the victim's address (a bad checksum, SYN+FIN, or
 * IPv6 from its ::ffff: address) locked it out for good. Here the server
 * answers none of them, as the kernel would. */
IG_TEST(spoofed_dropped_syns_cannot_lock_a_client_out)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame_spec sp;
		struct ig_frame f;

		conns_setup(skel, 2);
		for (int i = 0; i < 4; i++) {
			f = seg("198.18.4.7", SERVER, (__u16)(33000 + i), PORT, F_SYN | F_FIN, 1, 0);
			dp_run(skel, h, f.buf, f.len, NULL);
			f = seg("198.18.4.7", SERVER, (__u16)(33100 + i), PORT, F_SYN, 1, 0);
			f.buf[f.l4_off + 16] ^= 0x55; /* a bad checksum */
			dp_run(skel, h, f.buf, f.len, NULL);
			ig_frame_defaults(&sp, 1, IG_F_TCP);
			ig_frame_addrs(&sp, "::ffff:198.18.4.7", "fd00::2");
			sp.sport = (__u16)(33200 + i);
			f = IG_FRAME(&sp);
			dp_run(skel, h, f.buf, f.len, NULL);
		}
		ASSERT_EQ(connect_from(skel, h, "198.18.4.7", SERVER, 34001), rc_pass[h], "the victim");
		ASSERT_EQ(connect_from(skel, h, "198.18.4.7", SERVER, 34002), rc_pass[h],
			  "has both its connections");
		ASSERT_EQ(connect_from(skel, h, "198.18.4.7", SERVER, 34003), rc_drop[h],
			  "and no more");
		/* the same over IPv6, with a client of its own */
		ASSERT_EQ(connect_from(skel, h, "fd00::7", "fd00::2", 34001), rc_pass[h], "IPv6");
		ASSERT_EQ(connect_from(skel, h, "fd00::7", "fd00::2", 34002), rc_pass[h], "IPv6, two");
		ASSERT_EQ(connect_from(skel, h, "fd00::7", "fd00::2", 34003), rc_drop[h], "IPv6, no more");
	}
}

/* Finding 2: `conn_counts` kept an entry for every client ever seen, so
 * 65,536 spoofed SYN+RST pairs filled it, and then new clients were admitted
 * uncounted. Now nothing is counted before a handshake completes, a count
 * goes at zero, and a full table refuses. */
IG_TEST(spoofed_syn_rst_pairs_cannot_fill_the_connection_tables)
{
	struct infergate *skel = dp_load();
	__u32 n = bpf_map__max_entries(skel->maps.conn_counts) + 4096;
	struct ig_frame s = seg("10.0.0.0", SERVER, 40000, PORT, F_SYN, 1, 0);
	struct ig_frame r = seg("10.0.0.0", SERVER, 40000, PORT, F_RST | F_ACK, 2, 0);
	struct ig_frame fin = seg(SERVER, "198.18.4.8", PORT, 35001, F_FIN | F_ACK, 9001, 1001);
	__u8 *sa = s.buf + s.l3_off + 12, *ra = r.buf + r.l3_off + 12;
	struct ig_client_key *keys;
	__s64 *vals;
	__u32 count;

	conns_setup(skel, 1);
	for (__u32 i = 0; i < n; i++) {
		sa[1] = ra[1] = (__u8)(i >> 16), sa[2] = ra[2] = (__u8)(i >> 8);
		sa[3] = ra[3] = (__u8)i;
		dp_run(skel, XDP, s.buf, s.len, NULL);
		dp_run(skel, XDP, r.buf, r.len, NULL);
	}
	ASSERT_EQ(map_entries(skel->maps.conn_counts), 0, "no client counted");
	ASSERT_EQ(connect_from(skel, TC, "198.18.4.8", SERVER, 35001), rc_pass[TC], "a new client");
	ASSERT_EQ(connect_from(skel, TC, "198.18.4.8", SERVER, 35002), rc_drop[TC],
		  "is counted: its second connection is refused");
	dp_run_egress(skel, fin.buf, fin.len, NULL);
	ASSERT_EQ(map_entries(skel->maps.conn_counts), 0, "its count went with its last connection");

	/* a table full of other clients' counts: refused, not admitted uncounted */
	count = bpf_map__max_entries(skel->maps.conn_counts);
	keys = calloc(count, sizeof(*keys));
	vals = calloc(count, sizeof(*vals));
	ASSERT_TRUE(keys && vals, "memory");
	for (__u32 i = 0; i < count; i++) {
		keys[i].addr[0] = 0xfd, keys[i].addr[12] = (__u8)(i >> 8), keys[i].addr[13] = (__u8)i;
		keys[i].port = PORT;
		vals[i] = 1;
	}
	ASSERT_OK(bpf_map_update_batch(bpf_map__fd(skel->maps.conn_counts), keys, vals, &count, NULL),
		  "fill conn_counts");
	free(keys);
	free(vals);
	ASSERT_EQ(connect_from(skel, XDP, "198.18.4.9", SERVER, 35003), rc_tx[XDP],
		  "a full table resets the connection");
	ASSERT_EQ(dp_count(skel, SLOT_TCP, IG_R_REJECT), 1, "refused, and counted so");
}

/* ---------------------------------------------------------------- held ways */

/* Finding 3: a source keeps its way in the source table while it was charged
 * in the last 5 s (IG_HOLD_NS). Sources that each got one admitted SYN every
 * few seconds held every way, and new clients were refused at level `table`
 * while the newcomer budget had room: of 1000 new clients, 42 got in. Now a
 * newcomer that paid the budget may take the way of a source not charged for
 * a second (IG_TAKE_NS), so the contest for the newcomer budget is a fair one. */
IG_TEST(held_ways_cannot_lock_new_clients_out_of_the_newcomer_budget)
{
	struct infergate *skel = dp_load();
	__u32 sets = bpf_map__max_entries(skel->maps.sources), n = 8 * sets, slot = SLOT_TCP;
	struct ig_limits lim = { .newcomer_rate = 1000, .newcomer_burst = 1000 };
	struct ig_frame s = seg("10.0.0.0", SERVER, 40000, PORT, F_SYN, 1, 0);
	__u8 *sa = s.buf + s.l3_off + 12;
	__u64 now = skel->bss->ig_test_now_ns, admitted = 0;
	struct ig_policy pol;
	__u32 idx = IG_PORT_INDEX(IG_PROTO_TCP, PORT);

	dp_limit(skel, IG_PROTO_TCP, PORT, 20, 10, IG_UNIT_CONN, IG_ACTION_DROP);
	ASSERT_OK(bpf_map__lookup_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol), 0),
		  "policy");
	pol.flags |= IG_POL_F_HIER;
	ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol), BPF_ANY),
		  "policy");
	/* the attacker's sources take every way they can (twice the table) ... */
	skel->bss->ig_test_now_ns = now - 10 * SEC_NS;
	for (__u32 i = 0; i < n; i++) {
		sa[1] = (__u8)(i >> 16), sa[2] = (__u8)(i >> 8), sa[3] = (__u8)i;
		dp_run(skel, XDP, s.buf, s.len, NULL);
	}
	/* ... and keep them with one admitted SYN each within the last 5 s */
	for (__u32 i = 0; i < n; i++) {
		skel->bss->ig_test_now_ns = now - IG_HOLD_NS + (__u64)i * (IG_HOLD_NS / n);
		sa[1] = (__u8)(i >> 16), sa[2] = (__u8)(i >> 8), sa[3] = (__u8)i;
		dp_run(skel, XDP, s.buf, s.len, NULL);
	}
	/* 1000 new clients, one SYN each, with room in the newcomer budget */
	skel->bss->ig_test_now_ns = now;
	ASSERT_OK(bpf_map__update_elem(skel->maps.port_limits, &slot, 4, &lim, sizeof(lim), BPF_ANY),
		  "a newcomer budget");
	for (__u32 i = 0; i < 1000; i++) {
		struct ig_frame c = seg("198.19.0.0", SERVER, 41000, PORT, F_SYN, 1, 0);

		c.buf[c.l3_off + 14] = (__u8)(i >> 8), c.buf[c.l3_off + 15] = (__u8)i;
		admitted += dp_run(skel, XDP, c.buf, c.len, NULL) == XDP_PASS_RC;
	}
	ASSERT_GE(admitted, 990, "new clients admitted of 1000");
}
