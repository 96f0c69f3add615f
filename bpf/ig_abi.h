/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one ABI between the BPF programs and user space: every map key and value,
 * every enum, the load-time config. User space includes this file and never
 * re-declares any of it. Layouts are explicit (padding named, sizes asserted)
 * because `bpftool map update ... value hex ...` writes raw bytes into them.
 */
#ifndef IG_ABI_H
#define IG_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Where an instance lives unless --pin-dir says otherwise. */
#define IG_DEFAULT_PIN_DIR "/sys/fs/bpf/infergate"

/* Protocols that can carry a protected port; the policy array is indexed by
 * IG_PORT_INDEX(proto, port), so the enum value is part of the ABI. */
enum ig_proto {
	IG_PROTO_TCP = 0,
	IG_PROTO_UDP = 1,
	IG_PROTO_MAX,
};

#define IG_PORT_INDEX(proto, port) ((((__u32)(proto)) << 16) | ((__u32)(port) & 0xffff))
#define IG_POLICY_ENTRIES ((__u32)IG_PROTO_MAX << 16)

/* What one token pays for. */
enum ig_unit {
	IG_UNIT_CONN = 0,   /* a TCP SYN without ACK; the rest of the connection is free */
	IG_UNIT_PACKET = 1, /* every packet */
	IG_UNIT_BYTE = 2,   /* the packet's length on the wire (from the Ethernet header) */
	IG_UNIT_MAX,
};

/* What happens to a packet over its limit. */
enum ig_action {
	IG_ACTION_DROP = 0,
	IG_ACTION_REJECT = 1, /* TCP RST or ICMP port unreachable, within the reject budget */
	IG_ACTION_MAX,
};

/*
 * Policy of one protected (protocol, port): map `port_policy`, an ARRAY indexed by
 * IG_PORT_INDEX so the per-packet lookup is an inlined array access.
 * slot == 0 means "not protected"; slots index `port_stats` and are handed out by
 * the CLI. A protected port with rate == 0 refuses every unit (the CLI never
 * writes that; a bpftool edit can, and it fails closed rather than dividing by 0).
 */
struct ig_policy {
	__u64 rate;  /* units per second */
	__u64 burst; /* units; also what a new source starts with */
	__u32 slot;  /* 1 .. IG_MAX_SLOTS-1 when protected, 0 when not */
	enum ig_unit unit;
	enum ig_action action;
	__u32 _pad;
};

/* Slot 0 of `port_stats` counts traffic that is not for a protected port. */
#define IG_MAX_SLOTS 256

/* Largest burst accepted: burst * 1e9 must fit in 64 bits. */
#define IG_MAX_BURST 10000000000ULL
#define IG_NSEC_PER_SEC 1000000000ULL

/*
 * Per-source state, map `sources`: a set-associative table in an ARRAY, each
 * element one set of IG_WAYS tracked (source, protocol, port) entries. A packet
 * touches one set, i.e. one 64-byte line: an LRU hash map costs two dependent
 * cache misses (bucket head, then element) and 96 bytes per source, which at a
 * million sources doubles the per-packet cost on hosts with a few MB of cache.
 *
 * A source's set and tag come from a seeded 64-bit hash of its address, protocol
 * and port (seed in map `seed`, random per instance, so senders cannot aim at a
 * set). Two sources are confused only if they share set, tag, protocol and port:
 * about 4e-4 pairs among a million sources.
 */
#define IG_WAYS 4

struct ig_source {
	__u32 tag;  /* high half of the source's hash */
	__u16 port; /* host byte order */
	__u8 proto; /* enum ig_proto */
	__u8 used;  /* 1 once the way holds a source */
	/*
	 * GCRA state: the theoretical arrival time in the data path's clock (ns).
	 * One word, so a compare-and-swap updates it without a lock and without
	 * lost updates when two CPUs charge one source. tat <= now means the
	 * source's bucket is full again: such a way carries no state and is what
	 * a new source takes first.
	 */
	__u64 tat;
};

struct ig_source_set {
	struct ig_source way[IG_WAYS];
};

/* The reject budget's bucket (map `reject_state`): the same GCRA word. */
struct ig_bucket {
	__u64 tat;
};

/* Why a verdict was reached: the index into the counters. Every verdict is
 * counted under exactly one reason. */
enum ig_reason {
	IG_R_PASS_OTHER = 0,     /* not addressed to a protected port */
	IG_R_PASS_UNPARSED = 1,  /* truncated or unknown headers: passed untouched */
	IG_R_PASS_FRAGMENT = 2,  /* a non-first fragment: no L4 header to judge */
	IG_R_PASS_FREE = 3,      /* `conn` unit, not a new connection: costs nothing */
	IG_R_PASS_ADMITTED = 4,  /* charged and within the limit */
	IG_R_DROP_LIMIT = 5,     /* over the limit, action drop */
	IG_R_REJECT = 6,         /* over the limit, reply sent */
	IG_R_DROP_BUDGET = 7,    /* over the limit, reject wanted, reject budget spent */
	IG_R_DROP_CONTENDED = 8, /* bucket update lost the race too often: refused */
	IG_R_DROP_REPLY_FAIL = 9,/* over the limit, reply could not be built */
	IG_R_MAX,
};

/* What a reason means for the packet: every reason is exactly one of these. */
enum ig_verdict {
	IG_V_PASS = 0,
	IG_V_DROP = 1,
	IG_V_TX = 2, /* the frame now holds a reply: send it back out */
};

static inline enum ig_verdict ig_reason_verdict(enum ig_reason r)
{
	if (r <= IG_R_PASS_ADMITTED)
		return IG_V_PASS;
	return r == IG_R_REJECT ? IG_V_TX : IG_V_DROP;
}

/* Per-CPU counters of one slot, map `port_stats` (PERCPU_ARRAY[IG_MAX_SLOTS]). */
struct ig_stats {
	__u64 packets[IG_R_MAX];
	__u64 bytes[IG_R_MAX];
};

/* Global tunables, map `globals` (ARRAY[1], key 0). */
struct ig_globals {
	__u64 reject_rate;  /* replies per second, whole host; 0 = never reply */
	__u64 reject_burst; /* replies */
};

/* The source table's hash seed, map `seed` (ARRAY[1], key 0): random, made with
 * the instance and kept with it; the loader copies it into ig_config, so the
 * data path never looks it up. Changing it orphans every tracked source. */
struct ig_seed {
	__u64 value;
};

#define IG_DEFAULT_REJECT_RATE 1000ULL
#define IG_DEFAULT_REJECT_BURST 1000ULL

/* Clock of the data path, chosen at load time. */
enum ig_clock {
	IG_CLOCK_TICK = 0,   /* bpf_jiffies64() * tick_ns: ~0 ns, 1/HZ resolution */
	IG_CLOCK_COARSE = 1, /* bpf_ktime_get_coarse_ns(): when HZ is unknown */
	IG_CLOCK_TEST = 2,   /* `test_now_ns` in .bss: tests drive time by hand */
};

/* Load-time switches: one const volatile struct in .rodata, so the verifier
 * prunes branches for switches that are off. */
struct ig_config {
	enum ig_clock clock;
	__u32 _pad;
	__u64 tick_ns; /* nanoseconds per jiffy, for IG_CLOCK_TICK */
	__u32 set_mask; /* sets in `sources` minus one (a power of two) */
	__u32 _pad2;
	__u64 hash_seed; /* copy of map `seed` */
};

/* TC filters are identified by (handle, priority) when attached via netlink. */
#define IG_TC_HANDLE 0x1a7e
#define IG_TC_PRIORITY 0xc0de

#ifdef __cplusplus
#define IG_STATIC_ASSERT static_assert
#else
#define IG_STATIC_ASSERT _Static_assert
#endif
IG_STATIC_ASSERT(sizeof(struct ig_policy) == 32, "ig_policy layout");
IG_STATIC_ASSERT(sizeof(struct ig_source) == 16, "ig_source layout");
IG_STATIC_ASSERT(sizeof(struct ig_source_set) == 64, "one set, one cache line");
IG_STATIC_ASSERT(sizeof(struct ig_bucket) == 8, "ig_bucket layout");
IG_STATIC_ASSERT(sizeof(struct ig_stats) == 16 * IG_R_MAX, "ig_stats layout");
IG_STATIC_ASSERT(sizeof(struct ig_globals) == 16, "ig_globals layout");
IG_STATIC_ASSERT(sizeof(struct ig_seed) == 8, "ig_seed layout");
IG_STATIC_ASSERT(sizeof(struct ig_config) == 32, "ig_config layout");
IG_STATIC_ASSERT(sizeof(enum ig_unit) == 4, "enums are 4 bytes in map values");

#endif /* IG_ABI_H */
