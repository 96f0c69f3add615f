/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Addresses and prefixes as the maps key them: 16 bytes, IPv4 as
 * IPv4-mapped (::ffff:a.b.c.d), so one key type serves both families.
 */
#ifndef IG_CIDR_H
#define IG_CIDR_H

#include <stddef.h>
#include <linux/types.h>
#include "ig_abi.h"

/* What the parsers accept, for error messages. */
#define IG_CIDR_FORMS "A.B.C.D[/N] or X:Y::Z[/N]"
/* Room for any formatted address or prefix. */
#define IG_ADDR_STRLEN 64

/* An IPv4 or IPv6 address into addr; *v4 (may be NULL) says which. Silent:
 * -EINVAL on anything else. */
int ig_addr_parse(const char *s, __u8 addr[16], int *v4);
/* An IPv4-mapped address as IPv4, any other as IPv6. */
void ig_addr_format(const __u8 addr[16], char *buf, size_t len);

/* "a.b.c.d[/n]" or "x::y[/n]" (no length: the host), host bits cleared.
 * Silent: -EINVAL; callers say what the value was for. */
int ig_cidr_parse(const char *s, struct ig_lpm_key *k);
void ig_format_cidr(const struct ig_lpm_key *k, char *buf, size_t len);
/* Every key of the LPM trie fd, but those skip() says to leave out (skip may
 * be NULL), into *out (caller frees; NULL when none). 0 or -ENOMEM. */
int ig_lpm_keys(int fd, int (*skip)(const struct ig_lpm_key *k), struct ig_lpm_key **out,
		int *n);

#endif
