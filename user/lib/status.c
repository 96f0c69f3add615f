// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/status.h"
#include "lib/instance.h"

/* Tracked sources per (proto, port): the used ways. */
struct count_ctx {
	__u64 *per_index, total;
};

static int count_set(__u32 index, struct ig_source_set *set, void *ctx)
{
	struct count_ctx *c = ctx;

	(void)index;
	for (int w = 0; w < IG_WAYS; w++) {
		const struct ig_source *s = &set->way[w];

		if (!s->used)
			continue;
		if (c->per_index && s->proto < IG_PROTO_MAX)
			c->per_index[IG_PORT_INDEX(s->proto, s->port)]++;
		c->total++;
	}
	return 0;
}

int ig_sources_count(const struct ig_instance *in, __u64 *per_index, __u64 *total)
{
	struct count_ctx c = { .per_index = per_index };
	int err = ig_sources_walk(in, count_set, &c);

	*total = c.total;
	return err;
}
