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
 * and then TAT moves forward by cost * 1e9 / rate ns.
 *
 * That increment is rarely a whole number of ns, and rounding it on every
 * charge adds up (up: the last unit of almost every burst is lost; down: up to
 * rate / 1e9 extra units per charge). So the exact TAT is kept on a grid and
 * stored rounded up to the ns: its instants lie 1/(rate * 2^k) s apart, k the
 * largest shift with rate * 2^k <= 1e9 (ig_gcra_shift()): 1 to 2 ns apart,
 * so there is at most one per ns and the exact TAT comes back as
 *     tat_exact * R = tat * R - (tat * R mod 1e9),   R = rate << k
 * in 64-bit math. A charge of whole units moves the TAT by a whole number of
 * grid steps, so no rounding is ever carried from one charge to the next.
 *
 * An idle bucket restarts from the grid instant at or before now, which
 * credits it < 2 ns of refill. (The grid used to be 1/rate apart, a whole
 * second at 1/s: a source idle since 0.7 s past a second restarted from that
 * second, and was admitted again 0.3 s after a burst of 1.) So after an
 * admission the next one at the same burst comes 1/rate later, less < 2 ns;
 * a new source gets exactly `burst`, and over any interval t a source is
 * admitted at most burst + rate * t units, + 1 for a grid step (a charge
 * above the burst, admitted from a full bucket only, raises that to the
 * charge + rate * t). (Above 5e8
 * units/s the grid is the 1/rate one, finer than 2 ns; above 1e9 units/s it is
 * finer than a ns, and the debt read back is high by < 1 ns per charge.)
 *
 * Plain C: compiled natively by the unit tests, which also run the CAS loop
 * from two threads.
 */
#ifndef IG_BUCKET_H
#define IG_BUCKET_H

#include "ig_abi.h"
#include "pure/hdr.h"

/* Products below 2^32 * 2^32 cannot overflow: the common case needs no division. */
#define IG_GCRA_FAST_LIMIT (1ULL << 32)

/* Compare-and-swap attempts before a charge is refused as contended. */
#define IG_CAS_TRIES 4

/* The grid's shift k (see above): the largest with rate << k <= 1e9, 0 for
 * rates above 5e8. Compares, not a division or a count of leading zeros,
 * which BPF has no instruction for. rate >= 1. */
static __always_inline __u32 ig_gcra_shift(__u64 rate)
{
	__u32 k = 0, step;

#pragma unroll
	for (step = 16; step; step >>= 1) {
		if ((rate << step) <= IG_NSEC_PER_SEC) {
			rate <<= step;
			k += step;
		}
	}
	return k;
}

/* How far t lies past the grid instant at or before it, in token-ns
 * (rounded down; < 1e9 >> k): the exact debt of a TAT t is (t - now) * rate
 * less this. */
static __always_inline __u64 ig_gcra_frac(__u64 t, __u64 rate, __u32 k)
{
	__u64 fine = rate << k;

	if (fine >= IG_NSEC_PER_SEC)
		fine %= IG_NSEC_PER_SEC;
	return ((t % IG_NSEC_PER_SEC) * fine % IG_NSEC_PER_SEC) >> k;
}

/* debt * rate > room, for integers, without overflowing 64 bits. */
static __always_inline int ig_gcra_over(__u64 debt, __u64 rate, __u64 room)
{
	if (debt < IG_GCRA_FAST_LIMIT && rate < IG_GCRA_FAST_LIMIT)
		return debt * rate > room;
	return debt > room / rate;
}

/*
 * Decide one charge against a bucket whose TAT is `tat`: the next TAT when
 * admitted, 0 when refused (an admitted TAT is > now, never 0). `cost` is
 * 1 .. 2^16 (a frame length), so cost * 1e9 fits easily; cost 0 is refused,
 * and so is everything against a burst of 0.
 *
 * In BPF a global function: the verifier checks it once, on its own, rather
 * than at each of the places the CAS loops inline it (half the verifier work
 * of the whole program).
 */
#ifdef __bpf__
__attribute__((noinline)) __u64 ig_gcra_next(__u64 tat, __u64 now, __u64 cost, __u64 rate,
					    __u64 burst)
#else
static inline __u64 ig_gcra_next(__u64 tat, __u64 now, __u64 cost, __u64 rate, __u64 burst)
#endif
{
	__u64 base = tat > now ? tat : now;
	__u64 debt = base - now; /* ns of refill owed, rounded up */
	__u64 budget, need, room, frac;
	__u32 k;

	if (rate == 0 || burst > IG_MAX_BURST)
		return 0;
	budget = burst * IG_NSEC_PER_SEC;
	need = cost * IG_NSEC_PER_SEC;
	if (!cost || !burst)
		return 0;
	k = ig_gcra_shift(rate);
	/* A charge above the whole burst (a segment starting more requests, a
	 * GRO train of more packets or bytes) is admitted from a full bucket
	 * only, and leaves the source owing the excess: refused forever, its
	 * sender would resend it forever; capped at the burst, it would buy
	 * more than it paid. (cost <= 2^16: need - frac stays far from 2^64.) */
	if (need > budget) {
		if (debt)
			return 0;
		return now + (need - ig_gcra_frac(now, rate, k) - 1) / rate + 1;
	}
	/* a source in debt past any fraction is refused before the divisions:
	 * what a flood from one source costs (<= budget - need + 1e9: no overflow) */
	room = budget - need + ((IG_NSEC_PER_SEC - 1) >> k);
	if (debt && ig_gcra_over(debt, rate, room))
		return 0;
	frac = ig_gcra_frac(base, rate, k);
	room = budget - need + frac;
	if (debt && ig_gcra_over(debt, rate, room))
		return 0;
	/* the exact debt after the charge in token-ns, rounded up to a whole
	 * one (the ceiling below comes out the same): > 0 as need >= 1e9 >
	 * frac, <= budget as debt * rate <= room; then the next grid instant,
	 * rounded up to the ns */
	need += debt * rate - frac;
	return now + (need - 1) / rate + 1;
}

static __always_inline int ig_gcra(__u64 tat, __u64 now, __u64 cost, __u64 rate, __u64 burst,
				   __u64 *next)
{
	__u64 n = ig_gcra_next(tat, now, cost, rate, burst);

	if (!n)
		return 0;
	*next = n;
	return 1;
}

enum ig_charge {
	IG_CHARGE_OK = 0,
	IG_CHARGE_REFUSED = 1,
	IG_CHARGE_CONTENDED = 2,
	IG_CHARGE_FULL = 3, /* a new source, and no way it may take (sources.h) */
	IG_CHARGE_NEW = 4,  /* a new source, asked not to claim a way (sources.h) */
};

/*
 * What an admitted charge moved, so that it can be taken back when a level
 * above refuses the packet: GCRA is additive once tat >= now, so subtracting
 * the increment restores the debt exactly, whatever other CPUs charged in
 * between (and a bucket that was full before is full again).
 */
struct ig_refund {
	__u64 *tat;  /* NULL: nothing to take back */
	__u64 inc;   /* ns the charge moved tat */
	__u64 *ident; /* a way claimed for this charge: released on refund */
	__u64 owner;  /* ... the identity it was claimed with */
};

/*
 * Charge `cost` against *tat with compare-and-swap, retrying when another CPU
 * updated it in between. A refusal writes nothing, so the drop path under a
 * flood never dirties the cache line for the other CPU. `rf`, when given,
 * records the charge for ig_refund().
 */
static __always_inline int ig_bucket_charge_rf(__u64 *tat, __u64 now, __u64 cost, __u64 rate,
					       __u64 burst, struct ig_refund *rf)
{
	int i;

#pragma unroll
	for (i = 0; i < IG_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)tat;
		__u64 next;

		if (!ig_gcra(old, now, cost, rate, burst, &next))
			return IG_CHARGE_REFUSED;
		if (__sync_val_compare_and_swap(tat, old, next) == old) {
			if (rf) {
				rf->tat = tat;
				rf->inc = next - (old > now ? old : now);
			}
			return IG_CHARGE_OK;
		}
	}
	return IG_CHARGE_CONTENDED;
}

static __always_inline int ig_bucket_charge(__u64 *tat, __u64 now, __u64 cost, __u64 rate,
					    __u64 burst)
{
	return ig_bucket_charge_rf(tat, now, cost, rate, burst, (struct ig_refund *)0);
}

/* Take back what ig_bucket_charge_rf() (or ig_source_charge()) recorded. A
 * way claimed for the charge is given back too (state only for admitted
 * sources); should the same new source have been charged on the other CPU in
 * that instant, its state goes with it and it starts full next time. */
static __always_inline void ig_refund(const struct ig_refund *rf)
{
	if (rf->tat)
		__sync_fetch_and_add(rf->tat, -rf->inc);
	if (rf->ident)
		__sync_val_compare_and_swap(rf->ident, rf->owner, 0);
}

#ifndef __bpf__
/*
 * A bucket's TAT under a new policy (user space, at a reload): the tokens the
 * source has used are scaled by new_burst / old_burst, so it keeps the same
 * share of its burst: a full bucket stays full, an empty one stays empty, and
 * nothing is ever handed out that the old policy had not left it. The result
 * is rounded towards more debt (never a refill by rounding).
 */
static inline __u64 ig_gcra_rescale(__u64 tat, __u64 now, __u64 old_rate, __u64 old_burst,
				    __u64 new_rate, __u64 new_burst)
{
	unsigned __int128 used, owed;
	__u64 frac;

	if (tat <= now || !old_rate || !old_burst || !new_rate)
		return tat; /* full (or a policy that refuses all): nothing to carry */
	/* token-ns used, as ig_gcra_next reads it (high by < 1) */
	frac = ig_gcra_frac(tat, old_rate, ig_gcra_shift(old_rate));
	used = (unsigned __int128)(tat - now) * old_rate - frac;
	if (used > (unsigned __int128)old_burst * IG_NSEC_PER_SEC)
		used = (unsigned __int128)old_burst * IG_NSEC_PER_SEC;
	owed = (used * new_burst + old_burst - 1) / old_burst;
	if (!owed)
		return now;
	/* ig_gcra_next reads a TAT back as the whole tokens since time 0 at it
	 * (a grid instant at or before), minus now's: take the first grid
	 * instant whose debt read back covers `owed`, so that the read-back
	 * can only be higher (by < 1 token), never lower */
	{
		unsigned __int128 k = ((unsigned __int128)now * new_rate + owed + IG_NSEC_PER_SEC - 1) /
				      IG_NSEC_PER_SEC;

		return (__u64)((k * IG_NSEC_PER_SEC + new_rate - 1) / new_rate);
	}
}
#endif

#endif /* IG_BUCKET_H */
