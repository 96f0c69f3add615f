// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <zlib.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ig_abi.h"
#include "infergate.skel.h" /* after the ABI: it names our types */
#include "lib/loader.h"
#include "lib/instance.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/xdphook.h"


static const char *const hook_names[] = { [IG_ATTACH_XDP] = "xdp", [IG_ATTACH_TC] = "tc" };

const char *ig_hook_name(enum ig_attach_hook hook)
{
	return hook_names[hook];
}

int ig_link_pin_path(char *buf, size_t len, const char *dir, const char *kind, const char *ifname)
{
	char name[64];

	snprintf(name, sizeof(name), "link_%s_%s", kind, ifname);
	return ig_path(buf, len, dir, name);
}

static int link_pin_path(char *buf, size_t len, const char *dir, enum ig_attach_hook hook,
			 const char *ifname)
{
	return ig_link_pin_path(buf, len, dir, hook_names[hook], ifname);
}

/* The egress program (breaker replies, passive health) rides along with
 * either ingress hook. */
static int egress_pin_path(char *buf, size_t len, const char *dir, const char *ifname)
{
	return ig_link_pin_path(buf, len, dir, "egress", ifname);
}

/* CONFIG_HZ from the running kernel's config, or 0 when it cannot be found. */
unsigned long ig_kernel_hz(void)
{
	char path[300], line[256];
	unsigned long hz = 0;
	struct utsname u;
	gzFile f;

	f = gzopen("/proc/config.gz", "r");
	if (!f && !uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		f = gzopen(path, "r"); /* zlib reads plain files too */
	}
	if (!f)
		return 0;
	while (gzgets(f, line, sizeof(line)))
		if (!strncmp(line, "CONFIG_HZ=", 10)) {
			hz = strtoul(line + 10, NULL, 10);
			break;
		}
	gzclose(f);
	return hz;
}

int ig_pick_clock(__u32 *clock, __u64 *tick_ns)
{
	unsigned long hz = ig_kernel_hz();

	/* Jiffies cost nothing to read but need HZ to become nanoseconds. */
	if (hz >= 24 && hz <= 10000) {
		*clock = IG_CLOCK_TICK;
		*tick_ns = IG_NSEC_PER_SEC / hz;
	} else {
		*clock = IG_CLOCK_COARSE;
		*tick_ns = 0;
	}
	return 0;
}

int ig_pinned_link_live(const char *path, __u32 ifindex, __u32 *prog_id, __u32 *link_ifindex)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	err = err ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if (prog_id)
		*prog_id = info.prog_id;
	/* xdp and tcx link info both open with the ifindex. */
	if (link_ifindex)
		*link_ifindex = info.xdp.ifindex;
	return info.xdp.ifindex != 0 && (!ifindex || info.xdp.ifindex == ifindex);
}

struct pin_plan {
	int existed[IG_MAP_COUNT];
	int dir_created;
};

/* Undo what this attach pinned; state that was there before stays. */
static void rollback_pins(const char *pin_dir, struct infergate *skel, const struct pin_plan *plan)
{
	for (int i = 0; skel && i < IG_MAP_COUNT; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, ig_map_name(i));

		if (m && !plan->existed[i] && bpf_map__is_pinned(m))
			bpf_map__unpin(m, NULL);
	}
	if (plan->dir_created)
		rmdir(pin_dir);
}

/*
 * Sets for n sources: one set (IG_WAYS ways) per source, rounded up to a power
 * of two so the data path can mask. Four ways per source keeps set overflow
 * rare even when every source is over its limit at once (measured by make
 * bench: ~0.2 % of such sources collide); 64 bytes a source.
 */
static __u32 ig_sets_for(__u64 n)
{
	__u32 sets = 1;

	while (sets < n && sets < (1U << 28))
		sets <<= 1;
	return sets;
}

/* What the kernel says of the map pinned as pin_dir/name. */
static int pinned_info(const char *pin_dir, const char *name, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	char path[512];
	int fd, err;

	err = ig_path(path, sizeof(path), pin_dir, name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		ig_err("cannot open pinned map %s: %s", path, strerror(-err));
		return err;
	}
	memset(info, 0, sizeof(*info));
	err = bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
	close(fd);
	if (err)
		ig_err("cannot inspect pinned map %s: %s", path, strerror(-err));
	return err;
}

static int pinned_max_entries(const char *pin_dir, const char *name, __u32 *n)
{
	struct bpf_map_info info;
	int err = pinned_info(pin_dir, name, &info);

	if (!err)
		*n = info.max_entries;
	return err;
}

/*
 * Counters sized by an older release's reasons or levels (port_stats before
 * 0.5; level_stats before 0.14, which added the in-flight level) cannot be
 * reused: they are replaced, and restart from zero. Nothing that limits
 * anyone is kept in them.
 */
static int replace_old_counters_of(const char *pin_dir, struct pin_plan *plan,
				   enum ig_map_id id, __u32 value_size)
{
	struct bpf_map_info info;
	char path[512];
	int err;

	if (!plan->existed[id])
		return 0;
	err = pinned_info(pin_dir, ig_map_name(id), &info);
	if (err || info.value_size == value_size)
		return err;
	err = ig_path(path, sizeof(path), pin_dir, ig_map_name(id));
	if (err)
		return err;
	if (unlink(path)) {
		err = -errno;
		ig_err("cannot replace the old counters %s: %s", path, strerror(-err));
		return err;
	}
	ig_warn("%s: counters of an older release (%u bytes per port) replaced; they restart "
		"from zero", path, info.value_size);
	plan->existed[id] = 0;
	return 0;
}

static int replace_old_counters(const char *pin_dir, struct pin_plan *plan)
{
	int err = replace_old_counters_of(pin_dir, plan, IG_MAP_PORT_STATS, sizeof(struct ig_stats));

	return err ? err
		   : replace_old_counters_of(pin_dir, plan, IG_MAP_LEVEL_STATS,
					     sizeof(struct ig_level_stats));
}

static int set_pins(const char *pin_dir, struct infergate *skel, const struct ig_attach_opts *o,
		    struct pin_plan *plan)
{
	char path[512];
	__u32 sets, flows;
	int err;

	for (int i = 0; i < IG_MAP_COUNT; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, ig_map_name(i));

		if (!m) {
			ig_err("BPF object has no map %s", ig_map_name(i));
			return -ENOENT;
		}
		err = ig_path(path, sizeof(path), pin_dir, ig_map_name(i));
		if (err)
			return err;
		plan->existed[i] = access(path, F_OK) == 0;
		err = bpf_map__set_pin_path(m, path);
		if (err) {
			ig_err("cannot set pin path %s: %s", path, strerror(-err));
			return err;
		}
	}

	err = replace_old_counters(pin_dir, plan);
	if (err)
		return err;

	/* The sources map keeps its size across attaches: state is reused, so a
	 * different size means a different instance. */
	if (plan->existed[IG_MAP_SOURCES]) {
		err = pinned_max_entries(pin_dir, "sources", &sets);
		if (err)
			return err;
		if (o->max_sources && ig_sets_for(o->max_sources) != sets) {
			ig_err("%s/sources is sized for %u sources; --max-sources %llu differs (detach "
			       "every interface with --purge to resize)", pin_dir, sets,
			       (unsigned long long)o->max_sources);
			return -EINVAL;
		}
	} else {
		sets = ig_sets_for(o->max_sources ? o->max_sources : IG_DEFAULT_MAX_SOURCES);
	}
	/* The data path masks the hash with this: it must match the map. */
	skel->rodata->ig_cfg.set_mask = sets - 1;
	err = bpf_map__set_max_entries(skel->maps.sources, sets);
	if (err)
		return err;

	/* The flow table, likewise: a pinned one is reused at its size. */
	if (plan->existed[IG_MAP_FLOWS]) {
		err = pinned_max_entries(pin_dir, "flows", &flows);
		if (err)
			return err;
		if (o->max_flows && o->max_flows != flows) {
			ig_err("%s/flows holds %u flows; --max-flows %llu differs (detach every "
			       "interface with --purge to resize)", pin_dir, flows,
			       (unsigned long long)o->max_flows);
			return -EINVAL;
		}
	} else {
		flows = o->max_flows ? (__u32)o->max_flows : IG_DEFAULT_FLOWS;
	}
	return bpf_map__set_max_entries(skel->maps.flows, flows);
}

static int init_globals(struct infergate *skel)
{
	struct ig_globals g = { .reject_rate = IG_DEFAULT_REJECT_RATE,
				.reject_burst = IG_DEFAULT_REJECT_BURST };
	__u32 zero = 0;


	if (bpf_map__update_elem(skel->maps.globals, &zero, sizeof(zero), &g, sizeof(g), BPF_ANY)) {
		int err = -errno;

		ig_err("cannot initialise map globals: %s", strerror(-err));
		return err;
	}
	return 0;
}

/*
 * The source table's seed: the pinned one when the instance exists (the table's
 * state is only meaningful with it), else a new random one, so that nobody can
 * pick addresses that share a set. Goes into rodata before load; stored in the
 * `seed` map after it (store_seed).
 */
/*
 * The clock of an instance that exists is the one it recorded (key 1 of
 * `seed`); a new instance picks one and store_seed() records it. An instance
 * pinned before the record existed has none: it keeps today's pick, which is
 * then recorded, so it is guessed once more and never again.
 */
static int pick_clock(const char *pin_dir, const struct pin_plan *plan, __u32 *clock,
		      __u64 *tick_ns)
{
	__u32 key = IG_SEED_KEY_CLOCK;
	struct ig_seed s = {};
	char path[512];
	int fd;

	ig_pick_clock(clock, tick_ns);
	if (!plan->existed[IG_MAP_SEED])
		return 0;
	ig_path(path, sizeof(path), pin_dir, "seed");
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_map_lookup_elem(fd, &key, &s)) {
		int err = -errno;

		ig_err("cannot read the pinned clock record in %s: %s", path, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	close(fd);
	if (ig_clock_unrecord(s.value, clock, tick_ns))
		ig_warn("%s: no clock recorded (made by an older version): recording %s now",
			pin_dir, ig_clock_name((enum ig_clock)*clock));
	return 0;
}

static int pick_seed(const char *pin_dir, const struct pin_plan *plan, __u64 *seed)
{
	struct ig_seed s;
	char path[512];
	__u32 zero = 0;
	int fd, err;

	if (!plan->existed[IG_MAP_SEED]) {
		if (getrandom(seed, sizeof(*seed), 0) != sizeof(*seed)) {
			err = -errno;
			ig_err("cannot get a random hash seed: %s", strerror(-err));
			return err;
		}
		return 0;
	}
	ig_path(path, sizeof(path), pin_dir, "seed");
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &s)) {
		err = -errno;
		ig_err("cannot read the pinned seed %s: %s", path, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	close(fd);
	*seed = s.value;
	return 0;
}

static int store_seed(struct infergate *skel, __u32 key, __u64 value)
{
	struct ig_seed s = { .value = value };

	if (bpf_map__update_elem(skel->maps.seed, &key, sizeof(key), &s, sizeof(s), BPF_ANY)) {
		int err = -errno;

		ig_err("cannot store the %s in map seed: %s",
		       key == IG_SEED_KEY_CLOCK ? "clock record" : "hash seed", strerror(-err));
		return err;
	}
	return 0;
}

/*
 * The XDP hook holds one program. Another one there is never replaced
 * silently: without --replace the attach stops, naming it and the ways out.
 * libxdp's dispatcher is named too: infergate attaches with its own bpf_link
 * and does not join it (see user/README.md, "Other programs on the interface").
 */
static int xdp_hook_check(const struct ig_attach_opts *o, int ifindex, struct ig_hook_prog *held)
{
	char what[96];
	int err = ig_xdp_holder(ifindex, held);

	if (err < 0) {
		ig_err("%s: cannot read the XDP hook: %s", o->ifname, strerror(-err));
		return err;
	}
	if (!err || o->replace)
		return 0;
	ig_hook_prog_str(held, what, sizeof(what));
	if (!strcmp(held->name, "ig_xdp"))
		ig_err("%s: the XDP hook is held by infergate's program %s of another pin dir (or "
		       "one whose pins were removed): use that --pin-dir, or --replace", o->ifname,
		       what);
	else if (held->dispatcher)
		ig_err("%s: the XDP hook holds libxdp's multi-program dispatcher %s, with other "
		       "programs in it; infergate does not join it: run beside them with --hook tc, "
		       "or --replace to detach the dispatcher and every program in it", o->ifname,
		       what);
	else
		ig_err("%s: the XDP hook is held by XDP program %s, which is not infergate's: run "
		       "beside it with --hook tc, or --replace to detach it and take the hook",
		       o->ifname, what);
	return -EBUSY;
}

static int create_link(struct infergate *skel, const struct ig_attach_opts *o, int ifindex)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	int fd, err;

	if (o->hook == IG_ATTACH_XDP) {
		lopts.flags = o->xdp_generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
		fd = bpf_link_create(bpf_program__fd(skel->progs.ig_xdp), ifindex, BPF_XDP, &lopts);
	} else {
		fd = ig_tcx_link_create(bpf_program__fd(skel->progs.ig_tc), ifindex, o->ifname, 0,
					&o->tc_place);
		errno = fd < 0 ? -fd : 0;
	}
	if (fd >= 0)
		return fd;
	err = -errno;
	if (o->hook == IG_ATTACH_XDP && (err == -EBUSY || err == -EEXIST))
		ig_err("%s: another XDP program took the hook while we attached; use --hook tc, "
		       "or --replace", o->ifname);
	else if (o->hook == IG_ATTACH_XDP && !o->xdp_generic && (err == -EOPNOTSUPP || err == -EINVAL))
		ig_err("the driver of %s has no native XDP (%s); use --xdp-mode generic or "
		       "--hook tc", o->ifname, strerror(-err));
	else if (o->hook == IG_ATTACH_TC && (err == -EINVAL || err == -EOPNOTSUPP))
		ig_err("cannot attach to %s with tcx (%s): it needs Linux 6.6 or later",
		       o->ifname, strerror(-err));
	else
		ig_err("cannot attach to %s (%s): %s", o->ifname, ig_hook_name(o->hook),
		       strerror(-err));
	return err;
}

/*
 * Swap freshly loaded programs into the pinned links: BPF_LINK_UPDATE replaces
 * a link's program atomically, so no packet meets an interface without a
 * program, and the new programs use the same pinned maps (the loader reused
 * them), so every bucket, flow and breaker carries over.
 */
static int replace_programs(struct infergate *skel, const struct ig_attach_opts *o, int ifindex,
			    const char *path, const char *egress_path)
{
	struct bpf_program *in_prog = o->hook == IG_ATTACH_XDP ? skel->progs.ig_xdp : skel->progs.ig_tc;
	int fd, err;

	fd = bpf_obj_get(egress_path);
	if (fd < 0) {
		/* an instance from before the egress program: add it */
		fd = bpf_link_create(bpf_program__fd(skel->progs.ig_tc_egress), ifindex,
				     BPF_TCX_EGRESS, NULL);
		if (fd < 0 || bpf_obj_pin(fd, egress_path)) {
			err = -errno;
			ig_err("cannot attach the egress program to %s: %s", o->ifname, strerror(-err));
			if (fd >= 0)
				close(fd);
			return err;
		}
	} else if (bpf_link_update(fd, bpf_program__fd(skel->progs.ig_tc_egress), NULL)) {
		err = -errno;
		ig_err("cannot replace the egress program of %s: %s", o->ifname, strerror(-err));
		close(fd);
		return err;
	}
	close(fd);
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_link_update(fd, bpf_program__fd(in_prog), NULL)) {
		err = -errno;
		ig_err("cannot replace the %s program of %s: %s", ig_hook_name(o->hook), o->ifname,
		       strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	close(fd);
	return 0;
}

int ig_attach(const char *pin_dir, const struct ig_attach_opts *o)
{
	struct ig_hook_prog held = {};
	struct pin_plan plan = {};
	struct infergate *skel = NULL;
	char path[512], other[512], egress_path[512];
	enum ig_attach_hook other_hook = o->hook == IG_ATTACH_XDP ? IG_ATTACH_TC : IG_ATTACH_XDP;
	__u32 clock;
	__u64 tick_ns, seed = 0;
	int ifindex, link_fd = -1, egress_fd = -1, err, upgrade = 0;

	err = ig_env_check(pin_dir);
	if (err)
		return err;
	ifindex = (int)if_nametoindex(o->ifname);
	if (!ifindex) {
		ig_err("no such interface: %s", o->ifname);
		return -ENODEV;
	}
	err = link_pin_path(path, sizeof(path), pin_dir, o->hook, o->ifname);
	if (!err)
		err = link_pin_path(other, sizeof(other), pin_dir, other_hook, o->ifname);
	if (!err)
		err = egress_pin_path(egress_path, sizeof(egress_path), pin_dir, o->ifname);
	if (err)
		return err;

	if (ig_pinned_link_live(other, (__u32)ifindex, NULL, NULL) == 1) {
		ig_err("%s is already protected on the %s hook; detach it first", o->ifname,
		       ig_hook_name(other_hook));
		return -EEXIST;
	}
	err = ig_pinned_link_live(path, (__u32)ifindex, NULL, NULL);
	if (err == 1) {
		/* Attached already: load this binary's programs over the pinned
		 * maps and swap them into the existing links (an upgrade, or a
		 * harmless no-op when nothing changed). */
		upgrade = 1;
	} else if (err == 0 || (err < 0 && err != -ENOENT)) {
		/* A link whose interface is gone (or unreadable): replace it. */
		ig_dbg("removing stale link pin %s", path);
		unlink(path);
	}

	if (o->hook == IG_ATTACH_XDP && !upgrade) {
		err = xdp_hook_check(o, ifindex, &held);
		if (err)
			return err;
	}
	if (o->hook == IG_ATTACH_TC && !upgrade) {
		err = ig_tc_place_check(ifindex, o->ifname, &o->tc_place);
		if (err)
			return err;
	}

	if (mkdir(pin_dir, 0700) == 0) {
		plan.dir_created = 1;
	} else if (errno != EEXIST) {
		err = -errno;
		ig_err("cannot create pin dir %s: %s", pin_dir, strerror(-err));
		return err;
	}

	skel = infergate__open();
	if (!skel) {
		err = -errno;
		ig_err("cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	err = set_pins(pin_dir, skel, o, &plan);
	if (!err)
		err = pick_seed(pin_dir, &plan, &seed);
	if (!err)
		err = pick_clock(pin_dir, &plan, &clock, &tick_ns);
	if (err)
		goto fail;
	skel->rodata->ig_cfg.hash_seed = seed;
	skel->rodata->ig_cfg.clock = (enum ig_clock)clock;
	skel->rodata->ig_cfg.tick_ns = tick_ns;
	/* this hook's ingress program only: verifying the other's ~0.8M
	 * instructions would waste ~1.1 s of CPU */
	err = bpf_program__set_autoload(o->hook == IG_ATTACH_XDP ? skel->progs.ig_tc
								  : skel->progs.ig_xdp, false);
	err = err ? err : infergate__load(skel);
	if (err) {
		ig_err("loading the data path failed: %s%s (run with -v for libbpf's log)",
		       strerror(-err),
		       plan.existed[IG_MAP_PORT_POLICY] ?
			       "; the maps pinned in the pin dir may come from another version" : "");
		goto fail;
	}
	if (!plan.existed[IG_MAP_GLOBALS]) {
		err = init_globals(skel);
		if (err)
			goto fail;
	}
	if (!plan.existed[IG_MAP_SEED]) {
		err = store_seed(skel, IG_SEED_KEY_HASH, seed);
		if (err)
			goto fail;
	}
	/* every attach: a no-op when recorded, the record of an older instance */
	err = store_seed(skel, IG_SEED_KEY_CLOCK, ig_clock_record(clock, tick_ns));
	if (err)
		goto fail;

	if (upgrade) {
		err = replace_programs(skel, o, ifindex, path, egress_path);
		if (err)
			goto fail;
		ig_info("%s: programs replaced in place (%s), state kept in %s", o->ifname,
			ig_hook_name(o->hook), pin_dir);
		infergate__destroy(skel);
		return 0;
	}

	/* Egress first: from the instant ingress steers a connection, its
	 * replies must already be rewritten. */
	egress_fd = ig_tcx_link_create(bpf_program__fd(skel->progs.ig_tc_egress), ifindex,
				       o->ifname, 1, &o->tc_place);
	if (egress_fd < 0) {
		err = egress_fd;
		ig_err("cannot attach the egress program to %s with tcx: %s (tcx needs Linux 6.6 "
		       "or later)", o->ifname, strerror(-err));
		goto fail;
	}
	if (held.id) {
		err = ig_xdp_take(ifindex, o->ifname, &held);
		if (err)
			goto fail;
	}
	link_fd = create_link(skel, o, ifindex);
	if (link_fd < 0) {
		err = link_fd;
		goto fail;
	}
	unlink(egress_path); /* a stale pin of a gone interface */
	if (bpf_obj_pin(egress_fd, egress_path)) {
		err = -errno;
		ig_err("cannot pin link %s: %s", egress_path, strerror(-err));
		goto fail; /* closing the only fds detaches the links */
	}
	if (bpf_obj_pin(link_fd, path)) {
		err = -errno;
		ig_err("cannot pin link %s: %s", path, strerror(-err));
		unlink(egress_path);
		goto fail;
	}
	close(link_fd);
	close(egress_fd);
	ig_info("%s: attached (%s%s), state in %s", o->ifname, ig_hook_name(o->hook),
		o->hook == IG_ATTACH_XDP ? (o->xdp_generic ? ", generic" : ", native") : "",
		pin_dir);
	infergate__destroy(skel);
	return 0;

fail:
	if (link_fd >= 0)
		close(link_fd);
	if (egress_fd >= 0)
		close(egress_fd);
	rollback_pins(pin_dir, skel, &plan);
	infergate__destroy(skel);
	return err;
}

static int any_link_pinned(const char *pin_dir)
{
	struct dirent *de;
	DIR *d = opendir(pin_dir);
	int found = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "link_", 5))
			found = 1;
	closedir(d);
	return found;
}

static int purge(const char *pin_dir)
{
	char path[512];

	if (any_link_pinned(pin_dir)) {
		ig_warn("not purging %s: other interfaces are still attached", pin_dir);
		return 0;
	}
	for (int i = 0; i < IG_MAP_COUNT; i++) {
		if (ig_path(path, sizeof(path), pin_dir, ig_map_name(i)))
			continue;
		if (unlink(path) && errno != ENOENT)
			ig_warn("cannot remove %s: %s", path, strerror(errno));
	}
	if (rmdir(pin_dir) && errno != ENOENT) {
		int err = -errno;

		ig_err("cannot remove %s: %s", pin_dir, strerror(-err));
		return err;
	}
	ig_info("removed %s", pin_dir);
	return 0;
}

int ig_detach(const char *pin_dir, const char *ifname, int do_purge)
{
	int err, found = 0;

	err = ig_env_check(pin_dir);
	if (err)
		return err;
	for (int h = IG_ATTACH_XDP; h <= IG_ATTACH_TC; h++) {
		char path[512];
		int fd;

		err = link_pin_path(path, sizeof(path), pin_dir, (enum ig_attach_hook)h, ifname);
		if (err)
			return err;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		/* Detach explicitly: someone else may hold an fd of the link. */
		if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
			ig_warn("detaching %s: %s", path, strerror(errno));
		close(fd);
		if (unlink(path)) {
			err = -errno;
			ig_err("cannot remove %s: %s", path, strerror(-err));
			return err;
		}
		ig_info("%s: detached (%s)", ifname, hook_names[h]);
		found = 1;
	}
	{
		char path[512];
		int fd;

		err = egress_pin_path(path, sizeof(path), pin_dir, ifname);
		if (err)
			return err;
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
				ig_warn("detaching %s: %s", path, strerror(errno));
			close(fd);
			if (unlink(path))
				ig_warn("cannot remove %s: %s", path, strerror(errno));
		}
	}
	if (!found) {
		if (!if_nametoindex(ifname)) {
			ig_err("no such interface: %s (and nothing of it pinned in %s)", ifname,
			       pin_dir);
			return -ENODEV;
		}
		ig_info("%s: not attached", ifname);
	}
	return do_purge ? purge(pin_dir) : 0;
}

int ig_list_attachments(const char *pin_dir, struct ig_attachment *out, int max)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(pin_dir);

	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		struct ig_attachment *a = &out[n];
		char path[512];
		const char *rest;

		if (!strncmp(de->d_name, "link_xdp_", 9)) {
			a->hook = IG_ATTACH_XDP;
			rest = de->d_name + 9;
		} else if (!strncmp(de->d_name, "link_tc_", 8)) {
			a->hook = IG_ATTACH_TC;
			rest = de->d_name + 8;
		} else {
			continue;
		}
		snprintf(a->ifname, sizeof(a->ifname), "%s", rest);
		if (ig_path(path, sizeof(path), pin_dir, de->d_name))
			continue;
		a->prog_id = 0;
		a->ifindex = 0;
		if (ig_pinned_link_live(path, 0, &a->prog_id, &a->ifindex) != 1) {
			a->mode = "gone";
		} else if (a->hook == IG_ATTACH_TC) {
			a->mode = "tcx";
		} else {
			LIBBPF_OPTS(bpf_xdp_query_opts, q);

			a->mode = "native";
			if (!bpf_xdp_query((int)a->ifindex, 0, &q) && q.attach_mode == XDP_ATTACHED_SKB)
				a->mode = "generic";
		}
		n++;
	}
	closedir(d);
	return n;
}
