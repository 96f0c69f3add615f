// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bench programs around the production core. bench_bare and bench_ig do the
 * same pre-work (rewrite the IPv4 source address to the next of N sources),
 * so the difference between them is what the limiter costs per packet.
 * BPF_PROG_TEST_RUN reuses one frame for every repeat, which is why the
 * variation has to happen inside the program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "core.h"

/* Sources cycled through: base + i for i in [0, nsrc) (host order). */
const volatile __u32 bench_nsrc = 1;
const volatile __u32 bench_base = 0;

/*
 * i advances by this step mod nsrc (coprime to it, so every source comes up
 * once per nsrc packets). The loader creates the sources with step 1, then
 * switches to a large step, as real traffic interleaves unrelated sources. (The
 * source table hashes addresses, so neither order is friendly to the
 * prefetcher; the step keeps the bench honest for any table layout.)
 */
volatile __u32 bench_step = 1;

/* Index of the next source, per CPU: test runs never migrate, and a warm-up
 * pass of nsrc packets leaves it where it was. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_ctr SEC(".maps");

/* Offset of the IPv4 source address in the untagged frames the bench sends. */
#define BENCH_SADDR_OFF (sizeof(struct ig_eth) + 12)

/*
 * The IPv4 header checksum is left stale: the parser does not verify it, and
 * fixing it would only add the same cost to both variants.
 * Returns 0 when the frame is too short to hold an address (never, with the
 * bench's frames) so both variants take the same branch.
 */
static __always_inline int bench_vary(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__be32 *sa = data + BENCH_SADDR_OFF;
	__u32 zero = 0, *c, i;

	if ((void *)(sa + 1) > end)
		return 0;
	c = bpf_map_lookup_elem(&bench_ctr, &zero);
	if (!c)
		return 0;
	i = *c;
	*c = i + bench_step >= bench_nsrc ? i + bench_step - bench_nsrc : i + bench_step;
	*sa = ig_htonl(bench_base + i);
	return 1;
}

/* Nothing at all: the floor of BPF_PROG_TEST_RUN itself. */
SEC("xdp")
int bench_bare0(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/* The baseline: the pre-work, then drop. */
SEC("xdp")
int bench_bare(struct xdp_md *ctx)
{
	bench_vary(ctx);
	return XDP_DROP;
}

/* The pre-work, then the production core, verdict mapped as in ig_xdp. */
SEC("xdp")
int bench_ig(struct xdp_md *ctx)
{
	bench_vary(ctx);
	return ig_xdp_action(ig_handle(ctx, IG_HOOK_XDP));
}

/* bench_req_stage's packet: on the stack, with the stage's own below it,
 * the chain of calls would pass 512 bytes */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_pkt);
} bench_pkt SEC(".maps");

/*
 * The request stage alone (issue 16: what finding a request's API key
 * costs): ig_req_in() in the port's key mode, then the refused charge's
 * restore without an answer, so that every repeat reads the same request
 * from the same entry. A port keyed by API key above one keyed by source is
 * then the key's finding (names matched, value read, credential hashed, the
 * client handed to the charge); what the charge does with it is bench_ig's.
 */
SEC("xdp")
int bench_req_stage(struct xdp_md *ctx)
{
	void *data, *end;
	struct ig_policy *pol;
	struct ig_pkt *p;
	__u32 idx = 0;
	int res;

	bench_vary(ctx);
	p = bpf_map_lookup_elem(&bench_pkt, &idx);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (!p || ig_parse(data, end, p) != IG_PARSE_OK)
		return XDP_PASS;
	idx = IG_PORT_INDEX(p->proto, p->dport);
	pol = bpf_map_lookup_elem(&port_policy, &idx);
	if (!pol)
		return XDP_PASS;
	res = IG_CALL_STAGE(ig_stage_request, ctx, IG_HOOK_XDP, (int)IG_POL_KEY(pol->flags));
	ig_req_refused(p, 0);
	return (res & 0xff) == IG_NEED_CHARGE ? XDP_DROP : XDP_PASS;
}

/* The egress program's baseline: a TC program that does nothing. */
SEC("tc")
int bench_tc_bare(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

/* The production egress core, as ig_tc_egress runs it (test frames are
 * linear: no pull needed). */
SEC("tc")
int bench_tc_egress(struct __sk_buff *skb)
{
	return ig_handle_egress(skb);
}

/*
 * Token counting: a reply segment read (bench_tok_read) or charged by its
 * bytes (bench_tok_bytes), from a reading state put back from the template
 * the frame's destination port names (bench_tok.h) before each.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct ig_resp_state);
} bench_resp_tmpl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ig_resp_state);
} bench_resp_st SEC(".maps");

struct ig_limits bench_tok_lim = { .tokens_per_min = 1000000, .bytes_per_token = 4 };
struct ig_client_key bench_tok_key = { .port = 41000 };

/* Untagged IPv4, no options: the payload is at 54, the TCP dport at 36. */
#define BENCH_TOK_POFF 54

static __always_inline struct ig_resp_state *bench_tok_state(struct __sk_buff *skb, __u32 *plen)
{
	struct ig_resp_state *tmpl, *st;
	__u32 zero = 0, idx;
	__be16 dport;

	if (bpf_skb_load_bytes(skb, 36, &dport, 2))
		return NULL;
	idx = ig_ntohs(dport) & 7;
	tmpl = bpf_map_lookup_elem(&bench_resp_tmpl, &idx);
	st = bpf_map_lookup_elem(&bench_resp_st, &zero);
	if (!tmpl || !st)
		return NULL;
	*st = *tmpl;
	*plen = skb->len - BENCH_TOK_POFF;
	return st;
}

SEC("tc")
int bench_tok_bytes(struct __sk_buff *skb)
{
	__u32 plen;

	if (bench_tok_state(skb, &plen))
		ig_tokens_spend(&bench_tok_key, &bench_tok_lim, plen, ig_now());
	return TC_ACT_UNSPEC;
}

/* A reply segment through the reader, then its charge (`mode`: the
 * reading's; IG_RESP_TIMES_ONLY for a port timed without a token budget).
 * `timed`: with the response times taken as the egress path takes them
 * (tokens.h): jiffies now, and the histograms of slot 1 where the segment
 * begins, first-tokens or ends a response. The socket's stamps are
 * constants here (a test run has no socket; in the real path they are three
 * loads from the tcp_sock the reader already holds). */
static __always_inline int bench_read(struct __sk_buff *skb, __u32 mode, int timed)
{
	struct ig_resp_state *st;
	struct ig_resp_io *io;
	__u32 plen, zero = 0;

	st = bench_tok_state(skb, &plen);
	io = bpf_map_lookup_elem(&resp_scratch, &zero);
	if (!st || !io)
		return TC_ACT_UNSPEC;
	__builtin_memset(&io->out, 0, sizeof(io->out));
	io->poff = BENCH_TOK_POFF;
	io->bpt = 4;
	io->mode = mode;
	io->rx = 0;
	if (timed) {
		io->jnow = (__u32)bpf_jiffies64();
		io->jrcv = io->jnow - 75;
		io->jrwnd = 0;
	}
	io->pos = 0;
	io->end = plen;
	ig_resp_run(skb, st, io);
	if (timed && (io->out.nttft | io->out.ndur))
		ig_timing_add(1, io);
	if (mode < IG_RESP_TIMES_ONLY)
		ig_tokens_add(&bench_tok_key, &bench_tok_lim, io->out.add, ig_now());
	return TC_ACT_UNSPEC;
}

SEC("tc")
int bench_tok_read(struct __sk_buff *skb)
{
	return bench_read(skb, IG_TC_USAGE, 0);
}

SEC("tc")
int bench_tok_timed(struct __sk_buff *skb)
{
	return bench_read(skb, IG_TC_USAGE, 1);
}

SEC("tc")
int bench_times_only(struct __sk_buff *skb)
{
	return bench_read(skb, IG_RESP_TIMES_ONLY, 1);
}

/*
 * The PROXY check at a connection's first data segment (ig_proxy_start,
 * bpf/proxy.h), called as the request stage calls it (ig_req_proxy): in a
 * test run there is no socket, so the request stage never gets that far.
 * The frame's payload is the segment, its source the balancer, looked up in
 * proxy_from. The same pre-work as bench_bare, so that the difference is
 * the check: loading the segment's first bytes, the trust lookup, the
 * sniff, the parse and the store in proxy_conns. XDP_DROP when the check
 * took the path the case wants (`hdr`: a header believed, naming an IPv6
 * client; else none there and nothing to skip), XDP_PASS when not: the
 * bench counts that off-path.
 */
static __always_inline int bench_proxy(struct xdp_md *ctx, int hdr)
{
	struct ig_proxy_scratch *ps = ig_proxy_scratch();
	__u32 plen = ctx->data_end - ctx->data - BENCH_TOK_POFF;
	__u32 len = plen < IG_PROXY_READ ? plen : IG_PROXY_READ;
	struct ig_flow_key key = { .server_port = 8011, .dir = IG_DIR_HTTP };
	__be32 sa = ig_htonl(bench_base);

	bench_vary(ctx);
	if (!ps || ig_req_load_n(ctx, IG_HOOK_XDP, BENCH_TOK_POFF, ps->buf, len, 128))
		return XDP_PASS;
	/* the source as the parser leaves it in p->saddr: IPv4-mapped */
	__builtin_memset(ps->lpm.addr, 0, 10);
	ps->lpm.addr[10] = 0xff;
	ps->lpm.addr[11] = 0xff;
	__builtin_memcpy(&ps->lpm.addr[12], &sa, 4);
	if (ig_proxy_start(ps, &key, len))
		return XDP_PASS;
	if (hdr)
		return ps->out.hdr_len && ps->out.family == 6 ? XDP_DROP : XDP_PASS;
	return ps->out.hdr_len ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int bench_proxy_hdr(struct xdp_md *ctx)
{
	return bench_proxy(ctx, 1);
}

SEC("xdp")
int bench_proxy_none(struct xdp_md *ctx)
{
	return bench_proxy(ctx, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
