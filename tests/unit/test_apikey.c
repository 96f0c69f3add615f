// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * API keys: where the request scanner (bpf/pure/http.h with IG_HF_KEYS)
 * finds a key header's value, the credential taken out of it and its hash
 * (pure/apikey.h), against the hash user space computes over a key's text:
 * each header form, fed in pieces cut at every position, and the property
 * the data path relies on most: reading keys never changes what is framed
 * and counted.
 */
#include <stdlib.h>
#include <string.h>
#include "pure/apikey.h"
#include "pure/http.h"
#include "harness.h"

#define SEED 0x0123456789abcdefULL

struct kscan {
	struct ig_http_state st;
	struct ig_http_keys keys;
	__u32 count;
	__u32 at; /* the stream's bytes fed so far */
};

static void kscan_init(struct kscan *k, int want)
{
	memset(k, 0, sizeof(*k));
	k->st.flags = want ? IG_HF_KEYS : 0;
}

/* The hash of the last key the scanner found in stream, as the request
 * stage reads it; 0 when none. */
static __u64 kscan_key(const struct kscan *k, const char *stream)
{
	static __u8 buf[IG_KEY_VALUE_MAX + IG_KEY_OFF_MAX + 8] __attribute__((aligned(8)));
	__u32 len = k->keys.end - k->keys.start, off, n;

	if (!k->keys.found || len > IG_KEY_VALUE_MAX)
		return 0;
	memset(buf, 0xee, sizeof(buf));
	memcpy(buf, stream + k->keys.start, len);
	if (ig_key_token(buf, len, &off, &n) || off > IG_KEY_OFF_MAX)
		return 0;
	/* where it lies, the bytes after it left as they are */
	return ig_key_words(buf + off, n, SEED);
}

/* One segment, as the data path feeds it (max bytes a call). */
static void kscan_seg(struct kscan *k, const char *seg, size_t n, size_t max)
{
	static __u8 buf[IG_HTTP_CHUNK] __attribute__((aligned(8)));
	size_t off = 0;

	while (off < n) {
		__u32 len;

		off += ig_http_skip(&k->st, n - off);
		if (off == n)
			break;
		len = (__u32)(n - off < max ? n - off : max);
		memset(buf, 0x5a, sizeof(buf));
		memcpy(buf, seg + off, len);
		k->keys.base = k->at + (__u32)off;
		off += ig_http_feed(&k->st, buf, len, &k->count, &k->keys);
	}
	k->at += (__u32)n;
}

static __u64 key_of(const char *text)
{
	return ig_key_hash(SEED, text, strlen(text));
}

IG_TEST(apikey_each_header_form_gives_the_key_text_hash)
{
	static const struct {
		const char *req, *key;
	} cases[] = {
		{ "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-one\r\n"
		  "Content-Length: 2\r\n\r\n{}", "sk-one" },
		{ "GET / HTTP/1.1\r\nauthorization:bearer   sk-one \r\n\r\n", "sk-one" },
		{ "GET / HTTP/1.1\r\nAUTHORIZATION: BEARER sk-one\n\n", "sk-one" },
		{ "GET / HTTP/1.1\r\nx-api-key: sk-one\r\n\r\n", "sk-one" },
		{ "GET / HTTP/1.1\r\nX-Api-Key:sk-one\r\n\r\n", "sk-one" },
		{ "GET / HTTP/1.1\r\napi-key: \tsk-one\t\r\n\r\n", "sk-one" },
		/* another scheme: the value whole */
		{ "GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwdw==\r\n\r\n", "Basic dXNlcjpwdw==" },
		{ "GET / HTTP/1.1\r\nAuthorization: Bearerx\r\n\r\n", "Bearerx" },
		{ "GET / HTTP/1.1\r\nAuthorization: Bear sk\r\n\r\n", "Bear sk" },
		{ "GET / HTTP/1.1\r\nAuthorization: bearer\t sk-one\r\n\r\n", "sk-one" },
		/* longer than a word, and than a chunk's worth of steps */
		{ "GET / HTTP/1.1\r\nAuthorization: Bearer sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
		  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwx"
		  "yzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab\r\n\r\n",
		  "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO"
		  "PQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab" },
		/* the last wins */
		{ "GET / HTTP/1.1\r\nx-api-key: first\r\nAuthorization: Bearer second\r\n\r\n", "second" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].req);

		for (size_t cut = 0; cut <= n; cut++) {
			struct kscan k;

			kscan_init(&k, 1);
			kscan_seg(&k, cases[i].req, cut, IG_HTTP_CHUNK);
			kscan_seg(&k, cases[i].req + cut, n - cut, 1 + cut % 7);
			ASSERT_EQ(k.count, 1, cases[i].req);
			ASSERT_FALSE(ig_http_opaque(&k.st), cases[i].req);
			ASSERT_EQ(k.keys.found, 1, cases[i].req);
			ASSERT_EQ(kscan_key(&k, cases[i].req), key_of(cases[i].key), cases[i].req);
		}
	}
}

IG_TEST(apikey_lines_that_are_not_keys)
{
	static const char *const reqs[] = {
		"GET / HTTP/1.1\r\nAccept: */*\r\nAuthorisation: Bearer x\r\n\r\n",
		"GET / HTTP/1.1\r\nx-api-keys: x\r\napi-key-id: x\r\nauthorization-x: y\r\n\r\n",
		"GET / HTTP/1.1\r\nX-Authorization: Bearer x\r\nMy-Api-Key: x\r\n\r\n",
		/* in a body: never read */
		"POST / HTTP/1.1\r\nContent-Length: 24\r\n\r\nAuthorization: Bearer x\n",
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct kscan k;

		kscan_init(&k, 1);
		kscan_seg(&k, reqs[i], strlen(reqs[i]), IG_HTTP_CHUNK);
		ASSERT_EQ(k.count, 1, reqs[i]);
		ASSERT_EQ(k.keys.found, 0, reqs[i]);
	}
}

/* Header names cut by the scanner's 8-byte blocks (pure/http.h), where a
 * scanner that judged a name a word at a time could go wrong: names that
 * miss by one letter (or by a CR, which is '-' lower-cased, or by a bare LF:
 * a miss looks for the LF in the whole block), and the real ones, start at
 * every offset of a block. */
IG_TEST(apikey_names_at_every_offset_of_a_block)
{
	static const char tail[] = "\r\nX-Api-Kez: no\r\nx\r-api-key: no\r\nContent-Typ: x\r\n"
				   "Content-Lengthy: 9\r\nAuthorizatio: no\r\nApi-Ke: no\r\nX-Api-\nAuthoriz\n"
				   "TRANSFER-ENCODINg-x: y\r\nUpgradE-x: h2c\r\n%s\r\nAccept: x\r\n"
				   "Authorization\r\nCONTENT-LENGTH: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
	/* each name's first letter the last byte of a block, for some pad:
	 * the next block then starts in its name ("A": in either) */
	static const char *const lines[] = { "X-API-KEY:sk-one", "Api-Key:  sk-one",
					     "AUTHORIZATION: Bearer sk-one", "aPI-kEY:sk-one" };
	char req[320], fmt[320];

	for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
		snprintf(fmt, sizeof(fmt), "GET / HTTP/1.1\r\nH: %%.*s%s", tail);
		for (int pad = 0; pad < 16; pad++) {
			struct kscan k;
			int n = snprintf(req, sizeof(req), fmt, pad, "aaaaaaaaaaaaaaaa", lines[l]);

			kscan_init(&k, 1);
			kscan_seg(&k, req, (size_t)n, IG_HTTP_CHUNK);
			ASSERT_EQ(k.count, 2, "the body of 3 skipped, not 9");
			ASSERT_FALSE(ig_http_opaque(&k.st), "no Upgrade, no Transfer-Encoding");
			ASSERT_EQ(k.keys.found, 1, lines[l]);
			ASSERT_EQ(kscan_key(&k, req), key_of("sk-one"), lines[l]);
		}
	}
}

/* The value starts right after the colon (0.14.3), so an empty one is a key
 * line all the same: the last one read, without a credential. Such a request
 * is anonymous, whatever key a line before it carried; never the key before. */
IG_TEST(apikey_an_empty_last_key_line_means_no_key)
{
	static const char *const reqs[] = {
		"GET / HTTP/1.1\r\nAuthorization: Bearer sk-one\r\nX-API-Key:\r\n\r\n",
		"GET / HTTP/1.1\r\nAuthorization: Bearer sk-one\r\nX-API-Key: \t \r\n\r\n",
		"GET / HTTP/1.1\r\nx-api-key: sk-one\r\nAuthorization:\n\n",
		"GET / HTTP/1.1\r\nx-api-key: sk-one\r\nAuthorization:   \r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		size_t n = strlen(reqs[i]);

		for (size_t cut = 0; cut <= n; cut++) {
			struct kscan k;

			kscan_init(&k, 1);
			kscan_seg(&k, reqs[i], cut, IG_HTTP_CHUNK);
			kscan_seg(&k, reqs[i] + cut, n - cut, 1 + cut % 7);
			ASSERT_EQ(k.count, 1, reqs[i]);
			ASSERT_EQ(k.keys.found, 1, reqs[i]);
			ASSERT_EQ(reqs[i][k.keys.start - 1], ':', "the value starts after the colon");
			ASSERT_EQ(kscan_key(&k, reqs[i]), 0, reqs[i]);
		}
	}
}

IG_TEST(apikey_not_read_unless_asked)
{
	static const char req[] = "GET / HTTP/1.1\r\nAuthorization: Bearer sk\r\n\r\nGET / HTTP/1.1\r\n\r\n";
	struct kscan k;

	kscan_init(&k, 0);
	kscan_seg(&k, req, sizeof(req) - 1, IG_HTTP_CHUNK);
	ASSERT_EQ(k.count, 2, "both requests");
	ASSERT_EQ(k.keys.found, 0, "no key read");
	kscan_init(&k, 1);
	kscan_seg(&k, req, sizeof(req) - 1, IG_HTTP_CHUNK);
	ASSERT_EQ(k.count, 2, "both requests");
	ASSERT_EQ(k.keys.found, 1, "the key read");
	ASSERT_TRUE(k.st.flags & IG_HF_KEYS, "the wish outlives a request");
}

IG_TEST(apikey_hash_is_of_the_text_alone)
{
	ASSERT_EQ(key_of(" sk-1\r\n"), key_of("sk-1"), "whitespace at the ends is not the key");
	ASSERT_NEQ(key_of("sk-1"), key_of("sk-2"), "keys differ");
	ASSERT_NEQ(key_of("sk-12345"), key_of("sk-123456"), "by length past a word");
	ASSERT_NEQ(key_of("abcdefgh"), key_of("abcdefgh\x01"), "a byte more");
	ASSERT_NEQ(ig_key_hash(1, "sk-1", 4), ig_key_hash(2, "sk-1", 4), "by seed");
}

/* A key's hash is what `keys` holds, pinned across upgrades and given by
 * operators (`key add --hash`): one that changed would leave every key
 * loaded before it nobody's. These are 0.14's. */
IG_TEST(apikey_hash_is_the_same_across_versions)
{
	ASSERT_EQ(key_of("sk-one"), 0x7db730c5f54edc44ULL, "sk-one");
	ASSERT_EQ(key_of("sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh"),
		  0xdb92b870473d6925ULL, "a 51-byte key: whole words and a tail");
	ASSERT_EQ(key_of(""), 0x42653f47caf77d8fULL, "the empty text");
}

IG_TEST(apikey_values_without_a_credential)
{
	static const char *const vals[] = { "Bearer", "Bearer ", "Bearer \t ", "   ", "" };
	__u8 buf[IG_KEY_VALUE_MAX] = { 0 };
	__u32 off, n;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		size_t len = strlen(vals[i]);

		memcpy(buf, vals[i], len);
		/* "Bearer" and nothing after is a credential named so (the
		 * scheme needs something after it); whitespace alone, none */
		ASSERT_EQ(ig_key_token(buf, (__u32)len, &off, &n), i < 3 ? 0 : -1, vals[i]);
		if (i < 3)
			ASSERT_EQ(n, 6, "the word Bearer");
	}
	ASSERT_EQ(ig_key_token(buf, IG_KEY_VALUE_MAX + 1, &off, &n), -1, "too long: no key");
}

/* ig_key_token() as it was a byte at a time (0.13), with the blanks before
 * the value it drops since 0.14.3 (the scanner leaves them), for the word-at-once
 * "Bearer" and the loops that stop at their first other byte */
static int token_ref(const __u8 *v, __u32 len, __u32 *off, __u32 *n)
{
	__u32 i, o = 0;

	if (len > IG_KEY_VALUE_MAX)
		return -1;
	for (i = 0; i < IG_KEY_WS; i++)
		if (len && ig_key_ws(v[len - 1]))
			len--;
	for (i = 0; i < IG_KEY_WS; i++)
		if (o < len && ig_key_ws(v[o]))
			o++;
	if (len - o > 7 && (v[o] | 0x20) == 'b' && (v[o + 1] | 0x20) == 'e' &&
	    (v[o + 2] | 0x20) == 'a' && (v[o + 3] | 0x20) == 'r' && (v[o + 4] | 0x20) == 'e' &&
	    (v[o + 5] | 0x20) == 'r' && (v[o + 6] == ' ' || v[o + 6] == '\t')) {
		o += 7;
		for (i = 0; i < IG_KEY_WS; i++)
			if (o < len && (v[o] == ' ' || v[o] == '\t'))
				o++;
	}
	if (o >= len)
		return -1;
	*off = o;
	*n = len - o;
	return 0;
}

IG_TEST(apikey_token_is_the_byte_at_a_time_one)
{
	static const char alphabet[] = "BearerBEARERbearer \t\r\n\x00\xffsk-:xyz";
	unsigned long long rng = 16;
	__u8 v[IG_KEY_VALUE_MAX] __attribute__((aligned(8)));

	for (int t = 0; t < 200000; t++) {
		__u32 len = (__u32)(ig_rnd(&rng) % 40), o1 = 0, n1 = 0, o2 = 0, n2 = 0;
		int r1, r2;

		memset(v, 0x5a, sizeof(v));
		/* often a scheme in some case and blanks: the paths of interest */
		for (__u32 i = 0; i < len; i++)
			v[i] = (__u8)alphabet[ig_rnd(&rng) % (sizeof(alphabet) - 1)];
		if (len >= 7 && ig_rnd(&rng) % 2) {
			/* the blanks after the colon, which the scanner
			 * leaves in the value, then the scheme's */
			__u32 b = (__u32)(ig_rnd(&rng) % 12);

			b = b < len - 7 ? b : len - 7;
			for (__u32 i = 0; i < b; i++)
				v[i] = " \t\r"[ig_rnd(&rng) % 3];
			memcpy(v + b, ig_rnd(&rng) % 2 ? "Bearer " : "bEaReR\t", 7);
			for (__u32 i = b + 7; i < len && ig_rnd(&rng) % 3; i++)
				v[i] = ig_rnd(&rng) % 2 ? ' ' : '\t';
		}
		r1 = token_ref(v, len, &o1, &n1);
		r2 = ig_key_token(v, len, &o2, &n2);
		ASSERT_EQ(r2, r1, "the same verdict");
		if (!r1) {
			ASSERT_EQ(o2, o1, "the same start");
			ASSERT_EQ(n2, n1, "the same length");
			ASSERT_LE(o2, IG_KEY_OFF_MAX, "within the offset's bound");
		}
	}
}

/* The data path hashes the credential where it lies in the value's buffer,
 * the bytes after it whatever the buffer held: the hash of its text all the
 * same, at every offset the credential can start at. */
IG_TEST(apikey_hash_in_place_is_the_key_text_hash)
{
	static const char key[] = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
	__u8 buf[IG_KEY_VALUE_MAX + IG_KEY_OFF_MAX + 8] __attribute__((aligned(8)));

	for (__u32 off = 0; off <= IG_KEY_OFF_MAX; off++)
		for (__u32 n = 1; n < sizeof(key); n++) {
			memset(buf, (int)(0x80 | off | n), sizeof(buf));
			memcpy(buf + off, key, n);
			ASSERT_EQ(ig_key_words(buf + off, n, SEED), ig_key_hash(SEED, key, n),
				  "in place, the text's hash");
		}
}

/* A random stream of requests whose header lines are often key lines with
 * odd values (whitespace, CR, NUL, 8-bit bytes, folding, empty), cut anywhere:
 * with keys read and without, the same count, the same opaqueness, the same
 * state where framing is concerned. */
static size_t gen_stream(unsigned long long *rng, char *out, size_t cap)
{
	static const char *const names[] = { "Authorization", "x-api-key", "API-KEY", "Accept",
					     "authorizatio", "x-api-ke", "a", "x", "Content-Length" };
	static const char alphabet[] = "Bearer sk-\t \r\x00\xff:;,aZ09";
	size_t n = 0;

	while (n + 200 < cap) {
		int lines = (int)(ig_rnd(rng) % 5);

		n += (size_t)snprintf(out + n, cap - n, "POST /v1 HTTP/1.1\r\n");
		for (int l = 0; l < lines; l++) {
			const char *name = names[ig_rnd(rng) % (sizeof(names) / sizeof(names[0]))];
			int vlen = (int)(ig_rnd(rng) % 24);

			if (!strcmp(name, "Content-Length"))
				continue; /* bodies come from the count below */
			n += (size_t)snprintf(out + n, cap - n, "%s:", name);
			for (int v = 0; v < vlen; v++)
				out[n++] = alphabet[ig_rnd(rng) % (sizeof(alphabet) - 1)];
			out[n++] = '\r';
			out[n++] = '\n';
		}
		if (ig_rnd(rng) % 3 == 0) {
			n += (size_t)snprintf(out + n, cap - n, "Content-Length: 5\r\n\r\nx: y\n");
		} else {
			out[n++] = '\r';
			out[n++] = '\n';
		}
	}
	return n;
}

IG_TEST(apikey_reading_keys_never_changes_the_framing)
{
	unsigned long long rng = 0x9e3779b97f4a7c15ULL;
	static char stream[4096];

	for (int round = 0; round < 3000; round++) {
		size_t n = gen_stream(&rng, stream, sizeof(stream));
		size_t cut = (size_t)(ig_rnd(&rng) % (n + 1));
		size_t max = 1 + (size_t)(ig_rnd(&rng) % IG_HTTP_CHUNK);
		struct kscan with, without;

		if (round % 2)
			stream[ig_rnd(&rng) % n] = (char)ig_rnd(&rng); /* a mutation */
		kscan_init(&with, 1);
		kscan_init(&without, 0);
		kscan_seg(&with, stream, cut, max);
		kscan_seg(&with, stream + cut, n - cut, max);
		kscan_seg(&without, stream, n, IG_HTTP_CHUNK);
		ASSERT_EQ(with.count, without.count, "the same requests");
		ASSERT_EQ(ig_http_opaque(&with.st), ig_http_opaque(&without.st), "as opaque");
		ASSERT_EQ(with.st.cl, without.st.cl, "the same Content-Length");
		ASSERT_EQ(with.st.left, without.st.left, "the same left to skip");
		ASSERT_EQ(with.st.flags & ~IG_HF_KEYS, without.st.flags, "the same framing flags");
	}
}

/* The names the scanner passes over a block at a time (struct
 * ig_http_block), each broken at each of its bytes (a letter of the other
 * case, another letter, an LF, a CR, a colon, a dash) and at each offset of a
 * block, with keys read and without: fed whole (the blocks passed over) and a
 * byte at a time (every byte stepped), the same requests, state and key. */
IG_TEST(http_names_passed_over_a_block_at_a_time_scan_as_bytes_do)
{
	static const char *const lines[] = {
		"Content-Length: 3", "Transfer-Encoding: chunked", "Upgrade: h2c",
		"Authorization: Bearer sk-one", "api-key: sk-one", "x-api-key: sk-one",
		"Accept: application/json",
	};
	/* (a 'p' for the 'u' of authorization is api-key's) */
	static const char subs[] = { 0, 'q', 'p', '\n', '\r', ':', '-' };
	char req[320], line[64];
	int cases = 0;

	for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
		size_t colon = (size_t)(strchr(lines[l], ':') - lines[l]);

		for (size_t p = 0; p <= colon; p++) {
			for (size_t r = 0; r < sizeof(subs); r++) {
				for (int pad = 0; pad < 16; pad++) {
					struct kscan whole, bytes;
					int n;

					snprintf(line, sizeof(line), "%s", lines[l]);
					/* 0: the other case (a letter) or as it is */
					line[p] = subs[r] ? subs[r] : (char)(line[p] ^ (line[p] >= 'A' ? 0x20 : 0));
					n = snprintf(req, sizeof(req),
						     "GET / HTTP/1.1\r\nH: %.*s\r\n%s\r\nX-Stainless-Os: "
						     "Linux\r\n\r\nabc0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
						     pad, "aaaaaaaaaaaaaaaa", line);
					for (int keys = 0; keys < 2; keys++) {
						kscan_init(&whole, keys);
						kscan_init(&bytes, keys);
						kscan_seg(&whole, req, (size_t)n, IG_HTTP_CHUNK);
						kscan_seg(&bytes, req, (size_t)n, 1);
						ASSERT_EQ(whole.count, bytes.count, line);
						ASSERT_MEMEQ(&whole.st, &bytes.st, sizeof(whole.st), line);
						ASSERT_EQ(whole.keys.found, bytes.keys.found, line);
						ASSERT_EQ(whole.keys.start, bytes.keys.start, line);
						ASSERT_EQ(whole.keys.end, bytes.keys.end, line);
						cases++;
					}
				}
			}
		}
	}
	ASSERT_GT(cases, 10000, "every name, byte, substitute and offset");
}
