/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Who the client is (issue 16): the API keys an operator loads (`keys`, by
 * the seeded hash of their text: the text itself is never stored, printed
 * or logged), the anonymous policy of api-key ports (`key_policy[slot]`)
 * and the load balancers whose PROXY headers are believed (`proxy_from`).
 * An instance older than these maps has them closed (fd -1): reading finds
 * nothing there, writing anything but "none" asks for an attach.
 */
#ifndef IG_LIB_KEYS_H
#define IG_LIB_KEYS_H

#include <stdio.h>
#include <linux/types.h>
#include "ig_abi.h"
#include "lib/instance.h"

/* source, api-key, proxy-source: by enum ig_key_mode, NULL-terminated. */
extern const char *const ig_key_mode_names[IG_KEY_MODE_MAX + 1];
const char *ig_key_mode_name(unsigned int mode);
/* Silent: -EINVAL. */
int ig_key_mode_parse(const char *s, enum ig_key_mode *mode);

/* A slot's anonymous policy (all 0 where the map is missing or the slot is
 * out of range), and writing it (all 0 on an older instance is a no-op). */
int ig_key_policy_get(const struct ig_instance *in, __u32 slot, struct ig_key_policy *kp);
int ig_key_policy_put(const struct ig_instance *in, __u32 slot, const struct ig_key_policy *kp);

/* A key's name: 1-23 of [A-Za-z0-9_.@-], and not 16 hex digits (a hash,
 * which `key del` takes too). */
int ig_key_name_valid(const char *name);
/* Exactly 16 hex digits (an optional 0x before them). Silent: -EINVAL. */
int ig_key_hash_parse(const char *s, __u64 *hash);

/*
 * One line of a token file, in place: trailing CR, LF, spaces and tabs cut.
 * Returns the key's length, 0 for a line that holds none (blank, or a
 * comment: '#' first after any leading whitespace).
 */
size_t ig_token_line(char *line);
/* Every key of a token file hashed with `seed` (ig_key_hash, bpf/pure/apikey.h)
 * into *hashes (caller frees), *n of them; the text is wiped as it goes.
 * -errno said with ig_args_error (the config file's loader captures it)
 * naming the file and line, never a key; -ENODATA when it holds no key. */
int ig_token_file_hashes(const char *path, __u64 seed, __u64 **hashes, int *n);
/* The seed keys are hashed with: the fleet's (map `key_seed`) when set, else
 * the instance's own hash seed (map `seed`, IG_SEED_KEY_HASH). */
int ig_key_seed(const struct ig_instance *in, __u64 *seed);
/* A shared seed from a file: its first 16 hex digits (a line; whitespace
 * around it allowed). -errno said naming the file, never the seed. */
int ig_key_seed_file(const char *path, __u64 *seed);
/* Set (or with NULL, drop) the shared seed. With keys loaded a change is
 * refused (-EBUSY, said) unless `rehash` (the caller loads them again). */
int ig_key_seed_set(const struct ig_instance *in, const __u64 *seed, int rehash);
/* For people: whether a shared seed is set, and a fingerprint of the seed in
 * use that tells two nodes' seeds apart without showing either. */
int ig_key_seed_print(const struct ig_instance *in, FILE *out);

/* Store n hashes under name (tier: a named tier, made if new, or NULL).
 * An entry of the same name is replaced; one stored under another name is
 * -EEXIST (said, naming it, nothing written) unless `replace`. */
int ig_keys_add(const struct ig_instance *in, const char *name, const __u64 *hashes, int n,
		const char *tier, int deny, int replace);
/* Every key named `what`, or the one whose hash it is: how many went, or
 * -ENOENT logged when none. */
int ig_keys_del(const struct ig_instance *in, const char *what);
/* Entries in `keys` (0 where the map is missing), or -errno. */
int ig_keys_count(const struct ig_instance *in);
int ig_keys_print(const struct ig_instance *in, int json, FILE *out);

/* A client as people read it: an address, or for an API key's client
 * (ig_key_is_client) "key:<16 hex>" and " (NAME)" when `keys` names it
 * (in NULL: no name looked up, what the fleet's Redis keys use). */
void ig_client_format(const struct ig_instance *in, const __u8 addr[16], char *buf, size_t len);
/* The name `keys` has for an API key's client: 0, or -ENOENT (not a key's
 * client, not in the map, no name). */
int ig_client_key_name(const struct ig_instance *in, const __u8 addr[16], char *name,
		       size_t len);

/* The agent's [keys] section: applied as a diff (wanted entries written,
 * others deleted), after every token file is read: a file that cannot be
 * read leaves the map as it was. */
struct ig_key_want {
	char name[IG_KEY_NAME_LEN];
	char tier[IG_TIER_NAME_LEN]; /* "" : the port's rate */
	int deny;
	__u64 hash;                  /* path[0] == 0: this hash */
	char path[256];              /* a token file */
};
int ig_keys_apply(const struct ig_instance *in, const struct ig_key_want *w, int n);

#endif
