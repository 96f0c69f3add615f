// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The `request` unit's answers as the loaded data path sends them
 * (BPF_PROG_TEST_RUN, both hooks, both families): the HTTP/1.1 429 and the
 * h2c one, their IP and TCP checksums (in BPF the payload's sum is the
 * kernel's csum_diff; natively ig_http_sum(), which the unit tests check),
 * and a segment starting more requests than the burst. A test run has no
 * socket, so each connection's http_conns entry is put there first, as the
 * bench does (the netns suites run the real thing).
 */
#define _GNU_SOURCE
#include <string.h>
#include <bpf/bpf.h>
#include "dp.h"
#include "frames.h"
#include "harness.h"
#include "pure/http_reply.h"
#include "pure/parse.h"
#include "pure/steer.h"

#define SEQ 1000
#define ACK 777000

static const char req[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
			  "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

/* An h2 HEADERS frame opening stream 13 (its block is never decoded). */
static const unsigned char h2_headers[] = { 0, 0, 4, 1, 5, 0, 0, 0, 13, 0x82, 0x86, 0x84, 0x41 };

static struct ig_frame data_frame(int v6, const void *payload, size_t len)
{
	struct ig_frame_spec s;

	ig_frame_defaults(&s, v6, IG_F_TCP);
	s.tcp_flags = IG_TCP_ACK | IG_TCP_PSH;
	s.seq = SEQ;
	s.ack = ACK;
	s.payload = payload;
	s.payload_len = len;
	return IG_FRAME(&s);
}

static struct ig_flow_key conn_key(int v6)
{
	struct ig_flow_key k;
	__u8 c[16] = {}, sv[16] = {};

	if (v6) {
		c[0] = sv[0] = 0xfd;
		c[15] = 1;
		sv[15] = 2;
	} else {
		ig_map_v4(c, ig_htonl(0xc6120001));
		ig_map_v4(sv, ig_htonl(0xc6120002));
	}
	ig_flow_key_make(&k, c, sv, 40000, 8000, IG_DIR_HTTP);
	return k;
}

/* The connection followed to SEQ, its scanner in state st (as stored). */
static void conn_put(struct infergate *skel, int v6, enum ig_http_scan st)
{
	struct ig_flow_key k = conn_key(v6);
	struct ig_http_conn v = {};

	v.scan.state = (__u8)(st ^ IG_HS_START);
	v.prev_scan = v.scan;
	v.next_seq = v.prev_seq = SEQ;
	ASSERT_OK(bpf_map__update_elem(skel->maps.http_conns, &k, sizeof(k), &v, sizeof(v),
				       BPF_ANY), "put the connection's entry");
}

static void conn_del(struct infergate *skel, int v6)
{
	struct ig_flow_key k = conn_key(v6);

	bpf_map__delete_elem(skel->maps.http_conns, &k, sizeof(k), 0);
}

/* The reply in out: turned round, FIN|PSH|ACK, seq = the request's ack, ack
 * past the request, both checksums right; its payload returned. */
static const __u8 *reply_ok(const struct ig_frame *out, int v6, size_t req_len, size_t *len)
{
	const __u8 *l3 = out->buf + 14, *th = l3 + (v6 ? 40 : 20);
	size_t l4len = out->len - 14 - (v6 ? 40 : 20);

	ASSERT_TRUE(out->len > 14 + (v6 ? 40u : 20u) + 20, "a reply with a payload");
	if (!v6)
		ASSERT_TRUE(ig_ipv4_csum_ok(l3), "IPv4 checksum");
	ASSERT_EQ(ig_get16(th), 8000, "from the server's port");
	ASSERT_EQ(ig_get16(th + 2), 40000, "to the client's");
	ASSERT_EQ(ig_get32(th + 4), ACK, "seq: where the server's stream stands");
	ASSERT_EQ(ig_get32(th + 8), SEQ + req_len, "acknowledges the request");
	ASSERT_EQ(th[13], IG_TCP_FIN | IG_TCP_PSH | IG_TCP_ACK, "FIN|PSH|ACK");
	ASSERT_TRUE(ig_l4_csum_ok(l3, th, l4len, IG_F_TCP), "TCP checksum over the reply");
	*len = l4len - 20;
	return th + 20;
}

/* At burst 1, a data segment of the connection in state st admitted, then
 * refused with reject: the reply's payload (reply_ok()), and the skeleton. */
static const __u8 *refused_reply_at(enum hook h, int v6, const void *payload, size_t len,
				    enum ig_http_scan st, struct ig_frame *out, size_t *n,
				    __u64 rate)
{
	struct infergate *skel = dp_load();
	struct ig_frame f = data_frame(v6, payload, len);
	const __u8 *pl;

	dp_limit(skel, IG_PROTO_TCP, 8000, rate, 1, IG_UNIT_REQUEST, IG_ACTION_REJECT);
	conn_put(skel, v6, st);
	ASSERT_EQ(dp_run(skel, h, f.buf, f.len, out), rc_pass[h], "the first admitted");
	conn_put(skel, v6, st);
	ASSERT_EQ(dp_run(skel, h, f.buf, f.len, out), rc_tx[h], "the second: a 429");
	pl = reply_ok(out, v6, len, n);
	conn_del(skel, v6);
	return pl;
}

static const __u8 *refused_reply(enum hook h, int v6, const void *payload, size_t len,
				 enum ig_http_scan st, struct ig_frame *out, size_t *n)
{
	return refused_reply_at(h, v6, payload, len, st, out, n, 1);
}

/* At 3/min the client is told 20 s, 20000 ms, and a limit of 3 requests a
 * minute; at 500/d, 172.8 s (173 whole seconds) and a limit of 500. */
IG_TEST(request_429_at_a_rate_per_minute_and_per_day)
{
	static const struct {
		__u64 n, period;
		const char *retry, *ms, *limit, *reset;
	} c[] = {
		{ 3, 60, "retry-after: 20 ", "retry-after-ms: 20000 ",
		  "x-ratelimit-limit-requests: 00000003\r\n",
		  "x-ratelimit-reset-requests: 00020000ms\r\n" },
		{ 500, 86400, "retry-after: 173 ", "retry-after-ms: 172800 ",
		  "x-ratelimit-limit-requests: 00000500\r\n",
		  "x-ratelimit-reset-requests: 00172800ms\r\n" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		for (int h = 0; h < NHOOKS; h++) {
			struct ig_frame out;
			size_t n;
			const __u8 *pl = refused_reply_at(h, 0, req, sizeof(req) - 1, IG_HS_START,
							  &out, &n,
							  ig_rate_make(c[i].n, c[i].period, 1));
			char text[IG_HTTP_429_MAX + 1];

			memcpy(text, pl, n < IG_HTTP_429_MAX ? n : IG_HTTP_429_MAX);
			text[n < IG_HTTP_429_MAX ? n : IG_HTTP_429_MAX] = 0;
			ASSERT_TRUE(strcasestr(text, c[i].retry) != NULL, c[i].retry);
			ASSERT_TRUE(strcasestr(text, c[i].ms) != NULL, c[i].ms);
			ASSERT_TRUE(strstr(text, c[i].limit) != NULL, c[i].limit);
			ASSERT_TRUE(strstr(text, c[i].reset) != NULL, c[i].reset);
		}
	}
}

IG_TEST(request_429_leaves_with_right_checksums)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int v6 = 0; v6 < 2; v6++) {
			struct ig_frame out;
			size_t n;
			const __u8 *pl = refused_reply(h, v6, req, sizeof(req) - 1, IG_HS_START,
						       &out, &n);

			ASSERT_EQ(n, IG_HTTP_429_LEN, "the whole 429");
			ASSERT_TRUE(!memcmp(pl, "HTTP/1.1 429 Too Many Requests\r\n", 32), "status line");
		}
	}
}

IG_TEST(request_h2c_429_is_frames_on_the_refused_stream)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int v6 = 0; v6 < 2; v6++) {
			struct ig_frame out;
			size_t n;
			const __u8 *pl = refused_reply(h, v6, h2_headers, sizeof(h2_headers),
						       IG_HS_H2, &out, &n);

			ASSERT_EQ(n, IG_H2_429_LEN, "the h2 429");
			ASSERT_EQ(pl[IG_H2_429_HEADERS_AT + 3], 1, "a HEADERS frame");
			ASSERT_EQ(ig_get32(pl + IG_H2_429_HEADERS_AT + 5), 13, "on stream 13");
			ASSERT_EQ(pl[IG_H2_429_GOAWAY_AT + 3], 7, "then GOAWAY");
			ASSERT_EQ(ig_get32(pl + IG_H2_429_GOAWAY_AT + 9), 13, "naming stream 13");
		}
	}
}

/* Three requests back to back (pipelined) in buf: their length. */
static size_t three_requests(char *buf)
{
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		memcpy(buf + n, req, sizeof(req) - 1);
		n += sizeof(req) - 1;
	}
	return n;
}

/* Three requests in one segment at burst 2: admitted from the full bucket,
 * the source then owes one; the next request is refused. */
IG_TEST(request_segment_above_the_burst_is_admitted_into_debt)
{
	char three[3 * sizeof(req)];
	size_t n = three_requests(three);
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = dp_load();
		struct ig_frame f = data_frame(0, three, n), one = data_frame(0, req, sizeof(req) - 1);
		struct ig_frame out;

		dp_limit(skel, IG_PROTO_TCP, 8000, 1, 2, IG_UNIT_REQUEST, IG_ACTION_DROP);
		conn_put(skel, 0, IG_HS_START);
		ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &out), rc_pass[h], "3 requests at burst 2");
		conn_put(skel, 0, IG_HS_START);
		ASSERT_EQ(dp_run(skel, h, one.buf, one.len, &out), rc_drop[h], "then one more: owed");
		conn_del(skel, 0);
	}
}

/* An IP-fragmented data segment: its first fragment holds one request, the
 * others (no TCP header, passed unread) could hold any number more, which
 * the kernel would reassemble uncounted. Refused, both families; a whole
 * segment with the same request is admitted (the control). */
IG_TEST(request_first_fragment_is_refused)
{
	for (int h = 0; h < NHOOKS; h++) {
		for (int v6 = 0; v6 < 2; v6++) {
			struct infergate *skel = dp_load();
			struct ig_frame_spec s;
			struct ig_frame f, whole = data_frame(v6, req, sizeof(req) - 1), out;

			ig_frame_defaults(&s, v6, IG_F_TCP);
			s.tcp_flags = IG_TCP_ACK | IG_TCP_PSH;
			s.seq = SEQ;
			s.ack = ACK;
			s.payload = req;
			s.payload_len = sizeof(req) - 1;
			if (v6)
				ig_frame_add_frag(&s, 0, 1);
			else
				s.frag_off = IG_F_MF;
			f = IG_FRAME(&s);
			dp_limit(skel, IG_PROTO_TCP, 8000, 1, 5, IG_UNIT_REQUEST, IG_ACTION_DROP);
			conn_put(skel, v6, IG_HS_START);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &out), rc_drop[h], "a first fragment");
			ASSERT_EQ(dp_count(skel, 1, IG_R_DROP_FRAGMENT), 1, "counted drop_fragment");
			ASSERT_EQ(dp_run(skel, h, whole.buf, whole.len, &out), rc_pass[h],
				  "the same request unfragmented");
			conn_del(skel, v6);
		}
	}
}

/* A GRO train on TC holding three requests (three segments of one each,
 * coalesced): charged three, so at burst 4 the next train of three is over
 * the limit; with reject it cannot become one 429 (a train is no single
 * segment to answer): dropped, its framing taken back, and each segment is
 * counted again when it comes back on its own. */
IG_TEST(request_gro_train_on_tc_counts_each_request)
{
	char three[3 * sizeof(req)];
	size_t n = three_requests(three);
	for (int action = 0; action < 2; action++) {
		struct infergate *skel = dp_load();
		struct ig_frame f = data_frame(0, three, n);
		struct ig_flow_key k = conn_key(0);
		struct ig_http_conn v;

		dp_limit(skel, IG_PROTO_TCP, 8000, 1, 4, IG_UNIT_REQUEST,
			 action ? IG_ACTION_REJECT : IG_ACTION_DROP);
		conn_put(skel, 0, IG_HS_START);
		ASSERT_EQ(dp_run_tc_gro(skel, f.buf, f.len, 3), rc_pass[TC], "a train of 3 requests at burst 4");
		ASSERT_OK(bpf_map__lookup_elem(skel->maps.http_conns, &k, sizeof(k), &v, sizeof(v), 0),
			  "the entry");
		ASSERT_EQ(v.next_seq, SEQ + n, "followed past the train");
		conn_put(skel, 0, IG_HS_START);
		ASSERT_EQ(dp_run_tc_gro(skel, f.buf, f.len, 3), rc_drop[TC], "the same 3 again: 1 token left");
		ASSERT_OK(bpf_map__lookup_elem(skel->maps.http_conns, &k, sizeof(k), &v, sizeof(v), 0),
			  "the entry");
		ASSERT_EQ(v.next_seq, SEQ, "the refused train's framing taken back");
		ASSERT_EQ(dp_count(skel, 1, action ? IG_R_DROP_REPLY_FAIL : IG_R_DROP_LIMIT), 1,
			  action ? "drop_reply_fail (no 429 for a train)" : "drop_limit");
		conn_del(skel, 0);
	}
}
