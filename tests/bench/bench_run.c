// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Timing one case of the test-run bench and judging its runs (bench.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/names.h"

#include <bpf/bpf.h>

#include "bench.h"

int ncpus, bench_cpu;
static volatile __u64 thrash_sink;

static __u64 stats_sum(int fd, __u32 slot, enum ig_reason r)
{
	struct ig_stats *v = calloc(ncpus, sizeof(*v));
	__u64 sum = 0;
	int i;

	if (!v)
		die("out of memory");
	if (bpf_map_lookup_elem(fd, &slot, v))
		die("port_stats lookup: %s", strerror(errno));
	for (i = 0; i < ncpus; i++)
		sum += v[i].packets[r];
	free(v);
	return sum;
}

static __u32 ctr_get(int fd)
{
	__u32 zero = 0, *v = calloc(ncpus, sizeof(__u64));

	if (!v)
		die("out of memory");
	if (bpf_map_lookup_elem(fd, &zero, v))
		die("bench_ctr lookup: %s", strerror(errno));
	zero = v[bench_cpu * 2]; /* per-CPU values are 8-byte slots */
	free(v);
	return zero;
}

static void ctr_set(int fd, __u32 val)
{
	__u32 zero = 0, *v = calloc(ncpus, sizeof(__u64));
	int i;

	if (!v)
		die("out of memory");
	for (i = 0; i < ncpus; i++)
		v[i * 2] = val;
	if (bpf_map_update_elem(fd, &zero, v, BPF_ANY))
		die("bench_ctr update: %s", strerror(errno));
	free(v);
}

/*
 * Evict the caches and the TLB the way a walk over all other sources would:
 * read a buffer several times the size of the last-level cache.
 */
static void thrash_caches(void)
{
	static volatile __u64 *buf;
	static size_t words;
	__u64 sum = 0;
	size_t i;

	if (!buf) {
		long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
		size_t bytes = (l3 > 0 ? (size_t)l3 : 32u << 20) * 4;

		buf = malloc(bytes);
		if (!buf)
			die("out of memory");
		words = bytes / sizeof(__u64);
		for (i = 0; i < words; i++)
			buf[i] = i;
	}
	for (i = 0; i < words; i += 8)
		sum += buf[i];
	thrash_sink = sum;
}

/*
 * Exhaust the sources the timed run will see, so that it measures the drop
 * path: each source is admitted once (burst 1) and then refused until a
 * second has passed (rate 1). When there are more sources than one timed run
 * visits, only the visited ones are exhausted (a full pass could outlast that
 * second), and the caches are then thrashed so that their state is as cold as
 * after a pass over all the others.
 */
static void warm_case(const struct bcase *c, __u32 repeat)
{
	__u32 c0;

	if (c->entry)
		req_entry_put(c->entry);
	if (c->warm <= repeat) {
		test_run_len(c->prog_fd, c->frame, c->len, c->warm, NULL); /* a full cycle */
		return;
	}
	c0 = ctr_get(c->ctr_fd);
	test_run_len(c->prog_fd, c->frame, c->len, repeat, NULL);
	ctr_set(c->ctr_fd, c0);
	thrash_caches();
}

/*
 * A case timed one packet per run (c->single), because its packet changes
 * what the next one would meet (a 429 rewrites the frame in place and marks
 * its connection for teardown). Each run starts from the case's entry and
 * frame again (a test run copies the frame in anew) and counts with the
 * kernel's own `duration` of it, which includes one clock read and one pass of
 * the test-run loop: such figures compare with each other and with the
 * repeat-1 baseline only. A round's figure is the median of n runs.
 */
static void run_single(struct bcase *c, int round, __u32 n)
{
	double *d = malloc(n * sizeof(*d));
	__u64 before = 0, on = n;
	bool wrong = true;
	__u32 k, dur;
	int attempt;

	if (!d)
		die("out of memory");
	for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		if (c->warm)
			warm_case(c, n);
		if (c->stats_fd >= 0)
			before = stats_sum(c->stats_fd, c->slot, c->want);
		for (k = 0, wrong = false; k < n; k++) {
			req_entry_put(c->entry);
			wrong |= test_run_once(c->prog_fd, c->frame, c->len, &dur, NULL) != c->want_ret;
			d[k] = dur;
		}
		if (c->stats_fd >= 0)
			on = stats_sum(c->stats_fd, c->slot, c->want) - before;
		if (!wrong && on >= MIN_ON_PATH * n)
			break;
		c->reruns++;
	}
	sort_doubles(d, (int)n);
	c->ns[round] = quantile(d, (int)n, 0.5);
	free(d);
	c->timed += n;
	c->on_path += on;
	if (wrong || on < MIN_ON_PATH * n)
		c->bad_rounds++;
}

/*
 * One timed run of a case. A drop case whose sources were still exhausted
 * from an earlier run when it warmed them can see them refill during the
 * timed run (the warm-up then refused them instead of restarting their
 * second); such a run measured the admitted path, so it is run again.
 */
void run_case(struct bcase *c, int round, __u32 repeat)
{
	__u64 before = 0, after, on;
	bool kept = true;
	int attempt;
	__u32 ret;

	if (c->single) {
		run_single(c, round, repeat / SINGLES_PER_REPEAT);
		return;
	}
	for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		if (c->warm)
			warm_case(c, repeat);
		if (c->entry)
			req_entry_put(c->entry);
		if (c->stats_fd >= 0)
			before = stats_sum(c->stats_fd, c->slot, c->want);
		ret = test_run_len(c->prog_fd, c->frame, c->len, repeat, &c->ns[round]);
		on = repeat;
		if (c->stats_fd >= 0) {
			after = stats_sum(c->stats_fd, c->slot, c->want);
			on = after - before;
		}
		/* every repeat met what the first did */
		kept = !c->keep || req_entry_kept(c->entry);
		if (ret == c->want_ret && on >= MIN_ON_PATH * repeat && kept)
			break;
		c->reruns++;
	}
	c->timed += repeat;
	c->on_path += on;
	c->changed += !kept;
	if (ret != c->want_ret || on < MIN_ON_PATH * repeat || !kept)
		c->bad_rounds++;
}

void report_off_path(FILE *o, const struct bcase *c)
{
	int r;

	fprintf(o, "- %s/%u: %llu bad rounds, %llu of %llu timed packets on path, "
		   "%llu rounds changed the connection's entry; slot %u counters since load:",
		c->name, c->sources, c->bad_rounds, c->on_path, c->timed, c->changed, c->slot);
	for (r = 0; r < IG_R_MAX && c->stats_fd >= 0; r++)
		fprintf(o, " %s=%llu", ig_reason_name((enum ig_reason)r),
			(unsigned long long)stats_sum(c->stats_fd, c->slot, r));
	fprintf(o, "\n");
}

void summarise(struct bcase *c, int rounds)
{
	double *s = malloc(rounds * sizeof(*s));

	if (!s)
		die("out of memory");
	memcpy(s, c->ns, rounds * sizeof(*s));
	sort_doubles(s, rounds);
	c->med = quantile(s, rounds, 0.5);
	c->p25 = quantile(s, rounds, 0.25);
	c->p75 = quantile(s, rounds, 0.75);
	free(s);
}

/* The median over rounds of b's time less a's in the same round: the
 * difference of two rows timed side by side, which the machine's swings
 * from one round to the next (a few hundred ns on a 2 us row here) leave
 * out where a difference of the rows' medians keeps them. */
double paired_diff(const struct bcase *a, const struct bcase *b, int rounds)
{
	double *d = malloc(rounds * sizeof(*d)), m;
	int i;

	if (!d)
		die("out of memory");
	for (i = 0; i < rounds; i++)
		d[i] = b->ns[i] - a->ns[i];
	sort_doubles(d, rounds);
	m = quantile(d, rounds, 0.5);
	free(d);
	return m;
}

bool case_ok(const struct bcase *c)
{
	return !c->bad_rounds;
}

const char *target_word(bool ok)
{
	return ok ? "PASS" : "MISS";
}

struct bcase *find_target(struct bcase *cases, int ncase, enum target t)
{
	int i;

	for (i = 0; i < ncase; i++)
		if (cases[i].target == t)
			return &cases[i];
	die("no case for target %d", t);
}

static FILE *out_open(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("%s: %s", path, strerror(errno));
	return f;
}

static void out_close(FILE *f, const char *path)
{
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

/* The results, a case a row (results.csv). */
void write_csv(const char *path, const struct bcase *cases, int ncase,
	       unsigned long rounds)
{
	FILE *f = out_open(path);
	int i;

	fprintf(f, "case,sources,median_ns,above_bare_ns,p25,p75,rounds\n");
	for (i = 0; i < ncase; i++) {
		const struct bcase *c = &cases[i];

		fprintf(f, "\"%s\",%u,%.2f,%.2f,%.2f,%.2f,%lu\n", c->name, c->sources, c->med,
			c->above, c->p25, c->p75, rounds);
	}
	out_close(f, path);
}

/* Every round's time of every case timed (rounds.csv): rows measured in the
 * same round are compared pairwise, which a shared machine's drift between
 * rounds does not blur. */
void write_rounds(const char *path, const struct bcase *cases, int ncase,
		  unsigned long rounds)
{
	FILE *f = out_open(path);
	int i;

	for (i = 0; i < ncase; i++) {
		if (!cases[i].timed)
			continue;
		fprintf(f, "\"%s\"", cases[i].name);
		for (unsigned long r = 0; r < rounds; r++)
			fprintf(f, ",%.2f", cases[i].ns[r]);
		fprintf(f, "\n");
	}
	out_close(f, path);
}
