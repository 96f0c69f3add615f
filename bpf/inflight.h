/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Requests in flight (max_inflight): the data path's side of pure/inflight.h.
 * The charge stage takes a record per request it admits on a port with
 * IG_POL_F_INFLIGHT (the last level: nothing is taken for a request another
 * level refuses); the egress reader gives one back per response that ends;
 * a client's FIN or RST, or a 429's teardown, gives back the connection's.
 */
#ifndef IG_INFLIGHT_H
#define IG_INFLIGHT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/inflight.h"
#include "pure/parse.h" /* struct ig_pkt */
#include "maps.h"
#include "cfg.h"
#include "tokens.h" /* resp_scratch: what a reply segment ended */

/* The connection's half of a record's owner (client caddr:cport, server
 * port sport), as every give matches it: in the owner's form (its bits
 * 40..63), not the raw hash, whose low bit of them the owner forces to 1. */
static __always_inline __u64 ig_inflight_flow(const __u8 *caddr, __u16 cport, __u16 sport)
{
	return ig_inflight_owner(ig_inflight_flow_hash(caddr, cport, sport, ig_cfg.hash_seed), 0);
}

/* A scan and the records it walks, in the caller's frame: the callbacks
 * read the records' pointer from there (a spilled map pointer keeps its type
 * across the call), so their own frames hold nothing. */
struct ig_inflight_walk {
	struct ig_inflight *t;
	struct ig_inflight_scan sc;
};

static long ig_inflight_take_cb(__u32 i, void *ctx)
{
	struct ig_inflight_walk *w = ctx;

	return ig_inflight_take_step(w->t, i, &w->sc);
}

static long ig_inflight_back_cb(__u32 i, void *ctx)
{
	struct ig_inflight_walk *w = ctx;

	return ig_inflight_back_step(w->t, i, &w->sc);
}

static long ig_inflight_give_cb(__u32 i, void *ctx)
{
	struct ig_inflight_walk *w = ctx;

	return ig_inflight_give_step(w->t, i, &w->sc);
}

/* A take of n records for owner in the slot's table (0: taken, or no cap). */
static __always_inline int ig_inflight_take_walk(__u32 slot, __u64 owner, __u32 n, __u64 now)
{
	struct ig_inflight_walk w = {};
	struct ig_inflight_cfg *c;

	slot &= IG_MAX_SLOTS - 1;
	c = bpf_map_lookup_elem(&inflight_cfg, &slot);
	w.t = bpf_map_lookup_elem(&inflight, &slot);
	if (!c || !w.t || !c->max)
		return 0;
	w.sc.owner = owner;
	w.sc.now = ig_inflight_stamp(now);
	w.sc.ticks = ig_inflight_ticks(c->timeout_s);
	w.sc.max = c->max < IG_INFLIGHT_MAX ? c->max : IG_INFLIGHT_MAX;
	w.sc.want = (__u16)(n < IG_INFLIGHT_MAX ? n : IG_INFLIGHT_MAX);
	w.sc.per_client = (__u16)(c->per_client < IG_INFLIGHT_MAX ? c->per_client : IG_INFLIGHT_MAX);
	w.sc.fair = (c->flags & IG_INFLIGHT_F_FAIR) &&
		    ig_inflight_contended(w.t->refused, owner, w.sc.now);
	if (w.sc.fair) /* the refused one waits: its share counts */
		w.sc.active = 1ULL << ((w.t->refused >> IG_INFLIGHT_CLIENT_SHIFT) & 63);
	bpf_loop(IG_INFLIGHT_MAX, ig_inflight_take_cb, &w, 0);
	if (ig_inflight_took(&w.sc))
		return 0;
	/* for want of a free record (not of a share: ig_inflight_contended());
	 * a plain store: the last of racing refusals is as good as any */
	if (w.sc.done < w.sc.want)
		w.t->refused = owner | w.sc.now;
	bpf_loop(IG_INFLIGHT_MAX, ig_inflight_back_cb, &w, 0);
	return 1;
}

/* A give of up to n of owner's connection's records: how many. */
static __always_inline int ig_inflight_give_walk(__u32 slot, __u64 owner, __u32 n)
{
	struct ig_inflight_walk w = {};
	struct ig_inflight_cfg *c;

	slot &= IG_MAX_SLOTS - 1;
	c = bpf_map_lookup_elem(&inflight_cfg, &slot);
	w.t = bpf_map_lookup_elem(&inflight, &slot);
	if (!c || !w.t || !n)
		return 0;
	w.sc.owner = owner;
	w.sc.max = c->max < IG_INFLIGHT_MAX ? c->max : IG_INFLIGHT_MAX;
	w.sc.want = (__u16)(n < IG_INFLIGHT_MAX ? n : IG_INFLIGHT_MAX);
	bpf_loop(IG_INFLIGHT_MAX, ig_inflight_give_cb, &w, 0);
	return (int)w.sc.done;
}

/*
 * Global functions, each one frame over its walk's callback: the charge
 * stage's call chain has 96 bytes of stack left, the egress entry's little
 * more, so no function here calls another.
 */

/* Give back up to n of the connection's records (IG_INFLIGHT_MAX: all). */
__noinline int ig_inflight_give_n(__u32 slot, __u64 owner, __u32 n)
{
	return ig_inflight_give_walk(slot, owner, n);
}

/*
 * Before the charge: the n requests of segment p take a record each on a
 * port with IG_POL_F_INFLIGHT. 1 when the port (or the client's share of
 * it) is full, else 0 (records taken, or no cap). Before, not after: a
 * request the cap refuses spends nothing of its buckets, and one the buckets
 * refuse gives its records back (ig_inflight_undo()). The client of the
 * share is the address, or the one a PROXY header named (an API key's
 * requests count for their address: a made-up key would buy a new share).
 * What was taken waits in the scratch: a count kept in the stage's frame
 * across the charge would push its call chains past 512 bytes of stack.
 */
__noinline int ig_inflight_admit(const struct ig_pkt *p, __u32 n)
{
	__u32 idx, zero = 0;
	struct ig_hier_scratch *s = bpf_map_lookup_elem(&hier_scratch, &zero);
	struct ig_client_scratch *cs;
	struct ig_policy *pol;
	const __u8 *who;
	__u64 owner;

	if (!p || !s)
		return 0;
	s->inf_taken = 0;
	idx = IG_PORT_INDEX(p->proto, p->dport);
	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!pol || !(pol->flags & IG_POL_F_INFLIGHT) || pol->unit != IG_UNIT_REQUEST ||
	    p->proto != IG_PROTO_TCP || !n)
		return 0;
	who = p->saddr;
	cs = bpf_map_lookup_elem(&client_scratch, &zero);
	if (cs && IG_POL_KEY(pol->flags) == IG_KEY_PROXY && cs->kind == IG_CK_PROXY &&
	    cs->seq == p->seq && cs->sport == p->sport)
		who = cs->client;
	owner = ig_inflight_owner(ig_inflight_flow(p->saddr, p->sport, p->dport),
				  ig_inflight_client_hash(who, ig_cfg.hash_seed));
	/* made before the clock's helper call: clang would load the words
	 * first and keep all of them across it, spilled */
	asm volatile("" : "+r"(owner));
	if (ig_inflight_take_walk(pol->slot, owner, n, ig_now()))
		return 1;
	s->inf_taken = n;
	return 0;
}

/* After the charge refused what ig_inflight_admit() let through: its
 * records back (any n of the connection's: they are alike). */
__noinline int ig_inflight_undo(const struct ig_pkt *p)
{
	__u32 idx, zero = 0, n;
	struct ig_hier_scratch *s = bpf_map_lookup_elem(&hier_scratch, &zero);
	struct ig_policy *pol;

	__u64 owner;

	if (!p || !s || !s->inf_taken)
		return 0;
	n = s->inf_taken;
	s->inf_taken = 0;
	owner = ig_inflight_flow(p->saddr, p->sport, p->dport);
	asm volatile("" : "+r"(owner)); /* as in ig_inflight_admit() */
	idx = IG_PORT_INDEX(p->proto, p->dport);
	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!pol)
		return 0;
	return ig_inflight_give_walk(pol->slot, owner, n);
}

/* The client ends its connection (a FIN or RST from it): all its records
 * back. The hash is made here, so that the caller's frame (the entry's)
 * keeps none of it. */
__noinline int ig_inflight_end(const struct ig_pkt *p, __u32 slot)
{
	__u64 owner;

	if (!p)
		return 0;
	owner = ig_inflight_flow(p->saddr, p->sport, p->dport);
	asm volatile("" : "+r"(owner)); /* as in ig_inflight_admit() */
	return ig_inflight_give_walk(slot, owner, IG_INFLIGHT_MAX);
}

/* The responses that ended in the reply segment the reader just read (its
 * scratch's out; the connection's owner in the fair-share scratch): a
 * record back for each. */
__noinline int ig_inflight_replied(void)
{
	struct ig_hier_scratch *s;
	struct ig_resp_io *io;
	__u32 zero = 0, n;

	s = bpf_map_lookup_elem(&hier_scratch, &zero);
	io = bpf_map_lookup_elem(&resp_scratch, &zero);
	if (!s || !io)
		return 0;
	n = io->out.responses[0] + io->out.responses[1] + io->out.responses[2];
	if (!n)
		return 0;
	return ig_inflight_give_walk(s->tok_slot, s->tok_owner, n);
}

#endif /* IG_INFLIGHT_H */
