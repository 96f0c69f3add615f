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
	__u32 flags; /* IG_POL_F_* */
};

/* Dry run: over-limit packets are counted as what would have happened
 * (IG_R_DRY_DROP / IG_R_DRY_REJECT) and passed; nothing is dropped. */
#define IG_POL_F_DRY_RUN 0x1

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
	IG_R_STEERED = 10,       /* breaker: sent to the fallback port (destination rewritten) */
	IG_R_PASS_PROBE = 11,    /* breaker half-open: a new connection let through as a probe */
	IG_R_REJECT_OPEN = 12,   /* breaker open without fallback: new connection refused (RST) */
	IG_R_DROP_STEER_FAIL = 13, /* breaker: the rewrite failed (a helper error) */
	IG_R_DRY_DROP = 14,      /* over the limit on a dry-run port: would drop; passed */
	IG_R_DRY_REJECT = 15,    /* over the limit on a dry-run port: would reject; passed */
	IG_R_MAX,
};

/* What a reason means for the packet: every reason is exactly one of these. */
enum ig_verdict {
	IG_V_PASS = 0,
	IG_V_DROP = 1,
	IG_V_TX = 2, /* the frame now holds a reply: send it back out */
};

/* As bit sets: one shift and a test per packet, where a switch is a chain of
 * compares on every pass (measured: ~2 ns). */
#define IG_REASON_BIT(r) (1U << (r))
#define IG_REASONS_PASS                                                                    \
	(IG_REASON_BIT(IG_R_PASS_OTHER) | IG_REASON_BIT(IG_R_PASS_UNPARSED) |               \
	 IG_REASON_BIT(IG_R_PASS_FRAGMENT) | IG_REASON_BIT(IG_R_PASS_FREE) |                 \
	 IG_REASON_BIT(IG_R_PASS_ADMITTED) | IG_REASON_BIT(IG_R_STEERED) |                   \
	 IG_REASON_BIT(IG_R_PASS_PROBE) | IG_REASON_BIT(IG_R_DRY_DROP) |                      \
	 IG_REASON_BIT(IG_R_DRY_REJECT))
/* Reasons worth a sampled event (ring buffer `events`): what was refused, or
 * would have been. */
#define IG_REASONS_DRY (IG_REASON_BIT(IG_R_DRY_DROP) | IG_REASON_BIT(IG_R_DRY_REJECT))
#define IG_REASONS_TX (IG_REASON_BIT(IG_R_REJECT) | IG_REASON_BIT(IG_R_REJECT_OPEN))

static inline enum ig_verdict ig_reason_verdict(enum ig_reason r)
{
	__u32 bit = IG_REASON_BIT((__u32)r & 31);

	if (bit & IG_REASONS_PASS)
		return IG_V_PASS;
	return (bit & IG_REASONS_TX) ? IG_V_TX : IG_V_DROP;
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

/*
 * Circuit breakers, map `breakers`: ARRAY[65536] indexed by the TCP port it
 * guards (the primary). `flags` has IG_BRK_F_ON when the port has one.
 *
 * Two writers, two fields: the agent writes `state` (what its health logic
 * concluded), an operator writes `force` (CLI or `bpftool map update`). The
 * data path obeys `force` unless it is IG_FORCE_AUTO, so a forced state holds
 * whatever the agent concludes, until it is set back to auto.
 */
enum ig_brk_state {
	IG_BRK_CLOSED = 0,    /* new connections go to the primary */
	IG_BRK_OPEN = 1,      /* to the fallback; refused with a RST if there is none */
	IG_BRK_HALF_OPEN = 2, /* `probes` more to the primary, then to the fallback */
	IG_BRK_STATE_MAX,
};

enum ig_brk_force {
	IG_FORCE_AUTO = 0, /* follow `state` */
	IG_FORCE_OPEN = 1,
	IG_FORCE_CLOSED = 2,
	IG_FORCE_MAX,
};

#define IG_BRK_F_ON 0x1

struct ig_breaker {
	enum ig_brk_state state;
	enum ig_brk_force force;
	__u16 fallback; /* port new connections go to while open; 0 = none (refuse) */
	__u16 flags;    /* IG_BRK_F_* */
	__s32 probes;   /* half-open: probe connections still to let through; the data
			 * path takes them with an atomic decrement */
};

/*
 * Steered connections, map `flows`: an LRU hash. Each new connection to a
 * breaker port gets one entry at its SYN (the decision: primary, probe or
 * fallback), looked up by every later packet, so flipping a breaker never moves
 * an established connection. A connection sent to the fallback also gets a
 * reverse entry (dir IG_DIR_REPLY, keyed by the port the server really uses)
 * through which the egress program finds the port to put back in replies.
 */
enum ig_flow_dir {
	IG_DIR_CLIENT = 0, /* key.server_port is the port the client dialed */
	IG_DIR_REPLY = 1,  /* key.server_port is the fallback port replies come from */
};

struct ig_flow_key {
	__u8 client[16]; /* IPv4 as ::ffff:a.b.c.d */
	__u8 server[16];
	__u16 client_port; /* host byte order */
	__u16 server_port;
	__u8 dir;          /* enum ig_flow_dir */
	__u8 _pad[3];
};

enum ig_route {
	IG_ROUTE_PRIMARY = 0,
	IG_ROUTE_PROBE = 1,    /* to the primary, as a half-open probe */
	IG_ROUTE_FALLBACK = 2,
	IG_ROUTE_MAX,
};

struct ig_flow {
	__u64 fin_ns;      /* data-path time the server sent FIN; 0 while open */
	__u32 isn;         /* the client's initial sequence number: a SYN carrying it again
			    * is a retransmission and keeps the decision */
	__u16 dialed;      /* the breaker's (primary) port */
	__u16 backend;     /* the port the server side really uses */
	enum ig_route route;
	__u32 _pad;
};

/* A flow whose server side sent FIN is forgotten this long after (the last
 * ACKs still need it); an RST forgets it at once. */
#define IG_FLOW_LINGER_NS (10ULL * 1000000000ULL)
#define IG_DEFAULT_FLOWS 262144

/* Passive health, map `health`: per-CPU counters per breaker port (key: the
 * port, u32), kept by the egress program from what the primary answers and by
 * the ingress program from where it sent new connections. */
enum ig_http_class {
	IG_HTTP_1XX = 0,
	IG_HTTP_2XX = 1,
	IG_HTTP_3XX = 2,
	IG_HTTP_4XX = 3,
	IG_HTTP_5XX = 4,
	IG_HTTP_MAX,
};

struct ig_health {
	__u64 http[IG_HTTP_MAX]; /* HTTP/1.x status lines the primary sent, by class */
	__u64 rst;               /* RSTs the primary port sent (refused or aborted) */
	__u64 conns[IG_ROUTE_MAX]; /* new connections by where they went */
	__u64 refused;           /* new connections refused (open, no fallback) */
};

#define IG_MAX_BREAKERS 1024

/*
 * Sampled drop events, map `events` (a ring buffer the agent reads): at most
 * one per CPU per IG_EVENT_INTERVAL_NS, for a dropped or refused packet. For
 * `top` and the agent's log, not for accounting (counters are in port_stats).
 */
struct ig_event {
	__u8 source[16]; /* IPv4 as ::ffff:a.b.c.d */
	__u16 port;      /* the protected port, host byte order */
	__u8 proto;      /* enum ig_proto */
	__u8 reason;     /* enum ig_reason */
	__u32 _pad;
};

#define IG_EVENT_INTERVAL_NS 1000000ULL
#define IG_EVENTS_BYTES (256 * 1024)

/* Ports that are some breaker's fallback (map `fallback_ports`, ARRAY[65536]
 * of u32, set by the data path the first time it steers there): only replies
 * from those ports are looked up in `flows` on egress. */

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
IG_STATIC_ASSERT(IG_R_MAX <= 32, "reasons fit the verdict bit sets");
IG_STATIC_ASSERT(sizeof(struct ig_policy) == 32, "ig_policy layout");
IG_STATIC_ASSERT(sizeof(struct ig_source) == 16, "ig_source layout");
IG_STATIC_ASSERT(sizeof(struct ig_source_set) == 64, "one set, one cache line");
IG_STATIC_ASSERT(sizeof(struct ig_bucket) == 8, "ig_bucket layout");
IG_STATIC_ASSERT(sizeof(struct ig_stats) == 16 * IG_R_MAX, "ig_stats layout");
IG_STATIC_ASSERT(sizeof(struct ig_globals) == 16, "ig_globals layout");
IG_STATIC_ASSERT(sizeof(struct ig_seed) == 8, "ig_seed layout");
IG_STATIC_ASSERT(sizeof(struct ig_config) == 32, "ig_config layout");
IG_STATIC_ASSERT(sizeof(struct ig_breaker) == 16, "ig_breaker layout");
IG_STATIC_ASSERT(sizeof(struct ig_event) == 24, "ig_event layout");
IG_STATIC_ASSERT(sizeof(struct ig_flow_key) == 40, "ig_flow_key layout");
IG_STATIC_ASSERT(sizeof(struct ig_flow) == 24, "ig_flow layout");
IG_STATIC_ASSERT(sizeof(struct ig_health) == 8 * (IG_HTTP_MAX + 2 + IG_ROUTE_MAX), "ig_health layout");
IG_STATIC_ASSERT(sizeof(enum ig_unit) == 4, "enums are 4 bytes in map values");

#endif /* IG_ABI_H */
