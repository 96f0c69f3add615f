// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the per-port algorithms (bpf/pure/limit.h, window.h):
 * one word, an algorithm and a rate from the input (N 1 .. 1e7, a period of a
 * second, a minute, an hour, a day or any up to a day), then a sequence of
 * charges at a monotonic clock, some refunded, with ig_limit_until and
 * ig_limit_wait asked between. Invariants:
 *   - a refused charge writes nothing; an admitted one never leaves 0;
 *   - windows: what stays admitted in a window (net of refunds) is at most
 *     N, or a single charge above N made into an empty window; the word's
 *     count is exactly that, capped at its field; a refund never increases
 *     a count, and in the same window restores the word bit for bit;
 *   - ig_limit_until of a window word lies past now once charged there;
 *   - ig_limit_wait: 0 iff a unit is admitted now; else admitted at
 *     now + wait and refused at now + wait - 1.
 */
#include "pure/limit.h"
#include "fuzz_input.h"

#define NS IG_NSEC_PER_SEC

static __u64 fz_period(struct fz *in, unsigned pick)
{
	static const __u64 named[] = { 1, 1, 60, 3600, 86400, 10, 7 };

	return pick < 7 ? named[pick] : 1 + fz_u32(in) % IG_RATE_PERIOD_MAX;
}

static __u64 count_of(__u64 word, __u32 algo)
{
	return algo == IG_ALGO_SLIDING_WINDOW ? word & IG_SW_COUNT_MAX : word & IG_FW_COUNT_MAX;
}

static __u64 idx_of(__u64 word, __u32 algo)
{
	return algo == IG_ALGO_SLIDING_WINDOW ? ig_sw_idx(word) : ig_fw_idx(word);
}

/* What the word's count must be: the units net of refunds, capped at its field. */
static __u64 capped(__u64 used, __u32 algo)
{
	__u64 max = algo == IG_ALGO_SLIDING_WINDOW ? IG_SW_COUNT_MAX : IG_FW_COUNT_MAX;

	return used < max ? used : max;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fz in = { data, size };
	__u8 mode = fz_u8(&in);
	__u32 algo = mode & 3;
	__u64 n = fz_scaled(&in, 7), burst = fz_scaled(&in, 4), per = fz_period(&in, (mode >> 2) & 7);
	__u64 rate = ig_rate_make(n, per, 1), w = per * NS, now = (fz_u64(&in) >> 8) + w, word = 0;
	__u64 win = ~0ULL, used = 0; /* the window being counted, units net of refunds */
	int windowed = ig_algo_windowed(algo), big = 0;

	if (mode & 0x20) /* any state at all: only the write/refund checks hold */
		word = fz_u64(&in), windowed = 0;
	while (in.n) {
		__u8 op = fz_u8(&in);
		__u64 cost = op & 0x80 ? 1 + fz_u32(&in) % (2 * n + 2) : 1 + (op & 3);
		__u64 gap = op & 0x40 ? fz_u64(&in) % (3 * w) : op & 0x20 ? fz_u32(&in) : fz_u8(&in);
		__u64 old = word, wait;
		struct ig_refund rf = {};
		int r;

		now += gap;
		if (now >= 1ULL << 62)
			break;
		if (windowed && now / w != win) {
			win = now / w;
			used = 0;
			big = 0;
		}
		r = ig_limit_charge_rf(&word, now, cost, rate, burst, algo, &rf);
		FZ_CHECK(r == IG_CHARGE_OK || r == IG_CHARGE_REFUSED);
		if (r == IG_CHARGE_REFUSED) {
			FZ_CHECK(word == old);
			continue;
		}
		FZ_CHECK(word != 0 && rf.tat == &word);
		if (windowed) {
			FZ_CHECK(count_of(word, algo) > count_of(old, algo) || idx_of(old, algo) != idx_of(word, algo));
			if (cost > n) { /* only into an empty window */
				FZ_CHECK(used == 0);
				big = 1;
			}
			used += cost;
			FZ_CHECK(used <= n || (big && used == cost));
			FZ_CHECK(count_of(word, algo) == capped(used, algo));
			FZ_CHECK(ig_limit_until(word, now, rate, algo) > now);
		}
		if ((op & 0x18) == 0x18) { /* a level above refused */
			__u64 before = word;

			ig_refund(&rf);
			if (windowed) {
				FZ_CHECK(count_of(word, algo) <= count_of(before, algo));
				/* or its window's word emptied (the old one was of
				 * another window, or no window's: 0) */
				FZ_CHECK(word == old || ((idx_of(old, algo) != idx_of(word, algo) ||
							  old >> IG_WIN_TAG_SHIFT != word >> IG_WIN_TAG_SHIFT) &&
							 count_of(word, algo) == 0));
				used -= cost;
				FZ_CHECK(count_of(word, algo) == capped(used, algo));
				if (used == 0)
					big = 0;
			} else if (!(mode & 0x20)) {
				FZ_CHECK(word == (old > now ? old : now));
			}
		}
		if (!windowed || !(op & 0x04))
			continue;
		wait = ig_limit_wait(word, now, rate, burst, algo);
		FZ_CHECK((wait == 0) == (ig_limit_next(word, now, 1, rate, burst, algo) != 0));
		if (wait) {
			FZ_CHECK(ig_limit_next(word, now + wait, 1, rate, burst, algo) != 0);
			FZ_CHECK(ig_limit_next(word, now + wait - 1, 1, rate, burst, algo) == 0);
		}
	}
	return 0;
}
