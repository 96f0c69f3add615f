/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Breaker steering, the data-path half. Ingress: a new connection (SYN) to a
 * breaker port is sent to the primary, let through as a half-open probe, sent
 * to the fallback (destination port rewritten) or refused with a RST; the
 * decision is kept in `flows` and every later packet of the connection follows
 * it. Egress: replies of steered connections get the dialed port back as their
 * source port, and the primary's answers are counted as passive health.
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

/* Where a new connection goes under the breaker's current state. */
static __always_inline enum ig_route ig_brk_route(struct ig_breaker *b)
{
	enum ig_brk_state st = ig_brk_effective(b);

	if (st == IG_BRK_CLOSED)
		return IG_ROUTE_PRIMARY;
	if (st == IG_BRK_HALF_OPEN && b->probes > 0 &&
	    __sync_fetch_and_add(&b->probes, -1) > 0)
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
 * The ingress stage for a TCP packet the limiter let through (`pass` is the
 * limiter's reason). Returns the reason to count the packet under.
 */
static __always_inline int ig_breaker_in(void *ctx, enum ig_hook hook,
					 const struct ig_pkt *p, enum ig_reason pass)
{
	__u32 port = p->dport, one = 1, zero = 0;
	struct ig_steer_scratch *sc;
	struct ig_breaker *b;
	struct ig_health *h;
	struct ig_flow *f;
	enum ig_route route;
	int syn;

	b = bpf_map_lookup_elem(&breakers, &port);
	if (!b || !(b->flags & IG_BRK_F_ON))
		return pass;
	/* the keys and the new flow live in per-CPU scratch: stack (maps.h) */
	sc = bpf_map_lookup_elem(&steer_scratch, &zero);
	if (!sc)
		return pass;

	syn = (p->tcp_flags & (IG_TCP_SYN | IG_TCP_ACK)) == IG_TCP_SYN;
	ig_flow_key_make(&sc->key, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_CLIENT);
	f = bpf_map_lookup_elem(&flows, &sc->key);
	/* the clock is read only for a flow whose server has said FIN */
	if (f && f->fin_ns && ig_now() - f->fin_ns > IG_FLOW_LINGER_NS) {
		bpf_map_delete_elem(&flows, &sc->key);
		f = 0;
	}
	/* a SYN with the same ISN is a retransmission: same decision */
	if (f && (!syn || f->isn == p->seq)) {
		if (f->route == IG_ROUTE_FALLBACK)
			return ig_steer_to(ctx, hook, p, f->backend);
		return pass;
	}
	/* Not a connection we decided on (it predates the breaker, or the LRU
	 * forgot it): leave it where it is addressed. */
	if (!syn)
		return pass;

	route = ig_brk_route(b);
	h = ig_health_of(port);
	if (route == IG_ROUTE_FALLBACK && !b->fallback) {
		if (h)
			h->refused++;
		if (f)
			bpf_map_delete_elem(&flows, &sc->key);
		return IG_NEED_RST; /* the entry runs the reply stage: stack */
	}
	if (h && route < IG_ROUTE_MAX)
		h->conns[route]++;

	__builtin_memset(&sc->flow, 0, sizeof(sc->flow));
	sc->flow.isn = p->seq;
	sc->flow.dialed = p->dport;
	sc->flow.backend = route == IG_ROUTE_FALLBACK ? b->fallback : p->dport;
	sc->flow.route = route;
	bpf_map_update_elem(&flows, &sc->key, &sc->flow, BPF_ANY);
	if (route != IG_ROUTE_FALLBACK)
		return route == IG_ROUTE_PROBE ? IG_R_PASS_PROBE : pass;

	ig_flow_key_make(&sc->rkey, p->saddr, p->daddr, p->sport, sc->flow.backend, IG_DIR_REPLY);
	bpf_map_update_elem(&flows, &sc->rkey, &sc->flow, BPF_ANY);
	port = sc->flow.backend;
	{
		__u32 *seen = bpf_map_lookup_elem(&fallback_ports, &port);

		/* written once per port, not per SYN: no line bouncing */
		if (seen && !*seen)
			*seen = one;
	}
	return ig_steer_to(ctx, hook, p, sc->flow.backend);
}

/*
 * The egress stage: everything the server sends. Never drops; returns 1 when
 * the frame was rewritten, -1 when a rewrite failed.
 */
static __always_inline int ig_breaker_out(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
					  int local)
{
	__u32 port = p->sport;
	struct ig_flow_key key;
	struct ig_breaker *b;
	struct ig_flow *f;
	__u32 *seen;

	if (p->proto != IG_PROTO_TCP)
		return 0;

	/* Passive health: what the primary itself answers. Frames that did not
	 * start on this host (our own RSTs redirected from ingress, forwarded
	 * traffic) say nothing about the backend. */
	b = bpf_map_lookup_elem(&breakers, &port);
	if (local && b && (b->flags & IG_BRK_F_ON)) {
		struct ig_health *h = ig_health_of(port);

		if (h) {
			if (p->tcp_flags & IG_TCP_RST) {
				h->rst++;
			} else {
				void *data = ctx_data(ctx, hook);
				void *end = ctx_data_end(ctx, hook);
				__u8 *s = (__u8 *)data + ig_clamp(p->payload_off, 1023);
				int c = ig_http_status_class(s, end);

				if (c >= 0 && c < IG_HTTP_MAX)
					h->http[c]++;
			}
		}
	}

	/* Unsteered connections to the breaker port: forget them as they end. */
	if (b && (b->flags & IG_BRK_F_ON) && (p->tcp_flags & (IG_TCP_RST | IG_TCP_FIN))) {
		ig_flow_key_make(&key, p->daddr, p->saddr, p->dport, p->sport, IG_DIR_CLIENT);
		if (p->tcp_flags & IG_TCP_RST) {
			bpf_map_delete_elem(&flows, &key);
		} else {
			f = bpf_map_lookup_elem(&flows, &key);
			if (f && !f->fin_ns)
				f->fin_ns = ig_now();
		}
	}

	seen = bpf_map_lookup_elem(&fallback_ports, &port);
	if (!seen || !*seen)
		return 0;
	ig_flow_key_make(&key, p->daddr, p->saddr, p->dport, p->sport, IG_DIR_REPLY);
	f = bpf_map_lookup_elem(&flows, &key);
	if (!f)
		return 0;
	{
		__u16 dialed = f->dialed;

		if (p->tcp_flags & IG_TCP_RST) {
			bpf_map_delete_elem(&flows, &key);
			key.dir = IG_DIR_CLIENT;
			key.server_port = dialed;
			bpf_map_delete_elem(&flows, &key);
		} else if ((p->tcp_flags & IG_TCP_FIN) && !f->fin_ns) {
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
	}
	return 1;
}

#endif /* IG_BREAKER_H */
