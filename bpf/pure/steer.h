/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Breaker steering, the pure half: deciding where a new connection goes,
 * keying its flow, reading a response's status class (the port rewrite's
 * checksum is in csum.h).
 * Plain C with no map or helper calls, so the unit tests (and the CLI) build
 * it natively; breaker.h wires it to the maps and the frame.
 */
#ifndef IG_STEER_H
#define IG_STEER_H

#include "ig_abi.h"
#include "pure/hdr.h"
#include "pure/parse.h"
#ifndef __bpf__
#include <linux/bpf.h> /* struct bpf_sock_tuple */
#endif

/* The state the data path obeys: the operator's force, else the agent's. */
static __always_inline enum ig_brk_state ig_brk_effective(const struct ig_breaker *b)
{
	if (b->force == IG_FORCE_OPEN)
		return IG_BRK_OPEN;
	if (b->force == IG_FORCE_CLOSED)
		return IG_BRK_CLOSED;
	if (b->state == IG_BRK_OPEN || b->state == IG_BRK_HALF_OPEN)
		return b->state;
	return IG_BRK_CLOSED; /* unknown values (a bpftool typo) fail towards the primary */
}

/* Key of a connection seen from either side; `client` is the remote end. */
static __always_inline void ig_flow_key_make(struct ig_flow_key *k, const __u8 *client,
					     const __u8 *server, __u16 client_port,
					     __u16 server_port, enum ig_flow_dir dir)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->client, client, 16);
	__builtin_memcpy(k->server, server, 16);
	k->client_port = client_port;
	k->server_port = server_port;
	k->dir = (__u8)dir;
}

/*
 * The acknowledgment number (host order) of the TCP header at `l4_off`, or 0
 * when the header is out of reach. What tells a client that received our
 * SYN-ACK from a spoofer: only the former can acknowledge its sequence number.
 */
static __always_inline __u32 ig_tcp_ack_seq(const void *data, const void *end, __u32 l4_off)
{
	const __u8 *a;
	__u32 v;

	/* the mask must land on the register added to the pointer (ig_clamp in
	 * ctx.h, which a pure header cannot include) */
	asm volatile("" : "+r"(l4_off));
	l4_off &= 1023;
	a = (const __u8 *)data + l4_off + 8;
	if ((const void *)(a + 4) > end)
		return 0;
	__builtin_memcpy(&v, a, 4);
	return ig_ntohl(v);
}

/* A segment that completes the handshake of `pe`: it acknowledges the
 * SYN-ACK (`ack`: its acknowledgment number). */
static __always_inline int ig_pend_completes(const struct ig_pending *pe, const struct ig_pkt *p,
					     __u32 ack)
{
	return (p->tcp_flags & (IG_TCP_ACK | IG_TCP_SYN | IG_TCP_RST)) == IG_TCP_ACK &&
	       (pe->flags & IG_PEND_F_SYNACK) && ack == pe->server_isn + 1;
}

/*
 * The socket lookup key (bpf_skc_lookup_tcp()) of the connection `p` belongs
 * to, as the kernel sees its packets come in: client to server. `from_server`:
 * p is the server's segment (egress). `server_port`: where the server's socket
 * is, when not the packet's port (a connection steered to a fallback). Returns
 * the key's size.
 */
static __always_inline __u32 ig_sock_tuple(const struct ig_pkt *p, int from_server,
					   __u16 server_port, struct bpf_sock_tuple *t)
{
	const __u8 *c = from_server ? p->daddr : p->saddr;
	const __u8 *s = from_server ? p->saddr : p->daddr;
	__u16 cport = ig_htons(from_server ? p->dport : p->sport);
	__u16 sport = ig_htons(server_port ? server_port : from_server ? p->sport : p->dport);

	__builtin_memset(t, 0, sizeof(*t));
	if (!p->ipv6) {
		__builtin_memcpy(&t->ipv4.saddr, c + 12, 4);
		__builtin_memcpy(&t->ipv4.daddr, s + 12, 4);
		t->ipv4.sport = cport;
		t->ipv4.dport = sport;
		return sizeof(t->ipv4);
	}
	__builtin_memcpy(t->ipv6.saddr, c, 16);
	__builtin_memcpy(t->ipv6.daddr, s, 16);
	t->ipv6.sport = cport;
	t->ipv6.dport = sport;
	return sizeof(t->ipv6);
}

/*
 * The class of an HTTP/1.x status line at the start of a TCP payload
 * ("HTTP/1.1 503 ..."), or -1 when the payload does not start with one.
 * Only the first segment of a response carries it, so each response is counted
 * once (a retransmitted first segment is counted again: rare, and harmless to
 * a failure *rate*).
 */
#define IG_HTTP_STATUS_LINE_MIN 12 /* "HTTP/1.x NNN" */

static __always_inline int ig_http_status_class(const __u8 *s, const __u8 *end)
{
	if (s + IG_HTTP_STATUS_LINE_MIN > end)
		return -1;
	if (s[0] != 'H' || s[1] != 'T' || s[2] != 'T' || s[3] != 'P' || s[4] != '/' ||
	    s[5] != '1' || s[6] != '.' || s[8] != ' ')
		return -1;
	if (s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' || s[11] < '0' ||
	    s[11] > '9')
		return -1;
	return IG_HTTP_1XX + (s[9] - '1');
}

#endif /* IG_STEER_H */
