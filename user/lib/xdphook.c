// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include "lib/xdphook.h"
#include "lib/log.h"

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

/*
 * The bpf_link holding PROG_ID on IFINDEX's XDP hook, if any. An ifindex is
 * only unique within its network namespace, and an XDP link's info gives no
 * namespace: matched by index alone, another namespace's link (a container's,
 * or a test's beside this one) was taken for this hook, and --replace
 * detached it. The program must match too. Were the same program linked to
 * same-index interfaces of two namespaces, which link is this hook's cannot
 * be told: *ambiguous is set and no link is returned.
 * Walking every link is slow on a host with thousands, but it is done once
 * per attach, never on a packet.
 */
static __u32 xdp_link_of(int ifindex, __u32 prog_id, int *ambiguous)
{
	__u32 id = 0, found = 0;

	*ambiguous = 0;
	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_XDP &&
		    (int)info.xdp.ifindex == ifindex && info.prog_id == prog_id) {
			if (found)
				*ambiguous = 1;
			found = id;
		}
		close(fd);
	}
	return *ambiguous ? 0 : found;
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
	out->link_id = xdp_link_of(ifindex, out->id, &out->link_ambiguous);
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

/* Detach P from IFINDEX's hook by netlink: REPLACE with the old fd is refused
 * if the program changed since we looked, so nothing unseen is detached. */
static int xdp_netlink_detach(int ifindex, const struct ig_hook_prog *p)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, a);
	__u32 flags = XDP_FLAGS_REPLACE;
	int fd = bpf_prog_get_fd_by_id(p->id), err = 0;

	if (fd < 0)
		return -errno;
	a.old_prog_fd = fd;
	flags |= !strcmp(p->mode, "generic") ? XDP_FLAGS_SKB_MODE :
		 !strcmp(p->mode, "offload") ? XDP_FLAGS_HW_MODE : XDP_FLAGS_DRV_MODE;
	if (bpf_xdp_attach(ifindex, -1, flags, &a))
		err = -errno;
	close(fd);
	return err;
}

/*
 * By netlink first: when a bpf_link holds this hook the kernel refuses that
 * with EBUSY, before changing anything. Only then is a link detached, and it
 * is surely this hook's: the one link of this index and program there is
 * (another namespace's may match as well, see xdp_link_of, and then none is
 * chosen).
 */
int ig_xdp_take(int ifindex, const char *ifname, const struct ig_hook_prog *p)
{
	char what[96];
	int fd, err;

	ig_hook_prog_str(p, what, sizeof(what));
	err = xdp_netlink_detach(ifindex, p);
	if (err == -EBUSY && p->link_ambiguous) {
		ig_err("%s: cannot detach XDP program %s: a bpf_link holds it, and the same "
		       "program is linked to an interface of this index in another network "
		       "namespace too; detach it with the tool that attached it", ifname, what);
		return err;
	}
	if (err == -EBUSY && p->link_id) {
		fd = bpf_link_get_fd_by_id(p->link_id);
		err = fd < 0 || bpf_link_detach(fd) ? -errno : 0;
		if (fd >= 0)
			close(fd);
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

int ig_parse_tc_place(const char *s, struct ig_tc_place *out)
{
	const char *name = NULL;

	memset(out, 0, sizeof(*out));
	if (!strcmp(s, "first")) {
		out->pos = IG_TC_FIRST;
	} else if (!strcmp(s, "last")) {
		out->pos = IG_TC_LAST;
	} else if (!strncmp(s, "before:", 7)) {
		out->pos = IG_TC_BEFORE, name = s + 7;
	} else if (!strncmp(s, "after:", 6)) {
		out->pos = IG_TC_AFTER, name = s + 6;
	} else {
		return -EINVAL;
	}
	if (name) {
		/* the kernel keeps 15 characters of a program's name */
		if (!*name || strlen(name) >= sizeof(out->anchor) || strpbrk(name, " \t"))
			return -EINVAL;
		snprintf(out->anchor, sizeof(out->anchor), "%s", name);
	}
	return 0;
}

const char *ig_tc_place_str(const struct ig_tc_place *p, char *buf, size_t len)
{
	static const char *const words[] = { "first", "last", "before:", "after:" };

	snprintf(buf, len, "%s%s", words[p->pos], p->pos >= IG_TC_BEFORE ? p->anchor : "");
	return buf;
}

/* The anchor's id among the programs of one direction, 0 when it is not there. */
static __u32 tc_anchor_id(int ifindex, int egress, const char *anchor, char *names, size_t len)
{
	struct ig_hook_prog progs[64];
	char *end;
	unsigned long id = strtoul(anchor, &end, 10);
	int n = ig_tcx_list(ifindex, egress, progs, 64);

	names[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t used = strlen(names);

		if ((!*end && progs[i].id == id) || (*end && !strcmp(progs[i].name, anchor)))
			return progs[i].id;
		snprintf(names + used, len - used, "%s%s (id %u)", used ? ", " : "", progs[i].name,
			 progs[i].id);
	}
	return 0;
}

int ig_tc_place_check(int ifindex, const char *ifname, const struct ig_tc_place *place)
{
	char names[256], where[32];

	if (place->pos < IG_TC_BEFORE || tc_anchor_id(ifindex, 0, place->anchor, names, sizeof(names)))
		return 0;
	ig_err("%s: no tcx ingress program '%s' for --tc-position %s; the programs there: %s",
	       ifname, place->anchor, ig_tc_place_str(place, where, sizeof(where)),
	       *names ? names : "none");
	return -ENOENT;
}

int ig_tcx_link_create(int prog_fd, int ifindex, const char *ifname, int egress,
		       const struct ig_tc_place *place)
{
	char names[256];
	union bpf_attr attr;
	__u32 flags, rel = 0;
	int fd;

	flags = place->pos == IG_TC_LAST || place->pos == IG_TC_AFTER ? BPF_F_AFTER : BPF_F_BEFORE;
	if (place->pos >= IG_TC_BEFORE) {
		rel = tc_anchor_id(ifindex, egress, place->anchor, names, sizeof(names));
		if (!rel && !egress)
			return ig_tc_place_check(ifindex, ifname, place);
	}
	/*
	 * tcx's relative id sits where Debian bookworm's uapi header (6.1) has
	 * link_create.target_btf_id, and libbpf 1.1 cannot pass it for tcx: the
	 * syscall is made here. Without an anchor, BPF_F_BEFORE or BPF_F_AFTER
	 * alone means the front or the end of the list.
	 */
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (__u32)prog_fd;
	attr.link_create.target_fd = (__u32)ifindex;
	attr.link_create.attach_type = egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS;
	attr.link_create.flags = flags | (rel ? BPF_F_ID : 0);
	attr.link_create.target_btf_id = rel;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}
