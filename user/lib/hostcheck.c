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
#include <libgen.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ig_abi.h"
#include "infergate.skel.h" /* after the ABI: it names our types */
#include "lib/hostcheck.h"
#include "lib/instance.h"
#include "lib/loader.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/xdphook.h"

const char *ig_hc_status_name(enum ig_hc_status s)
{
	return s == IG_HC_OK ? "ok" : s == IG_HC_WARN ? "warn" : "fail";
}

void ig_hc_add(struct ig_hc_report *r, const char *name, enum ig_hc_status st, const char *fix,
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
void ig_hc_cat(char *buf, size_t len, const char *fmt, ...)
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
		ig_hc_add(r, "kernel", IG_HC_WARN, "Linux 6.6 or later is needed", "cannot read the version");
		return;
	}
	if (maj > 6 || (maj == 6 && min >= 6))
		ig_hc_add(r, "kernel", IG_HC_OK, NULL, "Linux %s (6.6 or later: tcx)", rel);
	else
		/* the egress program is a tcx link whatever the ingress hook:
		 * --hook xdp does not avoid tcx */
		ig_hc_add(r, "kernel", IG_HC_FAIL,
		    "Linux 6.6 or later (attach needs tcx for its egress program, with either hook)",
		    "Linux %s is older than 6.6: no tcx", rel);
}

static void check_btf(struct ig_hc_report *r)
{
	struct stat st;

	if (!stat("/sys/kernel/btf/vmlinux", &st))
		ig_hc_add(r, "btf", IG_HC_OK, NULL, "/sys/kernel/btf/vmlinux (%lld bytes)",
		    (long long)st.st_size);
	else
		ig_hc_add(r, "btf", IG_HC_FAIL,
		    "a kernel built with CONFIG_DEBUG_INFO_BTF=y (the data path is CO-RE)",
		    "/sys/kernel/btf/vmlinux: %s", strerror(errno));
}

static void check_tcx(struct ig_hc_report *r, int ifindex)
{
	struct ig_hook_prog progs[8];
	/* a query only: reading lo's list attaches nothing */
	int n = ig_tcx_list(ifindex ? ifindex : 1, 0, progs, 8);
	int newer = kernel_at_least(6, 6);

	if (n >= 0)
		ig_hc_add(r, "tcx", IG_HC_OK, NULL, "tcx links supported (probed: ingress query)");
	else if (n == -EINVAL || n == -EOPNOTSUPP)
		ig_hc_add(r, "tcx", IG_HC_FAIL, "Linux 6.6 or later",
		    "the kernel has no tcx (BPF_TCX_INGRESS query: %s)", strerror(-n));
	else
		ig_hc_add(r, "tcx", newer == 1 ? IG_HC_WARN : IG_HC_FAIL, "run check as root",
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
		ig_hc_add(r, "syncookies", IG_HC_WARN, "run check as root",
		    "cannot probe the helpers: loading a program: %s", strerror(-load));
		return;
	}
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (size_t h = 0; h < sizeof(helpers) / sizeof(helpers[0]); h++) {
			int ok = libbpf_probe_bpf_helper(types[t].type, helpers[h].id, NULL);

			if (ok == 0)
				ig_hc_cat(missing, sizeof(missing), "%s%s (%s)", *missing ? ", " : "",
				    helpers[h].name, types[t].name);
			else if (ok < 0 && !*err)
				snprintf(err, sizeof(err), "%s", strerror(-ok));
		}
	if (*missing)
		ig_hc_add(r, "syncookies", IG_HC_FAIL,
		    "Linux 6.0 or later built with CONFIG_SYN_COOKIES=y (the data path calls them)",
		    "missing: %s", missing);
	else if (*err)
		ig_hc_add(r, "syncookies", IG_HC_WARN, "run check as root",
		    "cannot probe the helpers: %s", err);
	else
		ig_hc_add(r, "syncookies", IG_HC_OK, NULL,
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
		ig_hc_add(r, "jit", IG_HC_OK, NULL, "programs are JIT-compiled%s%s%s",
		    *sysctl ? " (bpf_jit_enable " : "", sysctl, *sysctl ? ")" : "");
	else if (jit == 0)
		ig_hc_add(r, "jit", IG_HC_WARN, "sysctl -w net.core.bpf_jit_enable=1",
		    "programs run in the interpreter (bpf_jit_enable %s): slower",
		    *sysctl ? sysctl : "unreadable");
	else if (*sysctl)
		ig_hc_add(r, "jit", !strcmp(sysctl, "0") ? IG_HC_WARN : IG_HC_OK,
		    "sysctl -w net.core.bpf_jit_enable=1", "bpf_jit_enable %s (cannot probe: %s)",
		    sysctl, strerror(-jit));
	else
		ig_hc_add(r, "jit", IG_HC_WARN, "run check as root", "cannot tell: %s", strerror(-jit));
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
			ig_hc_add(r, "bpffs", IG_HC_FAIL,
			    "mount -t bpf bpf /sys/fs/bpf, or a --pin-dir on a bpf filesystem",
			    "%s: %s (the pin dir %s is made in it)", where, strerror(errno), pin_dir);
			return;
		}
	}
	if (st.f_type == BPF_FS_MAGIC)
		ig_hc_add(r, "bpffs", IG_HC_OK, NULL, "%s is on a bpf filesystem%s", where,
		    where == pin_dir ? "" : " (attach makes the pin dir in it)");
	else
		ig_hc_add(r, "bpffs", IG_HC_FAIL,
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
		ig_hc_add(r, "caps", IG_HC_WARN, "run check as root", "capget: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < 4; i++) {
		has[i] = !!(d[caps[i].cap / 32].effective & (1U << (caps[i].cap % 32)));
		ig_hc_cat(has[i] ? have : lack, 128, "%s%s", *(has[i] ? have : lack) ? " " : "",
		    caps[i].name);
	}
	if (uid != 0)
		ig_hc_add(r, "caps", IG_HC_FAIL, "run infergate as root",
		    "uid %u: infergate's commands refuse to run as anyone but root (effective: "
		    "%s%s%s)", (unsigned)uid, *have ? have : "none", *lack ? "; missing: " : "", lack);
	else if (!has[1] || (!has[0] && !has[3]))
		ig_hc_add(r, "caps", IG_HC_FAIL,
		    "grant CAP_BPF and CAP_NET_ADMIN (a container: --cap-add BPF --cap-add NET_ADMIN)",
		    "uid 0 without %s%s%s (effective: %s)", !has[0] && !has[3] ? "CAP_BPF" : "",
		    !has[0] && !has[3] && !has[1] ? " and " : "", !has[1] ? "CAP_NET_ADMIN" : "",
		    *have ? have : "none");
	else if (!has[2] || !has[3])
		ig_hc_add(r, "caps", IG_HC_WARN,
		    "grant CAP_PERFMON and CAP_SYS_ADMIN too (other programs' names, full verifier)",
		    "uid 0; effective: %s; missing: %s", have, lack);
	else
		ig_hc_add(r, "caps", IG_HC_OK, NULL, "uid 0; effective: %s", have);
}

static void check_clock(struct ig_hc_report *r)
{
	unsigned long hz = ig_kernel_hz();
	__u32 clock;
	__u64 tick_ns;

	ig_pick_clock(&clock, &tick_ns);
	if (clock == IG_CLOCK_TICK)
		ig_hc_add(r, "clock", IG_HC_OK, NULL, "%s: jiffies at HZ %lu, %llu ns a tick",
		    ig_clock_name((enum ig_clock)clock), hz, (unsigned long long)tick_ns);
	else
		ig_hc_add(r, "clock", IG_HC_OK, NULL,
		    "%s: bpf_ktime_get_coarse_ns (kernel HZ unknown: no /proc/config.gz or "
		    "/boot/config-RELEASE)", ig_clock_name((enum ig_clock)clock));
}

/* ---------------------------------------------------------- pinned state */

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
			ig_hc_add(r, "pinned", IG_HC_OK, NULL, "nothing pinned in %s (attach makes it)",
			    pin_dir);
		else
			ig_hc_add(r, "pinned", IG_HC_WARN, "run check as root", "%s: %s", pin_dir,
			    strerror(errno));
		return;
	}
	/* this binary's layout: its own object, opened (parsed), not loaded */
	skel = infergate__open();
	if (!skel) {
		ig_hc_add(r, "pinned", IG_HC_WARN, "report a bug: the embedded object does not open",
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
				ig_hc_cat(missing, sizeof(missing), "%s%s", nmissing ? ", " : "", name);
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
			ig_hc_cat(bad, sizeof(bad), "%s%s", nbad == 1 ? "; also " : ", ", name);
		nbad++;
	}
	infergate__destroy(skel);

	natt = ig_list_attachments(pin_dir, att, 16);
	for (int i = 0; i < natt; i++)
		ig_hc_cat(links, sizeof(links), "%s%s %s (%s)", i ? ", " : "", ig_hook_name(att[i].hook),
		    att[i].ifname, att[i].mode);

	if (nbad)
		ig_hc_add(r, "pinned", IG_HC_FAIL, fix_layout,
		    "%s: %s: made by another version of infergate", pin_dir, bad);
	else if (open_err && !present)
		ig_hc_add(r, "pinned", IG_HC_WARN, "run check as root", "%s: cannot open its maps: %s",
		    pin_dir, strerror(open_err));
	else if (!present)
		ig_hc_add(r, "pinned", IG_HC_OK, NULL, "%s exists, no map pinned in it%s%s", pin_dir,
		    natt > 0 ? "; links: " : "", natt > 0 ? links : "");
	else if (nmissing)
		ig_hc_add(r, "pinned", IG_HC_WARN,
		    "'infergate attach IFACE' upgrades it in place (the agent does when it starts)",
		    "%s: an instance of an older infergate (no map %s)", pin_dir, missing);
	else if (old_counters)
		ig_hc_add(r, "pinned", IG_HC_WARN,
		    "'infergate attach IFACE' replaces them; they restart from zero",
		    "%s: counters (port_stats) of an older release", pin_dir);
	else
		ig_hc_add(r, "pinned", IG_HC_OK, NULL,
		    "%s: %d maps in the layout of infergate %s; sized for %u sources, %u flows; %s; %s%s",
		    pin_dir, present, IG_VERSION, sets, flows, clock,
		    natt > 0 ? "attached: " : "not attached", natt > 0 ? links : "");
}

/* Whether libxdp's multi-program dispatcher can exist here: it shares the XDP
 * hook among libxdp users (user/README.md, "Other programs on the interface"). */
static void check_dispatcher(struct ig_hc_report *r)
{
	int err;

	if (ig_trampolines_work(&err))
		ig_hc_add(r, "libxdp", IG_HC_OK, NULL,
			  "trampoline programs load: libxdp users can share the XDP hook through "
			  "its dispatcher (infergate does not join it: --hook tc runs beside it)");
	else
		ig_hc_add(r, "libxdp", IG_HC_OK, NULL,
			  "trampoline programs refused (%s): libxdp cannot build its dispatcher, "
			  "a libxdp program holds the XDP hook alone (--hook tc runs beside it)",
			  strerror(-err));
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
	check_dispatcher(r);
	if (ifname)
		ig_hc_check_iface(r, pin_dir, ifname);
	return 0;
}
