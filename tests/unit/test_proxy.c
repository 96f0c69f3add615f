// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The PROXY protocol parser (bpf/pure/proxy.h): headers of both versions
 * that must parse, and to what; every truncation of them (MORE, never an
 * answer early); the malformed (BAD) and the foreign (NONE). The v1 address
 * text is compared with glibc's inet_pton(), the parser's stated model, on
 * edge cases and on random addresses written every way and then mutated.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include "pure/proxy.h"
#include "harness.h"

static unsigned long long rng_state = 0x243f6a8885a308d3ULL;

static unsigned rnd(unsigned n)
{
	return (unsigned)(ig_rnd(&rng_state) % n);
}

static int parse_str(const char *s, struct ig_proxy_addr *out)
{
	size_t n = strlen(s);

	return ig_proxy_parse((const __u8 *)s, n > IG_PROXY_READ ? IG_PROXY_READ : (__u32)n, out);
}

/* v1 with the source text src: the parser's answer, and its address. */
static int v1_src(const char *fam, const char *src, struct ig_proxy_addr *out)
{
	char line[256];

	snprintf(line, sizeof(line), "PROXY %s %s %s 1 2\r\n", fam, src,
		 fam[3] == '4' ? "10.0.0.1" : "::1");
	return parse_str(line, out);
}

static void expect_v1(const char *line, int family, const char *addr, unsigned port)
{
	struct ig_proxy_addr a;
	__u8 want[16] = {};
	int r = parse_str(line, &a);

	if (r != IG_PROXY_OK)
		IG_FAIL("\"%s\": got %d", line, r);
	if (family == 4) {
		want[10] = want[11] = 0xff;
		ASSERT_EQ(inet_pton(AF_INET, addr, want + 12), 1, addr);
	} else if (family == 6) {
		ASSERT_EQ(inet_pton(AF_INET6, addr, want), 1, addr);
	}
	ASSERT_MEMEQ(a.addr, want, 16, line);
	ASSERT_EQ(a.family, family, line);
	ASSERT_EQ(a.port, port, line);
	ASSERT_EQ(a.version, 1, line);
	ASSERT_EQ(a.hdr_len, strchr(line, '\n') + 1 - line, line);
}

IG_TEST(proxy_v1_valid)
{
	expect_v1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n", 4,
		  "192.168.0.1", 56324);
	expect_v1("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", 4, "0.0.0.0", 0);
	expect_v1("PROXY TCP4 255.255.255.255 1.2.3.4 65535 1\r\n", 4, "255.255.255.255", 65535);
	expect_v1("PROXY TCP6 2001:db8::1 2001:db8::2 4000 80\r\n", 6, "2001:db8::1", 4000);
	expect_v1("PROXY TCP6 ::ffff:1.2.3.4 ::1 5 6\r\n", 6, "::ffff:1.2.3.4", 5);
	expect_v1("PROXY TCP6 :: :: 1 1\r\n", 6, "::", 1);
	expect_v1("PROXY TCP6 1:2:3:4:5:6:7:8 ::1 10 10\r\n", 6, "1:2:3:4:5:6:7:8", 10);
	expect_v1("PROXY TCP6 FFFF:ffff:0000:0:ABCD::1.2.3.4 ::1 10 10\r\n", 6,
		  "ffff:ffff::abcd:0:102:304", 10);
	expect_v1("PROXY UNKNOWN\r\n", 0, NULL, 0);
	expect_v1("PROXY UNKNOWN ffff:f...:ffff ffff:f...:ffff 65535 65535\r\n", 0, NULL, 0);
	/* exactly 107 bytes */
	expect_v1("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
		  6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
}

/* A v2 header: 16 fixed bytes, the addresses, tlv bytes of TLVs. */
static size_t v2(__u8 *b, __u8 ver_cmd, __u8 fam, const void *src, size_t alen, __u16 sport,
		 size_t tlv)
{
	static const __u8 sig[12] = "\r\n\r\n\0\r\nQUIT\n";
	size_t plen = alen + tlv, i;

	memcpy(b, sig, 12);
	b[12] = ver_cmd;
	b[13] = fam;
	b[14] = (__u8)(plen >> 8);
	b[15] = (__u8)plen;
	memset(b + 16, 0xa5, alen);
	if (alen == 12) {
		memcpy(b + 16, src, 4);
		b[24] = sport >> 8;
		b[25] = (__u8)sport;
	} else if (alen == 36) {
		memcpy(b + 16, src, 16);
		b[48] = sport >> 8;
		b[49] = (__u8)sport;
	}
	for (i = 0; i < tlv; i++)
		b[16 + alen + i] = (__u8)i;
	return 16 + plen;
}

IG_TEST(proxy_v2_valid)
{
	__u8 b[512], v4[4] = { 203, 0, 113, 7 }, v6[16], want[16] = {};
	struct ig_proxy_addr a;
	size_t n;

	inet_pton(AF_INET6, "2001:db8:1:2::42", v6);
	n = v2(b, 0x21, 0x11, v4, 12, 40000, 0);
	ASSERT_EQ(ig_proxy_parse(b, n, &a), 0, "tcp4");
	want[10] = want[11] = 0xff;
	memcpy(want + 12, v4, 4);
	ASSERT_MEMEQ(a.addr, want, 16, "tcp4 addr");
	ASSERT_EQ(a.port, 40000, "tcp4 port");
	ASSERT_EQ(a.family, 4, "tcp4");
	ASSERT_EQ(a.version, 2, "tcp4");
	ASSERT_EQ(a.hdr_len, 28, "tcp4");

	n = v2(b, 0x21, 0x21, v6, 36, 443, 0);
	ASSERT_EQ(ig_proxy_parse(b, n, &a), 0, "tcp6");
	ASSERT_MEMEQ(a.addr, v6, 16, "tcp6 addr");
	ASSERT_EQ(a.port, 443, "tcp6 port");
	ASSERT_EQ(a.family, 6, "tcp6");
	ASSERT_EQ(a.hdr_len, 52, "tcp6");

	/* TLVs: the length says more than the caller reads */
	n = v2(b, 0x21, 0x21, v6, 36, 443, 300);
	ASSERT_EQ(ig_proxy_parse(b, IG_PROXY_READ, &a), 0, "tcp6 tlv");
	ASSERT_EQ(a.hdr_len, 16 + 36 + 300, "tcp6 tlv hdr_len");
	ASSERT_EQ(a.family, 6, "tcp6 tlv");
	ASSERT_EQ(ig_proxy_parse(b, 52, &a), 0, "52 bytes decide");
	ASSERT_EQ(a.hdr_len, n, "tcp6 tlv hdr_len");

	/* LOCAL: no address, any family byte, the length still skipped */
	n = v2(b, 0x20, 0x00, NULL, 0, 0, 0);
	ASSERT_EQ(ig_proxy_parse(b, n, &a), 0, "local");
	ASSERT_EQ(a.family, 0, "local");
	ASSERT_EQ(a.hdr_len, 16, "local");
	n = v2(b, 0x20, 0x11, v4, 12, 1, 5);
	ASSERT_EQ(ig_proxy_parse(b, 16, &a), 0, "local tcp4");
	ASSERT_EQ(a.family, 0, "local tcp4");
	ASSERT_EQ(a.hdr_len, n, "local tcp4");
	b[13] = 0x77;
	b[14] = b[15] = 0;
	ASSERT_EQ(ig_proxy_parse(b, 16, &a), 0, "local ignores the family");

	/* PROXY over UDP, UNIX, UNSPEC: accepted, no address */
	for (int f = 0; f < 5; f++) {
		static const __u8 fams[5] = { 0x00, 0x12, 0x22, 0x31, 0x32 };
		static const size_t lens[5] = { 0, 12, 36, 216, 216 };

		n = v2(b, 0x21, fams[f], v6, lens[f], 9, 0);
		ASSERT_EQ(ig_proxy_parse(b, n < IG_PROXY_READ ? n : IG_PROXY_READ, &a), 0, "no address");
		ASSERT_EQ(a.family, 0, "no address");
		ASSERT_EQ(a.port, 0, "no address");
		ASSERT_EQ(a.hdr_len, n, "no address");
	}
}

/* A valid header: every shorter prefix is MORE, the whole is OK. */
static void expect_prefixes(const __u8 *b, size_t total, size_t decide, const char *what)
{
	struct ig_proxy_addr a, full;

	ASSERT_EQ(ig_proxy_parse(b, (__u32)total, &full), 0, what);
	for (size_t k = 0; k < decide; k++)
		if (ig_proxy_parse(b, (__u32)k, &a) != IG_PROXY_MORE)
			IG_FAIL("%s: %zu of %zu bytes: %d", what, k, decide,
				ig_proxy_parse(b, (__u32)k, &a));
	for (size_t k = decide; k <= total; k++) {
		ASSERT_EQ(ig_proxy_parse(b, (__u32)k, &a), 0, what);
		ASSERT_MEMEQ(&a, &full, sizeof(a), what);
	}
}

IG_TEST(proxy_every_truncation_says_more)
{
	static const char *v1s[] = {
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
		"PROXY TCP6 2001:db8::1 ::ffff:10.1.2.3 1 65535\r\n",
		"PROXY TCP6 ::ffff:1.2.3.4 ::1 5 6\r\n",
		"PROXY UNKNOWN\r\n",
		"PROXY UNKNOWN whatever\r\n",
	};
	__u8 b[512], v4[4] = { 1, 2, 3, 4 }, v6[16] = { 0x20, 1, 0xd, 0xb8 };
	const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	size_t n;

	for (size_t i = 0; i < sizeof(v1s) / sizeof(v1s[0]); i++) {
		n = strlen(v1s[i]);
		memcpy(b, v1s[i], n);
		memcpy(b + n, http, strlen(http));
		expect_prefixes(b, n + strlen(http) < IG_PROXY_READ ? n + strlen(http) : IG_PROXY_READ,
				n, v1s[i]);
	}
	n = v2(b, 0x21, 0x11, v4, 12, 80, 0);
	memcpy(b + n, http, strlen(http));
	expect_prefixes(b, n + strlen(http), 28, "v2 tcp4");
	n = v2(b, 0x21, 0x21, v6, 36, 80, 0);
	memcpy(b + n, http, strlen(http));
	expect_prefixes(b, n + strlen(http), 52, "v2 tcp6");
	n = v2(b, 0x21, 0x21, v6, 36, 80, 40);
	expect_prefixes(b, IG_PROXY_READ, 52, "v2 tcp6 tlv");
	n = v2(b, 0x20, 0x00, NULL, 0, 0, 0);
	memcpy(b + n, http, strlen(http));
	expect_prefixes(b, n + strlen(http), 16, "v2 local");
	n = v2(b, 0x21, 0x31, NULL, 216, 0, 0);
	expect_prefixes(b, IG_PROXY_READ, 16, "v2 unix");
}

static void expect_code(const void *b, size_t n, int want, const char *what)
{
	struct ig_proxy_addr a;
	int r = ig_proxy_parse(b, (__u32)(n > IG_PROXY_READ ? IG_PROXY_READ : n), &a);

	if (r != want)
		IG_FAIL("%s: expected %d, got %d", what, want, r);
}

#define EXPECT_STR(s, want) expect_code(s, strlen(s), want, s)

IG_TEST(proxy_v1_bad)
{
	static const char *bad[] = {
		"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",	 /* double space */
		"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n",
		"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",	 /* 256 in a quad */
		"PROXY TCP4 1.2.3.4 5.6.7.999 1 2\r\n",
		"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",	 /* leading zeros */
		"PROXY TCP4 1.2.3.00 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", /* port */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",	 /* no CR */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
		"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",	 /* v6 text in TCP4 */
		"PROXY TCP4 ::ffff:1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 ::1 1 2\r\n",
		"PROXY TCP6 1.2.3.4 ::1 1 2\r\n",	 /* v4 text in TCP6 */
		"PROXY TCP6 ::1 1.2.3.4 1 2\r\n",
		"PROXY TCP6 1::2::3 ::1 1 2\r\n",	 /* two "::" */
		"PROXY TCP6 ::1:: ::1 1 2\r\n",
		"PROXY TCP6 :::1 ::1 1 2\r\n",
		"PROXY TCP6 :1::2 ::1 1 2\r\n",
		"PROXY TCP6 1::2: ::1 1 2\r\n",
		"PROXY TCP6 12345::1 ::1 1 2\r\n",
		"PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",
		"PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n",
		"PROXY TCP6 1:2:3:4::5:6:7:8 ::1 1 2\r\n",
		"PROXY TCP6 ::1.2.3.04 ::1 1 2\r\n",
		"PROXY TCP6 ::g ::1 1 2\r\n",
		"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY UNKNOWNX\r\n",
		"PROXY UNKNOWN\rX",
		"PROXY UNKNOWN x\ry\r\n",
		"PROXY \r\n",
		"PROXY TCP4\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_STR(bad[i], IG_PROXY_BAD);
}

IG_TEST(proxy_v1_length_limit)
{
	char line[256];

	/* 108 bytes: one too many, whether or not the CRLF follows */
	snprintf(line, sizeof(line), "PROXY UNKNOWN %092d\r\n", 0);
	ASSERT_EQ(strlen(line), 108, "length");
	EXPECT_STR(line, IG_PROXY_BAD);
	snprintf(line, sizeof(line), "PROXY UNKNOWN %091d\r\n", 0);
	ASSERT_EQ(strlen(line), 107, "length");
	EXPECT_STR(line, IG_PROXY_OK);
	/* no CR: MORE up to 106 bytes, BAD at 107 */
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	expect_code(line, 106, IG_PROXY_MORE, "106 bytes, no CR");
	expect_code(line, 107, IG_PROXY_BAD, "107 bytes, no CR");
	expect_code(line, 200, IG_PROXY_BAD, "200 bytes, no CR");
	line[105] = '\r';
	expect_code(line, 106, IG_PROXY_MORE, "a CR last");
	line[106] = '\n';
	expect_code(line, 107, IG_PROXY_OK, "a CRLF at 106");
}

IG_TEST(proxy_v2_bad)
{
	__u8 b[512], v4[4] = { 1, 2, 3, 4 }, v6[16] = { 1 };
	size_t n;

	n = v2(b, 0x11, 0x11, v4, 12, 1, 0); /* version 1 in the v2 format */
	expect_code(b, n, IG_PROXY_BAD, "version 1 nibble");
	expect_code(b, 13, IG_PROXY_BAD, "version 1 nibble, 13 bytes");
	n = v2(b, 0x31, 0x11, v4, 12, 1, 0);
	expect_code(b, n, IG_PROXY_BAD, "version 3");
	n = v2(b, 0x22, 0x11, v4, 12, 1, 0); /* command 2 */
	expect_code(b, n, IG_PROXY_BAD, "command 2");
	n = v2(b, 0x2f, 0x11, v4, 12, 1, 0);
	expect_code(b, n, IG_PROXY_BAD, "command 15");
	n = v2(b, 0x21, 0x13, v4, 12, 1, 0); /* undefined family bytes */
	expect_code(b, n, IG_PROXY_BAD, "family 0x13");
	expect_code(b, 14, IG_PROXY_BAD, "family 0x13, 14 bytes");
	b[13] = 0x41;
	expect_code(b, n, IG_PROXY_BAD, "family 0x41");
	b[13] = 0x01;
	expect_code(b, n, IG_PROXY_BAD, "family 0x01");
	n = v2(b, 0x21, 0x11, v4, 12, 1, 0); /* a length short of the addresses */
	b[15] = 11;
	expect_code(b, n, IG_PROXY_BAD, "tcp4 length 11");
	expect_code(b, 16, IG_PROXY_BAD, "tcp4 length 11, 16 bytes");
	n = v2(b, 0x21, 0x21, v6, 36, 1, 0);
	b[15] = 12;
	expect_code(b, n, IG_PROXY_BAD, "tcp6 length 12");
	n = v2(b, 0x21, 0x31, NULL, 216, 1, 0);
	b[14] = 0;
	b[15] = 215;
	expect_code(b, IG_PROXY_READ, IG_PROXY_BAD, "unix length 215");
	n = v2(b, 0x21, 0x12, v4, 12, 1, 0);
	b[15] = 0;
	expect_code(b, n, IG_PROXY_BAD, "udp4 length 0");
}

IG_TEST(proxy_none)
{
	static const __u8 tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 };
	__u8 b[64];

	EXPECT_STR("GET / HTTP/1.1\r\n", IG_PROXY_NONE);
	EXPECT_STR("POST /v1/chat/completions HTTP/1.1\r\n", IG_PROXY_NONE);
	EXPECT_STR("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", IG_PROXY_NONE);
	EXPECT_STR("PROXI TCP4", IG_PROXY_NONE);
	EXPECT_STR("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", IG_PROXY_NONE);
	EXPECT_STR("PROXYTCP4", IG_PROXY_NONE);
	EXPECT_STR("\r\n\r\nGET / HTTP/1.1\r\n", IG_PROXY_NONE);
	EXPECT_STR("\r\nGET / HTTP/1.1\r\n", IG_PROXY_NONE);
	expect_code(tls, sizeof(tls), IG_PROXY_NONE, "TLS");
	expect_code(tls, 1, IG_PROXY_NONE, "TLS, one byte");
	/* the v2 signature with any byte wrong is not v2 */
	for (int i = 0; i < 12; i++) {
		v2(b, 0x21, 0x11, "abcd", 12, 1, 0);
		b[i] ^= 0x40;
		expect_code(b, 28, IG_PROXY_NONE, "v2 signature byte wrong");
		expect_code(b, (size_t)i + 1, IG_PROXY_NONE, "v2 signature byte wrong, cut there");
	}
	/* the prefixes the two signatures share with nothing */
	expect_code("", 0, IG_PROXY_MORE, "empty");
	EXPECT_STR("P", IG_PROXY_MORE);
	EXPECT_STR("PROX", IG_PROXY_MORE);
	EXPECT_STR("\r\n\r\n", IG_PROXY_MORE);
}

/* ---- v1 address text against inet_pton() ---- */

static void compare_pton(const char *fam, const char *text)
{
	struct ig_proxy_addr a;
	__u8 want[16] = {};
	int af = fam[3] == '4' ? AF_INET : AF_INET6;
	int ok = inet_pton(af, text, af == AF_INET ? want + 12 : want) == 1;
	int r = v1_src(fam, text, &a);
	char dst[256];

	if (af == AF_INET)
		want[10] = want[11] = 0xff;
	if (ok != (r == IG_PROXY_OK))
		IG_FAIL("%s \"%s\": inet_pton says %d, parser %d", fam, text, ok, r);
	if (ok)
		ASSERT_MEMEQ(a.addr, want, 16, text);
	else
		ASSERT_EQ(r, IG_PROXY_BAD, text);
	/* the destination is held to the same rules */
	snprintf(dst, sizeof(dst), "PROXY %s %s %s 1 2\r\n", fam,
		 af == AF_INET ? "1.1.1.1" : "::", text);
	ASSERT_EQ(parse_str(dst, &a) == IG_PROXY_OK, ok, dst);
}

IG_TEST(proxy_v1_addresses_as_inet_pton)
{
	static const char *edge6[] = {
		"::", "::1", "1::", "1::2", ":", ":::", "1:::2", "::1::", "1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:1.2.3.4",
		"1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4", "::ffff:1.2.3.4", "1.2.3.4", "::1.2.3",
		"::1.2.3.4.5", "::1.2.3.4:1", "::1.2.3.256", "::01.2.3.4", "::0.0.0.0",
		"::a.2.3.4", "::1234.1.2.3", "00000::", "0000::", "ABCD::abcd", "fffff::",
		"1:2", "1:", ":1", "::1:", "1::2:", "12345", "::-1", "1:2:3:4:5:6:7:8:",
		"::ffff:", "::.", "::1.", "1.2.3.4::", "::1.2..3",
	};
	static const char *edge4[] = {
		"0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3",
		"00.1.2.3", "1.2.3.09", "1.2.3.4a", "1.2.3.-1", "1.2.3.1000", "01.02.03.04", "9.9.9.9",
	};

	for (size_t i = 0; i < sizeof(edge6) / sizeof(edge6[0]); i++)
		compare_pton("TCP6", edge6[i]);
	for (size_t i = 0; i < sizeof(edge4) / sizeof(edge4[0]); i++)
		compare_pton("TCP4", edge4[i]);
}

/* A random IPv6 address written one of the ways inet_pton() takes. */
static void random_v6(char *out, size_t size)
{
	__u16 g[8];
	int from = -1, to = -1, tail = rnd(4) == 0, upper = rnd(3) == 0, pad = rnd(4) == 0;
	size_t n = 0;

	for (int i = 0; i < 8; i++)
		g[i] = rnd(3) == 0 ? 0 : rnd(4) == 0 ? (__u16)rnd(16) : (__u16)rnd(65536);
	if (rnd(3)) { /* compress a run */
		from = rnd(8);
		to = from + 1 + rnd(8 - from);
		if (tail && to > 6)
			to = 6 > from ? 6 : -1;
		if (to < 0)
			from = -1;
	}
	for (int i = 0; i < (tail ? 6 : 8); i++) {
		if (i == from) {
			n += snprintf(out + n, size - n, "::");
			i = to - 1;
			continue;
		}
		if (i && i != to)
			n += snprintf(out + n, size - n, ":");
		n += snprintf(out + n, size - n, upper ? (pad ? "%04X" : "%X") : (pad ? "%04x" : "%x"),
			      g[i]);
	}
	if (tail) {
		if (from < 0 || to != 6)
			n += snprintf(out + n, size - n, ":");
		snprintf(out + n, size - n, "%u.%u.%u.%u", g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255);
	}
}

IG_TEST(proxy_v1_random_addresses_as_inet_pton)
{
	static const char alphabet[] = ":.0123456789abcdefABCDEFgx";
	char text[128], canon[INET6_ADDRSTRLEN];
	__u8 raw[16];

	for (int i = 0; i < 20000; i++) {
		random_v6(text, sizeof(text));
		ASSERT_EQ(inet_pton(AF_INET6, text, raw), 1, text);
		compare_pton("TCP6", text);
		/* inet_ntop's form of random bytes, zero runs included */
		for (int k = 0; k < 16; k++)
			raw[k] = rnd(2) ? 0 : (__u8)rnd(256);
		compare_pton("TCP6", inet_ntop(AF_INET6, raw, canon, sizeof(canon)));
		compare_pton("TCP4", inet_ntop(AF_INET, raw, canon, sizeof(canon)));
		/* then mutated: most of these are not addresses */
		for (int m = 1 + rnd(3); m > 0; m--) {
			size_t n = strlen(text), at = rnd((unsigned)n + 1);
			char c = alphabet[rnd(sizeof(alphabet) - 1)];

			switch (rnd(3)) {
			case 0: /* insert */
				if (n + 1 < sizeof(text)) {
					memmove(text + at + 1, text + at, n - at + 1);
					text[at] = c;
				}
				break;
			case 1: /* delete */
				if (at < n)
					memmove(text + at, text + at + 1, n - at);
				break;
			default:
				if (at < n)
					text[at] = c;
			}
		}
		if (text[0])
			compare_pton(rnd(4) ? "TCP6" : "TCP4", text);
	}
}

IG_TEST(proxy_step_by_byte_agrees_with_parse)
{
	const char *line = "PROXY TCP6 2001:db8::1:2 ::1 1234 80\r\n";
	struct ig_proxy_v1 st = {};
	struct ig_proxy_addr a, b;
	size_t i, n = strlen(line);
	int r = IG_PROXY_V1_CONT;

	for (i = 0; i < n && r == IG_PROXY_V1_CONT; i++)
		r = ig_proxy_v1_step(&st, (__u8)line[i]);
	ASSERT_EQ(r, IG_PROXY_V1_DONE, "step");
	ASSERT_EQ(i, n, "step consumed the line");
	memset(&a, 0, sizeof(a));
	ig_proxy_v1_finish(&st, &a);
	ASSERT_EQ(parse_str(line, &b), 0, "parse");
	ASSERT_MEMEQ(&a, &b, sizeof(a), "step and parse");
	ASSERT_EQ(sizeof(struct ig_proxy_v1) <= 64, 1, "state size");
}
