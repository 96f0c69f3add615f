/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The load-time config and the data path's clock (and the place of a source's
 * bucket, which the config's seed and mask decide). Both are globals of the
 * object (.rodata and .bss), not maps: the loader and the tests set them
 * through the skeleton, and a const volatile .rodata value lets the verifier
 * prune the branches of switches that are off.
 */
#ifndef IG_CFG_H
#define IG_CFG_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ig_abi.h"
#include "maps.h"
#include "pure/sources.h"

/* Load-time switches (see struct ig_config); the loader fills them in. */
const volatile struct ig_config ig_cfg = {
	.clock = IG_CLOCK_COARSE,
	.set_mask = IG_DEFAULT_SETS - 1, /* matches maps.h until the loader resizes */
	.prefix_set_mask = IG_DEFAULT_PREFIX_SETS - 1,
};

/* Time source for IG_CLOCK_TEST only: tests set it through the skeleton. */
__u64 ig_test_now_ns;

/*
 * bpf_ktime_get_ns() costs ~40 ns on this class of VM, a third of the whole
 * budget. Jiffies are free to read and a tick (4 ms at HZ=250) is finer than a
 * `conn` limit ever needs: the error is one tick of refill, i.e. below one unit
 * for any rate up to HZ units/s. Only charges read the clock.
 */
static __always_inline __u64 ig_now(void)
{
	if (ig_cfg.clock == IG_CLOCK_TICK)
		return bpf_jiffies64() * ig_cfg.tick_ns;
	if (ig_cfg.clock == IG_CLOCK_TEST)
		return ig_test_now_ns;
	return bpf_ktime_get_coarse_ns();
}

/* The set of `sources` that holds addr's bucket on port/proto (NULL: none),
 * and its identity there in *ident. */
static __always_inline struct ig_source_set *ig_source_set_of(const __u8 *addr, __u16 port,
							      __u8 proto, __u64 *ident)
{
	__u64 h = ig_source_hash(addr, port, proto, ig_cfg.hash_seed);
	__u32 idx = (__u32)h & ig_cfg.set_mask;

	*ident = ig_source_ident(h, port, proto);
	return bpf_map_lookup_elem(&sources, &idx);
}

#endif /* IG_CFG_H */
