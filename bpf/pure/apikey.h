/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The seeded hash an API key is known by (--key api-key): the request
 * scanner (pure/http.h) computes it a byte at a time as the header goes by,
 * user space over a key's text (`infergate key add --token-file`), and the
 * two must agree byte for byte.
 *
 * What is hashed is the credential: the header's value (Authorization,
 * X-API-Key or API-Key) without its whitespace, and for Authorization
 * without a leading "Bearer" and the whitespace after it. So
 * "Authorization: Bearer sk-1" and "x-api-key: sk-1" are one key.
 *
 * FNV-1a from a basis made of the instance's secret seed, then a 64-bit
 * finaliser: one multiply a byte is what the data path can afford. It keeps
 * the key's text out of every map and log and makes the hash of a given key
 * unknowable without the seed (readable by root only, in the pinned map
 * `seed`). It is not a MAC: someone who has the seed can aim collisions.
 */
#ifndef IG_PURE_APIKEY_H
#define IG_PURE_APIKEY_H

#include "pure/hdr.h"

#define IG_KEY_PRIME 0x100000001b3ULL
#define IG_KEY_BASIS 0xcbf29ce484222325ULL

/* Where the hash starts: a basis of the instance's own (its source-table
 * seed, turned so the two hashes share nothing visible). */
static __always_inline __u64 ig_key_basis(__u64 seed)
{
	return IG_KEY_BASIS ^ (seed * 0x9e3779b97f4a7c15ULL);
}

static __always_inline __u64 ig_key_step(__u64 h, __u8 c)
{
	return (h ^ c) * IG_KEY_PRIME;
}

/* FNV's low bits mix poorly: the hash is also a table index */
static __always_inline __u64 ig_key_final(__u64 h, __u64 seed)
{
	h ^= seed;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* A key's text as the scanner hashes it: whitespace skipped (and nothing
 * else stripped: the text is a key, not a header value). Not for BPF. */
static inline __u64 ig_key_hash(__u64 seed, const char *text, __u64 len)
{
	__u64 h = ig_key_basis(seed), i;

	for (i = 0; i < len; i++) {
		__u8 c = (__u8)text[i];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			h = ig_key_step(h, c);
	}
	return ig_key_final(h, seed);
}

#endif /* IG_PURE_APIKEY_H */
