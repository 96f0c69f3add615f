// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Addresses and prefixes as the maps key them: see cidr.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "lib/cidr.h"

static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };

int ig_addr_parse(const char *s, __u8 addr[16], int *v4)
{
	int is_v4 = 0, err = 0;

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr + 12) == 1) {
		memcpy(addr, v4mapped, sizeof(v4mapped));
		is_v4 = 1;
	} else if (inet_pton(AF_INET6, s, addr) != 1) {
		err = -EINVAL;
	}
	if (v4)
		*v4 = is_v4;
	return err;
}

void ig_addr_format(const __u8 addr[16], char *buf, size_t len)
{
	if (!memcmp(addr, v4mapped, sizeof(v4mapped)))
		inet_ntop(AF_INET, addr + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, addr, buf, (socklen_t)len);
}

int ig_cidr_parse(const char *s, struct ig_lpm_key *k)
{
	char buf[64], *slash, *end;
	long len;
	int v4;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (ig_addr_parse(buf, k->addr, &v4))
		return -EINVAL;
	len = v4 ? 32 : 128;
	if (slash) {
		len = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || len < 0 || len > (v4 ? 32 : 128))
			return -EINVAL;
	}
	k->prefixlen = (__u32)len + (v4 ? 96 : 0);
	/* clear the host bits: 10.1.2.3/24 is 10.1.2.0/24 */
	for (__u32 b = k->prefixlen; b < 128; b++)
		k->addr[b / 8] &= (__u8)~(0x80 >> (b % 8));
	return 0;
}

void ig_format_cidr(const struct ig_lpm_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	/* an IPv6 prefix shorter than /96 can look mapped; it is not one */
	if (k->prefixlen >= 96 && !memcmp(k->addr, v4mapped, sizeof(v4mapped))) {
		inet_ntop(AF_INET, k->addr + 12, a, sizeof(a));
		snprintf(buf, len, "%s/%u", a, k->prefixlen - 96);
	} else {
		inet_ntop(AF_INET6, k->addr, a, sizeof(a));
		snprintf(buf, len, "%s/%u", a, k->prefixlen);
	}
}

int ig_lpm_keys(int fd, int (*skip)(const struct ig_lpm_key *k), struct ig_lpm_key **out,
		int *n)
{
	struct ig_lpm_key *keys = NULL, *grown, cur, next;
	int k = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		cur = next;
		prev = &cur;
		if (skip && skip(&next))
			continue;
		if (k == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(keys, (size_t)cap * sizeof(*keys));
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
		}
		keys[k++] = next;
	}
	*out = keys;
	*n = k;
	return 0;
}
