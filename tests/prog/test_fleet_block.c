// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet's blocks (map fleet_block, a HASH the agent writes): a block that
 * ran out stays until deleted, so without pruning the 65,537th source the
 * fleet blocks could not be. ig_fleet_prune deletes the expired ones only.
 */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "dp.h"
#include "harness.h"
#include "agent/fleet.h"

IG_TEST(fleet_block_full_of_expired_blocks_is_pruned_not_stuck)
{
	struct infergate *skel = dp_load();
	int fd = bpf_map__fd(skel->maps.fleet_block);
	__u32 n = bpf_map__max_entries(skel->maps.fleet_block), count = n;
	struct ig_client_key *keys = calloc(n, sizeof(*keys)), k = { .port = PORT };
	__u64 *until = calloc(n, sizeof(*until)), forever = ~0ULL;
	struct ig_instance in;

	ASSERT_TRUE(keys && until, "memory");
	for (__u32 i = 0; i < n; i++) {
		keys[i].port = PORT;
		memcpy(keys[i].addr + 12, &i, sizeof(i));
		until[i] = 1; /* long past */
	}
	ASSERT_OK(bpf_map_update_batch(fd, keys, until, &count, NULL), "fill the map");
	memset(k.addr, 0xfd, 12);
	ASSERT_NEQ(bpf_map_update_elem(fd, &k, &forever, BPF_ANY), 0, "full: one more fails");
	/* one block still running */
	ASSERT_OK(bpf_map_update_elem(fd, &keys[7], &forever, BPF_EXIST), "a live block");
	dp_instance(skel, &in);
	ASSERT_EQ(ig_fleet_prune(&in), n - 1, "every expired block deleted");
	ASSERT_OK(bpf_map_lookup_elem(fd, &keys[7], &until[0]), "the live one kept");
	ASSERT_OK(bpf_map_update_elem(fd, &k, &forever, BPF_ANY), "room again");
	ig_instance_close(&in);
	free(keys);
	free(until);
}
