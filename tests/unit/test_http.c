// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The request-framing scanner (bpf/pure/http.h) against a reference model
 * written the other way round: whole buffer, a line at a time (memchr,
 * strncasecmp), no automaton. Generated streams (pipelined HTTP/1.x with
 * Content-Length and chunked bodies full of request lines, h2c with new and
 * old stream ids) are fed whole, split at every position and split at random,
 * as the data path feeds segments; the counts must match the generator's and
 * the model's exactly. Then the cases that must turn opaque.
 */
#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include "pure/http.h"
#include "frames.h"
#include "harness.h"

static unsigned long long rng_state = 0x7f4a7c15f39cc060ULL;

static unsigned rnd(unsigned n)
{
	return (unsigned)(ig_rnd(&rng_state) % n);
}

/* ---- the reference model ---- */

struct ref {
	unsigned count;
	int opaque;
};

#define REF_BIG (1ULL << 62)

/* A whole number's value as the scanner caps it: exact while the value
 * before the last digit is below 2^58, else 2^62. */
static __u64 ref_number(const unsigned char *d, size_t n, unsigned base)
{
	unsigned __int128 v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned x = d[i] <= '9' ? d[i] - '0' : (d[i] | 0x20) - 'a' + 10;

		v = v * base + x;
		if (v > ((unsigned __int128)1 << 100))
			v = (unsigned __int128)1 << 100;
	}
	return v / base >= (1ULL << 58) ? REF_BIG : (__u64)v;
}

static int ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* A header value (what follows the colon, up to the LF or the end of what
 * has been read) against OWS TOKEN (SP|HT|CR)*, where TOKEN is 1*DIGIT
 * (digits) or "h2c" in any case. Returns 1 if it is one, 0 if it cannot
 * become one, -1 if it is the start of one (no LF yet). *num: the token. */
static int ref_value(const unsigned char *v, size_t n, int complete, int digits,
		     const unsigned char **num, size_t *num_len)
{
	size_t i = 0, t = 0;

	while (i < n && ows(v[i]))
		i++;
	*num = v + i;
	if (digits)
		while (i + t < n && isdigit(v[i + t]))
			t++;
	else
		while (i + t < n && t < 3 && tolower(v[i + t]) == "h2c"[t])
			t++;
	*num_len = t;
	if (i + t == n) /* the end of what was read, maybe inside the token */
		return complete ? (digits ? t > 0 : t == 3) : -1;
	if (!t || (!digits && t < 3))
		return 0;
	for (i += t; i < n; i++)
		if (!ows(v[i]) && v[i] != '\r')
			return 0;
	return complete ? 1 : -1;
}

/* At a line start: an empty line (LF, or CR LF) ends a header block or a
 * trailer. 1 (and *p past it) if it is one, 0 if the line is not empty, -1 if
 * the stream ends first, -2 for a CR without its LF. */
static int ref_empty_line(const unsigned char *b, size_t n, size_t *p)
{
	if (*p >= n)
		return -1;
	if (b[*p] == '\n') {
		*p += 1;
		return 1;
	}
	if (b[*p] != '\r')
		return 0;
	if (*p + 1 >= n)
		return -1;
	if (b[*p + 1] != '\n')
		return -2;
	*p += 2;
	return 1;
}

static struct ref ref_parse(const unsigned char *b, size_t n)
{
	static const char preface[] = IG_H2_PREFACE;
	struct ref r = { 0, 0 };
	size_t p = 0;
	__u32 maxsid = 0;
	int h2 = 0;

#define OPAQUE() do { r.opaque = 1; return r; } while (0)
#define NEED(k) do { if (p + (k) > n) return r; } while (0)
	while (p < n) {
		const unsigned char *lf;
		size_t k, m, rest;
		__u64 cl = 0;
		int have_cl = 0, chunked = 0;

		if (h2) {
			__u32 flen, sid;

			NEED(9);
			flen = (__u32)b[p] << 16 | b[p + 1] << 8 | b[p + 2];
			sid = ig_get32(b + p + 5) & 0x7fffffff;
			if (b[p + 3] == 1 && (sid & 1) && sid > maxsid) {
				r.count++;
				maxsid = sid;
			}
			p += 9 + (size_t)flen;
			continue;
		}
		while (p < n && (b[p] == '\r' || b[p] == '\n'))
			p++;
		if (p == n)
			break;
		/* the preface, or a method */
		rest = n - p;
		for (k = 0; k < rest && k < 24 && b[p + k] == (unsigned char)preface[k]; k++)
			;
		if (k == 24) {
			h2 = 1;
			p += 24;
			continue;
		}
		if (k == rest)
			return r; /* cannot tell yet */
		if (k >= 4)
			OPAQUE();
		for (m = 0; p + m < n && b[p + m] >= 'A' && b[p + m] <= 'Z'; m++)
			;
		if (!m)
			OPAQUE();
		/* a 'P' counts once it is not the preface's: the byte after
		 * "P", "PR" or "PRI" is another letter or SP */
		if (k == 0 || m > k || b[p + k] == ' ')
			r.count++;
		if (m > IG_HTTP_METHOD_MAX)
			OPAQUE();
		if (p + m == n)
			return r;
		if (b[p + m] != ' ')
			OPAQUE();
		/* the request line, then the header lines */
		lf = memchr(b + p, '\n', n - p);
		if (!lf)
			return r;
		p = (size_t)(lf - b) + 1;
		for (;;) {
			const unsigned char *line = b + p, *num;
			size_t len, nlen;
			int complete, ok, end;

			end = ref_empty_line(b, n, &p);
			if (end < 0)
				return end == -2 ? (r.opaque = 1, r) : r;
			if (end)
				break;
			if (ows(b[p]))
				OPAQUE(); /* obs-fold */
			lf = memchr(line, '\n', n - p);
			complete = lf != NULL;
			len = complete ? (size_t)(lf - line) : n - p;
			if (len >= 15 && !strncasecmp((const char *)line, "content-length:", 15)) {
				ok = ref_value(line + 15, len - 15, complete, 1, &num, &nlen);
				if (!ok)
					OPAQUE();
				if (ok > 0) {
					__u64 v = ref_number(num, nlen, 10);

					if (have_cl && cl != v)
						OPAQUE();
					have_cl = 1;
					cl = v;
				}
			} else if (len >= 18 && !strncasecmp((const char *)line, "transfer-encoding:", 18)) {
				chunked |= complete;
			} else if (len >= 8 && !strncasecmp((const char *)line, "upgrade:", 8)) {
				if (!ref_value(line + 8, len - 8, complete, 0, &num, &nlen))
					OPAQUE();
			}
			if (!complete)
				return r;
			p += len + 1;
		}
		if (!chunked) {
			p += have_cl ? cl : 0;
			continue;
		}
		/* chunks */
		for (;;) {
			const unsigned char *line = b + p;
			size_t len, h = 0;
			__u64 size;

			lf = memchr(line, '\n', n - p);
			len = lf ? (size_t)(lf - line) : n - p;
			while (h < len && isxdigit(line[h]))
				h++;
			if ((h < len || lf) && !h)
				OPAQUE();
			if (h < len && !memchr("; \t\r", line[h], 4))
				OPAQUE();
			if (!lf)
				return r;
			size = ref_number(line, h, 16);
			p += len + 1;
			if (!size)
				break;
			if (size > n - p)
				return r;
			p += size;
			NEED(1);
			if (b[p] == '\r') {
				NEED(2);
				if (b[p + 1] != '\n')
					OPAQUE();
				p++;
			} else if (b[p] != '\n') {
				OPAQUE();
			}
			p++;
		}
		/* trailer lines, to the empty one */
		for (;;) {
			int end = ref_empty_line(b, n, &p);

			if (end < 0)
				return end == -2 ? (r.opaque = 1, r) : r;
			if (end)
				break;
			lf = memchr(b + p, '\n', n - p);
			if (!lf)
				return r;
			p = (size_t)(lf - b) + 1;
		}
	}
	return r;
#undef OPAQUE
#undef NEED
}

/* ---- feeding the scanner as the data path does ---- */

struct scan {
	struct ig_http_state st;
	struct ig_http_keys keys;
	__u32 count;
};

/* One segment: skip what the scanner skips, feed the rest IG_HTTP_CHUNK (or
 * max) bytes at a time from a chunk buffer whose tail is garbage. */
static void scan_segment(struct scan *sc, const unsigned char *seg, size_t n, size_t max)
{
	static __u8 buf[IG_HTTP_CHUNK] __attribute__((aligned(8)));
	size_t off = 0;

	while (off < n) {
		__u32 len, used;

		off += ig_http_skip(&sc->st, n - off);
		if (off == n)
			break;
		len = (__u32)(n - off < max ? n - off : max);
		memset(buf, 0xa5, sizeof(buf));
		memcpy(buf, seg + off, len);
		used = ig_http_feed(&sc->st, buf, len, &sc->count, &sc->keys);
		ASSERT_LE(used, len, "feed consumes at most what it is given");
		ASSERT_GT(used, 0, "feed makes progress outside a skip state");
		off += used;
	}
}

static struct ref scan_split(const unsigned char *b, size_t n, const size_t *cuts, int ncuts,
			     size_t max)
{
	struct scan sc;
	size_t from = 0;

	memset(&sc, 0, sizeof(sc));
	for (int i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		scan_segment(&sc, b + from, to - from, max);
		from = to;
	}
	return (struct ref){ sc.count, ig_http_opaque(&sc.st) };
}

static struct ref scan_whole(const unsigned char *b, size_t n)
{
	return scan_split(b, n, NULL, 0, IG_HTTP_CHUNK);
}

/* ---- generated streams ---- */

struct gen {
	unsigned char buf[16384];
	size_t len;
	unsigned count;
	__u32 first; /* h2: the first stream a HEADERS opens */
};

static void put(struct gen *g, const void *p, size_t n)
{
	if (g->len + n > sizeof(g->buf))
		n = 0; /* generators stay far below; a test would fail on counts */
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

static void puts_(struct gen *g, const char *s)
{
	put(g, s, strlen(s));
}

static void putf(struct gen *g, const char *fmt, unsigned long long v)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), fmt, v);
	puts_(g, tmp);
}

static const char *eol(void)
{
	return rnd(4) ? "\r\n" : "\n";
}

/* Bytes that look like what the scanner must not read: request lines,
 * chunk sizes, the preface, h2 frame headers. */
static void junk(struct gen *g, size_t n)
{
#define BIT(lit) { lit, sizeof(lit) - 1 }
	static const struct {
		const char *s;
		size_t n;
	} bits[] = {
		BIT("POST / HTTP/1.1\r\n"), BIT("GET /x HTTP/1.1\r\n\r\n"), BIT("Content-Length: 9\r\n"),
		BIT("\r\n\r\n"), BIT("0\r\n\r\n"), BIT(IG_H2_PREFACE),
		BIT("\x00\x00\x00\x01\x04\x00\x00\x00\x7f"),
	};
#undef BIT
	size_t end = g->len + n;

	while (g->len < end) {
		unsigned which = rnd(7);
		const char *b = bits[which].s;
		size_t k = rnd(3) ? bits[which].n : 1 + rnd(8);

		if (k > end - g->len)
			k = end - g->len;
		if (rnd(3))
			put(g, b, k);
		else
			for (size_t i = 0; i < k; i++)
				put(g, (unsigned char[]){ (unsigned char)ig_rnd(&rng_state) }, 1);
	}
}

static void gen_h1(struct gen *g, int *to_h2)
{
	static const char *methods[] = { "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
					 "HEAD", "P", "PR", "PROPFIND", "PRIX",
					 "ABCDEFGHIJKLMNOP" };
	static const char *others[] = { "Host: example", "user-agent: t/1",
					"Content-Type: application/json", "content-lengthy: 7",
					"Transfer-Encodings: gzip", "Upgrade-Insecure-Requests: 1",
					"TE: trailers", "X-Content-Length: 12", "cookie: a=b\rc",
					"Content-Length-Extra: 4", "x:", "tra: 1", "u" };
	unsigned body = rnd(3), cl = rnd(3) ? rnd(400) : rnd(3), nh = rnd(6);
	int up = !rnd(6);

	for (unsigned i = rnd(3); i; i--)
		puts_(g, eol());
	puts_(g, methods[rnd(12)]);
	puts_(g, " /v1/chat/completions?q=GET%20/");
	puts_(g, rnd(2) ? " HTTP/1.1" : " HTTP/1.0");
	puts_(g, eol());
	g->count++;
	for (unsigned i = 0; i <= nh; i++) {
		if (i == nh / 2 && body == 1) {
			static const char *forms[] = { "Content-Length: %llu", "content-length:%llu",
						       "CONTENT-LENGTH:  %llu \t", "Content-Length: 000%llu" };

			for (unsigned d = 1 + !rnd(4); d; d--) {
				putf(g, forms[rnd(4)], cl);
				puts_(g, eol());
			}
		} else if (i == nh / 2 && body == 2) {
			puts_(g, rnd(2) ? "Transfer-Encoding: chunked" : "transfer-encoding:gzip, chunked");
			puts_(g, eol());
			if (rnd(2)) {
				putf(g, "Content-Length: %llu", cl); /* chunked wins */
				puts_(g, eol());
			}
		} else if (i == nh / 2 && up) {
			puts_(g, rnd(2) ? "Upgrade: h2c" : "upgrade:\tH2C ");
			puts_(g, eol());
		} else {
			puts_(g, others[rnd(13)]);
			puts_(g, eol());
		}
	}
	puts_(g, eol());
	if (body == 1) {
		junk(g, cl);
	} else if (body == 2) {
		for (unsigned c = rnd(4); c; c--) {
			unsigned sz = 1 + rnd(300);

			putf(g, rnd(2) ? "%llx" : "%llX", sz);
			puts_(g, rnd(3) ? "" : rnd(2) ? ";ext=1" : " ;x");
			puts_(g, eol());
			junk(g, sz);
			puts_(g, eol());
		}
		puts_(g, rnd(3) ? "0" : "000;last");
		puts_(g, eol());
		for (unsigned t = rnd(3); t; t--) {
			puts_(g, rnd(2) ? "X-Trailer: 1" : " folded trailer");
			puts_(g, eol());
		}
		puts_(g, eol());
	}
	*to_h2 = up && rnd(2);
}

static void frame(struct gen *g, unsigned len, unsigned type, __u32 sid)
{
	unsigned char h[9] = { (unsigned char)(len >> 16), (unsigned char)(len >> 8),
			       (unsigned char)len, (unsigned char)type, (unsigned char)rnd(256),
			       (unsigned char)(sid >> 24), (unsigned char)(sid >> 16),
			       (unsigned char)(sid >> 8), (unsigned char)sid };

	put(g, h, 9);
	junk(g, len);
}

static void gen_h2(struct gen *g)
{
	__u32 next = 1, last = 0;

	puts_(g, IG_H2_PREFACE);
	frame(g, rnd(3) * 6, 4, 0); /* SETTINGS */
	for (unsigned f = rnd(12); f; f--) {
		unsigned len = rnd(4) ? rnd(60) : rnd(600);

		switch (rnd(6)) {
		case 0: /* a new stream, the R bit set now and then */
			frame(g, len, 1, next | (rnd(8) ? 0 : 0x80000000U));
			if (!g->count)
				g->first = next;
			g->count++;
			last = next;
			next += 2 * (1 + rnd(3));
			break;
		case 1: /* trailers on an open stream, or an even id */
			frame(g, len, 1, last && rnd(2) ? last : 2 * (1 + rnd(50)));
			break;
		case 2:
			frame(g, len, 9, next); /* CONTINUATION */
			break;
		default:
			frame(g, len, rnd(2) ? 0 : 8, rnd(2) ? next : 0); /* DATA, WINDOW_UPDATE */
		}
	}
}

static void gen_stream(struct gen *g)
{
	int h2 = !rnd(5);

	g->len = 0;
	g->count = 0;
	g->first = 0;
	for (unsigned r = 1 + rnd(6); r && !h2; r--)
		gen_h1(g, &h2);
	if (h2)
		gen_h2(g);
}

static void check_gen(const struct gen *g, const char *what)
{
	struct ref want = ref_parse(g->buf, g->len), got = scan_whole(g->buf, g->len);

	ASSERT_FALSE(want.opaque, what);
	ASSERT_EQ(want.count, g->count, "the model counts what the generator made");
	ASSERT_EQ(got.count, g->count, what);
	ASSERT_FALSE(got.opaque, what);
}

IG_TEST(http_counts_generated_streams_fed_whole)
{
	struct gen g;

	for (int i = 0; i < 3000; i++) {
		gen_stream(&g);
		check_gen(&g, "whole");
	}
}

/* The first stream an h2 segment opens (the 429's stream): what the scanner
 * notes in `first`, however the stream is cut, from a state whose `first`
 * was zeroed at the segment's start. */
IG_TEST(http_h2_notes_the_first_stream_opened)
{
	struct gen g;
	int seen = 0;

	for (int i = 0; i < 3000; i++) {
		struct scan sc;
		size_t at = 0;

		gen_stream(&g);
		if (g.len < sizeof(IG_H2_PREFACE) || memcmp(g.buf, IG_H2_PREFACE, 24))
			continue;
		memset(&sc, 0, sizeof(sc));
		while (at < g.len) {
			size_t n = 1 + rnd(64);

			if (n > g.len - at)
				n = g.len - at;
			scan_segment(&sc, g.buf + at, n, IG_HTTP_CHUNK);
			at += n;
		}
		ASSERT_EQ(sc.st.first, g.first, "the first stream opened");
		seen += g.first != 0;
	}
	ASSERT_TRUE(seen > 100, "h2 streams that opened one");
}

IG_TEST(http_counts_the_same_split_at_every_position)
{
	struct gen g;

	for (int i = 0; i < 40; i++) {
		do
			gen_stream(&g);
		while (g.len > 1500);
		check_gen(&g, "whole");
		for (size_t cut = 1; cut < g.len; cut++) {
			struct ref got = scan_split(g.buf, g.len, &cut, 1, IG_HTTP_CHUNK);

			ASSERT_EQ(got.count, g.count, "two segments");
			ASSERT_FALSE(got.opaque, "two segments");
		}
	}
}

IG_TEST(http_counts_the_same_split_at_random_in_small_chunks)
{
	struct gen g;
	size_t cuts[64];

	for (int i = 0; i < 2000; i++) {
		int n = 0;
		size_t max = (size_t[]){ 1, 7, 8, 9, 63, 200, 256 }[rnd(7)];
		struct ref got;

		gen_stream(&g);
		for (size_t at = 1 + rnd(300); at < g.len && n < 64; at += 1 + rnd(300))
			cuts[n++] = at;
		got = scan_split(g.buf, g.len, cuts, n, max);
		ASSERT_EQ(got.count, g.count, "random segments, small chunks");
		ASSERT_FALSE(got.opaque, "random segments, small chunks");
	}
}

/* A stream cut short: whatever it ends in, the scanner agrees with the model
 * on what it has seen, and fed in pieces with itself fed whole. */
IG_TEST(http_agrees_with_the_model_on_streams_cut_anywhere_and_mutated)
{
	struct gen g;

	for (int i = 0; i < 4000; i++) {
		struct ref want, got, split;
		size_t cut;

		gen_stream(&g);
		g.len = rnd((unsigned)g.len + 1);
		if (i & 1) /* and a byte changed: often opaque, at least */
			for (int k = rnd(3); k >= 0 && g.len; k--)
				g.buf[rnd((unsigned)g.len)] = (unsigned char)"\r\n :a0P\t;Z\x01"[rnd(11)];
		want = ref_parse(g.buf, g.len);
		got = scan_whole(g.buf, g.len);
		ASSERT_EQ(got.count, want.count, "count of a cut / mutated stream");
		ASSERT_EQ(got.opaque, want.opaque, "opaque on a cut / mutated stream");
		cut = g.len ? rnd((unsigned)g.len) : 0;
		split = scan_split(g.buf, g.len, &cut, 1, 1 + rnd(IG_HTTP_CHUNK));
		ASSERT_EQ(split.count, got.count, "split as whole");
		ASSERT_EQ(split.opaque, got.opaque, "split as whole");
	}
}

static struct ref scan_str(const char *s, size_t n)
{
	struct ref want = ref_parse((const unsigned char *)s, n);
	struct ref got = scan_whole((const unsigned char *)s, n);

	ASSERT_EQ(got.count, want.count, s);
	ASSERT_EQ(got.opaque, want.opaque, s);
	for (size_t cut = 1; cut < n; cut++) {
		struct ref split = scan_split((const unsigned char *)s, n, &cut, 1, 3);

		ASSERT_EQ(split.count, got.count, s);
		ASSERT_EQ(split.opaque, got.opaque, s);
	}
	return got;
}

#define SCAN(lit) scan_str(lit, sizeof(lit) - 1)

IG_TEST(http_framing_cases)
{
	ASSERT_EQ(SCAN("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n\r\n").count, 2, "pipelined");
	ASSERT_EQ(SCAN("\r\n\n\r\nGET / HTTP/1.1\n\n").count, 1, "leading empty lines, bare LFs");
	ASSERT_EQ(SCAN("POST / HTTP/1.1\r\nContent-Length: 34\r\n\r\n"
		       "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n").count, 1, "a body of requests");
	ASSERT_EQ(SCAN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
		       "12;x\r\nGET / HTTP/1.1\r\n\r\n\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n").count,
		  2, "chunked wins over Content-Length; chunk data and trailers");
	ASSERT_EQ(SCAN("P / HTTP/1.1\r\n\r\nPR / HTTP/1.1\r\n\r\nPRIX / HTTP/1.1\r\n\r\n").count, 3,
		  "methods that start like the preface");
	ASSERT_EQ(SCAN("GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n" IG_H2_PREFACE
		       "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
		       "\x00\x00\x02\x01\x04\x00\x00\x00\x01hi"
		       "\x00\x00\x00\x01\x05\x00\x00\x00\x01"
		       "\x00\x00\x00\x01\x04\x80\x00\x00\x03"
		       "\x00\x00\x00\x01\x04\x00\x00\x00\x02").count, 3,
		  "h2c after an upgrade: new odd streams only (R bit ignored)");
}

IG_TEST(http_turns_opaque_when_unsure)
{
	static const struct {
		const char *s;
		size_t n;
		const char *what;
	} cases[] = {
#define C(lit, what) { lit, sizeof(lit) - 1, what }
		C("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "TLS ClientHello"),
		C("\x00\x01\x02garbage", "garbage"),
		C("get / HTTP/1.1\r\n\r\n", "a lower-case method"),
		C("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n", "a method of 17 letters"),
		C("GET/ HTTP/1.1\r\n\r\n", "no SP after the method"),
		C("PRI / HTTP/1.1\r\n\r\n", "PRI and SP, not the preface"),
		C("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\nhello",
		  "two different Content-Lengths"),
		C("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello", "a list"),
		C("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", "an empty Content-Length"),
		C("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", "not digits"),
		C("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", "obs-fold"),
		C("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x05hello", "Upgrade: websocket"),
		C("GET / HTTP/1.1\r\nUpgrade: h2c, foo\r\n\r\n", "Upgrade: a list"),
		C("GET / HTTP/1.1\r\n\rX\r\n", "CR without LF"),
		C("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "a chunk size of no digit"),
		C("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n",
		  "no CRLF after a chunk"),
#undef C
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ref r = scan_str(cases[i].s, cases[i].n);

		ASSERT_TRUE(r.opaque, cases[i].what);
		ASSERT_LE(r.count, 1, cases[i].what);
	}
	ASSERT_FALSE(SCAN(IG_H2_PREFACE "\x00").opaque, "a partial frame header is no error");
	ASSERT_TRUE(SCAN("PRI * HTTP/2.0\r\n\r\nXM\r\n\r\n").opaque, "a preface broken late");
}

/* Huge lengths are skipped forever, not wrapped around. */
IG_TEST(http_caps_lengths)
{
	struct scan sc;
	static const char req[] = "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n";

	memset(&sc, 0, sizeof(sc));
	scan_segment(&sc, (const unsigned char *)req, sizeof(req) - 1, IG_HTTP_CHUNK);
	ASSERT_EQ(sc.count, 1, "counted");
	ASSERT_EQ(sc.st.left, IG_HTTP_BIG, "2^62 to skip");
	ASSERT_EQ(ig_http_skip(&sc.st, 1ULL << 40), 1ULL << 40, "skipped");
	ASSERT_EQ(ig_http_feed(&sc.st, (const __u8 *)req, 8, &sc.count, &sc.keys), 0, "no feeding a body");
	ASSERT_EQ(ref_number((const unsigned char *)"288230376151711743", 18, 10), 288230376151711743ULL,
		  "2^58 - 1 exact");
}
