// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The loader of tests/lib/tcx_peer.bpf.c (bookworm's bpftool predates tcx):
 *   tcx_peer attach OBJ IFACE first|last DIR   pins DIR/link and DIR/syns
 *   tcx_peer order IFACE                        ingress programs, in run order
 *   tcx_peer count DIR                          SYNs the peer has seen
 *   tcx_peer id DIR                             the peer's program id
 *   tcx_peer xdplink PROG_ID IFACE DIR          links an existing XDP program
 *                                               (native) to IFACE: DIR/link
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/xdphook.h"

static int attach(const char *obj_path, const char *ifname, const char *pos, const char *dir)
{
	LIBBPF_OPTS(bpf_link_create_opts, o);
	struct bpf_object *obj;
	char path[512];
	int ifindex = (int)if_nametoindex(ifname), fd;

	if (!ifindex)
		return fprintf(stderr, "no interface %s\n", ifname), 1;
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj || bpf_object__load(obj))
		return fprintf(stderr, "cannot load %s\n", obj_path), 1;
	o.flags = !strcmp(pos, "first") ? BPF_F_BEFORE : BPF_F_AFTER;
	fd = bpf_link_create(bpf_program__fd(bpf_object__find_program_by_name(obj, "peer_count")),
			     ifindex, BPF_TCX_INGRESS, &o);
	if (fd < 0)
		return fprintf(stderr, "tcx attach: %s\n", strerror(errno)), 1;
	snprintf(path, sizeof(path), "%s/link", dir);
	if (bpf_obj_pin(fd, path))
		return fprintf(stderr, "pin %s: %s\n", path, strerror(errno)), 1;
	snprintf(path, sizeof(path), "%s/syns", dir);
	if (bpf_map__pin(bpf_object__find_map_by_name(obj, "syns"), path))
		return fprintf(stderr, "pin %s: %s\n", path, strerror(errno)), 1;
	return 0;
}

/* Another bpf_link for a program already loaded (bpftool 7.1 attaches XDP by
 * netlink only): the same program linked in two namespaces. */
static int xdplink(const char *id, const char *ifname, const char *dir)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = XDP_FLAGS_DRV_MODE);
	int ifindex = (int)if_nametoindex(ifname), pfd, fd;
	char path[512];

	pfd = bpf_prog_get_fd_by_id((__u32)strtoul(id, NULL, 10));
	if (!ifindex || pfd < 0)
		return fprintf(stderr, "no interface %s or program %s\n", ifname, id), 1;
	fd = bpf_link_create(pfd, ifindex, BPF_XDP, &o);
	if (fd < 0)
		return fprintf(stderr, "xdp link: %s\n", strerror(errno)), 1;
	snprintf(path, sizeof(path), "%s/link", dir);
	if (bpf_obj_pin(fd, path))
		return fprintf(stderr, "pin %s: %s\n", path, strerror(errno)), 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "xdplink"))
		return xdplink(argv[2], argv[3], argv[4]);
	if (argc == 6 && !strcmp(argv[1], "attach"))
		return attach(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 3 && !strcmp(argv[1], "order")) {
		struct ig_hook_prog p[16];
		int n = ig_tcx_list((int)if_nametoindex(argv[2]), 0, p, 16);

		for (int i = 0; i < n; i++)
			printf("%s\n", p[i].name);
		return n < 0;
	}
	if (argc == 3 && !strcmp(argv[1], "count")) {
		char path[512];
		__u32 k = 0;
		__u64 v = 0;
		int fd;

		snprintf(path, sizeof(path), "%s/syns", argv[2]);
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_map_lookup_elem(fd, &k, &v))
			return fprintf(stderr, "%s: %s\n", path, strerror(errno)), 1;
		printf("%llu\n", (unsigned long long)v);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "id")) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "%s/link", argv[2]);
		fd = bpf_obj_get(path);
		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			return fprintf(stderr, "%s: %s\n", path, strerror(errno)), 1;
		printf("%u\n", info.prog_id);
		return 0;
	}
	fprintf(stderr, "usage: tcx_peer attach OBJ IFACE first|last DIR | order IFACE | count DIR | id DIR | xdplink PROG_ID IFACE DIR\n");
	return 2;
}
