// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* LLM-token budgets in the pinned maps: see tokens.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/tokens.h"
#include "lib/cidr.h"
#include "lib/levels.h"
#include "lib/log.h"
#include "lib/names.h"

int ig_tokens_charge(const struct ig_instance *in, const char *src, enum ig_proto proto,
		     __u16 port, __u64 tokens, long long *left)
{
	struct ig_client_key k = { .port = port, .proto = (__u8)proto };
	struct ig_token_state ts = {};
	struct ig_limits lim;
	struct ig_policy pol;
	__u64 now, inc, w, n;
	int err;

	if (ig_addr_parse(src, k.addr, NULL)) {
		ig_err("invalid source '%s': expected an IPv4 or IPv6 address", src);
		return -EINVAL;
	}
	err = ig_policy_get(in, proto, port, &pol);
	if (!err)
		err = ig_levels_get(in, pol.slot, &lim);
	if (err)
		return err;
	if (!pol.slot || !lim.tokens_per_min) {
		ig_err("%u/%s has no token budget (limit %u --tokens-per-min N)", port,
		       ig_proto_name(proto), port);
		return -ENOENT;
	}
	err = ig_datapath_now(in, &now);
	if (err)
		return err;
	if (bpf_map_lookup_elem(in->fd[IG_MAP_TOKENS], &k, &ts) && errno != ENOENT) {
		err = -errno;
		ig_err("cannot read the token budget of %s: %s", src, strerror(-err));
		return err;
	}
	/* Not atomic with the data path (nor is a bpftool edit): a reply charged
	 * by TC egress between this read and the write below is lost, at most
	 * one reply's tokens per charge.
	 * tokens * W / N in 128 bits; a debt past the data path's cap is refused */
	w = ig_token_window(lim.tokens_per_min);
	n = ig_rate_n(lim.tokens_per_min);
	if (!n || (unsigned __int128)tokens * w / n > (1ULL << 60)) {
		ig_err("%llu tokens: too many for one charge", (unsigned long long)tokens);
		return -ERANGE;
	}
	inc = (__u64)((unsigned __int128)tokens * w / n);
	ts.tat = (ts.tat > now ? ts.tat : now) + inc;
	ts.spent += tokens;
	if (bpf_map_update_elem(in->fd[IG_MAP_TOKENS], &k, &ts, BPF_ANY)) {
		err = -errno;
		ig_err("cannot charge the token budget of %s: %s", src, strerror(-err));
		return err;
	}
	if (left)
		*left = (long long)(((double)(now + w) - (double)ts.tat) * (double)n / (double)w);
	return 0;
}

int ig_tokens_count(const struct ig_instance *in, struct ig_port_row *rows, int nrows)
{
	struct ig_client_key k, prev;
	struct ig_token_state ts;
	void *pk = NULL;
	int any = 0, err;
	__u64 now;

	for (int i = 0; i < nrows; i++)
		any |= rows[i].lim.tokens_per_min != 0;
	if (!any)
		return 0;
	err = ig_datapath_now(in, &now);
	if (err)
		return err;
	while (bpf_map_get_next_key(in->fd[IG_MAP_TOKENS], pk, &k) == 0) {
		prev = k;
		pk = &prev;
		/* gone since (LRU): not counted */
		if (bpf_map_lookup_elem(in->fd[IG_MAP_TOKENS], &k, &ts))
			continue;
		for (int i = 0; i < nrows; i++) {
			if (rows[i].port != k.port || rows[i].proto != (enum ig_proto)k.proto)
				continue;
			rows[i].token_clients++;
			/* the data path's test: a period's worth or more of debt */
			if (ts.tat >= now + ig_token_window(rows[i].lim.tokens_per_min))
				rows[i].token_debtors++;
			break;
		}
	}
	return 0;
}

int ig_token_rules_read(const struct ig_instance *in, __u32 slot, struct ig_token_rules *sum)
{
	return ig_percpu_sum(in, IG_MAP_TOKEN_RULES, slot, (__u64 *)sum, sizeof(*sum) / 8);
}

int ig_token_rules_clear(const struct ig_instance *in, __u32 slot)
{
	return ig_percpu_zero(in, IG_MAP_TOKEN_RULES, slot, sizeof(struct ig_token_rules));
}
