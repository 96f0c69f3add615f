// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --key api-key through BPF_PROG_TEST_RUN, on both ingress hooks: requests
 * from one address charged to the key each carries, a tier by key, the
 * anonymous policy, made-up and revoked keys, and the 429's Retry-After and
 * drop event naming the key's bucket. As in test_request.c, each segment's
 * connection entry is put in first (a test run has no socket).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "dp.h"
#include "frames.h"
#include "harness.h"
#include "lib/keys.h"
#include "pure/apikey.h"
#include "pure/steer.h"

#define SEQ 1000
#define SLOT 1
#define SEED 0x5eed /* dp_load()'s */
#define PREMIUM 5

static struct ig_frame key_req(int v6, const char *hdr, char *buf, size_t cap)
{
	struct ig_frame_spec s;
	int n = snprintf(buf, cap, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n%s"
			 "Content-Length: 2\r\n\r\n{}", hdr);

	ig_frame_defaults(&s, v6, IG_F_TCP);
	s.tcp_flags = IG_TCP_ACK | IG_TCP_PSH;
	s.seq = SEQ;
	s.ack = 777000;
	s.payload = buf;
	s.payload_len = (size_t)n;
	return IG_FRAME(&s);
}

static void conn_put(struct infergate *skel, int v6)
{
	struct ig_flow_key k;
	struct ig_http_conn v = {};
	__u8 c[16] = {}, sv[16] = {};

	if (v6) {
		c[0] = sv[0] = 0xfd;
		c[15] = 1;
		sv[15] = 2;
	} else {
		ig_map_v4(c, ig_htonl(0xc6120001));
		ig_map_v4(sv, ig_htonl(0xc6120002));
	}
	ig_flow_key_make(&k, c, sv, 40000, PORT, IG_DIR_HTTP);
	v.next_seq = v.prev_seq = SEQ;
	ASSERT_OK(bpf_map__update_elem(skel->maps.http_conns, &k, sizeof(k), &v, sizeof(v), BPF_ANY),
		  "the connection's entry");
}

static __u64 hash_of(const char *key)
{
	return ig_key_hash(SEED, key, strlen(key));
}

static void key_put(struct infergate *skel, const char *key, __u32 tier, __u32 flags)
{
	struct ig_key v = { .tier = tier, .flags = flags };
	__u64 h = hash_of(key);

	snprintf(v.name, sizeof(v.name), "%s", key);
	ASSERT_OK(bpf_map__update_elem(skel->maps.keys, &h, sizeof(h), &v, sizeof(v), BPF_ANY),
		  "a key");
}

/* Port 8000: request unit, rate 1/s, burst 2, answered 429; api-key. */
static struct infergate *setup(__u32 flags, const struct ig_key_policy *kp)
{
	struct infergate *skel = dp_load();
	struct ig_policy pol = { .rate = 1, .burst = 2, .slot = SLOT, .unit = IG_UNIT_REQUEST,
				 .action = IG_ACTION_REJECT,
				 .flags = IG_POL_F_HIER | (IG_KEY_API << IG_POL_KEY_SHIFT) | flags };
	struct ig_key_policy none = {};
	struct ig_tier_key tk = { .tier = PREMIUM, .port = PORT, .proto = IG_PROTO_TCP };
	struct ig_rate premium = { .rate = 10, .burst = 5 };
	__u32 idx = IG_PORT_INDEX(IG_PROTO_TCP, PORT), slot = SLOT;

	dp_limit(skel, IG_PROTO_TCP, PORT, 1, 2, IG_UNIT_REQUEST, IG_ACTION_REJECT);
	ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol), BPF_ANY),
		  "policy");
	ASSERT_OK(bpf_map__update_elem(skel->maps.key_policy, &slot, 4, kp ? kp : &none,
				       sizeof(none), BPF_ANY), "key policy");
	ASSERT_OK(bpf_map__update_elem(skel->maps.tier_policy, &tk, sizeof(tk), &premium,
				       sizeof(premium), BPF_ANY), "the premium tier's rate");
	key_put(skel, "sk-a", 0, 0);
	key_put(skel, "sk-b", 0, 0);
	key_put(skel, "sk-p", PREMIUM, 0);
	key_put(skel, "sk-revoked", 0, IG_KEY_F_DENY);
	return skel;
}

/* Send one request with header hdr ("" for none): the program's return. */
static __u32 send_req(struct infergate *skel, enum hook h, int v6, const char *hdr,
		  struct ig_frame *out)
{
	char buf[512];
	struct ig_frame f = key_req(v6, hdr, buf, sizeof(buf));

	conn_put(skel, v6);
	return dp_run(skel, h, f.buf, f.len, out);
}

/* n requests with hdr admitted, the next one answered with a 429. */
static void admits(struct infergate *skel, enum hook h, int v6, const char *hdr, int n,
		   const char *what)
{
	struct ig_frame out;

	for (int i = 0; i < n; i++)
		ASSERT_EQ(send_req(skel, h, v6, hdr, &out), rc_pass[h], what);
	ASSERT_EQ(send_req(skel, h, v6, hdr, &out), rc_tx[h], what);
}

IG_TEST(apikey_keys_from_one_address_each_have_their_budget)
{
	for (int h = 0; h < NHOOKS; h++)
		for (int v6 = 0; v6 < 2; v6++) {
			struct infergate *skel = setup(0, NULL);

			admits(skel, h, v6, "Authorization: Bearer sk-a\r\n", 2, "key a: its burst");
			admits(skel, h, v6, "x-api-key: sk-b\r\n", 2, "key b: a budget of its own");
			admits(skel, h, v6, "api-key: sk-p\r\n", 5, "key p: its tier's burst");
			/* no key, then a made-up one: the address's one budget */
			admits(skel, h, v6, "", 2, "anonymous: the address's");
			admits(skel, h, v6, "Authorization: Bearer sk-made-up\r\n", 0,
			       "a key nobody loaded is anonymous");
			ASSERT_EQ(dp_count(skel, SLOT, IG_R_REJECT_HTTP), 5, "five 429s");
		}
}

IG_TEST(apikey_revoked_key_is_refused_and_new_keys_buy_nothing)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = setup(0, NULL);
		struct ig_frame out;
		char hdr[64];

		ASSERT_EQ(send_req(skel, h, 0, "Authorization: Bearer sk-revoked\r\n", &out), rc_drop[h],
			  "a revoked key: dropped");
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_DROP_DENY), 1, "as denied");
		/* a flood of fresh keys from one address: two admitted in all */
		for (int i = 0; i < 50; i++) {
			snprintf(hdr, sizeof(hdr), "x-api-key: fresh-%d\r\n", i);
			send_req(skel, h, 0, hdr, &out);
		}
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_PASS_ADMITTED), 2, "the address's burst, no more");
	}
}

/* A key read wherever its value lies against the scanner's 256-byte chunks:
 * inside the first or a later one (hashed from the chunk), or across two
 * (read from the frame again): a revoked key is refused every time. */
IG_TEST(apikey_read_wherever_the_value_lies_against_the_chunks)
{
	static const int at[] = { 240, 246, 250, 253, 255, 256, 257, 262, 500, 505, 511, 512, 513 };

	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = setup(0, NULL);
		__u64 denied = 0;

		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			/* the value starts 76 + pad bytes into the payload */
			int pad = at[i] - 76;
			char hdr[640], buf[1024];
			struct ig_frame out, f;

			snprintf(hdr, sizeof(hdr), "X-Pad: %.*s\r\nAuthorization: Bearer sk-revoked\r\n",
				 pad, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
			f = key_req(0, hdr, buf, sizeof(buf));
			ASSERT_EQ((int)(strstr(buf, "sk-revoked") - buf), at[i], "where the value starts");
			conn_put(skel, 0);
			ASSERT_EQ(dp_run(skel, h, f.buf, f.len, &out), rc_drop[h], hdr + pad + 9);
			ASSERT_EQ(dp_count(skel, SLOT, IG_R_DROP_DENY), ++denied, "as denied");
		}
		ASSERT_EQ(dp_count(skel, SLOT, IG_R_PASS_ADMITTED), 0, "none let by as anonymous");
	}
}

IG_TEST(apikey_any_key_makes_each_key_a_client)
{
	struct infergate *skel = setup(IG_POL_F_ANY_KEY, NULL);

	admits(skel, XDP, 0, "x-api-key: unloaded-1\r\n", 2, "an unloaded key: its own");
	admits(skel, XDP, 0, "x-api-key: unloaded-2\r\n", 2, "and another");
	admits(skel, XDP, 0, "", 2, "anonymous: the address's");
}

IG_TEST(apikey_anonymous_rate)
{
	struct ig_key_policy kp = { .anon_rate = 0, .anon_burst = 0, .flags = IG_KP_F_ANON };
	struct infergate *skel = setup(0, &kp);

	admits(skel, TC, 0, "", 0, "anonymous rate 0: refused");
	admits(skel, TC, 0, "x-api-key: sk-a\r\n", 2, "a key: admitted");
	kp.anon_rate = 100;
	kp.anon_burst = 7;
	skel = setup(0, &kp);
	admits(skel, TC, 1, "", 7, "anonymous: its own burst");
}

/* The 429's Retry-After is the key's bucket's at the key's rate; the drop
 * event names the key. */
IG_TEST(apikey_429_and_event_name_the_key)
{
	struct infergate *skel = setup(0, NULL);
	struct ig_event ev[4];
	struct ig_frame out;
	char text[1024];
	__u8 want[16];
	int n;

	admits(skel, XDP, 0, "api-key: sk-p\r\n", 5, "premium");
	ASSERT_EQ(send_req(skel, XDP, 0, "api-key: sk-p\r\n", &out), rc_tx[XDP], "again refused");
	memset(text, 0, sizeof(text));
	memcpy(text, out.buf + 14 + 20 + 20, out.len - 54 < sizeof(text) - 1 ? out.len - 54 : 0);
	ASSERT_TRUE(strstr(text, "retry-after-ms: 100 ") != NULL, "1/10 s: the tier's rate");
	ASSERT_TRUE(strstr(text, "x-ratelimit-limit-requests: 00000600") != NULL, "10/s a minute");
	n = dp_events(skel, ev, 4);
	ASSERT_GE(n, 1, "an event");
	ig_key_client(want, hash_of("sk-p"));
	ASSERT_MEMEQ(ev[0].source, want, 16, "the key's client");
	ASSERT_TRUE(ig_key_is_client(ev[0].source), "as a key");
	ASSERT_EQ(ig_key_of_client(ev[0].source), hash_of("sk-p"), "its hash");
}

/* On a port keyed by source, the same headers change nothing. */
IG_TEST(apikey_ignored_on_a_source_port)
{
	struct infergate *skel = dp_load();

	dp_limit(skel, IG_PROTO_TCP, PORT, 1, 2, IG_UNIT_REQUEST, IG_ACTION_REJECT);
	admits(skel, XDP, 0, "x-api-key: sk-a\r\n", 2, "the address's burst");
	admits(skel, XDP, 0, "x-api-key: sk-b\r\n", 0, "the same address");
}

/* --key proxy-source: the client a connection's PROXY header named (its
 * proxy_conns entry, put in here as the request stage makes it from the
 * header) is charged, not the balancer's address. */
static void proxy_put(struct infergate *skel, __u16 cport, const char *client)
{
	struct ig_flow_key k;
	struct ig_proxy_conn v = { .family = 4, .port = 5555 };
	__u8 c[16] = {}, sv[16] = {};

	ig_map_v4(c, ig_htonl(0xc6120001));
	ig_map_v4(sv, ig_htonl(0xc6120002));
	ig_flow_key_make(&k, c, sv, cport, PORT, IG_DIR_PROXY);
	ASSERT_EQ(inet_pton(AF_INET, client, v.client + 12), 1, "an address");
	v.client[10] = v.client[11] = 0xff;
	ASSERT_OK(bpf_map__update_elem(skel->maps.proxy_conns, &k, sizeof(k), &v, sizeof(v),
				       BPF_ANY), "the connection's client");
}

IG_TEST(apikey_proxy_source_charges_the_named_client)
{
	for (int h = 0; h < NHOOKS; h++) {
		struct infergate *skel = setup(0, NULL);
		struct ig_policy pol = { .rate = 1, .burst = 2, .slot = SLOT,
					 .unit = IG_UNIT_REQUEST, .action = IG_ACTION_REJECT,
					 .flags = IG_POL_F_HIER | (IG_KEY_PROXY << IG_POL_KEY_SHIFT) };
		__u32 idx = IG_PORT_INDEX(IG_PROTO_TCP, PORT);

		ASSERT_OK(bpf_map__update_elem(skel->maps.port_policy, &idx, 4, &pol, sizeof(pol),
					       BPF_ANY), "policy");
		proxy_put(skel, 40000, "203.0.113.7");
		admits(skel, h, 0, "", 2, "client one, behind the balancer");
		proxy_put(skel, 40000, "203.0.113.8");
		admits(skel, h, 0, "", 2, "client two: a budget of its own");
		proxy_put(skel, 40000, "203.0.113.7");
		admits(skel, h, 0, "", 0, "client one: still spent");
	}
}

/* A fleet's shared seed (map key_seed): the data path hashes with it, and
 * user space reads it for `key add --token-file`. */
IG_TEST(apikey_shared_seed_is_the_hash_seed)
{
	struct infergate *skel = setup(0, NULL);
	struct ig_key_seed ks = { .seed = 0xfeedfacecafebeefULL, .set = 1 };
	struct ig_key v = { 0 };
	struct ig_instance in;
	__u64 h = ig_key_hash(ks.seed, "sk-fleet", 8), seed = 0;
	__u32 zero = 0;

	ASSERT_OK(bpf_map__update_elem(skel->maps.key_seed, &zero, 4, &ks, sizeof(ks), BPF_ANY),
		  "the shared seed");
	ASSERT_OK(bpf_map__update_elem(skel->maps.keys, &h, sizeof(h), &v, sizeof(v), BPF_ANY),
		  "a key hashed with it");
	admits(skel, XDP, 0, "", 2, "anonymous: the address's");
	admits(skel, XDP, 0, "x-api-key: sk-fleet\r\n", 2, "the key, by the shared seed's hash");
	dp_instance(skel, &in);
	ASSERT_OK(ig_key_seed(&in, &seed), "user space's seed");
	ASSERT_EQ(seed, ks.seed, "the shared one");
	ig_instance_close(&in);
	ks.set = 0;
	ASSERT_OK(bpf_map__update_elem(skel->maps.key_seed, &zero, 4, &ks, sizeof(ks), BPF_ANY),
		  "back to the instance's seed");
}
