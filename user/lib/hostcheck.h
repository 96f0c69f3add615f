/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Can this host run infergate, and how: the probes behind `infergate check`.
 * Each probe adds items (a stable name, a status, what was found and, unless
 * ok, what to do about it) to a report; the command prints them as text or
 * JSON. Nothing here changes the host: it reads files, asks the kernel, and
 * loads (never attaches) throwaway programs to probe helpers.
 */
#ifndef IG_HOSTCHECK_H
#define IG_HOSTCHECK_H

#include <stddef.h>
#include <linux/types.h>

enum ig_hc_status {
	IG_HC_OK = 0,
	IG_HC_WARN,
	IG_HC_FAIL,
};

struct ig_hc_item {
	char name[24];    /* stable, lowercase: "kernel", "bpffs", "xdp/native", ... */
	enum ig_hc_status status;
	char detail[320]; /* what was found */
	char fix[256];    /* what to do; empty when there is nothing to do */
};

#define IG_HC_MAX_ITEMS 32

struct ig_hc_report {
	struct ig_hc_item items[IG_HC_MAX_ITEMS];
	int n;
	int failed, warned;
};

/* "ok", "warn", "fail". */
const char *ig_hc_status_name(enum ig_hc_status s);

/*
 * Every probe of the host, and with ifname (may be NULL) those of the
 * interface; pin_dir is the instance whose pinned state is looked at.
 * Returns 0: what fails is an item, never an error.
 */
int ig_hostcheck(const char *pin_dir, const char *ifname, struct ig_hc_report *r);

/* For the probes' two files (hostcheck.c: the host, hostcheck_if.c: the
 * interface): add an item (the fix is dropped on an ok item); append to a
 * string, always terminated. */
__attribute__((format(printf, 5, 6)))
void ig_hc_add(struct ig_hc_report *r, const char *name, enum ig_hc_status st, const char *fix,
	       const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void ig_hc_cat(char *buf, size_t len, const char *fmt, ...);
void ig_hc_check_iface(struct ig_hc_report *r, const char *pin_dir, const char *ifname);

#endif
