// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Frames, timing and statistics for bench.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <zlib.h>

#include <bpf/bpf.h>

#include "ig_abi.h"
#include "benchlib.h"

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

unsigned long env_ul(const char *name, unsigned long def, unsigned long min, unsigned long max)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		die("%s=%s: want an integer in [%lu, %lu]", name, s, min, max);
	return v;
}

/* Nanoseconds per jiffy, from the running kernel's CONFIG_HZ. gzopen() reads
 * plain files too, so /boot/config-* works as a fallback. */
__u64 tick_ns_from_config(char *src, size_t srclen)
{
	char paths[2][300], line[256];
	struct utsname u;
	int i;

	uname(&u);
	snprintf(paths[0], sizeof(paths[0]), "/proc/config.gz");
	snprintf(paths[1], sizeof(paths[1]), "/boot/config-%s", u.release);
	for (i = 0; i < 2; i++) {
		gzFile f = gzopen(paths[i], "rb");
		unsigned long hz = 0;

		if (!f)
			continue;
		while (gzgets(f, line, sizeof(line)))
			if (sscanf(line, "CONFIG_HZ=%lu", &hz) == 1)
				break;
		gzclose(f);
		if (hz >= 24 && hz <= 10000) {
			snprintf(src, srclen, "CONFIG_HZ=%lu from %s", hz, paths[i]);
			return 1000000000ULL / hz;
		}
	}
	snprintf(src, srclen, "CONFIG_HZ not found; assuming 250");
	return 4000000ULL;
}

static __u16 csum16(const void *p, size_t len)
{
	const __u8 *b = p;
	__u32 sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* An untagged IPv4/TCP frame without options carrying `plen` bytes of
 * payload, padded to FRAME_LEN; returns its length. The programs rewrite the
 * source address on every run. */
__u32 make_frame_payload(__u8 *f, __u16 sport, __u16 dport, __u8 flags, const void *payload,
			 __u32 plen)
{
	struct ig_eth *eth = (struct ig_eth *)f;
	struct ig_ipv4 *ip = (struct ig_ipv4 *)(eth + 1);
	struct ig_tcp *th = (struct ig_tcp *)(ip + 1);
	static const __u8 dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const __u8 smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	__u32 len = sizeof(*eth) + sizeof(*ip) + sizeof(*th) + plen;

	if (len > FRAME_MAX)
		die("a bench frame of %u bytes: at most %u", len, FRAME_MAX);
	if (len < FRAME_LEN)
		len = FRAME_LEN;
	memset(f, 0, len);
	memcpy(eth->dst, dmac, 6);
	memcpy(eth->src, smac, 6);
	eth->proto = ig_htons(IG_ETH_P_IP);
	ip->ver_ihl = 0x45;
	ip->tot_len = ig_htons(sizeof(*ip) + sizeof(*th) + plen);
	ip->id = ig_htons(1);
	ip->frag_off = ig_htons(IG_IP_DF);
	ip->ttl = 64;
	ip->proto = IG_IPPROTO_TCP;
	ip->saddr = ig_htonl(SRC_BASE);
	ip->daddr = ig_htonl(DST_ADDR);
	ip->check = ig_htons(csum16(ip, sizeof(*ip)));
	th->source = ig_htons(sport);
	th->dest = ig_htons(dport);
	th->seq = ig_htonl(FRAME_SEQ);
	th->ack_seq = ig_htonl(flags & IG_TCP_ACK ? 0x0a0b0c0d : 0);
	th->doff_res = 5 << 4;
	th->flags = flags;
	th->window = ig_htons(64240);
	/* The TCP checksum is not looked at by anything here. */
	if (plen)
		memcpy(th + 1, payload, plen);
	return len;
}

void make_frame(__u8 *f, __u16 sport, __u16 dport, __u8 flags)
{
	make_frame_payload(f, sport, dport, flags, NULL, 0);
}

void conn_counted(int fd, __u16 sport, __u16 dport)
{
	struct ig_conn c = { .isn = FRAME_SEQ - 1 };
	struct ig_flow_key k;
	__u32 a[2] = { ig_htonl(SRC_BASE), ig_htonl(DST_ADDR) };

	memset(&k, 0, sizeof(k));
	k.client[10] = k.client[11] = k.server[10] = k.server[11] = 0xff;
	memcpy(k.client + 12, &a[0], 4);
	memcpy(k.server + 12, &a[1], 4);
	k.client_port = sport;
	k.server_port = dport;
	k.dir = IG_DIR_COUNTED;
	if (bpf_map_update_elem(fd, &k, &c, BPF_ANY))
		die("conns update: %s", strerror(errno));
}

/* memlock of a map as the kernel accounts it (fdinfo). */
unsigned long long map_memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	if (!v)
		die("%s: no memlock figure", path);
	return v;
}

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

__u32 test_run_len(int prog_fd, const __u8 *frame, __u32 len, __u32 repeat, double *ns)
{
	__u8 out[FRAME_OUT];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = (int)repeat);
	double t0, t1;
	int err;

	t0 = thread_ns();
	err = bpf_prog_test_run_opts(prog_fd, &o);
	t1 = thread_ns();
	if (err)
		die("BPF_PROG_TEST_RUN: %s", strerror(errno));
	if (ns)
		*ns = (t1 - t0) / repeat;
	return o.retval;
}

__u32 test_run(int prog_fd, const __u8 *frame, __u32 repeat, double *ns)
{
	return test_run_len(prog_fd, frame, FRAME_LEN, repeat, ns);
}

__u32 test_run_once(int prog_fd, const __u8 *frame, __u32 len, __u32 *duration, __u8 *out)
{
	__u8 buf[FRAME_OUT];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .data_out = out ? out : buf, .data_size_out = FRAME_OUT, .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		die("BPF_PROG_TEST_RUN: %s", strerror(errno));
	if (duration)
		*duration = o.duration;
	return o.retval;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void sort_doubles(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

double quantile(const double *sorted, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pin to CPU %d: %s", cpu, strerror(errno));
}

static __u32 gcd(__u32 a, __u32 b)
{
	while (b) {
		__u32 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

__u32 spread_step(__u32 n)
{
	/* n / golden ratio: consecutive packets land far apart in any window. */
	__u32 s = (__u32)((__u64)n * 2654435769u >> 32);

	if (n <= 2)
		return 1;
	while (gcd(s, n) != 1)
		s++;
	return s;
}
