// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The 429 of per-request limiting (bpf/pure/http_reply.h) read back with a
 * parser of the tests' own: status, headers, a Content-Length that is the
 * body, the OpenAI error object, waits rounded up; and sent as a TCP segment
 * built by reply.h, its checksums verified with tests/lib/frames.c's own
 * RFC 1071 code.
 */
#include <stdlib.h>
#include <strings.h>
#include "pure/http_reply.h"
#include "pure/reply.h"
#include "frames.h"
#include "harness.h"

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	return (unsigned)(ig_rnd(&rng_state) % n);
}

/* The value of header `name` in a response head (CRLF lines), OWS trimmed. */
static int header(const char *head, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	const char *l = strstr(head, "\r\n");

	while (l && strncmp(l, "\r\n\r\n", 4)) {
		const char *e, *v;

		l += 2;
		e = strstr(l, "\r\n");
		if (e && !strncasecmp(l, name, nl) && l[nl] == ':') {
			for (v = l + nl + 1; *v == ' '; v++)
				;
			while (e > v && e[-1] == ' ')
				e--;
			snprintf(out, outlen, "%.*s", (int)(e - v), v);
			return 0;
		}
		l = e;
	}
	return -1;
}

static __u32 be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

static void check_429(__u64 wait_ns, unsigned long want_s, unsigned long want_ms)
{
	static __u8 buf[IG_HTTP_429_MAX] __attribute__((aligned(8)));
	char text[IG_HTTP_429_MAX + 1], v[64], msg[256], name[64];
	/* the budget named: requests or tokens, limits of every width */
	int tok = (int)(wait_ns & 1);
	__u64 limit = ig_rnd(&rng_state) >> rnd(64);
	const char *body, *what = tok ? "tokens" : "requests";
	__u32 len;

	memset(buf, 0xee, sizeof(buf));
	len = ig_http_429(buf, wait_ns);
	ig_http_429_rl(buf, wait_ns, limit, tok);
	ASSERT_LE(len, IG_HTTP_429_MAX, "fits");
	ASSERT_EQ(len, IG_HTTP_429_LEN, "a fixed length");
	memcpy(text, buf, len);
	text[len] = 0;
	ASSERT_EQ(strlen(text), len, "no NUL inside");
	ASSERT_TRUE(!strncmp(text, "HTTP/1.1 429 Too Many Requests\r\n", 32), "status line");
	body = strstr(text, "\r\n\r\n");
	ASSERT_TRUE(body != NULL, "end of the head");
	body += 4;
	ASSERT_OK(header(text, "Content-Type", v, sizeof(v)), "Content-Type");
	ASSERT_STREQ(v, "application/json", "Content-Type");
	ASSERT_OK(header(text, "Connection", v, sizeof(v)), "Connection");
	ASSERT_STREQ(v, "close", "Connection");
	ASSERT_OK(header(text, "Content-Length", v, sizeof(v)), "Content-Length");
	ASSERT_EQ(strtoul(v, NULL, 10), len - (size_t)(body - text), "Content-Length is the body");
	ASSERT_OK(header(text, "Retry-After", v, sizeof(v)), "Retry-After");
	ASSERT_EQ(strspn(v, "0123456789"), strlen(v), "Retry-After: digits");
	ASSERT_EQ(strtoul(v, NULL, 10), want_s, "Retry-After");
	ASSERT_OK(header(text, "retry-after-ms", v, sizeof(v)), "retry-after-ms");
	ASSERT_EQ(strtoul(v, NULL, 10), want_ms, "retry-after-ms");
	/* x-ratelimit-*, of the budget that refused, as OpenAI sends them */
	snprintf(name, sizeof(name), "x-ratelimit-limit-%s", what);
	ASSERT_OK(header(text, name, v, sizeof(v)), name);
	ASSERT_EQ(strspn(v, "0123456789"), strlen(v), "the limit: digits alone");
	ASSERT_EQ(strtoull(v, NULL, 10), limit < 99999999 ? limit : 99999999, name);
	snprintf(name, sizeof(name), "x-ratelimit-remaining-%s", what);
	ASSERT_OK(header(text, name, v, sizeof(v)), name);
	ASSERT_EQ(strspn(v, "0"), strlen(v), name); /* zeros */
	snprintf(name, sizeof(name), "x-ratelimit-reset-%s", what);
	ASSERT_OK(header(text, name, v, sizeof(v)), name);
	snprintf(msg, sizeof(msg), "%0*lums", tok ? 10 : 8, want_ms);
	ASSERT_STREQ(v, msg, name);
	snprintf(name, sizeof(name), "x-ratelimit-limit-%s", tok ? "requests" : "tokens");
	ASSERT_TRUE(header(text, name, v, sizeof(v)) != 0, "not the other budget's");
	/* the body: one JSON object (then only whitespace) of the OpenAI shape */
	snprintf(msg, sizeof(msg),
		 "{\"error\":{\"message\":\"Rate limit reached: retry after %lu ms\","
		 "\"type\":\"rate_limit_exceeded\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
		 want_ms);
	ASSERT_TRUE(!strncmp(body, msg, strlen(msg)), "the error object");
	ASSERT_EQ(strspn(body + strlen(msg), " \t\r\n"), strlen(body + strlen(msg)),
		  "whitespace after it");
}

IG_TEST(http_429_rounds_waits_up)
{
	check_429(0, 1, 1);
	check_429(1, 1, 1);
	check_429(999999, 1, 1);
	check_429(1000001, 1, 2);
	check_429(1500000000ULL, 2, 1500);
	check_429(1000000000ULL, 1, 1000);
	check_429(3000000000ULL, 3, 3000);
	check_429(59999999999ULL, 60, 60000);
	check_429(86400ULL * 1000000000ULL, 86400, 86400000);
	check_429(~0ULL, 86400, 86400000); /* clamped to a day */
	for (int i = 0; i < 2000; i++) {
		__u64 w = ig_rnd(&rng_state) >> rnd(64);
		__u64 c = w > 86400000000000ULL ? 86400000000000ULL : w;

		check_429(w, (unsigned long)(c ? (c + 999999999) / 1000000000 : 1),
			  (unsigned long)(c ? (c + 999999) / 1000000 : 1));
	}
}

/* The brief 429 (a frame that cannot grow by the whole one): the same head,
 * waits included, Content-Length 0, nothing after the blank line. */
IG_TEST(http_429_brief_is_the_head_alone)
{
	static __u8 buf[IG_HTTP_429_MAX] __attribute__((aligned(8)));
	char text[IG_HTTP_429_MAX + 1], v[64];
	__u32 len;

	for (int i = 0; i < 200; i++) {
		__u64 w = i ? ig_rnd(&rng_state) >> rnd(64) : 1500000000ULL;
		__u64 c = w > 86400000000000ULL ? 86400000000000ULL : w;

		memset(buf, 0xee, sizeof(buf));
		ig_http_429(buf, w);
		ig_http_429_rl(buf, w, 6000, i & 1);
		len = ig_http_429_brief(buf);
		ASSERT_EQ(len, IG_HTTP_429_BRIEF_LEN, "a fixed length");
		ASSERT_LE(len, 150, "grows a tiny request's frame by < 130 bytes");
		memcpy(text, buf, len);
		text[len] = 0;
		ASSERT_EQ(strlen(text), len, "no NUL inside");
		ASSERT_TRUE(!strncmp(text, "HTTP/1.1 429 Too Many Requests\r\n", 32), "status line");
		ASSERT_TRUE(strstr(text, "\r\n\r\n") == text + len - 4, "the head ends it");
		ASSERT_OK(header(text, "Content-Length", v, sizeof(v)), "Content-Length");
		ASSERT_STREQ(v, "0", "Content-Length");
		ASSERT_OK(header(text, "Connection", v, sizeof(v)), "Connection");
		ASSERT_STREQ(v, "close", "Connection");
		ASSERT_OK(header(text, "Retry-After", v, sizeof(v)), "Retry-After");
		ASSERT_EQ(strtoul(v, NULL, 10), c ? (c + 999999999) / 1000000000 : 1, "Retry-After");
		ASSERT_OK(header(text, "retry-after-ms", v, sizeof(v)), "retry-after-ms");
		ASSERT_EQ(strtoul(v, NULL, 10), c ? (c + 999999) / 1000000 : 1, "retry-after-ms");
	}
}

/* An HPACK integer with an n-bit prefix at *b (RFC 7541 5.1). */
static __u32 hpack_int(const __u8 **b, int n)
{
	__u32 v = **b & ((1u << n) - 1), m = 0;

	if (v == (1u << n) - 1) {
		do {
			(*b)++;
			v += (**b & 0x7fu) << m;
			m += 7;
		} while (**b & 0x80);
	}
	(*b)++;
	return v;
}

/* The h2c 429, read back as frames: SETTINGS, HEADERS ending the stream with
 * the three fields (HPACK literals without indexing, decoded here by the
 * RFC's rules), GOAWAY NO_ERROR with the last stream. */
IG_TEST(http_429_h2_frames)
{
	static __u8 buf[IG_HTTP_429_MAX] __attribute__((aligned(8)));

	for (int i = 0; i < 500; i++) {
		__u64 w = i ? ig_rnd(&rng_state) >> rnd(64) : 1500000000ULL;
		__u64 c = w > 86400000000000ULL ? 86400000000000ULL : w;
		__u32 stream = (__u32)(ig_rnd(&rng_state) >> 33) | 1;
		const __u8 *f = buf, *h, *end;
		char names[3][32] = {}, vals[3][32] = {};
		__u32 len, flen, k = 0;

		len = ig_h2_429(buf, w, stream);
		ASSERT_EQ(len, IG_H2_429_LEN, "a fixed length");
		/* SETTINGS */
		ASSERT_EQ(f[0] << 16 | f[1] << 8 | f[2], 0, "SETTINGS: empty");
		ASSERT_EQ(f[3], 4, "SETTINGS: type");
		ASSERT_EQ(be32(f + 5), 0, "SETTINGS: stream 0");
		f += 9;
		/* HEADERS */
		flen = (__u32)(f[0] << 16 | f[1] << 8 | f[2]);
		ASSERT_EQ(f[3], 1, "HEADERS: type");
		ASSERT_EQ(f[4], 5, "HEADERS: END_STREAM | END_HEADERS");
		ASSERT_EQ(be32(f + 5), stream, "HEADERS: the refused stream");
		h = f + 9;
		end = h + flen;
		while (h < end && k < 3) {
			__u32 idx, n;

			ASSERT_EQ(*h & 0xf0, 0, "a literal without indexing");
			idx = hpack_int(&h, 4);
			if (idx == 8)
				strcpy(names[k], ":status");
			else if (idx == 53)
				strcpy(names[k], "retry-after");
			else {
				ASSERT_EQ(idx, 0, "a static name or a new one");
				ASSERT_EQ(*h & 0x80, 0, "no Huffman");
				n = hpack_int(&h, 7);
				ASSERT_LE(n, 31, "name length");
				memcpy(names[k], h, n);
				h += n;
			}
			ASSERT_EQ(*h & 0x80, 0, "no Huffman");
			n = hpack_int(&h, 7);
			ASSERT_LE(n, 31, "value length");
			memcpy(vals[k], h, n);
			h += n;
			k++;
		}
		ASSERT_TRUE(h == end, "the block ends with the frame");
		ASSERT_STREQ(names[0], ":status", "first field");
		ASSERT_STREQ(vals[0], "429", ":status");
		ASSERT_STREQ(names[1], "retry-after", "second field");
		ASSERT_EQ(strspn(vals[1], "0123456789"), strlen(vals[1]), "retry-after: digits");
		ASSERT_EQ(strtoul(vals[1], NULL, 10), c ? (c + 999999999) / 1000000000 : 1,
			  "retry-after");
		ASSERT_STREQ(names[2], "retry-after-ms", "third field");
		ASSERT_EQ(strtoul(vals[2], NULL, 10), c ? (c + 999999) / 1000000 : 1,
			  "retry-after-ms");
		f = end;
		/* GOAWAY */
		ASSERT_EQ(f[0] << 16 | f[1] << 8 | f[2], 8, "GOAWAY: length");
		ASSERT_EQ(f[3], 7, "GOAWAY: type");
		ASSERT_EQ(be32(f + 5), 0, "GOAWAY: stream 0");
		ASSERT_EQ(be32(f + 9), stream, "GOAWAY: the refused stream is the last");
		ASSERT_EQ(be32(f + 13), 0, "GOAWAY: NO_ERROR");
		ASSERT_TRUE(f + 17 == buf + len, "nothing after it");
	}
}

/* The reply as a TCP segment: headers from reply.h, the payload's sum from
 * ig_http_sum(); checksums verified by frames.c. */
IG_TEST(http_429_segment_checksums)
{
	static __u8 seg[60 + IG_HTTP_429_MAX] __attribute__((aligned(8)));

	for (int i = 0; i < 2000; i++) {
		struct ig_frame_spec s;
		struct ig_frame f;
		struct ig_pkt p;
		struct ig_tcp_out o;
		__u8 payload[IG_HTTP_429_MAX] __attribute__((aligned(8)));
		__u32 len, l3, odd = (__u32)(i & 1);
		int v6 = (i >> 1) & 1;

		ig_frame_defaults(&s, v6, IG_F_TCP);
		for (int b = 0; b < 16; b++) {
			s.saddr[b] = (__u8)ig_rnd(&rng_state);
			s.daddr[b] = (__u8)ig_rnd(&rng_state);
		}
		s.sport = (__u16)ig_rnd(&rng_state);
		s.dport = (__u16)ig_rnd(&rng_state);
		s.tcp_flags = IG_TCP_ACK | IG_TCP_PSH;
		f = IG_FRAME(&s);
		ASSERT_EQ(ig_parse(f.buf, f.buf + f.len, &p), IG_PARSE_OK, "parse");
		len = ig_http_429(payload, ig_rnd(&rng_state) >> rnd(64)) - odd; /* odd lengths too */
		memset(&o, 0, sizeof(o));
		o.seq = (__u32)ig_rnd(&rng_state);
		o.ack = (__u32)ig_rnd(&rng_state);
		o.flags = IG_TCP_PSH | IG_TCP_ACK | IG_TCP_FIN;
		o.window = (__u16)ig_rnd(&rng_state);
		o.payload_len = len;
		o.payload_sum = ig_http_sum(payload, len);
		if (v6) {
			ig_build_seg6(&p, &o, (struct ig_seg6 *)seg);
			l3 = 40;
		} else {
			ig_build_seg4(&p, &o, (struct ig_seg4 *)seg);
			l3 = 20;
			ASSERT_TRUE(ig_ipv4_csum_ok(seg), "IPv4 header checksum");
			ASSERT_EQ(ig_get16(seg + 2), 40 + len, "total length");
		}
		memcpy(seg + l3 + 20, payload, len);
		if (v6)
			ASSERT_EQ(ig_get16(seg + 4), 20 + len, "payload length");
		ASSERT_EQ(ig_get16(seg + l3), s.dport, "source port = the port dialed");
		ASSERT_EQ(ig_get16(seg + l3 + 2), s.sport, "destination port = the client's");
		ASSERT_EQ(ig_get32(seg + l3 + 4), o.seq, "seq");
		ASSERT_EQ(ig_get32(seg + l3 + 8), o.ack, "ack");
		ASSERT_EQ(seg[l3 + 13], IG_TCP_PSH | IG_TCP_ACK | IG_TCP_FIN, "flags");
		ASSERT_EQ(ig_get16(seg + l3 + 14), o.window, "window");
		ASSERT_TRUE(ig_l4_csum_ok(seg, seg + l3, 20 + len, IG_F_TCP),
			    "TCP checksum over header and payload");
	}
}
