// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Passes everything. Tests attach it (native) to the client end of a veth
 * pair: veth only wakes the peer's NAPI after an XDP_TX when the peer has an
 * XDP program of its own; with GRO alone the reply waits in the peer's ring
 * until some other packet arrives (a RST then shows up a SYN retransmit late).
 * See ig_peer_xdp_pass in netns.sh.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
