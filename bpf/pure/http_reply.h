/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The answer to a request over its client's limit (--unit request): a whole
 * HTTP/1.1 429 in one segment, in the shape OpenAI-compatible clients parse
 * (Retry-After and retry-after-ms, an "error" object of type
 * rate_limit_exceeded), then the connection closed. The TCP/IP headers in
 * front of it come from reply.h (ig_build_seg4/6), the payload's share of the
 * checksum from ig_http_sum(). Plain C: the unit tests read it back with a
 * parser of their own.
 *
 * Every field has a fixed place, so every offset but one is a constant to the
 * verifier (variable-width numbers made it walk one path per width of each,
 * 660k instructions): the numbers are left-aligned in fixed-width slots and
 * padded with spaces, which is optional whitespace after a header value (RFC
 * 9110 5.5) and whitespace after the JSON value (RFC 8259 2). The one
 * variable offset is the rest of the message after its number. The reply is
 * IG_HTTP_429_LEN bytes whatever the wait.
 */
#ifndef IG_HTTP_REPLY_H
#define IG_HTTP_REPLY_H

#include "ig_abi.h"
#include "pure/hdr.h"

/* The buffer ig_http_429() writes: one segment on any link. */
#define IG_HTTP_429_MAX 512
/* Longer waits are announced as a day: a client told more would rather give
 * up than wait. A day is 5 digits of seconds, 8 of milliseconds. */
#define IG_HTTP_429_WAIT_MAX (86400ULL * IG_NSEC_PER_SEC)
#define IG_HTTP_NS_PER_MS 1000000ULL
#define IG_HTTP_429_S_DIGITS 5
#define IG_HTTP_429_MS_DIGITS 8

#define IG_HTTP_429_BODY_HEAD "{\"error\":{\"message\":\"Rate limit reached: retry after "
#define IG_HTTP_429_BODY_TAIL                                                  \
	" ms\",\"type\":\"rate_limit_exceeded\",\"param\":null,"                \
	"\"code\":\"rate_limit_exceeded\"}}"
#define IG_HTTP_429_BODY_LEN                                                   \
	(sizeof(IG_HTTP_429_BODY_HEAD) - 1 + IG_HTTP_429_MS_DIGITS + sizeof(IG_HTTP_429_BODY_TAIL) - 1)
/*
 * OpenAI's x-ratelimit-* trio, of the requests or of the tokens (whichever
 * refused): the limit a minute, nothing remaining, the reset as a duration
 * in ms, numbers zero-padded. Both trios the same length, so every offset
 * after them is one constant; only the full form has them (after
 * Connection, where the brief form ends).
 */
#define IG_HTTP_429_RL_REQ                                                     \
	"x-ratelimit-limit-requests: 00000000\r\n"                              \
	"x-ratelimit-remaining-requests: 0\r\n"                                 \
	"x-ratelimit-reset-requests: 00000000ms\r\n"
#define IG_HTTP_429_RL_TOK                                                     \
	"x-ratelimit-limit-tokens: 0000000000\r\n"                              \
	"x-ratelimit-remaining-tokens: 000\r\n"                                 \
	"x-ratelimit-reset-tokens: 0000000000ms\r\n"
#define IG_HTTP_429_RL_LEN (sizeof(IG_HTTP_429_RL_REQ) - 1)
/* the last 8 digits of the limit and of the reset, from the trio's start:
 * the same in both (the tokens' shorter names take two more zeros, not
 * spaces, which some clients keep in the value) */
#define IG_HTTP_429_RL_LIMIT_AT 28
#define IG_HTTP_429_RL_RESET_AT (38 + 35 + 28)
#define IG_HTTP_429_RL_MAX 99999999ULL /* what 8 digits hold */

/* The head, each slot a run of spaces. */
#define IG_HTTP_429_HEAD                                                       \
	"HTTP/1.1 429 Too Many Requests\r\n"                                   \
	"Content-Type: application/json\r\n"                                   \
	"Retry-After:      \r\n"                                               \
	"retry-after-ms:         \r\n"                                         \
	"Connection: close\r\n"                                                \
	IG_HTTP_429_RL_REQ                                                     \
	"Content-Length: 138\r\n"                                              \
	"\r\n" IG_HTTP_429_BODY_HEAD
#define IG_HTTP_429_S_AT (sizeof("HTTP/1.1 429 Too Many Requests\r\n"          \
				 "Content-Type: application/json\r\n"          \
				 "Retry-After: ") - 1)
#define IG_HTTP_429_MS_AT (IG_HTTP_429_S_AT + IG_HTTP_429_S_DIGITS + sizeof("\r\nretry-after-ms: ") - 1)
#define IG_HTTP_429_NUM_AT (sizeof(IG_HTTP_429_HEAD) - 1)
#define IG_HTTP_429_LEN (IG_HTTP_429_NUM_AT + IG_HTTP_429_MS_DIGITS + sizeof(IG_HTTP_429_BODY_TAIL) - 1)

/* The brief form: the same head to Connection, no body. */
#define IG_HTTP_429_CL_AT (IG_HTTP_429_MS_AT + IG_HTTP_429_MS_DIGITS + sizeof("\r\nConnection: close\r\n") - 1)
#define IG_HTTP_429_BRIEF_END "Content-Length: 0\r\n\r\n"
#define IG_HTTP_429_BRIEF_LEN (IG_HTTP_429_CL_AT + sizeof(IG_HTTP_429_BRIEF_END) - 1)

_Static_assert(IG_HTTP_429_BODY_LEN == 138, "the Content-Length written in IG_HTTP_429_HEAD");
_Static_assert(sizeof(IG_HTTP_429_RL_TOK) == sizeof(IG_HTTP_429_RL_REQ), "one length, either trio");
_Static_assert(IG_HTTP_429_LEN <= IG_HTTP_429_MAX, "the reply fits its buffer");

/*
 * v < 10^8 in decimal, left-aligned in the bytes of a u64 as they lie in
 * memory (the first digit at the lowest address), spaces after the digits;
 * *nd = the number of digits. Compares made arithmetic (the verifier then
 * walks one path, not one per width).
 */
static __always_inline __u64 ig_http_dec(__u64 v, __u32 *nd)
{
	__u64 str = 0, pow = 1, t;
	__u32 n = 1;

#pragma unroll
	for (int k = 1; k < 8; k++) {
		pow *= 10;
		n += (__u32)((pow - 1 - v) >> 63); /* v >= 10^k */
	}
	/* all 8 digits, leading zeros included: the last digit taken (the
	 * most significant) ends in the lowest byte; then the zeros shifted out */
	t = v;
#pragma unroll
	for (int k = 0; k < 8; k++) {
		str = str << 8 | ('0' + t % 10);
		t /= 10;
	}
	str >>= 8 * (8 - n);
	str |= 0x2020202020202020ULL & (~0ULL << (8 * n - 1) << 1);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	str = __builtin_bswap64(str);
#endif
	*nd = n;
	return str;
}

/* v's last n decimal digits (n <= 8), zero-padded, at b. */
static __always_inline void ig_http_digits(__u8 *b, __u64 v, __u32 n)
{
#pragma unroll
	for (int k = 7; k >= 0; k--) {
		if ((__u32)k < n)
			b[k] = (__u8)('0' + v % 10);
		if ((__u32)k < n)
			v /= 10;
	}
}

/* The wait announced, in seconds and in milliseconds: rounded up, at least
 * 1 (a client that waits as told is admitted), at most a day. */
static __always_inline void ig_http_waits(__u64 wait_ns, __u64 *s, __u64 *ms)
{
	if (wait_ns > IG_HTTP_429_WAIT_MAX)
		wait_ns = IG_HTTP_429_WAIT_MAX;
	*ms = (wait_ns + IG_HTTP_NS_PER_MS - 1) / IG_HTTP_NS_PER_MS;
	*s = (wait_ns + IG_NSEC_PER_SEC - 1) / IG_NSEC_PER_SEC;
	*ms += !*ms;
	*s += !*s;
}

/*
 * Write the whole response into buf (IG_HTTP_429_MAX bytes) and return its
 * length, IG_HTTP_429_LEN. wait_ns: until the client's bucket admits one more
 * request; the seconds and the milliseconds announced are rounded up, and at
 * least 1, so a client that waits as told is admitted. The x-ratelimit-*
 * trio is the requests' with zeros in it: ig_http_429_rl() writes it.
 */
static __always_inline __u32 ig_http_429(__u8 *buf, __u64 wait_ns)
{
	__u64 ms, s, str;
	__u32 nd;

	ig_http_waits(wait_ns, &s, &ms);
	__builtin_memcpy(buf, IG_HTTP_429_HEAD, IG_HTTP_429_NUM_AT);
	/* the body's padding first: the tail below lands on part of it */
	__builtin_memcpy(buf + IG_HTTP_429_LEN - 8, "        ", 8);
	str = ig_http_dec(s, &nd);
	__builtin_memcpy(buf + IG_HTTP_429_S_AT, &str, IG_HTTP_429_S_DIGITS);
	str = ig_http_dec(ms, &nd);
	__builtin_memcpy(buf + IG_HTTP_429_MS_AT, &str, IG_HTTP_429_MS_DIGITS);
	__builtin_memcpy(buf + IG_HTTP_429_NUM_AT, &str, IG_HTTP_429_MS_DIGITS);
	__builtin_memcpy(buf + IG_HTTP_429_NUM_AT + (nd & 15), IG_HTTP_429_BODY_TAIL,
			 sizeof(IG_HTTP_429_BODY_TAIL) - 1);
	return IG_HTTP_429_LEN;
}

/*
 * The x-ratelimit-* trio of the 429 ig_http_429() wrote in buf: limit, the
 * refusing budget a minute (requests, or with `tokens` LLM tokens); the reset
 * is the wait. Fixed widths, zero-padded (a duration may have leading
 * zeros): no digit count to keep. Apart from ig_http_429() so that a BPF
 * caller reads its arguments after that, not holding them on a stack that
 * the 429's stage and its callers already fill to 8 bytes under 512.
 */
static __always_inline void ig_http_429_rl(__u8 *buf, __u64 wait_ns, __u64 limit, int tokens)
{
	__u64 ms, s;

	ig_http_waits(wait_ns, &s, &ms);
	if (tokens)
		__builtin_memcpy(buf + IG_HTTP_429_CL_AT, IG_HTTP_429_RL_TOK, IG_HTTP_429_RL_LEN);
	ig_http_digits(buf + IG_HTTP_429_CL_AT + IG_HTTP_429_RL_LIMIT_AT,
		       limit < IG_HTTP_429_RL_MAX ? limit : IG_HTTP_429_RL_MAX, 8);
	ig_http_digits(buf + IG_HTTP_429_CL_AT + IG_HTTP_429_RL_RESET_AT, ms, 8);
}

/*
 * The 429 ig_http_429() wrote in buf, cut to its head, Content-Length 0: its
 * length (IG_HTTP_429_BRIEF_LEN). For a frame that cannot grow by the whole
 * reply (XDP's headroom behind a short request): the waits are all there,
 * only the error object is missing, which the OpenAI SDKs do without.
 */
static __always_inline __u32 ig_http_429_brief(__u8 *buf)
{
	__builtin_memcpy(buf + IG_HTTP_429_CL_AT, IG_HTTP_429_BRIEF_END,
			 sizeof(IG_HTTP_429_BRIEF_END) - 1);
	return IG_HTTP_429_BRIEF_LEN;
}

/*
 * The 429 on an h2c connection (RFC 9113), IG_H2_429_LEN bytes, whatever the
 * numbers: an empty SETTINGS frame (the server's first frame, if the request
 * came with the preface; one more changes nothing otherwise), a HEADERS frame
 * ending the refused stream with :status 429, retry-after and
 * retry-after-ms, then GOAWAY NO_ERROR with that stream as the last: the
 * client's streams above it were not processed and may be sent again (after
 * the wait) on a new connection. The header fields are HPACK literals without
 * indexing (the client's dynamic table stays the server's); the numbers are
 * zero-padded to fixed widths (1*DIGIT allows it) so that every offset is a
 * constant.
 */
#define IG_H2_429_HPACK_LEN (5 + 3 + IG_HTTP_429_S_DIGITS + 17 + IG_HTTP_429_MS_DIGITS)
#define IG_H2_429_HEADERS_AT 9
#define IG_H2_429_GOAWAY_AT (IG_H2_429_HEADERS_AT + 9 + IG_H2_429_HPACK_LEN)
#define IG_H2_429_LEN (IG_H2_429_GOAWAY_AT + 17)
_Static_assert(IG_H2_429_LEN <= IG_HTTP_429_MAX, "the h2 reply fits its buffer");

static __always_inline void ig_h2_u32(__u8 *b, __u32 v)
{
	b[0] = (__u8)(v >> 24);
	b[1] = (__u8)(v >> 16);
	b[2] = (__u8)(v >> 8);
	b[3] = (__u8)v;
}

static __always_inline __u32 ig_h2_429(__u8 *buf, __u64 wait_ns, __u32 stream)
{
	__u64 ms, s;
	__u8 *h = buf + IG_H2_429_HEADERS_AT + 9, *g = buf + IG_H2_429_GOAWAY_AT;

	ig_http_waits(wait_ns, &s, &ms);
	/* SETTINGS: length 0, type 4, no flags, stream 0 */
	__builtin_memcpy(buf, "\0\0\0\4\0\0\0\0\0", 9);
	/* HEADERS: END_STREAM | END_HEADERS */
	buf[IG_H2_429_HEADERS_AT] = 0;
	buf[IG_H2_429_HEADERS_AT + 1] = 0;
	buf[IG_H2_429_HEADERS_AT + 2] = IG_H2_429_HPACK_LEN;
	buf[IG_H2_429_HEADERS_AT + 3] = 1;
	buf[IG_H2_429_HEADERS_AT + 4] = 5;
	ig_h2_u32(buf + IG_H2_429_HEADERS_AT + 5, stream & 0x7fffffff);
	/* :status (static index 8), retry-after (53: 15 + 38), retry-after-ms
	 * (a new name) */
	__builtin_memcpy(h, "\x08\x03" "429" "\x0f\x26\x05", 8);
	ig_http_digits(h + 8, s, IG_HTTP_429_S_DIGITS);
	__builtin_memcpy(h + 8 + IG_HTTP_429_S_DIGITS, "\x00\x0eretry-after-ms\x08", 17);
	ig_http_digits(h + 25 + IG_HTTP_429_S_DIGITS, ms, IG_HTTP_429_MS_DIGITS);
	/* GOAWAY: length 8, type 7, stream 0; last-stream-id, NO_ERROR */
	__builtin_memcpy(g, "\0\0\x08\x07\0\0\0\0\0", 9);
	ig_h2_u32(g + 9, stream & 0x7fffffff);
	ig_h2_u32(g + 13, 0);
	return IG_H2_429_LEN;
}

/*
 * One's-complement sum of buf's first len bytes (len <= IG_HTTP_429_MAX, buf
 * 2-byte aligned) as 16-bit words as they lie, an odd last byte padded with
 * zero: the payload_sum of ig_build_seg4/6 (reply.h). 256 words of 0xffff
 * cannot overflow 32 bits.
 */
static __always_inline __u32 ig_http_sum(const __u8 *buf, __u32 len)
{
	const __u16 *w = (const __u16 *)buf;
	__u32 sum = 0;
	__u16 last = 0;

	if (len > IG_HTTP_429_MAX)
		len = IG_HTTP_429_MAX;
	for (__u32 i = 0; i < IG_HTTP_429_MAX / 2; i++) {
		if (2 * i + 1 >= len)
			break;
		sum += w[i];
	}
	if (len & 1) {
		__builtin_memcpy(&last, buf + ((len - 1) & (IG_HTTP_429_MAX - 1)), 1);
		sum += last;
	}
	return sum;
}

#endif /* IG_HTTP_REPLY_H */
