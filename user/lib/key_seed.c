// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The seed API keys are hashed with (map `key_seed`). By default each
 * instance hashes with its own random seed, so a key's hash differs from host
 * to host; a fleet that limits keys together (fleet_rate on an api-key port)
 * shares one seed, read from a file that is as secret as the keys' hashes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/args.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "pure/apikey.h"

int ig_key_seed_file(const char *path, __u64 *seed)
{
	char line[128], *p, *end;
	FILE *f = fopen(path, "r");
	long digits;
	int err = 0;

	if (!f) {
		err = -errno;
		ig_args_error("cannot read the key seed file %s: %s", path, strerror(-err));
		return err;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	for (p = line; isspace((unsigned char)*p); p++)
		;
	errno = 0;
	*seed = strtoull(p, &end, 16);
	digits = end - p;
	while (isspace((unsigned char)*end))
		end++;
	if (digits != 16 || !isxdigit((unsigned char)*p) || *end || errno) {
		ig_args_error("%s: expected a key seed of 16 hex digits on its first line", path);
		return -EINVAL;
	}
	return 0;
}

int ig_key_seed_set(const struct ig_instance *in, const __u64 *seed, int rehash)
{
	struct ig_key_seed want = { 0 }, have = { 0 };
	__u32 zero = 0;
	int n;

	if (in->fd[IG_MAP_KEY_SEED] < 0) {
		ig_err("%s: no map key_seed (an instance made before 0.9): attach again first",
		       in->pin_dir);
		return -ENOENT;
	}
	if (seed) {
		want.seed = *seed;
		want.set = 1;
	}
	bpf_map_lookup_elem(in->fd[IG_MAP_KEY_SEED], &zero, &have);
	if (have.set == want.set && have.seed == want.seed)
		return 0;
	n = ig_keys_count(in);
	if (n < 0)
		return n;
	if (n && !rehash) {
		ig_err("%s: %d key(s) are loaded, hashed with the seed in use: a new seed would make "
		       "them nobody's (delete them, set the seed, load them again)", in->pin_dir, n);
		return -EBUSY;
	}
	if (bpf_map_update_elem(in->fd[IG_MAP_KEY_SEED], &zero, &want, BPF_ANY)) {
		int err = -errno;

		ig_err("%s: cannot write the key seed (map key_seed): %s", in->pin_dir,
		       strerror(-err));
		return err;
	}
	return 1;
}

int ig_key_seed_print(const struct ig_instance *in, FILE *out)
{
	struct ig_key_seed ks = { 0 };
	__u32 zero = 0;
	__u64 seed;
	int err;

	if (in->fd[IG_MAP_KEY_SEED] >= 0)
		bpf_map_lookup_elem(in->fd[IG_MAP_KEY_SEED], &zero, &ks);
	err = ig_key_seed(in, &seed);
	if (err)
		return err;
	/* a fingerprint: the hash of a fixed text, which only the seed changes */
	fprintf(out, "key seed: %s, fingerprint %016llx\n",
		ks.set ? "shared (set from a seed file)" : "the instance's own (hashes differ on "
							   "every host)",
		(unsigned long long)ig_key_hash(seed, "infergate key seed", 18));
	return 0;
}
