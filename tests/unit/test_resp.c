// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The token counter's reading of responses (bpf/pure/resp_read.h, resp_scan.h), natively:
 * each stream is fed as the egress program sees it, in segments cut at every
 * place (or at random places), and what it charged is compared with what the
 * response says it cost.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "pure/resp_read.h"
#include "harness.h"

static unsigned long long rng_state = 0x2545f4914f6cdd1dULL;

/* What a stream cost when fed in segments of the given lengths (0-terminated;
 * the last one takes the rest). rx: bytes the socket had received. */
struct run {
	__s64 charged;
	__u32 responses[IG_TC_MAX];
	__s64 tokens[IG_TC_MAX];
	__u8 phase;
};

static struct run feed_cuts(const char *s, size_t len, const size_t *cuts, __u64 rx, __u32 mode)
{
	struct ig_resp_state st = {};
	static struct ig_resp_io io;
	struct run r = {};
	size_t off = 0, i = 0;
	__u32 seq = 1000;

	while (off < len) {
		size_t n = cuts && cuts[i] ? cuts[i++] : len - off;
		__u32 from, k;

		if (n > len - off)
			n = len - off;
		memset(&io, 0, sizeof(io));
		io.bpt = 4;
		io.mode = mode;
		io.rx = rx;
		io.poff = 0;
		from = ig_resp_begin(&st, &io, seq, (__u32)n, 1);
		io.pos = from;
		io.end = (__u32)n;
		for (k = 0; k < 4096 && ig_resp_step((const __u8 *)s + off, &st, &io); k++)
			;
		r.charged += io.out.add;
		for (k = 0; k < IG_TC_MAX; k++) {
			r.responses[k] += io.out.responses[k];
			r.tokens[k] += io.out.tokens[k];
		}
		seq += (__u32)n;
		off += n;
	}
	r.phase = st.phase;
	return r;
}

static struct run feed(const char *s, __u64 rx, __u32 mode)
{
	return feed_cuts(s, strlen(s), NULL, rx, mode);
}

static const char json_usage[] =
	"HTTP/1.1 200 OK\r\ndate: Mon, 30 Nov 2026 15:00:00 GMT\r\nserver: uvicorn\r\n"
	"content-length: 425\r\ncontent-type: application/json\r\n\r\n"
	"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
	"\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
	"\"say \\\"usage\\\":{\\\"total_tokens\\\":1} usage\"},\"finish_reason\":\"stop\"}],"
	"\"usage\":{\"prompt_tokens\":17,\"completion_tokens\":83,\"total_tokens\":100,"
	"\"prompt_tokens_details\":{\"cached_tokens\":5},\"completion_tokens_details\":null},"
	"\"system_fingerprint\":\"fp\",\"service_tier\":\"default\",\"extra\":[1,2,{\"a\":3}]}   ";

IG_TEST(resp_hashes_are_of_their_names)
{
	static const struct {
		__u32 h;
		const char *s;
	} t[] = {
		{ IG_H_CL, "Content-Length" },	  { IG_H_TE, "transfer-encoding" },
		{ IG_H_CT, "content-type" },	  { IG_H_CE, "Content-Encoding" },
		{ IG_V_SSE, "text/event-stream" }, { IG_V_JSON, "application/json" },
		{ IG_V_IDENTITY, "identity" },	  { IG_K_PROMPT, "prompt_tokens" },
		{ IG_K_COMPLETION, "completion_tokens" }, { IG_K_TOTAL, "total_tokens" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		__u32 h = IG_FNV_INIT;

		for (const char *c = t[i].s; *c; c++)
			h = ig_fnv(h, (__u8)*c);
		ASSERT_EQ(h, t[i].h, t[i].s);
	}
	ASSERT_EQ(IG_LIT_AT(IG_LIT_HTTP, 0), 'H', "HTTP/");
	ASSERT_EQ(IG_LIT_AT(IG_LIT_HTTP, 4), '/', "HTTP/");
	ASSERT_EQ(IG_LIT_AT(IG_LIT_USAGE, 6), '"', "\"usage\"");
}

/* The body's usage, not the word in the content: at every cut, twice cut. */
IG_TEST(resp_json_usage_at_every_cut)
{
	size_t len = strlen(json_usage);
	const char *body = strstr(json_usage, "\r\n\r\n") + 4;

	ASSERT_EQ(strlen(body), 425, "the Content-Length is the body");
	for (size_t a = 1; a < len; a++) {
		size_t cuts[3] = { a, 1 + (a * 7919) % 300, 0 };
		struct run r = feed_cuts(json_usage, len, cuts, 400, IG_TC_USAGE);

		if (r.charged != 100 || r.responses[IG_TC_USAGE] != 1 || r.tokens[IG_TC_USAGE] != 100) {
			IG_FAIL("cut at %zu/%zu: charged %lld, usage responses %u tokens %lld", a,
				cuts[1], (long long)r.charged, r.responses[IG_TC_USAGE],
				(long long)r.tokens[IG_TC_USAGE]);
			return;
		}
		ASSERT_EQ(r.phase, IG_RP_STATUS, "ready for the next response");
	}
}

/* Without usage: the prompt's bytes and the body's, by bytes per token. */
IG_TEST(resp_json_without_usage_is_bytes)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
			"Content-Length: 40\r\n\r\n{\"error\":{\"message\":\"usage: bad!\"}}     ";
	struct run r = feed(s, 400, IG_TC_USAGE);

	ASSERT_EQ(r.charged, 100 + 10, "prompt 400/4 + body 40/4");
	ASSERT_EQ(r.responses[IG_TC_BYTES], 1, "counted by bytes");
	ASSERT_EQ(r.tokens[IG_TC_BYTES], 110, "its tokens");
}

static const char *sse_chunks[] = {
	"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
	"{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
	"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
	"{\"content\":\" tok\"},\"finish_reason\":null}]}\n\n",
	"data:{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
	"{\"content\":\"}}\"},\"finish_reason\":null}]}\r\n\r\n",
	": keep-alive\n\n",
	"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
	"{},\"finish_reason\":\"stop\"}]}\n\n",
};
static const char sse_usage[] =
	"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":"
	"{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n";

/* A chunked stream as vLLM writes it: one event per chunk. */
static size_t sse_stream(char *out, size_t cap, int events, int usage)
{
	size_t n = (size_t)snprintf(out, cap, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; "
					     "charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n");

	for (int i = 0; i < events; i++) {
		const char *c = sse_chunks[i % 5];

		n += (size_t)snprintf(out + n, cap - n, "%zx\r\n%s\r\n", strlen(c), c);
	}
	if (usage)
		n += (size_t)snprintf(out + n, cap - n, "%zx\r\n%s\r\n", strlen(sse_usage), sse_usage);
	n += (size_t)snprintf(out + n, cap - n, "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n");
	return n;
}

IG_TEST(resp_sse_events_then_usage)
{
	static char s[8192];
	size_t len = sse_stream(s, sizeof(s), 40, 1);

	for (size_t a = 1; a < len; a += 3) {
		size_t cuts[] = { a, 97, 13, 211, 5, 0 };
		struct run r = feed_cuts(s, len, cuts, 100, IG_TC_USAGE);

		if (r.charged != 12 || r.responses[IG_TC_USAGE] != 1) {
			IG_FAIL("cut at %zu: charged %lld (usage responses %u)", a,
				(long long)r.charged, r.responses[IG_TC_USAGE]);
			return;
		}
	}
	/* unsegmented: prompt 100/4, events 40 - 8 comments = 32 */
	{
		size_t n = sse_stream(s, sizeof(s), 40, 0);
		struct run r = feed_cuts(s, n, NULL, 100, IG_TC_USAGE);

		ASSERT_EQ(r.charged, 25 + 32, "events without usage");
		ASSERT_EQ(r.responses[IG_TC_EVENTS], 1, "counted by events");
	}
	/* events mode never reads the usage */
	{
		struct run r = feed_cuts(s, sse_stream(s, sizeof(s), 40, 1), NULL, 100, IG_TC_EVENTS);

		ASSERT_EQ(r.charged, 25 + 33, "the usage event is one more event");
	}
}

/* gzip: a token per byte, never a discount. */
IG_TEST(resp_packed_is_a_token_per_byte)
{
	const char *s = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
			"content-encoding: gzip\r\ncontent-length: 10\r\n\r\n0123456789";
	struct run r = feed(s, 0, IG_TC_USAGE);

	ASSERT_EQ(r.charged, 10, "10 bytes, 10 tokens");
}

/* Keep-alive: two responses, the second's prompt from the bytes since. */
IG_TEST(resp_keepalive_prompt_per_response)
{
	static char s[2048];
	struct ig_resp_state st = {};
	static struct ig_resp_io io;
	__s64 total = 0;
	int n = snprintf(s, sizeof(s), "%s", json_usage);

	for (int round = 0; round < 2; round++) {
		memset(&io, 0, sizeof(io));
		io.bpt = 4;
		io.rx = 400 * (round + 1);
		io.pos = ig_resp_begin(&st, &io, 5000 + (__u32)(round * n), (__u32)n, 1);
		io.end = (__u32)n;
		while (ig_resp_step((const __u8 *)s, &st, &io))
			;
		total += io.out.add;
	}
	ASSERT_EQ(total, 200, "two responses of 100");
	/* a retransmission of the second is not read again */
	memset(&io, 0, sizeof(io));
	io.bpt = 4;
	io.pos = ig_resp_begin(&st, &io, 5000 + (__u32)n, (__u32)n, 1);
	ASSERT_EQ(io.pos, (__u32)n, "nothing new in a retransmission");
}

/* What cannot be framed is opaque: by bytes from there on. */
IG_TEST(resp_unframed_is_bytes)
{
	struct run r;

	r = feed("HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n12345678", 0, IG_TC_USAGE);
	ASSERT_EQ(r.phase, IG_RP_OPAQUE, "a bad length");
	ASSERT_EQ(r.charged, 2, "8 bytes after the head");
	r = feed("HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{\"usage\":{\"total_tokens\":5}}",
		 0, IG_TC_USAGE);
	ASSERT_EQ(r.phase, IG_RP_OPAQUE, "a body up to the close");
	r = feed_cuts("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, NULL, 0, IG_TC_USAGE);
	ASSERT_EQ(r.phase, IG_RP_OPAQUE, "TLS");
	ASSERT_EQ(r.charged, 2, "11 bytes by 4");
	r = feed("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 0, IG_TC_USAGE);
	ASSERT_EQ(r.phase, IG_RP_OPAQUE, "a bad chunk size");
	r = feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 0, IG_TC_USAGE);
	ASSERT_EQ(r.phase, IG_RP_STATUS, "interim then no body");
	ASSERT_EQ(r.responses[IG_TC_BYTES], 1, "one response");
}

/* Random streams at random cuts: never more than the tokens the bytes allow
 * (outside usage), never stuck, never read out of bounds. */
IG_TEST(resp_random_streams)
{
	static char s[4096];

	for (int it = 0; it < 20000; it++) {
		size_t len = 1 + ig_rnd(&rng_state) % 600, cuts[8];
		struct run r;

		if (it & 1) {
			len = sse_stream(s, sizeof(s), (int)(ig_rnd(&rng_state) % 8), it & 2);
		} else {
			for (size_t i = 0; i < len; i++) {
				static const char alpha[] = "HTTP/1.1 200\r\n:content-lengthtransfer"
							    "chunked{}\"usage\":0123456789abcdef";
				s[i] = alpha[ig_rnd(&rng_state) % (sizeof(alpha) - 1)];
			}
		}
		for (int i = 0; i < 7; i++)
			cuts[i] = 1 + ig_rnd(&rng_state) % 64;
		cuts[7] = 0;
		r = feed_cuts(s, len, cuts, 0, IG_TC_USAGE);
		if (r.charged < 0 || (!r.responses[IG_TC_USAGE] && (size_t)r.charged > len)) {
			IG_FAIL("stream %d (%zu bytes): charged %lld", it, len, (long long)r.charged);
			return;
		}
	}
}
