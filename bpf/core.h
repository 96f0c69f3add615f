/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The limiter core shared by the XDP and TC entry points: parse, find the
 * port's policy, charge the source's bucket, and reach a verdict through
 * ig_verdict(). The entry points only map that verdict to their hook's codes.
 */
#ifndef IG_CORE_H
#define IG_CORE_H

#include "ig_abi.h"
#include "ctx.h"
#include "parse.h"
#include "bucket.h"
#include "sources.h"
#include "maps.h"
#include "counters.h"
#include "reply_tx.h"

/* uapi <linux/pkt_cls.h> values; vmlinux.h carries no #defines. */
#ifndef TC_ACT_UNSPEC
#define TC_ACT_UNSPEC (-1)
#define TC_ACT_SHOT 2
#endif

/* Load-time switches (see struct ig_config); the loader fills them in. */
const volatile struct ig_config ig_cfg = {
	.clock = IG_CLOCK_COARSE,
	.set_mask = IG_DEFAULT_SETS - 1, /* matches maps.h until the loader resizes */
	.prefix_set_mask = IG_DEFAULT_PREFIX_SETS - 1,
};

/* Time source for IG_CLOCK_TEST only: tests set it through the skeleton. */
__u64 ig_test_now_ns;

/*
 * bpf_ktime_get_ns() costs ~40 ns on this class of VM, a third of the whole
 * budget. Jiffies are free to read and a tick (4 ms at HZ=250) is finer than a
 * `conn` limit ever needs: the error is one tick of refill, i.e. below one unit
 * for any rate up to HZ units/s. Only charges read the clock.
 */
static __always_inline __u64 ig_now(void)
{
	if (ig_cfg.clock == IG_CLOCK_TICK)
		return bpf_jiffies64() * ig_cfg.tick_ns;
	if (ig_cfg.clock == IG_CLOCK_TEST)
		return ig_test_now_ns;
	return bpf_ktime_get_coarse_ns();
}

/* Charge the source's bucket, taking a way in its set on first sight. */
static __always_inline int ig_charge_source(const struct ig_pkt *p, const struct ig_policy *pol,
					    __u64 cost, __u64 now)
{
	struct ig_source_set *set;
	__u64 h;
	__u32 idx;

	h = ig_source_hash(p->saddr, p->dport, p->proto, ig_cfg.hash_seed);
	idx = (__u32)h & ig_cfg.set_mask;
	set = bpf_map_lookup_elem(&sources, &idx);
	if (!set)
		return IG_CHARGE_CONTENDED;
	return ig_source_charge(set, ig_source_ident(h, p->dport, p->proto), now, cost,
				pol->rate, pol->burst);
}

/*
 * Over the limit with action reject: may a reply go out? 0 when the host-wide
 * budget pays for one, else the reason to drop. Inline, before the reply
 * stage is called: in a flood past the budget, most packets end here.
 */
static __always_inline int ig_reject_admit(void *ctx, enum ig_hook hook)
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
	if (ig_bucket_charge(&rs->tat, ig_now(), 1, g->reject_rate, g->reject_burst) != IG_CHARGE_OK)
		return IG_R_DROP_BUDGET;
	return 0;
}

/* The reply itself, once the budget has paid for it. */
static __always_inline int ig_reply(void *ctx, enum ig_hook hook, const struct ig_pkt *p)
{
	int err;

	if (p->proto == IG_PROTO_TCP)
		err = ig_reply_rst(ctx, hook, p);
	else
		err = ig_reply_unreach(ctx, hook, p);
	return err ? IG_R_DROP_REPLY_FAIL : IG_R_REJECT;
}

/*
 * The slow paths (a reply, a breaker port) run as BPF global functions, one per
 * hook, called from the entry point, never from each other: BPF gives the
 * whole call chain 512 bytes of stack, and the limiter, the reply builders and
 * the breaker stage each need about half of it. Each global is also verified
 * once on its own, instead of once per path through its caller.
 *
 * A stage parses the frame again rather than being handed the entry's parse:
 * handing the entry's struct ig_pkt down (by address, or copied to the
 * callee) keeps all of it live in the entry's frame, and entry plus stage
 * then exceeded the 512 bytes; the extra parse costs a few ns on the slow
 * paths only.
 *
 * The limiter's result: the reason in the low byte, the stats slot above it;
 * IG_NEED_REJECT asks for the reply stage. IG_NEED_RST is the breaker stage
 * asking for a refusal.
 */
#define IG_NEED_REJECT (IG_R_MAX + 1) /* over the limit, action reject */
#define IG_NEED_RST (IG_R_MAX + 2)    /* breaker open without fallback */
#define IG_NEED_HIER (IG_R_MAX + 4)   /* a fair-share port: the charge stage decides */
#define IG_OUT(slot, r) (((slot) << 8) | (r))
/* and a segment without SYN to a max-conns port: the conns stage (ig_conns_in) */
#define IG_OUT_CLOSE (1 << 16)

#include "breaker.h"
#include "fairshare.h"

/* *now is set when the clock was read (a charge), for the caller to reuse. */
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
	if (res == IG_PARSE_BAD)
		return IG_OUT(0, IG_R_PASS_UNPARSED);
	if (res == IG_PARSE_FRAGMENT)
		return IG_OUT(0, IG_R_PASS_FRAGMENT);
	if (res != IG_PARSE_OK)
		return IG_OUT(0, IG_R_PASS_OTHER);

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
	case IG_UNIT_CONN:
		/* Only a connection's opening SYN pays; on UDP a `conn` unit makes
		 * no sense and is treated as `packet`. */
		if (p->proto == IG_PROTO_TCP &&
		    (p->tcp_flags & (IG_TCP_SYN | IG_TCP_ACK)) != IG_TCP_SYN)
			return IG_OUT(slot, IG_R_PASS_FREE);
		cost = 1;
		break;
	case IG_UNIT_BYTE:
		cost = ctx_wire_len(ctx, hook);
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
		return IG_OUT(slot, pol->action == IG_ACTION_REJECT ? IG_R_DRY_REJECT : IG_R_DRY_DROP);
	if (pol->action != IG_ACTION_REJECT)
		return IG_OUT(slot, IG_R_DROP_LIMIT);
	return IG_OUT(slot, IG_NEED_REJECT);
}

/* One global per hook and stage, given the context only; `arg` is passed to
 * every stage, used or not: clang leaves an argument the callee ignores
 * undefined, and the verifier refuses an undefined argument register. */
#define IG_STAGE(name, body)                                                               \
	__noinline int name##_xdp(struct xdp_md *ctx, int arg)                              \
	{                                                                                   \
		const enum ig_hook hook = IG_HOOK_XDP;                                      \
		struct ig_pkt pkt, *p = &pkt;                                               \
		asm volatile("" : : "r"(arg));                                              \
		if (!ctx || ig_parse(ctx_data(ctx, hook), ctx_data_end(ctx, hook), p))      \
			return IG_R_DROP_REPLY_FAIL;                                        \
		body;                                                                       \
	}                                                                                   \
	__noinline int name##_tc(struct __sk_buff *ctx, int arg)                            \
	{                                                                                   \
		const enum ig_hook hook = IG_HOOK_TC;                                       \
		struct ig_pkt pkt, *p = &pkt;                                               \
		asm volatile("" : : "r"(arg));                                              \
		if (!ctx || ig_parse(ctx_data(ctx, hook), ctx_data_end(ctx, hook), p))      \
			return IG_R_DROP_REPLY_FAIL;                                        \
		body;                                                                       \
	}

/* The charge stage's refusal in the port's terms (action, dry run). */
static __always_inline int ig_hier_stage(const struct ig_pkt *p, int cost)
{
	int out = ig_hier_charge(p, (__u32)cost, ig_now());
	int r = out & 0xff, level = (out >> 8) & 0xff;
	__u32 idx = IG_PORT_INDEX(p->proto, p->dport);
	struct ig_policy *pol;

	if (r != IG_NEED_REFUSE && r != IG_R_DROP_DENY)
		return out;
	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!pol)
		return IG_HIER_OUT(IG_R_DROP_LIMIT, level);
	if (pol->flags & IG_POL_F_DRY_RUN)
		r = r == IG_NEED_REFUSE && pol->action == IG_ACTION_REJECT ? IG_R_DRY_REJECT
									   : IG_R_DRY_DROP;
	else if (r == IG_NEED_REFUSE)
		r = pol->action == IG_ACTION_REJECT ? IG_NEED_REJECT : IG_R_DROP_LIMIT;
	return IG_HIER_OUT(r, level);
}

IG_STAGE(ig_stage_reject, return ig_reply(ctx, hook, p))
IG_STAGE(ig_stage_charge, return ig_hier_stage(p, arg))
IG_STAGE(ig_stage_close, return ig_conns_in(ctx, hook, p))
IG_STAGE(ig_stage_steer, return ig_breaker_in(ctx, hook, p, (enum ig_reason)arg))
/* A sampled drop event: the frame is parsed again (for a reply, the frame
 * now holds it, and the client is its destination). */
static __always_inline int ig_emit_event(const struct ig_pkt *p, int arg)
{
	struct ig_event ev = {};
	int reason = arg & 0xff;
	int reply = ig_reason_verdict((enum ig_reason)reason) == IG_V_TX;

	__builtin_memcpy(ev.source, reply ? p->daddr : p->saddr, 16);
	ev.port = reply ? p->sport : p->dport;
	ev.proto = p->proto;
	ev.reason = (__u8)reason;
	ev.level = (__u8)(arg >> 8);
	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	return reason;
}

IG_STAGE(ig_stage_event, return ig_emit_event(p, arg))
IG_STAGE(ig_stage_rst, return ig_reply_rst(ctx, hook, p) ? IG_R_DROP_REPLY_FAIL : IG_R_REJECT_OPEN)

/* A value clang cannot see through, so it really lands in the argument register. */
static __always_inline int ig_opaque(int v)
{
	asm volatile("" : "+r"(v));
	return v;
}

#define IG_CALL_STAGE(name, ctx, hook, arg)                                                \
	((hook) == IG_HOOK_XDP ? name##_xdp((struct xdp_md *)(ctx), ig_opaque(arg))          \
			       : name##_tc((struct __sk_buff *)(ctx), ig_opaque(arg)))

static __always_inline enum ig_verdict ig_handle(void *ctx, enum ig_hook hook)
{
	__u32 len = ctx_wire_len(ctx, hook);
	struct ig_pkt p;
	__u32 slot, cost = 0, level = IG_L_SOURCE;
	int out, r;
	__u64 now = 0;

	/* clang would otherwise spill the fields a path leaves unset, and the
	 * verifier refuses reading an uninitialised register; p does not escape,
	 * so the stores the parser overwrites are dropped */
	__builtin_memset(&p, 0, sizeof(p));
	p.proto = IG_PROTO_MAX; /* stays so unless the parser finds TCP or UDP */
	out = ig_limit(ctx, hook, &p, &now, &cost);
	slot = ((__u32)out >> 8) & (IG_MAX_SLOTS - 1);
	r = out & 0xff;
	if (out & IG_OUT_CLOSE) {
		int c = IG_CALL_STAGE(ig_stage_close, ctx, hook, 0);

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
		int why_not = ig_reject_admit(ctx, hook);

		r = why_not ? why_not : IG_CALL_STAGE(ig_stage_reject, ctx, hook, 0);
	} else if (p.proto == IG_PROTO_TCP &&
		   (r == IG_R_PASS_OTHER || r == IG_R_PASS_FREE || r == IG_R_PASS_ADMITTED)) {
		__u32 port = p.dport;
		struct ig_breaker *b = bpf_map_lookup_elem(&breakers, &port);

		/* the inlined array lookup is all a port without a breaker pays */
		if (b && (b->flags & IG_BRK_F_ON)) {
			r = IG_CALL_STAGE(ig_stage_steer, ctx, hook, r);
			if (r == IG_NEED_RST)
				r = IG_CALL_STAGE(ig_stage_rst, ctx, hook, 0);
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
	struct ig_pkt pkt;

	asm volatile("" : : "r"(arg));
	if (!ctx || ig_parse(ctx_data(ctx, IG_HOOK_TC), ctx_data_end(ctx, IG_HOOK_TC), &pkt))
		return 0;
	return ig_hier_egress(ctx, &pkt);
}

/* The egress program's core (TC only: XDP has no egress). Steered replies get
 * the dialed port back; the primary's answers feed passive health. */
static __always_inline int ig_handle_egress(struct __sk_buff *skb)
{
	void *data = ctx_data(skb, IG_HOOK_TC);
	void *data_end = ctx_data_end(skb, IG_HOOK_TC);
	struct ig_policy *pol;
	struct ig_pkt p;
	int local, rw;
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
	if (rw > 0 || (pol && (pol->flags & (IG_POL_F_CONNS | IG_POL_F_TOKENS))))
		ig_stage_egress_tc(skb, ig_opaque(0));
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
