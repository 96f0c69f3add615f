// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the request scanner (bpf/pure/http.h) and the 429
 * reply (bpf/pure/http_reply.h):
 *   - any stream, fed as the data path feeds it (skip, then chunks of at most
 *     a chosen size) from buffers of exactly the chunk's size, so a read past
 *     len is a heap overflow ASan reports;
 *   - cut into segments anywhere, it counts what it counts fed whole, and
 *     ends opaque or not the same;
 *   - every call consumes at most what it is given and, outside a skip state,
 *     something; what is skipped and consumed adds up to the stream;
 *   - never more requests than bytes (a request is at least one byte);
 *   - with API keys read (IG_HF_KEYS), the same count and framing, and the
 *     same key whole or cut;
 *   - the 429 for any wait has its fixed length, a Content-Length that is
 *     its body, and waits rounded up to at least 1.
 * Input: a chunk size, a count of cuts, the cuts (16 bits each), a wait
 * (64 bits), then the stream.
 */
#include <stdio.h>
#include "pure/http.h"
#include "pure/http_reply.h"
#include "fuzz_input.h"

struct run {
	struct ig_http_state st;
	struct ig_http_keys keys;
	__u32 count;
	size_t seen; /* bytes skipped or consumed */
};

static void run_segment(struct run *r, const unsigned char *seg, size_t n, size_t max)
{
	size_t off = 0;

	while (off < n) {
		__u64 skipped = ig_http_skip(&r->st, n - off);
		unsigned char *chunk;
		__u32 len, used;

		FZ_CHECK(skipped <= n - off);
		off += skipped;
		r->seen += skipped;
		if (off == n)
			break;
		len = (__u32)(n - off < max ? n - off : max);
		chunk = malloc(len);
		FZ_CHECK(chunk != NULL);
		memcpy(chunk, seg + off, len);
		r->keys.base = (__u32)r->seen;
		used = ig_http_feed(&r->st, chunk, len, &r->count, &r->keys);
		free(chunk);
		FZ_CHECK(used <= len && used > 0);
		off += used;
		r->seen += used;
	}
}

static void run_stream(struct run *r, const unsigned char *s, size_t n, const size_t *cuts,
		       int ncuts, size_t max, int keys)
{
	size_t from = 0;

	memset(r, 0, sizeof(*r));
	if (keys)
		r->st.flags = IG_HF_KEYS;
	for (int i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		run_segment(r, s + from, to - from, max);
		from = to;
	}
	FZ_CHECK(r->seen == n);
	FZ_CHECK(r->count <= n);
}

/* The number in header `name` (then only spaces to the CRLF), or -1. */
static long field(const char *text, const char *name)
{
	const char *f = strstr(text, name);
	char *end;
	long v;

	if (!f)
		return -1;
	v = strtol(f + strlen(name), &end, 10);
	end += strspn(end, " ");
	return end != f + strlen(name) && !strncmp(end, "\r\n", 2) ? v : -1;
}

static void check_429(__u64 wait_ns)
{
	static __u8 buf[IG_HTTP_429_MAX] __attribute__((aligned(8)));
	__u64 c = wait_ns > IG_HTTP_429_WAIT_MAX ? IG_HTTP_429_WAIT_MAX : wait_ns;
	long s = c ? (long)((c + 999999999) / 1000000000) : 1;
	long ms = c ? (long)((c + 999999) / 1000000) : 1;
	char text[IG_HTTP_429_MAX + 1], want[64];
	const char *body, *last;
	__u32 len = ig_http_429(buf, wait_ns);

	ig_http_429_rl(buf, wait_ns, wait_ns >> 7, (int)(wait_ns & 1));

	FZ_CHECK(len == IG_HTTP_429_LEN && len <= IG_HTTP_429_MAX);
	memcpy(text, buf, len);
	text[len] = 0;
	FZ_CHECK(strlen(text) == len);
	body = strstr(text, "\r\n\r\n");
	FZ_CHECK(body != NULL);
	body += 4;
	FZ_CHECK(field(text, "\r\nContent-Length: ") == (long)(len - (size_t)(body - text)));
	FZ_CHECK(field(text, "\r\nRetry-After: ") == s);
	FZ_CHECK(field(text, "\r\nretry-after-ms: ") == ms);
	snprintf(want, sizeof(want), "retry after %ld ms\"", ms);
	FZ_CHECK(strstr(body, want) != NULL);
	last = strrchr(body, '}');
	FZ_CHECK(body[0] == '{' && last && strspn(last + 1, " ") == strlen(last + 1));
	/* the brief form: the same head, cut after Content-Length 0 */
	len = ig_http_429_brief(buf);
	FZ_CHECK(len == IG_HTTP_429_BRIEF_LEN && !memcmp(buf + len - 4, "\r\n\r\n", 4));
	memcpy(text, buf, len);
	text[len] = 0;
	FZ_CHECK(strlen(text) == len && strstr(text, "\r\n\r\n") == text + len - 4);
	FZ_CHECK(field(text, "\r\nContent-Length: ") == 0);
	FZ_CHECK(field(text, "\r\nRetry-After: ") == s);
	FZ_CHECK(field(text, "\r\nretry-after-ms: ") == ms);
	/* h2c: fixed length, the numbers zero-padded in their slots */
	FZ_CHECK(ig_h2_429(buf, wait_ns, (__u32)wait_ns | 1) == IG_H2_429_LEN);
	memcpy(text, buf + IG_H2_429_HEADERS_AT + 9 + 8, IG_HTTP_429_S_DIGITS);
	text[IG_HTTP_429_S_DIGITS] = 0;
	FZ_CHECK(strtol(text, NULL, 10) == s);
	memcpy(text, buf + IG_H2_429_GOAWAY_AT - IG_HTTP_429_MS_DIGITS, IG_HTTP_429_MS_DIGITS);
	text[IG_HTTP_429_MS_DIGITS] = 0;
	FZ_CHECK(strtol(text, NULL, 10) == ms);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fz in = { data, size };
	size_t max = 1 + fz_u8(&in), cuts[16];
	int ncuts = fz_u8(&in) % 16;
	struct run whole, split;
	__u64 wait;

	for (int i = 0; i < ncuts; i++)
		cuts[i] = fz_u16(&in);
	wait = fz_u64(&in);
	check_429(wait);
	/* the cuts, in order, inside the stream */
	for (int i = 0; i < ncuts; i++)
		cuts[i] = in.n ? cuts[i] % (in.n + 1) : 0;
	for (int i = 1; i < ncuts; i++)
		for (int j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
			size_t t = cuts[j];

			cuts[j] = cuts[j - 1];
			cuts[j - 1] = t;
		}
	run_stream(&whole, in.p, in.n, NULL, 0, IG_HTTP_CHUNK, 0);
	run_stream(&split, in.p, in.n, cuts, ncuts, max, 0);
	FZ_CHECK(split.count == whole.count);
	FZ_CHECK(ig_http_opaque(&split.st) == ig_http_opaque(&whole.st));
	/* API keys (IG_HF_KEYS): reading them frames and counts nothing
	 * differently, and a key cut anywhere is read the same */
	run_stream(&split, in.p, in.n, cuts, ncuts, max, 1);
	FZ_CHECK(split.count == whole.count);
	FZ_CHECK(ig_http_opaque(&split.st) == ig_http_opaque(&whole.st));
	FZ_CHECK(split.st.left == whole.st.left && split.st.cl == whole.st.cl);
	{
		struct run keyed;

		run_stream(&keyed, in.p, in.n, NULL, 0, IG_HTTP_CHUNK, 1);
		FZ_CHECK(keyed.keys.found == split.keys.found);
		FZ_CHECK(!keyed.keys.found || (keyed.keys.start == split.keys.start &&
					       keyed.keys.end == split.keys.end));
		/* the value lies in the stream, right after its header's
		 * colon (empty when the LF is next) */
		FZ_CHECK(!keyed.keys.found ||
			 (keyed.keys.start <= keyed.keys.end && keyed.keys.end < in.n &&
			  keyed.keys.start > 0 && in.p[keyed.keys.end] == '\n' &&
			  in.p[keyed.keys.start - 1] == ':'));
	}
	return 0;
}
