/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Token-bucket math as GCRA (the "virtual scheduling" form of a token bucket).
 *
 * Why GCRA and not {tokens, last_refill}: its whole state is one u64, the
 * theoretical arrival time (TAT). One word can be updated with a single
 * compare-and-swap, so two CPUs charging the same source never lose an update,
 * without a spin lock (which LRU maps refuse anyway).
 *
 * A rate is N units per period of P ns (ig_abi.h: "3/min" is N 3, P 60e9;
 * "100/s" is N 100, P 1e9). A bucket with `burst` tokens refilled at N per P
 * is "TAT ahead of now by d ns" with d = (burst - tokens) * P / N. A charge
 * of `cost` units is admitted iff the debt after it stays within the burst:
 *     (max(tat, now) - now) * N + cost * P <= burst * P
 * and then TAT moves forward by cost * P / N ns. The products are compared
 * exactly in 128 bits (two 64-bit words; BPF has no wider multiply): at a
 * day's period and a burst of 1e10, burst * P is 8.6e23.
 *
 * That increment is rarely a whole number of ns, and rounding it on every
 * charge adds up (up: the last unit of almost every burst is lost; down: up to
 * N / P extra units per charge). So the exact TAT is kept on a grid and
 * stored rounded up to the ns: its instants lie P/(N * 2^k) ns apart, k the
 * largest shift with N * 2^k <= P (ig_gcra_shift()): 1 to 2 ns apart (more
 * only at a few units a day: 2^k stops at 2^47), so there is at most one per
 * ns and the exact TAT comes back as
 *     tat_exact * R = tat * R - (tat * R mod P),   R = N << k
 * A charge of whole units moves the TAT by a whole number of grid steps, so
 * no rounding is ever carried from one charge to the next.
 *
 * An idle bucket restarts from the grid instant at or before now, which
 * credits it < 2 ns of refill. (The grid used to be 1/rate apart, a whole
 * second at 1/s: a source idle since 0.7 s past a second restarted from that
 * second, and was admitted again 0.3 s after a burst of 1.) So after an
 * admission the next one at the same burst comes P/N later, less < 2 ns;
 * a new source gets exactly `burst`, and over any interval t a source is
 * admitted at most burst + N * t / P units, + 1 for a grid step (a charge
 * above the burst, admitted from a full bucket only, raises that to the
 * charge + N * t / P). (Above P/2 units per period the grid is the P/N one,
 * finer than 2 ns; above P it is finer than a ns, and the debt read back is
 * high by < 1 ns per charge.)
 *
 * Plain C: compiled natively by the unit tests, which also run the CAS loop
 * from two threads and check every period against an exact model.
 */
#ifndef IG_BUCKET_H
#define IG_BUCKET_H

#include "ig_abi.h"
#include "pure/hdr.h"

/* Products below 2^32 * 2^32 cannot overflow: the common case needs no division. */
#define IG_GCRA_FAST_LIMIT (1ULL << 32)

/* Compare-and-swap attempts before a charge is refused as contended. */
#define IG_CAS_TRIES 4

/* The largest cost charged at periods above a second, where cost * P must
 * stay within 64 bits (2^17 * 86400e9 < 2^64): only a BIG TCP GRO frame
 * at TC is longer, and it is charged as this many bytes. */
#define IG_GCRA_COST_MAX (1ULL << 17)

/* ig_gcra_mulmod's three 16-bit steps hold for a modulus below 2^47. */
IG_STATIC_ASSERT(IG_RATE_PERIOD_MAX * IG_NSEC_PER_SEC < (1ULL << 47), "a period's ns below 2^47");

/* The grid's shift k (see above): the largest with n << k <= p (k < 64), 0
 * for n above p / 2. Compares, not a division or a count of leading zeros,
 * which BPF has no instruction for. n >= 1, n < 2^41. */
static __always_inline __u32 ig_gcra_shift(__u64 n, __u64 p)
{
	__u32 k = 0, step;

	if (n < (1ULL << 15) && (n << 32) <= p) { /* p < 2^47: never for n >= 2^15 */
		n <<= 32;
		k = 32;
	}
#pragma unroll
	for (step = 16; step; step >>= 1) {
		if ((n << step) <= p) {
			n <<= step;
			k += step;
		}
	}
	return k;
}

/* a * b mod m for a, b < m < 2^47. Below 2^32 one product does; above, b
 * goes in 16-bit pieces (r < 2^47, so r << 16 and a * piece each stay below
 * 2^63): three remainders, paid only at periods of 5 s and up. */
static __always_inline __u64 ig_gcra_mulmod(__u64 a, __u64 b, __u64 m)
{
	__u64 r;

	if (m <= IG_GCRA_FAST_LIMIT)
		return a * b % m;
	r = a * (b >> 32) % m;
	r = ((r << 16) + a * ((b >> 16) & 0xffff)) % m;
	return ((r << 16) + a * (b & 0xffff)) % m;
}

/* How far t lies past the grid instant at or before it, in token-ns (N-ns
 * per P, rounded down; < P >> k): the exact debt of a TAT t is
 * (t - now) * N less this. */
static __always_inline __u64 ig_gcra_frac(__u64 t, __u64 n, __u64 p, __u32 k)
{
	__u64 fine = n << k;

	if (fine >= p)
		fine %= p;
	return ig_gcra_mulmod(t % p, fine, p) >> k;
}

/* a * b as 128 bits, from 32-bit halves. */
static __always_inline void ig_mul128(__u64 a, __u64 b, __u64 *hi, __u64 *lo)
{
	__u64 al = a & 0xffffffff, ah = a >> 32, bl = b & 0xffffffff, bh = b >> 32;
	__u64 ll = al * bl, lh = al * bh, hl = ah * bl;
	__u64 mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);

	*lo = (ll & 0xffffffff) | (mid << 32);
	*hi = ah * bh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* debt * n > slack * p + extra, exactly. At a second's period the right
 * side fits 64 bits (slack <= 1e10, extra < 1e9): the old comparison, with
 * its division only when the left side is large; else in 128 bits. */
static __always_inline int ig_gcra_over(__u64 debt, __u64 n, __u64 slack, __u64 p, __u64 extra)
{
	__u64 lh, ll, rh, rl;

	if (p == IG_NSEC_PER_SEC) {
		__u64 room = slack * p + extra;

		if (debt < IG_GCRA_FAST_LIMIT && n < IG_GCRA_FAST_LIMIT)
			return debt * n > room;
		return debt > room / n;
	}
	ig_mul128(debt, n, &lh, &ll);
	ig_mul128(slack, p, &rh, &rl);
	rl += extra;
	rh += rl < extra;
	return lh > rh || (lh == rh && ll > rl);
}

/*
 * Decide one charge against a bucket whose TAT is `tat`, at `rate` (ig_abi.h's
 * N-per-period form): the next TAT when admitted, 0 when refused (an admitted
 * TAT is > now, never 0). `cost` is a frame's length at most (at periods
 * above a second, capped at IG_GCRA_COST_MAX); cost 0 is refused, and so is everything against a burst
 * of 0, at N 0, or at a period past a day (a hand-edited map fails closed).
 *
 * ig_gcra_next is it as a global function in BPF: the verifier checks it
 * once, on its own, rather than at each of the places the CAS loops inline
 * it (half the verifier work of the whole program). ig_limit_step (limit.h)
 * inlines it instead: a call from a call would stack one more frame onto
 * BPF's 512 bytes.
 */
static __always_inline __u64 ig_gcra_step(__u64 tat, __u64 now, __u64 cost, __u64 rate,
					  __u64 burst)
{
	__u64 base = tat > now ? tat : now;
	__u64 debt = base - now; /* ns of refill owed, rounded up */
	__u64 n = ig_rate_n(rate), per = ig_rate_period(rate, 1), p, frac, next;
	__u32 k;

	if (!n || per > IG_RATE_PERIOD_MAX || burst > IG_MAX_BURST || !cost || !burst)
		return 0;
	p = per * IG_NSEC_PER_SEC;
	if (per > 1 && cost > IG_GCRA_COST_MAX)
		cost = IG_GCRA_COST_MAX;
	k = ig_gcra_shift(n, p);
	/* A charge above the whole burst (a segment starting more requests, a
	 * GRO train of more packets or bytes) is admitted from a full bucket
	 * only, and leaves the source owing the excess: refused forever, its
	 * sender would resend it forever; capped at the burst, it would buy
	 * more than it paid. */
	if (cost > burst) {
		if (debt)
			return 0;
		return now + (cost * p - ig_gcra_frac(now, n, p, k) - 1) / n + 1;
	}
	/* a source in debt past any fraction is refused before the remainders:
	 * what a flood from one source costs */
	if (debt && ig_gcra_over(debt, n, burst - cost, p, (p - 1) >> k))
		return 0;
	frac = ig_gcra_frac(base, n, p, k);
	if (debt && ig_gcra_over(debt, n, burst - cost, p, frac))
		return 0;
	/* the exact debt after the charge, debt * N + cost * P - frac token-ns
	 * (> debt * N as cost * P >= P > frac), rounded up to the next grid
	 * instant and the ns: the debt's whole ns come out of the division */
	next = base + (cost * p - frac - 1) / n + 1;
	/* past 2^64 only when burst * P / N outgrows the TAT (user space
	 * refuses such a rate, IG_RATE_MAX_REFILL_S): refused, not wrapped
	 * round to a full bucket. Past 2^63 (a debt of > 146 years, reachable
	 * only at the largest bursts) refused too: such a word is a window's
	 * (ig_abi.h), and a bucket reads one as full. */
	return next > base && !(next >> 63) ? next : 0;
}

IG_GLOBAL_FN __u64 ig_gcra_next(__u64 tat, __u64 now, __u64 cost, __u64 rate, __u64 burst)
{
	return ig_gcra_step(tat, now, cost, rate, burst);
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
 * above refuses the packet (ig_refund(), pure/limit.h): GCRA is additive once
 * tat >= now, so subtracting the increment restores the debt exactly,
 * whatever other CPUs charged in between (and a bucket that was full before
 * is full again). 16 bytes, not the 32 of a pointer to the way's identity
 * too: the fair-share stage keeps four, and its stack is what its call chain
 * has left of BPF's 512 bytes.
 */
struct ig_refund {
	__u64 *tat;   /* NULL: nothing to take back */
	__u64 inc;    /* ns the charge moved tat (a window's: pure/limit.h) */
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

#ifndef __bpf__
/*
 * The TAT of a bucket at `rate` that owes `owed` token-ns (tokens times its
 * period in ns) at `now` (user space). ig_gcra_next reads a TAT back as the
 * whole tokens since time 0 at it (a grid instant at or before), minus now's:
 * take the first grid instant whose debt read back covers `owed`, so that the
 * read-back can only be higher (by < 1 token), never lower.
 */
static inline __u64 ig_gcra_owing(__u64 now, unsigned __int128 owed, __u64 rate)
{
	__u64 nn = ig_rate_n(rate), np = ig_rate_period(rate, 1) * IG_NSEC_PER_SEC;
	unsigned __int128 k;

	if (!owed || !nn)
		return now;
	k = ((unsigned __int128)now * nn + owed + np - 1) / np;
	return (__u64)((k * np + nn - 1) / nn);
}

/*
 * A bucket's TAT under a new policy (user space, at a reload): the tokens the
 * source has used are scaled by new_burst / old_burst, so it keeps the same
 * share of its burst: a full bucket stays full, an empty one stays empty, and
 * nothing is ever handed out that the old policy had not left it. Rates are
 * ig_abi.h's N-per-period words, so 100/s -> 3/min carries over like any
 * other change. The result is rounded towards more debt (never a refill by
 * rounding).
 */
static inline __u64 ig_gcra_rescale(__u64 tat, __u64 now, __u64 old_rate, __u64 old_burst,
				    __u64 new_rate, __u64 new_burst)
{
	__u64 on = ig_rate_n(old_rate), nn = ig_rate_n(new_rate);
	__u64 op = ig_rate_period(old_rate, 1) * IG_NSEC_PER_SEC;
	__u64 np = ig_rate_period(new_rate, 1) * IG_NSEC_PER_SEC;
	unsigned __int128 used, owed;
	__u64 frac;

	if (tat <= now || !on || !old_burst || !nn)
		return tat; /* full (or a policy that refuses all): nothing to carry */
	if (op > IG_RATE_PERIOD_MAX * IG_NSEC_PER_SEC || np > IG_RATE_PERIOD_MAX * IG_NSEC_PER_SEC)
		return tat;
	/* token-ns used (tokens * op), as ig_gcra_next reads it (high by < 1) */
	frac = ig_gcra_frac(tat, on, op, ig_gcra_shift(on, op));
	used = (unsigned __int128)(tat - now) * on - frac;
	if (used > (unsigned __int128)old_burst * op)
		used = (unsigned __int128)old_burst * op;
	/* the same share in the new burst, in tokens * np, rounded up at each
	 * step (< 2^80 * 2^34 and < 2^81 * 2^47: no overflow) */
	owed = (used * new_burst + old_burst - 1) / old_burst;
	owed = (owed * np + op - 1) / op;
	if (owed > (unsigned __int128)new_burst * np)
		owed = (unsigned __int128)new_burst * np;
	return ig_gcra_owing(now, owed, new_rate);
}
#endif

#endif /* IG_BUCKET_H */
