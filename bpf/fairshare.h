/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fair share: the charge of a port with IG_POL_F_HIER, level by level (enum
 * ig_level): the source's tier, its own bucket (claimed through the port's
 * newcomer budget when it has no state), its prefix, the whole port, its
 * LLM-token budget, its connection count. Every level must admit; a level
 * that refuses has the levels below it refunded (struct ig_refund), so a
 * refused packet is charged nowhere and creates no state.
 *
 * Runs in a BPF global function (the charge stage): the limiter's inline fast
 * path stays what a port without these levels pays.
 */
#ifndef IG_FAIRSHARE_H
#define IG_FAIRSHARE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/hdr.h"
#include "pure/parse.h"
#include "pure/bucket.h"
#include "pure/sources.h"
#include "pure/steer.h"
#include "cfg.h"
#include "ctx.h"
#include "inflight.h"
#include "maps.h"
#include "proxy.h"
#include "request.h" /* ig_req_kernel_cookie() */
#include "stages.h"
#include "tokens.h"

/* Per-CPU room for the stage's keys (maps.h): it shares 512 bytes of stack
 * with the entry point. */
static __always_inline struct ig_hier_scratch *ig_hier_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&hier_scratch, &zero);
}

static __always_inline void ig_client_key_make(struct ig_client_key *k, const __u8 *addr,
					       __u16 port, __u8 proto)
{
	__builtin_memcpy(k->addr, addr, 16);
	k->port = port;
	k->proto = proto;
	k->_pad = 0;
}

enum { IG_RF_SOURCE, IG_RF_NEWCOMER, IG_RF_PREFIX, IG_RF_PORT, IG_RF_MAX };

static __always_inline void ig_refund_all(struct ig_refund *rf)
{
	ig_refund(&rf[IG_RF_SOURCE]);
	ig_refund(&rf[IG_RF_NEWCOMER]);
	ig_refund(&rf[IG_RF_PREFIX]);
	ig_refund(&rf[IG_RF_PORT]);
}

/*
 * max-conns. A connection is counted when its handshake completes: the client
 * acknowledges the server's SYN-ACK, whose sequence number the egress program
 * kept in `pending`; only a client that received the SYN-ACK knows it. So SYNs
 * the kernel drops (a bad checksum, SYN+FIN, a v4-mapped IPv6 source),
 * spoofed SYNs and refused ones are never counted. A SYN is refused while its
 * client holds max-conns already; SYNs sent together before any completed are
 * refused at their ACK (the reply stage resets the connection). A connection
 * is given back when the server sends FIN or RST, or when the client sends a
 * RST the kernel will act on (ig_rst_accepted); a client's count goes at zero.
 * A full table refuses (fails closed) rather than admit uncounted.
 */
#define IG_CONN_DEAD (-(1LL << 62)) /* a count at zero on its way out of the table */
#define IG_EEXIST 17

static __always_inline int ig_conn_full(struct ig_hier_scratch *s, const struct ig_pkt *p,
					__u32 max)
{
	__s64 *cnt;

	ig_client_key_make(&s->client, p->saddr, p->dport, p->proto);
	cnt = bpf_map_lookup_elem(&conn_counts, &s->client);
	return cnt && *(volatile __s64 *)cnt >= (__s64)max;
}

/* One of s->client's slots back; its entry goes with the last one. */
static __always_inline void ig_conn_put(struct ig_hier_scratch *s)
{
	__s64 *cnt = bpf_map_lookup_elem(&conn_counts, &s->client);

	if (!cnt || __sync_fetch_and_add(cnt, -1) != 1)
		return;
	/* Zero: delete it, unless an opener took a slot since. Marked dead
	 * first, so an opener on another CPU waits for the delete instead of
	 * counting into an entry about to go. */
	if (__sync_val_compare_and_swap(cnt, 0, IG_CONN_DEAD) == 0)
		bpf_map_delete_elem(&conn_counts, &s->client);
}

/* A slot for s->client: 0, or -1 when it holds `max` or the table is full. */
static __always_inline int ig_conn_take(struct ig_hier_scratch *s, __u32 max)
{
	__s64 one = 1;
	int i;

#pragma unroll
	for (i = 0; i < IG_CAS_TRIES; i++) {
		__s64 *cnt = bpf_map_lookup_elem(&conn_counts, &s->client);
		__s64 v;

		if (!cnt) {
			long err = bpf_map_update_elem(&conn_counts, &s->client, &one, BPF_NOEXIST);

			if (err != -IG_EEXIST)
				return err ? -1 : 0;
			continue; /* made by another CPU meanwhile */
		}
		v = *(volatile __s64 *)cnt;
		if (v >= (__s64)max)
			return -1;
		if (v >= 0 && __sync_val_compare_and_swap(cnt, v, v + 1) == v)
			return 0;
	}
	return -1;
}

/* Count connection `c` (s->flow: its IG_DIR_COUNTED key) for s->client: 0,
 * or -1 when refused. A connection already counted costs nothing more. */
static __always_inline int ig_conn_count(struct ig_hier_scratch *s, const struct ig_conn *c,
					 __u32 max)
{
	long err;

	if (bpf_map_lookup_elem(&conns, &s->flow))
		return 0;
	if (ig_conn_take(s, max))
		return -1;
	err = bpf_map_update_elem(&conns, &s->flow, c, BPF_NOEXIST);
	if (!err)
		return 0;
	ig_conn_put(s);
	return err == -IG_EEXIST ? 0 : -1; /* counted by another CPU, or full */
}

/* A counted connection ends: whoever deletes its entry first gives the slot
 * back, so a connection is uncounted exactly once; to the client its PROXY
 * header named when it was counted for that one (one lookup a connection,
 * at its end). */
static __always_inline void ig_conn_close(struct ig_hier_scratch *s, const __u8 *client,
					  const __u8 *server, __u16 cport, __u16 port, __u8 proto)
{
	struct ig_proxy_conn *pc;

	ig_flow_key_make(&s->flow, client, server, cport, port, IG_DIR_COUNTED);
	if (bpf_map_delete_elem(&conns, &s->flow))
		return;
	ig_client_key_make(&s->client, client, port, proto);
	/* written over in place: a chosen pointer kept live took the egress
	 * chain past 512 bytes of stack */
	pc = bpf_map_lookup_elem(&conn_clients, &s->flow);
	if (pc) {
		__builtin_memcpy(s->client.addr, pc->client, 16);
		bpf_map_delete_elem(&conn_clients, &s->flow);
	}
	ig_conn_put(s);
}

/* Is p's source a trusted load balancer (`proxy_from`)? The key goes in the
 * scratch: on the stack it took the close stage's chain past 512 bytes. */
static __always_inline int ig_from_balancer(struct ig_hier_scratch *s, const struct ig_pkt *p)
{
	s->lpm.prefixlen = 128;
	__builtin_memcpy(s->lpm.addr, p->saddr, 16);
	return bpf_map_lookup_elem(&proxy_from, &s->lpm) != NULL;
}

/*
 * Whom a completing handshake on a proxy-source port is counted for: its
 * source (0), or the client its PROXY header named, with *pc_out set (1), or
 * not yet (-1). A trusted balancer's connection is counted at its first
 * segment that starts requests (`requests`, from the request stage, which
 * reads the segment before this one and keeps the header's client): its
 * header has not come at the handshake's ACK, and HAProxy sends it alone,
 * before the client's first bytes; a refusal there is the 429 every SDK
 * retries, where a reset of the balancer's connection was seen as a
 * connection error (or HAProxy retried it). Until then the connection stays
 * pending, uncounted: a client behind a balancer that opens connections and
 * sends nothing holds none of the server's work (the balancer's own maxconn
 * bounds those). One that never sends a header is refused, uncounted.
 */
static __always_inline int ig_conn_proxy_client(struct ig_hier_scratch *s,
						const struct ig_pkt *p, int requests,
						struct ig_proxy_conn **pc_out)
{
	struct ig_proxy_conn *pc;

	if (!ig_from_balancer(s, p))
		return 0; /* a direct client: its own address */
	ig_flow_key_make(&s->flow, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_PROXY);
	pc = bpf_map_lookup_elem(&proxy_conns, &s->flow);
	if (!pc || !requests)
		return -1;
	if (!pc->family)
		return 0; /* LOCAL: the balancer's own connection */
	*pc_out = pc;
	return 1;
}

/* The kernel's socket of the client's connection p belongs to (s->flow holds
 * its IG_DIR_CLIENT key), to be released; NULL when there is none. The
 * socket of a connection a breaker sent to its fallback is the fallback's. */
static __always_inline struct bpf_sock *ig_client_sock(void *ctx, struct ig_hier_scratch *s,
						       const struct ig_pkt *p,
						       struct bpf_sock_tuple *t)
{
	struct ig_flow *f = bpf_map_lookup_elem(&flows, &s->flow);

	return bpf_skc_lookup_tcp(ctx, t, ig_sock_tuple(p, 0, f ? f->backend : 0, t),
				  BPF_F_CURRENT_NETNS, 0);
}

/*
 * Will the kernel act on this RST from the client? Only when its sequence
 * number is exactly the socket's rcv_nxt: in the window but not exact earns a
 * challenge ACK (RFC 5961), outside it nothing, and either way the connection
 * stays. Without a connection's socket on these ports (none, a listener, a
 * time-wait, a new handshake) whatever was counted there is over anyway.
 */
static __always_inline int ig_rst_accepted(void *ctx, struct ig_hier_scratch *s,
					   const struct ig_pkt *p)
{
	struct bpf_sock_tuple t;
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	int ends = 1;

	ig_flow_key_make(&s->flow, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_CLIENT);
	sk = ig_client_sock(ctx, s, p, &t);
	if (!sk)
		return 1;
	if (sk->state != BPF_TCP_LISTEN && sk->state != BPF_TCP_TIME_WAIT &&
	    sk->state != BPF_TCP_NEW_SYN_RECV) {
		tp = bpf_skc_to_tcp_sock(sk);
		if (tp)
			ends = tp->rcv_nxt == p->seq;
	}
	bpf_sk_release(sk);
	return ends;
}

/* A named tier's rate and burst on p's port, if it has them there. */
static __always_inline void ig_tier_rate(__u32 tier, const struct ig_pkt *p, __u64 *rate,
					 __u64 *burst)
{
	struct ig_tier_key tk = {};
	struct ig_rate *r;

	tk.tier = tier;
	tk.port = p->dport;
	tk.proto = p->proto;
	r = bpf_map_lookup_elem(&tier_policy, &tk);
	if (r) {
		*rate = r->rate;
		*burst = r->burst;
	}
}

/* The tier of address addr: its rate and burst are replaced by the tier's on
 * this port, if the tier has one (and `named`: an API key's rate is its
 * key's, the address's allow and deny still hold). IG_R_MAX when nothing
 * decides yet. */
static __always_inline int ig_tier_apply(struct ig_hier_scratch *s, const struct ig_pkt *p,
					 const __u8 *addr, int named, __u64 *rate, __u64 *burst)
{
	struct ig_tier *t;

	s->lpm.prefixlen = 128;
	__builtin_memcpy(s->lpm.addr, addr, 16);
	t = bpf_map_lookup_elem(&tiers, &s->lpm);
	if (!t)
		return IG_R_MAX;
	if (t->kind == IG_TIER_ALLOW)
		return IG_OUT(0, IG_R_PASS_ALLOW);
	if (t->kind == IG_TIER_DENY)
		return IG_OUT(IG_L_DENY, IG_R_DROP_DENY);
	if (named)
		ig_tier_rate(t->id, p, rate, burst);
	return IG_R_MAX;
}

/*
 * Who a charge is for (ig_abi.h's enum ig_key_mode): the client the request
 * stage left for this segment (struct ig_client_scratch), or p's source
 * address. *keyed when an API key is; on an api-key port a request without
 * a key the operator loaded (or any key, with IG_POL_F_ANY_KEY) is charged
 * to its address at the anonymous rate, a revoked key is refused (-1).
 */
static __always_inline const __u8 *ig_hier_client(const struct ig_pkt *p,
						  const struct ig_policy *pol,
						  struct ig_client_scratch *cs, __u32 *tier,
						  int *keyed)
{
	__u32 mode = IG_POL_KEY(pol->flags);
	struct ig_key *k;

	*keyed = 0;
	*tier = 0;
	if (mode == IG_KEY_SOURCE || !cs || cs->seq != p->seq || cs->sport != p->sport)
		return p->saddr;
	if (mode == IG_KEY_API && cs->kind == IG_CK_KEY) {
		k = bpf_map_lookup_elem(&keys, &cs->hash);
		if (k && (k->flags & IG_KEY_F_DENY))
			return 0;
		if (!k && !(pol->flags & IG_POL_F_ANY_KEY))
			return p->saddr;
		*keyed = 1;
		*tier = k ? k->tier : 0;
		ig_key_client(cs->client, cs->hash);
		return cs->client;
	}
	if (mode == IG_KEY_PROXY && cs->kind == IG_CK_PROXY)
		return cs->client;
	return p->saddr;
}

/* Is the segment's client in debt by a period's worth or more (the balance
 * is <= 0)? On a proxy-source port the client its connection's PROXY header
 * named owns the budget its replies spend (ig_hier_egress); an API key's is
 * its address's: replies carry no key. A call of its own, the choice made
 * inside: in the charge stage, the chosen address kept live took its chain
 * of calls past 512 bytes of stack. */
__noinline int ig_token_debt(struct ig_hier_scratch *s, const struct ig_pkt *p,
				    int proxy, __u64 window, __u64 now)
{
	struct ig_client_scratch *cs;
	struct ig_token_state *ts;
	__u32 zero = 0;

	if (!s || !p)
		return 0;
	cs = proxy ? bpf_map_lookup_elem(&client_scratch, &zero) : NULL;
	if (cs && cs->kind == IG_CK_PROXY && cs->seq == p->seq && cs->sport == p->sport)
		ig_client_key_make(&s->client, cs->client, p->dport, p->proto);
	else
		ig_client_key_make(&s->client, p->saddr, p->dport, p->proto);
	ts = bpf_map_lookup_elem(&tokens, &s->client);
	return ts && ts->tat >= now + window;
}

/* A refusal at `level`: what the levels below were charged goes back. */
static __always_inline int ig_refuse(struct ig_refund *rf, __u32 level)
{
	ig_refund_all(rf);
	return IG_OUT(level, IG_NEED_REFUSE);
}

/* The charge stage's answer: IG_OUT(the refusing level, IG_R_PASS_ADMITTED,
 * IG_R_PASS_ALLOW, IG_R_DROP_DENY, IG_R_DROP_CONTENDED or IG_NEED_REFUSE). */
static __always_inline int ig_hier_charge(const struct ig_pkt *p, __u64 cost, __u64 now)
{
	__u32 idx = IG_PORT_INDEX(p->proto, p->dport), slot, set_idx;
	struct ig_hier_scratch *s = ig_hier_scratch();
	struct ig_source_set *set;
	struct ig_port_state *ps;
	struct ig_limits *lim;
	struct ig_refund rf[IG_RF_MAX];
	struct ig_policy *pol;
	struct ig_client_scratch *cs;
	__u64 rate, burst, h, ident;
	const __u8 *who;
	__u32 zero = 0, tier;
	int res, keyed;

	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!s || !pol || !pol->slot)
		return IG_OUT(0, IG_R_DROP_CONTENDED);
	slot = pol->slot & (IG_MAX_SLOTS - 1);
	lim = bpf_map_lookup_elem(&port_limits, &slot);
	ps = bpf_map_lookup_elem(&port_state, &slot);
	if (!lim || !ps)
		return IG_OUT(0, IG_R_DROP_CONTENDED);
	__builtin_memset(rf, 0, sizeof(rf));

	rate = pol->rate;
	burst = pol->burst;
	/* only a port that reads clients looks at the request stage's scratch */
	cs = IG_POL_KEY(pol->flags) != IG_KEY_SOURCE ? bpf_map_lookup_elem(&client_scratch, &zero)
						     : 0;
	who = ig_hier_client(p, pol, cs, &tier, &keyed);
	if (!who)
		return IG_OUT(IG_L_DENY, IG_R_DROP_DENY);
	/* the address's tier: a PROXY header's client's, else the packet's */
	res = ig_tier_apply(s, p, keyed ? p->saddr : who, !keyed, &rate, &burst);
	if (res != IG_R_MAX)
		return res;
	if (keyed && tier)
		ig_tier_rate(tier, p, &rate, &burst);
	if (!keyed && IG_POL_KEY(pol->flags) == IG_KEY_API) {
		struct ig_key_policy *kp = bpf_map_lookup_elem(&key_policy, &slot);

		if (kp && (kp->flags & IG_KP_F_ANON)) {
			rate = kp->anon_rate;
			burst = kp->anon_burst;
		}
	}
	if (cs && IG_POL_KEY(pol->flags) != IG_KEY_SOURCE && cs->seq == p->seq &&
	    cs->sport == p->sport) {
		/* for the 429's Retry-After and the drop event */
		if (who == p->saddr)
			__builtin_memcpy(cs->client, p->saddr, 16);
		cs->rate = rate;
		cs->burst = burst;
		cs->charged = 1;
	}

	/* blocked by the fleet: nothing is charged, so a blocked source's local
	 * buckets are full when the block ends */
	if (pol->flags & IG_POL_F_FLEET) {
		__u64 *until;

		ig_client_key_make(&s->client, who, p->dport, p->proto);
		until = bpf_map_lookup_elem(&fleet_block, &s->client);
		if (until && *until > now)
			return IG_OUT(IG_L_FLEET, IG_NEED_REFUSE);
	}

	/* the source; a source without state first pays the newcomer budget */
	set = ig_source_set_of(who, p->dport, p->proto, &ident);
	if (!set)
		return IG_OUT(0, IG_R_DROP_CONTENDED);
	res = ig_source_charge_rf(set, ident, now, cost, rate, burst, IG_POL_ALGO(pol->flags),
				  lim->newcomer_rate ? IG_CLAIM_PAID : IG_CLAIM, &rf[IG_RF_SOURCE]);
	if (res == IG_CHARGE_NEW) {
		if (ig_bucket_charge_rf(&ps->newcomer_tat, now, 1, lim->newcomer_rate,
					lim->newcomer_burst, &rf[IG_RF_NEWCOMER]) != IG_CHARGE_OK)
			return ig_refuse(rf, IG_L_NEWCOMER);
		res = ig_source_charge_rf(set, ident, now, cost, rate, burst, IG_POL_ALGO(pol->flags),
					  IG_CLAIM | IG_CLAIM_PAID, &rf[IG_RF_SOURCE]);
	}
	if (res == IG_CHARGE_FULL)
		return ig_refuse(rf, IG_L_TABLE);
	if (res == IG_CHARGE_CONTENDED) {
		ig_refund_all(rf);
		return IG_OUT(IG_L_SOURCE, IG_R_DROP_CONTENDED);
	}
	if (res != IG_CHARGE_OK)
		return ig_refuse(rf, IG_L_SOURCE);

	/* a key has no prefix: its client's bits are a hash */
	if (lim->prefix_rate && !keyed) {
		/* the client's family: a PROXY header's may not be the packet's */
		int v6 = who[10] != 0xff || who[11] != 0xff || who[0] | who[8] | who[9];
		__u32 len = v6 ? (lim->prefix_v6 ? lim->prefix_v6 : IG_DEFAULT_PREFIX_V6)
				    : 96 + (lim->prefix_v4 ? lim->prefix_v4 : IG_DEFAULT_PREFIX_V4);
		__u8 *pfx = s->lpm.addr; /* the trie is done with it */

		ig_prefix_of(who, len, pfx);
		/* the length goes into the hash: a /24 and a /16 are two prefixes */
		h = ig_source_hash(pfx, p->dport, p->proto, ig_cfg.hash_seed ^ ((__u64)len << 56));
		ident = ig_source_ident(h, p->dport, p->proto);
		set_idx = (__u32)h & ig_cfg.prefix_set_mask;
		set = bpf_map_lookup_elem(&prefixes, &set_idx);
		if (!set) {
			ig_refund_all(rf);
			return IG_OUT(IG_L_PREFIX, IG_R_DROP_CONTENDED);
		}
		res = ig_source_charge_rf(set, ident, now, cost, lim->prefix_rate, lim->prefix_burst,
					  IG_POL_ALGO(pol->flags), IG_CLAIM, &rf[IG_RF_PREFIX]);
		if (res == IG_CHARGE_FULL)
			return ig_refuse(rf, IG_L_TABLE);
		if (res != IG_CHARGE_OK)
			return ig_refuse(rf, IG_L_PREFIX);
	}

	if (lim->port_rate &&
	    ig_limit_charge_rf(&ps->port_tat, now, cost, lim->port_rate, lim->port_burst,
			       IG_POL_ALGO(pol->flags), &rf[IG_RF_PORT]) != IG_CHARGE_OK)
		return ig_refuse(rf, IG_L_PORT);

	if (lim->tokens_per_min &&
	    ig_token_debt(s, p, IG_POL_KEY(pol->flags) == IG_KEY_PROXY,
			  ig_token_window(lim->tokens_per_min), now))
		return ig_refuse(rf, IG_L_TOKENS);

	if (lim->max_conns && p->proto == IG_PROTO_TCP &&
	    (p->tcp_flags & (IG_TCP_SYN | IG_TCP_ACK)) == IG_TCP_SYN &&
	    ig_conn_full(s, p, lim->max_conns))
		return ig_refuse(rf, IG_L_CONNS);

	if (pol->flags & IG_POL_F_FLEET) {
		__u64 *n, zero = 0;

		ig_client_key_make(&s->client, who, p->dport, p->proto);
		n = bpf_map_lookup_elem(&fleet_counts, &s->client);
		if (!n) {
			bpf_map_update_elem(&fleet_counts, &s->client, &zero, BPF_NOEXIST);
			n = bpf_map_lookup_elem(&fleet_counts, &s->client);
		}
		if (n)
			__sync_fetch_and_add(n, cost);
	}
	return IG_OUT(0, IG_R_PASS_ADMITTED);
}

/*
 * A segment to a max-conns port whose connection `conns` has not counted and
 * `pending` does not hold. The record its handshake waited in may be gone:
 * `pending` is an LRU that every SYN-ACK the server sends adds to, so a flood
 * of spoofed SYNs pushes records out, and it is not pinned, so a reload loses
 * them. Let through uncounted, such a segment opened connections past
 * max-conns (0.14.1 and before). The kernel's socket tells what the segment
 * is, looked up only here (established counted connections stop at `conns`):
 * - a request socket whose SYN-ACK this ACK acknowledges (`snt_isn`, which a
 *   spoofer never saw): a handshake completing. Its record is made again and
 *   it is counted as ever: 1.
 * - a trusted balancer's established connection on a proxy-source port, in a
 *   segment that starts requests: one whose count waited for its first
 *   request (ig_conn_proxy_client). The socket vouches for the handshake: 1.
 * - a listener whose SYN cookie this ACK carries (the kernel's, under a SYN
 *   flood or with tcp_syncookies = 2): a handshake completing without a
 *   request socket: 1.
 * - anything else passes uncounted, 0: a connection older than the port's
 *   max-conns, one a dry run let through uncounted, time-wait, and an ACK
 *   the kernel will not take (no connection, a wrong number: a spoofer's),
 *   which it resets or ignores itself. Nothing is refused here, so spoofed
 *   ACKs spend none of the reply budget and count as no refusal.
 * s->flow holds the connection's IG_DIR_CLIENT key, and is kept.
 */
static __always_inline int ig_pend_remake(void *ctx, enum ig_hook hook, struct ig_hier_scratch *s,
					  const struct ig_pkt *p, const struct ig_policy *pol,
					  int requests, __u32 ack)
{
	struct ig_req_scratch *rs;
	struct ig_pending fresh = {};
	struct bpf_sock_tuple t;
	struct tcp_request_sock *rq;
	struct bpf_sock *sk;
	int state, ret = 0;

	if ((p->tcp_flags & (IG_TCP_ACK | IG_TCP_SYN | IG_TCP_RST)) != IG_TCP_ACK)
		return 0;
	sk = ig_client_sock(ctx, s, p, &t);
	if (!sk)
		return 0;
	state = sk->state;
	if (state == BPF_TCP_LISTEN) {
		rs = ig_req_scratch(); /* its header copies, free in this stage */
		if (rs && ig_req_kernel_cookie(ctx, hook, p, rs, sk)) {
			fresh.isn = p->seq - 1;
			ret = 1;
		}
	} else if (state == BPF_TCP_NEW_SYN_RECV) {
		rq = bpf_skc_to_tcp_request_sock(sk);
		if (rq && ack == rq->snt_isn + 1) {
			fresh.isn = rq->rcv_isn;
			ret = 1;
		}
	} else if (state == BPF_TCP_ESTABLISHED && requests &&
		   IG_POL_KEY(pol->flags) == IG_KEY_PROXY && ig_from_balancer(s, p)) {
		fresh.isn = p->seq - 1;
		ret = 1;
	}
	bpf_sk_release(sk);
	if (!ret)
		return 0;
	fresh.server_isn = ack - 1;
	fresh.flags = IG_PEND_F_SYNACK | IG_PEND_F_CONNS;
	return !bpf_map_update_elem(&pending, &s->flow, &fresh, BPF_ANY);
}

/*
 * The conns stage: a TCP segment without SYN to a max-conns port. A RST may
 * end a counted connection; an ACK may complete a handshake, which counts the
 * connection. Returns 0, or IG_OUT(IG_L_CONNS, reason) when the client
 * holds max-conns already (or a table is full): IG_NEED_REJECT, the reply
 * stage resets the connection whatever the port's action (the client has
 * shown it sees our packets, and a dropped ACK would leave it waiting), or
 * IG_R_DRY_REJECT on a dry run. The handshake stays pending when refused, so
 * the client's next segment is refused again.
 */
static __always_inline int ig_conns_in(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
				       int requests)
{
	__u32 idx = IG_PORT_INDEX(p->proto, p->dport), slot;
	struct ig_hier_scratch *s = ig_hier_scratch();
	struct ig_conn c = {};
	struct ig_pending *pe;
	struct ig_policy *pol;
	struct ig_limits *lim;
	int out = 0;
	__u32 ack;

	if (!s)
		return 0;
	if (p->tcp_flags & IG_TCP_RST) {
		if (ig_rst_accepted(ctx, s, p))
			ig_conn_close(s, p->saddr, p->daddr, p->sport, p->dport, p->proto);
		return 0;
	}
	/* counted: nothing to do here, in the one lookup a segment the stage
	 * made before (in `pending`), which a handshake's ACK now makes second */
	ig_flow_key_make(&s->flow, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_COUNTED);
	if (bpf_map_lookup_elem(&conns, &s->flow))
		return 0;
	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!pol)
		return 0;
	ack = ig_tcp_ack_seq(ctx_data(ctx, hook), ctx_data_end(ctx, hook), p->l4_off);
	ig_flow_key_make(&s->flow, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_CLIENT);
	pe = bpf_map_lookup_elem(&pending, &s->flow);
	if (!pe && ig_pend_remake(ctx, hook, s, p, pol, requests, ack))
		pe = bpf_map_lookup_elem(&pending, &s->flow);
	if (!pe || !(pe->flags & IG_PEND_F_CONNS) || !ig_pend_completes(pe, p, ack))
		return 0;
	slot = pol->slot & (IG_MAX_SLOTS - 1);
	lim = bpf_map_lookup_elem(&port_limits, &slot);
	if (lim && lim->max_conns) {
		struct ig_proxy_conn *pc = NULL;
		int who = 0;

		if (IG_POL_KEY(pol->flags) == IG_KEY_PROXY)
			who = ig_conn_proxy_client(s, p, requests, &pc);

		if (who < 0)
			return 0;
		c.isn = pe->isn;
		c.since_ns = ig_now();
		ig_flow_key_make(&s->flow, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_COUNTED);
		ig_client_key_make(&s->client, pc ? pc->client : p->saddr, p->dport, p->proto);
		/* written before the count: an end racing it on another CPU
		 * must find whose slot to give back */
		if (pc && bpf_map_update_elem(&conn_clients, &s->flow, pc, BPF_ANY))
			return IG_OUT(IG_L_CONNS, (pol->flags & IG_POL_F_DRY_RUN) ? IG_R_DRY_REJECT
										 : IG_NEED_REJECT);
		if (ig_conn_count(s, &c, lim->max_conns)) {
			if (pc)
				bpf_map_delete_elem(&conn_clients, &s->flow);
			if (!(pol->flags & IG_POL_F_DRY_RUN))
				return IG_OUT(IG_L_CONNS, IG_NEED_REJECT);
			out = IG_OUT(IG_L_CONNS, IG_R_DRY_REJECT); /* passed uncounted */
		}
		ig_flow_key_make(&s->flow, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_CLIENT);
	}
	/* counted (or max-conns is off now): a breaker's decision stays for the
	 * breaker stage, which runs next */
	pe->flags &= ~IG_PEND_F_CONNS;
	if (!(pe->flags & IG_PEND_F_BREAKER))
		bpf_map_delete_elem(&pending, &s->flow);
	return out;
}

/* The server answered a SYN to a max-conns port: keep the number the client's
 * ACK must acknowledge (the breaker's entry, when the port has one). */
static __always_inline void ig_conns_synack(struct ig_hier_scratch *s, const struct ig_pkt *p,
					    __u32 ack)
{
	struct ig_pending *pe, fresh = {};

	ig_flow_key_make(&s->flow, p->daddr, p->saddr, p->dport, p->sport, IG_DIR_CLIENT);
	pe = bpf_map_lookup_elem(&pending, &s->flow);
	if (pe) {
		pe->server_isn = p->seq;
		pe->flags |= IG_PEND_F_SYNACK | IG_PEND_F_CONNS;
		return;
	}
	fresh.isn = ack - 1;
	fresh.server_isn = p->seq;
	fresh.flags = IG_PEND_F_SYNACK | IG_PEND_F_CONNS;
	bpf_map_update_elem(&pending, &s->flow, &fresh, BPF_ANY);
}

/* ig_hier_egress(): the reply is to be read for its tokens or times */
#define IG_EGRESS_READ 1
/* and the responses that end in it give their requests' records back */
#define IG_EGRESS_INFLIGHT 2
/* its arg: the reply is the server's own (not one the data path sent from
 * ingress, whose 429 would add to the very debt it announces); it was
 * steered (a fallback's, the dialed port put back) */
#define IG_EGRESS_LOCAL 0x1
#define IG_EGRESS_STEERED 0x2

/* What the egress program does for a fair-share port's reply: the token
 * charge and the reading for times (of the server's own replies: see
 * IG_EGRESS_LOCAL); for a
 * SYN-ACK, what the client's ACK must acknowledge; for a server's FIN or
 * RST, the connection's slot back. */
static __always_inline int ig_hier_egress(struct __sk_buff *skb, const struct ig_pkt *p, int arg)
{
	__u32 idx = IG_PORT_INDEX(p->proto, p->sport), slot, len, off, mode;
	struct ig_hier_scratch *s = ig_hier_scratch();
	int charge, timed, read;
	struct ig_limits *lim;
	struct ig_policy *pol;

	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!s || !pol || !pol->slot)
		return 0;
	slot = pol->slot & (IG_MAX_SLOTS - 1);
	lim = bpf_map_lookup_elem(&port_limits, &slot);
	if (!lim)
		return 0;
	if ((pol->flags & IG_POL_F_CONNS) && p->proto == IG_PROTO_TCP) {
		if (p->tcp_flags & (IG_TCP_FIN | IG_TCP_RST)) {
			ig_conn_close(s, p->daddr, p->saddr, p->dport, p->sport, p->proto);
		} else if ((p->tcp_flags & IG_TCP_SYN) && lim->max_conns) {
			void *data = ctx_data(skb, IG_HOOK_TC);

			ig_conns_synack(s, p, ig_tcp_ack_seq(data, ctx_data_end(skb, IG_HOOK_TC),
							     p->l4_off));
		}
	}
	if (!(arg & IG_EGRESS_LOCAL))
		return 0;
	charge = (pol->flags & IG_POL_F_TOKENS) && lim->tokens_per_min;
	/* a steered reply is the fallback's: its times are not the port's */
	timed = (pol->flags & IG_POL_F_TIMED) && !(arg & IG_EGRESS_STEERED) &&
		p->proto == IG_PROTO_TCP;
	if (!charge && !timed)
		return 0;
	/* skb->len: a TSO train's header still says one segment */
	len = ig_ctx_u32(skb, struct __sk_buff, len);
	off = p->proto == IG_PROTO_TCP ? p->payload_off : p->l4_off + 8;
	if (len <= off)
		return 0;
	mode = IG_POL_COUNT(pol->flags);
	read = charge && p->proto == IG_PROTO_TCP && mode < IG_TC_BYTES;
	if (charge) {
		ig_client_key_make(&s->client, p->daddr, p->sport, p->proto);
		/* on a proxy-source port the client the connection's header
		 * named pays (one lookup a reply segment, on those ports only;
		 * written over the key in place: a pointer kept across it took
		 * the egress chain past 512 bytes of stack) */
		if (IG_POL_KEY(pol->flags) == IG_KEY_PROXY && p->proto == IG_PROTO_TCP) {
			ig_flow_key_make(&s->flow, p->daddr, p->saddr, p->dport, p->sport,
					 IG_DIR_HTTP);
			ig_proxy_client(&s->flow, s->client.addr);
		}
	}
	if (charge && !read)
		ig_tokens_spend(&s->client, lim, len - off, ig_now());
	if (read || timed) {
		/* the request side's key of this connection (tokens.h) */
		ig_flow_key_make(&s->flow, p->daddr, p->saddr, p->dport, p->sport, IG_DIR_HTTP);
		s->tok_seq = p->seq;
		s->tok_off = off;
		s->tok_len = len - off;
		s->tok_slot = slot;
		s->tok_mode = (read ? mode | IG_TOK_CHARGE : IG_RESP_TIMES_ONLY) |
			      (timed ? IG_TOK_TIMED : 0);
		/* a response that ends gives its request's record back (one
		 * reader for both: requests in flight need the port timed);
		 * from the entry, ig_inflight_replied(): the reader's chain has
		 * no stack left for the scan's frame */
		if (timed && (pol->flags & IG_POL_F_INFLIGHT)) {
			s->tok_owner = ig_inflight_flow(p->daddr, p->dport, p->sport);
			return IG_EGRESS_READ | IG_EGRESS_INFLIGHT;
		}
		return IG_EGRESS_READ;
	}
	return 0;
}

/* The reply segment ig_hier_egress() left in the scratch, read for its
 * tokens (called from the egress entry itself: the reading's calls go four
 * frames deep, which the stage's own frame would push past 512 bytes). */
__noinline int ig_stage_tokens_tc(struct __sk_buff *skb, int arg)
{
	struct ig_hier_scratch *s = ig_hier_scratch();
	struct ig_limits *lim;
	__u32 slot;

	asm volatile("" : : "r"(arg));
	if (!skb || !s)
		return 0;
	slot = s->tok_slot & (IG_MAX_SLOTS - 1);
	lim = bpf_map_lookup_elem(&port_limits, &slot);
	if (lim)
		ig_tokens_count(skb, &s->client, lim, slot, s->tok_mode, s->tok_seq, s->tok_off,
				s->tok_len, ig_now());
	return 0;
}

#endif /* IG_FAIRSHARE_H */
