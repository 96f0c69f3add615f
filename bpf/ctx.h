/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One core for XDP and TC: the core takes `void *ctx` and a hook that is a
 * compile-time constant at every call site. Everything is __always_inline, so
 * clang folds each `hook == ...` test and each program carries only its own
 * context accesses (the verifier would refuse the other hook's ctx fields).
 */
#ifndef IG_CTX_H
#define IG_CTX_H

/*
 * Context fields are loaded with an explicit `*(u32 *)(ctx + off)` in asm:
 * across a helper call clang likes to keep "ctx + offset" in a callee-saved
 * register and dereference that later, which the verifier refuses
 * ("dereference of modified ctx ptr"); volatile loads do not stop it.
 */
#define ig_ctx_u32(ctx, type, field)                                                  \
	({                                                                             \
		__u64 __v;                                                             \
		asm volatile("%0 = *(u32 *)(%1 + %2)"                                  \
			     : "=r"(__v)                                               \
			     : "r"(ctx), "i"(__builtin_offsetof(type, field)));       \
		__v; /* the u32 load zero-extends */                                   \
	})

enum ig_hook {
	IG_HOOK_XDP = 0,
	IG_HOOK_TC = 1,
};

static __always_inline void *ctx_data(void *ctx, enum ig_hook hook)
{
	if (hook == IG_HOOK_XDP)
		return (void *)(long)ig_ctx_u32(ctx, struct xdp_md, data);
	return (void *)(long)ig_ctx_u32(ctx, struct __sk_buff, data);
}

static __always_inline void *ctx_data_end(void *ctx, enum ig_hook hook)
{
	if (hook == IG_HOOK_XDP)
		return (void *)(long)ig_ctx_u32(ctx, struct xdp_md, data_end);
	return (void *)(long)ig_ctx_u32(ctx, struct __sk_buff, data_end);
}

/* Length on the wire. XDP sees the linear frame (no multi-buffer programs
 * here); the skb may carry more than its linear part. */
static __always_inline __u32 ctx_wire_len(void *ctx, enum ig_hook hook)
{
	if (hook == IG_HOOK_XDP) {
		long n = (long)ctx_data(ctx, hook);

		/* `pkt - pkt_end` in asm, negated afterwards: a privileged program
		 * may subtract two pointers into a scalar, but the verifier refuses
		 * any arithmetic whose destination is pkt_end, which is what clang
		 * emits for `data_end - data`. */
		asm volatile("%0 -= %1" : "+r"(n) : "r"(ctx_data_end(ctx, hook)));
		return (__u32)-n;
	}
	return ig_ctx_u32(ctx, struct __sk_buff, len);
}

/* Packets on the wire: an skb that GRO merged stands for gso_segs of them. */
static __always_inline __u32 ctx_wire_packets(void *ctx, enum ig_hook hook)
{
	__u32 segs;

	if (hook == IG_HOOK_XDP)
		return 1;
	segs = ig_ctx_u32(ctx, struct __sk_buff, gso_segs);
	return segs ? segs : 1;
}

/* Make room for `len` bytes in front of the frame. Invalidates packet pointers. */
static __always_inline int ctx_grow_head(void *ctx, enum ig_hook hook, __u32 len)
{
	if (hook == IG_HOOK_XDP)
		return bpf_xdp_adjust_head((struct xdp_md *)ctx, -(int)len);
	return (int)bpf_skb_change_head((struct __sk_buff *)ctx, len, 0);
}

/* Trim (or extend) the frame to `len` bytes. Invalidates packet pointers. */
static __always_inline int ctx_set_len(void *ctx, enum ig_hook hook, __u32 len)
{
	if (hook == IG_HOOK_XDP) {
		__u32 cur = ctx_wire_len(ctx, hook);

		return bpf_xdp_adjust_tail((struct xdp_md *)ctx, (int)len - (int)cur);
	}
	return (int)bpf_skb_change_tail((struct __sk_buff *)ctx, len, 0);
}

#endif /* IG_CTX_H */
