/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one ABI between the BPF programs and user space: every map key and value,
 * every enum, the load-time config. User space includes this file and never
 * re-declares any of it. Layouts are explicit (padding named, sizes asserted)
 * because `bpftool map update ... value hex ...` writes raw bytes into them.
 */
#ifndef IG_ABI_H
#define IG_ABI_H

#ifdef __bpf__
#include "vmlinux.h" /* __u8 .. __u64 as the BPF side has them */
#else
#include <linux/types.h>
#endif
#include "pure/http_fsm.h" /* struct ig_http_state */
#include "pure/resp.h" /* struct ig_resp_state, enum ig_token_count */

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
	IG_UNIT_REQUEST = 3, /* an HTTP request a client starts (HTTP/1.x, h2c streams); TCP */
	IG_UNIT_MAX,
};

/* What happens to a packet over its limit. */
enum ig_action {
	IG_ACTION_DROP = 0,
	IG_ACTION_REJECT = 1, /* TCP RST or ICMP port unreachable, within the reject budget;
			       * HTTP 429 on a `request` port */
	IG_ACTION_429 = 2,    /* HTTP 429: on a `conn` port the SYN is answered with a SYN
			       * cookie and the request that follows with the 429 (TCP only) */
	IG_ACTION_MAX,
};

/*
 * A rate as the operator wrote it: N units per period ("3/min", "500/d",
 * "5/10s"). Every rate field of every map (policy, levels, tiers, keys'
 * anonymous rate, the reject budget, the token budget) is one u64 of this
 * form, so no layout changed, and a 0.9 map's rates (period bits 0) read as
 * they always did, N per second:
 *   bits  0..39  N, 1 .. IG_RATE_MAX
 *   bits 40..63  the period in seconds, 1 .. IG_RATE_PERIOD_MAX; 0 is the
 *                field's default (a second; a minute for tokens_per_min)
 * Kept as written rather than reduced to per-second: 3/min is 0.05/s, which
 * no integer per-second rate is, and status shows what was written.
 */
#define IG_NSEC_PER_SEC 1000000000ULL
#define IG_RATE_N_BITS 40
#define IG_RATE_N_MASK ((1ULL << IG_RATE_N_BITS) - 1)
#define IG_RATE_MAX 1000000000000ULL /* N; 8 Tbit/s of bytes per second */
#define IG_RATE_PERIOD_MAX 86400ULL	 /* a day */
/* The refill time of a full burst, burst * period / N, at most: what the
 * 64-bit TAT holds with room for the clock (317 years; 1e10 at 1/s). */
#define IG_RATE_MAX_REFILL_S IG_MAX_BURST
#define IG_TOKEN_PERIOD_S 60ULL /* a token budget's default period */

static __inline __u64 ig_rate_n(__u64 rate)
{
	return rate & IG_RATE_N_MASK;
}

/* The period in seconds; dflt when the field says 0. > IG_RATE_PERIOD_MAX
 * only from a hand-written map: the data path then refuses everything. */
static __inline __u64 ig_rate_period(__u64 rate, __u64 dflt)
{
	__u64 s = rate >> IG_RATE_N_BITS;

	return s ? s : dflt;
}

/* N per period_s seconds, period dflt stored as 0 (the canonical form). */
static __inline __u64 ig_rate_make(__u64 n, __u64 period_s, __u64 dflt)
{
	return (n & IG_RATE_N_MASK) | (period_s == dflt ? 0 : period_s << IG_RATE_N_BITS);
}

/*
 * Policy of one protected (protocol, port): map `port_policy`, an ARRAY indexed by
 * IG_PORT_INDEX so the per-packet lookup is an inlined array access.
 * slot == 0 means "not protected"; slots index `port_stats` and are handed out by
 * the CLI. A protected port with rate == 0 refuses every unit (the CLI never
 * writes that; a bpftool edit can, and it fails closed rather than dividing by 0).
 */
struct ig_policy {
	__u64 rate;  /* units per period (the rate word above) */
	__u64 burst; /* units; also what a new source starts with */
	__u32 slot;  /* 1 .. IG_MAX_SLOTS-1 when protected, 0 when not */
	enum ig_unit unit;
	enum ig_action action;
	__u32 flags; /* IG_POL_F_* */
};

/* Dry run: over-limit packets are counted as what would have happened
 * (IG_R_DRY_DROP / IG_R_DRY_REJECT) and passed; nothing is dropped. */
#define IG_POL_F_DRY_RUN 0x1
/* Fair share: charges on this port go through the whole hierarchy (tiers,
 * prefix, port, newcomer budget, token budget, max-conns: `port_limits`
 * [slot]) instead of the source's bucket alone. The CLI sets it whenever the
 * port has any such level or any tier exists; a bpftool user sets it by hand. */
#define IG_POL_F_HIER 0x2
/* max-conns is on: a FIN or RST to or from this port frees a connection slot
 * (without it, those packets cost nothing and are not looked at). */
#define IG_POL_F_CONNS 0x4
/* a token budget is on: the egress program charges replies from this port */
#define IG_POL_F_TOKENS 0x8
/* fleet-wide limit (issue 7): admitted units are counted per source in
 * `fleet_counts` for the agent to publish, and sources the fleet has spent
 * are refused while `fleet_block` says so. Needs IG_POL_F_HIER. */
#define IG_POL_F_FLEET 0x10
/* How a token-budget port's replies are counted (enum ig_token_count), two
 * bits of the flags so that a policy written by 0.6 (0: usage) keeps its
 * layout; 3 is read as bytes. */
#define IG_POL_COUNT_SHIFT 5
#define IG_POL_COUNT_MASK (3U << IG_POL_COUNT_SHIFT)
#define IG_POL_COUNT(flags) (((flags) & IG_POL_COUNT_MASK) >> IG_POL_COUNT_SHIFT)
/* Response times (issue 15): the egress program reads this port's replies
 * for when each response began, its first token came and it ended (map
 * `timing`). The CLI sets it on every `request` port and token-budget port. */
#define IG_POL_F_TIMED 0x80
/*
 * Who the client of a charge is (issue 16), two bits of the flags (0, all a
 * policy written before 0.9 has: its source address):
 * - api-key (a `request` port): the API key a request's headers carry, as a
 *   seeded hash (pure/apikey.h), when map `keys` holds it; a request without
 *   one, or with a key `keys` does not hold, is charged to its source
 *   address at the anonymous rate (`key_policy`): a made-up key buys nothing.
 * - proxy-source: the client address of the PROXY protocol header the
 *   connection starts with (from a load balancer in `proxy_from` only).
 * Both need IG_POL_F_HIER (the charge stage reads the client out of the
 * request stage's scratch); a policy without it is charged by address.
 */
enum ig_key_mode {
	IG_KEY_SOURCE = 0,
	IG_KEY_API = 1,
	IG_KEY_PROXY = 2,
	IG_KEY_MODE_MAX,
};
#define IG_POL_KEY_SHIFT 8
#define IG_POL_KEY_MASK (3U << IG_POL_KEY_SHIFT)
#define IG_POL_KEY(flags) (((flags) & IG_POL_KEY_MASK) >> IG_POL_KEY_SHIFT)
/* api-key: a key `keys` does not hold is a client of its own too (each
 * made-up key then pays the newcomer budget, if any, and nothing more) */
#define IG_POL_F_ANY_KEY 0x400
/*
 * How the port counts (issue 17), two bits of the flags (0, all a policy
 * written before 0.11 has: the token bucket). It applies to the source,
 * prefix and port levels (and the tier and key rates, which are source
 * rates); the newcomer, reject and token budgets stay token buckets. A
 * level's window is its rate word's period: 60/min counts per minute.
 * - token-bucket: GCRA, `burst` units at most at once (pure/bucket.h);
 * - fixed-window: at most N units per aligned window of the period;
 * - sliding-window: the previous window's count weighted by the share of it
 *   still inside a window ending now, plus the current one's, at most N;
 * - leaky-bucket: GCRA with a burst of 1 whatever `burst` says: even spacing.
 * State words of the windows: pure/window.h.
 */
enum ig_algo {
	IG_ALGO_TOKEN_BUCKET = 0,
	IG_ALGO_FIXED_WINDOW = 1,
	IG_ALGO_SLIDING_WINDOW = 2,
	IG_ALGO_LEAKY_BUCKET = 3,
	IG_ALGO_MAX,
};
/* requests in flight are capped (`inflight_cfg`); the CLI sets it with the
 * cap, on `request` ports (whose replies are read: IG_POL_F_TIMED) only */
#define IG_POL_F_INFLIGHT 0x2000
#define IG_POL_ALGO_SHIFT 11
#define IG_POL_ALGO_MASK (3U << IG_POL_ALGO_SHIFT)
#define IG_POL_ALGO(flags) (((flags) & IG_POL_ALGO_MASK) >> IG_POL_ALGO_SHIFT)
/*
 * A window's state, in the 8 bytes a bucket's TAT has (a source's way, the
 * port's word): a tag, the window's number (now / window) modulo its bits,
 * and the counts. The tag tells the three kinds apart, so that a word left by
 * another algorithm (a port limited again after an unlimit) reads as empty
 * rather than as nonsense: a TAT (ns, < 2^63) has bit 63 clear, and a
 * bucket reads a tagged word as full. A count read against the wrong window
 * (a source back after exactly 2^22 windows, 2^14 for the sliding one) can
 * only refuse, never admit, more.
 * - fixed:   bit 63 1, bit 62 0, bits 40..61 window number, bits 0..39 units
 *            counted in it;
 * - sliding: bits 63, 62 1, bits 48..61 window number, bits 24..47 the
 *            previous window's units, bits 0..23 the current one's (N at
 *            most 2^24 - 1).
 */
#define IG_WIN_TAG_SHIFT 62
#define IG_WIN_TAG_FIXED 2ULL
#define IG_WIN_TAG_SLIDING 3ULL
#define IG_FW_COUNT_BITS 40
#define IG_FW_COUNT_MAX ((1ULL << IG_FW_COUNT_BITS) - 1)
#define IG_SW_COUNT_BITS 24
#define IG_SW_COUNT_MAX ((1ULL << IG_SW_COUNT_BITS) - 1)
#define IG_SW_IDX_SHIFT 48

/*
 * The levels of fair share, map `port_limits` (ARRAY[IG_MAX_SLOTS], indexed by
 * the port's slot). A rate of 0 switches a level off. A charge is admitted only
 * if every level admits it; a refusal at one level is refunded to the levels
 * it had already passed, so a refused packet costs nobody anything.
 */
struct ig_limits {
	__u64 prefix_rate;  /* rate word: all sources of one prefix together */
	__u64 prefix_burst;
	__u64 port_rate;    /* rate word: all sources of the port together */
	__u64 port_burst;
	__u64 newcomer_rate; /* rate word: sources without state admitted (their
			      * first unit is also charged here), all together */
	__u64 newcomer_burst;
	__u64 tokens_per_min; /* LLM-token budget per source, N per period (the
			       * rate form below; period 0 = a minute): a
			       * period's worth is what a source may owe
			       * before it is refused */
	__u32 max_conns;      /* simultaneous connections per source (TCP) */
	__u16 bytes_per_token; /* reply payload bytes per token (0: 4) */
	__u8 prefix_v4;       /* prefix length of the prefix level (0: 24) */
	__u8 prefix_v6;       /* (0: 64) */
};

#define IG_DEFAULT_PREFIX_V4 24
#define IG_DEFAULT_PREFIX_V6 64
#define IG_DEFAULT_BYTES_PER_TOKEN 4

/* Data-path state of the port-wide levels, map `port_state` (ARRAY by slot).
 * Two GCRA words; padded to a cache line of its own per slot. */
struct ig_port_state {
	__u64 port_tat;
	__u64 newcomer_tat;
	__u64 _pad[6];
};

/* Where a charge was refused: counted per slot in `level_stats` and carried
 * in drop events, so status, top and metrics say which level refused whom. */
enum ig_level {
	IG_L_SOURCE = 0,   /* the source's own bucket (or its tier's) */
	IG_L_PREFIX = 1,   /* its /24 (IPv4) or /64 (IPv6), all sources together */
	IG_L_PORT = 2,     /* every source of the port together */
	IG_L_NEWCOMER = 3, /* a source without state, newcomer budget spent */
	IG_L_TABLE = 4,    /* its set of `sources` holds only active sources */
	IG_L_TOKENS = 5,   /* its LLM-token budget is in debt */
	IG_L_CONNS = 6,    /* it holds max-conns connections already */
	IG_L_DENY = 7,     /* in a deny tier */
	IG_L_FLEET = 8,    /* over its fleet-wide budget (blocked by the agent) */
	IG_L_INFLIGHT = 9, /* the port's requests in flight are at max_inflight */
	IG_L_MAX,
};

/* Refusals per level, per CPU, map `level_stats` (PERCPU_ARRAY by slot). On a
 * dry-run port these are what would have been refused. */
struct ig_level_stats {
	__u64 refused[IG_L_MAX];
};

/*
 * A source is "held" while its tat is less than IG_HOLD_NS in the past: its
 * way is not given to a new source even when its bucket is full again. A
 * flood of never-seen (spoofed) sources can then only take empty ways or ways
 * idle this long, never the state of a source that is really talking; a new
 * source whose set holds only held sources is refused (level IG_L_TABLE),
 * unless it paid the newcomer budget and one of them has been idle a second
 * (IG_TAKE_NS in sources.h).
 */
#define IG_HOLD_NS (5ULL * 1000000000ULL)

/*
 * Tiers, map `tiers`: an LPM trie of CIDRs, most specific wins. IPv4 prefixes
 * are stored IPv4-mapped (::ffff:a.b.c.d), i.e. with prefixlen 96 + len; an
 * IPv6 prefix reaches IPv4 sources only when written inside ::ffff:0:0/96
 * (IG_TIER_FENCE keeps a shorter one off them).
 */
struct ig_lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};

enum ig_tier_kind {
	IG_TIER_LIMIT = 0, /* a named tier: its own rate per port (`tier_policy`) */
	IG_TIER_ALLOW = 1, /* never limited (counted IG_R_PASS_ALLOW) */
	IG_TIER_DENY = 2,  /* always refused, dropped without a reply (IG_R_DROP_DENY) */
	/* The family fence: ::ffff:0:0/96 (IPv4's 0.0.0.0/0) when an IPv6 prefix
	 * shorter than /96 covers it, so that `::/0 deny` leaves IPv4 alone. As
	 * if no prefix matched: the data path reads it as a tier with id 0, which
	 * has no rates. User space writes and hides it; a prefix the user writes
	 * at that key replaces it. */
	IG_TIER_FENCE = 3,
	IG_TIER_KIND_MAX,
};

struct ig_tier {
	enum ig_tier_kind kind;
	__u32 id; /* IG_TIER_LIMIT: 1 .. IG_MAX_TIERS-1, index of `tier_names` */
};

#define IG_MAX_TIERS 64
#define IG_MAX_TIER_PREFIXES 16384
#define IG_TIER_NAME_LEN 24

/* Names of the named tiers, map `tier_names` (ARRAY[IG_MAX_TIERS] by id): for
 * people and tools only, the data path never reads them. "" = unused. */
struct ig_tier_name {
	char name[IG_TIER_NAME_LEN];
};

/* A named tier's rate on one port, map `tier_policy` (HASH). A member of a
 * tier without an entry for the port gets the port's own per-source rate. */
struct ig_tier_key {
	__u32 tier;
	__u16 port;  /* host byte order */
	__u8 proto;  /* enum ig_proto */
	__u8 _pad;
};

struct ig_rate {
	__u64 rate;
	__u64 burst;
};

/* One client of one port: the key of `tokens` and `conn_counts`. */
struct ig_client_key {
	__u8 addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	__u16 port;    /* the protected port, host byte order */
	__u8 proto;    /* enum ig_proto */
	__u8 _pad;
};

/*
 * LLM-token budget of a client, map `tokens` (LRU_HASH): a GCRA word that may
 * run ahead of now without bound (a debt). With a budget of N tokens per
 * period W (`tokens_per_min`; W a minute unless written otherwise),
 * spending t tokens moves `tat` by t * W / N ns; the balance is a period's
 * worth minus the debt, so new connections are refused while
 * tat >= now + W, and admitted again once it has refilled past zero.
 * `spent`: tokens charged so far (for status), less what a usage report gave
 * back.
 */
struct ig_token_state {
	__u64 tat;
	__u64 spent;
};

/* W of a token budget, in ns (a minute for a 0.9 budget). */
static __inline __u64 ig_token_window(__u64 tokens_per_min)
{
	return ig_rate_period(tokens_per_min, IG_TOKEN_PERIOD_S) * IG_NSEC_PER_SEC;
}

/* What the replies of a token-budget port were counted by, per CPU, map
 * `token_rules` (PERCPU_ARRAY by slot): the responses whose count each rule
 * ended, and what they finally cost (a usage report's correction included),
 * with the bytes of what could not be read under bytes. Both only grow. */
struct ig_token_rules {
	__u64 responses[IG_TC_MAX];
	__u64 tokens[IG_TC_MAX];
};
#define IG_DEFAULT_TOKEN_CLIENTS 65536

/*
 * Response times of a timed port (IG_POL_F_TIMED), map `timing` (PERCPU_ARRAY
 * by slot), as Prometheus histograms: bucket k (k < IG_TIME_BUCKETS - 1)
 * counts times <= 2^k ms, the last one the rest (+Inf); not cumulative here.
 * A time runs from the request's arrival (the socket's last received data
 * when the response began) to the response's first byte, or for an event
 * stream to its first event (ttft), and to its end where the framing says
 * where that is (dur). The data path's clock is jiffies: times are whole
 * ticks (4 ms at HZ=250).
 */
#define IG_TIME_BUCKETS 18 /* 1 ms .. 65.536 s, +Inf */
struct ig_timing {
	__u64 ttft[IG_TIME_BUCKETS];
	__u64 dur[IG_TIME_BUCKETS];
	__u64 ttft_sum_ns;
	__u64 dur_sum_ns;
	__u64 slow;	/* responses whose duration reached timing_cfg's slow_ns */
	__u64 _pad;
};
_Static_assert(sizeof(struct ig_timing) == 320, "ig_timing layout");

/* What a timed port's slow call is, map `timing_cfg` (ARRAY by slot), written
 * by the agent from a breaker's slow_call_duration; 0: none is counted. */
struct ig_timing_cfg {
	__u64 slow_ns;
};

/*
 * Adaptive admission (issue 15), map `adaptive` (ARRAY by slot): what the
 * agent concluded for a port whose port-level rate it drives, and from what.
 * Written by the agent only, read by status, top and metrics; the data path
 * never reads it (the rate itself goes to port_limits).
 */
enum ig_adaptive_mode {
	IG_AD_OFF = 0,
	IG_AD_ENGINE = 1,  /* from the engine's own metrics (queue, KV cache) */
	IG_AD_LATENCY = 2, /* from the kernel-measured time to first token */
	IG_AD_MODE_MAX,
};

enum ig_adaptive_state {
	IG_AS_TRACKING = 0, /* inputs fresh: the rate follows them */
	IG_AS_FROZEN = 1,   /* inputs older than 1 s: the rate held */
	IG_AS_STATIC = 2,   /* inputs older than 5 s (or none yet): the static limit */
	IG_AS_STATE_MAX,
};

struct ig_adaptive {
	__u64 rate;	     /* the port rate set (units/s: adaptive takes per-second rates only) */
	__u64 static_rate;   /* the configured port rate, the fallback */
	__u64 updated_ms;    /* CLOCK_REALTIME ms of the agent's last decision */
	__u32 mode;	     /* enum ig_adaptive_mode */
	__u32 state;	     /* enum ig_adaptive_state */
	__u32 queue_milli;   /* the engine's waiting requests, x1000 */
	__u32 running_milli; /* its running requests, x1000 */
	__u32 kv_milli;	     /* its KV-cache use, x1000 (0..1000) */
	__u32 ttft_p50_us;   /* kernel-measured, over the last interval */
	__u32 ttft_p99_us;
	/* the engine's capacity estimated for adaptive_headroom, requests/s
	 * x1000 (0: not known, or no headroom); was padding before 0.13, so
	 * an older agent's records read as not known */
	__u32 capacity_milli;
};
_Static_assert(sizeof(struct ig_adaptive) == 56, "ig_adaptive layout");

/*
 * Requests in flight (max_inflight, issue 15): a `request` port with
 * IG_POL_F_INFLIGHT has at most `max` requests admitted and not yet answered.
 * Map `inflight_cfg` (ARRAY[IG_MAX_SLOTS], CLI and agent) says how many; map
 * `inflight` (ARRAY[IG_MAX_SLOTS], the data path's) holds one word per
 * request in flight: 0 free, else who took it and when (pure/inflight.h: the
 * seeded hash of its connection, bits 40..63; of its client, bits 24..39; the
 * time, bits 0..23, in 2^IG_INFLIGHT_TICK_SHIFT ns units). One word, so that
 * a record is taken, given back or taken over by one compare-and-swap, and
 * there is no count to drift. It is given back when its response ends
 * (egress), when its connection ends (a FIN or RST from the client, a 429's
 * teardown), and is free anyway `timeout_s` after it was taken (a client gone
 * silent, a response whose end was not seen): nothing leaked stays taken.
 * Only the first `max` records are looked at: when the cap is lowered (max_
 * inflight = auto follows the engine), those above it count for nothing,
 * and no longer once expired if it is raised again.
 */
#define IG_INFLIGHT_MAX 256
#define IG_INFLIGHT_TICK_SHIFT 26 /* 67 ms; 24 bits of them wrap in 13 days */
#define IG_INFLIGHT_TIMEOUT_S 300 /* the default: a long generation still ends in it */

struct ig_inflight_cfg {
	__u32 max;	  /* 0: no cap; else 1 .. IG_INFLIGHT_MAX */
	__u32 timeout_s;  /* a record is free this long after it was taken (0: the default) */
	__u32 per_client; /* at most this many of them one client's (0: no cap) */
	__u32 flags;	  /* IG_INFLIGHT_F_* */
};

/* While the port is contended (another client was refused for want of a
 * record within IG_INFLIGHT_CONTENDED_TICKS), a client holds at most its
 * fair share: max / the clients holding records (rounded up). Otherwise any
 * free record is anyone's: no record idles while someone wants it. */
#define IG_INFLIGHT_F_FAIR 0x1
#define IG_INFLIGHT_CONTENDED_TICKS 15 /* ~1 s */

struct ig_inflight {
	__u64 rec[IG_INFLIGHT_MAX];
	__u64 refused; /* the last refusal: its client's bits and stamp, as a record's */
};

/*
 * API keys (IG_KEY_API): map `keys` (HASH, __u64 hash -> struct ig_key) holds
 * the keys the operator loaded, by the seeded hash of their text (never the
 * text). A key's client is IG_KEY_NET + its hash: 100::/64 (RFC 6666, the
 * discard-only prefix, which no sender has on the wire), so that the address
 * tables (`sources`, fleet_*) hold it next to addresses without confusing
 * the two; the prefix level leaves it alone.
 */
#define IG_KEY_NAME_LEN 24
#define IG_MAX_KEYS 65536
struct ig_key {
	__u32 tier;  /* a named tier (rates in `tier_policy`), or 0: the port's rate */
	__u32 flags; /* IG_KEY_F_* */
	char name[IG_KEY_NAME_LEN]; /* for people and tools; the data path never reads it */
};
#define IG_KEY_F_DENY 0x1 /* refused on every api-key port (a revoked key) */

static __inline void ig_key_client(__u8 *addr, __u64 hash)
{
	int i;

	addr[0] = 0x01;
	for (i = 1; i < 8; i++)
		addr[i] = 0;
	for (i = 0; i < 8; i++)
		addr[8 + i] = (__u8)(hash >> (56 - 8 * i));
}

static __inline int ig_key_is_client(const __u8 *addr)
{
	return addr[0] == 0x01 && !addr[1] && !addr[2] && !addr[3] && !addr[4] && !addr[5] &&
	       !addr[6] && !addr[7];
}

static __inline __u64 ig_key_of_client(const __u8 *addr)
{
	__u64 h = 0;
	int i;

	for (i = 0; i < 8; i++)
		h = h << 8 | addr[8 + i];
	return h;
}

/* The seed API keys are hashed with, map `key_seed` (ARRAY[1], key 0): the
 * instance's own hash seed (`seed`) unless `set`. The nodes of a fleet share
 * one (`infergate key seed --seed-file`), so that a key hashes alike on each
 * and is one client everywhere (its Redis key is its hash). */
struct ig_key_seed {
	__u64 seed;
	__u32 set;
	__u32 _pad;
};

/* Per port, map `key_policy` (ARRAY by slot): how requests without a (known)
 * key are charged on an api-key port: to their source address, at the
 * anonymous rate when IG_KP_F_ANON (a rate of 0 then refuses them all), else
 * at the port's rate. */
struct ig_key_policy {
	__u64 anon_rate;
	__u64 anon_burst;
	__u32 flags; /* IG_KP_F_* */
	__u32 _pad;
};
#define IG_KP_F_ANON 0x1

/* proxy-source: map `proxy_from` (LPM_TRIE, struct ig_lpm_key -> __u32, IPv4
 * IPv4-mapped as in `tiers`): the load balancers whose PROXY headers are
 * believed; a connection from anywhere else that starts with one is refused.
 * The client address a header carried, per connection: map `proxy_conns`
 * (LRU_HASH, struct ig_flow_key with dir IG_DIR_PROXY -> struct ig_proxy_conn).
 * max-conns counts such a connection for that client (0.13): map
 * `conn_clients` (HASH, the connection's `conns` key, dir IG_DIR_COUNTED ->
 * struct ig_proxy_conn) says whose count its end gives back. */
#define IG_MAX_PROXY_FROM 1024
struct ig_proxy_conn {
	__u8 client[16]; /* IPv4 as ::ffff:a.b.c.d */
	__u16 port;      /* the client's port, host byte order */
	__u8 family;     /* 4 or 6; 0: the header carried none (LOCAL): the LB's own */
	__u8 _pad[5];
};

/* max-conns: one entry per counted connection, map `conns` (HASH, key struct
 * ig_flow_key with dir IG_DIR_COUNTED); the count per client in `conn_counts`
 * (HASH, struct ig_client_key -> __s64, deleted at zero). A connection is
 * counted when its handshake completes (see struct ig_pending) and uncounted
 * by whoever deletes its entry first: the server's FIN or RST, or a client
 * RST the kernel acts on. */
struct ig_conn {
	__u32 isn;
	__u32 _pad;
	__u64 since_ns;
};

#define IG_DEFAULT_CONNS 262144

/*
 * Fleet-wide limits: the data path never asks Redis. It counts what it
 * admitted per source of an IG_POL_F_FLEET port in `fleet_counts` (LRU_HASH,
 * struct ig_client_key -> __u64, only ever grows), and refuses a source while
 * its entry in `fleet_block` (HASH, struct ig_client_key -> __u64) is later
 * than now (data-path ns): the agent writes it when the fleet's shared
 * bucket says the source is spent, for as long as the fleet needs to refill.
 */
#define IG_DEFAULT_FLEET_CLIENTS 65536

/* Slot 0 of `port_stats` counts traffic that is not for a protected port. */
#define IG_MAX_SLOTS 256

/* Largest burst accepted (the GCRA's products are exact in 128 bits; this
 * is what keeps a full burst's refill time, with IG_RATE_MAX_REFILL_S,
 * inside a 64-bit ns TAT). */
#define IG_MAX_BURST 10000000000ULL

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
	IG_R_PASS_ALLOW = 16,    /* from an allow tier: never charged */
	IG_R_DROP_DENY = 17,     /* from a deny tier: dropped, never answered */
	/* Frames the host would accept but the parser cannot judge: dropped, as
	 * passed each would reach a limited port uncharged. */
	IG_R_DROP_DEEP = 18,     /* more VLAN tags (2) or IPv6 extension headers (6) than walked */
	IG_R_DROP_FRAGMENT = 19, /* a first fragment without the whole TCP/UDP header, or a
				  * later fragment that would overlap it (RFC 1858, 7112);
				  * on a request port, any first fragment with data */
	IG_R_DROP_UNREAD = 20,   /* TC: the headers lie past the skb's linear part */
	IG_R_DROP_NO_REPLY = 21, /* a reply was due, but the sender is no single host or the
				  * packet went to a group (broadcast, multicast, ...) */
	IG_R_DROP_V4MAPPED = 22, /* IPv6 from ::ffff:0:0/96: no sender uses it on the wire, and
				  * it would spend the IPv4 address's state */
	/* `request` unit (struct ig_http_conn) */
	IG_R_REJECT_HTTP = 23,   /* over the limit: answered 429 on the connection, then FIN */
	IG_R_DROP_UNFRAMED = 24, /* data ahead of where the request framing has been followed
				  * (out of order): dropped, the client sends it again in order */
	IG_R_PASS_TEARDOWN = 25, /* the client's next segment after a 429, turned into the RST
				  * that closes the server's side of the connection */
	/* action 429 on a `conn` port (cookie.h) */
	IG_R_REJECT_COOKIE = 26, /* over the limit: the SYN answered with a SYN cookie */
	IG_R_DROP_COOKIE_ACK = 27, /* a cookie connection's segment other than its request
				    * (the handshake's ACK): no socket may be made of it */
	/* --key proxy-source (proxy.h) */
	IG_R_DROP_PROXY = 28,	 /* a PROXY header from an untrusted address, or malformed, or
				  * none from a trusted load balancer */
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
	 IG_REASON_BIT(IG_R_DRY_REJECT) | IG_REASON_BIT(IG_R_PASS_ALLOW) |                  \
	 IG_REASON_BIT(IG_R_PASS_TEARDOWN))
/* Reasons worth a sampled event (ring buffer `events`): what was refused, or
 * would have been. */
#define IG_REASONS_DRY (IG_REASON_BIT(IG_R_DRY_DROP) | IG_REASON_BIT(IG_R_DRY_REJECT))
#define IG_REASONS_TX                                                                      \
	(IG_REASON_BIT(IG_R_REJECT) | IG_REASON_BIT(IG_R_REJECT_OPEN) |                       \
	 IG_REASON_BIT(IG_R_REJECT_HTTP) | IG_REASON_BIT(IG_R_REJECT_COOKIE))

static inline enum ig_verdict ig_reason_verdict(enum ig_reason r)
{
	__u32 bit = IG_REASON_BIT((__u32)r & 31);

	if (bit & IG_REASONS_PASS)
		return IG_V_PASS;
	return (bit & IG_REASONS_TX) ? IG_V_TX : IG_V_DROP;
}

/* Room for reasons in the counters: a layout that new reasons do not change
 * (0.4's, sized by IG_R_MAX, is replaced at attach: counters restart). */
#define IG_R_SLOTS 32

/* Per-CPU counters of one slot, map `port_stats` (PERCPU_ARRAY[IG_MAX_SLOTS]). */
struct ig_stats {
	__u64 packets[IG_R_SLOTS];
	__u64 bytes[IG_R_SLOTS];
};

/* Global tunables, map `globals` (ARRAY[1], key 0). */
struct ig_globals {
	__u64 reject_rate;  /* rate word: replies, whole host; 0 = never reply */
	__u64 reject_burst; /* replies */
};

/* The source table's hash seed, map `seed` (ARRAY[2], key 0): random, made with
 * the instance and kept with it; the loader copies it into ig_config, so the
 * data path never looks it up. Changing it orphans every tracked source.
 *
 * Key 1 records the clock the instance was made with (IG_SEED_CLOCK_*): every
 * bucket, debt and block in the pinned maps is a time in that clock's domain,
 * so user space reads it from here rather than guessing it again from the
 * kernel's config (the two domains differ by months: a wrong guess turned a
 * charge into a months-long lock-out, and a rescale into a refill), and every
 * later attach loads the programs with the same clock. */
struct ig_seed {
	__u64 value;
};

#define IG_SEED_KEY_HASH 0
#define IG_SEED_KEY_CLOCK 1
/* value of key 1: recorded bit | tick_ns << 8 | enum ig_clock */
#define IG_SEED_CLOCK_RECORDED (1ULL << 63)

static __inline __u64 ig_clock_record(__u32 clock, __u64 tick_ns)
{
	return IG_SEED_CLOCK_RECORDED | (tick_ns << 8) | (clock & 0xff);
}

/* 0 and the clock when `rec` was recorded, -1 when it was not (key 1 of an
 * instance made before the record existed reads 0). */
static __inline int ig_clock_unrecord(__u64 rec, __u32 *clock, __u64 *tick_ns)
{
	if (!(rec & IG_SEED_CLOCK_RECORDED))
		return -1;
	*clock = (__u32)(rec & 0xff);
	*tick_ns = (rec & ~IG_SEED_CLOCK_RECORDED) >> 8;
	return 0;
}

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
 * breaker port is decided at its SYN (primary, probe or fallback); the decision
 * waits in `pending` (struct ig_pending) until the handshake completes, and a
 * connection sent to the fallback then gets its entry here, looked up by every
 * later packet, so flipping a breaker never moves an established connection
 * (one to the primary needs none: it goes where it is addressed). It also gets
 * a reverse entry (dir IG_DIR_REPLY, keyed by the port the server really uses)
 * through which the egress program finds the port to put back in replies.
 */
enum ig_flow_dir {
	IG_DIR_CLIENT = 0, /* key.server_port is the port the client dialed */
	IG_DIR_REPLY = 1,  /* key.server_port is the fallback port replies come from */
	IG_DIR_COUNTED = 2, /* map `conns`: key.server_port is the protected port */
	IG_DIR_HTTP = 3,    /* map `http_conns`: key.server_port is the protected port */
	IG_DIR_PROXY = 4,   /* map `proxy_conns`: key.server_port is the protected port */
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
	__u64 rst;               /* RSTs the primary port sent for connections a client
				  * opened: refused SYNs the breaker saw, aborts */
	__u64 conns[IG_ROUTE_MAX]; /* connections by where they went, once established */
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
	__u8 level;      /* enum ig_level, for a refusal by the limiter */
	__u8 _pad[3];
};
/* An event for a request charged to an API key carries the key's client
 * (ig_key_is_client()) in `source`; one through a PROXY header, the address
 * it carried. */

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
	__u32 prefix_set_mask; /* sets in `prefixes` minus one */
	__u64 hash_seed; /* copy of map `seed` */
};

/*
 * A connection in its handshake, map `pending` (LRU_HASH, key struct
 * ig_flow_key: dir IG_DIR_CLIENT with the dialed port, and for a connection
 * sent to a fallback also IG_DIR_REPLY with the fallback's port). Anyone can
 * make entries here with spoofed SYNs, so nothing here is trusted until the
 * client's ACK acknowledges the SYN-ACK (ack == server_isn + 1, a number only
 * a client that received the SYN-ACK knows): then a breaker's decision moves
 * to `flows`, a probe spends the half-open budget, and a max-conns port
 * counts the connection (`conns`). An LRU: a flood of handshakes pushes out
 * other handshakes, never an established connection's state.
 */
struct ig_pending {
	__u32 isn;        /* the client's initial sequence number */
	__u32 server_isn; /* the SYN-ACK's sequence number, once IG_PEND_F_SYNACK */
	__u16 dialed;     /* breaker: the port the client dialed */
	__u16 backend;    /* breaker: the port the connection is sent to */
	__u8 route;       /* breaker: enum ig_route */
	__u8 flags;       /* IG_PEND_F_* */
	__u8 _pad[2];
};

#define IG_PEND_F_BREAKER 0x1 /* a breaker decided its route at the SYN */
#define IG_PEND_F_SYNACK 0x2  /* the server answered the SYN with a SYN-ACK */
#define IG_PEND_F_CONNS 0x4   /* a max-conns port: to be counted when it completes */
#define IG_DEFAULT_PENDING 65536

/*
 * A connection on a `request` port, map `http_conns` (LRU_HASH, key struct
 * ig_flow_key with dir IG_DIR_HTTP): how far the client's byte stream has been
 * followed (`next_seq`, and the framing scanner's state there), and the same
 * before the last charged segment, which a refused charge restores. Made
 * only for a segment of a connection the kernel holds (not for spoofed
 * segments); an LRU, so a flood of real connections pushes out the least
 * recently active, whose next segment then starts afresh (see bpf/README.md).
 */
struct ig_http_conn {
	struct ig_http_state scan;
	struct ig_http_state prev_scan;
	__u32 next_seq;
	__u32 prev_seq;
	union {
		__u32 refused_seq; /* IG_HC_F_REFUSED: the server's rcv_nxt, for the closing RST */
		/* otherwise: request-body bytes admitted since the server last
		 * began a response; the token counter takes them as the prompt
		 * (exchanging 0 in: the two sides never lose each other's) */
		__u32 body;
	};
	__u32 flags;       /* IG_HC_F_* */
};

#define IG_HC_F_REFUSED 0x1 /* answered 429: the client's next segment closes the server's side */
#define IG_DEFAULT_HTTP_CONNS 262144

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
IG_STATIC_ASSERT(__builtin_offsetof(struct ig_source, tat) == 8, "a refund finds the identity word just before the state word");
IG_STATIC_ASSERT(sizeof(struct ig_source_set) == 64, "one set, one cache line");
IG_STATIC_ASSERT(sizeof(struct ig_bucket) == 8, "ig_bucket layout");
IG_STATIC_ASSERT(sizeof(struct ig_stats) == 16 * IG_R_SLOTS, "ig_stats layout");
IG_STATIC_ASSERT(IG_R_MAX <= IG_R_SLOTS, "a counter for every reason");
IG_STATIC_ASSERT(sizeof(struct ig_globals) == 16, "ig_globals layout");
IG_STATIC_ASSERT(sizeof(struct ig_seed) == 8, "ig_seed layout");
IG_STATIC_ASSERT(sizeof(struct ig_config) == 32, "ig_config layout");
IG_STATIC_ASSERT(sizeof(struct ig_breaker) == 16, "ig_breaker layout");
IG_STATIC_ASSERT(sizeof(struct ig_event) == 24, "ig_event layout");
IG_STATIC_ASSERT(sizeof(struct ig_flow_key) == 40, "ig_flow_key layout");
IG_STATIC_ASSERT(sizeof(struct ig_flow) == 24, "ig_flow layout");
IG_STATIC_ASSERT(sizeof(struct ig_health) == 8 * (IG_HTTP_MAX + 2 + IG_ROUTE_MAX), "ig_health layout");
IG_STATIC_ASSERT(sizeof(struct ig_limits) == 64, "ig_limits layout");
IG_STATIC_ASSERT(sizeof(struct ig_port_state) == 64, "ig_port_state layout");
IG_STATIC_ASSERT(sizeof(struct ig_level_stats) == 8 * IG_L_MAX, "ig_level_stats layout");
IG_STATIC_ASSERT(IG_L_MAX <= 255, "a level fits the event's byte");
IG_STATIC_ASSERT(sizeof(struct ig_lpm_key) == 20, "ig_lpm_key layout");
IG_STATIC_ASSERT(sizeof(struct ig_tier) == 8, "ig_tier layout");
IG_STATIC_ASSERT(sizeof(struct ig_tier_name) == IG_TIER_NAME_LEN, "ig_tier_name layout");
IG_STATIC_ASSERT(sizeof(struct ig_tier_key) == 8, "ig_tier_key layout");
IG_STATIC_ASSERT(sizeof(struct ig_rate) == 16, "ig_rate layout");
IG_STATIC_ASSERT(sizeof(struct ig_client_key) == 20, "ig_client_key layout");
IG_STATIC_ASSERT(sizeof(struct ig_token_state) == 16, "ig_token_state layout");
IG_STATIC_ASSERT(sizeof(struct ig_conn) == 16, "ig_conn layout");
IG_STATIC_ASSERT(sizeof(struct ig_token_rules) == 16 * IG_TC_MAX, "ig_token_rules layout");
IG_STATIC_ASSERT((IG_TC_MAX - 1) <= (IG_POL_COUNT_MASK >> IG_POL_COUNT_SHIFT), "rule fits its bits");
IG_STATIC_ASSERT(sizeof(enum ig_unit) == 4, "enums are 4 bytes in map values");
IG_STATIC_ASSERT(sizeof(struct ig_pending) == 16, "ig_pending layout");
IG_STATIC_ASSERT(sizeof(struct ig_inflight_cfg) == 16, "ig_inflight_cfg layout");
IG_STATIC_ASSERT(sizeof(struct ig_inflight) == 8 * IG_INFLIGHT_MAX + 8, "ig_inflight layout");
IG_STATIC_ASSERT(sizeof(struct ig_key) == 32, "ig_key layout");
IG_STATIC_ASSERT(sizeof(struct ig_key_policy) == 24, "ig_key_policy layout");
IG_STATIC_ASSERT(sizeof(struct ig_key_seed) == 16, "ig_key_seed layout");
IG_STATIC_ASSERT(sizeof(struct ig_proxy_conn) == 24, "ig_proxy_conn layout");
IG_STATIC_ASSERT(IG_RATE_MAX <= IG_RATE_N_MASK, "a rate's N fits its bits");
IG_STATIC_ASSERT((IG_KEY_MODE_MAX - 1) <= (IG_POL_KEY_MASK >> IG_POL_KEY_SHIFT), "mode fits its bits");
IG_STATIC_ASSERT((IG_ALGO_MAX - 1) <= (IG_POL_ALGO_MASK >> IG_POL_ALGO_SHIFT), "algorithm fits its bits");
IG_STATIC_ASSERT(IG_RATE_MAX <= IG_FW_COUNT_MAX, "a fixed window counts any N");
IG_STATIC_ASSERT(sizeof(struct ig_http_conn) == 2 * sizeof(struct ig_http_state) + 16,
		 "ig_http_conn layout");

#endif /* IG_ABI_H */
