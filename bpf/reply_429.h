/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The answer to a request refused on a `request` port (request.h finds and
 * counts them): how long the client must wait (the budget that refused it:
 * its source, prefix or port bucket, its LLM-token debt, or a fleet block),
 * the HTTP 429 text with Retry-After (and in the full form the
 * x-ratelimit-* headers) built into the scratch, and the refused segment
 * turned round, in place, into that reply.
 */
#ifndef IG_REPLY_429_H
#define IG_REPLY_429_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/hdr.h"
#include "pure/parse.h"
#include "pure/http_reply.h"
#include "cfg.h"
#include "ctx.h"
#include "maps.h"
#include "reply_tx.h"
#include "request.h"

/* Until the LLM-token debt of `who` is paid (fairshare.h refuses while its
 * tat is a window or more ahead): 0 when it has none. */
static __always_inline __u64 ig_req_token_wait(struct ig_req_scratch *s, const __u8 *who,
					       const struct ig_pkt *p, __u64 now, __u64 window)
{
	struct ig_token_state *ts;
	__u64 tat;

	__builtin_memset(&s->client, 0, sizeof(s->client));
	__builtin_memcpy(s->client.addr, who, 16);
	s->client.port = p->dport;
	s->client.proto = p->proto;
	ts = bpf_map_lookup_elem(&tokens, &s->client);
	if (!ts)
		return 0;
	tat = *(volatile __u64 *)&ts->tat;
	return tat >= now + window ? tat - now - window + 1 : 0;
}

/* x-ratelimit-limit-requests of a rate: a minute's worth at periods up to a
 * minute (OpenAI's RPM), else the count as written (500/d: 500). */
static __always_inline __u64 ig_req_rl_limit(__u64 rate)
{
	__u64 per = ig_rate_period(rate, 1);

	return per <= 60 ? ig_rate_n(rate) * 60 / per : ig_rate_n(rate);
}

/*
 * When the client will be admitted again: for the 429's Retry-After. Refused
 * for its token debt, when that is paid; by the fleet, when its block ends;
 * else when the source's own bucket
 * at the port's rate admits one more unit; a refusal by another level
 * (prefix, port, tier) is told the port's spacing, 1/rate. And which budget
 * x-ratelimit-* names (s->rl_*): the tokens a minute, or the requests.
 */
static __always_inline __u64 ig_req_wait(struct ig_req_scratch *s, const struct ig_pkt *p,
					 __u64 now, int level)
{
	__u32 idx = IG_PORT_INDEX(p->proto, p->dport), zero = 0;
	struct ig_policy *pol = bpf_map_lookup_elem(&port_policy, &idx);
	struct ig_client_scratch *cs = bpf_map_lookup_elem(&client_scratch, &zero);
	const __u8 *who = p->saddr;
	__u64 ident, wait = 0, rate, burst;
	struct ig_source_set *set;
	int i;

	s->rl_tokens = 0;
	s->rl_limit = pol ? ig_req_rl_limit(pol->rate) : 0;
	if (level == IG_L_TOKENS) {
		__u32 slot = pol ? pol->slot & (IG_MAX_SLOTS - 1) : 0;
		struct ig_limits *lim = bpf_map_lookup_elem(&port_limits, &slot);
		const __u8 *owner = p->saddr;

		/* the budget ig_token_debt() found in debt: on a proxy-source
		 * port the header's client's (the balancer's address has none,
		 * and its 429 said the port's spacing, 10 ms at 100/s, to a
		 * client seconds in debt); an API key's is its address's */
		if (pol && cs && IG_POL_KEY(pol->flags) == IG_KEY_PROXY && cs->kind == IG_CK_PROXY &&
		    cs->seq == p->seq && cs->sport == p->sport)
			owner = cs->client;
		wait = lim ? ig_req_token_wait(s, owner, p, now, ig_token_window(lim->tokens_per_min)) : 0;
		if (wait && lim) {
			/* the budget as written: 100000 of 100000/d */
			s->rl_tokens = 1;
			s->rl_limit = ig_rate_n(lim->tokens_per_min);
			return wait;
		}
	}
	if (!pol)
		return IG_NSEC_PER_SEC;
	rate = pol->rate;
	burst = pol->burst;
	/* charged to a key (or a PROXY header's client): its bucket, its rate.
	 * Only on a port keyed so: a source-keyed charge leaves the scratch
	 * alone, and a stale stamp of another port's (same client port and
	 * sequence number) must not name this one's wait */
	if (cs && cs->charged && cs->seq == p->seq && cs->sport == p->sport &&
	    IG_POL_KEY(pol->flags) != IG_KEY_SOURCE) {
		who = cs->client;
		rate = cs->rate;
		burst = cs->burst;
		s->rl_limit = ig_req_rl_limit(rate);
	}
	/* blocked by the fleet: until the agent's block ends. The host's own
	 * bucket is no guide: a blocked client is not charged, so it is full
	 * and would say "one unit's spacing" (10 ms at 100/s) against a block
	 * of seconds */
	if (level == IG_L_FLEET) {
		__u64 *until;

		__builtin_memset(&s->client, 0, sizeof(s->client));
		__builtin_memcpy(s->client.addr, who, 16);
		s->client.port = p->dport;
		s->client.proto = p->proto;
		until = bpf_map_lookup_elem(&fleet_block, &s->client);
		if (until && *until > now)
			return *until - now;
	}
	if (!ig_rate_n(rate))
		return IG_NSEC_PER_SEC;
	set = ig_source_set_of(who, p->dport, p->proto, &ident);
	if (set) {
#pragma unroll
		for (i = 0; i < IG_WAYS; i++) {
			if (*ig_way_ident(&set->way[i]) != ident)
				continue;
			wait = ig_limit_wait(set->way[i].tat, now, rate, burst, IG_POL_ALGO(pol->flags));
		}
	}
	/* none to be read (the source or the port level refused): a unit's
	 * spacing, P / N (20 s at 3/min) */
	return wait ? wait : ig_rate_period(rate, 1) * IG_NSEC_PER_SEC / ig_rate_n(rate);
}

enum ig_req_429 {
	IG_429_FULL = 0,
	IG_429_BRIEF = 1, /* its head only */
	IG_429_H2 = 2,	  /* on h2c: HEADERS :status 429, GOAWAY */
};

/* The 429's text into s->reply, its length returned. A global function: its
 * loops are verified once, not once per way the stage got there; and the
 * three below are siblings, not nested, since the stage and its callers
 * leave them ~90 bytes of BPF's 512 of stack. */
__noinline int ig_req_build_429(struct ig_req_scratch *s, __u64 wait_ns, int form)
{
	if (!s)
		return 0;
	if (form == IG_429_H2)
		return (int)ig_h2_429(s->reply, wait_ns, s->h2_stream);
	ig_http_429(s->reply, wait_ns);
	return form == IG_429_BRIEF ? (int)ig_http_429_brief(s->reply) : (int)IG_HTTP_429_LEN;
}

/* The full form's x-ratelimit-*, of the budget ig_req_wait() named. */
__noinline int ig_req_rl_429(struct ig_req_scratch *s, __u64 wait_ns)
{
	if (s)
		ig_http_429_rl(s->reply, wait_ns, s->rl_limit, s->rl_tokens);
	return 0;
}

/* The sum of the 429's len bytes into s->reply_sum; 0, or -1. */
__noinline int ig_req_sum_429(struct ig_req_scratch *s, __u32 len)
{
	__s64 sum;

	if (!s || len > IG_HTTP_429_MAX - 4)
		return -1;
	/* the kernel's csum_partial over whole words (the bytes past the end
	 * zeroed), folded to 16 bits: ~60 ns less than ig_http_sum()'s loop
	 * (bench, a 429 at repeat 1: 846 -> 787 ns); test_request.c checks the
	 * checksums it gives */
	__builtin_memset(s->reply + len, 0, 3);
	sum = bpf_csum_diff(0, 0, (__be32 *)s->reply, (len + 3) & ~3U, 0);
	if (sum < 0)
		return -1;
	sum = (sum & 0xffff) + ((__u64)sum >> 16);
	sum = (sum & 0xffff) + ((__u64)sum >> 16);
	s->reply_sum = (__u32)sum;
	return 0;
}

/* The 429 in the form asked, summed: its length, or 0. */
static __always_inline __u32 ig_req_make_429(struct ig_req_scratch *s, __u64 wait_ns, int form)
{
	int len = ig_req_build_429(s, wait_ns, form);

	if (form == IG_429_FULL)
		ig_req_rl_429(s, wait_ns);
	if (len <= 0 || ig_req_sum_429(s, (__u32)len))
		return 0;
	return (__u32)len;
}

/*
 * The frame at `want` bytes. A longer one grows at the tail, or where the
 * driver left no tailroom (veth's XDP, for a frame it got linear from the
 * peer's skb), at the head, the L2 header moved along.
 */
static __always_inline int ig_req_resize(void *ctx, enum ig_hook hook, struct ig_req_scratch *s,
					 __u32 want)
{
	__u32 cur = ctx_wire_len(ctx, hook);
	void *data, *end;

	if (want <= cur || !ctx_set_len(ctx, hook, want))
		return want <= cur ? ctx_set_len(ctx, hook, want) : 0;
	if (want - cur > 512)
		return -1;
	data = ctx_data(ctx, hook);
	end = ctx_data_end(ctx, hook);
	if ((__u8 *)data + IG_MAX_L2 > (__u8 *)end)
		return -1;
	__builtin_memcpy(s->l2, data, IG_MAX_L2);
	if (ctx_grow_head(ctx, hook, want - cur))
		return -1;
	data = ctx_data(ctx, hook);
	end = ctx_data_end(ctx, hook);
	if ((__u8 *)data + IG_MAX_L2 > (__u8 *)end)
		return -1;
	__builtin_memcpy(data, s->l2, IG_MAX_L2);
	return 0;
}

/* The frame, turned round (MACs swapped) for a reply: its start, or NULL. */
static __always_inline void *ig_req_turn(void *ctx, enum ig_hook hook)
{
	void *data, *end;

	data = ctx_data(ctx, hook);
	end = ctx_data_end(ctx, hook);
	if ((__u8 *)data + IG_ETH_ALEN * 2 > (__u8 *)end)
		return 0;
	ig_swap_macs(data);
	return data;
}

/* The frame at `want` bytes, turned round: its start, or NULL. */
static __always_inline void *ig_req_reframe(void *ctx, enum ig_hook hook,
					    struct ig_req_scratch *s, __u32 want)
{
	if (ig_req_resize(ctx, hook, s, want))
		return 0;
	return ig_req_turn(ctx, hook);
}

/* The refused request's segment, in place, as the 429 to the client: the
 * response, then FIN, acknowledging the request so that it is not sent again. */
static __always_inline int ig_reply_429(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
					int level)
{
	struct ig_req_scratch *s = ig_req_scratch();
	__u32 l3 = p->l3_off, hl, len, thlen = 0, plen = ig_req_payload_len(p);
	__u64 wait;
	int form;
	void *data, *end;
	struct ig_tcp_out o = {};
	struct ig_tcp *th = (struct ig_tcp *)ig_req_tcp(ctx, hook, p, &thlen);
	__u8 *dst;

	if (!s || !th || l3 > IG_MAX_L2)
		return -1;
	l3 = ig_clamp(l3, 31);
	o.seq = ig_ntohl(th->ack_seq); /* ours: where the server's stream stands */
	o.ack = ig_ntohl(th->seq) + plen + !!(th->flags & IG_TCP_FIN);
	o.flags = IG_TCP_PSH | IG_TCP_ACK | IG_TCP_FIN;
	/* a window of 0 would hold back the client's FIN */
	o.window = 0xffff;

	wait = ig_req_wait(s, p, ig_now(), level);
	hl = p->ipv6 ? sizeof(struct ig_seg6) : sizeof(struct ig_seg4);
	/* the whole 429, or where the frame cannot grow that far (XDP behind a
	 * request of < ~130 bytes), its head; on h2c, its frames (73 bytes) */
	form = s->h2_stream ? IG_429_H2 : IG_429_FULL;
	len = ig_req_make_429(s, wait, form);
	if (!len || ig_req_resize(ctx, hook, s, l3 + hl + len)) {
		if (form == IG_429_H2)
			return -1;
		len = ig_req_make_429(s, wait, IG_429_BRIEF);
		if (!len || ig_req_resize(ctx, hook, s, l3 + hl + len))
			return -1;
	}
	if (len > IG_HTTP_429_MAX)
		return -1;
	o.payload_len = len;
	o.payload_sum = s->reply_sum;
	data = ig_req_turn(ctx, hook);
	if (!data)
		return -1;
	end = ctx_data_end(ctx, hook);
	dst = (__u8 *)data + l3;
	if (!p->ipv6) {
		struct ig_seg4 r;

		if (dst + sizeof(r) > (__u8 *)end)
			return -1;
		ig_build_seg4(p, &o, &r);
		__builtin_memcpy(dst, &r, sizeof(r));
	} else {
		struct ig_seg6 r;

		if (dst + sizeof(r) > (__u8 *)end)
			return -1;
		ig_build_seg6(p, &o, &r);
		__builtin_memcpy(dst, &r, sizeof(r));
	}
	len = ig_clamp(len - 1, IG_HTTP_429_MAX - 1) + 1; /* checked above; for the verifier */
	if (hook == IG_HOOK_XDP)
		return (int)bpf_xdp_store_bytes((struct xdp_md *)ctx, l3 + hl, s->reply, len);
	return (int)bpf_skb_store_bytes(ctx, l3 + hl, s->reply, len, 0);
}

#endif
