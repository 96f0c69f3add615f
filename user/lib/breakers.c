// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/breakers.h"
#include "pure/steer.h"
#include "lib/log.h"

int ig_breaker_get(const struct ig_instance *in, __u16 port, struct ig_breaker *b)
{
	__u32 key = port;

	if (bpf_map_lookup_elem(in->fd[IG_MAP_BREAKERS], &key, b)) {
		int err = -errno;

		ig_err("cannot read the breaker of %u/tcp: %s", port, strerror(-err));
		return err;
	}
	return 0;
}

int ig_breaker_put(const struct ig_instance *in, __u16 port, const struct ig_breaker *b)
{
	__u32 key = port;

	if (bpf_map_update_elem(in->fd[IG_MAP_BREAKERS], &key, b, BPF_ANY)) {
		int err = -errno;

		ig_err("cannot write the breaker of %u/tcp: %s", port, strerror(-err));
		return err;
	}
	return 0;
}

int ig_breaker_set_state(const struct ig_instance *in, __u16 port, enum ig_brk_state state,
			 __s32 probes)
{
	struct ig_breaker b;
	int err;

	/* Read-modify-write of a 16-byte value: an operator's bpftool update in
	 * the microseconds between the two is the only thing that can be lost,
	 * and the agent re-reads every tick. */
	err = ig_breaker_get(in, port, &b);
	if (err)
		return err;
	b.state = state;
	b.probes = probes;
	return ig_breaker_put(in, port, &b);
}

int ig_breaker_list(const struct ig_instance *in, __u16 *ports, int max)
{
	struct ig_breaker *all = calloc(65536, sizeof(*all));
	int err, found = 0;

	if (!all)
		return -ENOMEM;
	err = ig_array_read_all(in->fd[IG_MAP_BREAKERS], "breakers", 65536, sizeof(*all), all);
	for (__u32 i = 0; !err && i < 65536 && found < max; i++)
		if (all[i].flags & IG_BRK_F_ON)
			ports[found++] = (__u16)i;
	free(all);
	return err ? err : found;
}

int ig_health_read(const struct ig_instance *in, __u16 port, struct ig_health *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ig_health *v;
	__u32 key = port;
	int err = 0;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(in->fd[IG_MAP_HEALTH], &key, v)) {
		err = -errno;
		if (err == -ENOENT) {
			err = 0; /* nothing counted yet */
		} else {
			ig_err("cannot read the health of %u/tcp: %s", port, strerror(-err));
		}
		goto out;
	}
	for (int c = 0; c < ncpu; c++) {
		for (int i = 0; i < IG_HTTP_MAX; i++)
			sum->http[i] += v[c].http[i];
		for (int i = 0; i < IG_ROUTE_MAX; i++)
			sum->conns[i] += v[c].conns[i];
		sum->rst += v[c].rst;
		sum->refused += v[c].refused;
	}
out:
	free(v);
	return err;
}

int ig_breakers_print(const struct ig_instance *in, FILE *out)
{
	__u16 *ports = calloc(65536, sizeof(*ports));
	int n, err = 0;

	if (!ports)
		return -ENOMEM;
	n = ig_breaker_list(in, ports, 65536);
	if (n < 0) {
		err = n;
		goto out;
	}
	if (n)
		fprintf(out, "%-10s %-9s %-6s %-9s %8s %8s %8s %8s %8s %8s %8s %8s\n", "BREAKER",
			"STATE", "FORCE", "FALLBACK", "2XX-4XX", "5XX", "RST", "PRIMARY", "PROBES",
			"STEERED", "REFUSED", "BUDGET");
	for (int i = 0; i < n; i++) {
		struct ig_breaker b;
		struct ig_health h;
		char fb[16], name[16];

		err = ig_breaker_get(in, ports[i], &b);
		if (!err)
			err = ig_health_read(in, ports[i], &h);
		if (err)
			goto out;
		snprintf(fb, sizeof(fb), "%u", b.fallback);
		snprintf(name, sizeof(name), "%u/tcp", ports[i]);
		fprintf(out, "%-10s %-9s %-6s %-9s %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8d\n",
			name, ig_brk_state_name(b.state), ig_brk_force_name(b.force),
			b.fallback ? fb : "none", (unsigned long long)ig_health_ok(&h),
			(unsigned long long)h.http[IG_HTTP_5XX], (unsigned long long)h.rst,
			(unsigned long long)h.conns[IG_ROUTE_PRIMARY],
			(unsigned long long)h.conns[IG_ROUTE_PROBE],
			(unsigned long long)h.conns[IG_ROUTE_FALLBACK], (unsigned long long)h.refused,
			b.probes);
	}
out:
	free(ports);
	return err;
}
