/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The `request` unit: one token per HTTP request a client starts on a TCP
 * port, found by following the request framing of each connection
 * (pure/http.h) in sequence-number order; and the answers that go with it:
 * an HTTP 429 on the connection (reply_429.h), then the RST that closes the
 * server's side.
 *
 * Per connection (map `http_conns`, struct ig_http_conn): where in the
 * client's byte stream the framing has been followed to (`next_seq`) and the
 * scanner's state there. A segment is looked at from next_seq on: bytes
 * before it were counted already (a retransmission costs nothing again), a
 * body is skipped by arithmetic, never read, and header bytes go through the
 * scanner 256 at a time (ig_req_feed(), a global function: verified once,
 * where inlined in the loop over chunks it would be verified per chunk).
 *
 * Ordering: the state is advanced before the charge (the stage cannot see
 * the charge), and the charge's refusal takes it back (ig_req_refused()), so
 * a dropped request is counted again when its segment comes back.
 */
#ifndef IG_REQUEST_H
#define IG_REQUEST_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/hdr.h"
#include "pure/parse.h"
#include "pure/steer.h"
#include "pure/apikey.h"
#include "pure/http.h"
#include "pure/http_reply.h"
#include "pure/sources.h"
#include "cfg.h"
#include "ctx.h"
#include "maps.h"
#include "proxy.h"
#include "reply_tx.h"
#include "stages.h"

/* Chunks of header bytes one segment may feed the scanner: 40 x 256 bytes
 * covers a jumbo frame; a GRO'd skb holding more header bytes than that is
 * dropped as unframed (its segments come again, one at a time). */
#define IG_REQ_MAX_CHUNKS 160

/* A port whose last refusal is older than this does not look at its pure
 * ACKs: only the client's first segment after a 429 needs its connection's
 * state, and it comes one round trip later. */
#define IG_REQ_TEARDOWN_NS (3ULL * 1000000000ULL)

struct ig_req_scratch {
	__u8 buf[IG_HTTP_CHUNK];
	struct ig_http_state st;
	struct ig_http_keys keys;
	__u64 key_hash; /* the segment's key (when keys.found after ig_req_key()) */
	__u32 requests;
	__u32 reply_sum;
	/* this segment's, for the 429: on h2c the first stream it opens (0 on
	 * HTTP/1.x) */
	__u32 h2_stream;
	__u32 body; /* body bytes the scan passed over (the token counter's prompt) */
	/* the 429's x-ratelimit-*: the refusing budget a minute, and whether
	 * it is of tokens (ig_req_wait()) */
	__u64 rl_limit;
	__u32 rl_tokens;
	__u32 key_tok; /* the credential in buf: off << 16 | n (ig_req_key_hash()) */
	/* key_hash is of the value that ends at key_end (a key line's LF)
	 * when key_read is 1, and that value holds no credential when it is
	 * 2: hashed where the scanner had it in buf */
	__u32 key_end;
	__u32 key_read;
	struct ig_flow_key key;
	struct ig_client_key client;
	/* off the stack: the entry, this stage and the scanner share 512 bytes */
	struct ig_http_conn fresh;
	struct ig_pkt q;
	__u8 l2[IG_MAX_L2 + 2];
	__u8 th[64]; /* cookie.h: the segment's TCP and IP headers */
	__u8 ip[64];
	__u8 reply[IG_HTTP_429_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_req_scratch);
} req_scratch SEC(".maps");

static __always_inline struct ig_req_scratch *ig_req_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&req_scratch, &zero);
}

__noinline int ig_req_key_hash(struct ig_req_scratch *s, __u32 at, __u32 len);

/* The scanner over one chunk in s->buf. A key line that ends in the chunk
 * and began in it is hashed from the chunk (most do: a value is short) and
 * not read from the frame again after the segment. */
__noinline int ig_req_feed(struct ig_req_scratch *s, __u32 len)
{
	__u32 at, n;
	int used;

	if (!s)
		return 0;
	if (len > IG_HTTP_CHUNK)
		len = IG_HTTP_CHUNK;
	used = (int)ig_http_feed(&s->st, s->buf, len, &s->requests, &s->keys);
	if (!s->keys.found)
		return used;
	at = s->keys.start - s->keys.base;
	n = s->keys.end - s->keys.start;
	if (s->keys.end - s->keys.base >= len || at >= len || !n)
		return used;
	s->key_end = s->keys.end;
	s->key_read = ig_req_key_hash(s, at, n) ? 2 : 1;
	return used;
}

/* len (1 .. max, max a power of two) bytes of the frame at off into buf. */
static __always_inline int ig_req_load_n(void *ctx, enum ig_hook hook, __u32 off, __u8 *buf,
					 __u32 len, __u32 max)
{
	if (!len || len > max)
		return -1;
	/* 1 .. max in the very register the helper gets */
	len = ig_clamp(len - 1, max - 1) + 1;
	if (hook == IG_HOOK_XDP)
		return (int)bpf_xdp_load_bytes((struct xdp_md *)ctx, off, buf, len);
	return (int)bpf_skb_load_bytes(ctx, off, buf, len);
}

static __always_inline int ig_req_load(void *ctx, enum ig_hook hook, __u32 off, __u8 *buf,
				       __u32 len)
{
	return ig_req_load_n(ctx, hook, off, buf, len, IG_HTTP_CHUNK);
}

/* Follow the framing over the payload bytes [off, end) from s->st (the
 * frame's byte 0 at sequence number seq0). 0, or -1 when the segment holds
 * more header bytes than one pass reads. */
static __always_inline int ig_req_scan(void *ctx, enum ig_hook hook, struct ig_req_scratch *s,
				       __u32 off, __u32 end, __u32 seq0)
{
	int i;

	for (i = 0; i < IG_REQ_MAX_CHUNKS; i++) {
		__u32 len;
		int used;

		if (off >= end)
			return 0;
		used = (int)ig_http_skip(&s->st, end - off);
		s->body += (__u32)used;
		off += (__u32)used;
		if (off >= end || ig_http_opaque(&s->st))
			return 0;
		len = end - off;
		if (len > IG_HTTP_CHUNK)
			len = IG_HTTP_CHUNK;
		if (ig_req_load(ctx, hook, off, s->buf, len))
			return -1;
		s->keys.base = seq0 + off;
		used = ig_req_feed(s, len);
		if (used <= 0 && !ig_http_opaque(&s->st))
			return -1; /* no progress: never expected, never loop */
		off += (__u32)used;
	}
	return off >= end ? 0 : -1;
}

/* The TCP header of p in the frame, with its length, or NULL. */
static __always_inline struct tcphdr *ig_req_tcp(void *ctx, enum ig_hook hook,
						 const struct ig_pkt *p, __u32 *len)
{
	void *data = ctx_data(ctx, hook), *end = ctx_data_end(ctx, hook);
	__u32 l4 = p->l4_off, n;
	__u8 *th;

	if (l4 > IG_MAX_L4_OFF)
		return 0;
	th = (__u8 *)data + ig_clamp(l4, 1023);
	if (th + sizeof(struct ig_tcp) > (__u8 *)end)
		return 0;
	n = ((struct ig_tcp *)th)->doff_res >> 4;
	n = ig_clamp(n, 15) * 4;
	if (n < sizeof(struct ig_tcp) || th + n > (__u8 *)end)
		return 0;
	*len = n;
	return (struct tcphdr *)th;
}

/*
 * Copies of the frame's IP and TCP headers for the cookie helpers, which read
 * exactly their sizes: in the frame, the verifier forgets a variable bound
 * (the TCP header's length) and merges the two families' ranges into the
 * smaller one. 0, or -1 when the headers are out of reach.
 */
static __always_inline int ig_req_copy_hdrs(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
					    struct ig_req_scratch *s, __u32 *thlen)
{
	__u32 n = 0;

	if (!ig_req_tcp(ctx, hook, p, &n) || n < 20 || n > sizeof(s->th))
		return -1;
	*thlen = n;
	if (ig_req_load_n(ctx, hook, p->l4_off, s->th, n, sizeof(s->th)))
		return -1;
	return ig_req_load_n(ctx, hook, p->l3_off, s->ip,
			     p->ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr), sizeof(s->ip));
}

/* Does the listener sk take this segment as the end of a handshake it
 * answered with a SYN cookie (the kernel's own, under a SYN flood)? */
static __always_inline int ig_req_kernel_cookie(void *ctx, enum ig_hook hook,
						const struct ig_pkt *p, struct ig_req_scratch *s,
						struct bpf_sock *sk)
{
	__u32 thlen = 0;

	if ((p->tcp_flags & (IG_TCP_ACK | IG_TCP_SYN | IG_TCP_RST)) != IG_TCP_ACK ||
	    ig_req_copy_hdrs(ctx, hook, p, s, &thlen))
		return 0;
	thlen = ig_clamp(thlen - 20, 63) + 20;
	if (thlen > sizeof(s->th))
		return 0;
	return !bpf_tcp_check_syncookie(sk, s->ip,
					p->ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr),
					(struct tcphdr *)s->th, thlen);
}

/*
 * Where the client's byte stream stands in the kernel for this segment's
 * connection (its rcv_nxt): the framing of a connection new to http_conns is
 * followed from there, never from the segment, which may have overtaken the
 * ones before it (framed from the middle of a request, the requests in front
 * would pass as a retransmission). 1 with *start set, or 0 when the kernel
 * holds no connection for it (a listener, a TIME_WAIT, nothing): then it
 * gets no state, or a spoofed segment would push real connections' state
 * out of the LRU. A listener's segment that completes a kernel SYN cookie
 * makes a connection whose stream starts at the segment. *at_start: the
 * kernel has received none of the stream yet (where a PROXY header is).
 */
static __always_inline int ig_req_conn_start(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
					     struct ig_req_scratch *s, __u32 *start, int *at_start)
{
	struct bpf_sock_tuple t;
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	struct tcp_request_sock *rq;
	int ok = 0;
	__u32 n = ig_sock_tuple(p, 0, 0, &t);

	if (hook == IG_HOOK_XDP)
		sk = bpf_skc_lookup_tcp((struct xdp_md *)ctx, &t, n, BPF_F_CURRENT_NETNS, 0);
	else
		sk = bpf_skc_lookup_tcp((struct __sk_buff *)ctx, &t, n, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	*at_start = 1;
	if (sk->state == BPF_TCP_LISTEN) {
		ok = ig_req_kernel_cookie(ctx, hook, p, s, sk);
		*start = p->seq;
	} else if (sk->state == BPF_TCP_NEW_SYN_RECV) {
		/* the handshake's ACK was lost or skipped: this segment makes
		 * the socket, from the request sock's point */
		rq = bpf_skc_to_tcp_request_sock(sk);
		if (rq) {
			*start = rq->rcv_nxt;
			ok = 1;
		}
	} else {
		tp = bpf_skc_to_tcp_sock(sk);
		if (tp && sk->state != BPF_TCP_CLOSE) {
			*start = tp->rcv_nxt;
			*at_start = tp->bytes_received == 0;
			ok = 1;
		}
	}
	bpf_sk_release(sk);
	return ok;
}

/* The segment, in place, as the RST (seq = the server's rcv_nxt) that closes
 * the server's side of a connection refused with a 429. Same direction, same
 * MACs: it goes up the stack as if the client had sent it. */
static __always_inline int ig_req_rst_server(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
					     struct ig_pkt *q, __u32 seq)
{
	struct ig_tcp_seg sg = { .ack = seq, .flags = IG_TCP_ACK };
	__u32 l3 = p->l3_off;

	if (l3 > IG_MAX_L2)
		return -1;
	l3 = ig_clamp(l3, 31);
	/* the builder answers q: with q's ends swapped, its answer is p's way */
	*q = *p;
	__builtin_memcpy(q->saddr, p->daddr, 16);
	__builtin_memcpy(q->daddr, p->saddr, 16);
	q->sport = p->dport;
	q->dport = p->sport;
	return ig_put_rst(ctx, hook, l3, q, &sg);
}

/* the words of a credential that starts IG_KEY_OFF_MASK bytes into a value
 * at buf's last byte are read up to 8 bytes past IG_KEY_VALUE_MAX more
 * (masked off): still the scratch's */
_Static_assert(IG_HTTP_CHUNK >= IG_KEY_VALUE_MAX &&
	       __builtin_offsetof(struct ig_req_scratch, buf) + IG_HTTP_CHUNK - 1 +
	       IG_KEY_VALUE_MAX + IG_KEY_OFF_MASK + 8 <= sizeof(struct ig_req_scratch),
	       "room past the value");

/* The hash of the credential in a key value the scanner found, its len bytes
 * at s->buf[at]: to s->key_hash, 0; or -1 when it holds none. Hashed where it
 * lies (the words then unaligned, which x86 and the verifier allow without
 * BPF_F_STRICT_ALIGNMENT): in the chunk the scanner read it in, or where the
 * request stage loaded it. A global function: the request stage is near the
 * verifier's limit with the scanner alone. */
__noinline int ig_req_key_hash(struct ig_req_scratch *s, __u32 at, __u32 len)
{
	__u32 zero = 0, off = 0, n = 0;
	struct ig_key_seed *ks;
	const __u8 *v;

	if (!s || at >= IG_HTTP_CHUNK || len > IG_KEY_VALUE_MAX)
		return -1;
	v = s->buf + (at & (IG_HTTP_CHUNK - 1));
	if (ig_key_token(v, len, &off, &n))
		return -1;
	/* through memory: each path out of ig_key_token() knows its own
	 * bounds of them, and the hash's loop would be walked once for each */
	s->key_tok = off << 16 | n;
	n = IG_HTTP_READ(s->key_tok);
	off = n >> 16;
	n &= 0xffff;
	if (off > IG_KEY_OFF_MAX || !n || n > IG_KEY_VALUE_MAX)
		return -1;
	ks = bpf_map_lookup_elem(&key_seed, &zero);
	s->key_hash = ig_key_words(v + (off & IG_KEY_OFF_MASK), n,
				   ks && ks->set ? ks->seed : ig_cfg.hash_seed);
	return 0;
}

/*
 * The key of the segment's last key line (s->keys), read from the frame:
 * s->key_hash, with s->keys.found left set; cleared when the value does not
 * lie whole in this segment (a header cut across segments), is longer than
 * IG_KEY_VALUE_MAX or holds no credential: then its requests are anonymous.
 */
static __always_inline void ig_req_key(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
				       struct ig_req_scratch *s, __u32 plen)
{
	__s32 vs = (__s32)(s->keys.start - p->seq), ve = (__s32)(s->keys.end - p->seq);
	__u32 len;

	s->keys.found = 0;
	if (s->key_read && s->key_end == s->keys.end) {
		s->keys.found = s->key_read == 1;
		return;
	}
	if (vs < 0 || ve <= vs || (__u32)ve > plen || ve - vs > IG_KEY_VALUE_MAX)
		return;
	len = (__u32)(ve - vs);
	if (ig_req_load_n(ctx, hook, p->payload_off + (__u32)vs, s->buf, len, IG_KEY_VALUE_MAX))
		return;
	if (ig_req_key_hash(s, 0, len))
		return;
	s->keys.found = 1;
}

/* A connection's state goes (its FIN or RST): with its PROXY header's client. */
static __always_inline void ig_req_forget(struct ig_req_scratch *s, __u32 mode)
{
	bpf_map_delete_elem(&http_conns, &s->key);
	if (mode == IG_KEY_PROXY) {
		s->key.dir = IG_DIR_PROXY;
		bpf_map_delete_elem(&proxy_conns, &s->key);
		s->key.dir = IG_DIR_HTTP;
	}
}

/* The PROXY header check of a connection's first data segment (proxy.h):
 * 0 with *skip its length, or the reason to refuse the segment. */
static __always_inline int ig_req_proxy(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
					struct ig_req_scratch *s, __u32 plen, __u32 *skip)
{
	struct ig_proxy_scratch *ps = ig_proxy_scratch();
	__u32 len = plen < IG_PROXY_READ ? plen : IG_PROXY_READ;

	int err;

	if (!ps || ig_req_load_n(ctx, hook, p->payload_off, ps->buf, len, 128))
		return IG_R_DROP_UNFRAMED;
	__builtin_memcpy(ps->lpm.addr, p->saddr, 16);
	err = ig_proxy_start(ps, &s->key, len);
	*skip = ps->out.hdr_len;
	return err;
}

/* Who the segment's requests are for, for the stages after this one (struct
 * ig_client_scratch): on an api-key port the last key its headers carried,
 * on a proxy-source port the client its connection's PROXY header named. */
static __always_inline void ig_req_client(const struct ig_pkt *p, struct ig_req_scratch *s,
					  __u32 mode)
{
	__u32 zero = 0;
	struct ig_client_scratch *cs = bpf_map_lookup_elem(&client_scratch, &zero);

	if (!cs)
		return;
	cs->seq = p->seq;
	cs->sport = p->sport;
	cs->charged = 0;
	cs->kind = IG_CK_ADDR;
	if (mode == IG_KEY_API && s->keys.found) {
		cs->kind = IG_CK_KEY;
		cs->hash = s->key_hash;
	} else if (mode == IG_KEY_PROXY && ig_proxy_client(&s->key, cs->client)) {
		cs->kind = IG_CK_PROXY;
	}
}

static __always_inline __u32 ig_req_payload_len(const struct ig_pkt *p)
{
	__u32 hdrs = (__u32)p->payload_off - p->l3_off;

	return p->ip_len > hdrs ? p->ip_len - hdrs : 0;
}

/*
 * The stage: what this client segment on a `request` port costs. A reason
 * when it costs nothing (or is refused here), else IG_OUT(n, IG_NEED_CHARGE):
 * charge n units (the requests it starts; 1 for a data segment of a stream
 * that is not HTTP). The state is advanced already; see ig_req_refused().
 * mode: the port's enum ig_key_mode.
 */
static __always_inline int ig_req_in(void *ctx, enum ig_hook hook, const struct ig_pkt *p,
				     __u32 mode)
{
	struct ig_req_scratch *s = ig_req_scratch();
	__u32 plen = ig_req_payload_len(p), seq = p->seq, next, n;
	struct ig_http_conn *c;
	__s32 ahead;
	int err;

	if (!s)
		return IG_R_DROP_REPLY_FAIL;
	ig_flow_key_make(&s->key, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_HTTP);
	c = bpf_map_lookup_elem(&http_conns, &s->key);
	if (c && (c->flags & IG_HC_F_REFUSED)) {
		/* answered 429 already: whatever the client sends now closes the
		 * server's side (at most once: then the state goes) */
		__u32 rst_seq = c->refused_seq;

		bpf_map_delete_elem(&http_conns, &s->key);
		if (p->tcp_flags & IG_TCP_RST)
			return IG_R_PASS_FREE;
		return ig_req_rst_server(ctx, hook, p, &s->q, rst_seq) ? IG_R_DROP_REPLY_FAIL
								 : IG_R_PASS_TEARDOWN;
	}
	if (p->tcp_flags & (IG_TCP_RST | IG_TCP_SYN)) {
		if (c && (p->tcp_flags & IG_TCP_RST))
			ig_req_forget(s, mode);
		return IG_R_PASS_FREE;
	}
	if (!plen) {
		if (c && (p->tcp_flags & IG_TCP_FIN))
			ig_req_forget(s, mode);
		return IG_R_PASS_FREE;
	}
	/* IP-fragmented: the rest of the segment comes in fragments without a
	 * header, which pass unread; requests in them would never be counted.
	 * TCP never sends it so (PMTU discovery): refused. */
	if (p->first_frag)
		return IG_R_DROP_FRAGMENT;
	if (!c) {
		__u32 start = 0, skip = 0;
		int at_start = 0;

		if (!ig_req_conn_start(ctx, hook, p, s, &start, &at_start))
			return IG_R_PASS_FREE; /* the kernel refuses it: costs the server nothing */
		/* the stream's first bytes say whether a PROXY header is there:
		 * nothing of the connection is followed before they have been
		 * (a later segment made state of its own, and the first one's
		 * retransmission would pass as HTTP: "PROXY" is a method) */
		if (mode == IG_KEY_PROXY && at_start) {
			if (seq != start)
				return IG_R_DROP_UNFRAMED;
			err = ig_req_proxy(ctx, hook, p, s, plen, &skip);
			if (err)
				return err; /* no state made: it is looked at again */
		}
		__builtin_memset(&s->fresh, 0, sizeof(s->fresh));
		s->fresh.next_seq = start + skip;
		if (bpf_map_update_elem(&http_conns, &s->key, &s->fresh, BPF_NOEXIST) &&
		    bpf_map_update_elem(&http_conns, &s->key, &s->fresh, BPF_ANY))
			return IG_R_DROP_REPLY_FAIL;
		c = bpf_map_lookup_elem(&http_conns, &s->key);
		if (!c)
			return IG_R_DROP_REPLY_FAIL;
	}
	next = c->next_seq;
	ahead = (__s32)(seq - next);
	if ((__s32)(seq + plen - next) <= 0)
		return IG_R_PASS_FREE; /* all of it counted before: a retransmission */
	/* Ahead of the followed point: dropped, even inside a body being
	 * skipped. The kernel would queue it, and its retransmission, whole
	 * or coalesced with what is missing, is not sent again; what follows
	 * the gap could never be framed (and passing it let requests by). */
	if (ahead > 0)
		return IG_R_DROP_UNFRAMED;

	s->st = c->scan;
	s->st.first = 0;
	/* keys are read on an api-key port only: elsewhere their lines are
	 * passed over like any other (a port's mode may change mid-connection) */
	s->st.flags &= ~IG_HF_KEYS;
	if (mode == IG_KEY_API)
		s->st.flags |= IG_HF_KEYS;
	s->keys.found = 0;
	s->key_read = 0;
	s->requests = 0;
	s->body = 0;
	err = ig_req_scan(ctx, hook, s, p->payload_off + (__u32)(-ahead), p->payload_off + plen,
			  seq - p->payload_off);
	if (err)
		return IG_R_DROP_UNFRAMED;
	n = s->requests;
	s->h2_stream = ig_http_is_h2(&s->st) ? s->st.first : 0;
	if (ig_http_opaque(&s->st) && !n)
		n = 1; /* not HTTP (TLS, garbage): each data segment pays */
	c->prev_scan = c->scan;
	c->prev_seq = next;
	c->scan = s->st;
	c->next_seq = seq + plen;
	if (s->body)
		__sync_fetch_and_add(&c->body, s->body);
	if (!n)
		return IG_R_PASS_FREE;
	if (n > 0xff)
		n = 0xff;
	if (mode == IG_KEY_API && s->keys.found)
		ig_req_key(ctx, hook, p, s, plen);
	if (mode != IG_KEY_SOURCE)
		ig_req_client(p, s, mode);
	return IG_OUT(n, IG_NEED_CHARGE);
}

/* ig_req_refused()'s `answered` after the 429 failed to go out */
#define IG_REQ_UNANSWERED 2

/*
 * The charge refused the segment: take the state back (a dropped segment is
 * counted again when it comes back), and with a 429 on its way mark the
 * connection so that the client's next segment closes the server's side.
 */
static __always_inline int ig_req_refused(const struct ig_pkt *p, int answered)
{
	struct ig_req_scratch *s = ig_req_scratch();
	struct ig_http_conn *c;

	if (!s)
		return 0;
	ig_flow_key_make(&s->key, p->saddr, p->daddr, p->sport, p->dport, IG_DIR_HTTP);
	c = bpf_map_lookup_elem(&http_conns, &s->key);
	if (!c)
		return 0;
	if (answered == IG_REQ_UNANSWERED) {
		/* the 429 could not be made after all: the segment is merely
		 * dropped, and its retransmission is framed again */
		c->flags &= ~IG_HC_F_REFUSED;
		c->body = 0; /* it held refused_seq: the prompts before are lost */
		return 0;
	}
	c->scan = c->prev_scan;
	c->next_seq = c->prev_seq;
	/* its body comes again with it (or never: refused_seq takes the place) */
	__sync_fetch_and_add(&c->body, -(__s32)(s->body < c->body ? s->body : c->body));
	if (answered) {
		__u32 idx = IG_PORT_INDEX(p->proto, p->dport);
		struct ig_policy *pol = bpf_map_lookup_elem(&port_policy, &idx);
		__u32 slot = pol ? pol->slot : 0;
		__u64 *last = bpf_map_lookup_elem(&http_refused, &slot);

		c->refused_seq = c->prev_seq;
		c->flags |= IG_HC_F_REFUSED;
		if (last)
			*last = ig_now();
	}
	return 0;
}

/* Is the port's last 429 recent enough that its pure ACKs must be looked at? */
static __always_inline int ig_req_teardown_due(__u32 slot)
{
	__u64 *last = bpf_map_lookup_elem(&http_refused, &slot);

	return last && *last && ig_now() - *last < IG_REQ_TEARDOWN_NS;
}

#endif /* IG_REQUEST_H */
