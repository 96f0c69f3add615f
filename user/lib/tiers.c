// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Tiers in the pinned maps: see tiers.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/rate.h"
#include "lib/tiers.h"
#include "lib/cidr.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/port.h"

static int cidr_arg(const char *s, struct ig_lpm_key *k)
{
	if (!ig_cidr_parse(s, k))
		return 0;
	ig_err("invalid CIDR '%s': expected " IG_CIDR_FORMS, s);
	return -EINVAL;
}

/* Every key of the trie (caller frees). */
/*
 * The family fence (IG_TIER_FENCE): IPv4 sources are looked up IPv4-mapped,
 * so an IPv6 prefix shorter than /96 that covers ::ffff:0:0/96 (::/0, ::/8)
 * would reach every IPv4 source. A tier is written for one family: the fence
 * at ::ffff:0:0/96 gives IPv4 sources "no tier" back, while IPv4 prefixes
 * (longer) and an explicit ::ffff:0:0/96 or 0.0.0.0/0 (the same key, which
 * replaces it) still apply. Chosen over a family byte in the trie's key:
 * that would change the key of a pinned map and the data path's lookup,
 * where the fence costs IPv4 sources one tier-rate lookup, and only while a
 * covering IPv6 prefix exists.
 */
static const struct ig_lpm_key fence_key = { .prefixlen = 96, .addr = { [10] = 0xff, [11] = 0xff } };

static int is_fence_key(const struct ig_lpm_key *k)
{
	return !memcmp(k, &fence_key, sizeof(*k));
}

static int fence_present(const struct ig_instance *in)
{
	struct ig_tier t;

	return !bpf_map_lookup_elem(in->fd[IG_MAP_TIERS], &fence_key, &t) && t.kind == IG_TIER_FENCE;
}

/* An IPv6 prefix (not itself inside ::ffff:0:0/96) that covers IPv4. */
static int covers_v4(const struct ig_lpm_key *k)
{
	if (k->prefixlen >= 96)
		return 0;
	for (__u32 b = 0; b < k->prefixlen; b++)
		if ((k->addr[b / 8] ^ fence_key.addr[b / 8]) & (0x80 >> (b % 8)))
			return 0;
	return 1;
}

/* Every key of the trie but the fence (caller frees). */
static int tier_keys(const struct ig_instance *in, struct ig_lpm_key **out, int *n)
{
	return ig_lpm_keys(in->fd[IG_MAP_TIERS], fence_present(in) ? is_fence_key : NULL, out, n);
}

/* The fence where a prefix covers IPv4 (or `coming` says one is about to:
 * it goes in first, so that IPv4 is never caught between the two writes),
 * none where no prefix does. */
static int tier_fence_sync(const struct ig_instance *in, int coming)
{
	struct ig_tier fence = { .kind = IG_TIER_FENCE };
	struct ig_lpm_key *keys;
	int n, err, need = coming, have = fence_present(in);

	err = tier_keys(in, &keys, &n);
	if (err)
		return err;
	for (int i = 0; i < n && !need; i++)
		need = covers_v4(&keys[i]);
	free(keys);
	/* NOEXIST: a prefix written at the fence's key stays */
	if (need && !have && bpf_map_update_elem(in->fd[IG_MAP_TIERS], &fence_key, &fence, BPF_NOEXIST) &&
	    errno != EEXIST)
		err = -errno;
	else if (!need && have && bpf_map_delete_elem(in->fd[IG_MAP_TIERS], &fence_key) &&
		 errno != ENOENT)
		err = -errno;
	if (err)
		ig_err("cannot %s the IPv4 fence of the tiers: %s", need ? "write" : "remove",
		       strerror(-err));
	return err;
}

/* The tier names and every prefix of the trie (keys: caller frees). */
static int tier_snapshot(const struct ig_instance *in, struct ig_tier_name *names,
			 struct ig_lpm_key **keys, int *n)
{
	int err = ig_array_read_all(in->fd[IG_MAP_TIER_NAMES], "tier_names", IG_MAX_TIERS,
				    sizeof(names[0]), names);

	/* a name written with bpftool may fill its 24 bytes: printed as a string */
	for (int i = 0; i < IG_MAX_TIERS; i++)
		names[i].name[IG_TIER_NAME_LEN - 1] = '\0';
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

int ig_tier_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= IG_TIER_NAME_LEN || !strcmp(name, ig_tier_kind_name(IG_TIER_ALLOW)) ||
	    !strcmp(name, ig_tier_kind_name(IG_TIER_DENY)))
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int ig_tier_id(const struct ig_instance *in, const char *name, int create)
{
	struct ig_tier_name names[IG_MAX_TIERS];
	int err, free_id = 0;

	if (!ig_tier_name_valid(name)) {
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
	if (!strcmp(what, ig_tier_kind_name(IG_TIER_ALLOW))) {
		t->kind = IG_TIER_ALLOW;
	} else if (!strcmp(what, ig_tier_kind_name(IG_TIER_DENY))) {
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
 * A tier's name lives while a prefix, a rate or an API key refers to it: without this the
 * IG_MAX_TIERS - 1 ids would run out over renames and reloads. (Two CLIs
 * editing the tiers at the same moment may race here, as they would anyway.)
 */
int ig_tier_names_gc(const struct ig_instance *in)
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
	/* an API key's tier (issue 16); none on an instance older than `keys` */
	if (in->fd[IG_MAP_KEYS] >= 0) {
		__u64 h, ph;
		struct ig_key key;

		pk = NULL;
		while (bpf_map_get_next_key(in->fd[IG_MAP_KEYS], pk, &h) == 0) {
			ph = h;
			pk = &ph;
			if (!bpf_map_lookup_elem(in->fd[IG_MAP_KEYS], &h, &key) && key.tier &&
			    key.tier < IG_MAX_TIERS)
				used[key.tier] = 1;
		}
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

	err = cidr_arg(cidr, &k);
	if (!err)
		err = tier_value(in, what, &t);
	if (!err)
		err = tier_fence_sync(in, covers_v4(&k));
	if (err)
		return err;
	if (bpf_map_update_elem(in->fd[IG_MAP_TIERS], &k, &t, BPF_ANY)) {
		err = -errno;
		ig_err("cannot add %s to the tiers: %s", cidr, strerror(-err));
		return err;
	}
	err = ig_tier_names_gc(in); /* the prefix may have left a named tier */
	return err ? err : ig_flags_refresh(in);
}

int ig_tier_del(const struct ig_instance *in, const char *cidr)
{
	struct ig_lpm_key k;
	int err;

	err = cidr_arg(cidr, &k);
	if (err)
		return err;
	if (is_fence_key(&k) && fence_present(in))
		err = -ENOENT; /* ours, not the user's */
	else if (bpf_map_delete_elem(in->fd[IG_MAP_TIERS], &k))
		err = -errno;
	if (err) {
		if (err == -ENOENT)
			ig_err("%s is not in the tiers", cidr);
		else
			ig_err("cannot remove %s from the tiers: %s", cidr, strerror(-err));
		return err;
	}
	err = tier_fence_sync(in, 0);
	if (!err)
		err = ig_tier_names_gc(in);
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
	return rate ? 0 : ig_tier_names_gc(in);
}

/*
 * The tiers API keys are in, with how many keys each: a tier no prefix and
 * no rate names (`key add --tier gold` before `tier set gold`) exists only
 * through its keys, which pay each port's own rate until it has one; shown,
 * or it would be nowhere in the list. None on an instance older than `keys`.
 */
static void key_tiers_print(const struct ig_instance *in, const struct ig_tier_name *names,
			    const unsigned char *rated, struct ig_json *j, FILE *out)
{
	unsigned int count[IG_MAX_TIERS] = {};
	struct ig_key key;
	__u64 h, ph;
	void *pk = NULL;
	int any = 0;

	while (in->fd[IG_MAP_KEYS] >= 0 && bpf_map_get_next_key(in->fd[IG_MAP_KEYS], pk, &h) == 0) {
		ph = h;
		pk = &ph;
		if (!bpf_map_lookup_elem(in->fd[IG_MAP_KEYS], &h, &key) && key.tier &&
		    key.tier < IG_MAX_TIERS)
			count[key.tier]++;
	}
	if (j) {
		ig_json_key(j, "key_tiers");
		ig_json_arr_open(j);
	} else {
		fprintf(out, "tiers of API keys (keys in each):\n");
	}
	for (__u32 id = 1; id < IG_MAX_TIERS; id++) {
		if (!count[id] || !names[id].name[0])
			continue;
		any = 1;
		if (j) {
			ig_json_obj_open(j);
			ig_json_kstr(j, "tier", names[id].name);
			ig_json_ku64(j, "keys", count[id]);
			ig_json_kbool(j, "rated", rated[id]);
			ig_json_obj_close(j);
		} else {
			fprintf(out, "  %-16s %u key(s)%s\n", names[id].name, count[id],
				rated[id] ? "" : ", no rate set: each port's own");
		}
	}
	if (j)
		ig_json_arr_close(j);
	else if (!any)
		fprintf(out, "  (none)\n");
}

int ig_tiers_print(const struct ig_instance *in, int json, FILE *out)
{
	unsigned char rated[IG_MAX_TIERS] = {};
	struct ig_tier_name names[IG_MAX_TIERS];
	struct ig_lpm_key *keys = NULL;
	struct ig_tier_key tk, prev;
	struct ig_json j;
	void *pk = NULL;
	int n = 0, err, first = 1;
	char cidr[IG_ADDR_STRLEN];

	err = tier_snapshot(in, names, &keys, &n);
	if (err)
		return err;
	ig_json_init(&j, out, 0);
	if (json) {
		ig_json_obj_open(&j);
		ig_json_key(&j, "prefixes");
		ig_json_arr_open(&j);
	} else {
		fprintf(out, "prefixes (most specific wins):\n");
	}
	for (int i = 0; i < n; i++) {
		struct ig_tier t;
		const char *what;

		if (bpf_map_lookup_elem(in->fd[IG_MAP_TIERS], &keys[i], &t))
			continue;
		what = t.kind == IG_TIER_LIMIT && t.id < IG_MAX_TIERS ? names[t.id].name
								      : ig_tier_kind_name(t.kind);
		ig_format_cidr(&keys[i], cidr, sizeof(cidr));
		if (json) {
			ig_json_obj_open(&j);
			ig_json_kstr(&j, "cidr", cidr);
			ig_json_kstr(&j, "tier", what);
			ig_json_obj_close(&j);
		} else {
			fprintf(out, "  %-44s %s\n", cidr, what);
		}
	}
	if (json) {
		ig_json_arr_close(&j);
		ig_json_key(&j, "rates");
		ig_json_arr_open(&j);
	} else {
		fprintf(out, "%stier rates (per source, instead of the port's):\n", n ? "" : "  (none)\n");
	}
	while (bpf_map_get_next_key(in->fd[IG_MAP_TIER_POLICY], pk, &tk) == 0) {
		const char *proto = ig_proto_name((enum ig_proto)tk.proto);
		struct ig_rate r;

		prev = tk;
		pk = &prev;
		if (bpf_map_lookup_elem(in->fd[IG_MAP_TIER_POLICY], &tk, &r) || tk.tier >= IG_MAX_TIERS)
			continue;
		rated[tk.tier] = 1;
		if (json) {
			ig_json_obj_open(&j);
			ig_json_kstr(&j, "tier", names[tk.tier].name);
			ig_json_ku64(&j, "port", tk.port);
			ig_json_kstr(&j, "proto", proto);
			ig_json_rate(&j, "rate", r.rate, 1);
			ig_json_ku64(&j, "burst", r.burst);
			ig_json_obj_close(&j);
		} else {
			fprintf(out, "  %-16s %u/%s: %s, burst %llu\n", names[tk.tier].name, tk.port,
				proto, ig_rate_s(r.rate), (unsigned long long)r.burst);
		}
		first = 0;
	}
	if (json) {
		ig_json_arr_close(&j);
	} else if (first) {
		fprintf(out, "  (none)\n");
	}
	key_tiers_print(in, names, rated, json ? &j : NULL, out);
	if (json) {
		ig_json_obj_close(&j);
		ig_json_end(&j);
	}
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
		if (covers_v4(&t[i].key)) {
			err = tier_fence_sync(in, 1);
			if (err)
				return err;
			break;
		}
	}
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
	err = tier_fence_sync(in, 0);
	if (err)
		return err;
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
	err = ig_tier_names_gc(in);
	return err ? err : ig_flags_refresh(in);
}
