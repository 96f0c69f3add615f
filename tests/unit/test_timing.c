// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Response times (issue 15): the histogram's buckets and quantiles
 * (bpf/pure/timing.h), and when the response reader (pure/resp_read.h) takes
 * a response's first token and its end: each stream fed in segments, each
 * segment at its own time, as the egress program sees them.
 */
#include <string.h>
#include "pure/timing.h"
#include "pure/resp_read.h"
#include "harness.h"

IG_TEST(timing_buckets_are_powers_of_two_ms)
{
	ASSERT_EQ(ig_time_bucket(0), 0, "nothing");
	ASSERT_EQ(ig_time_bucket(1000000), 0, "1 ms is <= 1 ms");
	ASSERT_EQ(ig_time_bucket(1000001), 1, "just over 1 ms");
	ASSERT_EQ(ig_time_bucket(2000000), 1, "2 ms");
	ASSERT_EQ(ig_time_bucket(4000000), 2, "one tick at HZ=250");
	ASSERT_EQ(ig_time_bucket(1000000000ULL), 10, "1 s <= 1024 ms");
	ASSERT_EQ(ig_time_bucket(65536000000ULL), 16, "the last finite bound");
	ASSERT_EQ(ig_time_bucket(65537000000ULL), IG_TIME_BUCKETS - 1, "+Inf");
	ASSERT_EQ(ig_time_bucket(~0ULL), IG_TIME_BUCKETS - 1, "+Inf, far");
	/* every bound exactly: t <= le lands at or below k, t > le above */
	for (__u32 k = 0; k + 1 < IG_TIME_BUCKETS; k++) {
		__u64 le = ig_time_le_ms(k) * 1000000ULL;

		ASSERT_EQ(ig_time_bucket(le), k, "at the bound");
		ASSERT_EQ(ig_time_bucket(le + 1), k + 1, "past the bound");
	}
}

IG_TEST(timing_quantiles_interpolate_in_the_bucket)
{
	__u64 b[IG_TIME_BUCKETS] = {};

	ASSERT_TRUE(ig_time_quantile_ms(b, 0.5) == 0, "empty");
	b[6] = 100; /* 100 times in (32, 64] ms */
	ASSERT_TRUE(ig_time_quantile_ms(b, 0.5) == 48, "the middle of its bucket");
	ASSERT_TRUE(ig_time_quantile_ms(b, 1.0) == 64, "its top");
	b[12] = 1; /* one in (2048, 4096] */
	ASSERT_TRUE(ig_time_quantile_ms(b, 0.99) < 64.01, "p99 of 101 is the 100th");
	ASSERT_TRUE(ig_time_quantile_ms(b, 1.0) == 4096, "the slow one");
	memset(b, 0, sizeof(b));
	b[IG_TIME_BUCKETS - 1] = 3;
	ASSERT_TRUE(ig_time_quantile_ms(b, 0.5) == 65536, "+Inf answers its lower bound");
}

/* A segment at jiffies `now`, the socket's last data at `rcv`. */
struct seg {
	const char *s;
	__u32 now, rcv;
};

struct times {
	__u32 nttft, ttft_j, ndur, dur_j;
};

static struct times feed(struct ig_resp_state *st, const struct seg *segs, int n)
{
	static struct ig_resp_io io;
	struct times t = {};
	static __u32 seq = 5000;

	for (int i = 0; i < n; i++) {
		__u32 len = (__u32)strlen(segs[i].s), k;

		memset(&io, 0, sizeof(io));
		io.bpt = 4;
		io.mode = IG_TC_USAGE;
		io.jnow = segs[i].now;
		io.jrcv = segs[i].rcv;
		io.pos = ig_resp_begin(st, &io, seq, len, 1);
		io.end = len;
		for (k = 0; k < 4096 && ig_resp_step((const __u8 *)segs[i].s, st, &io); k++)
			;
		seq += len;
		if (io.out.nttft) {
			t.nttft += io.out.nttft;
			t.ttft_j = io.out.ttft_j;
		}
		if (io.out.ndur) {
			t.ndur += io.out.ndur;
			t.dur_j = io.out.dur_j;
		}
	}
	return t;
}

IG_TEST(timing_json_first_byte_and_end)
{
	struct ig_resp_state st = {};
	const struct seg segs[] = {
		{ "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n01234",
		  1050, 1000 },
		/* the client sent more meanwhile: the request's time was taken */
		{ "56789", 1070, 1060 },
	};
	struct times t = feed(&st, segs, 2);

	ASSERT_EQ(t.nttft, 1, "one first token");
	ASSERT_EQ(t.ttft_j, 50, "at the head");
	ASSERT_EQ(t.ndur, 1, "one end");
	ASSERT_EQ(t.dur_j, 70, "at the last byte, from the request");
}

IG_TEST(timing_stream_first_event_not_head)
{
	struct ig_resp_state st = {};
	const struct seg segs[] = {
		{ "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
		  "transfer-encoding: chunked\r\n\r\n", 2005, 2000 },
		{ "9\r\n: ping\n\n\r\n", 2100, 2000 },
		{ "12\r\ndata: {\"a\":\"b\"}\n\n\r\n", 2300, 2000 },
		{ "12\r\ndata: {\"a\":\"c\"}\n\n\r\n", 2400, 2000 },
		{ "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n", 2500, 2000 },
	};
	struct times t = feed(&st, segs, 5);

	/* the first chunk, a comment: servers send those to keep a stream
	 * alive, before any token; it is what a client sees first all the same */
	ASSERT_EQ(t.nttft, 1, "one first token");
	ASSERT_EQ(t.ttft_j, 100, "at the first chunk, not the head");
	ASSERT_EQ(t.ndur, 1, "one end");
	ASSERT_EQ(t.dur_j, 500, "at the last chunk");
}

IG_TEST(timing_keepalive_each_response_its_request)
{
	struct ig_resp_state st = {};
	const struct seg segs[] = {
		{ "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", 110, 100 },
		{ "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", 530, 500 },
		/* an interim response: the first token is the real head's */
		{ "HTTP/1.1 100 Continue\r\n\r\n", 905, 900 },
		{ "HTTP/1.1 204 No Content\r\n\r\n", 960, 950 },
	};
	struct times t = feed(&st, segs, 2);

	ASSERT_EQ(t.nttft, 2, "two first tokens");
	ASSERT_EQ(t.ndur, 2, "two ends");
	ASSERT_EQ(t.dur_j, 30, "the second from its own request");
	t = feed(&st, segs + 2, 2);
	ASSERT_EQ(t.nttft, 1, "the 204's head");
	ASSERT_EQ(t.ttft_j, 60, "from the request that the 100 answered");
	ASSERT_EQ(t.ndur, 1, "the 204 ends at its head");
}

/* A response whose framing is lost is not timed: where it ends is unknown. */
IG_TEST(timing_lost_framing_has_no_end)
{
	struct ig_resp_state st = {};
	const struct seg segs[] = {
		{ "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 50, 10 },
	};
	struct times t = feed(&st, segs, 1);

	ASSERT_EQ(t.nttft, 1, "its head was seen");
	ASSERT_EQ(t.ndur, 0, "no end");
	/* a body to the close, likewise */
	memset(&st, 0, sizeof(st));
	{
		const struct seg s2[] = { { "HTTP/1.0 200 OK\r\n\r\nuntil the close", 50, 10 } };

		t = feed(&st, s2, 1);
		ASSERT_EQ(t.ndur, 0, "no end");
	}
}
