// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fleet-wide limits through Redis: see fleet.h for the scheme. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <hiredis/hiredis.h>
#include "agent/fleet.h"
#include "agent/fleet_lua.h"
#include "lib/util.h"
#include "lib/log.h"
#include "lib/args.h"
#include "lib/policy.h"
#include "lib/cidr.h"
#include "lib/jsoncheck.h"
#include "lib/keys.h"
#include "lib/names.h"

/* Redis answers within this or the sync gives up (the next one retries). */
#define IG_FLEET_TIMEOUT_MS 100
#define IG_FLEET_BACKOFF_MIN_MS 250
#define IG_FLEET_BACKOFF_MAX_MS 5000
#define IG_FLEET_NODE_EVERY_MS 1000
#define IG_FLEET_BATCH 4096
/* how often blocks that ran out are deleted (and whenever the map is full) */
#define IG_FLEET_PRUNE_MS 10000

/* The longest wait Redis may hand a source (fleet_max_wait): Redis is not
 * trusted with our clock. */
#define IG_FLEET_MAX_WAIT_US 3600000000ULL /* an hour */

/* The shared bucket's burst: a leaky bucket is the GCRA with a burst of 1. */
static __u64 fleet_burst(const struct ig_fleet_port *fp)
{
	return fp->algo == IG_ALGO_LEAKY_BUCKET ? 1 : fp->burst;
}

/* Which script counts a port (fleet_lua.h). */
static enum ig_fleet_script fleet_script(const struct ig_fleet_port *fp)
{
	if (fp->algo == IG_ALGO_FIXED_WINDOW)
		return IG_FLEET_FIXED;
	if (fp->algo == IG_ALGO_SLIDING_WINDOW)
		return IG_FLEET_SLIDING;
	return IG_FLEET_GCRA;
}

/* The longest debt a source is held to on this port: an hour, or at slow
 * rates (3/d) a whole burst's refill and one unit more. A window's wait is
 * never more than two windows (the sliding one's: the rest of this window
 * and the next), so that is its bound, whatever Redis answers. */
static __u64 fleet_max_wait(const struct ig_fleet_port *fp)
{
	unsigned __int128 us = (unsigned __int128)(fleet_burst(fp) + 1) *
			       ig_rate_period(fp->rate, 1) * 1000000 /
			       (ig_rate_n(fp->rate) ? ig_rate_n(fp->rate) : 1);

	if (fleet_script(fp) != IG_FLEET_GCRA)
		return 2 * ig_rate_period(fp->rate, 1) * 1000000ULL;

	/* and at most ~3 years: a block's end in data-path ns stays far from
	 * wrapping whatever burst was configured */
	if (us > 100000000000000ULL)
		us = 100000000000000ULL;
	return us > IG_FLEET_MAX_WAIT_US ? (__u64)us : IG_FLEET_MAX_WAIT_US;
}

struct ig_count {
	struct ig_client_key key;
	__u64 n;
};

struct ig_fleet {
	struct ig_fleet_cfg cfg;
	char host[256];
	int port, is_unix;
	redisContext *rc;
	char sha[IG_FLEET_NSCRIPTS][48]; /* SCRIPT LOAD's, per script */
	struct ig_fleet_port ports[IG_FLEET_MAX_PORTS];
	int nports;
	/* what fleet_counts held at the last sync that reached Redis, sorted */
	struct ig_count *last;
	size_t nlast;
	int rebase; /* the next sync only records counts (start, after an outage) */
	int key_warned; /* a charge refused at the last sync was said */
	__u64 next_sync_ms, next_connect_ms, backoff_ms, next_node_ms, next_prune_ms;
	struct ig_fleet_stats st;
};

int ig_fleet_parse_addr(const char *addr, char *host, size_t hostlen, int *port, int *is_unix)
{
	const char *colon;
	char *end;
	long p;

	if (!strncmp(addr, "unix:", 5)) {
		if (!addr[5] || strlen(addr + 5) >= hostlen) {
			ig_args_error("redis address %s: expected unix:/path/to/socket", addr);
			return -EINVAL;
		}
		snprintf(host, hostlen, "%s", addr + 5);
		*is_unix = 1;
		*port = 0;
		return 0;
	}
	colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= hostlen) {
		ig_args_error("redis address %s: expected HOST:PORT or unix:/path", addr);
		return -EINVAL;
	}
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535) {
		ig_args_error("redis address %s: bad port", addr);
		return -EINVAL;
	}
	/* [v6]:port */
	if (addr[0] == '[' && colon[-1] == ']')
		snprintf(host, hostlen, "%.*s", (int)(colon - addr - 2), addr + 1);
	else
		snprintf(host, hostlen, "%.*s", (int)(colon - addr), addr);
	*is_unix = 0;
	*port = (int)p;
	return 0;
}

static redisContext *redis_connect(const char *host, int port, int is_unix, const char *password,
				   const char *what)
{
	struct timeval tv = { 0, IG_FLEET_TIMEOUT_MS * 1000 };
	redisContext *rc;
	redisReply *r;

	rc = is_unix ? redisConnectUnixWithTimeout(host, tv) : redisConnectWithTimeout(host, port, tv);
	if (!rc || rc->err) {
		ig_dbg("%s: cannot connect to redis at %s%s%d: %s", what, host, is_unix ? "" : ":",
		       is_unix ? 0 : port, rc ? rc->errstr : "out of memory");
		if (rc)
			redisFree(rc);
		return NULL;
	}
	redisSetTimeout(rc, tv);
	if (password && *password) {
		r = redisCommand(rc, "AUTH %s", password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			ig_err("%s: redis refused AUTH: %s", what, r ? r->str : rc->errstr);
			if (r)
				freeReplyObject(r);
			redisFree(rc);
			return NULL;
		}
		freeReplyObject(r);
	}
	return rc;
}

int ig_fleet_new(struct ig_fleet **out, const struct ig_fleet_cfg *cfg)
{
	struct ig_fleet *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	f->cfg = *cfg;
	if (!f->cfg.interval_ms)
		f->cfg.interval_ms = IG_FLEET_DEFAULT_INTERVAL_MS;
	if (!f->cfg.node[0] && gethostname(f->cfg.node, sizeof(f->cfg.node) - 1))
		snprintf(f->cfg.node, sizeof(f->cfg.node), "node-%d", (int)getpid());
	err = ig_fleet_parse_addr(cfg->redis, f->host, sizeof(f->host), &f->port, &f->is_unix);
	if (err) {
		free(f);
		return err;
	}
	f->rebase = 1;
	f->backoff_ms = IG_FLEET_BACKOFF_MIN_MS;
	*out = f;
	return 0;
}

void ig_fleet_free(struct ig_fleet *f)
{
	if (!f)
		return;
	if (f->rc)
		redisFree(f->rc);
	free(f->last);
	free(f);
}

int ig_fleet_set_ports(struct ig_fleet *f, const struct ig_fleet_port *ports, int n)
{
	if (n < 0 || n > IG_FLEET_MAX_PORTS)
		return -E2BIG;
	memcpy(f->ports, ports, sizeof(*ports) * (size_t)n);
	f->nports = n;
	return 0;
}

void ig_fleet_stats(const struct ig_fleet *f, struct ig_fleet_stats *st)
{
	*st = f->st;
}

static const struct ig_fleet_port *fleet_port(const struct ig_fleet *f, __u16 port, __u8 proto)
{
	for (int i = 0; i < f->nports; i++)
		if (f->ports[i].port == port && f->ports[i].proto == proto)
			return &f->ports[i];
	return NULL;
}

static int count_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct ig_count *)a)->key, &((const struct ig_count *)b)->key,
		      sizeof(struct ig_client_key));
}

/* Every entry of fleet_counts, sorted by key, in batches. */
static int read_counts(const struct ig_fleet *f, const struct ig_instance *in,
		       struct ig_count **out, size_t *n)
{
	int fd = in->fd[IG_MAP_FLEET_COUNTS];
	struct ig_client_key keys[IG_FLEET_BATCH];
	__u64 vals[IG_FLEET_BATCH];
	struct ig_count *all = NULL, *grown;
	size_t cap = 0, len = 0;
	__u32 batch, count;
	void *in_batch = NULL;
	int err = 0, done = 0;

	while (!done) {
		count = IG_FLEET_BATCH;
		err = bpf_map_lookup_batch(fd, in_batch, &batch, keys, vals, &count, NULL);
		if (err) {
			err = -errno;
			if (err != -ENOENT) {
				ig_err("cannot read map fleet_counts: %s", strerror(-err));
				free(all);
				return err;
			}
			err = 0;
			done = 1; /* the last batch (possibly partial) */
		}
		in_batch = &batch;
		if (len + count > cap) {
			cap = (len + count) * 2;
			grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				free(all);
				return -ENOMEM;
			}
			all = grown;
		}
		for (__u32 i = 0; i < count; i++) {
			if (!fleet_port(f, keys[i].port, keys[i].proto))
				continue;
			all[len].key = keys[i];
			all[len].n = vals[i];
			len++;
		}
	}
	if (len)
		qsort(all, len, sizeof(*all), count_cmp);
	*out = all;
	*n = len;
	return 0;
}

static void key_name(char *buf, size_t len, const struct ig_client_key *k)
{
	char addr[IG_ADDR_STRLEN];

	/* an API key's client is the key's hash on every node: "key:<16 hex>" */
	ig_client_format(NULL, k->addr, addr, sizeof(addr));
	snprintf(buf, len, "ig:fleet:%u/%s:%s", k->port, ig_proto_name((enum ig_proto)k->proto),
		 addr);
}

static void fleet_down(struct ig_fleet *f, __u64 now_ms, const char *why)
{
	if (f->st.up || !f->st.errors)
		ig_warn("fleet: redis %s unusable (%s): enforcing local limits only, retrying",
			f->cfg.redis, why);
	f->st.up = 0;
	f->st.errors++;
	if (f->rc) {
		redisFree(f->rc);
		f->rc = NULL;
	}
	f->next_connect_ms = now_ms + f->backoff_ms;
	f->backoff_ms = f->backoff_ms * 2 > IG_FLEET_BACKOFF_MAX_MS ? IG_FLEET_BACKOFF_MAX_MS
								   : f->backoff_ms * 2;
	/* what hosts admit while Redis is away is not charged when it is back:
	 * a debt built from minutes of local admissions would block clients
	 * long after the outage */
	f->rebase = 1;
}

static int fleet_connect(struct ig_fleet *f, __u64 now_ms)
{
	redisReply *r;

	f->rc = redis_connect(f->host, f->port, f->is_unix, f->cfg.password, "fleet");
	if (!f->rc) {
		fleet_down(f, now_ms, "no connection");
		return -ECONNREFUSED;
	}
	/* every script, whatever the ports count with now: a reload may change
	 * a port's algorithm without a reconnect */
	for (int i = 0; i < IG_FLEET_NSCRIPTS; i++) {
		r = redisCommand(f->rc, "SCRIPT LOAD %s", ig_fleet_lua[i]);
		if (!r || r->type != REDIS_REPLY_STRING) {
			ig_dbg("fleet: SCRIPT LOAD of the %s script failed", ig_fleet_lua_name[i]);
			fleet_down(f, now_ms,
				   r && r->type == REDIS_REPLY_ERROR ? r->str : "SCRIPT LOAD failed");
			if (r)
				freeReplyObject(r);
			return -EIO;
		}
		snprintf(f->sha[i], sizeof(f->sha[i]), "%s", r->str);
		freeReplyObject(r);
	}
	if (!f->st.up)
		ig_info("fleet: redis %s reachable; node %s syncs every %llu ms", f->cfg.redis,
			f->cfg.node, (unsigned long long)f->cfg.interval_ms);
	f->st.up = 1;
	f->backoff_ms = IG_FLEET_BACKOFF_MIN_MS;
	return 0;
}

static __u64 last_count(const struct ig_fleet *f, const struct ig_client_key *k)
{
	struct ig_count probe = { .key = *k }, *hit;

	hit = f->nlast ? bsearch(&probe, f->last, f->nlast, sizeof(probe), count_cmp) : NULL;
	return hit ? hit->n : 0;
}

int ig_fleet_prune(const struct ig_instance *in)
{
	int fd = in->fd[IG_MAP_FLEET_BLOCK], err = 0, done = 0, ngone = 0;
	struct ig_client_key *keys = calloc(IG_FLEET_BATCH, sizeof(*keys)), *gone = NULL, *grown;
	__u64 *vals = calloc(IG_FLEET_BATCH, sizeof(*vals)), now;
	__u32 batch, count;
	void *in_batch = NULL;
	size_t cap = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	err = ig_datapath_now(in, &now);
	while (!err && !done) {
		count = IG_FLEET_BATCH;
		if (bpf_map_lookup_batch(fd, in_batch, &batch, keys, vals, &count, NULL)) {
			if (errno != ENOENT) {
				err = -errno;
				ig_warn("fleet: cannot read map fleet_block: %s", strerror(-err));
				break;
			}
			done = 1; /* the last batch (possibly partial) */
		}
		in_batch = &batch;
		for (__u32 i = 0; i < count; i++) {
			if (vals[i] > now)
				continue;
			if ((size_t)ngone == cap) {
				cap = cap ? 2 * cap : IG_FLEET_BATCH;
				grown = realloc(gone, cap * sizeof(*gone));
				if (!grown) {
					err = -ENOMEM;
					break;
				}
				gone = grown;
			}
			gone[ngone++] = keys[i];
		}
	}
	/* deleted after the walk, which a deletion under it could cut short */
	for (int i = 0; i < ngone; i++)
		bpf_map_delete_elem(fd, &gone[i]);
out:
	free(keys);
	free(vals);
	free(gone);
	return err ? err : ngone;
}

/* A block is a HASH entry that stays until deleted: a full map is pruned of
 * the blocks that ran out, and the write tried again. */
static int block(const struct ig_instance *in, const struct ig_client_key *k, __u64 until)
{
	int fd = in->fd[IG_MAP_FLEET_BLOCK];

	if (!bpf_map_update_elem(fd, k, &until, BPF_ANY))
		return 0;
	if (errno != E2BIG || ig_fleet_prune(in) <= 0)
		return -1;
	return bpf_map_update_elem(fd, k, &until, BPF_ANY);
}

/* Charge what each source was admitted since the last sync; block the ones
 * the fleet has spent. Pipelined: one round trip per sync. */
static int fleet_sync(struct ig_fleet *f, const struct ig_instance *in, __u64 now_ms)
{
	struct ig_count *cur = NULL;
	size_t ncur = 0, sent = 0;
	size_t *idx = NULL;
	int key_errors = 0;
	__u64 dp_now = 0, t0 = ig_mono_ms();
	int err;

	err = read_counts(f, in, &cur, &ncur);
	if (err)
		return err;
	if (f->rebase) {
		f->rebase = 0;
		goto keep;
	}
	idx = calloc(ncur ? ncur : 1, sizeof(*idx));
	if (!idx) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ncur; i++) {
		const struct ig_fleet_port *fp = fleet_port(f, cur[i].key.port, cur[i].key.proto);
		__u64 before = last_count(f, &cur[i].key);
		char key[96], delta[24], rate[24], burst[24], period[24], cap[24];
		const char *argv[9];
		size_t argl[9];

		/* a count below the last is an entry the LRU forgot and made again */
		if (!fp || cur[i].n == before)
			continue;
		key_name(key, sizeof(key), &cur[i].key);
		snprintf(delta, sizeof(delta), "%llu",
			 (unsigned long long)(cur[i].n > before ? cur[i].n - before : cur[i].n));
		snprintf(rate, sizeof(rate), "%llu", (unsigned long long)ig_rate_n(fp->rate));
		snprintf(burst, sizeof(burst), "%llu", (unsigned long long)fleet_burst(fp));
		snprintf(period, sizeof(period), "%llu",
			 (unsigned long long)ig_rate_period(fp->rate, 1) * 1000000ULL);
		snprintf(cap, sizeof(cap), "%llu", (unsigned long long)fleet_max_wait(fp));
		argv[0] = "EVALSHA", argv[1] = f->sha[fleet_script(fp)], argv[2] = "1", argv[3] = key;
		argv[4] = delta, argv[5] = rate, argv[6] = burst, argv[7] = period, argv[8] = cap;
		for (int a = 0; a < 9; a++) {
			argl[a] = strlen(argv[a]);
			f->st.bytes_sent += argl[a] + 16; /* RESP framing, roughly */
		}
		if (redisAppendCommandArgv(f->rc, 9, argv, argl) != REDIS_OK) {
			fleet_down(f, now_ms, f->rc->errstr);
			err = -EIO;
			goto out;
		}
		idx[sent++] = i;
	}
	for (size_t s = 0; s < sent; s++) {
		struct ig_count *c = &cur[idx[s]];
		redisReply *r = NULL;
		long long wait_us;

		if (redisGetReply(f->rc, (void **)&r) != REDIS_OK || !r) {
			fleet_down(f, now_ms, f->rc->errstr[0] ? f->rc->errstr : "no reply");
			err = -EIO;
			goto out;
		}
		if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8)) {
			/* this key's trouble (a Redis that refuses one write, say):
			 * the other sources are charged all the same */
			if (!key_errors++ && !f->key_warned)
				ig_warn("fleet: redis refused a charge (%s); other sources go on",
					r->str);
			f->st.errors++;
			freeReplyObject(r);
			continue;
		}
		if (r->type != REDIS_REPLY_INTEGER) {
			/* NOSCRIPT after a Redis restart: load it again next time */
			fleet_down(f, now_ms, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
			freeReplyObject(r);
			err = -EIO;
			goto out;
		}
		wait_us = r->integer;
		freeReplyObject(r);
		/* Redis is not trusted with our clock: until = now + wait must
		 * not wrap, whatever another script there returned */
		{
			const struct ig_fleet_port *fp =
				fleet_port(f, c->key.port, c->key.proto);
			__u64 most = fp ? fleet_max_wait(fp) : IG_FLEET_MAX_WAIT_US;

			if (wait_us > 0 && (__u64)wait_us > most)
				wait_us = (long long)most;
		}
		if (wait_us > 0) {
			__u64 until;

			if (!dp_now && ig_datapath_now(in, &dp_now))
				continue;
			until = dp_now + (__u64)wait_us * 1000;
			if (block(in, &c->key, until))
				ig_warn("fleet: cannot block a source in map fleet_block: %s",
					strerror(errno));
			else
				f->st.blocks++;
		}
	}
	f->key_warned = key_errors > 0; /* said again once it recurs after a clean sync */
	f->st.syncs++;
	f->st.sources = sent;
	f->st.last_sync_us = (ig_mono_ms() - t0) * 1000;
keep:
	free(f->last);
	f->last = cur;
	f->nlast = ncur;
	cur = NULL;
out:
	free(idx);
	free(cur);
	return err;
}

/* Also the heartbeat: a Redis that died while no source was charged is
 * noticed here, within a second. */
static void publish_node(struct ig_fleet *f, const char *json, __u64 now_ms)
{
	char key[96], ttl[24];
	redisReply *r;

	snprintf(key, sizeof(key), "ig:node:%s", f->cfg.node);
	snprintf(ttl, sizeof(ttl), "%llu",
		 (unsigned long long)(3 * (f->cfg.interval_ms > IG_FLEET_NODE_EVERY_MS
						   ? f->cfg.interval_ms
						   : IG_FLEET_NODE_EVERY_MS)));
	r = redisCommand(f->rc, "SET %s %s PX %s", key, json, ttl);
	f->st.bytes_sent += strlen(json) + strlen(key) + 32;
	if (!r || r->type == REDIS_REPLY_ERROR)
		fleet_down(f, now_ms, r ? r->str : f->rc->errstr);
	if (r)
		freeReplyObject(r);
}

void ig_fleet_tick(struct ig_fleet *f, const struct ig_instance *in, __u64 now_ms,
		   const char *node_json)
{
	if (now_ms < f->next_sync_ms)
		return;
	f->next_sync_ms = now_ms + f->cfg.interval_ms;
	if (!f->rc) {
		if (now_ms < f->next_connect_ms || fleet_connect(f, now_ms))
			return;
	}
	if (now_ms >= f->next_prune_ms) {
		f->next_prune_ms = now_ms + IG_FLEET_PRUNE_MS;
		ig_fleet_prune(in);
	}
	if (fleet_sync(f, in, now_ms) || !f->rc)
		return;
	if (node_json && now_ms >= f->next_node_ms) {
		f->next_node_ms = now_ms + IG_FLEET_NODE_EVERY_MS;
		publish_node(f, node_json, now_ms);
	}
}

/* `status --fleet` prints what Redis holds, and Redis is shared: as text,
 * control characters are shown as '?' (no terminal escape comes out of it). */
static void print_text(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		putchar(c < 0x20 || c == 0x7f ? '?' : c);
	}
	putchar('\n');
}

int ig_fleet_print_nodes(const char *redis, const char *password, int json)
{
	char host[256];
	int port, is_unix, err = 0, n = 0;
	redisContext *rc;
	redisReply *keys = NULL;

	if (ig_fleet_parse_addr(redis, host, sizeof(host), &port, &is_unix))
		return -EINVAL;
	rc = redis_connect(host, port, is_unix, password, "status --fleet");
	if (!rc) {
		ig_err("cannot reach redis at %s", redis);
		return -ECONNREFUSED;
	}
	/* a fleet is tens of nodes: KEYS on the node prefix is fine, and
	 * nodes that stopped publishing have expired */
	keys = redisCommand(rc, "KEYS ig:node:*");
	if (!keys || keys->type != REDIS_REPLY_ARRAY) {
		ig_err("redis at %s: KEYS failed: %s", redis, keys && keys->str ? keys->str : rc->errstr);
		err = -EIO;
		goto out;
	}
	if (json)
		printf("{\"nodes\":[");
	for (size_t i = 0; i < keys->elements; i++) {
		redisReply *v = redisCommand(rc, "GET %s", keys->element[i]->str);

		if (v && v->type == REDIS_REPLY_STRING) {
			if (!json) {
				print_text(v->str, v->len);
				n++;
			} else if (ig_json_is_object(v->str, v->len)) {
				/* as JSON only what is one object (no broken document) */
				printf("%s%.*s", n ? "," : "", (int)v->len, v->str);
				n++;
			} else {
				ig_warn("status --fleet: a node's entry in redis is not a JSON "
					"object; left out");
			}
		}
		if (v)
			freeReplyObject(v);
	}
	if (json)
		printf("]}\n");
	else if (!n)
		printf("no node has published its status in the last few seconds\n");
out:
	if (keys)
		freeReplyObject(keys);
	redisFree(rc);
	return err;
}
