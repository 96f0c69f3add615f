// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* check: can this host run infergate, and how (the probes: lib/hostcheck.c). */
#include "cli/cli.h"
#include "lib/hostcheck.h"
#include "lib/json.h"
#include "lib/log.h"

struct check_cfg {
	int json;
};

static const struct ig_opt check_opts[] = {
	IG_OPT("json", IG_OPT_BOOL, struct check_cfg, json,
	       .help = "the same items as JSON: version, interface,\n"
		       "checks [{name, status, detail, fix}], failed, warned"),
	{}
};

static void print_text(const struct ig_hc_report *r, FILE *out)
{
	for (int i = 0; i < r->n; i++) {
		const struct ig_hc_item *it = &r->items[i];

		fprintf(out, "%-4s %-12s  %s%s%s\n", ig_hc_status_name(it->status), it->name,
			it->detail, *it->fix ? " -- " : "", it->fix);
	}
}

static void print_json(const struct ig_hc_report *r, const char *ifname, FILE *out)
{
	struct ig_json j;

	ig_json_init(&j, out, 0);
	ig_json_obj_open(&j);
	ig_json_kstr(&j, "version", IG_VERSION);
	ig_json_key(&j, "interface");
	if (ifname)
		ig_json_str(&j, ifname);
	else
		ig_json_null(&j);
	ig_json_key(&j, "checks");
	ig_json_arr_open(&j);
	for (int i = 0; i < r->n; i++) {
		const struct ig_hc_item *it = &r->items[i];

		ig_json_obj_open(&j);
		ig_json_kstr(&j, "name", it->name);
		ig_json_kstr(&j, "status", ig_hc_status_name(it->status));
		ig_json_kstr(&j, "detail", it->detail);
		ig_json_key(&j, "fix");
		if (*it->fix)
			ig_json_str(&j, it->fix);
		else
			ig_json_null(&j);
		ig_json_obj_close(&j);
	}
	ig_json_arr_close(&j);
	ig_json_ku64(&j, "failed", (__u64)r->failed);
	ig_json_ku64(&j, "warned", (__u64)r->warned);
	ig_json_obj_close(&j);
	ig_json_end(&j);
}

static int cmd_check(const void *cfg, int argc, char **argv)
{
	const struct check_cfg *c = cfg;
	const char *ifname = argc ? argv[0] : NULL;
	struct ig_hc_report r;

	if (argc > 1)
		return ig_cli_usage("check", "%s", "expected at most one interface name");
	ig_hostcheck(ig_cli_pin_dir, ifname, &r);
	if (c->json)
		print_json(&r, ifname, stdout);
	else
		print_text(&r, stdout);
	return r.failed ? 1 : 0;
}

const struct ig_cmd ig_check_cmds[] = {
	IG_CMD("check", cmd_check, check_opts, struct check_cfg, .args = "[IFACE]",
	       .complete = IG_COMPLETE_IFACE,
	       .doc = "Whether this host can run infergate, and how: the kernel, BTF, tcx, the\n"
		      "syncookie helpers, the JIT, bpffs under the pin dir, capabilities, the\n"
		      "clock and the pinned state; with IFACE, its driver, native XDP, the\n"
		      "programs already on its hooks and its MTU. One line per item: ok, warn or\n"
		      "fail, what was found and, after ' -- ', what to do. Changes nothing.\n"
		      "Exit status 0 when nothing fails (warnings allowed), 1 when something\n"
		      "does."),
	{}
};
