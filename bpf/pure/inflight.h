/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Requests in flight (struct ig_inflight, max_inflight): taking, giving back
 * and counting the records of one port. Pure: built natively and tested; the
 * data path calls these from global functions (bpf/inflight.h).
 *
 * Why records and not a counter: a counter must be given back exactly once
 * per request, and every way a request can end unseen (a client gone silent,
 * a connection's state evicted, a response whose framing was lost) would
 * leak one for good; enough of those and the port admits nothing. A record
 * carries when it was taken, so one not given back is free after the
 * timeout, and the scan that takes a record is also the one that finds
 * expired ones: no sweeper, nothing to reconcile.
 */
#ifndef IG_PURE_INFLIGHT_H
#define IG_PURE_INFLIGHT_H

#include "pure/hdr.h"
#include "pure/sources.h" /* ig_mix64 */
#include "ig_abi.h"

#define IG_INFLIGHT_STAMP_MASK 0xffffffULL
#define IG_INFLIGHT_CLIENT_SHIFT 24
#define IG_INFLIGHT_FLOW_SHIFT 40

/* A 16-byte address mixed into h, 32 bits at a time: the data path's
 * addresses (struct ig_pkt's, the client scratch's) are 4-aligned, and a
 * copy of unknown alignment would be 16 byte loads and as many spills in a
 * frame that has 96 bytes to spare. */
static __always_inline __u64 ig_inflight_addr(const __u8 *a, __u64 h)
{
	const __u32 *w = (const __u32 *)(const void *)a;

	h = ig_mix64(h ^ ((__u64)w[0] << 32 | w[1]));
	return ig_mix64(h ^ ((__u64)w[2] << 32 | w[3]));
}

/* A connection's hash (client address and port, server port) and a
 * client's, both seeded. */
static __always_inline __u64 ig_inflight_flow_hash(const __u8 *caddr, __u16 cport, __u16 sport,
						   __u64 seed)
{
	return ig_inflight_addr(caddr, seed ^ ((__u64)cport << 16 | sport));
}

static __always_inline __u64 ig_inflight_client_hash(const __u8 *addr, __u64 seed)
{
	return ig_inflight_addr(addr, ~seed);
}

/* A record's owner: its connection's 24 bits and its client's 16 (both
 * seeded hashes), never 0. */
static __always_inline __u64 ig_inflight_owner(__u64 flow_h, __u64 client_h)
{
	return ((flow_h >> 40) | 1) << IG_INFLIGHT_FLOW_SHIFT |
	       ((client_h >> 48) & 0xffff) << IG_INFLIGHT_CLIENT_SHIFT;
}

static __always_inline __u32 ig_inflight_stamp(__u64 now_ns)
{
	return (__u32)((now_ns >> IG_INFLIGHT_TICK_SHIFT) & IG_INFLIGHT_STAMP_MASK);
}

/* The timeout in stamps (at least one, at most half the stamp's range). */
static __always_inline __u32 ig_inflight_ticks(__u32 timeout_s)
{
	__u64 t = ((__u64)(timeout_s ? timeout_s : IG_INFLIGHT_TIMEOUT_S) * 1000000000ULL) >>
		  IG_INFLIGHT_TICK_SHIFT;

	if (t < 1)
		t = 1;
	if (t > IG_INFLIGHT_STAMP_MASK / 2)
		t = IG_INFLIGHT_STAMP_MASK / 2;
	return (__u32)t;
}

/* Whether record word w is taken (and not expired) at stamp `now`. */
static __always_inline int ig_inflight_live(__u64 w, __u32 now, __u32 ticks)
{
	return w && ((now - (__u32)w) & IG_INFLIGHT_STAMP_MASK) < ticks;
}

static __always_inline int ig_inflight_same_flow(__u64 w, __u64 owner)
{
	return w >> IG_INFLIGHT_FLOW_SHIFT == owner >> IG_INFLIGHT_FLOW_SHIFT;
}

static __always_inline int ig_inflight_same_client(__u64 w, __u64 owner)
{
	return ((w ^ owner) >> IG_INFLIGHT_CLIENT_SHIFT & 0xffff) == 0;
}

/* One scan of a port's records, a record a step (the data path runs the
 * steps under bpf_loop(): a loop whose counters the verifier followed would
 * be walked once per count it can hold, past its million instructions). */
struct ig_inflight_scan {
	__u64 owner;  /* ig_inflight_owner() */
	__u64 active; /* the clients holding live records, a bit each (their bits mod 64) */
	__u32 now;    /* ig_inflight_stamp() */
	__u32 ticks;  /* ig_inflight_ticks() */
	/* counts up to IG_INFLIGHT_MAX, in 16 bits: the scan lives in the
	 * charge stage's call chain, which has 96 bytes of stack left */
	__u16 max;	  /* records looked at: the cap, at most IG_INFLIGHT_MAX */
	__u16 want;	  /* records to take, or to give back */
	__u16 done;	  /* records taken, or given back */
	__u16 per_client; /* 0: no cap */
	__u16 client;	  /* the client's live records the scan saw (its own excluded) */
	__u16 fair;	  /* IG_INFLIGHT_F_FAIR and the port contended: shares hold */
	__u16 live;	  /* live records the scan saw (its own excluded) */
};

#ifdef __bpf__
#define IG_INFLIGHT_REC(t, i) (&(t)->rec[(i) & (IG_INFLIGHT_MAX - 1)])
#else
#define IG_INFLIGHT_REC(t, i) (&(t)->rec[(i) % IG_INFLIGHT_MAX])
#endif

/* Record i of a take: taken when free or expired and still so at the
 * compare-and-swap (else another CPU had it). 1: the scan may stop. */
static __always_inline int ig_inflight_take_step(struct ig_inflight *t, __u32 i,
						 struct ig_inflight_scan *sc)
{
	__u64 *r = IG_INFLIGHT_REC(t, i), w;

	if (i >= sc->max)
		return 1;
	w = *(volatile __u64 *)r;
	if (ig_inflight_live(w, sc->now, sc->ticks)) {
		sc->client += ig_inflight_same_client(w, sc->owner);
		sc->live++;
		sc->active |= 1ULL << ((w >> IG_INFLIGHT_CLIENT_SHIFT) & 63); /* its client's bit */
		return 0;
	}
	if (sc->done >= sc->want)
		return !sc->per_client && !sc->fair; /* with a share, every record is counted */
	if (__sync_val_compare_and_swap(r, w, sc->owner | sc->now) == w)
		sc->done++;
	return 0;
}

/* The fair share of a contended port: max over the clients holding records,
 * this one and the one refused last counted (it holds none, perhaps, but
 * waits: the share is what makes room for it; bits mod 64 may merge two
 * clients: a share a little larger, never smaller), rounded up. The caller
 * puts the refused one's bit in sc->active before the scan. */
static __always_inline __u32 ig_inflight_fair_share(const struct ig_inflight_scan *sc)
{
	__u32 n = (__u32)__builtin_popcountll(sc->active |
					       1ULL << ((sc->owner >> IG_INFLIGHT_CLIENT_SHIFT) & 63));

	if (!n) /* not for the verifier's sake alone: a division by 0 is 0 in BPF */
		n = 1;

	return ((__u32)sc->max + n - 1) / n;
}

/* Whether what a take got stands: all it wanted, within the client's share. */
static __always_inline int ig_inflight_took(const struct ig_inflight_scan *sc)
{
	__u32 held = (__u32)sc->client + sc->done;

	/* over the fair share, a record is still taken while another stays
	 * free for whoever waits: a share keeps room, it does not idle it */
	return sc->done >= sc->want && (!sc->per_client || held <= sc->per_client) &&
	       (!sc->fair || held <= ig_inflight_fair_share(sc) ||
		(__u32)sc->live + sc->done < sc->max);
}

/* Whether the port is contended for this client: another was refused a
 * record lately (t->refused, the word of the last refusal for want of a free
 * record; one for the share is not written, or the client over its share
 * would wipe out the sign that another waits). */
static __always_inline int ig_inflight_contended(__u64 refused, __u64 owner, __u32 now)
{
	return refused && ((now - (__u32)refused) & IG_INFLIGHT_STAMP_MASK) < IG_INFLIGHT_CONTENDED_TICKS &&
	       !ig_inflight_same_client(refused, owner);
}

/* Record i of a take that did not stand: its own records back. */
static __always_inline int ig_inflight_back_step(struct ig_inflight *t, __u32 i,
						 struct ig_inflight_scan *sc)
{
	__u64 *r = IG_INFLIGHT_REC(t, i), mine = sc->owner | sc->now;

	if (i >= sc->max || !sc->done)
		return 1;
	if (*(volatile __u64 *)r == mine && __sync_val_compare_and_swap(r, mine, 0) == mine)
		sc->done--;
	return 0;
}

/* Record i of a give: sc->owner's connection's, given back. Records past max
 * are not looked at: after the cap was lowered, those count for nothing and
 * expire (user space clears them when the cap goes). */
static __always_inline int ig_inflight_give_step(struct ig_inflight *t, __u32 i,
						 struct ig_inflight_scan *sc)
{
	__u64 *r = IG_INFLIGHT_REC(t, i), w;

	if (i >= sc->max || sc->done >= sc->want)
		return 1;
	w = *(volatile __u64 *)r;
	if (w && ig_inflight_same_flow(w, sc->owner) && __sync_val_compare_and_swap(r, w, 0) == w)
		sc->done++;
	return 0;
}

#ifndef __bpf__
/*
 * Take sc->want records for sc->owner, all or none: 0 when taken, 1 when the
 * port (or the client's share of it) is full. A request that finds the port
 * full gives back what it took, so a crowd of them cannot hold the records
 * among themselves. (The data path's is bpf/inflight.h's, the same steps.)
 */
static __always_inline __u64 ig_inflight_client_bit(__u64 w)
{
	return 1ULL << ((w >> IG_INFLIGHT_CLIENT_SHIFT) & 63);
}

static inline int ig_inflight_take(struct ig_inflight *t, struct ig_inflight_scan *sc)
{
	int full;

	sc->done = sc->client = sc->live = 0;
	sc->active = sc->fair ? ig_inflight_client_bit(t->refused) : 0;
	for (__u32 i = 0; i < IG_INFLIGHT_MAX && !ig_inflight_take_step(t, i, sc); i++)
		;
	if (ig_inflight_took(sc))
		return 0;
	full = sc->done < sc->want;
	for (__u32 i = 0; i < IG_INFLIGHT_MAX && !ig_inflight_back_step(t, i, sc); i++)
		;
	if (full)
		t->refused = sc->owner | sc->now;
	return 1;
}

/* Give back up to sc->want records of sc->owner's connection (its response
 * ended: one; it closed: all, want = IG_INFLIGHT_MAX); sc->done says how many. */
static inline void ig_inflight_give(struct ig_inflight *t, struct ig_inflight_scan *sc)
{
	sc->done = 0;
	for (__u32 i = 0; i < IG_INFLIGHT_MAX && !ig_inflight_give_step(t, i, sc); i++)
		;
}
#endif

/* The live records of a port, of the first max (what the data path counts;
 * user space: status, metrics). */
static __always_inline __u32 ig_inflight_count(const struct ig_inflight *t, __u32 max, __u32 now,
					       __u32 ticks)
{
	__u32 i, n = 0;

	for (i = 0; i < IG_INFLIGHT_MAX && i < max; i++)
		n += ig_inflight_live(t->rec[i], now, ticks);
	return n;
}

#endif /* IG_PURE_INFLIGHT_H */
