/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Response-time histograms (issue 15, struct ig_timing): which bucket a time
 * goes to, in the data path, and what the buckets say, in user space
 * (Prometheus' `le` bounds, quantiles). Pure: built natively and tested.
 */
#ifndef IG_PURE_TIMING_H
#define IG_PURE_TIMING_H

#ifdef __bpf__
#include "vmlinux.h"
#else
#include <linux/types.h>
#endif
#include "ig_abi.h"

/* Bucket of a time: k with t <= 2^k ms (whole ms, rounded up), the last
 * bucket for the rest. A binary search on the bits: no loop for the verifier. */
static __always_inline __u32 ig_time_bucket(__u64 ns)
{
	__u64 ms = ns / 1000000 + (ns % 1000000 != 0), v;
	__u32 k = 0;

	if (ms <= 1)
		return 0;
	v = ms - 1; /* ceil(log2(ms)) is the bit length of ms - 1 */
	if (v >> 32)
		return IG_TIME_BUCKETS - 1;
	if (v >> 16) {
		v >>= 16;
		k += 16;
	}
	if (v >> 8) {
		v >>= 8;
		k += 8;
	}
	if (v >> 4) {
		v >>= 4;
		k += 4;
	}
	if (v >> 2) {
		v >>= 2;
		k += 2;
	}
	if (v >> 1) {
		v >>= 1;
		k += 1;
	}
	k += (__u32)v;
	return k < IG_TIME_BUCKETS - 1 ? k : IG_TIME_BUCKETS - 1;
}

#ifndef __bpf__
/* Upper bound of bucket k in ms; 0 for the last (+Inf). */
static inline __u64 ig_time_le_ms(__u32 k)
{
	return k < IG_TIME_BUCKETS - 1 ? 1ULL << k : 0;
}

/*
 * The q-quantile (0 < q <= 1) of a histogram (counts per bucket, not
 * cumulative) in ms, interpolated linearly inside its bucket as Prometheus'
 * histogram_quantile() does; the +Inf bucket answers its lower bound. 0 when
 * empty.
 */
static inline double ig_time_quantile_ms(const __u64 *b, double q)
{
	__u64 total = 0, seen = 0;
	double rank;

	for (__u32 k = 0; k < IG_TIME_BUCKETS; k++)
		total += b[k];
	if (!total)
		return 0;
	rank = q * (double)total;
	for (__u32 k = 0; k < IG_TIME_BUCKETS; k++) {
		double lo = k ? (double)(1ULL << (k - 1)) : 0, hi;

		if (!b[k] || (double)(seen + b[k]) < rank) {
			seen += b[k];
			continue;
		}
		if (k == IG_TIME_BUCKETS - 1)
			return lo;
		hi = (double)ig_time_le_ms(k);
		return lo + (hi - lo) * (rank - (double)seen) / (double)b[k];
	}
	return (double)(1ULL << (IG_TIME_BUCKETS - 2));
}
#endif

#endif /* IG_PURE_TIMING_H */
