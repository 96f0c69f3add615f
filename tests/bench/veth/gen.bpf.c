// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The traffic generator of the veth bench: run with BPF_PROG_TEST_RUN in
 * live-frames mode on the sender's veth, it rewrites the IPv4 source of the
 * one template frame to the next of `gen_nsrc` sources (header checksum
 * fixed) and sends it with XDP_TX, which puts it on the receiver's veth like a
 * NIC would: no skb, no socket, ~4 Mpps on this VM. Also the receiver-side
 * baseline: an XDP program that counts and drops.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 gen_nsrc = 1;
const volatile __u32 gen_base = 0; /* first source, host order */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_ctr SEC(".maps");

/* Ethernet, then IPv4 (no options) or IPv6 (no extension headers), then TCP,
 * as the template has them. */
#define GEN_IP_OFF 14

static __always_inline __u16 csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* RFC 1624: the checksum after one 32-bit word changed from `from` to `to`. */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 s = (__u16)~check;

	s += (~from & 0xffff) + (~from >> 16);
	s += (to & 0xffff) + (to >> 16);
	return csum_fold(s);
}

/*
 * The next source: IPv4, the whole address; IPv6, its last 32 bits. The TCP
 * checksum follows (a spoofed SYN the server's stack would throw away for a
 * bad checksum tests nothing past the limiter).
 */
SEC("xdp")
int gen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0, sum = 0, src, old, *sp;
	__u64 *c = bpf_map_lookup_elem(&gen_ctr, &zero);
	struct tcphdr *th;
	struct iphdr *ip = 0;
	__u16 *w;
	int i;

	if (!c || (void *)(eth + 1) > end)
		return XDP_ABORTED;
	src = bpf_htonl(gen_base + (__u32)(*c % gen_nsrc));
	(*c)++;
	if (eth->h_proto == bpf_htons(0x86dd)) {
		struct ipv6hdr *ip6 = data + GEN_IP_OFF;

		th = (void *)(ip6 + 1);
		if ((void *)(th + 1) > end)
			return XDP_ABORTED;
		sp = &ip6->saddr.in6_u.u6_addr32[3];
	} else {
		ip = data + GEN_IP_OFF;
		th = (void *)(ip + 1);
		if ((void *)(th + 1) > end)
			return XDP_ABORTED;
		sp = &ip->saddr;
	}
	old = *sp;
	*sp = src;
	th->check = csum_replace4(th->check, old, src);
	if (!ip)
		return XDP_TX;
	ip->check = 0;
	w = (__u16 *)ip;
#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	ip->check = csum_fold(sum);
	return XDP_TX;
}

/* Receiver baseline: count, drop. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_ctr SEC(".maps");

SEC("xdp")
int sink_drop(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&sink_ctr, &zero);

	if (c)
		(*c)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
