/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fuzzers' reader of their input: fixed-size values taken in order, 0
 * once the input is used up (so every input, however short, is a valid
 * case), and a check that aborts, which libFuzzer reports with the input.
 */
#ifndef IG_FUZZ_INPUT_H
#define IG_FUZZ_INPUT_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

struct fz {
	const unsigned char *p;
	size_t n;
};

static inline __u64 fz_bytes(struct fz *in, size_t len)
{
	__u64 v = 0;

	for (size_t i = 0; i < len && i < 8; i++) {
		v = v << 8 | (in->n ? *in->p : 0);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

#define fz_u8(in) ((__u8)fz_bytes((in), 1))
#define fz_u16(in) ((__u16)fz_bytes((in), 2))
#define fz_u32(in) ((__u32)fz_bytes((in), 4))
#define fz_u64(in) fz_bytes((in), 8)

/* A value spread over its orders of magnitude: 1 .. 10^decades - 1. */
static inline __u64 fz_scaled(struct fz *in, int decades)
{
	__u64 top = 10;

	for (int d = fz_u8(in) % decades; d > 0; d--)
		top *= 10;
	return 1 + fz_u64(in) % (top - 1);
}

/* A failed invariant: libFuzzer keeps the input that broke it. */
#define FZ_CHECK(cond)                                                                  \
	do {                                                                            \
		if (!(cond))                                                            \
			abort();                                                        \
	} while (0)

#endif /* IG_FUZZ_INPUT_H */
