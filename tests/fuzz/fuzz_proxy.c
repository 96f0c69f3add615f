// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the PROXY protocol parser (bpf/pure/proxy.h). The
 * input is the start of a stream; the parser is given at most IG_PROXY_READ
 * bytes of it, each time from a buffer of exactly that size (a read past len
 * is a heap overflow ASan reports). Invariants:
 *   - every answer but MORE is final: each prefix answers MORE or what the
 *     whole answers (the same address on success); IG_PROXY_READ bytes never
 *     answer MORE;
 *   - success: family 0, 4 or 6, version 1 or 2, hdr_len at least the bytes
 *     that decided (v1: exactly them); an IPv4 source is ::ffff:a.b.c.d;
 *   - the step function fed byte by byte agrees with ig_proxy_parse();
 *   - v1 agrees with a reference written with libc (the first CRLF, the
 *     line split at single spaces, inet_pton(), the ports by hand) on every
 *     complete line;
 *   - what parses, written back as v1 with inet_ntop(), parses to the same.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include "pure/proxy.h"
#include "fuzz_input.h"

static int parse_exact(const __u8 *data, size_t n, struct ig_proxy_addr *out)
{
	__u8 *b = malloc(n ? n : 1);
	int r;

	FZ_CHECK(b != NULL);
	memcpy(b, data, n);
	memset(out, 0x5a, sizeof(*out));
	r = ig_proxy_parse(n ? b : NULL, (__u32)n, out);
	free(b);
	return r;
}

static int ref_port(const char *t, size_t n)
{
	unsigned long v = 0;

	if (n < 1 || n > 5 || (t[0] == '0' && n > 1))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(t[i] - '0');
	}
	return v <= 65535;
}

/*
 * The reference for a v1 line: IG_PROXY_OK (and *out), IG_PROXY_BAD, or
 * IG_PROXY_MORE when the line is not complete in the bytes (the parser may
 * then already say BAD: not compared).
 */
static int ref_v1(const __u8 *b, size_t n, struct ig_proxy_addr *out)
{
	const char *s = (const char *)b, *cr, *tok[6];
	size_t len[6], lim = n < IG_PROXY_V1_MAX ? n : IG_PROXY_V1_MAX, k = 0, at;
	char text[IG_PROXY_V1_MAX + 1];
	int af;

	cr = memchr(s, '\r', lim);
	if (!cr)
		return n >= IG_PROXY_V1_MAX ? IG_PROXY_BAD : IG_PROXY_MORE;
	if ((size_t)(cr - s) + 1 >= lim) /* the LF not within reach */
		return n >= IG_PROXY_V1_MAX ? IG_PROXY_BAD : IG_PROXY_MORE;
	if (cr[1] != '\n')
		return IG_PROXY_BAD;
	memset(out, 0, sizeof(*out));
	out->version = 1;
	out->hdr_len = (__u32)(cr - s) + 2;
	at = 6; /* after "PROXY " */
	if ((size_t)(cr - s) - at >= 7 && !memcmp(s + at, "UNKNOWN", 7) &&
	    ((size_t)(cr - s) == at + 7 || s[at + 7] == ' '))
		return IG_PROXY_OK;
	/* single spaces: five non-empty tokens */
	while (k < 6) {
		const char *sp = memchr(s + at, ' ', (size_t)(cr - s) - at);
		size_t end = sp ? (size_t)(sp - s) : (size_t)(cr - s);

		tok[k] = s + at;
		len[k++] = end - at;
		if (end == at || !sp)
			break;
		at = end + 1;
	}
	if (k != 5 || !len[4])
		return IG_PROXY_BAD;
	for (size_t i = 0; i < 5; i++)
		if (memchr(tok[i], 0, len[i]))
			return IG_PROXY_BAD;
	if (len[0] != 4 || memcmp(tok[0], "TCP", 3) || (tok[0][3] != '4' && tok[0][3] != '6'))
		return IG_PROXY_BAD;
	af = tok[0][3] == '4' ? AF_INET : AF_INET6;
	for (size_t i = 1; i <= 2; i++) {
		__u8 raw[16];

		memcpy(text, tok[i], len[i]);
		text[len[i]] = 0;
		if (inet_pton(af, text, raw) != 1)
			return IG_PROXY_BAD;
		if (i == 1 && af == AF_INET) {
			out->addr[10] = out->addr[11] = 0xff;
			memcpy(out->addr + 12, raw, 4);
		} else if (i == 1) {
			memcpy(out->addr, raw, 16);
		}
	}
	if (!ref_port(tok[3], len[3]) || !ref_port(tok[4], len[4]))
		return IG_PROXY_BAD;
	out->port = (__u16)strtoul(tok[3], NULL, 10);
	out->family = af == AF_INET ? 4 : 6;
	return IG_PROXY_OK;
}

/* The step function, byte by byte, as the BPF side drives it. */
static int by_step(const __u8 *b, size_t n, struct ig_proxy_addr *out)
{
	struct ig_proxy_v1 st;
	int v = ig_proxy_sniff(b, (__u32)n);

	if (v == 2)
		return ig_proxy_v2_parse(b, (__u32)n, out);
	if (v != 1)
		return v;
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++) {
		int r = ig_proxy_v1_step(&st, b[i]);

		FZ_CHECK(st.n == i + 1);
		if (r == IG_PROXY_V1_BAD)
			return IG_PROXY_BAD;
		if (r == IG_PROXY_V1_DONE) {
			memset(out, 0x5a, sizeof(*out));
			ig_proxy_v1_finish(&st, out);
			return IG_PROXY_OK;
		}
		FZ_CHECK(r == IG_PROXY_V1_CONT);
	}
	return IG_PROXY_MORE;
}

/* Written back as v1: parses to the same source. */
static void check_rewrite(const struct ig_proxy_addr *a)
{
	char src[INET6_ADDRSTRLEN], line[160];
	struct ig_proxy_addr b;
	int n;

	if (a->family == 4)
		FZ_CHECK(inet_ntop(AF_INET, a->addr + 12, src, sizeof(src)));
	else
		FZ_CHECK(inet_ntop(AF_INET6, a->addr, src, sizeof(src)));
	n = snprintf(line, sizeof(line), "PROXY TCP%d %s %s %u %u\r\n", a->family, src, src, a->port,
		     a->port);
	FZ_CHECK(n > 0 && n <= IG_PROXY_V1_MAX);
	FZ_CHECK(parse_exact((const __u8 *)line, (size_t)n, &b) == IG_PROXY_OK);
	FZ_CHECK(!memcmp(b.addr, a->addr, 16) && b.port == a->port && b.family == a->family);
	FZ_CHECK(b.version == 1 && b.hdr_len == (__u32)n);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	size_t n = size < IG_PROXY_READ ? size : IG_PROXY_READ, decided = n + 1;
	struct ig_proxy_addr whole, part, ref;
	int r = parse_exact(data, n, &whole), rr;
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	/* a longer buffer changes nothing: only IG_PROXY_READ bytes are read */
	if (size > n) {
		FZ_CHECK(parse_exact(data, size, &part) == r);
		FZ_CHECK(r != IG_PROXY_OK || !memcmp(&part, &whole, sizeof(part)));
	}
	FZ_CHECK(r == IG_PROXY_OK || r == IG_PROXY_MORE || r == IG_PROXY_BAD || r == IG_PROXY_NONE);
	FZ_CHECK(r != IG_PROXY_MORE || n < IG_PROXY_READ);
	for (size_t k = 0; k <= n; k++) {
		int rk = parse_exact(data, k, &part);

		if (rk == IG_PROXY_MORE)
			continue;
		FZ_CHECK(rk == r);
		FZ_CHECK(rk != IG_PROXY_OK || !memcmp(&part, &whole, sizeof(part)));
		if (k < decided)
			decided = k;
	}
	FZ_CHECK(by_step(data, n, &part) == r);
	FZ_CHECK(r != IG_PROXY_OK || !memcmp(&part, &whole, sizeof(part)));
	if (ig_proxy_sniff(data, (__u32)n) == 1) {
		rr = ref_v1(data, n, &ref);
		if (rr != IG_PROXY_MORE)
			FZ_CHECK(rr == r);
		if (rr == IG_PROXY_OK)
			FZ_CHECK(!memcmp(&ref, &whole, sizeof(ref)));
		FZ_CHECK(r != IG_PROXY_OK || rr == IG_PROXY_OK);
	}
	if (r != IG_PROXY_OK)
		return 0;
	FZ_CHECK(whole.family == 0 || whole.family == 4 || whole.family == 6);
	FZ_CHECK(whole.version == 1 || whole.version == 2);
	FZ_CHECK(whole.version == (data[0] == 'P' ? 1 : 2));
	FZ_CHECK(whole.hdr_len >= decided);
	FZ_CHECK(whole.version == 2 || whole.hdr_len == decided);
	FZ_CHECK(whole.version == 1 || whole.hdr_len >= 16);
	if (whole.family == 4)
		FZ_CHECK(!memcmp(whole.addr, mapped, 12));
	if (whole.family == 0) {
		static const __u8 zero[16];

		FZ_CHECK(!memcmp(whole.addr, zero, 16) && whole.port == 0);
	} else {
		check_rewrite(&whole);
	}
	return 0;
}
