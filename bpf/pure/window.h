/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Window counters: the fixed window and the sliding-window estimate (ig_abi.h,
 * enum ig_algo), each in one u64 so that, like the bucket's TAT, a charge is
 * one compare-and-swap and two CPUs never lose each other's update.
 *
 * A level's window is its rate word's period, W ns, and N is the units it
 * admits per window. Windows are aligned to the data path's clock: window i
 * is [i * W, (i + 1) * W).
 *
 * - Fixed: a charge is admitted iff the window's count plus its cost stays
 *   within N. A client can spend N at the end of one window and N again at
 *   the start of the next: 2N within a moment, the known price.
 * - Sliding (the estimate Cloudflare described): with e ns of the current
 *   window gone, a charge is admitted iff
 *       prev * (W - e) / W + cur + cost <= N
 *   The weight (W - e) / W is taken in 1/65536ths rounded up, so the estimate
 *   can only be high: by less than prev / 65536 units.
 *
 * A charge larger than N itself is admitted when the window (the estimate,
 * for the sliding one) is empty, and fills it: as with the bucket, refused
 * forever its sender would resend it forever (a GRO train, a segment starting
 * many requests).
 *
 * Plain C: compiled natively by the unit tests, which check both against
 * reference models (a plain counter; an exact sliding log) on random traces.
 */
#ifndef IG_WINDOW_H
#define IG_WINDOW_H

#include "ig_abi.h"
#include "pure/hdr.h"

#define IG_FW_IDX_MASK ((1ULL << (IG_WIN_TAG_SHIFT - IG_FW_COUNT_BITS)) - 1)
#define IG_SW_IDX_MASK ((1ULL << (IG_WIN_TAG_SHIFT - IG_SW_IDX_SHIFT)) - 1)
#define IG_FW_TAG (IG_WIN_TAG_FIXED << IG_WIN_TAG_SHIFT)
#define IG_SW_TAG (IG_WIN_TAG_SLIDING << IG_WIN_TAG_SHIFT)

/* The window number a word holds (of its own kind; another kind's words
 * never match, see ig_fw_count / ig_sw_counts). */
static __always_inline __u64 ig_fw_idx(__u64 word)
{
	return (word >> IG_FW_COUNT_BITS) & IG_FW_IDX_MASK;
}

static __always_inline __u64 ig_sw_idx(__u64 word)
{
	return (word >> IG_SW_IDX_SHIFT) & IG_SW_IDX_MASK;
}
/* the sliding weight's fixed point: 2^16 (prev * weight < 2^40) */
#define IG_SW_WEIGHT_SHIFT 16

/* The window's length in ns; a period past a day reads as 0 (refused). */
static __always_inline __u64 ig_win_len(__u64 rate)
{
	__u64 per = ig_rate_period(rate, 1);

	return per > IG_RATE_PERIOD_MAX ? 0 : per * IG_NSEC_PER_SEC;
}

static __always_inline int ig_algo_windowed(__u32 algo)
{
	return algo == IG_ALGO_FIXED_WINDOW || algo == IG_ALGO_SLIDING_WINDOW;
}

/* The fixed window's count at window `idx` (0 when the word is of another). */
static __always_inline __u64 ig_fw_count(__u64 word, __u64 idx)
{
	if (word >> IG_WIN_TAG_SHIFT != IG_WIN_TAG_FIXED ||
	    ig_fw_idx(word) != (idx & IG_FW_IDX_MASK))
		return 0;
	return word & IG_FW_COUNT_MAX;
}

/* The sliding word's two counts as of window `idx`: a word of the window
 * before has its current count become the previous one; an older one is 0. */
static __always_inline void ig_sw_counts(__u64 word, __u64 idx, __u64 *prev, __u64 *cur)
{
	__u64 d = (idx - ig_sw_idx(word)) & IG_SW_IDX_MASK;

	*prev = 0;
	*cur = 0;
	if (word >> IG_WIN_TAG_SHIFT != IG_WIN_TAG_SLIDING)
		return;
	if (d == 0) {
		*prev = (word >> IG_SW_COUNT_BITS) & IG_SW_COUNT_MAX;
		*cur = word & IG_SW_COUNT_MAX;
	} else if (d == 1) {
		*prev = word & IG_SW_COUNT_MAX;
	}
}

/* Whether a word of the algorithm's kind is of the window after `idx`. */
static __always_inline int ig_win_ahead(__u64 word, __u64 idx, __u32 algo)
{
	if (algo == IG_ALGO_FIXED_WINDOW)
		return word >> IG_WIN_TAG_SHIFT == IG_WIN_TAG_FIXED &&
		       ig_fw_idx(word) == ((idx + 1) & IG_FW_IDX_MASK);
	return word >> IG_WIN_TAG_SHIFT == IG_WIN_TAG_SLIDING &&
	       ig_sw_idx(word) == ((idx + 1) & IG_SW_IDX_MASK);
}

/* The share of the previous window still inside the sliding one, in
 * 1/65536ths rounded up (65536 at the window's start). left <= W < 2^47. */
static __always_inline __u64 ig_sw_weight(__u64 left, __u64 w)
{
	return ((left << IG_SW_WEIGHT_SHIFT) + w - 1) / w;
}

/*
 * The word after a charge of `cost` at `now`, 0 when refused (an admitted word
 * is tagged, never 0). Refused: cost 0, N 0, a period past a day, and for
 * the sliding window an N above IG_SW_COUNT_MAX (a hand-edited map fails
 * closed).
 */
IG_GLOBAL_FN __u64 ig_win_next(__u64 word, __u64 now, __u64 cost, __u64 rate, __u32 algo)
{
	__u64 n = ig_rate_n(rate), w = ig_win_len(rate), idx, prev, cur, left;

	if (!n || !w || !cost)
		return 0;
	idx = now / w;
	/* A word of the next window: another CPU read the clock after this one
	 * and charged first. Count this charge there, at that window's start;
	 * read as another window's word it would be written over the newer
	 * counts (the new window starting from 0 again, or the sliding one
	 * forgetting the window before). */
	if (ig_win_ahead(word, idx, algo)) {
		idx++;
		now = idx * w;
	}
	if (algo == IG_ALGO_FIXED_WINDOW) {
		cur = ig_fw_count(word, idx);
		if (cur && (cur > n || cost > n - cur))
			return 0;
		cur += cost; /* from empty: a charge above N fills it, and then some */
		if (cur > IG_FW_COUNT_MAX)
			cur = IG_FW_COUNT_MAX;
		return IG_FW_TAG | (idx & IG_FW_IDX_MASK) << IG_FW_COUNT_BITS | cur;
	}
	if (n > IG_SW_COUNT_MAX)
		return 0;
	ig_sw_counts(word, idx, &prev, &cur);
	left = w - (now - idx * w);
	/* the estimate and N in 1/65536ths: < 2^41 each */
	prev *= ig_sw_weight(left, w);
	if (prev || cur) {
		if (cost > n)
			return 0;
		if (prev + ((cur + cost) << IG_SW_WEIGHT_SHIFT) > n << IG_SW_WEIGHT_SHIFT)
			return 0;
	}
	cur += cost;
	if (cur > IG_SW_COUNT_MAX)
		cur = IG_SW_COUNT_MAX;
	/* the previous count as stored, not weighted */
	ig_sw_counts(word, idx, &prev, &left);
	return IG_SW_TAG | (idx & IG_SW_IDX_MASK) << IG_SW_IDX_SHIFT | prev << IG_SW_COUNT_BITS | cur;
}

/*
 * When a window word stops mattering, in the clock's ns (the part of the
 * source table that picks ways reads this as it reads a bucket's TAT: a way
 * past it carries no state). `idx` is now's window, w its length.
 */
static __always_inline __u64 ig_win_until(__u64 word, __u32 algo, __u64 w, __u64 idx)
{
	__u64 d, lasts;

	if (algo == IG_ALGO_FIXED_WINDOW) {
		if (word >> IG_WIN_TAG_SHIFT != IG_WIN_TAG_FIXED)
			return 0;
		d = (idx - ig_fw_idx(word)) & IG_FW_IDX_MASK;
		lasts = 1;
	} else {
		if (word >> IG_WIN_TAG_SHIFT != IG_WIN_TAG_SLIDING)
			return 0;
		d = (idx - ig_sw_idx(word)) & IG_SW_IDX_MASK;
		lasts = 2;
	}
	if (d == (algo == IG_ALGO_FIXED_WINDOW ? IG_FW_IDX_MASK : IG_SW_IDX_MASK))
		d = 0, idx++; /* of the next window (ig_win_next): it lasts */
	if (d >= idx + lasts)
		return 0;
	return (idx - d + lasts) * w;
}

/* The most ns left of a window at which `big` units of the window before
 * weigh at most `room` units as ig_win_next weighs them (the weight rounded
 * up to 1/65536ths): the largest t with big * ceil(t * 2^16 / w) <= room *
 * 2^16, i.e. floor(room * 2^16 / big) * w / 2^16, for room < big < 2^24 and
 * w < 2^47 (so the product stays below 2^63). The exact room * w / big made
 * the wait up to w / 65536 short (1.3 s at a day): refused when it came. */
static __always_inline __u64 ig_sw_share(__u64 room, __u64 w, __u64 big)
{
	return ((room << IG_SW_WEIGHT_SHIFT) / big * w) >> IG_SW_WEIGHT_SHIFT;
}

/*
 * How long from `now` until one more unit would be admitted (a 429's
 * Retry-After), 0 when it would be now. Fixed: the window's end. Sliding:
 * the moment the previous window's weighted share has shrunk enough, in this
 * window, or in the next when the current count alone leaves no room.
 */
static __always_inline __u64 ig_win_wait(__u64 word, __u64 now, __u64 rate, __u32 algo)
{
	__u64 n = ig_rate_n(rate), w = ig_win_len(rate), idx, prev, cur, left, keep;

	if (!n || !w || (algo != IG_ALGO_FIXED_WINDOW && n > IG_SW_COUNT_MAX))
		return IG_NSEC_PER_SEC;
	idx = now / w;
	left = w - (now - idx * w);
	if (algo == IG_ALGO_FIXED_WINDOW)
		return ig_fw_count(word, idx) >= n ? left : 0;
	ig_sw_counts(word, idx, &prev, &cur);
	if (cur < n) {
		/* admitted at now + t once prev * (left - t) / w <= n - cur - 1 */
		if (prev <= n - cur - 1)
			return 0;
		keep = ig_sw_share(n - cur - 1, w, prev);
		return left > keep ? left - keep : 0;
	}
	/* next window, t into it: cur * (w - t) / w <= n - 1 */
	keep = ig_sw_share(n - 1, w, cur);
	return left + w - keep;
}

#endif /* IG_WINDOW_H */
