// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* API keys and the anonymous policy in the pinned maps: see keys.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/keys.h"
#include "lib/args.h"
#include "lib/cidr.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/tiers.h"
#include "pure/apikey.h"

const char *const ig_key_mode_names[IG_KEY_MODE_MAX + 1] = {
	[IG_KEY_SOURCE] = "source", [IG_KEY_API] = "api-key", [IG_KEY_PROXY] = "proxy-source",
};

const char *ig_key_mode_name(unsigned int mode)
{
	return mode < IG_KEY_MODE_MAX ? ig_key_mode_names[mode] : "unknown";
}

int ig_key_mode_parse(const char *s, enum ig_key_mode *mode)
{
	for (int m = 0; m < IG_KEY_MODE_MAX; m++)
		if (!strcmp(s, ig_key_mode_names[m])) {
			*mode = (enum ig_key_mode)m;
			return 0;
		}
	return -EINVAL;
}

int ig_key_policy_get(const struct ig_instance *in, __u32 slot, struct ig_key_policy *kp)
{
	memset(kp, 0, sizeof(*kp));
	if (in->fd[IG_MAP_KEY_POLICY] < 0 || !slot || slot >= IG_MAX_SLOTS)
		return 0;
	if (bpf_map_lookup_elem(in->fd[IG_MAP_KEY_POLICY], &slot, kp)) {
		int err = -errno;

		ig_err("cannot read the anonymous policy of slot %u (map key_policy): %s", slot,
		       strerror(-err));
		return err;
	}
	return 0;
}

int ig_key_policy_put(const struct ig_instance *in, __u32 slot, const struct ig_key_policy *kp)
{
	static const struct ig_key_policy none;
	int err;

	if (in->fd[IG_MAP_KEY_POLICY] < 0 && !memcmp(kp, &none, sizeof(none)))
		return 0; /* an older instance: nothing to clear */
	err = ig_instance_need(in, IG_MAP_KEY_POLICY);
	if (err)
		return err;
	if (bpf_map_update_elem(in->fd[IG_MAP_KEY_POLICY], &slot, kp, BPF_ANY)) {
		err = -errno;
		ig_err("cannot write the anonymous policy of slot %u (map key_policy): %s", slot,
		       strerror(-err));
		return err;
	}
	return 0;
}

int ig_key_hash_parse(const char *s, __u64 *hash)
{
	char *end;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		s += 2;
	if (strlen(s) != 16 || strspn(s, "0123456789abcdefABCDEF") != 16)
		return -EINVAL;
	*hash = strtoull(s, &end, 16);
	return *end ? -EINVAL : 0;
}

int ig_key_name_valid(const char *name)
{
	size_t n = strlen(name);
	__u64 h;

	if (!n || n >= IG_KEY_NAME_LEN || !ig_key_hash_parse(name, &h))
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-") == n;
}

size_t ig_token_line(char *line)
{
	size_t n = strlen(line);
	const char *p = line + strspn(line, " \t");

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
		     line[n - 1] == '\t'))
		line[--n] = '\0';
	if (!*p || *p == '#')
		return 0;
	return n;
}

int ig_token_file_hashes(const char *path, __u64 seed, __u64 **hashes, int *n)
{
	FILE *f = fopen(path, "r");
	__u64 *h = NULL, *grown;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	int k = 0, hcap = 0, lineno = 0, err = 0;

	*hashes = NULL;
	*n = 0;
	if (!f) {
		err = -errno;
		ig_args_error("cannot open token file %s: %s", path, strerror(-err));
		return err;
	}
	while ((got = getline(&line, &cap, f)) >= 0) {
		size_t len;

		lineno++;
		if ((size_t)got != strlen(line)) {
			ig_args_error("%s:%d: a NUL byte: not a token file", path, lineno);
			err = -EINVAL;
			break;
		}
		len = ig_token_line(line);
		if (!len)
			continue;
		/* the scanner takes Authorization's value without its Bearer:
		 * a key written with it would never match that header */
		if (!strncmp(line, "Bearer ", 7) || !strncmp(line, "Bearer\t", 7))
			ig_warn("%s:%d: starts with 'Bearer ': a token file holds the key alone "
				"(hashed as written)", path, lineno);
		if (k == IG_MAX_KEYS) {
			ig_args_error("%s: more than %d keys", path, IG_MAX_KEYS);
			err = -E2BIG;
			break;
		}
		if (k == hcap) {
			hcap = hcap ? 2 * hcap : 64;
			grown = realloc(h, (size_t)hcap * sizeof(*h));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			h = grown;
		}
		h[k++] = ig_key_hash(seed, line, len);
		explicit_bzero(line, cap);
	}
	if (line)
		explicit_bzero(line, cap);
	free(line);
	if (!err && ferror(f)) {
		err = -EIO;
		ig_args_error("cannot read token file %s", path);
	}
	fclose(f);
	if (!err && !k) {
		ig_args_error("token file %s holds no key (one a line; # comments)", path);
		err = -ENODATA;
	}
	if (err) {
		free(h);
		return err;
	}
	*hashes = h;
	*n = k;
	return 0;
}

int ig_key_seed(const struct ig_instance *in, __u64 *seed)
{
	__u32 key = IG_SEED_KEY_HASH, zero = 0;
	struct ig_key_seed ks;
	struct ig_seed s;

	/* a fleet's shared seed, where one is set */
	if (in->fd[IG_MAP_KEY_SEED] >= 0 &&
	    !bpf_map_lookup_elem(in->fd[IG_MAP_KEY_SEED], &zero, &ks) && ks.set) {
		*seed = ks.seed;
		return 0;
	}
	if (bpf_map_lookup_elem(in->fd[IG_MAP_SEED], &key, &s)) {
		int err = -errno;

		ig_err("%s: cannot read the hash seed (map seed): %s", in->pin_dir, strerror(-err));
		return err;
	}
	*seed = s.value;
	return 0;
}

/* Every hash in `keys` (caller frees). */
static int key_hashes(const struct ig_instance *in, __u64 **out, int *n)
{
	__u64 *all = NULL, *grown, cur, next;
	int k = 0, cap = 0, fd = in->fd[IG_MAP_KEYS];
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		cur = next;
		prev = &cur;
		if (k == cap) {
			cap = cap ? 2 * cap : 256;
			grown = realloc(all, (size_t)cap * sizeof(*all));
			if (!grown) {
				free(all);
				return -ENOMEM;
			}
			all = grown;
		}
		all[k++] = next;
	}
	*out = all;
	*n = k;
	return 0;
}

static int key_value(const struct ig_instance *in, const char *name, const char *tier, int deny,
		     struct ig_key *v)
{
	memset(v, 0, sizeof(*v));
	if (!ig_key_name_valid(name)) {
		ig_err("invalid key name '%s': 1-%d of [A-Za-z0-9_.@-], not 16 hex digits", name,
		       IG_KEY_NAME_LEN - 1);
		return -EINVAL;
	}
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->flags = deny ? IG_KEY_F_DENY : 0;
	if (tier && *tier) {
		int id = ig_tier_id(in, tier, 1); /* as `tier add` would name it */

		if (id < 0)
			return id;
		v->tier = (__u32)id;
	}
	return 0;
}

/* A hash stored under another name: moving it there unasked would take one
 * client's key (its budget, tier, a deny) away from another without a word. */
static int key_taken(const struct ig_instance *in, const char *name, const __u64 *hashes, int n)
{
	struct ig_key old;

	for (int i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(in->fd[IG_MAP_KEYS], &hashes[i], &old))
			continue;
		old.name[IG_KEY_NAME_LEN - 1] = '\0';
		if (!strncmp(old.name, name, IG_KEY_NAME_LEN))
			continue;
		ig_err("cannot add key %016llx as %s: it is stored as %s (--force moves it)",
		       (unsigned long long)hashes[i], name, old.name);
		return -EEXIST;
	}
	return 0;
}

int ig_keys_add(const struct ig_instance *in, const char *name, const __u64 *hashes, int n,
		const char *tier, int deny, int replace)
{
	struct ig_key v;
	int err = ig_instance_need(in, IG_MAP_KEYS);

	struct ig_key old;
	unsigned char *fresh = calloc((size_t)n + 1, 1);
	int i, moved = 0;

	if (!fresh)
		return -ENOMEM;
	/* before anything is written: a refusal leaves the map as it was */
	if (!err && !replace)
		err = key_taken(in, name, hashes, n);
	if (!err)
		err = key_value(in, name, tier, deny, &v);
	for (i = 0; !err && i < n; i++) {
		fresh[i] = bpf_map_lookup_elem(in->fd[IG_MAP_KEYS], &hashes[i], &old) != 0;
		/* a key replaced (same name, or --force) may leave its old
		 * tier's name with nothing in it */
		moved |= !fresh[i] && old.tier && old.tier != v.tier;
		if (bpf_map_update_elem(in->fd[IG_MAP_KEYS], &hashes[i], &v, BPF_ANY)) {
			err = -errno;
			ig_err("cannot add key %016llx (%s): %s", (unsigned long long)hashes[i], name,
			       err == -E2BIG ? "the table is full" : strerror(-err));
		}
	}
	/* all or nothing: the keys this call made go again (one it replaced
	 * keeps its new value), and a tier name made for them, or one the keys
	 * it replaced were the last in, is freed */
	if (err) {
		while (i-- > 0)
			if (fresh[i])
				bpf_map_delete_elem(in->fd[IG_MAP_KEYS], &hashes[i]);
	}
	if ((err && tier && *tier) || moved) {
		int gc = ig_tier_names_gc(in);

		err = err ? err : gc;
	}
	free(fresh);
	return err;
}

int ig_keys_del(const struct ig_instance *in, const char *what)
{
	__u64 *all = NULL, hash;
	int n = 0, gone = 0, by_hash = !ig_key_hash_parse(what, &hash), err;

	err = ig_instance_need(in, IG_MAP_KEYS);
	if (!err && by_hash) {
		if (!bpf_map_delete_elem(in->fd[IG_MAP_KEYS], &hash))
			gone = 1;
		else if (errno != ENOENT)
			err = -errno;
	} else if (!err) {
		err = key_hashes(in, &all, &n);
		for (int i = 0; !err && i < n; i++) {
			struct ig_key v;

			if (bpf_map_lookup_elem(in->fd[IG_MAP_KEYS], &all[i], &v) ||
			    strncmp(v.name, what, IG_KEY_NAME_LEN))
				continue;
			if (!bpf_map_delete_elem(in->fd[IG_MAP_KEYS], &all[i]))
				gone++;
			else if (errno != ENOENT)
				err = -errno;
		}
		free(all);
	}
	if (err) {
		ig_err("cannot remove key %s: %s", what, strerror(-err));
		return err;
	}
	if (!gone) {
		ig_err("no key %s %s", by_hash ? "with hash" : "named", what);
		return -ENOENT;
	}
	err = ig_tier_names_gc(in);
	return err ? err : gone;
}

int ig_keys_count(const struct ig_instance *in)
{
	__u64 *all;
	int n, err;

	if (in->fd[IG_MAP_KEYS] < 0)
		return 0;
	err = key_hashes(in, &all, &n);
	if (err)
		return err;
	free(all);
	return n;
}

static int key_cmp(const void *a, const void *b)
{
	const struct { __u64 h; struct ig_key v; } *x = a, *y = b;
	int c = strncmp(x->v.name, y->v.name, IG_KEY_NAME_LEN);

	return c ? c : (x->h > y->h) - (x->h < y->h);
}

int ig_keys_print(const struct ig_instance *in, int json, FILE *out)
{
	struct ig_tier_name names[IG_MAX_TIERS];
	struct { __u64 h; struct ig_key v; } *rows;
	__u64 *all = NULL;
	int n = 0, k = 0, err;
	struct ig_json j;

	err = ig_instance_need(in, IG_MAP_KEYS);
	if (!err)
		err = ig_array_read_all(in->fd[IG_MAP_TIER_NAMES], "tier_names", IG_MAX_TIERS,
					sizeof(names[0]), names);
	if (!err)
		err = key_hashes(in, &all, &n);
	if (err)
		return err;
	for (int t = 0; t < IG_MAX_TIERS; t++)
		names[t].name[IG_TIER_NAME_LEN - 1] = '\0';
	rows = calloc((size_t)n + 1, sizeof(*rows));
	if (!rows) {
		free(all);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		if (!bpf_map_lookup_elem(in->fd[IG_MAP_KEYS], &all[i], &rows[k].v)) {
			rows[k].h = all[i];
			rows[k].v.name[IG_KEY_NAME_LEN - 1] = '\0'; /* bpftool may fill it */
			k++;
		}
	free(all);
	qsort(rows, (size_t)k, sizeof(*rows), key_cmp);
	ig_json_init(&j, out, 0);
	if (json) {
		ig_json_obj_open(&j);
		ig_json_key(&j, "keys");
		ig_json_arr_open(&j);
	} else {
		fprintf(out, "%-23s %-16s %-23s %s\n", "NAME", "HASH", "TIER", "DENY");
	}
	for (int i = 0; i < k; i++) {
		const struct ig_key *v = &rows[i].v;
		const char *tier = v->tier && v->tier < IG_MAX_TIERS ? names[v->tier].name : "";
		char hex[17];

		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)rows[i].h);
		if (json) {
			ig_json_obj_open(&j);
			ig_json_kstr(&j, "name", v->name);
			ig_json_kstr(&j, "hash", hex);
			if (*tier)
				ig_json_kstr(&j, "tier", tier);
			else
				ig_json_key(&j, "tier"), ig_json_null(&j);
			ig_json_kbool(&j, "deny", !!(v->flags & IG_KEY_F_DENY));
			ig_json_obj_close(&j);
		} else {
			fprintf(out, "%-23s %s %-23s %s\n", v->name, hex, *tier ? tier : "-",
				v->flags & IG_KEY_F_DENY ? "yes" : "no");
		}
	}
	if (json) {
		ig_json_arr_close(&j);
		ig_json_obj_close(&j);
		ig_json_end(&j);
	} else if (!k) {
		fprintf(out, "(no keys)\n");
	}
	free(rows);
	return 0;
}

int ig_client_key_name(const struct ig_instance *in, const __u8 addr[16], char *name,
		       size_t len)
{
	__u64 h = ig_key_of_client(addr);
	struct ig_key v;

	if (!in || in->fd[IG_MAP_KEYS] < 0 || !ig_key_is_client(addr) ||
	    bpf_map_lookup_elem(in->fd[IG_MAP_KEYS], &h, &v) || !v.name[0])
		return -ENOENT;
	snprintf(name, len, "%.*s", IG_KEY_NAME_LEN - 1, v.name);
	return 0;
}

void ig_client_format(const struct ig_instance *in, const __u8 addr[16], char *buf, size_t len)
{
	char name[IG_KEY_NAME_LEN];

	if (!ig_key_is_client(addr))
		ig_addr_format(addr, buf, len);
	else if (!ig_client_key_name(in, addr, name, sizeof(name)))
		snprintf(buf, len, "key:%016llx (%s)", (unsigned long long)ig_key_of_client(addr),
			 name);
	else
		snprintf(buf, len, "key:%016llx", (unsigned long long)ig_key_of_client(addr));
}

static int hash_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return (x > y) - (x < y);
}

int ig_keys_apply(const struct ig_instance *in, const struct ig_key_want *w, int n)
{
	struct ig_key *vals = NULL;
	__u64 *want = NULL, *have = NULL, seed = 0;
	int nwant = 0, cap = 0, nhave = 0, *ids = NULL, err;

	err = ig_instance_need(in, IG_MAP_KEYS);
	if (!err)
		err = ig_key_seed(in, &seed);
	/* every file read and every hash known before the map changes */
	for (int i = 0; !err && i < n; i++) {
		__u64 *h = (__u64 *)&w[i].hash, *fh = NULL;
		int k = 1;

		if (w[i].path[0]) {
			err = ig_token_file_hashes(w[i].path, seed, &fh, &k);
			if (err)
				break;
			h = fh;
		}
		if (nwant + k > cap) {
			void *gw, *gv;

			cap = nwant + k + 64;
			gw = realloc(want, (size_t)cap * sizeof(*want));
			gv = gw ? realloc(vals, (size_t)cap * sizeof(*vals)) : NULL;
			if (gw)
				want = gw;
			if (gv)
				vals = gv;
			if (!gw || !gv) {
				free(fh);
				err = -ENOMEM;
				break;
			}
		}
		for (int x = 0; x < k; x++) {
			want[nwant] = h[x];
			memset(&vals[nwant], 0, sizeof(vals[nwant]));
			snprintf(vals[nwant].name, sizeof(vals[nwant].name), "%s", w[i].name);
			vals[nwant].flags = w[i].deny ? IG_KEY_F_DENY : 0;
			/* the line, for its tier's id (looked up once all is read) */
			vals[nwant].tier = (__u32)i;
			nwant++;
		}
		free(fh);
	}
	if (!err && nwant > IG_MAX_KEYS) {
		ig_err("[keys]: %d keys, the table holds %d", nwant, IG_MAX_KEYS);
		err = -E2BIG;
	}
	/* the tiers' ids, once a line (made where new, as `tier add` would) */
	ids = calloc((size_t)n + 1, sizeof(*ids));
	if (!err && !ids)
		err = -ENOMEM;
	for (int i = 0; !err && i < n; i++) {
		if (!w[i].tier[0])
			continue;
		ids[i] = ig_tier_id(in, w[i].tier, 1);
		if (ids[i] < 0)
			err = ids[i];
	}
	/* first what is wanted (added or changed in place), then what is not */
	for (int i = 0; !err && i < nwant; i++) {
		vals[i].tier = (__u32)ids[vals[i].tier];
		if (bpf_map_update_elem(in->fd[IG_MAP_KEYS], &want[i], &vals[i], BPF_ANY)) {
			err = -errno;
			ig_err("cannot write key %016llx (%s): %s", (unsigned long long)want[i],
			       vals[i].name, strerror(-err));
		}
	}
	if (!err)
		err = key_hashes(in, &have, &nhave);
	if (!err && nwant) /* up to 64 Ki on each side: looked up sorted */
		qsort(want, (size_t)nwant, sizeof(*want), hash_cmp);
	for (int h = 0; !err && h < nhave; h++)
		if (!bsearch(&have[h], want, (size_t)nwant, sizeof(*want), hash_cmp))
			bpf_map_delete_elem(in->fd[IG_MAP_KEYS], &have[h]);
	free(have);
	free(want);
	free(vals);
	free(ids);
	if (!err)
		err = ig_tier_names_gc(in);
	return err;
}
