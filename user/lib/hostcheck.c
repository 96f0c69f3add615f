// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The probes of `infergate check` (hostcheck.h). Read-only: files, statfs,
 * capget, BPF queries and netlink gets. The one thing loaded is a two-instruction
 * XDP program (never attached) that shows whether the JIT compiles, and
 * libbpf's helper probes load the like.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <libgen.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ig_abi.h"
#include "infergate.skel.h" /* after the ABI: it names our types */
#include "lib/hostcheck.h"
#include "lib/instance.h"
#include "lib/loader.h"
#include "lib/log.h"
#include "lib/names.h"

/* tcx (6.6) postdates the uapi headers of Debian bookworm, as in loader.c. */
#define HC_BPF_TCX_INGRESS 46
#define HC_BPF_TCX_EGRESS 47

/* The generic-netlink family "netdev" (6.3) postdates them too: what
 * linux/netdev.h defines, as much of it as is read here. */
#define HC_NETDEV_FAMILY "netdev"
#define HC_NETDEV_CMD_DEV_GET 1
#define HC_NETDEV_A_DEV_IFINDEX 1
#define HC_NETDEV_A_DEV_XDP_FEATURES 3 /* u64, NETDEV_XDP_ACT_* bits */
static const char *const xdp_feature_names[] = {
	"basic", "redirect", "ndo-xmit", "xsk-zerocopy", "hw-offload", "rx-sg", "ndo-xmit-sg",
};
#define HC_XDP_ACT_BASIC (1ULL << 0)
#define HC_XDP_ACT_RX_SG (1ULL << 5)

/* A single-buffer XDP program (ours: SEC("xdp"), not "xdp.frags") fits a frame
 * of one 4 KiB page: drivers refuse it above about this MTU (veth: 4096 minus
 * headroom and skb_shared_info). */
#define HC_XDP_MAX_MTU 3498

/* The libxdp multi-program dispatcher's program name. */
#define HC_XDP_DISPATCHER "xdp_dispatcher"

#define HC_MAX_PROGS 64

const char *ig_hc_status_name(enum ig_hc_status s)
{
	return s == IG_HC_OK ? "ok" : s == IG_HC_WARN ? "warn" : "fail";
}

__attribute__((format(printf, 5, 6))) static void add(struct ig_hc_report *r, const char *name,
						      enum ig_hc_status st, const char *fix,
						      const char *fmt, ...)
{
	struct ig_hc_item *it;
	va_list ap;

	if (r->n >= IG_HC_MAX_ITEMS)
		return;
	it = &r->items[r->n++];
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->status = st;
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
	snprintf(it->fix, sizeof(it->fix), "%s", st == IG_HC_OK || !fix ? "" : fix);
	if (st == IG_HC_FAIL)
		r->failed++;
	else if (st == IG_HC_WARN)
		r->warned++;
}

/* Appends to buf (always terminated). */
__attribute__((format(printf, 3, 4))) static void cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ host */

static int kernel_version(int *major, int *minor, char *release, size_t len)
{
	struct utsname u;

	if (uname(&u))
		return -errno;
	snprintf(release, len, "%s", u.release);
	if (sscanf(u.release, "%d.%d", major, minor) != 2)
		return -EINVAL;
	return 0;
}

static int kernel_at_least(int maj, int min)
{
	char rel[128];
	int a, b;

	if (kernel_version(&a, &b, rel, sizeof(rel)))
		return -1;
	return a > maj || (a == maj && b >= min);
}

static void check_kernel(struct ig_hc_report *r)
{
	char rel[128];
	int maj, min;

	if (kernel_version(&maj, &min, rel, sizeof(rel))) {
		add(r, "kernel", IG_HC_WARN, "Linux 6.6 or later is needed", "cannot read the version");
		return;
	}
	if (maj > 6 || (maj == 6 && min >= 6))
		add(r, "kernel", IG_HC_OK, NULL, "Linux %s (6.6 or later: tcx)", rel);
	else
		/* the egress program is a tcx link whatever the ingress hook:
		 * --hook xdp does not avoid tcx */
		add(r, "kernel", IG_HC_FAIL,
		    "Linux 6.6 or later (attach needs tcx for its egress program, with either hook)",
		    "Linux %s is older than 6.6: no tcx", rel);
}

static void check_btf(struct ig_hc_report *r)
{
	struct stat st;

	if (!stat("/sys/kernel/btf/vmlinux", &st))
		add(r, "btf", IG_HC_OK, NULL, "/sys/kernel/btf/vmlinux (%lld bytes)",
		    (long long)st.st_size);
	else
		add(r, "btf", IG_HC_FAIL,
		    "a kernel built with CONFIG_DEBUG_INFO_BTF=y (the data path is CO-RE)",
		    "/sys/kernel/btf/vmlinux: %s", strerror(errno));
}

/* Programs on a tcx hook of ifindex: their ids, the count or -errno. */
static int tcx_query(int ifindex, int attach, __u32 *ids, __u32 max)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = max);

	/* the query's target_fd is the kernel's target_ifindex for tcx */
	if (bpf_prog_query_opts(ifindex, (enum bpf_attach_type)attach, &q))
		return -errno;
	return (int)q.prog_cnt;
}

static void check_tcx(struct ig_hc_report *r, int ifindex)
{
	__u32 ids[HC_MAX_PROGS];
	int n = tcx_query(ifindex ? ifindex : 1 /* lo */, HC_BPF_TCX_INGRESS, ids, HC_MAX_PROGS);
	int newer = kernel_at_least(6, 6);

	if (n >= 0)
		add(r, "tcx", IG_HC_OK, NULL, "tcx links supported (probed: ingress query)");
	else if (n == -EINVAL || n == -EOPNOTSUPP)
		add(r, "tcx", IG_HC_FAIL, "Linux 6.6 or later",
		    "the kernel has no tcx (BPF_TCX_INGRESS query: %s)", strerror(-n));
	else
		add(r, "tcx", newer == 1 ? IG_HC_WARN : IG_HC_FAIL, "run check as root",
		    "cannot probe (%s); the kernel's version says %s", strerror(-n),
		    newer == 1 ? "yes" : "no");
}

static int jit_probe(void);

static void check_syncookies(struct ig_hc_report *r)
{
	static const struct {
		enum bpf_func_id id;
		const char *name;
	} helpers[] = {
		{ BPF_FUNC_tcp_raw_gen_syncookie_ipv4, "bpf_tcp_raw_gen_syncookie_ipv4" },
		{ BPF_FUNC_tcp_raw_gen_syncookie_ipv6, "bpf_tcp_raw_gen_syncookie_ipv6" },
		{ BPF_FUNC_tcp_raw_check_syncookie_ipv4, "bpf_tcp_raw_check_syncookie_ipv4" },
		{ BPF_FUNC_tcp_raw_check_syncookie_ipv6, "bpf_tcp_raw_check_syncookie_ipv6" },
	};
	static const struct {
		enum bpf_prog_type type;
		const char *name;
	} types[] = { { BPF_PROG_TYPE_XDP, "xdp" }, { BPF_PROG_TYPE_SCHED_CLS, "tc" } };
	char missing[256] = "", err[128] = "";
	int load = jit_probe();

	/* libbpf's probe takes a refused load for a supported helper */
	if (load < 0) {
		add(r, "syncookies", IG_HC_WARN, "run check as root",
		    "cannot probe the helpers: loading a program: %s", strerror(-load));
		return;
	}
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (size_t h = 0; h < sizeof(helpers) / sizeof(helpers[0]); h++) {
			int ok = libbpf_probe_bpf_helper(types[t].type, helpers[h].id, NULL);

			if (ok == 0)
				cat(missing, sizeof(missing), "%s%s (%s)", *missing ? ", " : "",
				    helpers[h].name, types[t].name);
			else if (ok < 0 && !*err)
				snprintf(err, sizeof(err), "%s", strerror(-ok));
		}
	if (*missing)
		add(r, "syncookies", IG_HC_FAIL,
		    "Linux 6.0 or later built with CONFIG_SYN_COOKIES=y (the data path calls them)",
		    "missing: %s", missing);
	else if (*err)
		add(r, "syncookies", IG_HC_WARN, "run check as root",
		    "cannot probe the helpers: %s", err);
	else
		add(r, "syncookies", IG_HC_OK, NULL,
		    "bpf_tcp_raw_{gen,check}_syncookie_ipv{4,6} for xdp and tc programs");
}

/* 1 when the kernel JIT-compiles a throwaway XDP program, 0 when not, -errno. */
static int jit_probe(void)
{
	/* r0 = XDP_PASS; exit */
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd, err;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "ig_check_jit", "GPL", insns, 2, NULL);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	return err ? err : info.jited_prog_len > 0;
}

static void check_jit(struct ig_hc_report *r)
{
	char sysctl[32] = "";
	int jit = jit_probe();
	FILE *f;

	/* net.core.bpf_jit_enable is the initial namespace's only */
	f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
	if (f) {
		if (fgets(sysctl, sizeof(sysctl), f))
			sysctl[strcspn(sysctl, "\n")] = '\0';
		fclose(f);
	}
	if (jit == 1)
		add(r, "jit", IG_HC_OK, NULL, "programs are JIT-compiled%s%s%s",
		    *sysctl ? " (bpf_jit_enable " : "", sysctl, *sysctl ? ")" : "");
	else if (jit == 0)
		add(r, "jit", IG_HC_WARN, "sysctl -w net.core.bpf_jit_enable=1",
		    "programs run in the interpreter (bpf_jit_enable %s): slower",
		    *sysctl ? sysctl : "unreadable");
	else if (*sysctl)
		add(r, "jit", !strcmp(sysctl, "0") ? IG_HC_WARN : IG_HC_OK,
		    "sysctl -w net.core.bpf_jit_enable=1", "bpf_jit_enable %s (cannot probe: %s)",
		    sysctl, strerror(-jit));
	else
		add(r, "jit", IG_HC_WARN, "run check as root", "cannot tell: %s", strerror(-jit));
}

static void check_bpffs(struct ig_hc_report *r, const char *pin_dir)
{
	char probe[512];
	const char *where = pin_dir;
	struct statfs st;

	snprintf(probe, sizeof(probe), "%s", pin_dir);
	if (statfs(pin_dir, &st)) {
		where = dirname(probe);
		if (statfs(where, &st)) {
			add(r, "bpffs", IG_HC_FAIL,
			    "mount -t bpf bpf /sys/fs/bpf, or a --pin-dir on a bpf filesystem",
			    "%s: %s (the pin dir %s is made in it)", where, strerror(errno), pin_dir);
			return;
		}
	}
	if (st.f_type == BPF_FS_MAGIC)
		add(r, "bpffs", IG_HC_OK, NULL, "%s is on a bpf filesystem%s", where,
		    where == pin_dir ? "" : " (attach makes the pin dir in it)");
	else
		add(r, "bpffs", IG_HC_FAIL,
		    "mount -t bpf bpf /sys/fs/bpf, or a --pin-dir on a bpf filesystem",
		    "%s is not on a bpf filesystem (type 0x%llx)", where,
		    (unsigned long long)st.f_type);
}

static void check_caps(struct ig_hc_report *r)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = { { CAP_BPF, "bpf" }, { CAP_NET_ADMIN, "net_admin" },
		     { CAP_PERFMON, "perfmon" }, { CAP_SYS_ADMIN, "sys_admin" } };
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};
	char have[128] = "", lack[128] = "";
	int has[4];
	uid_t uid = geteuid();

	if (syscall(SYS_capget, &h, d)) {
		add(r, "caps", IG_HC_WARN, "run check as root", "capget: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < 4; i++) {
		has[i] = !!(d[caps[i].cap / 32].effective & (1U << (caps[i].cap % 32)));
		cat(has[i] ? have : lack, 128, "%s%s", *(has[i] ? have : lack) ? " " : "",
		    caps[i].name);
	}
	if (uid != 0)
		add(r, "caps", IG_HC_FAIL, "run infergate as root",
		    "uid %u: infergate's commands refuse to run as anyone but root (effective: "
		    "%s%s%s)", (unsigned)uid, *have ? have : "none", *lack ? "; missing: " : "", lack);
	else if (!has[1] || (!has[0] && !has[3]))
		add(r, "caps", IG_HC_FAIL,
		    "grant CAP_BPF and CAP_NET_ADMIN (a container: --cap-add BPF --cap-add NET_ADMIN)",
		    "uid 0 without %s%s%s (effective: %s)", !has[0] && !has[3] ? "CAP_BPF" : "",
		    !has[0] && !has[3] && !has[1] ? " and " : "", !has[1] ? "CAP_NET_ADMIN" : "",
		    *have ? have : "none");
	else if (!has[2] || !has[3])
		add(r, "caps", IG_HC_WARN,
		    "grant CAP_PERFMON and CAP_SYS_ADMIN too (other programs' names, full verifier)",
		    "uid 0; effective: %s; missing: %s", have, lack);
	else
		add(r, "caps", IG_HC_OK, NULL, "uid 0; effective: %s", have);
}

static void check_clock(struct ig_hc_report *r)
{
	unsigned long hz = ig_kernel_hz();
	__u32 clock;
	__u64 tick_ns;

	ig_pick_clock(&clock, &tick_ns);
	if (clock == IG_CLOCK_TICK)
		add(r, "clock", IG_HC_OK, NULL, "%s: jiffies at HZ %lu, %llu ns a tick",
		    ig_clock_name((enum ig_clock)clock), hz, (unsigned long long)tick_ns);
	else
		add(r, "clock", IG_HC_OK, NULL,
		    "%s: bpf_ktime_get_coarse_ns (kernel HZ unknown: no /proc/config.gz or "
		    "/boot/config-RELEASE)", ig_clock_name((enum ig_clock)clock));
}

/* ---------------------------------------------------------- pinned state */

/* The link pinned at path: its program and interface; -errno. */
static int link_info(const char *path, __u32 *prog_id, __u32 *ifindex)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (!err) {
		*prog_id = info.prog_id;
		*ifindex = info.xdp.ifindex; /* xdp and tcx link info both open with it */
	}
	return err;
}

static void check_pinned(struct ig_hc_report *r, const char *pin_dir)
{
	static const char fix_layout[] =
		"see the upgrade notes (user/README.md, Restart and upgrade); else "
		"'infergate detach IFACE --purge' and attach again";
	char path[512], missing[160] = "", bad[200] = "", clock[96] = "", links[160] = "";
	int present = 0, nmissing = 0, nbad = 0, old_counters = 0, open_err = 0;
	struct ig_attachment att[16];
	struct infergate *skel;
	__u32 sets = 0, flows = 0;
	struct stat st;
	int natt;

	if (stat(pin_dir, &st)) {
		if (errno == ENOENT)
			add(r, "pinned", IG_HC_OK, NULL, "nothing pinned in %s (attach makes it)",
			    pin_dir);
		else
			add(r, "pinned", IG_HC_WARN, "run check as root", "%s: %s", pin_dir,
			    strerror(errno));
		return;
	}
	/* this binary's layout: its own object, opened (parsed), not loaded */
	skel = infergate__open();
	if (!skel) {
		add(r, "pinned", IG_HC_WARN, "report a bug: the embedded object does not open",
		    "cannot open this binary's BPF object: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < IG_MAP_COUNT; i++) {
		const char *name = ig_map_name((enum ig_map_id)i);
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, name);
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd;

		if (ig_path(path, sizeof(path), pin_dir, name))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (errno == ENOENT) {
				cat(missing, sizeof(missing), "%s%s", nmissing ? ", " : "", name);
				nmissing++;
			} else if (!open_err) {
				open_err = errno;
			}
			continue;
		}
		present++;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			open_err = open_err ? open_err : errno;
			close(fd);
			continue;
		}
		if (i == IG_MAP_SEED) {
			__u32 key = IG_SEED_KEY_CLOCK, c;
			struct ig_seed s = {};
			__u64 tick;

			if (info.value_size == sizeof(s) && !bpf_map_lookup_elem(fd, &key, &s) &&
			    !ig_clock_unrecord(s.value, &c, &tick))
				snprintf(clock, sizeof(clock), "clock %s recorded (%llu ns a tick)",
					 ig_clock_name((enum ig_clock)c), (unsigned long long)tick);
			else
				snprintf(clock, sizeof(clock), "no clock recorded (attach records it)");
		}
		close(fd);
		if (i == IG_MAP_SOURCES)
			sets = info.max_entries;
		if (i == IG_MAP_FLOWS)
			flows = info.max_entries;
		if (m && info.type == (__u32)bpf_map__type(m) &&
		    info.key_size == bpf_map__key_size(m) && info.value_size == bpf_map__value_size(m))
			continue;
		/* 0.4's counters: attach replaces them (replace_old_counters) */
		if (m && i == IG_MAP_PORT_STATS && info.type == (__u32)bpf_map__type(m) &&
		    info.key_size == bpf_map__key_size(m)) {
			old_counters = 1;
			continue;
		}
		if (!nbad)
			snprintf(bad, sizeof(bad),
				 "map %s has another layout (type %u, key %u, value %u bytes; this "
				 "infergate expects %u, %u, %u)", name, info.type, info.key_size,
				 info.value_size, m ? (unsigned)bpf_map__type(m) : 0,
				 m ? bpf_map__key_size(m) : 0, m ? bpf_map__value_size(m) : 0);
		else
			cat(bad, sizeof(bad), "%s%s", nbad == 1 ? "; also " : ", ", name);
		nbad++;
	}
	infergate__destroy(skel);

	natt = ig_list_attachments(pin_dir, att, 16);
	for (int i = 0; i < natt; i++)
		cat(links, sizeof(links), "%s%s %s (%s)", i ? ", " : "", ig_hook_name(att[i].hook),
		    att[i].ifname, att[i].mode);

	if (nbad)
		add(r, "pinned", IG_HC_FAIL, fix_layout,
		    "%s: %s: made by another version of infergate", pin_dir, bad);
	else if (open_err && !present)
		add(r, "pinned", IG_HC_WARN, "run check as root", "%s: cannot open its maps: %s",
		    pin_dir, strerror(open_err));
	else if (!present)
		add(r, "pinned", IG_HC_OK, NULL, "%s exists, no map pinned in it%s%s", pin_dir,
		    natt > 0 ? "; links: " : "", natt > 0 ? links : "");
	else if (nmissing)
		add(r, "pinned", IG_HC_WARN,
		    "'infergate attach IFACE' upgrades it in place (the agent does when it starts)",
		    "%s: an instance of an older infergate (no map %s)", pin_dir, missing);
	else if (old_counters)
		add(r, "pinned", IG_HC_WARN,
		    "'infergate attach IFACE' replaces them; they restart from zero",
		    "%s: counters (port_stats) of an older release", pin_dir);
	else
		add(r, "pinned", IG_HC_OK, NULL,
		    "%s: %d maps in the layout of infergate %s; sized for %u sources, %u flows; %s; %s%s",
		    pin_dir, present, IG_VERSION, sets, flows, clock,
		    natt > 0 ? "attached: " : "not attached", natt > 0 ? links : "");
}

/* ------------------------------------------------------------- interface */

/* A program's name by id ("?" when it cannot be read). */
static void prog_name(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(buf, len, "?");
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen) && info.name[0])
		snprintf(buf, len, "%.*s", (int)sizeof(info.name), info.name);
	close(fd);
}

static int ioctl_if(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr))
		err = -errno;
	close(fd);
	return err;
}

/* One request to a generic-netlink family and its reply's attributes copied
 * into resp; returns their length or -errno. */
static int genl_get(__u16 family, __u8 cmd, __u8 version, __u16 attr, const void *data,
		    __u16 dlen, char *resp, size_t rlen)
{
	struct {
		struct nlmsghdr nh;
		struct genlmsghdr g;
		char attrs[64];
	} req = {};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[8192];
	struct nlattr *a = (struct nlattr *)req.attrs;
	struct nlmsghdr *nh;
	ssize_t n;
	int fd, err;

	if ((size_t)NLA_HDRLEN + dlen > sizeof(req.attrs))
		return -E2BIG;
	a->nla_type = attr;
	a->nla_len = (__u16)(NLA_HDRLEN + dlen);
	memcpy((char *)a + NLA_HDRLEN, data, dlen);
	req.nh.nlmsg_len = (__u32)(NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(a->nla_len));
	req.nh.nlmsg_type = family;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.g.cmd = cmd;
	req.g.version = version;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	{
		struct timeval tv = { .tv_sec = 2 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	nh = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(nh, (size_t)n))
		return -EBADMSG;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(nh);

		return e->error ? e->error : -ENODATA;
	}
	if (nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return -EBADMSG;
	n = (ssize_t)(nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN));
	if ((size_t)n > rlen)
		n = (ssize_t)rlen;
	memcpy(resp, (char *)NLMSG_DATA(nh) + GENL_HDRLEN, (size_t)n);
	return (int)n;
}

/* The attribute `type` among attrs, or NULL. */
static const struct nlattr *nla_find(const char *attrs, int len, __u16 type)
{
	for (int off = 0; off + NLA_HDRLEN <= len;) {
		const struct nlattr *a = (const struct nlattr *)(attrs + off);

		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		off += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

/* The interface's xdp_features (netdev family, 6.3+): 0 or -errno. */
static int xdp_features(int ifindex, __u64 *feat)
{
	char resp[4096];
	const struct nlattr *a;
	__u32 idx = (__u32)ifindex;
	__u16 family;
	int n;

	n = genl_get(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, CTRL_ATTR_FAMILY_NAME, HC_NETDEV_FAMILY,
		     sizeof(HC_NETDEV_FAMILY), resp, sizeof(resp));
	if (n < 0)
		return n;
	a = nla_find(resp, n, CTRL_ATTR_FAMILY_ID);
	if (!a || a->nla_len < NLA_HDRLEN + sizeof(__u16))
		return -ENOENT;
	memcpy(&family, (const char *)a + NLA_HDRLEN, sizeof(family));
	n = genl_get(family, HC_NETDEV_CMD_DEV_GET, 1, HC_NETDEV_A_DEV_IFINDEX, &idx, sizeof(idx),
		     resp, sizeof(resp));
	if (n < 0)
		return n;
	a = nla_find(resp, n, HC_NETDEV_A_DEV_XDP_FEATURES);
	if (!a || a->nla_len < NLA_HDRLEN + sizeof(__u64))
		return -ENODATA;
	memcpy(feat, (const char *)a + NLA_HDRLEN, sizeof(*feat));
	return 0;
}

struct own_links {
	__u32 xdp, tc, egress; /* prog ids of our live links on the interface; 0: none */
	char stale[160];       /* pins whose link no longer drives the interface */
};

static void own_links(const char *pin_dir, const char *ifname, int ifindex, struct own_links *o)
{
	static const char *const kinds[] = { "xdp", "tc", "egress" };
	__u32 *ids[] = { &o->xdp, &o->tc, &o->egress };

	memset(o, 0, sizeof(*o));
	for (int k = 0; k < 3; k++) {
		char name[64], path[512];
		__u32 prog = 0, idx = 0;

		snprintf(name, sizeof(name), "link_%s_%s", kinds[k], ifname);
		if (ig_path(path, sizeof(path), pin_dir, name) || access(path, F_OK))
			continue;
		if (!link_info(path, &prog, &idx) && idx == (__u32)ifindex)
			*ids[k] = prog;
		else
			cat(o->stale, sizeof(o->stale), "%s%s", *o->stale ? ", " : "", name);
	}
}

static void check_xdp_progs(struct ig_hc_report *r, const char *ifname, int ifindex,
			    const struct own_links *own)
{
	static const char *const modes[] = { "native", "generic", "offload" };
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char others[256] = "", name[32];
	int nothers = 0, dispatcher = 0, err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err) {
		add(r, "xdp/progs", IG_HC_WARN, "run check as root", "cannot query %s's XDP hook: %s",
		    ifname, strerror(-err));
		return;
	}
	{
		__u32 ids[3] = { q.drv_prog_id, q.skb_prog_id, q.hw_prog_id };

		for (int i = 0; i < 3; i++) {
			if (!ids[i] || ids[i] == own->xdp)
				continue;
			prog_name(ids[i], name, sizeof(name));
			if (!strcmp(name, HC_XDP_DISPATCHER))
				dispatcher = 1;
			cat(others, sizeof(others), "%sid %u %s (%s)", nothers ? ", " : "", ids[i],
			    name, modes[i]);
			nothers++;
		}
	}
	if (dispatcher)
		add(r, "xdp/progs", IG_HC_WARN,
		    "--hook tc (infergate's XDP link does not join libxdp's dispatcher), or detach it",
		    "libxdp's multi-program dispatcher holds %s's XDP hook: %s", ifname, others);
	else if (nothers)
		add(r, "xdp/progs", IG_HC_WARN, "--hook tc, or detach it",
		    "another XDP program holds %s's XDP hook: %s", ifname, others);
	else
		add(r, "xdp/progs", IG_HC_OK, NULL, "no other XDP program on %s%s", ifname,
		    own->xdp ? " (infergate's own only)" : "");
}

static void check_tcx_progs(struct ig_hc_report *r, const char *ifname, int ifindex,
			    const struct own_links *own, int egress)
{
	__u32 ids[HC_MAX_PROGS];
	char others[256] = "", name[32];
	int n = tcx_query(ifindex, egress ? HC_BPF_TCX_EGRESS : HC_BPF_TCX_INGRESS, ids,
			  HC_MAX_PROGS), nothers = 0;
	const char *item = egress ? "tcx/egress" : "tcx/ingress";

	if (n < 0) {
		add(r, item, IG_HC_WARN, "run check as root on Linux 6.6 or later",
		    "cannot query %s: %s", ifname, strerror(-n));
		return;
	}
	for (int i = 0; i < n && i < HC_MAX_PROGS; i++) {
		if (ids[i] == (egress ? own->egress : own->tc))
			continue;
		prog_name(ids[i], name, sizeof(name));
		cat(others, sizeof(others), "%sid %u %s", nothers ? ", " : "", ids[i], name);
		nothers++;
	}
	if (nothers)
		add(r, item, IG_HC_OK, NULL, "%d other program%s on %s, run in order with infergate's: %s",
		    nothers, nothers > 1 ? "s" : "", ifname, others);
	else
		add(r, item, IG_HC_OK, NULL, "no other tcx program on %s", ifname);
}

static void check_iface(struct ig_hc_report *r, const char *pin_dir, const char *ifname)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct own_links own;
	struct ifreq ifr;
	__u64 feat = 0;
	int ifindex, err, mtu = 0, flags = 0;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		add(r, "iface", IG_HC_FAIL, "the name as 'ip link' lists it in this network namespace",
		    "no such interface: %s", ifname);
		return;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (!ioctl_if(ifname, SIOCGIFFLAGS, &ifr))
		flags = ifr.ifr_flags;
	memset(&ifr, 0, sizeof(ifr));
	if (!ioctl_if(ifname, SIOCGIFMTU, &ifr))
		mtu = ifr.ifr_mtu;
	add(r, "iface", IG_HC_OK, NULL, "%s: index %d, %s, MTU %d", ifname, ifindex,
	    flags & IFF_UP ? "up" : "down", mtu);

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (char *)&di;
	err = ioctl_if(ifname, SIOCETHTOOL, &ifr);
	if (!err)
		add(r, "driver", IG_HC_OK, NULL, "%.*s%s%.*s%s%.*s", (int)sizeof(di.driver),
		    di.driver, *di.version ? " " : "", (int)sizeof(di.version), di.version,
		    *di.bus_info ? ", bus " : "", (int)sizeof(di.bus_info), di.bus_info);
	else
		add(r, "driver", IG_HC_OK, NULL, "not reported (ethtool: %s)", strerror(-err));

	err = xdp_features(ifindex, &feat);
	if (err) {
		const char *why = err == -ENOENT ? "no netdev netlink family: Linux before 6.3"
						 : strerror(-err);

		add(r, "xdp/native", IG_HC_WARN,
		    "attach natively; if the driver refuses, --xdp-mode generic or --hook tc",
		    "cannot read the driver's xdp_features (%s)", why);
		add(r, "xdp/multibuf", IG_HC_OK, NULL, "unknown (%s)", why);
	} else {
		char names[160] = "";

		for (size_t b = 0; b < sizeof(xdp_feature_names) / sizeof(xdp_feature_names[0]); b++)
			if (feat & (1ULL << b))
				cat(names, sizeof(names), "%s%s", *names ? " " : "",
				    xdp_feature_names[b]);
		if (feat & HC_XDP_ACT_BASIC)
			add(r, "xdp/native", IG_HC_OK, NULL, "native XDP (xdp_features: %s)", names);
		else
			add(r, "xdp/native", IG_HC_WARN, "--xdp-mode generic, or --hook tc",
			    "the driver has no native XDP (xdp_features: %s)",
			    *names ? names : "none");
		add(r, "xdp/multibuf", IG_HC_OK, NULL, "%s; infergate's XDP program is single-buffer",
		    feat & HC_XDP_ACT_RX_SG ? "the driver takes multi-buffer frames (rx-sg)"
					    : "the driver has no multi-buffer XDP (rx-sg)");
	}

	own_links(pin_dir, ifname, ifindex, &own);
	if (*own.stale)
		add(r, "attached", IG_HC_WARN, "'infergate detach IFACE', or attach again (it replaces them)",
		    "stale pins in %s: %s (their links no longer drive %s)", pin_dir, own.stale, ifname);
	else if (own.xdp || own.tc)
		add(r, "attached", IG_HC_OK, NULL, "infergate attached to %s: %s (prog %u)%s", ifname,
		    own.xdp ? "xdp" : "tc", own.xdp ? own.xdp : own.tc,
		    own.egress ? ", egress tcx" : ", no egress program (attach again adds it)");
	else
		add(r, "attached", IG_HC_OK, NULL, "infergate is not attached to %s", ifname);

	check_xdp_progs(r, ifname, ifindex, &own);
	check_tcx_progs(r, ifname, ifindex, &own, 0);
	check_tcx_progs(r, ifname, ifindex, &own, 1);

	if (mtu > HC_XDP_MAX_MTU)
		add(r, "mtu", IG_HC_WARN, "--hook tc, or an MTU of 3498 or less for XDP",
		    "MTU %d: more than one page's frame; drivers refuse a single-buffer XDP program",
		    mtu);
	else
		add(r, "mtu", IG_HC_OK, NULL, "MTU %d fits XDP's single-buffer frames (<= %d)", mtu,
		    HC_XDP_MAX_MTU);
}

int ig_hostcheck(const char *pin_dir, const char *ifname, struct ig_hc_report *r)
{
	int ifindex = ifname ? (int)if_nametoindex(ifname) : 0;

	memset(r, 0, sizeof(*r));
	check_kernel(r);
	check_btf(r);
	check_tcx(r, ifindex);
	check_syncookies(r);
	check_jit(r);
	check_bpffs(r, pin_dir);
	check_caps(r);
	check_clock(r);
	check_pinned(r, pin_dir);
	if (ifname)
		check_iface(r, pin_dir, ifname);
	return 0;
}
