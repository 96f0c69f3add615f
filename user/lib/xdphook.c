// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include "lib/xdphook.h"
#include "lib/log.h"

#define IG_BPF_LINK_TYPE_XDP 6

void ig_prog_name(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(name, len, "?");
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%.*s", (int)sizeof(info.name), info.name);
	close(fd);
}

/* The XDP link on IFINDEX, if any: walking every link is slow on a host with
 * thousands, but it is done once per attach, never on a packet. */
static __u32 xdp_link_of(int ifindex)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == IG_BPF_LINK_TYPE_XDP &&
		    (int)info.xdp.ifindex == ifindex) {
			close(fd);
			return id;
		}
		close(fd);
	}
	return 0;
}

int ig_xdp_holder(int ifindex, struct ig_hook_prog *out)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	memset(out, 0, sizeof(*out));
	if (bpf_xdp_query(ifindex, 0, &q))
		return -errno;
	switch (q.attach_mode) {
	case XDP_ATTACHED_NONE:
		return 0;
	case XDP_ATTACHED_DRV:
		out->id = q.drv_prog_id, out->mode = "native";
		break;
	case XDP_ATTACHED_SKB:
		out->id = q.skb_prog_id, out->mode = "generic";
		break;
	case XDP_ATTACHED_HW:
		out->id = q.hw_prog_id, out->mode = "offload";
		break;
	default: /* several modes at once: report the one that runs first */
		out->id = q.hw_prog_id ? q.hw_prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
		out->mode = q.hw_prog_id ? "offload" : q.drv_prog_id ? "native" : "generic";
	}
	ig_prog_name(out->id, out->name, sizeof(out->name));
	out->dispatcher = !strcmp(out->name, IG_XDP_DISPATCHER_NAME);
	out->link_id = xdp_link_of(ifindex);
	return 1;
}

const char *ig_hook_prog_str(const struct ig_hook_prog *p, char *buf, size_t len)
{
	char lk[32] = "";

	if (p->link_id)
		snprintf(lk, sizeof(lk), ", bpf_link %u", p->link_id);
	snprintf(buf, len, "ID %u '%s' (%s%s%s)", p->id, p->name, p->mode,
		 p->dispatcher ? ", libxdp dispatcher" : "", lk);
	return buf;
}

int ig_xdp_take(int ifindex, const char *ifname, const struct ig_hook_prog *p)
{
	char what[96];
	int fd, err = 0;

	ig_hook_prog_str(p, what, sizeof(what));
	if (p->link_id) {
		fd = bpf_link_get_fd_by_id(p->link_id);
		if (fd < 0 || bpf_link_detach(fd))
			err = -errno;
		if (fd >= 0)
			close(fd);
	} else {
		LIBBPF_OPTS(bpf_xdp_attach_opts, a);
		__u32 flags = XDP_FLAGS_REPLACE;

		fd = bpf_prog_get_fd_by_id(p->id);
		if (fd < 0) {
			err = -errno;
		} else {
			/* REPLACE with the old fd: refused if the program changed
			 * since we looked, so we never detach something unseen. */
			a.old_prog_fd = fd;
			flags |= !strcmp(p->mode, "generic") ? XDP_FLAGS_SKB_MODE :
				 !strcmp(p->mode, "offload") ? XDP_FLAGS_HW_MODE : XDP_FLAGS_DRV_MODE;
			if (bpf_xdp_attach(ifindex, -1, flags, &a))
				err = -errno;
			close(fd);
		}
	}
	if (err) {
		ig_err("%s: cannot detach XDP program %s: %s", ifname, what, strerror(-err));
		return err;
	}
	ig_warn("%s: detached XDP program %s to take the hook (--replace)", ifname, what);
	return 0;
}

int ig_tcx_list(int ifindex, int egress, struct ig_hook_prog *out, int max)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q);
	__u32 ids[64];
	int n;

	q.prog_ids = ids;
	q.prog_cnt = max < 64 ? (__u32)max : 64;
	/* tcx reads its target ifindex where older hooks read a target fd */
	if (bpf_prog_query_opts(ifindex, egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, &q))
		return errno == ENOENT ? 0 : -errno;
	n = (int)q.prog_cnt;
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].id = ids[i];
		out[i].mode = "tcx";
		ig_prog_name(ids[i], out[i].name, sizeof(out[i].name));
	}
	return n;
}

/*
 * libxdp's dispatcher runs each program as an freplace extension, attached
 * through a BPF trampoline. Probed with the smallest trampoline program, an
 * fentry on bpf_fentry_test1 (there for exactly such tests): loaded, never
 * attached. On Linux 6.18 with lockdown in integrity mode (this project's VM
 * kind) the load fails with EPERM before the verifier runs.
 */
int ig_trampolines_work(int *err)
{
	const struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY);
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id, fd;

	*err = 0;
	if (!vmlinux) {
		*err = -errno;
		return 0;
	}
	id = btf__find_by_name_kind(vmlinux, "bpf_fentry_test1", BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id < 0) {
		*err = -ENOENT;
		return 0;
	}
	o.attach_btf_id = (__u32)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ig_probe_tramp", "GPL", prog, 2, &o);
	if (fd < 0) {
		*err = -errno;
		return 0;
	}
	close(fd);
	return 1;
}
