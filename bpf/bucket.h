/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Token-bucket math as GCRA (the "virtual scheduling" form of a token bucket).
 *
 * Why GCRA and not {tokens, last_refill}: its whole state is one u64, the
 * theoretical arrival time (TAT). One word can be updated with a single
 * compare-and-swap, so two CPUs charging the same source never lose an update,
 * without a spin lock (which LRU maps refuse anyway).
 *
 * Meaning: a bucket with `burst` tokens refilled at `rate` per second is "TAT
 * ahead of now by d ns" with d = (burst - tokens) * 1e9 / rate. A charge of
 * `cost` units is admitted iff the debt after it stays within the burst:
 *     (max(tat, now) - now) * rate + cost * 1e9 <= burst * 1e9
 * and then TAT moves forward by floor(cost * 1e9 / rate). A new source (tat 0)
 * therefore starts with exactly `burst` tokens, and over any interval t it is
 * admitted burst + rate * t units. The increment is rounded down, not up:
 * rounding up loses the last unit of almost every burst (the error of each
 * charge adds up against an exact boundary); rounding down leaves less than
 * 1 ns of refill unaccounted per charge, i.e. at most rate / 1e9 units per
 * charge over a busy period: one extra unit per 10^5 charges at 10^4 units/s.
 *
 * Plain C: compiled natively by the unit tests, which also run the CAS loop
 * from two threads.
 */
#ifndef IG_BUCKET_H
#define IG_BUCKET_H

#include "hdr.h"
#include "ig_abi.h"

/* Products below 2^32 * 2^32 cannot overflow: the common case needs no division. */
#define IG_GCRA_FAST_LIMIT (1ULL << 32)

/* Compare-and-swap attempts before a charge is refused as contended. */
#define IG_CAS_TRIES 4

/*
 * Decide one charge against a bucket whose TAT is `tat`. Returns 1 and sets
 * *next when admitted, 0 when refused (the caller then writes nothing).
 * `cost` is at most 2^16 (a frame length), so cost * 1e9 fits easily.
 */
static __always_inline int ig_gcra(__u64 tat, __u64 now, __u64 cost, __u64 rate, __u64 burst,
				   __u64 *next)
{
	__u64 base = tat > now ? tat : now;
	__u64 debt = base - now; /* ns of refill already owed */
	__u64 budget, need, room;

	if (rate == 0 || burst > IG_MAX_BURST)
		return 0;
	budget = burst * IG_NSEC_PER_SEC;
	need = cost * IG_NSEC_PER_SEC;
	if (need > budget)
		return 0;
	room = budget - need;
	if (debt) {
		if (debt < IG_GCRA_FAST_LIMIT && rate < IG_GCRA_FAST_LIMIT) {
			if (debt * rate > room)
				return 0;
		} else if (debt > room / rate) {
			/* debt * rate > room, for integers, without the overflow */
			return 0;
		}
	}
	*next = base + need / rate;
	return 1;
}

enum ig_charge {
	IG_CHARGE_OK = 0,
	IG_CHARGE_REFUSED = 1,
	IG_CHARGE_CONTENDED = 2,
};

/*
 * Charge `cost` against *tat with compare-and-swap, retrying when another CPU
 * updated it in between. A refusal writes nothing, so the drop path under a
 * flood never dirties the cache line for the other CPU.
 */
static __always_inline int ig_bucket_charge(__u64 *tat, __u64 now, __u64 cost, __u64 rate,
					    __u64 burst)
{
	int i;

#pragma unroll
	for (i = 0; i < IG_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)tat;
		__u64 next;

		if (!ig_gcra(old, now, cost, rate, burst, &next))
			return IG_CHARGE_REFUSED;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return IG_CHARGE_OK;
	}
	return IG_CHARGE_CONTENDED;
}

#endif /* IG_BUCKET_H */
