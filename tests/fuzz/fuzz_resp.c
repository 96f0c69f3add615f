// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the token counter's reading of responses
 * (bpf/pure/resp_read.h, resp_scan.h), fed as the egress program feeds it: segments cut
 * anywhere, each in a buffer of exactly its size (a read past it is a heap
 * overflow ASan reports), some of them sent twice or overlapping (TCP
 * retransmissions), with both reading rules and any bytes per token:
 *   - a segment's steps end, at most a few per byte;
 *   - what a stream is charged in all never goes below zero (a usage
 *     report gives back only what its response was charged);
 *   - without a usage report, never more tokens than its bytes and its
 *     prompt allow (bytes rule: bytes / bpt; events: one per 5 bytes at
 *     most; compressed: one per byte);
 *   - a retransmission changes nothing.
 * Input: bpt, mode, rx, a count of cuts, the cuts (16 bits each), which
 * segments come twice (a bit each), then the stream.
 */
#include <stdio.h>
#include "pure/resp_read.h"
#include "fuzz_input.h"

static __s64 feed(struct ig_resp_state *st, const unsigned char *seg, size_t n, __u32 seq,
		  __u32 bpt, __u32 mode, __u64 rx, __u32 *usage_seen)
{
	static struct ig_resp_io io;
	unsigned char *buf = malloc(n ? n : 1);
	__u32 steps = 0;

	FZ_CHECK(buf != NULL);
	memcpy(buf, seg, n);
	memset(&io, 0, sizeof(io));
	io.bpt = bpt;
	io.mode = mode;
	io.rx = rx;
	io.pos = ig_resp_begin(st, &io, seq, (__u32)n, 1);
	io.end = (__u32)n;
	FZ_CHECK(io.pos <= io.end);
	while (ig_resp_step(buf, st, &io)) {
		steps++;
		FZ_CHECK(steps <= 4 * n + 8);
		FZ_CHECK(io.pos <= io.end);
	}
	FZ_CHECK(io.pos == io.end);
	*usage_seen += io.out.responses[IG_TC_USAGE];
	if (st->flags & IG_RF_USAGE)
		*usage_seen += 1;
	free(buf);
	return io.out.add;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fz in = { data, size };
	__u32 bpt = 1 + fz_u8(&in) % 16, mode = fz_u8(&in) & 1;
	__u64 rx = fz_u16(&in);
	int ncuts = fz_u8(&in) % 16;
	size_t cuts[17], from = 0;
	__u32 twice = fz_u16(&in), seq = fz_u32(&in), usage = 0;
	struct ig_resp_state st = {};
	__s64 total = 0;

	for (int i = 0; i < ncuts; i++)
		cuts[i] = fz_u16(&in);
	for (int i = 0; i < ncuts; i++) /* the stream is what is left */
		cuts[i] %= in.n + 1;
	cuts[ncuts] = in.n;
	for (int i = 1; i <= ncuts; i++) /* in order */
		for (int j = i; j > 0 && cuts[j] < cuts[j - 1]; j--) {
			size_t t = cuts[j];

			cuts[j] = cuts[j - 1];
			cuts[j - 1] = t;
		}
	for (int i = 0; i <= ncuts; i++) {
		size_t to = cuts[i];
		__s64 again;

		total += feed(&st, in.p + from, to - from, seq + (__u32)from, bpt, mode, rx, &usage);
		if (twice >> (i & 15) & 1) {
			/* the same segment again, and one overlapping its end */
			again = feed(&st, in.p + from, to - from, seq + (__u32)from, bpt, mode, rx, &usage);
			FZ_CHECK(again == 0 || to == from);
			if (from > 0)
				FZ_CHECK(feed(&st, in.p + from - 1, 1, seq + (__u32)from - 1, bpt, mode,
					      rx, &usage) == 0);
		}
		from = to;
	}
	FZ_CHECK(total >= 0);
	if (!usage)
		FZ_CHECK((__u64)total <= in.n + rx / bpt + 1);
	return 0;
}
