// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * API keys in user space (issue 16, user/lib/keys.c): a token file's lines,
 * the hash `key add --token-file` stores being the one the request scanner
 * computes (bpf/pure/apikey.h, bpf/pure/http.h), names and hashes as
 * arguments, a key's client as top and fleet print it, and the usage errors
 * of `key`, `proxy-from` and `limit --key` (said before any instance is
 * opened: these run without one).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "lib/args.h"
#include "lib/keys.h"
#include "lib/proxy.h"
#include "pure/apikey.h"
#include "pure/http.h"
#include "harness.h"

static const __u64 seed = 0x5eed0123456789abULL;

/* The hash as apikey.h documents it, written out again: from the seeded
 * basis, each 8-byte little-endian word of the text (the last one
 * zero-padded) mixed in, then its length and the finaliser. */
static __u64 reference_hash(__u64 s, const char *text)
{
	__u64 h = 0xcbf29ce484222325ULL ^ (s * 0x9e3779b97f4a7c15ULL);
	size_t n = strlen(text);

	for (size_t at = 0; at < n; at += 8) {
		__u64 w = 0;

		for (size_t b = 0; b < 8 && at + b < n; b++)
			w |= (__u64)(__u8)text[at + b] << (8 * b);
		h ^= w;
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h ^= n;
	h ^= s;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* What the request stage makes of one request's headers: the scanner's
 * last key value, its credential, hashed. */
static __u64 scanned_hash(const char *req)
{
	static __u8 buf[IG_HTTP_CHUNK] __attribute__((aligned(8)));
	static __u8 val[IG_KEY_VALUE_MAX] __attribute__((aligned(8)));
	struct ig_http_state st = { .flags = IG_HF_KEYS };
	struct ig_http_keys k = { 0 };
	size_t n = strlen(req), off = 0;
	__u32 count = 0, len, o = 0, c = 0;

	while (off < n) {
		__u32 used;

		off += ig_http_skip(&st, n - off);
		if (off == n)
			break;
		len = (__u32)(n - off < IG_HTTP_CHUNK ? n - off : IG_HTTP_CHUNK);
		memset(buf, 0xa5, sizeof(buf));
		memcpy(buf, req + off, len);
		k.base = (__u32)off;
		used = ig_http_feed(&st, buf, len, &count, &k);
		ASSERT_GT(used, 0, "the scanner makes progress");
		off += used;
	}
	ASSERT_EQ(count, 1, "one request");
	ASSERT_EQ(k.found, 1, "a key was read");
	len = k.end - k.start;
	ASSERT_LE(len, IG_KEY_VALUE_MAX, "a value the data path reads");
	memcpy(val, req + k.start, len);
	ASSERT_OK(ig_key_token(val, len, &o, &c), "a credential");
	memmove(val, val + o, c);
	return ig_key_words(val, c, seed);
}

static char tmp[64];

static const char *put_tokens(const char *text)
{
	int fd;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "/tmp/ig-keys-XXXXXX");
	fd = mkstemp(tmp);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	ASSERT_TRUE(f != NULL, "temporary file");
	fputs(text, f);
	fclose(f);
	return tmp;
}

IG_TEST(keys_token_lines_cut_their_ends_and_skip_comments)
{
	char a[] = "sk-alice-1\r\n", b[] = "  # a comment\n", c[] = " \t\r\n", d[] = "sk 2 \t \n",
	     e[] = "#sk\n";

	ASSERT_EQ(ig_token_line(a), 10, "CR LF cut");
	ASSERT_STREQ(a, "sk-alice-1", "the key");
	ASSERT_EQ(ig_token_line(b), 0, "a comment");
	ASSERT_EQ(ig_token_line(c), 0, "a blank line");
	ASSERT_EQ(ig_token_line(d), 4, "trailing blanks cut, inner ones kept");
	ASSERT_EQ(ig_token_line(e), 0, "'#' first is a comment");
}

IG_TEST(keys_token_file_hash_is_apikey_h_and_the_scanners)
{
	__u64 *h = NULL;
	int n = 0;

	put_tokens("# the premium keys\nsk-alice-1\r\n\n  sk-alice-2  \n# end\n");
	ASSERT_OK(ig_token_file_hashes(tmp, seed, &h, &n), "read");
	unlink(tmp);
	ASSERT_EQ(n, 2, "two keys, comments and blank lines skipped");
	ASSERT_EQ(h[0], ig_key_hash(seed, "sk-alice-1", 10), "apikey.h's hash");
	ASSERT_EQ(h[0], reference_hash(seed, "sk-alice-1"), "words from the seeded basis");
	ASSERT_EQ(h[1], reference_hash(seed, "sk-alice-2"), "blanks at the ends cut");
	ASSERT_NEQ(h[0], ig_key_hash(seed + 1, "sk-alice-1", 10), "another seed, another hash");
	/* the headers the scanner reads, Bearer-less and whitespace skipped */
	ASSERT_EQ(scanned_hash("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer sk-alice-1\r\n\r\n"),
		  h[0], "Authorization: Bearer");
	ASSERT_EQ(scanned_hash("POST /v1/chat HTTP/1.1\r\nx-api-key:  sk-alice-1 \r\n"
			       "Content-Length: 0\r\n\r\n"),
		  h[0], "x-api-key");
	ASSERT_EQ(scanned_hash("GET / HTTP/1.1\r\nApi-Key: sk-alice-2\r\n\r\n"), h[1], "api-key");
	free(h);
}

IG_TEST(keys_token_file_errors_name_the_file_never_a_key)
{
	__u64 *h = (__u64 *)1;
	int n = 1;
	char msg[256];

	put_tokens("# nothing here\n\n");
	ig_args_capture(msg, sizeof(msg));
	ASSERT_EQ(ig_token_file_hashes(tmp, seed, &h, &n), -ENODATA, "no key");
	ig_args_capture(NULL, 0);
	ASSERT_TRUE(strstr(msg, tmp) != NULL, msg);
	ASSERT_TRUE(h == NULL && n == 0, "nothing handed back");
	unlink(tmp);
	ig_args_capture(msg, sizeof(msg));
	ASSERT_EQ(ig_token_file_hashes("/nonexistent/tokens", seed, &h, &n), -ENOENT, "missing");
	ig_args_capture(NULL, 0);
	ASSERT_TRUE(strstr(msg, "/nonexistent/tokens") != NULL, msg);
	put_tokens("sk-secret-1\nsk-se\0cret\n");
	/* fputs stops at the NUL: write it by hand */
	{
		FILE *f = fopen(tmp, "w");

		ASSERT_TRUE(f != NULL, "rewrite");
		fwrite("sk-secret-1\nsk-se\0cret\n", 1, 23, f);
		fclose(f);
	}
	ig_args_capture(msg, sizeof(msg));
	ASSERT_EQ(ig_token_file_hashes(tmp, seed, &h, &n), -EINVAL, "a NUL byte");
	ig_args_capture(NULL, 0);
	ASSERT_TRUE(strstr(msg, ":2:") != NULL, msg);
	ASSERT_TRUE(strstr(msg, "secret") == NULL, "no key text in the message");
	unlink(tmp);
}

IG_TEST(keys_names_hashes_and_modes)
{
	__u64 h;
	enum ig_key_mode m;

	ASSERT_OK(ig_key_hash_parse("0123456789abcdef", &h), "16 hex digits");
	ASSERT_EQ(h, 0x0123456789abcdefULL, "value");
	ASSERT_OK(ig_key_hash_parse("0xFFFFFFFFFFFFFFFF", &h), "0x and upper case");
	ASSERT_EQ(ig_key_hash_parse("123", &h), -EINVAL, "too short");
	ASSERT_EQ(ig_key_hash_parse("0123456789abcdefg", &h), -EINVAL, "too long");
	ASSERT_EQ(ig_key_hash_parse("0123456789abcdeg", &h), -EINVAL, "not hex");
	ASSERT_TRUE(ig_key_name_valid("alice"), "a name");
	ASSERT_TRUE(ig_key_name_valid("team.ml-ops_2@corp"), "dots, dashes, at");
	ASSERT_FALSE(ig_key_name_valid(""), "empty");
	ASSERT_FALSE(ig_key_name_valid("0123456789abcdef"), "a hash is not a name");
	ASSERT_FALSE(ig_key_name_valid("abcdefghijklmnopqrstuvwx"), "24 characters");
	ASSERT_FALSE(ig_key_name_valid("no way"), "a blank");
	ASSERT_OK(ig_key_mode_parse("api-key", &m), "api-key");
	ASSERT_EQ(m, IG_KEY_API, "api-key's value");
	ASSERT_OK(ig_key_mode_parse("proxy-source", &m), "proxy-source");
	ASSERT_EQ(m, IG_KEY_PROXY, "proxy-source's value");
	ASSERT_EQ(ig_key_mode_parse("apikey", &m), -EINVAL, "a typo");
	ASSERT_STREQ(ig_key_mode_name(IG_KEY_SOURCE), "source", "0 is the source");
}

IG_TEST(keys_a_key_client_prints_as_its_hash)
{
	__u8 a[16], v4[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };
	char buf[64];

	ig_key_client(a, 0x0123456789abcdefULL);
	ig_client_format(NULL, a, buf, sizeof(buf));
	ASSERT_STREQ(buf, "key:0123456789abcdef", "the fleet's Redis key tail");
	ig_client_format(NULL, v4, buf, sizeof(buf));
	ASSERT_STREQ(buf, "10.0.0.1", "an address stays an address");
}

IG_TEST(keys_proxy_from_lists_parse)
{
	struct ig_lpm_key k[4];
	int n;

	ASSERT_OK(ig_proxy_from_parse("10.0.0.0/8,fd00::/64 192.168.1.1", k, 4, &n), "three");
	ASSERT_EQ(n, 3, "three prefixes");
	ASSERT_EQ(k[0].prefixlen, 96 + 8, "IPv4 IPv4-mapped, as in tiers");
	ASSERT_EQ(k[2].prefixlen, 128, "a host");
	ASSERT_EQ(ig_proxy_from_parse("10.0.0.0/33", k, 4, &n), -EINVAL, "bad prefix");
	ASSERT_EQ(ig_proxy_from_parse(",", k, 4, &n), -EINVAL, "empty");
	ASSERT_EQ(ig_proxy_from_parse("1.1.1.1,2.2.2.2", k, 1, &n), -E2BIG, "too many");
}

static int run(const struct ig_cmd *cmds, const char *name, const char *line)
{
	char buf[512], *argv[32], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s %s", name, line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	for (const struct ig_cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return ig_cmd_run(c, argc, argv);
	return -1;
}

IG_TEST(keys_cli_usage_errors)
{
	static const struct {
		const struct ig_cmd *cmds;
		const char *name, *line;
	} bad[] = {
		{ ig_key_cmds, "key", "add alice" },
		{ ig_key_cmds, "key", "add alice --hash 12 " },
		{ ig_key_cmds, "key", "add alice --hash 0123456789abcdef --token-file /x" },
		{ ig_key_cmds, "key", "add 0123456789abcdef --hash 0123456789abcdef" },
		{ ig_key_cmds, "key", "add alice --hash 0123456789abcdef --tier deny" },
		{ ig_key_cmds, "key", "add" },
		{ ig_key_cmds, "key", "del" },
		{ ig_key_cmds, "key", "del alice --deny" },
		{ ig_key_cmds, "key", "add alice --hash 0123456789abcdef --json" },
		{ ig_key_cmds, "key", "rotate alice" },
		{ ig_key_cmds, "proxy-from", "add" },
		{ ig_key_cmds, "proxy-from", "add 10.0.0.0/40" },
		{ ig_key_cmds, "proxy-from", "trust 10.0.0.0/8" },
		{ ig_limit_cmds, "limit", "8000 --rate 5/s --key api-key" },
		{ ig_limit_cmds, "limit", "8000 --rate 5/s --key apikey" },
		{ ig_limit_cmds, "limit", "53/udp --rate 5/s --key proxy-source" },
		{ ig_limit_cmds, "limit", "8000 --rate 5/s --anonymous-rate 1/s" },
		{ ig_limit_cmds, "limit", "8000 --rate 5/s --unit request --any-key" },
		{ ig_limit_cmds, "limit", "8000 --rate 5/s --unit request --key api-key --anonymous-burst 4" },
		{ ig_limit_cmds, "limit", "8000 --rate 5/s --unit request --key api-key --proxy-from 10.0.0.0/8" },
		{ ig_limit_cmds, "limit", "8000 --rate 5/s --key proxy-source --proxy-from 10.0.0.0/40" },
		{ ig_limit_cmds, "limit", "8000 --rate 5/s --key proxy-source --anonymous-rate 0" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(run(bad[i].cmds, bad[i].name, bad[i].line), 2, bad[i].line);
}

IG_TEST(keys_seed_file_is_16_hex_digits)
{
	__u64 seed = 0;

	put_tokens("  0123456789abcdef \n# anything after\n");
	ASSERT_OK(ig_key_seed_file(tmp, &seed), "read");
	unlink(tmp);
	ASSERT_EQ(seed, 0x0123456789abcdefULL, "the seed");
	put_tokens("0123456789abcde\n");
	ASSERT_EQ(ig_key_seed_file(tmp, &seed), -EINVAL, "15 digits: refused");
	unlink(tmp);
	put_tokens("0123456789abcdefg\n");
	ASSERT_EQ(ig_key_seed_file(tmp, &seed), -EINVAL, "junk after it: refused");
	unlink(tmp);
	put_tokens("");
	ASSERT_EQ(ig_key_seed_file(tmp, &seed), -EINVAL, "empty: refused");
	unlink(tmp);
	ASSERT_EQ(ig_key_seed_file("/nonexistent/ig-seed", &seed), -ENOENT, "missing: said");
}
