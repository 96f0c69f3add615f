/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One charge at any of the algorithms (ig_abi.h, enum ig_algo) on one 8-byte
 * word: the bucket's TAT (pure/bucket.h) or a window's counts (pure/window.h).
 * The callers (the source table, the port's word) hold a word and an
 * algorithm and need not know which it is; a charge taken back when a level
 * above refuses (ig_refund) restores either.
 *
 * Plain C: compiled natively by the unit tests.
 */
#ifndef IG_LIMIT_H
#define IG_LIMIT_H

#include "ig_abi.h"
#include "pure/hdr.h"
#include "pure/bucket.h"
#include "pure/window.h"

/*
 * Why the helpers below are global functions in BPF (IG_GLOBAL_FN): a branch
 * on the algorithm inlined at each level of the fair-share stage doubles the
 * paths the verifier walks from there on (a value a branch was decided on is
 * kept precise, so the two paths never prune); it ran out of its million
 * instructions. A call returns one scalar whichever way it went. A BPF call
 * takes 5 arguments, so ig_limit_step gets the algorithm in the cost's top
 * byte (a cost is a frame's length at most).
 */
#define IG_ALGO_ARG_SHIFT 56
#define IG_ALGO_ARG_MASK ((1ULL << IG_ALGO_ARG_SHIFT) - 1)

/* The next word after a charge, 0 when refused. The leaky bucket is the
 * bucket with a burst of 1, whatever the policy's burst says (a map edited
 * by hand cannot give it one). */
IG_GLOBAL_FN __u64 ig_limit_step(__u64 word, __u64 now, __u64 cost_algo, __u64 rate, __u64 burst)
{
	__u32 algo = (__u32)(cost_algo >> IG_ALGO_ARG_SHIFT);
	__u64 cost = cost_algo & IG_ALGO_ARG_MASK;

	if (algo == IG_ALGO_FIXED_WINDOW || algo == IG_ALGO_SLIDING_WINDOW)
		return ig_win_next(word, now, cost, rate, algo);
	/* a window's word (tagged: bit 63) is no TAT: the bucket is full */
	return ig_gcra_next(word >> IG_WIN_TAG_SHIFT >= IG_WIN_TAG_FIXED ? 0 : word, now, cost,
			    rate, algo == IG_ALGO_LEAKY_BUCKET ? 1 : burst);
}

static __always_inline __u64 ig_limit_next(__u64 word, __u64 now, __u64 cost, __u64 rate,
					   __u64 burst, __u32 algo)
{
	return ig_limit_step(word, now, (cost & IG_ALGO_ARG_MASK) | (__u64)(algo & 3)
							   << IG_ALGO_ARG_SHIFT,
			     rate, burst);
}

/*
 * A window charge's refund record, in struct ig_refund's `inc` (no more stack
 * for it: the fair-share stage keeps four): what was added to the current
 * count, and to which window, so that the refund takes it from the right
 * count even if the window has turned since (or from none, if it is gone).
 */
#define IG_RF_WINDOW (1ULL << 63)
#define IG_RF_SLIDING (1ULL << 62)
#define IG_RF_IDX_SHIFT 40
#define IG_RF_IDX_MASK ((1ULL << 22) - 1)
#define IG_RF_ADDED_MASK ((1ULL << IG_RF_IDX_SHIFT) - 1)

/* The word's window number and current count. */
static __always_inline void ig_win_parts(__u64 word, int sliding, __u64 *idx, __u64 *cur)
{
	*idx = sliding ? ig_sw_idx(word) : ig_fw_idx(word);
	*cur = sliding ? word & IG_SW_COUNT_MAX : word & IG_FW_COUNT_MAX;
}

/* What struct ig_refund's `inc` says of a charge that moved *word from old
 * to next. */
IG_GLOBAL_FN __u64 ig_limit_inc(__u64 old, __u64 next, __u64 now, __u32 algo)
{
	int sliding = algo == IG_ALGO_SLIDING_WINDOW;
	__u64 oidx, ocur, nidx, ncur;

	if (!ig_algo_windowed(algo)) {
		/* a window's word was read as a full bucket: taken back to now
		 * (a TAT < 2^63, so the increment never looks like a window's) */
		if (old >> IG_WIN_TAG_SHIFT >= IG_WIN_TAG_FIXED)
			old = 0;
		return next - (old > now ? old : now);
	}
	ig_win_parts(old, sliding, &oidx, &ocur);
	ig_win_parts(next, sliding, &nidx, &ncur);
	if (oidx != nidx || old >> IG_WIN_TAG_SHIFT != next >> IG_WIN_TAG_SHIFT)
		ocur = 0;
	return IG_RF_WINDOW | (sliding ? IG_RF_SLIDING : 0) |
	       (nidx & IG_RF_IDX_MASK) << IG_RF_IDX_SHIFT | ((ncur - ocur) & IG_RF_ADDED_MASK);
}

static __always_inline void ig_limit_record(struct ig_refund *rf, __u64 *word, __u64 old,
					    __u64 next, __u64 now, __u32 algo)
{
	if (!rf)
		return;
	rf->tat = word;
	rf->inc = ig_limit_inc(old, next, now, algo);
}

/*
 * Take a charge back. A bucket's: subtract the increment. A window's: from
 * the current count while its window lasts, from the previous one (sliding)
 * once it has turned, else there is nothing left to take; by
 * compare-and-swap, given up after a few tries (the client paid).
 */
IG_GLOBAL_FN int ig_limit_undo(__u64 *word, __u64 inc)
{
	int sliding = !!(inc & IG_RF_SLIDING), i;
	__u64 ridx = (inc >> IG_RF_IDX_SHIFT) & IG_RF_IDX_MASK, added = inc & IG_RF_ADDED_MASK;

	if (!word)
		return 0;
	if (!(inc & IG_RF_WINDOW)) {
		__sync_fetch_and_add(word, -inc);
		return 0;
	}
#pragma unroll
	for (i = 0; i < IG_CAS_TRIES; i++) {
		__u64 w = *(volatile __u64 *)word, idx, cur, prev, nw;

		ig_win_parts(w, sliding, &idx, &cur);
		if (!((idx ^ ridx) & IG_RF_IDX_MASK)) {
			cur -= cur < added ? cur : added;
			nw = sliding ? (w & ~IG_SW_COUNT_MAX) | cur : (w & ~IG_FW_COUNT_MAX) | cur;
		} else if (sliding && !((idx - 1 - ridx) & IG_SW_IDX_MASK)) {
			prev = (w >> IG_SW_COUNT_BITS) & IG_SW_COUNT_MAX;
			prev -= prev < added ? prev : added;
			nw = (w & ~(IG_SW_COUNT_MAX << IG_SW_COUNT_BITS)) | prev << IG_SW_COUNT_BITS;
		} else {
			return 0;
		}
		if (__sync_val_compare_and_swap(word, w, nw) == w)
			return 0;
	}
	return 0;
}

/* Take back what ig_limit_charge_rf() (or ig_source_charge_rf()) recorded. A
 * way claimed for the charge is given back too (state only for admitted
 * sources); should the same new source have been charged on the other CPU in
 * that instant, its state goes with it and it starts full next time. */
static __always_inline void ig_refund(const struct ig_refund *rf)
{
	if (rf->tat)
		ig_limit_undo(rf->tat, rf->inc);
	if (rf->ident)
		__sync_val_compare_and_swap(rf->ident, rf->owner, 0);
}

/*
 * Charge `cost` against *word at `algo` with compare-and-swap, retrying when
 * another CPU updated it in between. A refusal writes nothing, so the drop
 * path under a flood never dirties the cache line for the other CPU.
 */
static __always_inline int ig_limit_charge_rf(__u64 *word, __u64 now, __u64 cost, __u64 rate,
					      __u64 burst, __u32 algo, struct ig_refund *rf)
{
	int i;

#pragma unroll
	for (i = 0; i < IG_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)word;
		__u64 next = ig_limit_next(old, now, cost, rate, burst, algo);

		if (!next)
			return IG_CHARGE_REFUSED;
		if (__sync_val_compare_and_swap(word, old, next) == old) {
			ig_limit_record(rf, word, old, next, now, algo);
			return IG_CHARGE_OK;
		}
	}
	return IG_CHARGE_CONTENDED;
}

/*
 * When a word stops mattering (the source table's ways read this to tell a
 * held source from one whose state is gone): a bucket's TAT, a window's end
 * (the next one's, for the sliding one).
 */
IG_GLOBAL_FN __u64 ig_limit_until(__u64 word, __u64 now, __u64 rate, __u32 algo)
{
	__u64 w = ig_win_len(rate);

	if (!ig_algo_windowed(algo) || !w)
		return word >> IG_WIN_TAG_SHIFT >= IG_WIN_TAG_FIXED ? 0 : word;
	return ig_win_until(word, algo, w, now / w);
}

/*
 * How long from `now` until a charge of one unit would be admitted (the
 * 429's Retry-After); 0 if it would be now. Inline: the request stage that
 * asks has no stack left for another frame, and asks once, at its end.
 */
static __always_inline __u64 ig_limit_wait(__u64 word, __u64 now, __u64 rate, __u64 burst,
					   __u32 algo)
{
	__u64 spacing, room;

	if (ig_algo_windowed(algo))
		return ig_win_wait(word, now, rate, algo);
	if (!ig_rate_n(rate))
		return IG_NSEC_PER_SEC;
	if (algo == IG_ALGO_LEAKY_BUCKET)
		burst = 1;
	/* P / N: 20 s at 3/min */
	spacing = ig_rate_period(rate, 1) * IG_NSEC_PER_SEC / ig_rate_n(rate);
	room = burst > 1 ? (burst - 1) * spacing : 0;
	if (word >> IG_WIN_TAG_SHIFT >= IG_WIN_TAG_FIXED)
		return 0; /* a window's word: a full bucket */
	return word > now + room ? word - now - room : 0;
}

#endif /* IG_LIMIT_H */
