/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The stages of the core and what they hand back to the entry point.
 *
 * The slow paths (a reply, a breaker port, a fair-share charge) run as BPF
 * global functions, one per hook, called from the entry point, never from
 * each other: BPF gives the whole call chain 512 bytes of stack, and the
 * limiter, the reply builders and the breaker stage each need about half of
 * it. Each global is also verified once on its own, instead of once per path
 * through its caller.
 *
 * A stage parses the frame again rather than being handed the entry's parse:
 * handing the entry's struct ig_pkt down (by address, or copied to the
 * callee) keeps all of it live in the entry's frame, and entry plus stage
 * then exceeded the 512 bytes; the extra parse costs a few ns on the slow
 * paths only.
 */
#ifndef IG_STAGES_H
#define IG_STAGES_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/parse.h"
#include "ctx.h"

/*
 * What the limiter and the stages return: a reason in the low byte, and
 * above it the port's slot (the limiter) or the refusing level (the charge
 * stage). The low byte is an enum ig_reason, or one of these requests for
 * the entry point, which only it can act on (it alone calls stages):
 */
enum ig_need {
	IG_NEED_REJECT = IG_R_MAX + 1, /* over the limit, action reject: run the reply stage */
	IG_NEED_RST = IG_R_MAX + 2,    /* breaker open without fallback: refuse with a RST */
	IG_NEED_REFUSE = IG_R_MAX + 3, /* the charge stage refused: the port's action decides */
	IG_NEED_HIER = IG_R_MAX + 4,   /* a fair-share port: the charge stage decides */
	IG_NEED_CHARGE = IG_R_MAX + 5, /* the request stage: charge the count above it */
};
_Static_assert(IG_NEED_HIER <= 0xff, "a request fits the low byte");

#define IG_OUT(above, r) (((above) << 8) | (r))
/* and a segment without SYN to a max-conns port: the close stage (ig_conns_in) */
#define IG_OUT_CLOSE (1 << 16)
/* and the charge was for requests the request stage counted: a refusal takes
 * its framing state back, a reply to it is a 429 (request.h) */
#define IG_OUT_REQ (1 << 17)
/* and a SYN to a `conn` port with action 429: a reply to it is a SYN cookie */
#define IG_OUT_COOKIE (1 << 18)

/*
 * How a stage parses: ig_stage_parse, a global function too, verified once,
 * and what it found is unknown to the stage's verification, so the stage is
 * walked once rather than once per kind of frame (tags, family, protocol):
 * the charge stage alone had grown to ~80 % of the verifier's 1M-instruction
 * limit. Or ig_parse_here, inline, where a stage is on a path that counts
 * (a reply, a steered connection's every packet: the call and the unknown
 * fields cost them ~10 ns) and its verification is cheap; the reject stage's
 * frame is also the largest, and another under it would break the 512 bytes.
 */
__noinline int ig_stage_parse_xdp(struct xdp_md *ctx, struct ig_pkt *p)
{
	if (!ctx || !p)
		return IG_PARSE_BAD;
	return ig_parse(ctx_data(ctx, IG_HOOK_XDP), ctx_data_end(ctx, IG_HOOK_XDP), p);
}

__noinline int ig_stage_parse_tc(struct __sk_buff *ctx, struct ig_pkt *p)
{
	if (!ctx || !p)
		return IG_PARSE_BAD;
	return ig_parse(ctx_data(ctx, IG_HOOK_TC), ctx_data_end(ctx, IG_HOOK_TC), p);
}

#define ig_parse_here_xdp(ctx, p) ig_parse(ctx_data(ctx, IG_HOOK_XDP), ctx_data_end(ctx, IG_HOOK_XDP), p)
#define ig_parse_here_tc(ctx, p) ig_parse(ctx_data(ctx, IG_HOOK_TC), ctx_data_end(ctx, IG_HOOK_TC), p)

/* One global per hook and stage, given the context only; `arg` is passed to
 * every stage, used or not: clang leaves an argument the callee ignores
 * undefined, and the verifier refuses an undefined argument register. */
#define IG_STAGE(name, parse, body)                                                        \
	__noinline int name##_xdp(struct xdp_md *ctx, int arg)                              \
	{                                                                                   \
		const enum ig_hook hook __attribute__((unused)) = IG_HOOK_XDP;              \
		struct ig_pkt pkt = {}, *p = &pkt;                                          \
		asm volatile("" : : "r"(arg));                                              \
		if (!ctx || parse##_xdp(ctx, p))                                            \
			return IG_R_DROP_REPLY_FAIL;                                        \
		body;                                                                       \
	}                                                                                   \
	__noinline int name##_tc(struct __sk_buff *ctx, int arg)                            \
	{                                                                                   \
		const enum ig_hook hook __attribute__((unused)) = IG_HOOK_TC;               \
		struct ig_pkt pkt = {}, *p = &pkt;                                          \
		asm volatile("" : : "r"(arg));                                              \
		if (!ctx || parse##_tc(ctx, p))                                             \
			return IG_R_DROP_REPLY_FAIL;                                        \
		body;                                                                       \
	}

/* A value clang cannot see through, so it really lands in the argument register. */
static __always_inline int ig_opaque(int v)
{
	asm volatile("" : "+r"(v));
	return v;
}

#define IG_CALL_STAGE(name, ctx, hook, arg)                                                \
	((hook) == IG_HOOK_XDP ? name##_xdp((struct xdp_md *)(ctx), ig_opaque(arg))          \
			       : name##_tc((struct __sk_buff *)(ctx), ig_opaque(arg)))

#endif /* IG_STAGES_H */
