// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Breaker steering through BPF_PROG_TEST_RUN, on both ingress hooks and the
 * egress program: where new connections go in each state, that established
 * ones stay put, that rewritten frames carry correct checksums (checked with
 * tests/lib/frames.c, not the data path's code), and the passive health
 * counters.
 */
#include <stdlib.h>
#include <string.h>
#include "dp.h"
#include "harness.h"

#define FALLBACK 8001

static void brk_set(struct infergate *skel, __u16 port, enum ig_brk_state state,
		    enum ig_brk_force force, __u16 fallback, __s32 probes)
{
	struct ig_breaker b = { .state = state, .force = force, .fallback = fallback,
				.flags = IG_BRK_F_ON, .probes = probes };
	__u32 key = port;

	ASSERT_OK(bpf_map__update_elem(skel->maps.breakers, &key, 4, &b, sizeof(b), BPF_ANY),
		  "write a breaker");
}

static struct ig_breaker brk_get(struct infergate *skel, __u16 port)
{
	struct ig_breaker b;
	__u32 key = port;

	ASSERT_OK(bpf_map__lookup_elem(skel->maps.breakers, &key, 4, &b, sizeof(b), 0),
		  "read a breaker");
	return b;
}

/* A port's health counters summed over CPUs; all zero when it has none. */
static struct ig_health brk_health(struct infergate *skel, __u16 port)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ig_health *v = calloc((size_t)ncpu, sizeof(*v)), sum = {};
	__u32 key = port;

	ASSERT_TRUE(v != NULL, "memory");
	if (!bpf_map__lookup_elem(skel->maps.health, &key, 4, v, sizeof(*v) * (size_t)ncpu, 0)) {
		for (int c = 0; c < ncpu; c++) {
			for (int i = 0; i < IG_HTTP_MAX; i++)
				sum.http[i] += v[c].http[i];
			for (int i = 0; i < IG_ROUTE_MAX; i++)
				sum.conns[i] += v[c].conns[i];
			sum.rst += v[c].rst;
			sum.refused += v[c].refused;
		}
	}
	free(v);
	return sum;
}

/* The server's initial sequence number in server_seg()'s replies. */
#define SERVER_ISN 4999

/* The client's view of a connection: 198.18.0.1:sport -> 198.18.0.2:8000; a
 * segment with ACK acknowledges the server's SYN-ACK (server_seg()). */
static struct ig_frame client_seg(int ipv6, __u16 sport, __u32 seq, __u8 flags)
{
	struct ig_frame_spec s;

	ig_frame_defaults(&s, ipv6, IG_F_TCP);
	s.sport = sport;
	s.seq = seq;
	s.ack = flags & 0x10 ? SERVER_ISN + 1 : 0;
	s.tcp_flags = flags;
	return IG_FRAME(&s);
}

/* The server's reply on that connection, from `from_port`. */
static struct ig_frame server_seg(int ipv6, __u16 client_port, __u16 from_port, __u8 flags,
				  const char *payload)
{
	struct ig_frame_spec s;

	ig_frame_defaults(&s, ipv6, IG_F_TCP);
	if (ipv6)
		ig_frame_addrs(&s, "fd00::2", "fd00::1");
	else
		ig_frame_addrs(&s, "198.18.0.2", "198.18.0.1");
	s.sport = from_port;
	s.dport = client_port;
	s.seq = flags & 0x02 ? SERVER_ISN : SERVER_ISN + 1;
	s.ack = 1001;
	s.tcp_flags = flags;
	s.payload = payload;
	s.payload_len = payload ? strlen(payload) : 0;
	return IG_FRAME(&s);
}

/* The destination (or source) port of a frame that was built as `f`, and
 * whether its TCP checksum still holds. */
static __u16 seg_dport(const struct ig_frame *f, const struct ig_frame *layout)
{
	return ig_get16(f->buf + layout->l4_off + 2);
}

static __u16 seg_sport(const struct ig_frame *f, const struct ig_frame *layout)
{
	return ig_get16(f->buf + layout->l4_off);
}

static int seg_csum_ok(const struct ig_frame *f, const struct ig_frame *layout)
{
	return ig_l4_csum_ok(f->buf + layout->l3_off, f->buf + layout->l4_off,
			     f->len - layout->l4_off, IG_F_TCP);
}

#define FLAG_SYN 0x02
#define FLAG_ACK 0x10
#define FLAG_FIN 0x01
#define FLAG_RST 0x04
#define FLAG_PSH 0x08

/* A whole handshake from client port `sport` (ISN 1000): SYN in, the
 * SYN-ACK out of `backend` (where the SYN went), the client's ACK in. The
 * SYN as the data path left it in *out. */
static void handshake(struct infergate *skel, enum hook h, int v6, __u16 sport, __u16 backend,
		      struct ig_frame *out)
{
	struct ig_frame s = client_seg(v6, sport, 1000, FLAG_SYN);
	struct ig_frame sa = server_seg(v6, sport, backend, FLAG_SYN | FLAG_ACK, NULL);
	struct ig_frame a = client_seg(v6, sport, 1001, FLAG_ACK);

	ASSERT_EQ(dp_run(skel, h, s.buf, s.len, out), rc_pass[h], "SYN passes");
	ASSERT_EQ(dp_run_egress(skel, sa.buf, sa.len, NULL), TC_UNSPEC_RC, "SYN-ACK passes");
	ASSERT_EQ(dp_run(skel, h, a.buf, a.len, NULL), rc_pass[h], "ACK passes");
}

IG_TEST(breaker_closed_sends_new_connections_to_the_primary_untouched)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame s = client_seg(0, 40000, 1000, FLAG_SYN), out;

		brk_set(skel, PORT, IG_BRK_CLOSED, IG_FORCE_AUTO, FALLBACK, 0);
		ASSERT_EQ(dp_run(skel, h, s.buf, s.len, &out), rc_pass[h], hook_name[h]);
		ASSERT_MEMEQ(out.buf, s.buf, s.len, "frame unchanged");
		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_OTHER), 1, "counted as passed");
		ASSERT_EQ(brk_health(skel, PORT).conns[IG_ROUTE_PRIMARY], 0,
			  "a SYN alone is no connection yet");
		handshake(skel, h, 0, 40000, PORT, &out);
		ASSERT_EQ(brk_health(skel, PORT).conns[IG_ROUTE_PRIMARY], 1,
			  "counted to primary once the client acknowledged the SYN-ACK");
	}
}

IG_TEST(breaker_open_steers_the_whole_connection_to_the_fallback)
{
	for (int v6 = 0; v6 < 2; v6++)
		for (int h = 0; h < NHOOKS; h++) {
			struct infergate *skel = dp_load();
			struct ig_frame s = client_seg(v6, 40000, 1000, FLAG_SYN), out;
			struct ig_frame a = client_seg(v6, 40000, 1001, FLAG_ACK | FLAG_PSH);

			struct ig_frame sa = server_seg(v6, 40000, FALLBACK, FLAG_SYN | FLAG_ACK, NULL);
			struct ig_frame rst = server_seg(v6, 40000, FALLBACK, FLAG_RST, NULL);

			brk_set(skel, PORT, IG_BRK_OPEN, IG_FORCE_AUTO, FALLBACK, 0);
			ASSERT_EQ(dp_run(skel, h, s.buf, s.len, &out), rc_pass[h], "SYN passes");
			ASSERT_EQ(seg_dport(&out, &s), FALLBACK, "SYN goes to the fallback");
			ASSERT_TRUE(seg_csum_ok(&out, &s), "SYN checksum fixed");
			/* a retransmitted SYN (same ISN) keeps the decision */
			brk_set(skel, PORT, IG_BRK_CLOSED, IG_FORCE_AUTO, FALLBACK, 0);
			dp_run(skel, h, s.buf, s.len, &out);
			ASSERT_EQ(seg_dport(&out, &s), FALLBACK, "SYN retransmission keeps its route");
			brk_set(skel, PORT, IG_BRK_OPEN, IG_FORCE_AUTO, FALLBACK, 0);
			dp_run_egress(skel, sa.buf, sa.len, &out);
			ASSERT_EQ(seg_sport(&out, &sa), PORT, "the fallback's SYN-ACK from the dialed port");
			ASSERT_EQ(dp_run(skel, h, a.buf, a.len, &out), rc_pass[h], "ACK passes");
			ASSERT_EQ(seg_dport(&out, &a), FALLBACK, "ACK follows the SYN");
			ASSERT_TRUE(seg_csum_ok(&out, &a), "ACK checksum fixed");
			ASSERT_EQ(dp_count(skel, 0, IG_R_STEERED), 3, "counted as steered");
			ASSERT_EQ(brk_health(skel, PORT).conns[IG_ROUTE_FALLBACK], 1, "one connection");

			/* the breaker closes: the steered connection stays steered */
			brk_set(skel, PORT, IG_BRK_CLOSED, IG_FORCE_AUTO, FALLBACK, 0);
			ASSERT_EQ(dp_run(skel, h, a.buf, a.len, &out), rc_pass[h], "ACK passes");
			ASSERT_EQ(seg_dport(&out, &a), FALLBACK, "still the fallback after closing");
			/* a SYN on its ports cannot move it either, whatever its ISN */
			s = client_seg(v6, 40000, 777777, FLAG_SYN);
			dp_run(skel, h, s.buf, s.len, &out);
			ASSERT_EQ(seg_dport(&out, &s), FALLBACK, "a SYN on an established connection's ports");
			/* once the server reset it, a new connection is decided anew */
			dp_run_egress(skel, rst.buf, rst.len, NULL);
			dp_run(skel, h, s.buf, s.len, &out);
			ASSERT_EQ(seg_dport(&out, &s), PORT, "a new connection goes to the primary");
		}
}

IG_TEST(breaker_opening_never_moves_an_established_connection)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame s = client_seg(0, 40000, 1000, FLAG_SYN), out;
		struct ig_frame a = client_seg(0, 40000, 1001, FLAG_ACK);
		struct ig_frame old = client_seg(0, 39999, 50, FLAG_ACK);

		brk_set(skel, PORT, IG_BRK_CLOSED, IG_FORCE_AUTO, FALLBACK, 0);
		dp_run(skel, h, s.buf, s.len, &out);
		brk_set(skel, PORT, IG_BRK_OPEN, IG_FORCE_AUTO, FALLBACK, 0);
		ASSERT_EQ(dp_run(skel, h, a.buf, a.len, &out), rc_pass[h], hook_name[h]);
		ASSERT_MEMEQ(out.buf, a.buf, a.len, "decided at its SYN: the primary");
		/* a connection the table never saw (older than the breaker) stays too */
		ASSERT_EQ(dp_run(skel, h, old.buf, old.len, &out), rc_pass[h], "unknown flow");
		ASSERT_MEMEQ(out.buf, old.buf, old.len, "unknown flow left alone");
	}
}

IG_TEST(breaker_open_without_fallback_refuses_with_a_rst)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame s = client_seg(0, 40000, 1000, FLAG_SYN), out;

		brk_set(skel, PORT, IG_BRK_OPEN, IG_FORCE_AUTO, 0, 0);
		ASSERT_EQ(dp_run(skel, h, s.buf, s.len, &out), rc_tx[h], "SYN answered");
		ASSERT_EQ(out.buf[s.l4_off + 13], FLAG_RST | FLAG_ACK, "with RST|ACK");
		ASSERT_EQ(ig_get32(out.buf + s.l4_off + 8), 1001, "acking the SYN");
		ASSERT_EQ(seg_sport(&out, &s), PORT, "from the dialed port");
		ASSERT_TRUE(seg_csum_ok(&out, &s), "RST checksum");
		ASSERT_EQ(dp_count(skel, 0, IG_R_REJECT_OPEN), 1, "counted as refused");
		ASSERT_EQ(brk_health(skel, PORT).refused, 1, "health counts it");
	}
}

IG_TEST(breaker_half_open_lets_exactly_k_probes_through)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame out;

		brk_set(skel, PORT, IG_BRK_HALF_OPEN, IG_FORCE_AUTO, FALLBACK, 2);
		for (int i = 0; i < 5; i++) {
			struct ig_frame s = client_seg(0, (__u16)(41000 + i), 1000, FLAG_SYN);

			handshake(skel, h, 0, (__u16)(41000 + i), i < 2 ? PORT : FALLBACK, &out);
			ASSERT_EQ(seg_dport(&out, &s), i < 2 ? PORT : FALLBACK,
				  i < 2 ? "probe to the primary" : "then the fallback");
		}
		ASSERT_EQ(brk_get(skel, PORT).probes, 0, "budget spent");
		ASSERT_EQ(dp_count(skel, 0, IG_R_PASS_PROBE), 2, "counted as probes");
		ASSERT_EQ(brk_health(skel, PORT).conns[IG_ROUTE_PROBE], 2, "health: probes");
		ASSERT_EQ(brk_health(skel, PORT).conns[IG_ROUTE_FALLBACK], 3, "health: fallback");
	}
}

IG_TEST(breaker_forced_state_overrides_the_agents)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame s1 = client_seg(0, 41001, 1000, FLAG_SYN), out;
		struct ig_frame s2 = client_seg(0, 41002, 1000, FLAG_SYN);
		struct ig_frame s3 = client_seg(0, 41003, 1000, FLAG_SYN);

		brk_set(skel, PORT, IG_BRK_OPEN, IG_FORCE_CLOSED, FALLBACK, 0);
		dp_run(skel, h, s1.buf, s1.len, &out);
		ASSERT_EQ(seg_dport(&out, &s1), PORT, "forced closed beats open");
		brk_set(skel, PORT, IG_BRK_CLOSED, IG_FORCE_OPEN, FALLBACK, 0);
		dp_run(skel, h, s2.buf, s2.len, &out);
		ASSERT_EQ(seg_dport(&out, &s2), FALLBACK, "forced open beats closed");
		/* an unknown state value (a bpftool typo) fails towards the primary */
		brk_set(skel, PORT, (enum ig_brk_state)7, IG_FORCE_AUTO, FALLBACK, 0);
		dp_run(skel, h, s3.buf, s3.len, &out);
		ASSERT_EQ(seg_dport(&out, &s3), PORT, "unknown state: primary");
	}
}

IG_TEST(breaker_sits_behind_the_limiter)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame s1 = client_seg(0, 41001, 1000, FLAG_SYN), out;
		struct ig_frame s2 = client_seg(0, 41002, 1000, FLAG_SYN);

		dp_limit(skel, IG_PROTO_TCP, PORT, 1, 1, IG_UNIT_CONN, IG_ACTION_DROP);
		brk_set(skel, PORT, IG_BRK_OPEN, IG_FORCE_AUTO, FALLBACK, 0);
		ASSERT_EQ(dp_run(skel, h, s1.buf, s1.len, &out), rc_pass[h], "admitted");
		ASSERT_EQ(seg_dport(&out, &s1), FALLBACK, "and steered");
		ASSERT_EQ(dp_run(skel, h, s2.buf, s2.len, &out), rc_drop[h], "over the limit");
		ASSERT_EQ(dp_count(skel, 1, IG_R_STEERED), 1, "steered, in the port's slot");
		ASSERT_EQ(dp_count(skel, 1, IG_R_DROP_LIMIT), 1, "dropped, in the port's slot");
	}
}

IG_TEST(breaker_udp_to_the_port_is_not_steered)
{
	struct infergate *skel = dp_load();
	struct ig_frame_spec sp;
	struct ig_frame u, out;

	ig_frame_defaults(&sp, 0, IG_F_UDP);
	u = IG_FRAME(&sp);
	brk_set(skel, PORT, IG_BRK_OPEN, IG_FORCE_AUTO, FALLBACK, 0);
	for (int h = 0; h < NHOOKS; h++) {
		ASSERT_EQ(dp_run(skel, h, u.buf, u.len, &out), rc_pass[h], hook_name[h]);
		ASSERT_MEMEQ(out.buf, u.buf, u.len, "UDP untouched");
	}
}

IG_TEST(breaker_egress_gives_steered_replies_the_dialed_port)
{
	for (int v6 = 0; v6 < 2; v6++)
		for (int h = 0; h < NHOOKS; h++) {
			struct infergate *skel = dp_load();
			struct ig_frame s = client_seg(v6, 40000, 1000, FLAG_SYN), out;
			struct ig_frame sa = server_seg(v6, 40000, FALLBACK, FLAG_SYN | FLAG_ACK, NULL);
			struct ig_frame other = server_seg(v6, 40001, FALLBACK, FLAG_ACK, NULL);
			struct ig_frame fin = server_seg(v6, 40000, FALLBACK, FLAG_FIN | FLAG_ACK, NULL);
			struct ig_frame rst = server_seg(v6, 40000, FALLBACK, FLAG_RST, NULL);
			struct ig_frame a = client_seg(v6, 40000, 1001, FLAG_ACK);

			brk_set(skel, PORT, IG_BRK_OPEN, IG_FORCE_AUTO, FALLBACK, 0);
			dp_run(skel, h, s.buf, s.len, &out);
			ASSERT_EQ(dp_run_egress(skel, sa.buf, sa.len, &out), TC_UNSPEC_RC, "passes");
			ASSERT_EQ(seg_sport(&out, &sa), PORT, "SYN-ACK from the dialed port");
			ASSERT_TRUE(seg_csum_ok(&out, &sa), "SYN-ACK checksum fixed");
			dp_run(skel, h, a.buf, a.len, &out); /* established */
			/* the fallback's own connections are not touched */
			dp_run_egress(skel, other.buf, other.len, &out);
			ASSERT_MEMEQ(out.buf, other.buf, other.len, "unsteered reply untouched");
			/* FIN: rewritten, and the flow lingers for the last ACKs */
			dp_run_egress(skel, fin.buf, fin.len, &out);
			ASSERT_EQ(seg_sport(&out, &fin), PORT, "FIN from the dialed port");
			dp_run(skel, h, a.buf, a.len, &out);
			ASSERT_EQ(seg_dport(&out, &a), FALLBACK, "last ACK still steered");
			/* past the linger time the flow is forgotten */
			skel->bss->ig_test_now_ns += IG_FLOW_LINGER_NS + 1;
			dp_run(skel, h, a.buf, a.len, &out);
			ASSERT_EQ(seg_dport(&out, &a), PORT, "forgotten after the linger time");

			/* RST forgets at once */
			s = client_seg(v6, 40000, 2000, FLAG_SYN);
			dp_run(skel, h, s.buf, s.len, &out);
			dp_run_egress(skel, sa.buf, sa.len, &out);
			dp_run(skel, h, a.buf, a.len, &out);
			ASSERT_EQ(seg_dport(&out, &a), FALLBACK, "a second connection, steered");
			dp_run_egress(skel, rst.buf, rst.len, &out);
			ASSERT_EQ(seg_sport(&out, &rst), PORT, "RST from the dialed port");
			dp_run(skel, h, a.buf, a.len, &out);
			ASSERT_EQ(seg_dport(&out, &a), PORT, "forgotten after RST");
		}
}

IG_TEST(breaker_egress_counts_the_primarys_answers)
{
	struct infergate *skel = dp_load();
	struct ig_frame ok = server_seg(0, 40000, PORT, FLAG_ACK | FLAG_PSH,
					"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	struct ig_frame bad = server_seg(0, 40001, PORT, FLAG_ACK | FLAG_PSH,
					 "HTTP/1.0 503 Service Unavailable\r\n\r\n");
	struct ig_frame notfound = server_seg(0, 40001, PORT, FLAG_ACK | FLAG_PSH, "HTTP/1.1 404 ");
	struct ig_frame body = server_seg(0, 40000, PORT, FLAG_ACK, "{\"HTTP/1.1 500\": 1}");
	struct ig_frame shortp = server_seg(0, 40000, PORT, FLAG_ACK, "HTTP/1.1 50");
	struct ig_frame rst = server_seg(0, 40002, PORT, FLAG_RST | FLAG_ACK, NULL);
	struct ig_frame elsewhere = server_seg(0, 40000, 9000, FLAG_ACK, "HTTP/1.1 500 x");
	struct ig_health hl;

	brk_set(skel, PORT, IG_BRK_CLOSED, IG_FORCE_AUTO, FALLBACK, 0);
	dp_run_egress(skel, ok.buf, ok.len, NULL);
	dp_run_egress(skel, ok.buf, ok.len, NULL);
	dp_run_egress(skel, bad.buf, bad.len, NULL);
	dp_run_egress(skel, notfound.buf, notfound.len, NULL);
	dp_run_egress(skel, body.buf, body.len, NULL);
	dp_run_egress(skel, shortp.buf, shortp.len, NULL);
	dp_run_egress(skel, rst.buf, rst.len, NULL);
	dp_run_egress(skel, elsewhere.buf, elsewhere.len, NULL);
	hl = brk_health(skel, PORT);
	ASSERT_EQ(hl.http[IG_HTTP_2XX], 2, "2xx");
	ASSERT_EQ(hl.http[IG_HTTP_4XX], 1, "4xx");
	ASSERT_EQ(hl.http[IG_HTTP_5XX], 1, "5xx: only status lines count");
	ASSERT_EQ(hl.rst, 1, "RST from the primary");
	ASSERT_EQ(brk_health(skel, 9000).http[IG_HTTP_5XX], 0, "ports without a breaker: nothing");
}
