/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one place a verdict is reached: every exit of the core goes through
 * ig_verdict(), which counts the packet under its reason and derives the
 * verdict from that reason, so counters and behaviour cannot disagree.
 */
#ifndef IG_COUNTERS_H
#define IG_COUNTERS_H

#include "ig_abi.h"
#include "maps.h"

enum ig_verdict {
	IG_V_PASS = 0,
	IG_V_DROP = 1,
	IG_V_TX = 2, /* the frame now holds a reply: send it back out */
};

static __always_inline enum ig_verdict ig_reason_verdict(enum ig_reason r)
{
	switch (r) {
	case IG_R_PASS_OTHER:
	case IG_R_PASS_UNPARSED:
	case IG_R_PASS_FRAGMENT:
	case IG_R_PASS_FREE:
	case IG_R_PASS_ADMITTED:
		return IG_V_PASS;
	case IG_R_REJECT:
		return IG_V_TX;
	default:
		return IG_V_DROP;
	}
}

static __always_inline enum ig_verdict ig_verdict(__u32 slot, enum ig_reason r, __u32 bytes)
{
	struct ig_stats *st = bpf_map_lookup_elem(&port_stats, &slot);

	/* r < IG_R_MAX by construction; the mask is for the verifier's bounds. */
	if (st && r < IG_R_MAX) {
		st->packets[r]++;
		st->bytes[r] += bytes;
	}
	return ig_reason_verdict(r);
}

#endif /* IG_COUNTERS_H */
