// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/instance.h"
#include "lib/log.h"

struct ig_map_desc {
	const char *name;
	__u32 key_size;
	__u32 value_size;
	/* newer than instances that may still be pinned: missing is not an
	 * error until a command needs it (ig_instance_need) */
	int optional;
};

static const struct ig_map_desc map_desc[IG_MAP_COUNT] = {
	[IG_MAP_PORT_POLICY] = { "port_policy", sizeof(__u32), sizeof(struct ig_policy) },
	[IG_MAP_SOURCES] = { "sources", sizeof(__u32), sizeof(struct ig_source_set) },
	[IG_MAP_PORT_STATS] = { "port_stats", sizeof(__u32), sizeof(struct ig_stats) },
	[IG_MAP_GLOBALS] = { "globals", sizeof(__u32), sizeof(struct ig_globals) },
	[IG_MAP_REJECT_STATE] = { "reject_state", sizeof(__u32), sizeof(struct ig_bucket) },
	[IG_MAP_SEED] = { "seed", sizeof(__u32), sizeof(struct ig_seed) },
	[IG_MAP_BREAKERS] = { "breakers", sizeof(__u32), sizeof(struct ig_breaker) },
	[IG_MAP_FLOWS] = { "flows", sizeof(struct ig_flow_key), sizeof(struct ig_flow) },
	[IG_MAP_HEALTH] = { "health", sizeof(__u32), sizeof(struct ig_health) },
	[IG_MAP_FALLBACK_PORTS] = { "fallback_ports", sizeof(__u32), sizeof(__u32) },
	[IG_MAP_EVENTS] = { "events", 0, 0 }, /* a ring buffer: no keys, no values */
	[IG_MAP_PORT_LIMITS] = { "port_limits", sizeof(__u32), sizeof(struct ig_limits) },
	[IG_MAP_PORT_STATE] = { "port_state", sizeof(__u32), sizeof(struct ig_port_state) },
	[IG_MAP_LEVEL_STATS] = { "level_stats", sizeof(__u32), sizeof(struct ig_level_stats) },
	[IG_MAP_PREFIXES] = { "prefixes", sizeof(__u32), sizeof(struct ig_source_set) },
	[IG_MAP_TIERS] = { "tiers", sizeof(struct ig_lpm_key), sizeof(struct ig_tier) },
	[IG_MAP_TIER_NAMES] = { "tier_names", sizeof(__u32), sizeof(struct ig_tier_name) },
	[IG_MAP_TIER_POLICY] = { "tier_policy", sizeof(struct ig_tier_key), sizeof(struct ig_rate) },
	[IG_MAP_TOKENS] = { "tokens", sizeof(struct ig_client_key), sizeof(struct ig_token_state) },
	[IG_MAP_CONNS] = { "conns", sizeof(struct ig_flow_key), sizeof(struct ig_conn) },
	[IG_MAP_CONN_COUNTS] = { "conn_counts", sizeof(struct ig_client_key), sizeof(__s64) },
	[IG_MAP_FLEET_COUNTS] = { "fleet_counts", sizeof(struct ig_client_key), sizeof(__u64) },
	[IG_MAP_FLEET_BLOCK] = { "fleet_block", sizeof(struct ig_client_key), sizeof(__u64) },
	[IG_MAP_HTTP_CONNS] = { "http_conns", sizeof(struct ig_flow_key), sizeof(struct ig_http_conn) },
	[IG_MAP_TOKEN_RULES] = { "token_rules", sizeof(__u32), sizeof(struct ig_token_rules) },
	[IG_MAP_RESP_SOCKS] = { "resp_socks", sizeof(int), sizeof(struct ig_resp_state) },
	[IG_MAP_TIMING] = { "timing", sizeof(__u32), sizeof(struct ig_timing) },
	[IG_MAP_TIMING_CFG] = { "timing_cfg", sizeof(__u32), sizeof(struct ig_timing_cfg) },
	[IG_MAP_ADAPTIVE] = { "adaptive", sizeof(__u32), sizeof(struct ig_adaptive) },
	[IG_MAP_KEYS] = { "keys", sizeof(__u64), sizeof(struct ig_key), 1 },
	[IG_MAP_KEY_POLICY] = { "key_policy", sizeof(__u32), sizeof(struct ig_key_policy), 1 },
	[IG_MAP_PROXY_FROM] = { "proxy_from", sizeof(struct ig_lpm_key), sizeof(__u32), 1 },
	[IG_MAP_PROXY_CONNS] = { "proxy_conns", sizeof(struct ig_flow_key),
				 sizeof(struct ig_proxy_conn), 1 },
	[IG_MAP_KEY_SEED] = { "key_seed", sizeof(__u32), sizeof(struct ig_key_seed), 1 },
	[IG_MAP_INFLIGHT_CFG] = { "inflight_cfg", sizeof(__u32), sizeof(struct ig_inflight_cfg), 1 },
	[IG_MAP_INFLIGHT] = { "inflight", sizeof(__u32), sizeof(struct ig_inflight), 1 },
};

int ig_instance_need(const struct ig_instance *in, enum ig_map_id id)
{
	if (in->fd[id] >= 0)
		return 0;
	ig_err("the instance in %s was made by an older infergate (no map %s): "
	       "'infergate attach IFACE' upgrades it in place", in->pin_dir, map_desc[id].name);
	return -ENOENT;
}

const char *ig_map_name(enum ig_map_id id)
{
	return map_desc[id].name;
}

int ig_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len) {
		ig_err("path too long: %s/%s", dir, name);
		return -ENAMETOOLONG;
	}
	return 0;
}

int ig_env_check(const char *pin_dir)
{
	char probe[512];
	struct statfs st;

	if (geteuid() != 0) {
		ig_err("must run as root (loading BPF programs needs CAP_BPF and CAP_NET_ADMIN)");
		return -EPERM;
	}
	if (strlen(pin_dir) >= 256) {
		ig_err("pin dir too long: %s", pin_dir);
		return -ENAMETOOLONG;
	}
	/* The pin dir itself when it exists, else the dir it would be made in. */
	snprintf(probe, sizeof(probe), "%s", pin_dir);
	if (statfs(probe, &st)) {
		char *parent = dirname(probe);

		if (statfs(parent, &st)) {
			ig_err("cannot use pin dir %s: %s does not exist (is bpffs mounted? "
			       "mount -t bpf bpf /sys/fs/bpf)", pin_dir, parent);
			return -ENOENT;
		}
	}
	if (st.f_type != BPF_FS_MAGIC) {
		ig_err("pin dir %s is not on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)",
		       pin_dir);
		return -ENOTSUP;
	}
	return 0;
}

void ig_instance_close(struct ig_instance *in)
{
	for (int i = 0; i < IG_MAP_COUNT; i++) {
		if (in->fd[i] >= 0)
			close(in->fd[i]);
		in->fd[i] = -1;
	}
}

int ig_instance_open(struct ig_instance *in, const char *pin_dir)
{
	struct bpf_map_info info;
	__u32 info_len;
	char path[512];
	int err, i;

	memset(in, 0, sizeof(*in));
	for (i = 0; i < IG_MAP_COUNT; i++)
		in->fd[i] = -1;
	snprintf(in->pin_dir, sizeof(in->pin_dir), "%s", pin_dir);
	in->ncpus = libbpf_num_possible_cpus();
	if (in->ncpus <= 0) {
		ig_err("cannot count possible CPUs: %s", strerror(-in->ncpus));
		return in->ncpus ? in->ncpus : -EINVAL;
	}

	for (i = 0; i < IG_MAP_COUNT; i++) {
		err = ig_path(path, sizeof(path), pin_dir, map_desc[i].name);
		if (err)
			goto fail;
		in->fd[i] = bpf_obj_get(path);
		if (in->fd[i] < 0 && errno == ENOENT && i > 0 && map_desc[i].optional)
			continue; /* ig_instance_need() says so when it is needed */
		if (in->fd[i] < 0) {
			err = -errno;
			/* the first map is there but a later one is not: an
			 * instance made before that map existed */
			if (err == -ENOENT && i > 0)
				ig_err("the instance in %s was made by an older infergate (no map "
				       "%s): 'infergate attach IFACE' upgrades it in place", pin_dir,
				       map_desc[i].name);
			else if (err == -ENOENT)
				ig_err("no infergate instance in %s (map %s missing): run "
				       "'infergate attach IFACE' first", pin_dir, map_desc[i].name);
			else
				ig_err("cannot open pinned map %s: %s", path, strerror(-err));
			goto fail;
		}
		memset(&info, 0, sizeof(info));
		info_len = sizeof(info);
		err = bpf_obj_get_info_by_fd(in->fd[i], &info, &info_len);
		if (err) {
			err = -errno;
			ig_err("cannot inspect pinned map %s: %s", path, strerror(-err));
			goto fail;
		}
		if (info.key_size != map_desc[i].key_size ||
		    info.value_size != map_desc[i].value_size) {
			ig_err("pinned map %s has another layout (key %u, value %u bytes; this "
			       "infergate expects %u, %u): it was made by another version; "
			       "'infergate detach IFACE --purge' and attach again",
			       path, info.key_size, info.value_size, map_desc[i].key_size,
			       map_desc[i].value_size);
			err = -EINVAL;
			goto fail;
		}
		if (i == IG_MAP_SOURCES) {
			in->sets = info.max_entries;
			in->max_sources = info.max_entries;
		}
		if (i == IG_MAP_FLOWS)
			in->max_flows = info.max_entries;
	}
	return 0;
fail:
	ig_instance_close(in);
	return err;
}

int ig_instance_from_object(struct ig_instance *in, const struct bpf_object *obj)
{
	int err = 0;

	memset(in, 0, sizeof(*in));
	for (int i = 0; i < IG_MAP_COUNT; i++)
		in->fd[i] = -1;
	snprintf(in->pin_dir, sizeof(in->pin_dir), "(%s)", bpf_object__name(obj));
	in->ncpus = libbpf_num_possible_cpus();
	if (in->ncpus <= 0)
		return in->ncpus ? in->ncpus : -EINVAL;
	for (int i = 0; i < IG_MAP_COUNT; i++) {
		const struct bpf_map *m = bpf_object__find_map_by_name(obj, map_desc[i].name);

		if (!m && map_desc[i].optional)
			continue;
		if (!m || bpf_map__fd(m) < 0) {
			ig_err("BPF object %s has no loaded map %s", bpf_object__name(obj),
			       map_desc[i].name);
			err = -ENOENT;
			goto fail;
		}
		if (i != IG_MAP_EVENTS && (bpf_map__key_size(m) != map_desc[i].key_size ||
					   bpf_map__value_size(m) != map_desc[i].value_size)) {
			ig_err("map %s of BPF object %s has another layout", map_desc[i].name,
			       bpf_object__name(obj));
			err = -EINVAL;
			goto fail;
		}
		/* our own fd: the instance closes it, the object keeps its own */
		in->fd[i] = fcntl(bpf_map__fd(m), F_DUPFD_CLOEXEC, 0);
		if (in->fd[i] < 0) {
			err = -errno;
			goto fail;
		}
		if (i == IG_MAP_SOURCES)
			in->sets = in->max_sources = bpf_map__max_entries(m);
		if (i == IG_MAP_FLOWS)
			in->max_flows = bpf_map__max_entries(m);
	}
	return 0;
fail:
	ig_instance_close(in);
	return err;
}

int ig_percpu_sum(const struct ig_instance *in, enum ig_map_id id, __u32 key, __u64 *sum,
		  size_t words)
{
	__u64 *v = calloc((size_t)in->ncpus, words * sizeof(*v));
	int err = 0;

	memset(sum, 0, words * sizeof(*sum));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(in->fd[id], &key, v)) {
		err = -errno;
		ig_err("cannot read %s[%u]: %s", ig_map_name(id), key, strerror(-err));
	}
	for (size_t c = 0; !err && c < (size_t)in->ncpus; c++)
		for (size_t w = 0; w < words; w++)
			sum[w] += v[c * words + w];
	free(v);
	return err;
}

int ig_percpu_zero(const struct ig_instance *in, enum ig_map_id id, __u32 key, size_t size)
{
	void *zero = calloc((size_t)in->ncpus, size);
	int err = 0;

	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(in->fd[id], &key, zero, BPF_ANY)) {
		err = -errno;
		ig_err("cannot clear %s[%u]: %s", ig_map_name(id), key, strerror(-err));
	}
	free(zero);
	return err;
}

int ig_stats_read(const struct ig_instance *in, __u32 slot, struct ig_stats *sum)
{
	return ig_percpu_sum(in, IG_MAP_PORT_STATS, slot, (__u64 *)sum, sizeof(*sum) / 8);
}

int ig_stats_clear(const struct ig_instance *in, __u32 slot)
{
	return ig_percpu_zero(in, IG_MAP_PORT_STATS, slot, sizeof(struct ig_stats));
}

int ig_sources_walk(const struct ig_instance *in,
		    int (*fn)(__u32 index, struct ig_source_set *set, void *ctx), void *ctx)
{
	const __u32 chunk = 4096;
	struct ig_source_set *sets;
	__u32 *keys, batch = 0, count;
	int err = 0, first = 1, end = 0;

	keys = calloc(chunk, sizeof(*keys));
	sets = calloc(chunk, sizeof(*sets));
	if (!keys || !sets) {
		err = -ENOMEM;
		goto out;
	}
	while (!end) {
		count = chunk;
		err = bpf_map_lookup_batch(in->fd[IG_MAP_SOURCES], first ? NULL : &batch, &batch,
					   keys, sets, &count, NULL);
		first = 0;
		end = err && errno == ENOENT; /* the last batch */
		if (err && !end) {
			err = -errno;
			ig_err("cannot read map sources: %s", strerror(-err));
			goto out;
		}
		err = 0;
		for (__u32 i = 0; i < count; i++) {
			int r = fn(keys[i], &sets[i], ctx);

			if (r < 0) {
				err = r;
				goto out;
			}
			if (r > 0 && bpf_map_update_elem(in->fd[IG_MAP_SOURCES], &keys[i], &sets[i],
							 BPF_ANY)) {
				err = -errno;
				ig_err("cannot write map sources: %s", strerror(-err));
				goto out;
			}
		}
	}
out:
	free(keys);
	free(sets);
	return err;
}

int ig_flows_count(const struct ig_instance *in, __u64 *n)
{
	const __u32 chunk = 4096;
	struct ig_flow_key *keys;
	struct ig_flow *vals;
	void *batch = NULL;
	__u32 count;
	int err = 0, end = 0;

	*n = 0;
	keys = calloc(chunk, sizeof(*keys));
	vals = calloc(chunk, sizeof(*vals));
	batch = calloc(1, sizeof(struct ig_flow_key));
	if (!keys || !vals || !batch) {
		err = -ENOMEM;
		goto out;
	}
	for (int first = 1; !end; first = 0) {
		count = chunk;
		err = bpf_map_lookup_batch(in->fd[IG_MAP_FLOWS], first ? NULL : batch, batch, keys,
					   vals, &count, NULL);
		end = err && errno == ENOENT;
		if (err && !end) {
			err = -errno;
			ig_err("cannot read map flows: %s", strerror(-err));
			goto out;
		}
		err = 0;
		*n += count;
	}
out:
	free(batch);
	free(keys);
	free(vals);
	return err;
}

int ig_array_read_all(int fd, const char *name, __u32 n, size_t vsize, void *vals)
{
	__u32 *keys = calloc(n, sizeof(*keys)), batch = 0, count, done = 0;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	while (done < n) {
		count = n - done;
		err = bpf_map_lookup_batch(fd, done ? &batch : NULL, &batch, keys + done,
					   (char *)vals + (size_t)done * vsize, &count, NULL);
		done += count;
		if (err) {
			err = -errno;
			if (err == -ENOENT) { /* end of map */
				err = 0;
				break;
			}
			ig_err("cannot read map %s: %s", name, strerror(-err));
			break;
		}
	}
	/* an array batch returns entries in index order: keys[i] == i */
	free(keys);
	return err;
}
