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
/* The head, each slot a run of spaces. */
#define IG_HTTP_429_HEAD                                                       \
	"HTTP/1.1 429 Too Many Requests\r\n"                                   \
	"Content-Type: application/json\r\n"                                   \
	"Retry-After:      \r\n"                                               \
	"retry-after-ms:         \r\n"                                         \
	"Connection: close\r\n"                                                \
	"Content-Length: 138\r\n"                                              \
	"\r\n" IG_HTTP_429_BODY_HEAD
#define IG_HTTP_429_S_AT (sizeof("HTTP/1.1 429 Too Many Requests\r\n"          \
				 "Content-Type: application/json\r\n"          \
				 "Retry-After: ") - 1)
#define IG_HTTP_429_MS_AT (IG_HTTP_429_S_AT + IG_HTTP_429_S_DIGITS + sizeof("\r\nretry-after-ms: ") - 1)
#define IG_HTTP_429_NUM_AT (sizeof(IG_HTTP_429_HEAD) - 1)
#define IG_HTTP_429_LEN (IG_HTTP_429_NUM_AT + IG_HTTP_429_MS_DIGITS + sizeof(IG_HTTP_429_BODY_TAIL) - 1)

_Static_assert(IG_HTTP_429_BODY_LEN == 138, "the Content-Length written in IG_HTTP_429_HEAD");
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

/*
 * Write the whole response into buf (IG_HTTP_429_MAX bytes) and return its
 * length, IG_HTTP_429_LEN. wait_ns: until the client's bucket admits one more
 * request; the seconds and the milliseconds announced are rounded up, and at
 * least 1, so a client that waits as told is admitted.
 */
static __always_inline __u32 ig_http_429(__u8 *buf, __u64 wait_ns)
{
	__u64 ms, s, str;
	__u32 nd;

	if (wait_ns > IG_HTTP_429_WAIT_MAX)
		wait_ns = IG_HTTP_429_WAIT_MAX;
	ms = (wait_ns + IG_HTTP_NS_PER_MS - 1) / IG_HTTP_NS_PER_MS;
	s = (wait_ns + IG_NSEC_PER_SEC - 1) / IG_NSEC_PER_SEC;
	ms += !ms;
	s += !s;
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
