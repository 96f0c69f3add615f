/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The limiter core shared by the XDP and TC entry points: parse, find the
 * port's policy, charge the source's bucket, and reach a verdict through
 * ig_verdict(). The entry points only map that verdict to their hook's codes.
 */
#ifndef IG_CORE_H
#define IG_CORE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/hdr.h"
#include "pure/parse.h"
#include "pure/bucket.h"
#include "pure/sources.h"
#include "cfg.h"
#include "ctx.h"
#include "maps.h"
#include "counters.h"
#include "stages.h"
#include "reply_tx.h"
#include "breaker.h"
#include "fairshare.h"
#include "inflight.h"
#include "request.h"
#include "reply_429.h"
#include "cookie.h"

/* Bytes of the skb the program can read: `pkt - pkt_end` in asm, as in
 * ctx_wire_len(). */
static __always_inline __u32 ig_ctx_linear(struct __sk_buff *skb)
{
	long n = (long)ctx_data(skb, IG_HOOK_TC);

	asm volatile("%0 -= %1" : "+r"(n) : "r"(ctx_data_end(skb, IG_HOOK_TC)));
	return (__u32)-n;
}

/* Charge the source's bucket (or window), taking a way in its set on first
 * sight. A global function: inlined, its way scan's calls made the entry
 * program spill into a stack frame that, under the request stage's, passed
 * BPF's 512 bytes. */
__noinline int ig_charge_source(const struct ig_pkt *p, const struct ig_policy *pol, __u64 cost,
				__u64 now)
{
	__u64 ident;
	struct ig_source_set *set;

	if (!p || !pol)
		return IG_CHARGE_CONTENDED;
	set = ig_source_set_of(p->saddr, p->dport, p->proto, &ident);
	if (!set)
		return IG_CHARGE_CONTENDED;
	return ig_source_charge(set, ident, now, cost, pol->rate, pol->burst,
				IG_POL_ALGO(pol->flags));
}

/*
 * Over the limit with action reject: may a reply go out? 0 when the host-wide
 * budget pays for one (recorded in rf), else the reason to drop. Inline,
 * before the reply stage is called: in a flood past the budget, most packets
 * end here.
 */
static __always_inline int ig_reject_admit(void *ctx, enum ig_hook hook, struct ig_refund *rf)
{
	__u32 zero = 0;
	struct ig_globals *g = bpf_map_lookup_elem(&globals, &zero);
	struct ig_bucket *rs = bpf_map_lookup_elem(&reject_state, &zero);

	/* a GRO'd train cannot become one reply: checked first, so it spends
	 * none of the budget */
	if (hook == IG_HOOK_TC && ig_ctx_u32(ctx, struct __sk_buff, gso_segs) > 1)
		return IG_R_DROP_REPLY_FAIL;
	if (!g || !rs)
		return IG_R_DROP_BUDGET;
	if (ig_bucket_charge_rf(&rs->tat, ig_now(), 1, g->reject_rate, g->reject_burst, rf) !=
	    IG_CHARGE_OK)
		return IG_R_DROP_BUDGET;
	return 0;
}

/* The reply itself, once the budget has paid for it: none to a sender that
 * may not be answered (ig_reply_allowed()), whose token the entry gives back. */
static __always_inline int ig_reply(void *ctx, enum ig_hook hook, const struct ig_pkt *p)
{
	int err;

	if (!ig_reply_may(ctx, hook, p))
		return IG_R_DROP_NO_REPLY;
	if (p->proto == IG_PROTO_TCP)
		err = ig_reply_rst(ctx, hook, p);
	else
		err = ig_reply_unreach(ctx, hook, p);
	return err ? IG_R_DROP_REPLY_FAIL : IG_R_REJECT;
}

IG_STAGE(ig_stage_request, ig_stage_parse, return ig_req_in(ctx, hook, p, (__u32)arg & 3))
IG_STAGE(ig_stage_cookie, ig_stage_parse, return ig_cookie_in(ctx, hook, p))

/* The fast path: IG_OUT(slot, a reason or a request for a stage), see
 * stages.h. *now is set when the clock was read (a charge), for the caller to
 * reuse. */
static __always_inline int ig_limit(void *ctx, enum ig_hook hook, struct ig_pkt *p, __u64 *now,
				    __u32 *cost_out)
{
	void *data = ctx_data(ctx, hook);
	void *data_end = ctx_data_end(ctx, hook);
	struct ig_policy *pol;
	__u32 idx, slot;
	__u64 cost;
	int res;

	res = ig_parse(data, data_end, p);
	/* an skb's headers past its linear part (pulled to IG_TC_PULL) are
	 * unread, not malformed: the stack would read them */
	if (res == IG_PARSE_BAD && hook == IG_HOOK_TC && ig_ctx_linear(ctx) < ctx_wire_len(ctx, hook))
		return IG_OUT(0, IG_R_DROP_UNREAD);
	if (res != IG_PARSE_OK)
		return IG_OUT(0, ig_parse_reason(res));

	idx = IG_PORT_INDEX(p->proto, p->dport);
	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!pol || !pol->slot)
		return IG_OUT(0, IG_R_PASS_OTHER);
	slot = pol->slot;
	if (slot >= IG_MAX_SLOTS)
		slot = 0;
	/* max-conns: an ACK may complete a handshake, a RST end a connection */
	if ((pol->flags & IG_POL_F_CONNS) && p->proto == IG_PROTO_TCP &&
	    !(p->tcp_flags & IG_TCP_SYN))
		slot |= IG_OUT_CLOSE >> 8;

	switch (pol->unit) {
	case IG_UNIT_REQUEST:
		/* UDP has no requests: as `packet` */
		if (p->proto != IG_PROTO_TCP) {
			cost = 1;
			break;
		}
		/* a pure ACK costs a compare, unless a 429 went out lately (it
		 * may be the refused client's, which closes the server's side) */
		if (p->ip_len <= (__u32)p->payload_off - p->l3_off &&
		    !(p->tcp_flags & (IG_TCP_FIN | IG_TCP_RST)) && !ig_req_teardown_due(pol->slot))
			return IG_OUT(slot, IG_R_PASS_FREE);
		/* the client ends its connection: what it has in flight is given
		 * back (the server drops a request whose client is gone). Here,
		 * not in the request stage, whose frame leaves no room for the
		 * scan's; and whether or not the connection's state is still
		 * there (an evicted one's records would wait for their timeout) */
		if ((p->tcp_flags & (IG_TCP_FIN | IG_TCP_RST)) && (pol->flags & IG_POL_F_INFLIGHT))
			ig_inflight_end(p, pol->slot);
		res = IG_CALL_STAGE(ig_stage_request, ctx, hook, (int)IG_POL_KEY(pol->flags));
		if ((res & 0xff) != IG_NEED_CHARGE)
			return IG_OUT(slot, res & 0xff);
		cost = ((__u32)res >> 8) & 0xff;
		slot |= IG_OUT_REQ >> 8;
		break;
	case IG_UNIT_CONN:
		/* Only a connection's opening SYN pays; on UDP a `conn` unit makes
		 * no sense and is treated as `packet`. */
		if (p->proto == IG_PROTO_TCP &&
		    (p->tcp_flags & (IG_TCP_SYN | IG_TCP_ACK)) != IG_TCP_SYN) {
			/* action 429: the rest of a connection its SYN cookie
			 * opened (only a compare unless a cookie went out lately) */
			if (pol->action == IG_ACTION_429 && ig_req_teardown_due(pol->slot)) {
				res = IG_CALL_STAGE(ig_stage_cookie, ctx, hook, 0);
				if (res == IG_NEED_REJECT)
					slot |= IG_OUT_REQ >> 8;
				return IG_OUT(slot, res & 0xff);
			}
			return IG_OUT(slot, IG_R_PASS_FREE);
		}
		if (pol->action == IG_ACTION_429 && p->proto == IG_PROTO_TCP)
			slot |= IG_OUT_COOKIE >> 8;
		cost = 1;
		break;
	case IG_UNIT_BYTE:
		/* a GRO aggregate stands for segments that each carried headers */
		cost = ctx_wire_len(ctx, hook) + (ctx_wire_packets(ctx, hook) - 1) * p->payload_off;
		break;
	default:
		cost = ctx_wire_packets(ctx, hook);
		break;
	}

	if (pol->flags & IG_POL_F_HIER) {
		*cost_out = (__u32)cost;
		return IG_OUT(slot, IG_NEED_HIER);
	}
	*now = ig_now();
	res = ig_charge_source(p, pol, cost, *now);
	if (res == IG_CHARGE_OK)
		return IG_OUT(slot, IG_R_PASS_ADMITTED);
	if (res == IG_CHARGE_CONTENDED)
		return IG_OUT(slot, IG_R_DROP_CONTENDED);
	/* a refused charge wrote nothing, so a dry-run port counts exactly what
	 * enforcing would refuse */
	if (pol->flags & IG_POL_F_DRY_RUN)
		return IG_OUT(slot, pol->action != IG_ACTION_DROP ? IG_R_DRY_REJECT : IG_R_DRY_DROP);
	if (pol->action == IG_ACTION_DROP)
		return IG_OUT(slot, IG_R_DROP_LIMIT);
	return IG_OUT(slot, IG_NEED_REJECT);
}

/* The charge stage's refusal in the port's terms (action, dry run). */
static __always_inline int ig_hier_stage(const struct ig_pkt *p, int cost)
{
	int out = ig_inflight_admit(p, (__u32)cost) ? IG_OUT(IG_L_INFLIGHT, IG_NEED_REFUSE)
						      : ig_hier_charge(p, (__u32)cost, ig_now());
	int r = out & 0xff, level = (out >> 8) & 0xff;
	__u32 idx = IG_PORT_INDEX(p->proto, p->dport);
	struct ig_policy *pol;

	/* a request that does not go on gives back the records it took (one
	 * that passes a dry run keeps them: its response gives them back) */
	if (r != IG_R_PASS_ADMITTED && r != IG_R_PASS_ALLOW && r != IG_NEED_REFUSE)
		ig_inflight_undo(p);
	if (r != IG_NEED_REFUSE && r != IG_R_DROP_DENY)
		return out;
	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!pol)
		return IG_OUT(level, IG_R_DROP_LIMIT);
	if (pol->flags & IG_POL_F_DRY_RUN)
		r = r == IG_NEED_REFUSE && pol->action != IG_ACTION_DROP ? IG_R_DRY_REJECT
									   : IG_R_DRY_DROP;
	else if (r == IG_NEED_REFUSE)
		r = pol->action != IG_ACTION_DROP ? IG_NEED_REJECT : IG_R_DROP_LIMIT;
	if (r != IG_R_DRY_REJECT && r != IG_R_DRY_DROP)
		ig_inflight_undo(p);
	return IG_OUT(level, r);
}

IG_STAGE(ig_stage_reject, ig_parse_here, return ig_reply(ctx, hook, p))
/* its own stage, parsed by the global parser: with the reject stage's inline
 * parse, the builders' loops were verified once per kind of frame (past the
 * verifier's limit) */
IG_STAGE(ig_stage_429, ig_stage_parse,
	 return !ig_reply_may(ctx, hook, p) ? IG_R_DROP_NO_REPLY :
		ig_reply_429(ctx, hook, p, arg) ? IG_R_DROP_REPLY_FAIL : IG_R_REJECT_HTTP)
IG_STAGE(ig_stage_req_refused, ig_stage_parse, return ig_req_refused(p, arg))
IG_STAGE(ig_stage_synack, ig_stage_parse,
	 return !ig_reply_may(ctx, hook, p) ? IG_R_DROP_NO_REPLY :
		ig_cookie_synack(ctx, hook, p) ? IG_R_DROP_REPLY_FAIL : IG_R_REJECT_COOKIE)
IG_STAGE(ig_stage_charge, ig_stage_parse, return ig_hier_stage(p, arg))
IG_STAGE(ig_stage_close, ig_stage_parse, return ig_conns_in(ctx, hook, p, arg))
IG_STAGE(ig_stage_steer, ig_parse_here, return ig_breaker_in(ctx, hook, p, (enum ig_reason)arg))
/* A sampled drop event: the frame is parsed again (for a reply, the frame
 * now holds it, and the client is its destination). */
static __always_inline int ig_emit_event(const struct ig_pkt *p, int arg)
{
	struct ig_event ev = {};
	int reason = arg & 0xff;
	int reply = ig_reason_verdict((enum ig_reason)reason) == IG_V_TX;
	__u32 zero = 0, idx;
	struct ig_client_scratch *cs = bpf_map_lookup_elem(&client_scratch, &zero);
	struct ig_policy *pol;

	__builtin_memcpy(ev.source, reply ? p->daddr : p->saddr, 16);
	ev.port = reply ? p->sport : p->dport;
	ev.proto = p->proto;
	ev.reason = (__u8)reason;
	ev.level = (__u8)(arg >> 8);
	/* charged to a key or a PROXY header's client: that is who (the
	 * scratch is another packet's unless the port reads clients so; a
	 * policy lookup is affordable at one event per CPU per interval) */
	idx = IG_PORT_INDEX(p->proto, ev.port);
	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (cs && cs->charged && pol && IG_POL_KEY(pol->flags) != IG_KEY_SOURCE &&
	    cs->sport == (reply ? p->dport : p->sport))
		__builtin_memcpy(ev.source, cs->client, 16);
	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	return reason;
}

IG_STAGE(ig_stage_event, ig_stage_parse, return ig_emit_event(p, arg))
IG_STAGE(ig_stage_rst, ig_stage_parse,
	 return !ig_reply_may(ctx, hook, p) ? IG_R_DROP_NO_REPLY :
		ig_reply_rst(ctx, hook, p) ? IG_R_DROP_REPLY_FAIL : IG_R_REJECT_OPEN)

enum ig_reply_kind {
	IG_REPLY_LIMIT = 0, /* the limiter's: RST or ICMP unreachable */
	IG_REPLY_OPEN = 1,  /* the breaker's RST */
	IG_REPLY_429 = 2,   /* the limiter's on a `request` port, or to a cookie connection */
	IG_REPLY_SYNACK = 3, /* action 429 on a `conn` port: the SYN's cookie */
};

/* A reply if the budget pays for it; a sender the stage may not answer gets
 * the token back. A refused request's framing is taken back when no 429 goes
 * out (its segment is dropped and comes again), else marked for teardown,
 * before the frame becomes the reply (the stage reads the client's frame). */
static __always_inline int ig_reply_out(void *ctx, enum ig_hook hook, enum ig_reply_kind kind,
					int level)
{
	struct ig_refund rf = {};
	int r = ig_reject_admit(ctx, hook, &rf);

	if (kind == IG_REPLY_429)
		IG_CALL_STAGE(ig_stage_req_refused, ctx, hook, !r);
	if (r)
		return r;
	if (kind == IG_REPLY_OPEN)
		r = IG_CALL_STAGE(ig_stage_rst, ctx, hook, 0);
	else if (kind == IG_REPLY_SYNACK)
		r = IG_CALL_STAGE(ig_stage_synack, ctx, hook, 0);
	else if (kind == IG_REPLY_429) {
		r = IG_CALL_STAGE(ig_stage_429, ctx, hook, level);
		if (r != IG_R_REJECT_HTTP)
			IG_CALL_STAGE(ig_stage_req_refused, ctx, hook, IG_REQ_UNANSWERED);
	} else
		r = IG_CALL_STAGE(ig_stage_reject, ctx, hook, 0);
	if (r == IG_R_DROP_NO_REPLY)
		ig_refund(&rf);
	return r;
}

static __always_inline enum ig_verdict ig_handle(void *ctx, enum ig_hook hook)
{
	__u32 len = ctx_wire_len(ctx, hook);
	struct ig_pkt p;
	__u32 slot, cost = 0, level = IG_L_SOURCE;
	int out, r, req, cookie;
	__u64 now = 0;

	/* clang would otherwise spill the fields a path leaves unset, and the
	 * verifier refuses reading an uninitialised register; p does not escape,
	 * so the stores the parser overwrites are dropped */
	__builtin_memset(&p, 0, sizeof(p));
	p.proto = IG_PROTO_MAX; /* stays so unless the parser finds TCP or UDP */
	out = ig_limit(ctx, hook, &p, &now, &cost);
	req = out & IG_OUT_REQ;
	cookie = out & IG_OUT_COOKIE;
	slot = ((__u32)out >> 8) & (IG_MAX_SLOTS - 1);
	r = out & 0xff;
	if (out & IG_OUT_CLOSE) {
		/* with whether the segment starts requests: see ig_conn_proxy_client() */
		int c = IG_CALL_STAGE(ig_stage_close, ctx, hook, req != 0);

		if (c) { /* a completed handshake refused */
			r = c & 0xff;
			level = ((__u32)c >> 8) & 0xff;
		}
	}
	if (r == IG_NEED_HIER) {
		out = IG_CALL_STAGE(ig_stage_charge, ctx, hook, (int)cost);
		r = out & 0xff;
		level = ((__u32)out >> 8) & 0xff;
	}
	if (r == IG_NEED_REJECT || r == IG_R_DROP_LIMIT || r == IG_R_DRY_DROP ||
	    r == IG_R_DRY_REJECT || r == IG_R_DROP_DENY)
		ig_level_count(slot, level);
	if (r == IG_NEED_REJECT) {
		r = ig_reply_out(ctx, hook, req ? IG_REPLY_429 : cookie ? IG_REPLY_SYNACK : IG_REPLY_LIMIT,
				 (int)level);
	} else if (req &&
		   (r == IG_R_DROP_LIMIT || r == IG_R_DROP_DENY || r == IG_R_DROP_CONTENDED)) {
		/* dropped: counted again when the client sends it again */
		IG_CALL_STAGE(ig_stage_req_refused, ctx, hook, 0);
	} else if (p.proto == IG_PROTO_TCP &&
		   (r == IG_R_PASS_OTHER || r == IG_R_PASS_FREE || r == IG_R_PASS_ADMITTED)) {
		__u32 port = p.dport;
		struct ig_breaker *b = bpf_map_lookup_elem(&breakers, &port);

		/* the inlined array lookup is all a port without a breaker pays */
		if (b && (b->flags & IG_BRK_F_ON)) {
			r = IG_CALL_STAGE(ig_stage_steer, ctx, hook, r);
			/* a refusal is a reply like any other: the budget caps it */
			if (r == IG_NEED_RST)
				r = ig_reply_out(ctx, hook, IG_REPLY_OPEN, 0);
		}
	}
	/* ig_verdict() takes r < IG_R_MAX only */
	if (r < 0 || r >= IG_R_MAX)
		r = IG_R_DROP_REPLY_FAIL;
	if (ig_reason_verdict((enum ig_reason)r) != IG_V_PASS ||
	    (IG_REASON_BIT((__u32)r & 31) & IG_REASONS_DRY)) {
		/* at most one event per CPU per interval: a flood costs the
		 * agent a bounded trickle, and this path one lookup */
		__u32 zero = 0;
		__u64 *last = bpf_map_lookup_elem(&event_gate, &zero);

		if (!now) /* a refusal by the breaker stage: no charge read the clock */
			now = ig_now();
		if (last && now - *last >= IG_EVENT_INTERVAL_NS) {
			*last = now;
			IG_CALL_STAGE(ig_stage_event, ctx, hook, r | (int)(level << 8));
		}
	}
	return ig_verdict(slot, (enum ig_reason)r, len);
}

/* The egress side of fair share (TC only): token charges, freed slots. */
__noinline int ig_stage_egress_tc(struct __sk_buff *ctx, int arg)
{
	struct ig_pkt pkt = {};

	asm volatile("" : : "r"(arg));
	if (!ctx || ig_stage_parse_tc(ctx, &pkt))
		return 0;
	return ig_hier_egress(ctx, &pkt, arg);
}

/* The egress program's core (TC only: XDP has no egress). Steered replies get
 * the dialed port back; the primary's answers feed passive health. */
static __always_inline int ig_handle_egress(struct __sk_buff *skb)
{
	void *data = ctx_data(skb, IG_HOOK_TC);
	void *data_end = ctx_data_end(skb, IG_HOOK_TC);
	struct ig_policy *pol;
	struct ig_pkt p;
	int local, rw, r;
	__u32 idx;

	__builtin_memset(&p, 0, sizeof(p));
	if (ig_parse(data, data_end, &p) != IG_PARSE_OK)
		return TC_ACT_UNSPEC;
	local = ig_ctx_u32(skb, struct __sk_buff, ingress_ifindex) == 0;
	rw = ig_breaker_out(skb, IG_HOOK_TC, &p, local);
	if (rw < 0) {
		/* a reply leaking the fallback's port would only earn a RST */
		ig_verdict(0, IG_R_DROP_STEER_FAIL, ig_ctx_u32(skb, struct __sk_buff, len));
		return TC_ACT_SHOT;
	}
	/* a steered reply now carries the dialed port: the stage reads it back */
	idx = IG_PORT_INDEX(p.proto, p.sport);
	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!(rw > 0 ||
	      (pol && (pol->flags & (IG_POL_F_CONNS | IG_POL_F_TOKENS | IG_POL_F_TIMED)))))
		return TC_ACT_UNSPEC;
	r = ig_stage_egress_tc(skb, ig_opaque((local ? IG_EGRESS_LOCAL : 0) |
					      (rw > 0 ? IG_EGRESS_STEERED : 0)));
	if (r & IG_EGRESS_READ)
		ig_stage_tokens_tc(skb, 0);
	if (r & IG_EGRESS_INFLIGHT)
		ig_inflight_replied();
	return TC_ACT_UNSPEC;
}

/* The edges: the core's verdict in each hook's return codes. */
static __always_inline int ig_xdp_action(enum ig_verdict v)
{
	switch (v) {
	case IG_V_DROP:
		return XDP_DROP;
	case IG_V_TX:
		return XDP_TX;
	default:
		return XDP_PASS;
	}
}

static __always_inline int ig_tc_action(struct __sk_buff *skb, enum ig_verdict v)
{
	switch (v) {
	case IG_V_DROP:
		return TC_ACT_SHOT;
	case IG_V_TX:
		/* out of the device it came in on, like XDP_TX */
		return bpf_redirect(ig_ctx_u32(skb, struct __sk_buff, ifindex), 0);
	default:
		/* UNSPEC, not OK: under tcx, OK would end the chain and skip
		 * whatever runs after us; UNSPEC means "not mine, carry on". */
		return TC_ACT_UNSPEC;
	}
}

#endif /* IG_CORE_H */
