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

#endif
