// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Frames and http_conns entries of the bench's `request` cases (bench_req.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "pure/steer.h"
#include "bench.h"

/* Targets of the `request` unit. */
#define TARGET_ACK_REQ_NS 15.0 /* a pure ACK, above one on a conn port */
#define TARGET_429_RATIO 2.0   /* a 429 against a RST, repeat 1 */
#define TARGET_REQ_NS 40.0     /* an admitted request, above an admitted SYN, repeat 1 */
#define TARGET_KEY_NS 60.0     /* the API key found in a 1 KB header block */

#define CLIENT_PORT 40000
#define CLIENT_PORT_2 40001 /* a second connection to PORT_REQ */

/* A request as an OpenAI SDK sends it, cut to ~100 bytes of header. */
static const char request[] = "POST /v1/chat/completions HTTP/1.1\r\n"
			      "Host: x\r\n"
			      "Content-Type: application/json\r\n"
			      "Content-Length: 2\r\n"
			      "\r\n"
			      "{}";

/* A request whose header block is ~1 KB, as a gateway's can be, its
 * Authorization line in the middle. */
static int request_1k(char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "POST /v1/chat/completions HTTP/1.1\r\nHost: inference.example\r\n"
			 "User-Agent: OpenAI/Python 1.54.0\r\nAccept: application/json\r\n"
			 "Content-Type: application/json\r\n");

	for (int i = 0; n < 560; i++)
		n += snprintf(buf + n, cap - (size_t)n, "X-Stainless-Meta-%d: %040d\r\n", i, i);
	n += snprintf(buf + n, cap - (size_t)n,
		      "Authorization: Bearer sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh\r\n");
	for (int i = 0; n < 1000; i++)
		n += snprintf(buf + n, cap - (size_t)n, "X-Trace-%d: %036d\r\n", i, i);
	n += snprintf(buf + n, cap - (size_t)n, "Content-Length: 2\r\n\r\n{}");
	return n;
}

/* The segment before the body segment's: where next_seq stands. */
#define BODY_GAP 1000

static void entry_init(struct req_entry *e, int fd, __u16 sport, __u16 dport, __u32 next_seq,
		       enum ig_http_scan st, __u64 left)
{
	__u8 client[16], server[16];

	ig_map_v4(client, ig_htonl(SRC_BASE));
	ig_map_v4(server, ig_htonl(DST_ADDR));
	e->fd = fd;
	ig_flow_key_make(&e->key, client, server, sport, dport, IG_DIR_HTTP);
	memset(&e->val, 0, sizeof(e->val));
	e->val.scan.state = (__u8)(st ^ IG_HS_START); /* as pure/http.h stores it */
	e->val.scan.left = left;
	e->val.next_seq = next_seq;
	/* what a refused charge restores is what was there: a repeat that
	 * is refused then leaves the entry exactly as put (req_entry_kept) */
	e->val.prev_scan = e->val.scan;
	e->val.prev_seq = next_seq;
}

void req_frames_init(struct req_frames *rf, int conns_fd)
{
	static const char body[] = "{\"role\": \"user\", \"content\": \"Summarise the following "
				   "text in three sentences, keeping names as";
	__u8 data = IG_TCP_ACK | IG_TCP_PSH;
	__u32 rlen = sizeof(request) - 1;

	rf->request_len = rlen;
	make_frame(rf->ack, CLIENT_PORT, PORT_REQ, IG_TCP_ACK);
	rf->ack_len = FRAME_LEN;
	rf->body_len = make_frame_payload(rf->body, CLIENT_PORT, PORT_REQ, data, body,
					  sizeof(body) - 1);
	/* the bytes are never read: any data segment of an opaque stream */
	rf->opaque_len = make_frame_payload(rf->opaque, CLIENT_PORT, PORT_REQ_OPAQUE, data,
					    request, rlen);
	rf->r429_len = make_frame_payload(rf->r429, CLIENT_PORT, PORT_REQ_429, data, request,
					  rlen);
	rf->admit_len = make_frame_payload(rf->admit, CLIENT_PORT, PORT_REQ_ADMIT, data,
					   request, rlen);
	rf->drop_len = make_frame_payload(rf->drop, CLIENT_PORT_2, PORT_REQ, data, request, rlen);

	/* the segment lies wholly before next_seq (BODY_GAP bytes past its
	 * end), inside a body whose end is far away: passed after a lookup and
	 * a compare, and the entry stays as it is (the stage only reads it) */
	entry_init(&rf->body_e, conns_fd, CLIENT_PORT, PORT_REQ, FRAME_SEQ + 2000 + BODY_GAP,
		   IG_HS_SKIP_BODY, 1ULL << 40);
	entry_init(&rf->drop_e, conns_fd, CLIENT_PORT_2, PORT_REQ, FRAME_SEQ, IG_HS_START, 0);
	entry_init(&rf->opaque_e, conns_fd, CLIENT_PORT, PORT_REQ_OPAQUE, FRAME_SEQ,
		   IG_HS_OPAQUE, 0);
	entry_init(&rf->r429_e, conns_fd, CLIENT_PORT, PORT_REQ_429, FRAME_SEQ, IG_HS_START, 0);
	entry_init(&rf->admit_e, conns_fd, CLIENT_PORT, PORT_REQ_ADMIT, FRAME_SEQ, IG_HS_START,
		   0);
	entry_init(&rf->retx_e, conns_fd, CLIENT_PORT, PORT_REQ_ADMIT, FRAME_SEQ + rlen,
		   IG_HS_START, 0);
	entry_init(&rf->other_e, conns_fd, 1, PORT_REQ_ADMIT, FRAME_SEQ, IG_HS_START, 0);
	{
		char big[1400];
		int n = request_1k(big, sizeof(big));

		rf->hdr1k_len = (__u32)(strstr(big, "\r\n\r\n") + 4 - big);
		rf->src1k_len = make_frame_payload(rf->src1k, CLIENT_PORT, PORT_REQ_SRC1K, data, big,
						   (size_t)n);
		rf->key1k_len = make_frame_payload(rf->key1k, CLIENT_PORT, PORT_REQ_KEY1K, data, big,
						   (size_t)n);
	}
	entry_init(&rf->src1k_e, conns_fd, CLIENT_PORT, PORT_REQ_SRC1K, FRAME_SEQ, IG_HS_START, 0);
	entry_init(&rf->key1k_e, conns_fd, CLIENT_PORT, PORT_REQ_KEY1K, FRAME_SEQ, IG_HS_START, 0);
}

void proxy_frames_init(struct proxy_frames *pf, int from_fd)
{
	static const char v1[] = "PROXY TCP6 fd00:c::2 fd00::1 40000 8000\r\n";
	struct ig_lpm_key k = { .prefixlen = 128, .addr = { [10] = 0xff, [11] = 0xff } };
	__u8 buf[256] = { '\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n',
			  0x21, 0x21, 0, 36 };
	__be32 src = htonl(SRC_BASE);
	__u32 one = 1;

	/* v2: PROXY over TCP/IPv6, fd00:c::2 port 40000 to fd00::1 port 8000 */
	buf[16] = 0xfd, buf[19] = 0x0c, buf[31] = 2;
	buf[32] = 0xfd, buf[47] = 1;
	buf[48] = 40000 >> 8, buf[49] = 40000 & 0xff, buf[50] = 8000 >> 8, buf[51] = 8000 & 0xff;
	memcpy(buf + 52, request, sizeof(request) - 1);
	pf->v2_len = make_frame_payload(pf->v2, CLIENT_PORT, 8011, IG_TCP_ACK | IG_TCP_PSH, buf,
					52 + sizeof(request) - 1);
	memcpy(buf, v1, sizeof(v1) - 1);
	memcpy(buf + sizeof(v1) - 1, request, sizeof(request) - 1);
	pf->v1_len = make_frame_payload(pf->v1, CLIENT_PORT, 8011, IG_TCP_ACK | IG_TCP_PSH, buf,
					sizeof(v1) - 1 + sizeof(request) - 1);
	pf->none_len = make_frame_payload(pf->none, CLIENT_PORT, 8011, IG_TCP_ACK | IG_TCP_PSH,
					  request, sizeof(request) - 1);
	memcpy(&k.addr[12], &src, 4);
	if (bpf_map_update_elem(from_fd, &k, &one, BPF_ANY))
		die("proxy_from update: %s", strerror(errno));
}

void req_entry_put(const struct req_entry *e)
{
	if (bpf_map_update_elem(e->fd, &e->key, &e->val, BPF_ANY))
		die("http_conns update: %s", strerror(errno));
}

bool req_entry_kept(const struct req_entry *e)
{
	struct ig_http_conn v;

	if (bpf_map_lookup_elem(e->fd, &e->key, &v))
		return false;
	return !memcmp(&v, &e->val, sizeof(v));
}

void req_check(const struct req_frames *rf, int prog_fd)
{
	static const char status[] = "HTTP/1.1 429 ";
	/* the reply's payload follows its IPv4 and TCP headers (no options) */
	const __u32 off = sizeof(struct ig_eth) + sizeof(struct ig_ipv4) + sizeof(struct ig_tcp);
	struct ig_http_conn v;
	__u8 out[FRAME_OUT];

	/* the first request is admitted (burst 1), the second refused */
	req_entry_put(&rf->r429_e);
	test_run_once(prog_fd, rf->r429, rf->r429_len, NULL, NULL);
	req_entry_put(&rf->r429_e);
	if (test_run_once(prog_fd, rf->r429, rf->r429_len, NULL, out) != XDP_TX_RC ||
	    memcmp(out + off, status, sizeof(status) - 1))
		die("the refused request did not become a 429");
	if (bpf_map_lookup_elem(rf->r429_e.fd, &rf->r429_e.key, &v) ||
	    !(v.flags & IG_HC_F_REFUSED))
		die("the 429's connection is not marked for teardown");

	/* the admitted request is read to its end: next_seq past it, and the
	 * scanner at the start of the next one */
	req_entry_put(&rf->admit_e);
	if (test_run_once(prog_fd, rf->admit, rf->admit_len, NULL, NULL) != XDP_PASS_RC ||
	    bpf_map_lookup_elem(rf->admit_e.fd, &rf->admit_e.key, &v) ||
	    v.next_seq != FRAME_SEQ + sizeof(request) - 1 ||
	    v.scan.state != (__u8)(IG_HS_START ^ IG_HS_START))
		die("the admitted request was not followed to its end");
}

void report_request(FILE *o, struct bcase *cases, int ncase, int rounds, unsigned long singles,
		    __u32 request_len, __u32 rf_hdr1k_len)
{
	struct bcase *ack = find_target(cases, ncase, T_ACK);
	struct bcase *ackr = find_target(cases, ncase, T_ACK_REQ);
	struct bcase *b1 = find_target(cases, ncase, T_BARE1);
	struct bcase *r429 = find_target(cases, ncase, T_429);
	struct bcase *rst = find_target(cases, ncase, T_RST1);
	struct bcase *req = find_target(cases, ncase, T_REQ1);
	struct bcase *syn = find_target(cases, ncase, T_SYN1);
	struct bcase *retx = find_target(cases, ncase, T_RETX1);
	struct bcase *drop1 = find_target(cases, ncase, T_REQ_DROP1);
	struct bcase *drop = find_target(cases, ncase, T_REQ_DROP);
	struct bcase *opq = find_target(cases, ncase, T_OPAQUE);
	double d_ack = ackr->med - ack->med, ratio = r429->med / rst->med;
	double d_req = req->med - syn->med;

	fprintf(o, "| ACK on a request port, above an ACK on a conn port | %+.1f ns | %.0f ns "
		   "| %s |\n", d_ack, TARGET_ACK_REQ_NS,
		target_word(case_ok(ack) && case_ok(ackr) && d_ack <= TARGET_ACK_REQ_NS));
	fprintf(o, "| 429 / RST, repeat 1 | x%.2f | x%.0f | %s |\n", ratio, TARGET_429_RATIO,
		target_word(case_ok(r429) && case_ok(rst) && ratio <= TARGET_429_RATIO));
	fprintf(o, "| admitted request segment, above an admitted SYN, repeat 1 | %+.1f ns | "
		   "%.0f ns | %s |\n", d_req, TARGET_REQ_NS,
		target_word(case_ok(req) && case_ok(syn) && d_req <= TARGET_REQ_NS));
	{
		/* issue 16's target is the finding: the request stage's rows.
		 * What the charge then does with a key (looked up in `keys`,
		 * its policy) is the whole path's rows, shown beside it. */
		struct bcase *s1k = find_target(cases, ncase, T_REQ1K_SRC);
		struct bcase *k1k = find_target(cases, ncase, T_REQ1K_KEY);
		struct bcase *ss = find_target(cases, ncase, T_STAGE1K_SRC);
		struct bcase *sk = find_target(cases, ncase, T_STAGE1K_KEY);
		double d_find = paired_diff(ss, sk, rounds), d_all = paired_diff(s1k, k1k, rounds);

		fprintf(o, "| API key found in a %u-byte header block: the request stage, "
			   "--key api-key above --key source, median of the rounds' differences "
			   "| %+.1f ns | %.0f ns | %s |\n", rf_hdr1k_len, d_find, TARGET_KEY_NS,
			target_word(case_ok(ss) && case_ok(sk) && d_find <= TARGET_KEY_NS));
		fprintf(o, "| ... found and used: the whole path, the key looked up in `keys` "
			   "(not there: charged as anonymous) | %+.1f ns | (none) | - |\n", d_all);
	}
	fprintf(o, "\nRequests: rows marked \"repeat 1\" are the kernel's own `duration` of "
		   "single test runs (%lu a round, their median, then the median over rounds), "
		   "each with the connection's entry and the frame put back first. Each such "
		   "duration includes a clock read (ktime_get_ns) and one pass of the test-run "
		   "loop, which is what the repeat-1 bare row measures (%.1f ns); \"above bare\" "
		   "of the other repeat-1 rows is above it. A 429 costs %.1f ns against %.1f ns "
		   "for a RST: x%.2f (above the repeat-1 bare: %.1f against %.1f ns, x%.2f). An "
		   "admitted request segment (a %u-byte request read by the scanner) costs "
		   "%.1f ns against %.1f ns for an admitted SYN: %+.1f ns.\n", singles, b1->med,
		r429->med, rst->med, ratio, r429->above, rst->above,
		r429->above / rst->above, request_len, req->med, syn->med, d_req);
	fprintf(o, "\nWhere it goes, above the repeat-1 bare: the stage for a segment counted "
		   "before (its call and parse, the entry's lookup, a compare) %.1f ns, where an "
		   "admitted SYN costs %.1f ns in all; the request admitted %.1f ns, dropped "
		   "%.1f ns, answered 429 %.1f ns (the reply: %+.1f ns). Repeated, with the "
		   "caches hot: the request dropped %.1f ns above bare, an opaque connection's "
		   "segment (no byte read) %.1f ns: %+.1f ns for the scanner.\n",
		retx->above, syn->above, req->above, drop1->above, r429->above,
		r429->med - drop1->med, drop->above, opq->above, drop->med - opq->med);
}
