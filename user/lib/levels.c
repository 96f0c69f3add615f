// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fair share in the pinned maps: see levels.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "lib/levels.h"
#include "lib/args.h"
#include "lib/log.h"
#include "lib/policy.h"

static const char *const level_names[IG_L_MAX] = {
	[IG_L_SOURCE] = "source", [IG_L_PREFIX] = "prefix",     [IG_L_PORT] = "port",
	[IG_L_NEWCOMER] = "newcomer", [IG_L_TABLE] = "table",   [IG_L_TOKENS] = "tokens",
	[IG_L_CONNS] = "conns",   [IG_L_DENY] = "deny",         [IG_L_FLEET] = "fleet",
};

const char *ig_level_name(enum ig_level l)
{
	return (unsigned)l < IG_L_MAX && level_names[l] ? level_names[l] : "?";
}

const char *ig_tier_kind_name(enum ig_tier_kind k)
{
	return k == IG_TIER_ALLOW ? "allow" : k == IG_TIER_DENY ? "deny" : "tier";
}

enum { G_PREFIX_BURST = 1, G_PORT_BURST = 2, G_NEWCOMER_BURST = 4 };

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
	if (!strcmp(key, "tokens_per_minute"))
		return ig_parse_count(value, "tokens_per_minute", 1, 1ULL << 40, &lim->tokens_per_min)
			       ? -EINVAL : 0;
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
		const char *what;
	} b[] = { { G_PREFIX_BURST, "prefix" }, { G_PORT_BURST, "port" },
		  { G_NEWCOMER_BURST, "newcomer" } };
	__u64 *rate[] = { &lim->prefix_rate, &lim->port_rate, &lim->newcomer_rate };
	__u64 *burst[] = { &lim->prefix_burst, &lim->port_burst, &lim->newcomer_burst };

	for (int i = 0; i < 3; i++) {
		if (!*rate[i] && (given & b[i].bit)) {
			ig_args_error("a %s burst needs a %s rate", b[i].what, b[i].what);
			return -EINVAL;
		}
		if (*rate[i] && !(given & b[i].bit))
			*burst[i] = *rate[i] < IG_MAX_BURST ? *rate[i] : IG_MAX_BURST;
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

/*
 * Client counts at zero or below in `conn_counts`: older data paths kept an
 * entry for every client they saw, and a full table now refuses new clients
 * (the data path deletes a count with its client's last connection). Swept
 * when a port gets max-conns; keys first, then deletes (deleting while
 * walking restarts the walk).
 */
static void conn_counts_gc(const struct ig_instance *in)
{
	int fd = in->fd[IG_MAP_CONN_COUNTS], n = 0, max = IG_DEFAULT_TOKEN_CLIENTS, first = 1;
	struct ig_client_key *keys = calloc((size_t)max, sizeof(*keys)), cur, next;
	__s64 v;

	if (!keys)
		return;
	while (n < max && !bpf_map_get_next_key(fd, first ? NULL : &cur, &next)) {
		first = 0;
		cur = next;
		if (!bpf_map_lookup_elem(fd, &cur, &v) && v <= 0)
			keys[n++] = cur;
	}
	for (int i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]);
	if (n)
		ig_info("max-conns: %d stale client count(s) removed", n);
	free(keys);
}

int ig_levels_set(const struct ig_instance *in, enum ig_proto proto, __u16 port,
		  const struct ig_limits *lim)
{
	struct ig_policy pol;
	int err;

	err = ig_policy_get(in, proto, port, &pol);
	if (err)
		return err;
	if (!pol.slot || pol.slot >= IG_MAX_SLOTS) {
		ig_err("%u/%s is not limited: its levels need a limit first", port, ig_proto_name(proto));
		return -ENOENT;
	}
	if (bpf_map_update_elem(in->fd[IG_MAP_PORT_LIMITS], &pol.slot, lim, BPF_ANY)) {
		err = -errno;
		ig_err("cannot write the levels of %u/%s (port_limits[%u]): %s", port,
		       ig_proto_name(proto), pol.slot, strerror(-err));
		return err;
	}
	if (lim->max_conns)
		conn_counts_gc(in);
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
	struct ig_level_stats *v = calloc((size_t)in->ncpus, sizeof(*v));
	int err = 0;

	memset(sum, 0, sizeof(*sum));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(in->fd[IG_MAP_LEVEL_STATS], &slot, v)) {
		err = -errno;
		ig_err("cannot read level_stats[%u]: %s", slot, strerror(-err));
	}
	for (int c = 0; !err && c < in->ncpus; c++)
		for (int l = 0; l < IG_L_MAX; l++)
			sum->refused[l] += v[c].refused[l];
	free(v);
	return err;
}

__u32 ig_policy_flags(__u32 flags, const struct ig_limits *lim, int tiers)
{
	flags &= ~(__u32)(IG_POL_F_HIER | IG_POL_F_CONNS | IG_POL_F_TOKENS);
	if (ig_limits_any(lim) || tiers || (flags & IG_POL_F_FLEET))
		flags |= IG_POL_F_HIER;
	if (lim->max_conns)
		flags |= IG_POL_F_CONNS;
	if (lim->tokens_per_min)
		flags |= IG_POL_F_TOKENS;
	return flags;
}

int ig_flags_refresh(const struct ig_instance *in)
{
	struct ig_policy *all = NULL;
	int tiers = ig_tiers_count(in), err;

	if (tiers < 0)
		return tiers;
	err = ig_policy_read_all(in, &all);
	for (__u32 i = 0; !err && i < IG_POLICY_ENTRIES; i++) {
		struct ig_limits lim;
		__u32 want;

		if (!all[i].slot)
			continue;
		err = ig_levels_get(in, all[i].slot, &lim);
		if (err)
			break;
		want = ig_policy_flags(all[i].flags, &lim, tiers);
		if (want == all[i].flags)
			continue;
		all[i].flags = want;
		if (bpf_map_update_elem(in->fd[IG_MAP_PORT_POLICY], &i, &all[i], BPF_ANY)) {
			err = -errno;
			ig_err("cannot update the flags of %u/%s: %s", i & 0xffff,
			       ig_proto_name((enum ig_proto)(i >> 16)), strerror(-err));
		}
	}
	free(all);
	return err;
}

/* ---------------------------------------------------------------- tiers */

static int parse_addr16(const char *s, __u8 *addr, int *v4)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr + 12) == 1) {
		addr[10] = addr[11] = 0xff;
		*v4 = 1;
		return 0;
	}
	*v4 = 0;
	return inet_pton(AF_INET6, s, addr) == 1 ? 0 : -EINVAL;
}

int ig_parse_cidr(const char *s, struct ig_lpm_key *k)
{
	if (!ig_cidr_parse(s, k))
		return 0;
	ig_err("invalid CIDR '%s': expected A.B.C.D[/N] or X:Y::Z[/N]", s);
	return -EINVAL;
}

int ig_cidr_parse(const char *s, struct ig_lpm_key *k)
{
	char buf[64], *slash, *end;
	long len;
	int v4;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (parse_addr16(buf, k->addr, &v4))
		goto bad;
	len = v4 ? 32 : 128;
	if (slash) {
		len = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || len < 0 || len > (v4 ? 32 : 128))
			goto bad;
	}
	k->prefixlen = (__u32)len + (v4 ? 96 : 0);
	/* clear the host bits: 10.1.2.3/24 is 10.1.2.0/24 */
	for (__u32 b = k->prefixlen; b < 128; b++)
		k->addr[b / 8] &= (__u8)~(0x80 >> (b % 8));
	return 0;
bad:
	return -EINVAL;
}

void ig_format_cidr(const struct ig_lpm_key *k, char *buf, size_t len)
{
	static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	char a[INET6_ADDRSTRLEN];

	if (k->prefixlen >= 96 && !memcmp(k->addr, v4mapped, 12)) {
		inet_ntop(AF_INET, k->addr + 12, a, sizeof(a));
		snprintf(buf, len, "%s/%u", a, k->prefixlen - 96);
	} else {
		inet_ntop(AF_INET6, k->addr, a, sizeof(a));
		snprintf(buf, len, "%s/%u", a, k->prefixlen);
	}
}

/* Every key of the trie (caller frees). */
static int tier_keys(const struct ig_instance *in, struct ig_lpm_key **out, int *n)
{
	struct ig_lpm_key *keys = NULL, *grown, cur, next;
	int fd = in->fd[IG_MAP_TIERS], k = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (k == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(keys, (size_t)cap * sizeof(*keys));
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
		}
		keys[k++] = next;
		cur = next;
		prev = &cur;
	}
	*out = keys;
	*n = k;
	return 0;
}

/* The tier names and every prefix of the trie (keys: caller frees). */
static int tier_snapshot(const struct ig_instance *in, struct ig_tier_name *names,
			 struct ig_lpm_key **keys, int *n)
{
	int err = ig_array_read_all(in->fd[IG_MAP_TIER_NAMES], "tier_names", IG_MAX_TIERS,
				    sizeof(names[0]), names);

	return err ? err : tier_keys(in, keys, n);
}

int ig_tiers_count(const struct ig_instance *in)
{
	struct ig_lpm_key *keys;
	int n, err = tier_keys(in, &keys, &n);

	if (err)
		return err;
	free(keys);
	return n;
}

static int valid_name(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= IG_TIER_NAME_LEN || !strcmp(name, "allow") || !strcmp(name, "deny"))
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int ig_tier_id(const struct ig_instance *in, const char *name, int create)
{
	struct ig_tier_name names[IG_MAX_TIERS];
	int err, free_id = 0;

	if (!valid_name(name)) {
		ig_err("invalid tier name '%s': 1-%d of [A-Za-z0-9_-], not allow or deny", name,
		       IG_TIER_NAME_LEN - 1);
		return -EINVAL;
	}
	err = ig_array_read_all(in->fd[IG_MAP_TIER_NAMES], "tier_names", IG_MAX_TIERS,
				sizeof(names[0]), names);
	if (err)
		return err;
	for (__u32 id = 1; id < IG_MAX_TIERS; id++) {
		if (!strncmp(names[id].name, name, IG_TIER_NAME_LEN))
			return (int)id;
		if (!free_id && !names[id].name[0])
			free_id = (int)id;
	}
	if (!create) {
		ig_err("no tier named '%s'", name);
		return -ENOENT;
	}
	if (!free_id) {
		ig_err("cannot add tier '%s': all %d tier names are in use", name, IG_MAX_TIERS - 1);
		return -ENOSPC;
	}
	memset(&names[0], 0, sizeof(names[0]));
	snprintf(names[0].name, sizeof(names[0].name), "%s", name);
	if (bpf_map_update_elem(in->fd[IG_MAP_TIER_NAMES], &free_id, &names[0], BPF_ANY)) {
		err = -errno;
		ig_err("cannot name tier %d '%s': %s", free_id, name, strerror(-err));
		return err;
	}
	return free_id;
}

static int tier_value(const struct ig_instance *in, const char *what, struct ig_tier *t)
{
	int id;

	memset(t, 0, sizeof(*t));
	if (!strcmp(what, "allow")) {
		t->kind = IG_TIER_ALLOW;
	} else if (!strcmp(what, "deny")) {
		t->kind = IG_TIER_DENY;
	} else {
		id = ig_tier_id(in, what, 1);
		if (id < 0)
			return id;
		t->kind = IG_TIER_LIMIT;
		t->id = (__u32)id;
	}
	return 0;
}

/*
 * A tier's name lives while a prefix or a rate refers to it: without this the
 * IG_MAX_TIERS - 1 ids would run out over renames and reloads. (Two CLIs
 * editing the tiers at the same moment may race here, as they would anyway.)
 */
static int tier_names_gc(const struct ig_instance *in)
{
	struct ig_tier_name names[IG_MAX_TIERS], none = {};
	unsigned char used[IG_MAX_TIERS] = {};
	struct ig_lpm_key *keys = NULL;
	struct ig_tier_key tk, prev;
	void *pk = NULL;
	int n = 0, err;

	err = tier_snapshot(in, names, &keys, &n);
	if (err)
		return err;
	for (int i = 0; i < n; i++) {
		struct ig_tier t;

		if (!bpf_map_lookup_elem(in->fd[IG_MAP_TIERS], &keys[i], &t) &&
		    t.kind == IG_TIER_LIMIT && t.id < IG_MAX_TIERS)
			used[t.id] = 1;
	}
	free(keys);
	while (bpf_map_get_next_key(in->fd[IG_MAP_TIER_POLICY], pk, &tk) == 0) {
		prev = tk;
		pk = &prev;
		if (tk.tier < IG_MAX_TIERS)
			used[tk.tier] = 1;
	}
	for (__u32 id = 1; id < IG_MAX_TIERS; id++) {
		if (used[id] || !names[id].name[0])
			continue;
		if (bpf_map_update_elem(in->fd[IG_MAP_TIER_NAMES], &id, &none, BPF_ANY)) {
			err = -errno;
			ig_err("cannot free tier name %u '%.*s': %s", id, IG_TIER_NAME_LEN,
			       names[id].name, strerror(-err));
			return err;
		}
	}
	return 0;
}

int ig_tier_add(const struct ig_instance *in, const char *cidr, const char *what)
{
	struct ig_lpm_key k;
	struct ig_tier t;
	int err;

	err = ig_parse_cidr(cidr, &k);
	if (!err)
		err = tier_value(in, what, &t);
	if (err)
		return err;
	if (bpf_map_update_elem(in->fd[IG_MAP_TIERS], &k, &t, BPF_ANY)) {
		err = -errno;
		ig_err("cannot add %s to the tiers: %s", cidr, strerror(-err));
		return err;
	}
	err = tier_names_gc(in); /* the prefix may have left a named tier */
	return err ? err : ig_flags_refresh(in);
}

int ig_tier_del(const struct ig_instance *in, const char *cidr)
{
	struct ig_lpm_key k;
	int err;

	err = ig_parse_cidr(cidr, &k);
	if (err)
		return err;
	if (bpf_map_delete_elem(in->fd[IG_MAP_TIERS], &k)) {
		err = -errno;
		if (err == -ENOENT)
			ig_err("%s is not in the tiers", cidr);
		else
			ig_err("cannot remove %s from the tiers: %s", cidr, strerror(-err));
		return err;
	}
	err = tier_names_gc(in);
	return err ? err : ig_flags_refresh(in);
}

int ig_tier_rate(const struct ig_instance *in, const char *name, enum ig_proto proto, __u16 port,
		 const struct ig_rate *rate)
{
	struct ig_tier_key k = { .port = port, .proto = (__u8)proto };
	int id = ig_tier_id(in, name, rate != NULL), err;

	if (id < 0)
		return id;
	k.tier = (__u32)id;
	if (rate ? bpf_map_update_elem(in->fd[IG_MAP_TIER_POLICY], &k, rate, BPF_ANY)
		 : bpf_map_delete_elem(in->fd[IG_MAP_TIER_POLICY], &k)) {
		err = -errno;
		ig_err("cannot %s tier %s's rate on %u/%s: %s", rate ? "set" : "remove", name, port,
		       ig_proto_name(proto), strerror(-err));
		return err;
	}
	return rate ? 0 : tier_names_gc(in);
}

int ig_tiers_print(const struct ig_instance *in, int json, FILE *out)
{
	struct ig_tier_name names[IG_MAX_TIERS];
	struct ig_lpm_key *keys = NULL;
	struct ig_tier_key tk, prev;
	void *pk = NULL;
	int n = 0, err, first = 1;
	char cidr[64];

	err = tier_snapshot(in, names, &keys, &n);
	if (err)
		return err;
	fprintf(out, json ? "{\"prefixes\":[" : "prefixes (most specific wins):\n");
	for (int i = 0; i < n; i++) {
		struct ig_tier t;
		const char *what;

		if (bpf_map_lookup_elem(in->fd[IG_MAP_TIERS], &keys[i], &t))
			continue;
		what = t.kind == IG_TIER_LIMIT && t.id < IG_MAX_TIERS ? names[t.id].name
								      : ig_tier_kind_name(t.kind);
		ig_format_cidr(&keys[i], cidr, sizeof(cidr));
		if (json)
			fprintf(out, "%s{\"cidr\":\"%s\",\"tier\":\"%s\"}", first ? "" : ",", cidr, what);
		else
			fprintf(out, "  %-44s %s\n", cidr, what);
		first = 0;
	}
	if (!json && !n)
		fprintf(out, "  (none)\n");
	fprintf(out, json ? "],\"rates\":[" : "tier rates (per source, instead of the port's):\n");
	first = 1;
	while (bpf_map_get_next_key(in->fd[IG_MAP_TIER_POLICY], pk, &tk) == 0) {
		struct ig_rate r;

		prev = tk;
		pk = &prev;
		if (bpf_map_lookup_elem(in->fd[IG_MAP_TIER_POLICY], &tk, &r) || tk.tier >= IG_MAX_TIERS)
			continue;
		if (json)
			fprintf(out, "%s{\"tier\":\"%s\",\"port\":%u,\"proto\":\"%s\",\"rate\":%llu,"
				     "\"burst\":%llu}", first ? "" : ",", names[tk.tier].name, tk.port,
				ig_proto_name((enum ig_proto)tk.proto), (unsigned long long)r.rate,
				(unsigned long long)r.burst);
		else
			fprintf(out, "  %-16s %u/%s: %llu/s, burst %llu\n", names[tk.tier].name, tk.port,
				ig_proto_name((enum ig_proto)tk.proto), (unsigned long long)r.rate,
				(unsigned long long)r.burst);
		first = 0;
	}
	if (!json && first)
		fprintf(out, "  (none)\n");
	if (json)
		fprintf(out, "]}\n");
	free(keys);
	return 0;
}

int ig_tiers_apply(const struct ig_instance *in, const struct ig_tier_want *t, int n,
		   const struct ig_tier_rate_want *r, int nr)
{
	struct ig_lpm_key *have = NULL;
	struct ig_tier_key tk, prev;
	void *pk = NULL;
	int nhave = 0, err;

	/* first what is wanted (added or changed in place), then what is not */
	for (int i = 0; i < n; i++) {
		struct ig_tier v;

		err = tier_value(in, t[i].what, &v);
		if (err)
			return err;
		if (bpf_map_update_elem(in->fd[IG_MAP_TIERS], &t[i].key, &v, BPF_ANY)) {
			err = -errno;
			ig_err("cannot write a tier prefix: %s", strerror(-err));
			return err;
		}
	}
	err = tier_keys(in, &have, &nhave);
	if (err)
		return err;
	for (int h = 0; h < nhave; h++) {
		int keep = 0;

		for (int i = 0; i < n && !keep; i++)
			keep = !memcmp(&have[h], &t[i].key, sizeof(have[h]));
		if (!keep)
			bpf_map_delete_elem(in->fd[IG_MAP_TIERS], &have[h]);
	}
	free(have);
	for (int i = 0; i < nr; i++) {
		err = ig_tier_rate(in, r[i].name, r[i].proto, r[i].port, &r[i].rate);
		if (err)
			return err;
	}
	/* rates of (tier, port) pairs no longer configured go */
	while (bpf_map_get_next_key(in->fd[IG_MAP_TIER_POLICY], pk, &tk) == 0) {
		struct ig_tier_name nm;
		int keep = 0;

		prev = tk;
		pk = &prev;
		if (bpf_map_lookup_elem(in->fd[IG_MAP_TIER_NAMES], &tk.tier, &nm))
			continue;
		for (int i = 0; i < nr && !keep; i++)
			keep = !strncmp(r[i].name, nm.name, IG_TIER_NAME_LEN) && r[i].port == tk.port &&
			       r[i].proto == tk.proto;
		if (!keep) {
			bpf_map_delete_elem(in->fd[IG_MAP_TIER_POLICY], &tk);
			pk = NULL; /* the walk restarts: the deleted key cannot lead on */
		}
	}
	err = tier_names_gc(in);
	return err ? err : ig_flags_refresh(in);
}

/* ---------------------------------------------------------------- tokens */

int ig_tokens_charge(const struct ig_instance *in, const char *src, enum ig_proto proto,
		     __u16 port, __u64 tokens, long long *left)
{
	struct ig_client_key k = { .port = port, .proto = (__u8)proto };
	struct ig_token_state ts = {};
	struct ig_limits lim;
	struct ig_policy pol;
	__u64 now, inc;
	int v4, err;

	if (parse_addr16(src, k.addr, &v4)) {
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
	err = ig_datapath_now(&now);
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
	 * tokens * 60e9 / tpm without overflow for any tokens < 2^64 / 60e9 */
	if (tokens > (~0ULL) / IG_TOKEN_WINDOW_NS) {
		ig_err("%llu tokens: too many for one charge", (unsigned long long)tokens);
		return -ERANGE;
	}
	inc = tokens * IG_TOKEN_WINDOW_NS / lim.tokens_per_min;
	ts.tat = (ts.tat > now ? ts.tat : now) + inc;
	ts.spent += tokens;
	if (bpf_map_update_elem(in->fd[IG_MAP_TOKENS], &k, &ts, BPF_ANY)) {
		err = -errno;
		ig_err("cannot charge the token budget of %s: %s", src, strerror(-err));
		return err;
	}
	if (left)
		*left = (long long)(((double)(now + IG_TOKEN_WINDOW_NS) - (double)ts.tat) *
				    (double)lim.tokens_per_min / (double)IG_TOKEN_WINDOW_NS);
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
	err = ig_datapath_now(&now);
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
			/* the data path's test: a minute's worth or more of debt */
			if (ts.tat >= now + IG_TOKEN_WINDOW_NS)
				rows[i].token_debtors++;
			break;
		}
	}
	return 0;
}
