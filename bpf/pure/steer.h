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
