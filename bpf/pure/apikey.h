/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An API key (--key api-key) as the data path knows it: a seeded hash of
 * its text. The request scanner (pure/http.h) finds where a key header's
 * value lies; the request stage reads the value, takes the credential out
 * of it (ig_key_token()) and hashes it (ig_key_words()); user space hashes a
 * key's text the same way (`infergate key add --token-file`, ig_key_hash()).
 *
 * The credential is the value without whitespace at either end and, for
 * Authorization, without a leading "Bearer" scheme and the whitespace after
 * it: "Authorization: Bearer sk-1" and "x-api-key: sk-1" are one key; any
 * other scheme is kept ("Basic dXNl..." is hashed whole). At most
 * IG_KEY_VALUE_MAX bytes of value are read: a longer one is no key.
 *
 * The hash goes 8 bytes at a time (a value is read at ~2 ns a word where a
 * byte at a time through the scanner cost ~2.5 ns a byte), from a basis made
 * of the instance's secret seed, each word mixed in with a multiply and a
 * shift, then a 64-bit finaliser. It keeps the key's text out of every map
 * and log and makes the hash of a given key unknowable without the seed
 * (root only, in the pinned map `seed`). It is not a MAC: someone who has the
 * seed can aim collisions. Words are read in the host's byte order: a hash
 * is only ever compared on the host that made it (and with its seed).
 */
#ifndef IG_PURE_APIKEY_H
#define IG_PURE_APIKEY_H

#include "pure/hdr.h"
#include "pure/sources.h" /* ig_mix64 */

#define IG_KEY_VALUE_MAX 256
#define IG_KEY_WS 8

static __always_inline __u64 ig_key_basis(__u64 seed)
{
	return 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
}

static __always_inline __u64 ig_key_mix(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static __always_inline __u64 ig_key_final(__u64 h, __u64 seed)
{
	return ig_mix64(h ^ seed);
}

static __always_inline int ig_key_ws(__u8 c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The most the credential starts into the value: IG_KEY_WS blanks after the
 * colon, "Bearer" and its blank, then IG_KEY_WS blanks more; and a mask
 * above it, which bounds an offset for the verifier. */
#define IG_KEY_OFF_MAX (IG_KEY_WS + 7 + IG_KEY_WS)
#define IG_KEY_OFF_MASK 31
_Static_assert(IG_KEY_OFF_MAX <= IG_KEY_OFF_MASK && (IG_KEY_OFF_MASK & (IG_KEY_OFF_MASK + 1)) == 0,
	       "the offset's mask");

static __always_inline int ig_key_blank(__u8 c)
{
	return c == ' ' || c == '\t';
}

/*
 * The credential in a key header's value v[0, len) (len <= IG_KEY_VALUE_MAX;
 * v[0] is the byte after the colon: the scanner leaves the whitespace before
 * the value to this): 0 with *off (<= IG_KEY_OFF_MAX) and *n where it lies,
 * or -1 when nothing is left. For BPF, v is a buffer of IG_KEY_VALUE_MAX
 * bytes and IG_KEY_OFF_MAX + 8 more.
 */
static __always_inline int ig_key_token(const __u8 *v, __u32 len, __u32 *off, __u32 *n)
{
	__u64 w;
	__u32 i, o = 0, b;

	if (len > IG_KEY_VALUE_MAX)
		return -1;
	/* at most IG_KEY_WS whitespace bytes at either end are dropped (a
	 * loop the verifier walks once, not per byte of the value); more are
	 * kept, and such a key is then nobody's. Each loop stops at its first
	 * other byte: a value's line ends in one CR, and the steps after it
	 * would look at the same byte again. */
#pragma unroll
	for (i = 0; i < IG_KEY_WS; i++) {
		if (!len || !ig_key_ws(v[(len - 1) & (IG_KEY_VALUE_MAX - 1)]))
			break;
		len--;
	}
#pragma unroll
	for (i = 0; i < IG_KEY_WS; i++) {
		if (o >= len || !ig_key_ws(v[o & (IG_KEY_VALUE_MAX - 1)]))
			break;
		o++;
	}
	if (len - o <= 7)
		goto out;
	/* "Bearer" in any case, a word at once (one load and compare where
	 * six bytes were six of each); then a blank */
	b = o & (IG_KEY_WS * 2 - 1);
#ifdef __bpf__
	w = *(const __u64 *)(v + b);
#else
	__builtin_memcpy(&w, v + b, 8);
#endif
	w = ig_le64(w);
	if (((w | 0x202020202020ULL) & 0xffffffffffffULL) != 0x726572616562ULL /* "bearer" */ ||
	    !ig_key_blank((__u8)(w >> 48)))
		goto out;
	o = b + 7;
#pragma unroll
	for (i = 0; i < IG_KEY_WS; i++) {
		if (o >= len || !ig_key_blank(v[o & (IG_KEY_VALUE_MAX - 1)]))
			break;
		o++;
	}
out:
	if (o >= len)
		return -1;
	*off = o;
	*n = len - o;
	return 0;
}

/* The hash of the credential t[0, n) (n <= IG_KEY_VALUE_MAX). The bytes from
 * t[n] to the end of its last word are read and masked off: for BPF, t lies
 * at most IG_KEY_OFF_MAX bytes into a map value's buffer of IG_KEY_VALUE_MAX
 * bytes, with IG_KEY_OFF_MAX + 8 bytes more of the value after it. */
static __always_inline __u64 ig_key_words(const __u8 *t, __u32 n, __u64 seed)
{
	__u64 h = ig_key_basis(seed), w;
	__u32 i, at = 0;

	/* the whole words, then the last one's bytes: the mask is worked out
	 * once, not in every step of the loop */
	for (i = 0; i < IG_KEY_VALUE_MAX / 8; i++) {
		if (at + 8 > n)
			break;
#ifdef __bpf__
		w = *(const __u64 *)(t + (at & (IG_KEY_VALUE_MAX - 8)));
#else
		__builtin_memcpy(&w, t + at, 8);
#endif
		h = ig_key_mix(h, w);
		at += 8;
	}
	if (at < n) {
#ifdef __bpf__
		w = *(const __u64 *)(t + (at & (IG_KEY_VALUE_MAX - 8)));
#else
		__builtin_memcpy(&w, t + at, 8);
#endif
		h = ig_key_mix(h, w & ((1ULL << (8 * ((n - at) & 7))) - 1));
	}
	return ig_key_final(h ^ n, seed);
}

/* A key's text as user space has it (a line of a token file): its
 * whitespace at either end dropped, hashed as the data path hashes the
 * credential. Not for BPF. */
static inline __u64 ig_key_hash(__u64 seed, const char *text, __u64 len)
{
	__u8 t[IG_KEY_VALUE_MAX + 8] = { 0 };

	while (len && (ig_key_ws((__u8)text[0]) || text[0] == '\n')) {
		text++;
		len--;
	}
	while (len && (ig_key_ws((__u8)text[len - 1]) || text[len - 1] == '\n'))
		len--;
	if (len > IG_KEY_VALUE_MAX)
		len = IG_KEY_VALUE_MAX; /* the data path reads no such key */
	__builtin_memcpy(t, text, len);
	return ig_key_words(t, (__u32)len, seed);
}

#endif /* IG_PURE_APIKEY_H */
