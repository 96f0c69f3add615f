/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internet checksums, every one the data path computes: whole sums for the
 * replies it builds (reply.h) and the incremental update of a port rewrite
 * (ctx.h, the breaker). Plain C: the unit tests check them natively against
 * frames built by hand.
 *
 * Words are summed as they lie in the packet (network order): a one's-
 * complement sum does not care about byte order as long as every word is
 * taken the same way, so nothing is byte-swapped per word.
 */
#ifndef IG_CSUM_H
#define IG_CSUM_H

#include "pure/hdr.h"
#include "pure/parse.h"

/* One's-complement sum of 16-bit words, in network order as they lie. The
 * loop has a constant bound at every call site, so it unrolls for the
 * verifier. */
static __always_inline __u32 ig_csum_add(__u32 sum, const void *buf, __u32 len)
{
	const __u16 *w = (const __u16 *)buf;
	__u32 i;

#pragma unroll
	for (i = 0; i < len / 2; i++)
		sum += w[i];
	return sum;
}

static __always_inline __u16 ig_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Pseudo-header sum of a reply to p: addresses, then the upper-layer length
 * and protocol. */
static __always_inline __u32 ig_csum_pseudo(const struct ig_pkt *p, __u32 l4len, __u8 proto)
{
	__u32 sum = 0;

	if (p->ipv6) {
		/* reply goes daddr -> saddr; the sum does not care about order */
		sum = ig_csum_add(sum, p->saddr, 16);
		sum = ig_csum_add(sum, p->daddr, 16);
		sum += ig_htons((__u16)(l4len >> 16));
		sum += ig_htons((__u16)l4len);
		sum += ig_htons(proto);
	} else {
		sum = ig_csum_add(sum, p->saddr + 12, 4);
		sum = ig_csum_add(sum, p->daddr + 12, 4);
		sum += ig_htons(proto);
		sum += ig_htons((__u16)l4len);
	}
	return sum;
}

/*
 * RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data
 * changed from `old` to `new` (all three as they lie in the packet).
 */
static __always_inline __u16 ig_csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~old;
	sum += new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

#endif /* IG_CSUM_H */
