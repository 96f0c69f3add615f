// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the pure half of breaker steering (bpf/steer.h):
 *   - the HTTP status class of any payload, read from an exact-size copy (a
 *     read past it is a heap overflow), agrees with a plain reading of the
 *     status line;
 *   - a checksum patched for one changed 16-bit word verifies like one
 *     computed afresh (tests/lib/frames.c's RFC 1071 code), whatever the data;
 *   - the breaker state obeyed is a real one, the force wins, for any bytes;
 *   - a flow key holds what it was given, its padding zeroed.
 */
#include "pure/csum.h"
#include "pure/steer.h"
#include "fuzz_input.h"
/* the reference checksums, built in: the fuzzer is one source file */
#include "frames.c"

static int ref_status_class(const __u8 *s, size_t n)
{
	if (n < 12 || memcmp(s, "HTTP/1.", 7) || s[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	return s[9] >= '1' && s[9] <= '5' ? s[9] - '1' : -1;
}

static void check_status(struct fz *in)
{
	size_t n = fz_u8(in) % 24;
	__u8 *s = malloc(n ? n : 1);

	FZ_CHECK(s != NULL);
	if (fz_u8(in) & 1) /* most of the time, something that nearly is a status line */
		memcpy(s, "HTTP/1.1 503", n < 12 ? n : 12);
	for (size_t i = 0; i < n; i++)
		if (fz_u8(in) & 1)
			s[i] = fz_u8(in);
		else if (i >= 12)
			s[i] = ' ';
	FZ_CHECK(ig_http_status_class(s, s + n) == ref_status_class(s, n));
	free(s);
}

static void check_csum(struct fz *in)
{
	size_t words = 3 + fz_u8(in) % 64, at = fz_u8(in) % words, cw, nz;
	__u16 *buf = calloc(words, 2), old, new = fz_u16(in);

	FZ_CHECK(buf != NULL);
	for (size_t i = 0; i < words; i++)
		buf[i] = fz_u16(in);
	cw = (at + 1 + fz_u8(in) % (words - 1)) % words; /* the checksum's own word */
	/* never all zeros, as a TCP segment's pseudo header is not: of all-zero
	 * data the checksum is 0xffff, which RFC 1624's eqn. 3 cannot yield */
	for (nz = 0; nz == at || nz == cw; nz++)
		;
	buf[nz] |= 1;
	buf[cw] = 0;
	buf[cw] = ig_htons(ig_ref_csum(buf, words * 2));
	old = buf[at];
	buf[at] = new;
	buf[cw] = ig_csum_replace16(buf[cw], old, new);
	FZ_CHECK(ig_ref_csum(buf, words * 2) == 0);
	free(buf);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fz in = { data, size };
	struct ig_breaker b;
	struct ig_flow_key k;
	__u8 client[16], server[16], raw[sizeof(b)];
	enum ig_brk_state st;

	check_status(&in);
	check_csum(&in);

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = fz_u8(&in);
	memcpy(&b, raw, sizeof(b));
	st = ig_brk_effective(&b);
	FZ_CHECK(st == IG_BRK_CLOSED || st == IG_BRK_OPEN || st == IG_BRK_HALF_OPEN);
	if (b.force == IG_FORCE_OPEN)
		FZ_CHECK(st == IG_BRK_OPEN);
	else if (b.force == IG_FORCE_CLOSED)
		FZ_CHECK(st == IG_BRK_CLOSED);

	for (int i = 0; i < 16; i++) {
		client[i] = fz_u8(&in);
		server[i] = fz_u8(&in);
	}
	memset(&k, 0xa5, sizeof(k));
	{
		__u16 cp = fz_u16(&in), sp = fz_u16(&in);
		__u8 dir = fz_u8(&in) % 3;

		ig_flow_key_make(&k, client, server, cp, sp, (enum ig_flow_dir)dir);
		FZ_CHECK(!memcmp(k.client, client, 16) && !memcmp(k.server, server, 16));
		FZ_CHECK(k.client_port == cp && k.server_port == sp && k.dir == dir);
		FZ_CHECK(!k._pad[0] && !k._pad[1] && !k._pad[2]);
	}
	return 0;
}
