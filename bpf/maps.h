/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every map of the data path. The loader pins each one under the instance's
 * pin dir (default /sys/fs/bpf/infergate/<name>) and reuses what is already
 * pinned there, so state outlives the programs, the agent and re-attaches.
 * All are BTF-typed: `bpftool map dump pinned DIR/<name>` prints named fields.
 */
#ifndef IG_MAPS_H
#define IG_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"

/* Sets of `sources` unless the loader resizes it (and ig_cfg.set_mask with it). */
#define IG_DEFAULT_SETS 65536
/* Sets of `prefixes` (the loader may resize it with ig_cfg.prefix_set_mask). */
#define IG_DEFAULT_PREFIX_SETS 16384

/* Policy of each (protocol, port), indexed by IG_PORT_INDEX(proto, port). An
 * array, not a hash: the lookup on every packet is then an inlined address
 * computation, which is what keeps non-SYN packets on a `conn` port nearly free. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_POLICY_ENTRIES);
	__type(key, __u32);
	__type(value, struct ig_policy);
} port_policy SEC(".maps");

/* Per-source buckets: a set-associative table, IG_WAYS sources per set (see
 * struct ig_source_set). The loader sizes it (--max-sources / IG_WAYS sets, a
 * power of two) and puts the mask in ig_cfg.set_mask. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_DEFAULT_SETS);
	/* mmap-able: a reload's rescale changes each way's tat with a
	 * compare-and-swap from user space, as the data path does, instead of
	 * writing back whole sets read earlier (which lost charges made in
	 * between and could revert a way claimed meanwhile) */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ig_source_set);
} sources SEC(".maps");

/* Per-CPU verdict counters per slot (slot 0: traffic for no protected port),
 * by enum ig_reason. Per-CPU so counting never bounces a cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_stats);
} port_stats SEC(".maps");

/* Host-wide tunables (key 0). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_globals);
} globals SEC(".maps");

/* The reject budget's own bucket (key 0): caps replies host-wide so that a
 * spoofed flood cannot turn us into a reflector. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_bucket);
} reject_state SEC(".maps");

/* See struct ig_seed: read by the loader only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct ig_seed);
} seed SEC(".maps");

/* Circuit breakers by TCP port (struct ig_breaker): the agent and the operator
 * write them, the ingress path reads one per packet to a breaker port. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct ig_breaker);
} breakers SEC(".maps");

/* Connections to a breaker port sent to the fallback (struct ig_flow), from
 * the moment the client acknowledged the SYN-ACK: spoofed SYNs never get here
 * (their decision waits in `pending`). LRU: a full table forgets the least
 * recently used connection, which then stays wherever its packets are
 * addressed (the primary). The loader may resize it (--max-flows). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IG_DEFAULT_FLOWS);
	__type(key, struct ig_flow_key);
	__type(value, struct ig_flow);
} flows SEC(".maps");

/* Passive health per breaker port (struct ig_health), per CPU: the agent sums
 * the CPUs and takes differences over its window. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IG_MAX_BREAKERS);
	__type(key, __u32);
	__type(value, struct ig_health);
} health SEC(".maps");

/* Ports that some connection was steered to (non-zero value): replies from
 * them are looked up in `flows` on egress, no other reply pays for a lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} fallback_ports SEC(".maps");

/* Fair share levels of each protected port, by slot (struct ig_limits):
 * written by the CLI and the agent, read on charges of IG_POL_F_HIER ports. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_limits);
} port_limits SEC(".maps");

/* The port-wide and newcomer buckets, by slot (struct ig_port_state): kept
 * apart from port_limits so that a reload rewrites limits, never state. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_port_state);
} port_state SEC(".maps");

/* Refusals by level and slot (struct ig_level_stats), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_level_stats);
} level_stats SEC(".maps");

/* Per-prefix buckets: the same set-associative table as `sources`, keyed by
 * the masked address (with the prefix length in the hash). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_DEFAULT_PREFIX_SETS);
	__type(key, __u32);
	__type(value, struct ig_source_set);
} prefixes SEC(".maps");

/* Tiers by CIDR (struct ig_tier), most specific prefix wins. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, IG_MAX_TIER_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ig_lpm_key);
	__type(value, struct ig_tier);
} tiers SEC(".maps");

/* API keys the operator loaded, by their seeded hash (struct ig_key). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IG_MAX_KEYS);
	__type(key, __u64);
	__type(value, struct ig_key);
} keys SEC(".maps");

/* The seed of the keys' hashes when a fleet shares one (struct ig_key_seed). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_key_seed);
} key_seed SEC(".maps");

/* How an api-key port charges requests without a known key, by slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_key_policy);
} key_policy SEC(".maps");

/* The load balancers whose PROXY headers are believed (proxy-source). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, IG_MAX_PROXY_FROM);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ig_lpm_key);
	__type(value, __u32);
} proxy_from SEC(".maps");

/* The client a PROXY header named, per connection. An LRU like http_conns:
 * a connection pushed out is charged to its load balancer's address, which
 * limits more, never less. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IG_DEFAULT_HTTP_CONNS);
	__type(key, struct ig_flow_key);
	__type(value, struct ig_proxy_conn);
} proxy_conns SEC(".maps");

/* Names of the named tiers, by id: for bpftool and status only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_MAX_TIERS);
	__type(key, __u32);
	__type(value, struct ig_tier_name);
} tier_names SEC(".maps");

/* A named tier's per-source rate on a port (struct ig_tier_key -> ig_rate). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IG_MAX_TIERS * 64);
	__type(key, struct ig_tier_key);
	__type(value, struct ig_rate);
} tier_policy SEC(".maps");

/* LLM-token budgets per client and port (struct ig_token_state). LRU: a full
 * table forgets the client that spent longest ago, debt and all; sized well
 * above the clients a host serves, that is one that has long repaid it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IG_DEFAULT_TOKEN_CLIENTS);
	__type(key, struct ig_client_key);
	__type(value, struct ig_token_state);
} tokens SEC(".maps");

/* How each server socket's responses are being read for the token count
 * (pure/resp.h). Socket storage: it lives and dies with the socket, so a
 * flood of connections costs the server its sockets before it costs this. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ig_resp_state);
} resp_socks SEC(".maps");

/* Which rule counted the replies of each token-budget port (by slot). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_token_rules);
} token_rules SEC(".maps");

/* Response-time histograms of each timed port (by slot), and what counts as
 * a slow call there (ig_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_timing);
} timing SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_timing_cfg);
} timing_cfg SEC(".maps");

/* Adaptive admission's decisions, by slot: the agent's, for status. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_adaptive);
} adaptive SEC(".maps");

/* max-conns: the counted connections, and the count per client. Plain hashes,
 * not LRU: an evicted entry would never be uncounted. Only a completed
 * handshake makes an entry, a count goes at zero, and when either is full a
 * new connection is refused: spoofed packets cannot fill them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IG_DEFAULT_CONNS);
	__type(key, struct ig_flow_key);
	__type(value, struct ig_conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IG_DEFAULT_TOKEN_CLIENTS);
	__type(key, struct ig_client_key);
	__type(value, __s64);
} conn_counts SEC(".maps");

/* Requests in flight (IG_POL_F_INFLIGHT): the cap per slot, written by user
 * space, and the records the data path takes and gives back (ig_abi.h, pure/
 * inflight.h). Two maps: a whole-value write of the cap must not land on
 * records another CPU is changing. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_inflight_cfg);
} inflight_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct ig_inflight);
} inflight SEC(".maps");

/* Whose count a counted connection holds when it is not its source's: the
 * client a PROXY header named (proxy-source ports). Keyed like `conns`, made
 * with its entry and gone with it; a hash for the same reason (an entry
 * pushed out would give the slot back to the balancer, never to the client,
 * who would stay counted for good). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IG_DEFAULT_CONNS);
	__type(key, struct ig_flow_key);
	__type(value, struct ig_proxy_conn);
} conn_clients SEC(".maps");

/* Fleet-wide limits: what was admitted per source, and who is blocked until
 * when (see IG_POL_F_FLEET). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IG_DEFAULT_FLEET_CLIENTS);
	__type(key, struct ig_client_key);
	__type(value, __u64);
} fleet_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IG_DEFAULT_FLEET_CLIENTS);
	__type(key, struct ig_client_key);
	__type(value, __u64);
} fleet_block SEC(".maps");

/* Sampled drop events for the agent (struct ig_event). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, IG_EVENTS_BYTES);
} events SEC(".maps");

/* When this CPU last sampled a drop (data-path ns): the gate of `events`.
 * Not pinned: a lost gate only lets one more event through. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} event_gate SEC(".maps");

/* Per-CPU scratch space for the breaker stage's keys: BPF stack is 512 bytes
 * for the whole call chain and the limiter already takes half of it. Not
 * pinned: nothing in it outlives one packet. */
struct ig_steer_scratch {
	struct ig_flow_key key;
	struct ig_flow_key rkey;
	struct ig_flow flow;
	struct ig_pending pend;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_steer_scratch);
} steer_scratch SEC(".maps");

/*
 * Who the request stage found a segment's requests to be for (an API key, the
 * client of a PROXY header), for the charge stage, the 429 and the event that
 * follow in the same run of the program. Stamped with the segment (its
 * sequence number and client port): a stage that finds another stamp reads
 * the packet's own source address. Not pinned.
 */
enum ig_client_kind {
	IG_CK_ADDR = 0,	 /* the packet's source address */
	IG_CK_KEY = 1,	 /* an API key's hash, in `hash` */
	IG_CK_PROXY = 2, /* the address a PROXY header carried, in `client` */
};

struct ig_client_scratch {
	__u8 client[16]; /* who was charged (the charge stage's) */
	__u64 hash;
	__u64 rate;	 /* the rate and burst it was charged at (for Retry-After) */
	__u64 burst;
	__u32 seq;
	__u16 sport;
	__u8 kind;	 /* enum ig_client_kind */
	__u8 charged;	 /* client, rate and burst are the charge stage's */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_client_scratch);
} client_scratch SEC(".maps");

/* The same for the fair-share stage's keys (fairshare.h). (Its refunds hold
 * pointers, which only the stack can: spilled to a map they would become
 * plain numbers to the verifier.) */
struct ig_hier_scratch {
	struct ig_flow_key flow;
	struct ig_client_key client;
	struct ig_lpm_key lpm;
	/* a reply segment for the token stage (its own frame: see core.h) */
	__u32 tok_seq;
	__u32 tok_off;
	__u32 tok_len;
	__u32 tok_slot;
	__u32 tok_mode;
	__u64 tok_owner; /* IG_EGRESS_INFLIGHT: whose records the reply's ends give back */
	__u32 inf_taken; /* records the charge stage took for this segment (inflight.h) */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_hier_scratch);
} hier_scratch SEC(".maps");

/* Connections in their handshake (struct ig_pending): see there. Not pinned:
 * nothing in it outlives a handshake. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IG_DEFAULT_PENDING);
	__type(key, struct ig_flow_key);
	__type(value, struct ig_pending);
} pending SEC(".maps");

/* Request framing per connection of a `request` port (struct ig_http_conn). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IG_DEFAULT_HTTP_CONNS);
	__type(key, struct ig_flow_key);
	__type(value, struct ig_http_conn);
} http_conns SEC(".maps");

/* When each slot last answered a 429 (data-path ns): until a few seconds
 * after, its pure ACKs are looked up (one may be a refused client's). Not
 * pinned: a lost time only delays one teardown to the client's FIN. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} http_refused SEC(".maps");

#endif /* IG_MAPS_H */
