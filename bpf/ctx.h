/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One core for XDP and TC: the core takes `void *ctx` and a hook that is a
 * compile-time constant at every call site. Everything is __always_inline, so
 * clang folds each `hook == ...` test and each program carries only its own
 * context accesses (the verifier would refuse the other hook's ctx fields).
 */
#ifndef IG_CTX_H
#define IG_CTX_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pure/hdr.h"
#include "pure/csum.h"

/* uapi <linux/pkt_cls.h> values; vmlinux.h carries no #defines. */
#ifndef TC_ACT_UNSPEC
#define TC_ACT_UNSPEC (-1)
#define TC_ACT_SHOT 2
#endif

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

/*
 * Offsets come back from the parse result on the stack as 16-bit fields, and
 * clang re-reads them after our range checks, so the verifier never connects
 * the check to the value used (it then refuses `data + off` as possibly past
 * 64 KiB). The empty asm hides the value from clang, forcing the mask to be
 * applied to the very register that is added to the packet pointer.
 */
static __always_inline __u32 ig_clamp(__u32 v, __u32 mask)
{
	asm volatile("" : "+r"(v));
	return v & mask;
}

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

/*
 * Replace the TCP port at `l4 + field` (0: source, 2: destination; `old` and
 * `new` in network order) and fix the checksum. TC goes through the helpers,
 * which know the skb's checksum state (with CHECKSUM_PARTIAL the field holds
 * only the pseudo-header sum, which a port does not enter, and is left alone).
 * XDP sees a finished frame and patches the checksum itself.
 */
static __always_inline int ctx_rewrite_port(void *ctx, enum ig_hook hook, __u32 l4, __u32 field,
					    __u16 old, __u16 new)
{
	if (hook == IG_HOOK_XDP) {
		void *data = ctx_data(ctx, hook);
		void *end = ctx_data_end(ctx, hook);
		__u16 *port, *check;

		l4 = ig_clamp(l4, 1023);
		port = (__u16 *)((__u8 *)data + l4 + (field & 2));
		check = (__u16 *)((__u8 *)data + l4 + IG_TCP_CSUM_OFF);
		if ((void *)(check + 1) > end || (void *)(port + 1) > end)
			return -1;
		*port = new;
		*check = ig_csum_replace16(*check, old, new);
		return 0;
	}
	if (bpf_l4_csum_replace((struct __sk_buff *)ctx, l4 + IG_TCP_CSUM_OFF, old, new,
				sizeof(__u16)))
		return -1;
	return (int)bpf_skb_store_bytes((struct __sk_buff *)ctx, l4 + field, &new, sizeof(new), 0);
}

#endif /* IG_CTX_H */
