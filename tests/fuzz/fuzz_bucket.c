// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the token-bucket math (bpf/bucket.h): one bucket, one
 * policy, a sequence of charges (arrival gaps, costs, refunds) read from the
 * input, at a period of a second, a minute, an hour, a day or any up to a
 * day (mode's bits 4..6). Invariants:
 *   - admitted units never exceed max(burst, largest cost) + elapsed * rate
 *     (+ 1 for a grid step), from any starting state;
 *   - an admitted TAT lies past now, never wraps, and owes at most a burst,
 *     or a charge above the burst admitted from a full bucket;
 *     a refused charge writes nothing; a refund restores what it took;
 *   - from a new bucket at rates up to 1e8/s, every decision is the exact
 *     token bucket's, away from its boundaries (where < 2 ns may decide);
 *   - a reload's rescale keeps a full bucket full and owes at most the new
 *     burst (and a fraction of a unit).
 */
#include "pure/limit.h"
#include "fuzz_input.h"

typedef unsigned __int128 u128;

#define NS IG_NSEC_PER_SEC

static __u64 fz_period(struct fz *in, unsigned pick)
{
	static const __u64 named[] = { 1, 1, 60, 3600, 86400, 10, 7 };

	return pick < 7 ? named[pick] : 1 + fz_u32(in) % IG_RATE_PERIOD_MAX;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fz in = { data, size };
	__u8 mode = fz_u8(&in);
	__u64 n = fz_scaled(&in, 12), burst = fz_scaled(&in, mode & 1 ? 10 : 5);
	__u64 per = fz_period(&in, (mode >> 4) & 7), p = per * NS, rate;
	__u64 now = fz_u64(&in) >> 4, t0 = now, tat = mode & 2 ? fz_u64(&in) : 0;
	int model_on = !(mode & 2) && n <= 100000000;
	u128 admitted = 0, model = 0; /* the exact TAT times N */
	__u64 maxcost = 0; /* the largest cost admitted */

	if (burst > IG_MAX_BURST)
		burst = IG_MAX_BURST;
	if (n > IG_RATE_MAX)
		n = IG_RATE_MAX;
	rate = ig_rate_make(n, per, 1);
	/* what user space accepts: a full burst refills within
	 * IG_RATE_MAX_REFILL_S; past it (a hand-edited map) the TAT may not
	 * hold the debt, and charges are refused rather than wrapped: the
	 * invariants below still hold, the exact model does not */
	if ((u128)burst * per > (u128)IG_RATE_MAX_REFILL_S * n)
		model_on = 0;
	while (in.n) {
		__u8 op = fz_u8(&in);
		__u64 cost = op & 0x80 ? 1 + fz_u16(&in) : 1 + (op & 3);
		__u64 gap = op & 0x40 ? fz_u32(&in) : op & 0x20 ? (__u64)fz_u16(&in) << 16 : fz_u8(&in);
		__u64 old = tat, next;
		struct ig_refund rf = {};
		int r, skip = 0;

		now += gap;
		if (now >= 1ULL << 62)
			break;
		if (model_on) {
			u128 nr = (u128)now * n, need = (u128)cost * p, budget = (u128)burst * p;
			u128 adm = model + need > budget ? model + need - budget : 0;

			/* 4 ns from where it turns full, or admits this cost */
			skip = (nr > model ? nr - model : model - nr) < (u128)4 * n ||
			       (adm && (nr > adm ? nr - adm : adm - nr) < (u128)4 * n);
		}
		r = ig_bucket_charge_rf(&tat, now, cost, rate, burst, &rf);
		FZ_CHECK(r == IG_CHARGE_OK || r == IG_CHARGE_REFUSED);
		if (r == IG_CHARGE_REFUSED) {
			FZ_CHECK(tat == old);
		} else {
			next = tat;
			FZ_CHECK(next > now && (old <= now || next > old));
			/* owes at most a burst: ceil(burst * P / N) ns; a
			 * charge above it only from a full bucket, owing it all */
			if (cost <= burst)
				FZ_CHECK((u128)(next - now - 1) * n < (u128)burst * p);
			else
				FZ_CHECK(old <= now && (u128)(next - now - 1) * n < (u128)cost * p);
			FZ_CHECK(rf.tat == &tat && rf.inc == next - (old > now ? old : now));
			admitted += cost;
			if (cost > maxcost)
				maxcost = cost;
		}
		if (model_on && !skip) {
			u128 nr = (u128)now * n, base = model > nr ? model : nr;
			int want = base - nr + (u128)cost * p <= (u128)burst * p ||
				   (cost > burst && burst && base == nr);
			/* the TAT it would leave, in ns: at or past 2^63 refused
			 * (such a word is a window's, bucket.h); within 4 ns of
			 * it either way */
			u128 at = (base + (u128)cost * p) / n, top = (u128)1 << 63;

			if (at + 4 >= top && at <= top + 4)
				want = r == IG_CHARGE_OK; /* at the edge: follow it */
			if (at > top + 4)
				want = 0;
			FZ_CHECK(want == (r == IG_CHARGE_OK));
			if (want)
				model = base + (u128)cost * p;
		} else if (model_on && r == IG_CHARGE_OK) {
			/* decided at a boundary: follow the data path */
			u128 nr = (u128)now * n;

			model = (model > nr ? model : nr) + (u128)cost * p;
		}
		if (r == IG_CHARGE_OK && (op & 0x18) == 0x18) { /* a level above refused */
			ig_refund(&rf);
			FZ_CHECK(tat == (old > now ? old : now));
			admitted -= cost;
			if (model_on) /* the model takes it back too */
				model -= (u128)cost * p;
		}
		/* never more than burst + elapsed * n, and one unit of the grid */
		FZ_CHECK(admitted * p <= (u128)(burst > maxcost ? burst : maxcost) * p +
				       (u128)(now - t0) * n + p);
	}
	{
		__u64 nn = fz_scaled(&in, 9), nburst = fz_scaled(&in, 6);
		__u64 nper = fz_period(&in, fz_u8(&in) & 7), np = nper * NS;
		__u64 nrate = ig_rate_make(nn, nper, 1);
		__u64 t2 = ig_gcra_rescale(tat, now, rate, burst, nrate, nburst);

		/* a full bucket stays full; another owes at most the new burst, and
		 * less than one unit more for the grid instant it is rounded to */
		if (tat <= now)
			FZ_CHECK(t2 == tat);
		else
			FZ_CHECK(t2 >= now && (t2 == now ||
					       (u128)(t2 - now - 1) * nn < (u128)(nburst + 1) * np));
	}
	return 0;
}
