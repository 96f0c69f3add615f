/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * LLM-token budgets, the egress half (TC only): what a server's replies cost
 * its client, charged to `tokens` (struct ig_token_state). By bytes (0.6's
 * rule, `--token-count bytes`), or by reading the responses off the server's
 * socket (pure/resp_read.h): the engine's usage object, a stream's events.
 * The ingress half (refusing a client in debt) is in fairshare.h.
 */
#ifndef IG_TOKENS_H
#define IG_TOKENS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/bucket.h" /* IG_CAS_TRIES */
#include "pure/timing.h"
#include "ctx.h"
#include "maps.h"
#include "cfg.h"

/* At most a scratch buffer's worth (256), at least a byte: each bound its
 * own check on the register the helper gets (clang would fold the two into
 * one unsigned compare of len - 1, which bounds a copy, not len). */
static __always_inline int ig_resp_load(struct __sk_buff *skb, __u32 off, void *dst, __u32 len)
{
	asm volatile("" : "+r"(len));
	if (len > 256)
		return -1;
	asm volatile("" : "+r"(len));
	if (len == 0)
		return -1;
	return bpf_skb_load_bytes(skb, off, dst, len);
}

/* The prompt of the response beginning: see ig_resp_prompt() below. */
struct ig_resp_state;
struct ig_resp_io;
static __always_inline __u64 ig_resp_prompt(struct ig_resp_state *st, struct ig_resp_io *io);
#define IG_RESP_PROMPT(st, io) ig_resp_prompt((st), (io))

/* Global functions: the verifier reads each once, whatever calls it. */
#define IG_RESP_SRC struct __sk_buff
#define IG_RESP_FN __noinline
#define IG_RESP_LOAD(src, io, off, dst, len) ig_resp_load((src), (io)->poff + (off), (dst), (len))
#include "pure/resp_read.h"

/* Steps per segment: a 64 KiB TSO train of one-event chunks takes about two
 * per event; a train with more is read by bytes from there on. */
#define IG_RESP_STEPS 1024
/* Tokens per call: a bound that keeps tokens * 60e9 in 64 bits. */
#define IG_TOKENS_MAX (1LL << 24)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_resp_io);
} resp_scratch SEC(".maps");

/*
 * The prompt's bytes: on a request port, the bodies of the requests the
 * scanner admitted on this connection since the last response began (its
 * http_conns entry; the reply's flow key is in the fair-share scratch); else
 * every byte the socket received since then, request headers included.
 */
static __always_inline __u64 ig_resp_prompt(struct ig_resp_state *st, struct ig_resp_io *io)
{
	struct ig_hier_scratch *s;
	struct ig_http_conn *c;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&hier_scratch, &zero);
	c = s ? bpf_map_lookup_elem(&http_conns, &s->flow) : NULL;
	if (c && !(c->flags & IG_HC_F_REFUSED))
		return __sync_lock_test_and_set(&c->body, 0);
	return io->rx - st->rx_mark;
}

static __always_inline struct ig_token_state *ig_tokens_of(const struct ig_client_key *key)
{
	struct ig_token_state *ts = bpf_map_lookup_elem(&tokens, key), fresh = {};

	if (!ts) {
		bpf_map_update_elem(&tokens, key, &fresh, BPF_NOEXIST);
		ts = bpf_map_lookup_elem(&tokens, key);
	}
	return ts;
}

/* A budget's debt, at most (36 years: far past any refusal, and far from
 * wrapping the 64-bit tat round to a full budget, which at a day's period
 * a few large charges could otherwise do). */
#define IG_TOKENS_DEBT_MAX_NS (1ULL << 60)

/* Move a budget's tat by inc ns: a charge may run into debt (it is never
 * refused: the reply is already on its way), up to IG_TOKENS_DEBT_MAX_NS. */
static __always_inline void ig_tokens_tat_add(struct ig_token_state *ts, __u64 inc, __u64 now)
{
	int i;

	if (inc > IG_TOKENS_DEBT_MAX_NS)
		inc = IG_TOKENS_DEBT_MAX_NS;
#pragma unroll
	for (i = 0; i < IG_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)&ts->tat;

		if (old >= now) { /* in use: debt adds up, no race to lose */
			if (old - now >= IG_TOKENS_DEBT_MAX_NS)
				return;
			__sync_fetch_and_add(&ts->tat, inc);
			return;
		}
		if (__sync_val_compare_and_swap(&ts->tat, old, now + inc) == old)
			return;
	}
}

/* Give back dec ns, not below now: what was charged over a usage report's
 * count, never credit beyond a full budget. */
static __always_inline void ig_tokens_tat_sub(struct ig_token_state *ts, __u64 dec, __u64 now)
{
	int i;

#pragma unroll
	for (i = 0; i < IG_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)&ts->tat, want;

		if (old <= now)
			return;
		want = old - now > dec ? old - dec : now;
		if (__sync_val_compare_and_swap(&ts->tat, old, want) == old)
			return;
	}
}

/*
 * The bytes rule: bytes / bytes-per-token tokens, i.e. tat moves by
 * bytes * W / (N * bpt) ns (fractions of a token kept; W / bpt is exact
 * for the bpt that divide a second's ns, and bytes * W / bpt < 2^63 for a
 * 64 KB frame at a day's W).
 */
static __always_inline void ig_tokens_spend(const struct ig_client_key *key,
					    const struct ig_limits *lim, __u64 bytes, __u64 now)
{
	__u64 bpt = lim->bytes_per_token ? lim->bytes_per_token : IG_DEFAULT_BYTES_PER_TOKEN;
	__u64 per_byte = ig_token_window(lim->tokens_per_min) / bpt;
	struct ig_token_state *ts;
	__u64 inc;

	/* bytes * per_byte < 2^64 for a segment up to 2^17 bytes at a day's
	 * W; a BIG TCP segment beyond is charged in 16-byte steps */
	if (bytes <= IG_GCRA_COST_MAX)
		inc = bytes * per_byte / ig_rate_n(lim->tokens_per_min);
	else
		inc = ((bytes >> 4) * per_byte / ig_rate_n(lim->tokens_per_min)) << 4;
	if (!inc)
		return;
	ts = ig_tokens_of(key);
	if (!ts)
		return;
	__sync_fetch_and_add(&ts->spent, bytes / bpt);
	ig_tokens_tat_add(ts, inc, now);
}

/* Charge t tokens (t < 0: give them back). */
static __always_inline void ig_tokens_add(const struct ig_client_key *key,
					  const struct ig_limits *lim, __s64 t, __u64 now)
{
	__u64 per = ig_token_window(lim->tokens_per_min) / ig_rate_n(lim->tokens_per_min), mag;
	struct ig_token_state *ts;

	if (!t)
		return;
	if (t > IG_TOKENS_MAX)
		t = IG_TOKENS_MAX;
	if (t < -IG_TOKENS_MAX)
		t = -IG_TOKENS_MAX;
	/* t * per overflows only at a few tokens per day: held at the cap
	 * (worked out before the lookup: nothing more lives across it, and
	 * egress's call chain is a few bytes from BPF's 512 of stack) */
	mag = t > 0 ? (__u64)t : (__u64)(-t);
	mag = per && mag > IG_TOKENS_DEBT_MAX_NS / per ? IG_TOKENS_DEBT_MAX_NS : mag * per;
	ts = ig_tokens_of(key);
	if (!ts)
		return;
	__sync_fetch_and_add(&ts->spent, (__u64)t);
	if (t > 0)
		ig_tokens_tat_add(ts, mag, now);
	else
		ig_tokens_tat_sub(ts, mag, now);
}

/* One segment's reading, a step at a time (each step is a global function:
 * the verifier reads its body once, this loop's a thousand times cheaply). */
__noinline int ig_resp_run(struct __sk_buff *skb, struct ig_resp_state *st,
			   struct ig_resp_io *io)
{
	int i;

	if (!skb || !st || !io)
		return 0;
	for (i = 0; i < IG_RESP_STEPS; i++)
		if (!ig_resp_step(skb, st, io))
			return 0;
	/* a train longer than the steps: the rest, and what follows, by bytes */
	if (io->pos < io->end) {
		ig_resp_opaque(st, io);
		ig_resp_step(skb, st, io);
	}
	return 0;
}

/* The times a segment took (pure/resp_read.h's out), into the slot's
 * histograms. Only segments that begin, first-token or end a response get
 * here: one lookup, a division, a few adds. A global function: its frame is
 * not added to the reader's, which is near the 512 bytes of stack already. */
__noinline int ig_timing_add(__u32 slot, struct ig_resp_io *io)
{
	struct ig_resp_out *o;
	struct ig_timing *t;
	__u64 tick = ig_cfg.tick_ns, ns;
	__u32 k;

	if (!io)
		return 0;
	o = &io->out;
	t = bpf_map_lookup_elem(&timing, &slot);
	if (!t || !tick)
		return 0;
	if (o->nttft) {
		ns = (__u64)o->ttft_j * tick;
		k = ig_time_bucket(ns);
		asm volatile("" : "+r"(k)); /* the bound below is the verifier's, kept */
		if (k < IG_TIME_BUCKETS)
			t->ttft[k] += o->nttft;
		t->ttft_sum_ns += ns * o->nttft;
	}
	if (o->ndur) {
		struct ig_timing_cfg *c = bpf_map_lookup_elem(&timing_cfg, &slot);

		ns = (__u64)o->dur_j * tick;
		k = ig_time_bucket(ns);
		asm volatile("" : "+r"(k));
		if (k < IG_TIME_BUCKETS)
			t->dur[k] += o->ndur;
		t->dur_sum_ns += ns * o->ndur;
		/* a client that reads slowly makes its own calls long: were those
		 * slow calls, it could open the breaker for everyone */
		if (c && c->slow_ns && ns >= c->slow_ns && !o->dur_client)
			t->slow += o->ndur;
	}
	return 0;
}

/* ig_tokens_count()'s `how`: the mode (enum ig_token_count) in the low bits */
#define IG_TOK_MODE_MASK 0xf
#define IG_TOK_CHARGE 0x10 /* a token budget is charged from the reading */
#define IG_TOK_TIMED 0x20  /* the port's response times are taken (IG_POL_F_TIMED) */

/*
 * A reply segment (sequence seq, payload at poff, plen bytes) of a port whose
 * replies are read (`how`): charged to key's budget by the rule in how's mode
 * (usage or events) where IG_TOK_CHARGE, timed where IG_TOK_TIMED. Read off
 * its socket's stream; without a socket to keep the reading in (a reply not
 * from a local socket): charged by bytes, and not timed. What ended is left
 * in resp_scratch's out (nothing, without a socket) for ig_inflight_replied().
 */
static __always_inline void ig_tokens_count(struct __sk_buff *skb, const struct ig_client_key *key,
					    const struct ig_limits *lim, __u32 slot, __u32 how,
					    __u32 seq, __u32 poff, __u32 plen, __u64 now)
{
	__u64 bpt = lim->bytes_per_token ? lim->bytes_per_token : IG_DEFAULT_BYTES_PER_TOKEN;
	int charge = (how & IG_TOK_CHARGE) && lim->tokens_per_min;
	struct ig_token_rules *rules;
	struct ig_resp_state *st;
	struct ig_resp_io *io;
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	__u32 zero = 0, i;

	sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	tp = sk ? bpf_skc_to_tcp_sock(sk) : NULL;
	st = tp ? bpf_sk_storage_get(&resp_socks, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE) : NULL;
	io = bpf_map_lookup_elem(&resp_scratch, &zero);
	if (io)
		__builtin_memset(&io->out, 0, sizeof(io->out));
	if (!st || !io) {
		if (charge)
			ig_tokens_spend(key, lim, plen, now);
		return;
	}
	io->poff = poff;
	io->bpt = (__u32)bpt;
	io->mode = how & IG_TOK_MODE_MASK;
	io->rx = tp->bytes_received;
	/* jiffies, not the data path's clock: the socket stamps its data with
	 * them (free to read, where ktime would cost ~40 ns a segment) */
	io->jnow = (__u32)bpf_jiffies64();
	io->jrcv = tp->inet_conn.icsk_ack.lrcvtime;
	/* time limited by the client's window: what ended, and what runs now */
	io->jrwnd = tp->chrono_stat[TCP_CHRONO_RWND_LIMITED - 1];
	if (tp->chrono_type == TCP_CHRONO_RWND_LIMITED)
		io->jrwnd += io->jnow - tp->chrono_start;
	/* the connection's first reply: nothing acknowledged yet */
	io->pos = ig_resp_begin(st, io, seq, plen, tp->bytes_acked == 0);
	io->end = plen;
	ig_resp_run(skb, st, io);

	if ((how & IG_TOK_TIMED) && (io->out.nttft | io->out.ndur))
		ig_timing_add(slot, io);
	if (!charge)
		return;
	ig_tokens_add(key, lim, io->out.add, now);
	/* most segments end no response: no counter to touch */
	if (!(io->out.responses[IG_TC_USAGE] | io->out.responses[IG_TC_EVENTS] |
	      io->out.responses[IG_TC_BYTES] | io->out.tokens[IG_TC_BYTES]))
		return;
	rules = bpf_map_lookup_elem(&token_rules, &slot);
	if (!rules)
		return;
#pragma unroll
	for (i = 0; i < IG_TC_MAX; i++) {
		rules->responses[i] += io->out.responses[i];
		rules->tokens[i] += (__u64)io->out.tokens[i];
	}
}

#endif /* IG_TOKENS_H */
