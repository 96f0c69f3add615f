// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The trusted load balancers in the pinned maps: see proxy.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/proxy.h"
#include "lib/cidr.h"
#include "lib/json.h"
#include "lib/log.h"

int ig_proxy_from_parse(const char *list, struct ig_lpm_key *keys, int max, int *n)
{
	char buf[4096], *save = NULL, *tok;

	*n = 0;
	if (strlen(list) >= sizeof(buf)) {
		ig_err("proxy-from list too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		if (*n == max) {
			ig_err("too many proxy-from prefixes (at most %d)", max);
			return -E2BIG;
		}
		if (ig_cidr_parse(tok, &keys[*n])) {
			ig_err("invalid proxy-from '%s': expected " IG_CIDR_FORMS, tok);
			return -EINVAL;
		}
		(*n)++;
	}
	if (!*n) {
		ig_err("empty proxy-from list: expected CIDR[,CIDR...]");
		return -EINVAL;
	}
	return 0;
}

int ig_proxy_from_read(const struct ig_instance *in, struct ig_lpm_key **out, int *n)
{
	*out = NULL;
	*n = 0;
	if (in->fd[IG_MAP_PROXY_FROM] < 0)
		return 0;
	return ig_lpm_keys(in->fd[IG_MAP_PROXY_FROM], NULL, out, n);
}

int ig_proxy_from_add(const struct ig_instance *in, const struct ig_lpm_key *keys, int n,
		      int *added)
{
	__u32 one = 1, v;
	int err = n ? ig_instance_need(in, IG_MAP_PROXY_FROM) : 0;

	for (int i = 0; !err && i < n; i++) {
		int fresh = bpf_map_lookup_elem(in->fd[IG_MAP_PROXY_FROM], &keys[i], &v) != 0;

		if (added)
			added[i] = 0;
		if (bpf_map_update_elem(in->fd[IG_MAP_PROXY_FROM], &keys[i], &one, BPF_ANY)) {
			char cidr[IG_ADDR_STRLEN];

			err = -errno;
			ig_format_cidr(&keys[i], cidr, sizeof(cidr));
			ig_err("cannot add %s to proxy_from: %s", cidr,
			       err == -ENOSPC || err == -E2BIG ? "the list is full" : strerror(-err));
		} else if (added) {
			added[i] = fresh;
		}
	}
	return err;
}

int ig_proxy_from_del(const struct ig_instance *in, const struct ig_lpm_key *keys, int n)
{
	int err = ig_instance_need(in, IG_MAP_PROXY_FROM);

	for (int i = 0; !err && i < n; i++)
		if (bpf_map_delete_elem(in->fd[IG_MAP_PROXY_FROM], &keys[i])) {
			char cidr[IG_ADDR_STRLEN];

			err = -errno;
			ig_format_cidr(&keys[i], cidr, sizeof(cidr));
			if (err == -ENOENT)
				ig_err("%s is not in proxy_from", cidr);
			else
				ig_err("cannot remove %s from proxy_from: %s", cidr, strerror(-err));
		}
	return err;
}

int ig_proxy_from_print(const struct ig_instance *in, int json, FILE *out)
{
	struct ig_lpm_key *keys;
	struct ig_json j;
	int n, err = ig_instance_need(in, IG_MAP_PROXY_FROM);

	if (!err)
		err = ig_proxy_from_read(in, &keys, &n);
	if (err)
		return err;
	ig_json_init(&j, out, 0);
	if (json) {
		ig_json_obj_open(&j);
		ig_json_key(&j, "proxy_from");
		ig_json_arr_open(&j);
	}
	for (int i = 0; i < n; i++) {
		char cidr[IG_ADDR_STRLEN];

		ig_format_cidr(&keys[i], cidr, sizeof(cidr));
		if (json)
			ig_json_str(&j, cidr);
		else
			fprintf(out, "%s\n", cidr);
	}
	if (json) {
		ig_json_arr_close(&j);
		ig_json_obj_close(&j);
		ig_json_end(&j);
	} else if (!n) {
		fprintf(out, "(none: every PROXY header is refused)\n");
	}
	free(keys);
	return 0;
}

int ig_proxy_from_apply(const struct ig_instance *in, const struct ig_lpm_key *keys, int n)
{
	struct ig_lpm_key *have;
	int nhave, err;

	if (in->fd[IG_MAP_PROXY_FROM] < 0 && !n)
		return 0; /* an older instance: nothing to remove */
	err = ig_proxy_from_add(in, keys, n, NULL);
	if (!err)
		err = ig_proxy_from_read(in, &have, &nhave);
	if (err)
		return err;
	for (int h = 0; h < nhave; h++) {
		int keep = 0;

		for (int i = 0; i < n && !keep; i++)
			keep = !memcmp(&have[h], &keys[i], sizeof(keys[i]));
		if (!keep)
			bpf_map_delete_elem(in->fd[IG_MAP_PROXY_FROM], &have[h]);
	}
	free(have);
	return 0;
}
