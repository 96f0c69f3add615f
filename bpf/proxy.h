/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --key proxy-source: the client a load balancer names in the PROXY protocol
 * header (pure/proxy.h) its connections start with. Read once, from the
 * first data segment of a connection, believed only from the balancers in
 * `proxy_from`; kept per connection in `proxy_conns` for the request stage,
 * which leaves it to the charge stage (struct ig_client_scratch). The header
 * itself goes on to the server untouched: only the framing skips it.
 */
#ifndef IG_PROXY_KERN_H
#define IG_PROXY_KERN_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "pure/parse.h"
#include "pure/proxy.h"
#include "pure/steer.h"
#include "maps.h"

/* The v1 scanner's state in map memory: on the stack the verifier walks the
 * bpf_loop() callback once per distinct state of it (383k instructions
 * against 2.7k, see pure/proxy.h). Not pinned. */
struct ig_proxy_scratch {
	struct ig_proxy_v1 v1;
	struct ig_proxy_addr out;
	struct ig_proxy_conn pc;
	struct ig_lpm_key lpm;
	__u8 buf[128]; /* the segment's first IG_PROXY_READ bytes */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_proxy_scratch);
} proxy_scratch SEC(".maps");

static __always_inline struct ig_proxy_scratch *ig_proxy_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&proxy_scratch, &zero);
}

struct ig_proxy_loop {
	struct ig_proxy_scratch *s;
	__u32 len;
	int res;
};

static long ig_proxy_v1_byte(__u64 i, void *ctx)
{
	struct ig_proxy_loop *l = ctx;
	struct ig_proxy_scratch *s = l->s;
	int r;

	if (!s || i >= l->len) {
		l->res = IG_PROXY_MORE;
		return 1;
	}
	r = ig_proxy_v1_step(&s->v1, s->buf[i & 127]);
	if (r == IG_PROXY_V1_CONT)
		return 0;
	l->res = r == IG_PROXY_V1_DONE ? IG_PROXY_OK : IG_PROXY_BAD;
	return 1;
}

/*
 * The first data segment of a connection to a proxy-source port, its first
 * len bytes in s->buf and its source in s->lpm: 0 when it may pass, with
 * s->out.hdr_len the bytes of the
 * header the framing must pass over (0: none), or the reason to refuse it:
 * a PROXY header from anyone but a trusted balancer, a malformed one, or
 * none from a balancer (what it says would go unchecked: proxy_protocol.txt
 * has the receiver refuse both); a header cut short waits for the segment to
 * come again whole (dropped: the client's TCP sends it again).
 * A global function: verified once, apart from the request stage, which is
 * near the verifier's limit with the scanner alone.
 */
__noinline int ig_proxy_start(struct ig_proxy_scratch *s, struct ig_flow_key *key, __u32 len)
{
	struct ig_proxy_loop l = { .s = s, .len = len, .res = IG_PROXY_MORE };
	int v, r, trusted;

	if (!s || !key)
		return IG_R_DROP_UNFRAMED;
	s->out.hdr_len = 0;
	if (len > IG_PROXY_READ)
		len = IG_PROXY_READ;
	l.len = len;
	s->lpm.prefixlen = 128;
	trusted = bpf_map_lookup_elem(&proxy_from, &s->lpm) != 0;
	v = ig_proxy_sniff(s->buf, len);
	if (v == IG_PROXY_NONE)
		return trusted ? IG_R_DROP_PROXY : 0;
	if (v == IG_PROXY_MORE)
		return IG_R_DROP_UNFRAMED;
	if (!trusted || v == IG_PROXY_BAD)
		return IG_R_DROP_PROXY;
	if (v == 2) {
		r = ig_proxy_v2_parse(s->buf, len, &s->out);
	} else {
		__builtin_memset(&s->v1, 0, sizeof(s->v1));
		bpf_loop(IG_PROXY_READ, ig_proxy_v1_byte, &l, 0);
		r = l.res;
		if (r == IG_PROXY_OK)
			ig_proxy_v1_finish(&s->v1, &s->out);
	}
	if (r == IG_PROXY_MORE)
		return IG_R_DROP_UNFRAMED;
	if (r != IG_PROXY_OK)
		return IG_R_DROP_PROXY;
	__builtin_memcpy(s->pc.client, s->out.addr, 16);
	s->pc.port = s->out.port;
	s->pc.family = s->out.family;
	key->dir = IG_DIR_PROXY;
	bpf_map_update_elem(&proxy_conns, key, &s->pc, BPF_ANY);
	key->dir = IG_DIR_HTTP;
	return 0;
}

/* The client the connection's PROXY header named into `client`: 1, or 0
 * when it named none (or it is not known: the load balancer's address
 * pays, which limits more, never less). */
static __always_inline int ig_proxy_client(struct ig_flow_key *key, __u8 *client)
{
	struct ig_proxy_conn *pc;

	key->dir = IG_DIR_PROXY;
	pc = bpf_map_lookup_elem(&proxy_conns, key);
	key->dir = IG_DIR_HTTP;
	if (!pc || !pc->family)
		return 0;
	__builtin_memcpy(client, pc->client, 16);
	return 1;
}

#endif /* IG_PROXY_KERN_H */
