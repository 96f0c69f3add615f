/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Breaker steering, the data-path half. Ingress: a new connection (SYN) to a
 * breaker port is sent to the primary, let through as a half-open probe, sent
 * to the fallback (destination port rewritten) or refused with a RST; every
 * later packet of the connection follows the decision. The decision is kept in
 * `pending` during the handshake and, for a connection sent to the fallback,
 * in `flows` once the client has acknowledged the SYN-ACK: spoofed SYNs fill
 * only `pending`. Egress: replies of steered connections get the dialed port
 * back as their source port, and the primary's answers are counted as passive
 * health, its RSTs only for connections a client really opened.
 */
#ifndef IG_BREAKER_H
#define IG_BREAKER_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/hdr.h"
#include "pure/parse.h"
#include "pure/steer.h"
#include "cfg.h"
#include "ctx.h"
#include "maps.h"
#include "stages.h"

static __always_inline struct ig_health *ig_health_of(__u32 port)
{
	struct ig_health *h = bpf_map_lookup_elem(&health, &port);

	if (!h) {
		struct ig_health zero = {};

		/* NOEXIST: a CPU racing us to create it wins, we use its entry */
		bpf_map_update_elem(&health, &port, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&health, &port);
	}
	return h;
}

/*
 * Where a new connection goes under the breaker's current state. Half-open
 * lets connections through as probes while the budget lasts; the budget is
 * spent when a probe's handshake completes (ig_brk_established), so spoofed
 * SYNs, which never complete, cannot use it up. SYNs that arrive before the
 * budget's last probes complete go to the primary too: at most the handshakes
 * in flight over the budget.
 */
static __always_inline enum ig_route ig_brk_route(struct ig_breaker *b)
{
	enum ig_brk_state st = ig_brk_effective(b);

	if (st == IG_BRK_CLOSED)
		return IG_ROUTE_PRIMARY;
	if (st == IG_BRK_HALF_OPEN && b->probes > 0)
		return IG_ROUTE_PROBE;
	return IG_ROUTE_FALLBACK;
}

static __always_inline enum ig_reason ig_steer_to(void *ctx, enum ig_hook hook,
						  const struct ig_pkt *p, __u16 backend)
{
	if (ctx_rewrite_port(ctx, hook, p->l4_off, 2, ig_htons(p->dport), ig_htons(backend)))
		return IG_R_DROP_STEER_FAIL;
	return IG_R_STEERED;
}

/*
 * The client acknowledged the SYN-ACK of a connection decided at its SYN: it
 * is real. Count it by route, spend a probe, and move a fallback's decision
 * from `pending` to `flows`, where only such connections are, so a flood of
 * spoofed SYNs cannot push it out. `pe` is gone afterwards.
 */
static __always_inline void ig_brk_established(struct ig_steer_scratch *sc, struct ig_breaker *b,
					       const struct ig_pending *pe, __u32 port)
{
	struct ig_health *h = ig_health_of(port);
	__u32 route = pe->route;

	if (h && route < IG_ROUTE_MAX) {
		__u32 i = route;

		asm volatile("" : "+r"(i)); /* the mask lands on the index (see ig_clamp) */
		h->conns[i & 3]++;
	}
	if (route == IG_ROUTE_PROBE && b->probes > 0)
		__sync_fetch_and_add(&b->probes, -1);
	if (route == IG_ROUTE_FALLBACK) {
		__builtin_memset(&sc->flow, 0, sizeof(sc->flow));
		sc->flow.isn = pe->isn;
		sc->flow.dialed = pe->dialed;
		sc->flow.backend = pe->backend;
		sc->flow.route = IG_ROUTE_FALLBACK;
		ig_flow_key_make(&sc->rkey, sc->key.client, sc->key.server, sc->key.client_port,
				 pe->backend, IG_DIR_REPLY);
		bpf_map_update_elem(&flows, &sc->key, &sc->flow, BPF_ANY);
		bpf_map_update_elem(&flows, &sc->rkey, &sc->flow, BPF_ANY);
		bpf_map_delete_elem(&pending, &sc->rkey);
	}
	bpf_map_delete_elem(&pending, &sc->key);
}

/*
 * The ingress stage for a TCP packet the limiter let through (`pass` is the
 * limiter's reason). Returns the reason to count the packet under.
 */
static __always_inline int ig_breaker_in(void *ctx, enum ig_hook hook,
					 const struct ig_pkt *p, enum ig_reason pass)
{
	__u32 port = p->dport, one = 1, zero = 0;
	struct ig_steer_scratch *sc;
	struct ig_pending *pe;
	struct ig_breaker *b;
	struct ig_health *h;
	struct ig_flow *f;
	enum ig_route route;
	int syn;

	b = bpf_map_lookup_elem(&breakers, &port);
	if (!b || !(b->flags & IG_BRK_F_ON))
		return pass;
	sc = bpf_map_lookup_elem(&steer_scratch, &zero);
	if (!sc)
		return pass;

	syn = (p->tcp_flags & (IG_TCP_SYN | IG_TCP_ACK)) == IG_TCP_SYN;
	ig_flow_key_make(&sc->key, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_CLIENT);
	f = bpf_map_lookup_elem(&flows, &sc->key);
	/* the clock is read only for a flow whose server has said FIN */
	if (f && f->fin_ns && ig_now() - f->fin_ns > IG_FLOW_LINGER_NS) {
		ig_flow_key_make(&sc->rkey, p->saddr, p->daddr, p->sport, f->backend, IG_DIR_REPLY);
		bpf_map_delete_elem(&flows, &sc->rkey);
		bpf_map_delete_elem(&flows, &sc->key);
		f = 0;
	}
	/* An established connection sent to the fallback. A SYN on its ports is a
	 * retransmission, a spoofer's, or a new connection after one the server
	 * did not close: all go where it went (the server there sorts them out).
	 * (Entries of other routes only come from older versions, which kept
	 * every decision here.) */
	if (f)
		return f->route == IG_ROUTE_FALLBACK ? ig_steer_to(ctx, hook, p, f->backend) : pass;

	pe = bpf_map_lookup_elem(&pending, &sc->key);
	if (pe && !(pe->flags & IG_PEND_F_BREAKER))
		pe = 0; /* max-conns' own record of a handshake: not a decision */
	if (!syn) {
		/* Not a connection we decided on (it predates the breaker, went to
		 * the primary and completed, or the LRU forgot its handshake):
		 * leave it where it is addressed. */
		if (!pe)
			return pass;
		route = (enum ig_route)pe->route;
		port = pe->backend;
		if (ig_pend_completes(pe, p, ig_tcp_ack_seq(ctx_data(ctx, hook),
							    ctx_data_end(ctx, hook), p->l4_off)))
			ig_brk_established(sc, b, pe, p->dport);
		return route == IG_ROUTE_FALLBACK ? ig_steer_to(ctx, hook, p, (__u16)port) : pass;
	}
	/* a SYN with the same ISN is a retransmission: same decision */
	if (pe && pe->isn == p->seq)
		return pe->route == IG_ROUTE_FALLBACK ? ig_steer_to(ctx, hook, p, pe->backend) : pass;

	route = ig_brk_route(b);
	h = ig_health_of(port);
	if (route == IG_ROUTE_FALLBACK && !b->fallback) {
		if (h)
			h->refused++;
		if (pe)
			bpf_map_delete_elem(&pending, &sc->key);
		return IG_NEED_RST; /* the entry runs the reply stage: stack */
	}

	/* Every decision is kept here until the client completes the handshake,
	 * on every state: the primary's answer to the SYN (a SYN-ACK, or a RST
	 * of refusal) is judged against it on egress. */
	__builtin_memset(&sc->pend, 0, sizeof(sc->pend));
	sc->pend.isn = p->seq;
	sc->pend.dialed = p->dport;
	sc->pend.backend = route == IG_ROUTE_FALLBACK ? b->fallback : p->dport;
	sc->pend.route = (__u8)route;
	sc->pend.flags = IG_PEND_F_BREAKER;
	if (pe && (pe->flags & IG_PEND_F_SYNACK)) {
		/* a new ISN on ports the server has answered: a RST for it is the
		 * kernel resetting that handshake, never a refusal */
		sc->pend.flags |= IG_PEND_F_SYNACK;
		sc->pend.server_isn = pe->server_isn;
	}
	bpf_map_update_elem(&pending, &sc->key, &sc->pend, BPF_ANY);
	if (route != IG_ROUTE_FALLBACK)
		return route == IG_ROUTE_PROBE ? IG_R_PASS_PROBE : pass;

	ig_flow_key_make(&sc->rkey, p->saddr, p->daddr, p->sport, sc->pend.backend, IG_DIR_REPLY);
	bpf_map_update_elem(&pending, &sc->rkey, &sc->pend, BPF_ANY);
	port = sc->pend.backend;
	{
		__u32 *seen = bpf_map_lookup_elem(&fallback_ports, &port);

		/* written once per port, not per SYN: no line bouncing */
		if (seen && !*seen)
			*seen = one;
	}
	return ig_steer_to(ctx, hook, p, sc->pend.backend);
}

/* The server answered a SYN (`key`: the connection's IG_DIR_CLIENT key) with
 * a SYN-ACK: the number the client's ACK must acknowledge. */
static __always_inline void ig_pend_synack(const struct ig_flow_key *key, __u32 server_isn)
{
	struct ig_pending *pe = bpf_map_lookup_elem(&pending, key);

	if (pe) {
		pe->server_isn = server_isn;
		pe->flags |= IG_PEND_F_SYNACK;
	}
}

/*
 * Is a RST the primary sent a failure of the backend? Only for a connection a
 * client really opened. A RST without ACK answers a segment that carried one,
 * for a connection the host does not have: a bare ACK from anyone, spoofed or
 * stale, so never. With ACK and a sequence number, it is an established
 * socket aborting its connection (the kernel's resets for segments without a
 * socket carry seq 0). With ACK and seq 0 it answers a segment without ACK: a
 * failure only when that was a SYN the breaker decided on and the primary
 * refused it: it had not answered it with a SYN-ACK, and the kernel holds no
 * socket for it, not even a listener (an in-window second SYN makes the
 * kernel reset a handshake it did answer; anyone can send that one).
 */
static __always_inline int ig_brk_rst_failed(void *ctx, const struct ig_pkt *p,
					     const struct ig_flow_key *key, __u32 ack)
{
	struct bpf_sock_tuple t;
	struct ig_pending *pe;
	struct bpf_sock *sk;
	__u32 n;

	if (!(p->tcp_flags & IG_TCP_ACK))
		return 0;
	if (p->seq)
		return 1;
	pe = bpf_map_lookup_elem(&pending, key);
	if (!pe || (pe->flags & (IG_PEND_F_BREAKER | IG_PEND_F_SYNACK)) != IG_PEND_F_BREAKER ||
	    ack != pe->isn + 1)
		return 0;
	n = ig_sock_tuple(p, 1, 0, &t);
	sk = bpf_skc_lookup_tcp(ctx, &t, n, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 1;
	bpf_sk_release(sk);
	return 0;
}

/*
 * The egress stage: everything the server sends. Never drops; returns 1 when
 * the frame was rewritten, -1 when a rewrite failed.
 */
static __always_inline int ig_breaker_out(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
					  int local)
{
	void *data = ctx_data(ctx, hook);
	void *end = ctx_data_end(ctx, hook);
	int synack = (p->tcp_flags & (IG_TCP_SYN | IG_TCP_ACK)) == (IG_TCP_SYN | IG_TCP_ACK);
	__u32 port = p->sport;
	struct ig_flow_key key;
	struct ig_breaker *b;
	struct ig_pending *pe;
	struct ig_flow *f;
	__u16 dialed;
	__u32 *seen;

	if (p->proto != IG_PROTO_TCP)
		return 0;

	b = bpf_map_lookup_elem(&breakers, &port);
	if (b && (b->flags & IG_BRK_F_ON)) {
		ig_flow_key_make(&key, p->daddr, p->saddr, p->dport, p->sport, IG_DIR_CLIENT);
		/* Passive health: what the primary itself answers. Frames that did
		 * not start on this host (our own RSTs redirected from ingress,
		 * forwarded traffic) say nothing about the backend. */
		if (local) {
			struct ig_health *h = ig_health_of(port);

			if (h && (p->tcp_flags & IG_TCP_RST)) {
				if (ig_brk_rst_failed(ctx, p, &key, ig_tcp_ack_seq(data, end, p->l4_off)))
					h->rst++;
			} else if (h) {
				__u8 *s = (__u8 *)data + ig_clamp(p->payload_off, 1023);
				int c = ig_http_status_class(s, end);

				if (c >= 0 && c < IG_HTTP_MAX)
					h->http[c]++;
			}
		}
		if (synack)
			ig_pend_synack(&key, p->seq);
		/* Connections of the breaker port: forget them as they end. */
		if (p->tcp_flags & IG_TCP_RST) {
			bpf_map_delete_elem(&flows, &key);
			bpf_map_delete_elem(&pending, &key);
		} else if (p->tcp_flags & IG_TCP_FIN) {
			f = bpf_map_lookup_elem(&flows, &key);
			if (f && !f->fin_ns)
				f->fin_ns = ig_now();
		}
	}

	seen = bpf_map_lookup_elem(&fallback_ports, &port);
	if (!seen || !*seen)
		return 0;
	/* a reply of a connection sent here: established (`flows`), or in its
	 * handshake (`pending`) */
	ig_flow_key_make(&key, p->daddr, p->saddr, p->dport, p->sport, IG_DIR_REPLY);
	f = bpf_map_lookup_elem(&flows, &key);
	if (f) {
		dialed = f->dialed;
	} else {
		pe = bpf_map_lookup_elem(&pending, &key);
		if (!pe)
			return 0;
		dialed = pe->dialed;
	}
	if (p->tcp_flags & IG_TCP_RST) {
		bpf_map_delete_elem(&flows, &key);
		bpf_map_delete_elem(&pending, &key);
		key.dir = IG_DIR_CLIENT;
		key.server_port = dialed;
		bpf_map_delete_elem(&flows, &key);
		bpf_map_delete_elem(&pending, &key);
	} else if (synack) {
		key.dir = IG_DIR_CLIENT;
		key.server_port = dialed;
		ig_pend_synack(&key, p->seq);
	} else if (f && (p->tcp_flags & IG_TCP_FIN) && !f->fin_ns) {
		__u64 now = ig_now();
		struct ig_flow *cf;

		f->fin_ns = now;
		key.dir = IG_DIR_CLIENT;
		key.server_port = dialed;
		cf = bpf_map_lookup_elem(&flows, &key);
		if (cf)
			cf->fin_ns = now;
	}
	if (ctx_rewrite_port(ctx, hook, p->l4_off, 0, ig_htons(p->sport), ig_htons(dialed)))
		return -1;
	return 1;
}

#endif /* IG_BREAKER_H */
