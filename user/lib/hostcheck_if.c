// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The interface's items of `infergate check IFACE` (hostcheck.h): its flags and
 * MTU, its driver (ethtool), what XDP the driver offers (the kernel's
 * xdp_features, by generic netlink), infergate's own links and every other
 * program on its XDP and tcx hooks. Read-only, as the host's items.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/hostcheck.h"
#include "lib/instance.h"
#include "lib/loader.h"
#include "lib/xdphook.h"

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

#define HC_MAX_PROGS 64

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
		char path[512];
		__u32 prog = 0, idx = 0;

		if (ig_link_pin_path(path, sizeof(path), pin_dir, kinds[k], ifname) ||
		    access(path, F_OK))
			continue;
		if (ig_pinned_link_live(path, (__u32)ifindex, &prog, &idx) == 1)
			*ids[k] = prog;
		else
			ig_hc_cat(o->stale, sizeof(o->stale), "%s%s", *o->stale ? ", " : "",
				  strrchr(path, '/') + 1);
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
		ig_hc_add(r, "xdp/progs", IG_HC_WARN, "run check as root", "cannot query %s's XDP hook: %s",
		    ifname, strerror(-err));
		return;
	}
	{
		__u32 ids[3] = { q.drv_prog_id, q.skb_prog_id, q.hw_prog_id };

		for (int i = 0; i < 3; i++) {
			if (!ids[i] || ids[i] == own->xdp)
				continue;
			ig_prog_name(ids[i], name, sizeof(name));
			if (!strcmp(name, IG_XDP_DISPATCHER_NAME))
				dispatcher = 1;
			ig_hc_cat(others, sizeof(others), "%sid %u %s (%s)", nothers ? ", " : "", ids[i],
			    name, modes[i]);
			nothers++;
		}
	}
	if (dispatcher)
		ig_hc_add(r, "xdp/progs", IG_HC_WARN,
		    "--hook tc (infergate's XDP link does not join libxdp's dispatcher), or detach it",
		    "libxdp's multi-program dispatcher holds %s's XDP hook: %s", ifname, others);
	else if (nothers)
		ig_hc_add(r, "xdp/progs", IG_HC_WARN, "--hook tc, or detach it",
		    "another XDP program holds %s's XDP hook: %s", ifname, others);
	else
		ig_hc_add(r, "xdp/progs", IG_HC_OK, NULL, "no other XDP program on %s%s", ifname,
		    own->xdp ? " (infergate's own only)" : "");
}

static void check_tcx_progs(struct ig_hc_report *r, const char *ifname, int ifindex,
			    const struct own_links *own, int egress)
{
	struct ig_hook_prog progs[HC_MAX_PROGS];
	char others[256] = "";
	int n = ig_tcx_list(ifindex, egress, progs, HC_MAX_PROGS), nothers = 0;
	const char *item = egress ? "tcx/egress" : "tcx/ingress";

	if (n < 0) {
		ig_hc_add(r, item, IG_HC_WARN, "run check as root on Linux 6.6 or later",
			  "cannot query %s: %s", ifname, strerror(-n));
		return;
	}
	for (int i = 0; i < n; i++) {
		if (progs[i].id == (egress ? own->egress : own->tc))
			continue;
		ig_hc_cat(others, sizeof(others), "%sid %u %s", nothers ? ", " : "", progs[i].id,
			  progs[i].name);
		nothers++;
	}
	if (nothers)
		ig_hc_add(r, item, IG_HC_OK, NULL,
			  "%d other program%s on %s, run in order with infergate's: %s", nothers,
			  nothers > 1 ? "s" : "", ifname, others);
	else
		ig_hc_add(r, item, IG_HC_OK, NULL, "no other tcx program on %s", ifname);
}

void ig_hc_check_iface(struct ig_hc_report *r, const char *pin_dir, const char *ifname)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct own_links own;
	struct ifreq ifr;
	__u64 feat = 0;
	int ifindex, err, mtu = 0, flags = 0;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		ig_hc_add(r, "iface", IG_HC_FAIL, "the name as 'ip link' lists it in this network namespace",
		    "no such interface: %s", ifname);
		return;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (!ioctl_if(ifname, SIOCGIFFLAGS, &ifr))
		flags = ifr.ifr_flags;
	memset(&ifr, 0, sizeof(ifr));
	if (!ioctl_if(ifname, SIOCGIFMTU, &ifr))
		mtu = ifr.ifr_mtu;
	ig_hc_add(r, "iface", IG_HC_OK, NULL, "%s: index %d, %s, MTU %d", ifname, ifindex,
	    flags & IFF_UP ? "up" : "down", mtu);

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (char *)&di;
	err = ioctl_if(ifname, SIOCETHTOOL, &ifr);
	if (!err)
		ig_hc_add(r, "driver", IG_HC_OK, NULL, "%.*s%s%.*s%s%.*s", (int)sizeof(di.driver),
		    di.driver, *di.version ? " " : "", (int)sizeof(di.version), di.version,
		    *di.bus_info ? ", bus " : "", (int)sizeof(di.bus_info), di.bus_info);
	else
		ig_hc_add(r, "driver", IG_HC_OK, NULL, "not reported (ethtool: %s)", strerror(-err));

	err = xdp_features(ifindex, &feat);
	if (err) {
		const char *why = err == -ENOENT ? "no netdev netlink family: Linux before 6.3"
						 : strerror(-err);

		ig_hc_add(r, "xdp/native", IG_HC_WARN,
		    "attach natively; if the driver refuses, --xdp-mode generic or --hook tc",
		    "cannot read the driver's xdp_features (%s)", why);
		ig_hc_add(r, "xdp/multibuf", IG_HC_OK, NULL, "unknown (%s)", why);
	} else {
		char names[160] = "";

		for (size_t b = 0; b < sizeof(xdp_feature_names) / sizeof(xdp_feature_names[0]); b++)
			if (feat & (1ULL << b))
				ig_hc_cat(names, sizeof(names), "%s%s", *names ? " " : "",
				    xdp_feature_names[b]);
		if (feat & HC_XDP_ACT_BASIC)
			ig_hc_add(r, "xdp/native", IG_HC_OK, NULL, "native XDP (xdp_features: %s)", names);
		else
			ig_hc_add(r, "xdp/native", IG_HC_WARN, "--xdp-mode generic, or --hook tc",
			    "the driver has no native XDP (xdp_features: %s)",
			    *names ? names : "none");
		ig_hc_add(r, "xdp/multibuf", IG_HC_OK, NULL, "%s; infergate's XDP program is single-buffer",
		    feat & HC_XDP_ACT_RX_SG ? "the driver takes multi-buffer frames (rx-sg)"
					    : "the driver has no multi-buffer XDP (rx-sg)");
	}

	own_links(pin_dir, ifname, ifindex, &own);
	if (*own.stale)
		ig_hc_add(r, "attached", IG_HC_WARN, "'infergate detach IFACE', or attach again (it replaces them)",
		    "stale pins in %s: %s (their links no longer drive %s)", pin_dir, own.stale, ifname);
	else if (own.xdp || own.tc)
		ig_hc_add(r, "attached", IG_HC_OK, NULL, "infergate attached to %s: %s (prog %u)%s", ifname,
		    own.xdp ? "xdp" : "tc", own.xdp ? own.xdp : own.tc,
		    own.egress ? ", egress tcx" : ", no egress program (attach again adds it)");
	else
		ig_hc_add(r, "attached", IG_HC_OK, NULL, "infergate is not attached to %s", ifname);

	check_xdp_progs(r, ifname, ifindex, &own);
	check_tcx_progs(r, ifname, ifindex, &own, 0);
	check_tcx_progs(r, ifname, ifindex, &own, 1);

	if (mtu > HC_XDP_MAX_MTU)
		ig_hc_add(r, "mtu", IG_HC_WARN, "--hook tc, or an MTU of 3498 or less for XDP",
		    "MTU %d: more than one page's frame; drivers refuse a single-buffer XDP program",
		    mtu);
	else
		ig_hc_add(r, "mtu", IG_HC_OK, NULL, "MTU %d fits XDP's single-buffer frames (<= %d)", mtu,
		    HC_XDP_MAX_MTU);
}
