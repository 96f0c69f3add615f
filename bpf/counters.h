/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one place a verdict is reached: every exit of the core goes through
 * ig_verdict(), which counts the packet under its reason and derives the
 * verdict from that reason (ig_reason_verdict() in the ABI header), so
 * counters and behaviour cannot disagree.
 */
#ifndef IG_COUNTERS_H
#define IG_COUNTERS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "maps.h"

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

/* A refusal (or a dry run's would-be refusal): which level it was. */
static __always_inline void ig_level_count(__u32 slot, __u32 level)
{
	struct ig_level_stats *ls = bpf_map_lookup_elem(&level_stats, &slot);

	if (ls && level < IG_L_MAX)
		ls->refused[level]++;
}

#endif /* IG_COUNTERS_H */
