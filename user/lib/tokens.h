/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* LLM-token budgets in the pinned maps: map `tokens`, one GCRA word per
 * client of a port with tokens_per_minute (see bpf/ig_abi.h). */
#ifndef IG_TOKENS_H
#define IG_TOKENS_H

#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"
#include "lib/policy.h"

/* Charge `tokens` to a client's LLM-token budget on (proto, port): a
 * read-modify-write of its `tokens` entry, as a bpftool user would do it.
 * *left: the balance after (negative: in debt). */
int ig_tokens_charge(const struct ig_instance *in, const char *src, enum ig_proto proto,
		     __u16 port, __u64 tokens, long long *left);

/* Fill token_clients and token_debtors of the rows from the `tokens` map. */
int ig_tokens_count(const struct ig_instance *in, struct ig_port_row *rows, int nrows);

/* The rule a policy's flags say its replies are counted by; the fourth value
 * the two bits hold is read as bytes, as the data path reads it. */
static inline enum ig_token_count ig_token_count_of(__u32 flags)
{
	__u32 c = IG_POL_COUNT(flags);

	return c < IG_TC_MAX ? (enum ig_token_count)c : IG_TC_BYTES;
}

/* `flags` counting by rule c (the other bits kept). */
static inline __u32 ig_token_count_flags(__u32 flags, enum ig_token_count c)
{
	return (flags & ~IG_POL_COUNT_MASK) | (((__u32)c << IG_POL_COUNT_SHIFT) & IG_POL_COUNT_MASK);
}

/* A slot's responses and tokens by counting rule (`token_rules`), summed
 * over CPUs. */
int ig_token_rules_read(const struct ig_instance *in, __u32 slot, struct ig_token_rules *sum);
/* Zero them on every CPU: a slot handed to a new port starts from nothing. */
int ig_token_rules_clear(const struct ig_instance *in, __u32 slot);

#endif
