// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Another vendor's tcx program, for the tests of where infergate runs among
 * others (tests/netns/coexist.sh): counts the IPv4 TCP SYNs it sees and passes
 * everything on (TCX_NEXT), so what it counted shows whether infergate, before
 * it, had already dropped some.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} syns SEC(".maps");

SEC("tc")
int peer_count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp;
	__u32 k = 0;
	__u64 *n;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(0x0800) || ip->protocol != 6)
		return -1;
	tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) > end || !tcp->syn || tcp->ack)
		return -1;
	n = bpf_map_lookup_elem(&syns, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	return -1; /* TCX_NEXT: the next program decides */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
