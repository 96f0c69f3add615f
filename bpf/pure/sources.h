/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-source table: find or claim a source's way in its set, then charge
 * its GCRA word (bucket.h). Plain C on a struct ig_source_set pointer: the data
 * path passes a map value, the unit tests a set in memory (and race two
 * threads on it).
 *
 * Every write is a compare-and-swap on one 8-byte word: the identity word
 * (tag, port, proto, used) when a way changes owner, the state word (`tat`: a
 * bucket's TAT or a window's counts, pure/limit.h) when a source is charged.
 * A refused packet of a known source writes nothing.
 */
#ifndef IG_SOURCES_H
#define IG_SOURCES_H

#include "ig_abi.h"
#include "pure/hdr.h"
#include "pure/limit.h"

/* murmur3's finaliser: every input bit reaches every output bit. */
static __always_inline __u64 ig_mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* The source's 64-bit hash: low bits pick the set, the high half is the tag. */
static __always_inline __u64 ig_source_hash(const __u8 *addr, __u16 port, __u8 proto, __u64 seed)
{
	__u64 a, b;

	__builtin_memcpy(&a, addr, 8);
	__builtin_memcpy(&b, addr + 8, 8);
	return ig_mix64(ig_mix64(seed ^ a) ^ b ^ ((__u64)port << 8 | proto));
}

/* The identity word of a way: what struct ig_source's first 8 bytes hold. */
static __always_inline __u64 ig_source_ident(__u64 hash, __u16 port, __u8 proto)
{
	struct ig_source s = {
		.tag = (__u32)(hash >> 32),
		.port = port,
		.proto = proto,
		.used = 1,
	};
	__u64 w;

	__builtin_memcpy(&w, &s, sizeof(w));
	return w;
}

static __always_inline __u64 *ig_way_ident(struct ig_source *w)
{
	return (__u64 *)(void *)w;
}

/* Compare-and-swap passes over the set before a charge is given up as contended. */
#define IG_CLAIM_TRIES 2

/* ig_source_charge_rf()'s `may_claim`: claim a way for a new source (else
 * IG_CHARGE_NEW is all it says), and whether the newcomer budget pays for it. */
#define IG_CLAIM 0x1
#define IG_CLAIM_PAID 0x2

/*
 * A new source that paid the newcomer budget may take the way of a held
 * source whose bucket has been full this long (the least recently charged
 * in its set). Taking it loses no limit state (a full bucket is what a new
 * source starts with); its source, if it comes back, contends for the
 * newcomer budget like anyone new. So a table full of held sources cannot
 * keep new clients out while the budget has room: to hold a way against them
 * a source must be charged at least once a second, and those that lapse go
 * back into the contest. Sources that talk more often keep their ways.
 */
#define IG_TAKE_NS (1ULL * 1000000000ULL)

/*
 * Charge `cost` to the source with identity `ident` in `set`. A source not in
 * the set takes a way: an unused one, else the one with the smallest tat, but
 * only a way whose source is not held (see IG_HOLD_NS): its bucket has been
 * full for that long, so nothing is lost and the source it belonged to has
 * stopped talking. A set of held sources refuses a new one (IG_CHARGE_FULL):
 * a flood of new addresses cannot push out the state of sources that talk.
 *
 * Without IG_CLAIM in `may_claim` a new source that could take a way gets
 * IG_CHARGE_NEW and nothing is written: the caller first charges its newcomer
 * budget, then calls again to claim. With IG_CLAIM_PAID, held ways idle for
 * IG_TAKE_NS may be taken too (see there). `rf` (may be NULL) records an
 * admitted charge for ig_refund(), with the way when it was claimed for this
 * charge. Returns enum ig_charge.
 */
static __always_inline int ig_source_charge_rf(struct ig_source_set *set, __u64 ident,
					       __u64 now, __u64 cost, __u64 rate, __u64 burst,
					       __u32 algo, int may_claim, struct ig_refund *rf)
{
	__u64 hold = may_claim & IG_CLAIM_PAID ? IG_TAKE_NS : IG_HOLD_NS;
	int pass, i;

#pragma unroll
	for (pass = 0; pass < IG_CLAIM_TRIES; pass++) {
		__u64 victim_ident = 0, old_tat, fresh, best_tat = ~0ULL;
		int victim = -1;

#pragma unroll
		for (i = 0; i < IG_WAYS; i++) {
			__u64 id = *(volatile __u64 *)ig_way_ident(&set->way[i]);
			__u64 t = *(volatile __u64 *)&set->way[i].tat;
			struct ig_source seen;

			if (id == ident)
				return ig_limit_charge_rf(&set->way[i].tat, now, cost, rate, burst, algo,
							  rf);
			/* a window's state lasts till its window (the next, when
			 * sliding) is over: read like a TAT from here on */
			t = ig_limit_until(t, now, rate, algo);
			__builtin_memcpy(&seen, &id, sizeof(id));
			if (!seen.used)
				t = 0; /* an empty way beats any source */
			else if (t + hold > now)
				continue; /* held: not to be taken */
			if (t < best_tat) {
				best_tat = t;
				victim = i;
				victim_ident = id;
			}
		}
		if (victim < 0)
			return IG_CHARGE_FULL;
		/* Not tracked: a new source starts with a full bucket. */
		fresh = ig_limit_next(0, now, cost, rate, burst, algo);
		if (!fresh)
			return IG_CHARGE_REFUSED;
		if (!(may_claim & IG_CLAIM))
			return IG_CHARGE_NEW;
		victim &= IG_WAYS - 1; /* for the verifier: a constant-bounded index */
		/*
		 * Claim the way only if it still holds what the scan saw: had we
		 * re-read its owner here, a way our own source had claimed since
		 * (on the other CPU) would be "claimed" again and its tat reset,
		 * forgetting what that CPU charged.
		 */
		old_tat = *(volatile __u64 *)&set->way[victim].tat;
		if (__sync_val_compare_and_swap(ig_way_ident(&set->way[victim]), victim_ident,
						ident) != victim_ident)
			continue; /* another CPU took this way first: look again */
		/* The way is ours. If a charge of our source landed on the old tat
		 * in between, this fails and that charge stands on its own. */
		if (__sync_val_compare_and_swap(&set->way[victim].tat, old_tat, fresh) == old_tat) {
			ig_limit_record(rf, &set->way[victim].tat, 0, fresh, now, algo);
			if (rf) {
				rf->ident = ig_way_ident(&set->way[victim]);
				rf->owner = ident;
			}
			return IG_CHARGE_OK;
		}
		return ig_limit_charge_rf(&set->way[victim].tat, now, cost, rate, burst, algo, rf);
	}
	return IG_CHARGE_CONTENDED;
}

static __always_inline int ig_source_charge(struct ig_source_set *set, __u64 ident, __u64 now,
					    __u64 cost, __u64 rate, __u64 burst, __u32 algo)
{
	return ig_source_charge_rf(set, ident, now, cost, rate, burst, algo, IG_CLAIM,
				   (struct ig_refund *)0);
}

/*
 * The prefix an address belongs to, for the prefix level: the address with
 * all but its first `len` bits cleared (len counts from the IPv4-mapped
 * form's start for IPv4, i.e. 96 + the IPv4 length), hashed like a source.
 */
static __always_inline void ig_prefix_of(const __u8 *addr, __u32 len, __u8 *out)
{
	__u64 a, b;

	__builtin_memcpy(&a, addr, 8);
	__builtin_memcpy(&b, addr + 8, 8);
	/* big-endian bytes in a little- or big-endian word: mask bytewise */
	if (len >= 128) {
	} else if (len >= 64) {
		__u8 m[8];
		__u64 mw;
		int i;

#pragma unroll
		for (i = 0; i < 8; i++) {
			int bits = (int)len - 64 - i * 8;

			m[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
		}
		__builtin_memcpy(&mw, m, 8);
		b &= mw;
	} else {
		__u8 m[8];
		__u64 mw;
		int i;

#pragma unroll
		for (i = 0; i < 8; i++) {
			int bits = (int)len - i * 8;

			m[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
		}
		__builtin_memcpy(&mw, m, 8);
		a &= mw;
		b = 0;
	}
	__builtin_memcpy(out, &a, 8);
	__builtin_memcpy(out + 8, &b, 8);
}

#endif /* IG_SOURCES_H */
