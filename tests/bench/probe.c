// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What one per-source lookup costs at N sources, by map type and key size
 * (probe.bpf.c), measured like bench.c: interleaved rounds on one pinned CPU,
 * thread CPU time, median, reported above probe_bare. Not part of the targets;
 * evidence for choosing the `buckets` layout.
 *
 *   probe [SOURCES...]     (default: 1000 100000 1000000)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ig_abi.h"
#include "benchlib.h"
#include "probe.skel.h"

#define MAX_SIZES 8

struct pcase {
	const char *name;
	struct bpf_program *prog;
	struct bpf_map *map; /* NULL for the baseline */
	int size;            /* index into sizes */
	double *ns;
	double med;
	unsigned long long memlock, wrong;
};

static __u32 entries_for(__u32 n)
{
	__u32 e = 262144; /* the default max_entries of `buckets` */

	while (e < n)
		e <<= 1;
	return e;
}

int main(int argc, char **argv)
{
	unsigned long rounds = env_ul("IG_BENCH_ROUNDS", 11, 3, 1001);
	unsigned long repeat = env_ul("IG_BENCH_REPEAT", 200000, 1000, 100000000);
	unsigned long cpu = env_ul("IG_BENCH_CPU", (unsigned long)sysconf(_SC_NPROCESSORS_ONLN) - 1,
				   0, 4095);
	__u32 sizes[MAX_SIZES] = { 1000, 100000, 1000000 };
	struct probe *skel[MAX_SIZES];
	struct pcase cases[MAX_SIZES * 9];
	int nsizes = 3, ncase = 0, i, j, r;
	__u8 frame[FRAME_LEN];

	if (argc > 1) {
		nsizes = 0;
		for (i = 1; i < argc && nsizes < MAX_SIZES; i++) {
			char *end;
			unsigned long n = strtoul(argv[i], &end, 10);

			if (*end || n < 1 || n > (1u << 20))
				die("SOURCES: want 1 .. %u, got %s", 1u << 20, argv[i]);
			sizes[nsizes++] = (__u32)n;
		}
	}
	pin_cpu((int)cpu);
	make_frame(frame, 40000, 8000, IG_TCP_SYN);

	for (j = 0; j < nsizes; j++) {
		struct probe *s = probe__open();
		__u32 e = entries_for(sizes[j]);
		struct bpf_map *m;
		int err;

		if (!s)
			die("open probe object: %s", strerror(errno));
		s->rodata->bench_nsrc = sizes[j];
		s->rodata->bench_base = SRC_BASE;
		s->rodata->probe_mask = e - 1;
		bpf_object__for_each_map(m, s->obj)
			if (!bpf_map__is_internal(m) && m != s->maps.probe_ctr)
				bpf_map__set_max_entries(m, e);
		err = probe__load(s);
		if (err)
			die("load probe object: %s", strerror(-err));
		skel[j] = s;

#define PC(nm) do {                                                              \
		cases[ncase] = (struct pcase){ .name = #nm, .prog = s->progs.probe_##nm, \
			.map = s->maps.nm, .size = j };                                   \
		ncase++;                                                          \
	} while (0)
		cases[ncase++] = (struct pcase){ .name = "bare", .prog = s->progs.probe_bare,
						 .size = j };
		PC(arr);
		PC(arr64);
		PC(lru4);
		PC(lru8);
		PC(lru20);
		PC(hash20);
		PC(hash20np);
		PC(hash8np);
#undef PC
	}
	for (i = 0; i < ncase; i++) {
		cases[i].ns = calloc(rounds, sizeof(double));
		if (!cases[i].ns)
			die("out of memory");
		/* First pass creates every source's entry. */
		test_run(bpf_program__fd(cases[i].prog), frame, sizes[cases[i].size], NULL);
	}
	for (j = 0; j < nsizes; j++)
		skel[j]->data->bench_step = spread_step(sizes[j]);
	fprintf(stderr, "probe: %d cases x %lu rounds x %lu packets on CPU %lu\n", ncase, rounds,
		repeat, cpu);
	for (r = 0; r < (int)rounds; r++) {
		for (i = 0; i < ncase; i++) {
			int fd = bpf_program__fd(cases[i].prog);

			/* Leave the same cache state before every case: the case's
			 * own map was last walked in full. */
			test_run(fd, frame, sizes[cases[i].size], NULL);
			if (test_run(fd, frame, (__u32)repeat, &cases[i].ns[r]) != XDP_DROP_RC)
				cases[i].wrong++;
		}
	}
	for (i = 0; i < ncase; i++) {
		double *s = cases[i].ns;

		sort_doubles(s, (int)rounds);
		cases[i].med = quantile(s, (int)rounds, 0.5);
		if (cases[i].map)
			cases[i].memlock = map_memlock(bpf_map__fd(cases[i].map));
	}

	printf("| map | key B | sources | max_entries | median ns | above bare ns | memlock B/entry |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < ncase; i++) {
		struct pcase *c = &cases[i];
		double bare = 0;
		__u32 e = entries_for(sizes[c->size]);

		for (j = 0; j < ncase; j++)
			if (cases[j].size == c->size && !cases[j].map)
				bare = cases[j].med;
		printf("| %s%s | %u | %u | %u | %.1f | %+.1f | %.1f |\n", c->name,
		       c->wrong ? " (WRONG VERDICT)" : "",
		       c->map ? bpf_map__key_size(c->map) : 0, sizes[c->size], c->map ? e : 0,
		       c->med, c->med - bare, c->map ? (double)c->memlock / e : 0.0);
	}
	for (j = 0; j < nsizes; j++)
		probe__destroy(skel[j]);
	for (i = 0; i < ncase; i++)
		free(cases[i].ns);
	return 0;
}
