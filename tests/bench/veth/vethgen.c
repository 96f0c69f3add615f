// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The veth bench's two BPF ends, driven from tests/bench/veth.sh:
 *
 *   vethgen gen IFACE DSTMAC DSTIP PORT NSRC SRCBASE COUNT
 *       send COUNT TCP SYNs out of IFACE (run inside the sender's namespace)
 *       to DSTIP:PORT from NSRC sources starting at SRCBASE, with
 *       BPF_PROG_TEST_RUN in live-frames mode; prints "sent N ns T".
 *       IPv6 when DSTIP is (SRCBASE then too; its last 32 bits vary).
 *   vethgen sink IFACE PINDIR
 *       attach the count-and-drop baseline to IFACE (native XDP), pinning its
 *       link and counter under PINDIR (a bpffs dir the caller removes).
 *   vethgen count PINDIR
 *       print the baseline's count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "gen.skel.h"

#define FRAME_LEN 64

static int die(const char *what)
{
	fprintf(stderr, "vethgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The interface's MAC, asked of the kernel in the caller's namespace (sysfs
 * would show the root namespace's interfaces under nsenter --net). */
static int read_mac(const char *ifname, unsigned char *mac)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (err)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static unsigned short csum(const void *p, size_t len)
{
	const unsigned char *b = p;
	unsigned long s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (unsigned long)(b[i] << 8 | b[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (unsigned short)~s;
}

/* The TCP checksum of the template, over the pseudo header of its family. */
static void tcp_csum(unsigned char *tcp, const unsigned char *src, const unsigned char *dst,
		     size_t alen)
{
	unsigned char buf[2 * 16 + 4 + 20];
	size_t n = 0;
	unsigned short c;

	memcpy(buf, src, alen), n += alen;
	memcpy(buf + n, dst, alen), n += alen;
	buf[n++] = 0, buf[n++] = 6, buf[n++] = 0, buf[n++] = 20; /* zero, TCP, length 20 */
	memcpy(buf + n, tcp, 20), n += 20;
	c = csum(buf, n);
	tcp[16] = (unsigned char)(c >> 8), tcp[17] = (unsigned char)c;
}

static int gen(char **argv)
{
	const char *ifname = argv[0];
	unsigned char frame[FRAME_LEN + 20] = {}, *ip = frame + 14, *tcp;
	unsigned int port = (unsigned)atoi(argv[3]), nsrc = (unsigned)atoi(argv[4]);
	unsigned long count = strtoul(argv[6], NULL, 10);
	int v6 = strchr(argv[2], ':') != NULL;
	unsigned char dst[16], base[16];
	__u32 base_lo;
	struct xdp_md ctx = {};
	struct timespec t0, t1;
	struct gen *skel;
	int ifindex = (int)if_nametoindex(ifname);
	__u32 len = v6 ? 14 + 40 + 20 : FRAME_LEN;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = (int)count,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

	if (!ifindex)
		die(ifname);
	if (sscanf(argv[1], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &frame[0], &frame[1], &frame[2],
		   &frame[3], &frame[4], &frame[5]) != 6 || read_mac(ifname, frame + 6) ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, argv[2], dst) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, argv[5], base) != 1 || !nsrc || !count) {
		fprintf(stderr, "vethgen gen: bad arguments\n");
		return 2;
	}
	if (v6) {
		frame[12] = 0x86, frame[13] = 0xdd;
		ip[0] = 0x60;
		ip[5] = 20;       /* payload length */
		ip[6] = 6;        /* TCP */
		ip[7] = 64;
		memcpy(ip + 8, base, 16);
		memcpy(ip + 24, dst, 16);
		tcp = ip + 40;
		memcpy(&base_lo, base + 12, 4);
	} else {
		frame[12] = 0x08; /* IPv4 */
		ip[0] = 0x45;
		ip[3] = 50;       /* total length 20 + 20 + 10 */
		ip[6] = 0x40;     /* DF */
		ip[8] = 64;
		ip[9] = 6;        /* TCP */
		memcpy(ip + 12, base, 4);
		memcpy(ip + 16, dst, 4);
		tcp = frame + 34;
		memcpy(&base_lo, base, 4);
	}
	tcp[0] = 40000 >> 8, tcp[1] = 40000 & 0xff;
	tcp[2] = (unsigned char)(port >> 8), tcp[3] = (unsigned char)port;
	tcp[7] = 1;       /* seq */
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;   /* SYN */
	tcp[14] = 0xff, tcp[15] = 0xff;
	if (v6) {
		tcp_csum(tcp, ip + 8, ip + 24, 16);
	} else {
		unsigned short c = csum(ip, 20);

		ip[10] = (unsigned char)(c >> 8), ip[11] = (unsigned char)c;
		tcp_csum(tcp, ip + 12, ip + 16, 4);
	}
	skel = gen__open();
	if (!skel)
		die("open");
	skel->rodata->gen_nsrc = nsrc;
	skel->rodata->gen_base = ntohl(base_lo);
	if (gen__load(skel))
		die("load");
	ctx.ingress_ifindex = (unsigned)ifindex;
	ctx.data_end = len; /* the kernel checks it against the frame */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.gen_tx), &o))
		die("BPF_PROG_TEST_RUN (live frames)");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("sent %lu ns %lld\n", count,
	       (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	gen__destroy(skel);
	return 0;
}

static int sink(char **argv)
{
	char path[512];
	struct gen *skel = gen__open_and_load();
	int ifindex = (int)if_nametoindex(argv[0]), fd;
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);

	if (!skel || !ifindex)
		die("load / interface");
	fd = bpf_link_create(bpf_program__fd(skel->progs.sink_drop), ifindex, BPF_XDP, &lo);
	if (fd < 0)
		die("attach");
	snprintf(path, sizeof(path), "%s/link", argv[1]);
	if (bpf_obj_pin(fd, path))
		die(path);
	snprintf(path, sizeof(path), "%s/count", argv[1]);
	if (bpf_obj_pin(bpf_map__fd(skel->maps.sink_ctr), path))
		die(path);
	return 0;
}

static int count(char **argv)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	unsigned long long *v = calloc((size_t)ncpu, 8), sum = 0;
	unsigned int zero = 0;
	char path[512];

	snprintf(path, sizeof(path), "%s/count", argv[0]);
	fd = bpf_obj_get(path);
	if (fd < 0 || !v || bpf_map_lookup_elem(fd, &zero, v))
		die(path);
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	printf("%llu\n", sum);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 9 && !strcmp(argv[1], "gen"))
		return gen(argv + 2);
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return sink(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "count"))
		return count(argv + 2);
	fprintf(stderr, "usage: vethgen gen IFACE DSTMAC DSTIP PORT NSRC SRCBASE COUNT\n"
			"       vethgen sink IFACE PINDIR | vethgen count PINDIR\n");
	return 2;
}
