// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Probes for the per-source state's cost, outside the limiter: one lookup per
 * packet in maps that differ only in type, flags or key size, with the same
 * source variation as bench.bpf.c. They answer "what would a different
 * `buckets` layout cost at N sources" without touching bpf/.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "hdr.h"

const volatile __u32 bench_nsrc = 1;
const volatile __u32 bench_base = 0;
volatile __u32 bench_step = 1; /* as in bench.bpf.c */
const volatile __u32 probe_mask = 0; /* max_entries - 1 of the maps */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} probe_ctr SEC(".maps");

/* An IPv4-only key: 8 bytes, so an LRU element is exactly one cache line. */
struct key8 {
	__u32 addr;
	__u16 port;
	__u8 proto;
	__u8 _pad;
};

#define SADDR_OFF (sizeof(struct ig_eth) + 12)

/* max_entries of every map is set by the loader. */
#define HMAP(name, mtype, ktype, flags)                        \
	struct {                                               \
		__uint(type, mtype);                           \
		__uint(max_entries, 1);                        \
		__uint(map_flags, flags);                      \
		__type(key, ktype);                            \
		__type(value, struct ig_bucket);               \
	} name SEC(".maps")

HMAP(arr, BPF_MAP_TYPE_ARRAY, __u32, 0);

/* One cache line per source, at a hashed index: the cost of a single
 * dependent miss, the floor for any table that needs one line per lookup. */
struct line {
	__u64 w[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct line);
} arr64 SEC(".maps");
HMAP(lru4, BPF_MAP_TYPE_LRU_HASH, __u32, 0);
HMAP(lru8, BPF_MAP_TYPE_LRU_HASH, struct key8, 0);
HMAP(lru20, BPF_MAP_TYPE_LRU_HASH, struct ig_bucket_key, 0);
HMAP(hash20, BPF_MAP_TYPE_HASH, struct ig_bucket_key, 0);
HMAP(hash20np, BPF_MAP_TYPE_HASH, struct ig_bucket_key, BPF_F_NO_PREALLOC);
HMAP(hash8np, BPF_MAP_TYPE_HASH, struct key8, BPF_F_NO_PREALLOC);

/* Source index of this packet, written into the frame as in bench.bpf.c. */
static __always_inline __s64 vary(struct xdp_md *ctx, __be32 *addr)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__be32 *sa = data + SADDR_OFF;
	__u32 zero = 0, *c, i;

	if ((void *)(sa + 1) > end)
		return -1;
	c = bpf_map_lookup_elem(&probe_ctr, &zero);
	if (!c)
		return -1;
	i = *c;
	*c = i + bench_step >= bench_nsrc ? i + bench_step - bench_nsrc : i + bench_step;
	*sa = ig_htonl(bench_base + i);
	*addr = *sa;
	return i;
}

/* Find or create; then the read a refused charge does (no write). */
static __always_inline int touch(void *map, const void *key)
{
	struct ig_bucket *b = bpf_map_lookup_elem(map, key);

	if (!b) {
		struct ig_bucket fresh = { .tat = ~0ULL };

		bpf_map_update_elem(map, key, &fresh, BPF_NOEXIST);
		return XDP_PASS;
	}
	return b->tat > 1 ? XDP_DROP : XDP_PASS;
}

static __always_inline void key20(struct ig_bucket_key *k, __be32 a)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->addr[10] = 0xff;
	k->addr[11] = 0xff;
	__builtin_memcpy(k->addr + 12, &a, 4);
	k->port = 8000;
	k->proto = IG_PROTO_TCP;
}

SEC("xdp")
int probe_bare(struct xdp_md *ctx)
{
	__be32 a;

	vary(ctx, &a);
	return XDP_DROP;
}

SEC("xdp")
int probe_arr(struct xdp_md *ctx)
{
	__be32 a;
	__s64 i = vary(ctx, &a);
	__u32 k = (__u32)i;
	struct ig_bucket *b;

	if (i < 0)
		return XDP_PASS;
	b = bpf_map_lookup_elem(&arr, &k);
	if (!b)
		return XDP_PASS;
	if (!b->tat)
		b->tat = ~0ULL;
	return b->tat > 1 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int probe_arr64(struct xdp_md *ctx)
{
	__be32 a;
	__s64 i = vary(ctx, &a);
	__u32 k = ((__u32)i * 2654435761u) & probe_mask;
	struct line *l;

	if (i < 0)
		return XDP_PASS;
	l = bpf_map_lookup_elem(&arr64, &k);
	if (!l)
		return XDP_PASS;
	if (!l->w[0])
		l->w[0] = ~0ULL;
	return l->w[0] > 1 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int probe_lru4(struct xdp_md *ctx)
{
	__be32 a;

	if (vary(ctx, &a) < 0)
		return XDP_PASS;
	return touch(&lru4, &a);
}

SEC("xdp")
int probe_lru8(struct xdp_md *ctx)
{
	struct key8 k = { .port = 8000, .proto = IG_PROTO_TCP };

	if (vary(ctx, &k.addr) < 0)
		return XDP_PASS;
	return touch(&lru8, &k);
}

#define PROBE20(map)                                           \
	SEC("xdp")                                             \
	int probe_##map(struct xdp_md *ctx)                    \
	{                                                      \
		struct ig_bucket_key k;                        \
		__be32 a;                                      \
                                                               \
		if (vary(ctx, &a) < 0)                         \
			return XDP_PASS;                       \
		key20(&k, a);                                  \
		return touch(&map, &k);                        \
	}

PROBE20(lru20)
PROBE20(hash20)
PROBE20(hash20np)

SEC("xdp")
int probe_hash8np(struct xdp_md *ctx)
{
	struct key8 k = { .port = 8000, .proto = IG_PROTO_TCP };

	if (vary(ctx, &k.addr) < 0)
		return XDP_PASS;
	return touch(&hash8np, &k);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
