// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A port's fair-share levels in the pinned maps: see levels.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/levels.h"
#include "lib/args.h"
#include "lib/log.h"

enum { G_PREFIX_BURST = IG_LEVEL_G_PREFIX_BURST, G_PORT_BURST = IG_LEVEL_G_PORT_BURST,
       G_NEWCOMER_BURST = 4, G_TOKENS_PM = 8, G_TOKENS = 16 };

int ig_levels_parse(struct ig_limits *lim, unsigned int *given, const char *key, const char *value)
{
	__u64 v, v6;
	char *comma;

	if (!strcmp(key, "prefix_rate"))
		return ig_parse_rate(value, &lim->prefix_rate) ? -EINVAL : 0;
	if (!strcmp(key, "port_rate"))
		return ig_parse_rate(value, &lim->port_rate) ? -EINVAL : 0;
	if (!strcmp(key, "newcomer_rate"))
		return ig_parse_rate(value, &lim->newcomer_rate) ? -EINVAL : 0;
	if (!strcmp(key, "prefix_burst")) {
		*given |= G_PREFIX_BURST;
		return ig_parse_count(value, "prefix_burst", 1, IG_MAX_BURST, &lim->prefix_burst) ? -EINVAL : 0;
	}
	if (!strcmp(key, "port_burst")) {
		*given |= G_PORT_BURST;
		return ig_parse_count(value, "port_burst", 1, IG_MAX_BURST, &lim->port_burst) ? -EINVAL : 0;
	}
	if (!strcmp(key, "newcomer_burst")) {
		*given |= G_NEWCOMER_BURST;
		return ig_parse_count(value, "newcomer_burst", 1, IG_MAX_BURST, &lim->newcomer_burst)
			       ? -EINVAL : 0;
	}
	if (!strcmp(key, "max_conns")) {
		if (ig_parse_count(value, "max_conns", 1, 1U << 30, &v))
			return -EINVAL;
		lim->max_conns = (__u32)v;
		return 0;
	}
	if (!strcmp(key, "tokens_per_minute")) {
		*given |= G_TOKENS_PM;
		return ig_parse_count(value, "tokens_per_minute", 1, IG_RATE_MAX, &lim->tokens_per_min)
			       ? -EINVAL : 0;
	}
	/* the same budget as written: 100000/d, 2M/h; a bare N a minute's */
	if (!strcmp(key, "tokens")) {
		*given |= G_TOKENS;
		return ig_parse_tokens(value, &lim->tokens_per_min) ? -EINVAL : 0;
	}
	if (!strcmp(key, "bytes_per_token")) {
		if (ig_parse_count(value, "bytes_per_token", 1, 65535, &v))
			return -EINVAL;
		lim->bytes_per_token = (__u16)v;
		return 0;
	}
	if (!strcmp(key, "prefix_len")) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%s", value);
		comma = strchr(buf, ',');
		if (comma)
			*comma = '\0';
		if (ig_parse_count(buf, "prefix_len (IPv4)", 1, 32, &v))
			return -EINVAL;
		v6 = IG_DEFAULT_PREFIX_V6;
		if (comma && ig_parse_count(comma + 1, "prefix_len (IPv6)", 1, 128, &v6))
			return -EINVAL;
		lim->prefix_v4 = (__u8)v;
		lim->prefix_v6 = (__u8)v6;
		return 0;
	}
	return -ENOENT;
}

int ig_levels_finish(struct ig_limits *lim, unsigned int given)
{
	static const struct {
		unsigned int bit;
		const char *what, *burst_key;
	} b[] = { { G_PREFIX_BURST, "prefix", "prefix_burst" }, { G_PORT_BURST, "port", "port_burst" },
		  { G_NEWCOMER_BURST, "newcomer", "newcomer_burst" } };
	__u64 *rate[] = { &lim->prefix_rate, &lim->port_rate, &lim->newcomer_rate };
	__u64 *burst[] = { &lim->prefix_burst, &lim->port_burst, &lim->newcomer_burst };

	for (int i = 0; i < 3; i++) {
		if (!*rate[i] && (given & b[i].bit)) {
			ig_args_error("a %s burst needs a %s rate", b[i].what, b[i].what);
			return -EINVAL;
		}
		if (*rate[i] && !(given & b[i].bit))
			*burst[i] = ig_rate_default_burst(*rate[i]);
		if (*rate[i] && ig_rate_check_burst(*rate[i], *burst[i], b[i].burst_key))
			return -ERANGE;
	}
	if ((given & G_TOKENS) && (given & G_TOKENS_PM)) {
		ig_args_error("tokens and tokens_per_minute set the same budget: give one");
		return -EINVAL;
	}
	if (!lim->tokens_per_min && lim->bytes_per_token) {
		ig_args_error("bytes_per_token needs tokens_per_minute");
		return -EINVAL;
	}
	return 0;
}

int ig_limits_any(const struct ig_limits *lim)
{
	return lim->prefix_rate || lim->port_rate || lim->newcomer_rate || lim->tokens_per_min ||
	       lim->max_conns;
}

int ig_levels_get(const struct ig_instance *in, __u32 slot, struct ig_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	if (!slot || slot >= IG_MAX_SLOTS)
		return 0;
	if (bpf_map_lookup_elem(in->fd[IG_MAP_PORT_LIMITS], &slot, lim)) {
		int err = -errno;

		ig_err("cannot read port_limits[%u]: %s", slot, strerror(-err));
		return err;
	}
	return 0;
}

int ig_levels_put(const struct ig_instance *in, __u32 slot, const struct ig_limits *lim)
{
	if (bpf_map_update_elem(in->fd[IG_MAP_PORT_LIMITS], &slot, lim, BPF_ANY)) {
		int err = -errno;

		ig_err("cannot write port_limits[%u]: %s", slot, strerror(-err));
		return err;
	}
	return 0;
}

int ig_levels_clear_slot(const struct ig_instance *in, __u32 slot)
{
	struct ig_limits none = {};
	struct ig_port_state idle = {};
	struct ig_level_stats *zero = calloc((size_t)in->ncpus, sizeof(*zero));
	int err = 0;

	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(in->fd[IG_MAP_PORT_LIMITS], &slot, &none, BPF_ANY) ||
	    bpf_map_update_elem(in->fd[IG_MAP_PORT_STATE], &slot, &idle, BPF_ANY) ||
	    bpf_map_update_elem(in->fd[IG_MAP_LEVEL_STATS], &slot, zero, BPF_ANY)) {
		err = -errno;
		ig_err("cannot reset fair-share slot %u: %s", slot, strerror(-err));
	}
	free(zero);
	return err;
}

int ig_level_stats_read(const struct ig_instance *in, __u32 slot, struct ig_level_stats *sum)
{
	return ig_percpu_sum(in, IG_MAP_LEVEL_STATS, slot, (__u64 *)sum, sizeof(*sum) / 8);
}

__u32 ig_policy_flags(__u32 flags, const struct ig_limits *lim, int tiers)
{
	flags &= ~(__u32)(IG_POL_F_HIER | IG_POL_F_CONNS | IG_POL_F_TOKENS);
	/* a client other than the source address is read out of the request
	 * stage's scratch by the hierarchy's charge stage only */
	if (ig_limits_any(lim) || tiers || (flags & (IG_POL_F_FLEET | IG_POL_F_INFLIGHT)) ||
	    IG_POL_KEY(flags) != IG_KEY_SOURCE)
		flags |= IG_POL_F_HIER;
	if (lim->max_conns)
		flags |= IG_POL_F_CONNS;
	if (lim->tokens_per_min)
		flags |= IG_POL_F_TOKENS;
	return flags;
}
