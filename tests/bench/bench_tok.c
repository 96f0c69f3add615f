// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Frames and reading states of the bench's token cases (bench_tok.h). */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "pure/resp_read.h"
#include "bench.h"
#include "bench_tok.h"

/* What reading a streamed event may cost above charging its bytes. */
#define TARGET_EVENT_NS 20.0
/* What taking the times may cost a response segment (issue 15). */
#define TARGET_TIMED_NS 20.0

static const char event[] =
	"data: {\"id\":\"chatcmpl-8f2c41d0\",\"object\":\"chat.completion.chunk\",\"created\":"
	"1764500000,\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"choices\":[{\"index\":0,"
	"\"delta\":{\"content\":\" the\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
static const char usage_event[] =
	"data: {\"id\":\"chatcmpl-8f2c41d0\",\"object\":\"chat.completion.chunk\",\"created\":"
	"1764500000,\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"choices\":[],\"usage\":"
	"{\"prompt_tokens\":1234,\"total_tokens\":1334,\"completion_tokens\":100,"
	"\"prompt_tokens_details\":null}}\n\n";
static const char json_end[] =
	"\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":4000,"
	"\"completion_tokens\":321,\"total_tokens\":4321,\"prompt_tokens_details\":"
	"{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}},"
	"\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b376dfbbd5\"}";
#define JSON_PART 1000
#define TOK_USAGE_TOTAL 1334
#define TOK_TAIL_TOTAL 4321

static void text(char *out, size_t n)
{
	static const char words[] = "the quick brown fox jumps over the lazy dog and then ";

	for (size_t i = 0; i < n; i++)
		out[i] = words[i % (sizeof(words) - 1)];
}

static void put_tmpl(int fd, __u32 i, const struct ig_resp_state *st)
{
	if (bpf_map_update_elem(fd, &i, st, BPF_ANY))
		die("bench_resp_tmpl[%u]: %s", i, strerror(errno));
}

void tok_frames_init(struct tok_frames *tf, int tmpl_fd)
{
	__u8 data = IG_TCP_ACK | IG_TCP_PSH;
	char p[FRAME_MAX];
	struct ig_resp_state st;
	int n;

	/* a stream's chunk: at its size line, as after the previous chunk */
	memset(&st, 0, sizeof(st));
	st.phase = IG_RP_SIZE;
	st.kind = IG_RK_SSE;
	st.next_seq = FRAME_SEQ;
	n = snprintf(p, sizeof(p), "%zx\r\n%s\r\n", sizeof(event) - 1, event);
	tf->len[TOK_EVENT] = make_frame_payload(tf->f[TOK_EVENT], 8000, TOK_PORT_BASE + TOK_EVENT,
						data, p, (__u32)n);
	put_tmpl(tmpl_fd, TOK_EVENT, &st);
	n = snprintf(p, sizeof(p), "%zx\r\n%s\r\n", sizeof(usage_event) - 1, usage_event);
	tf->len[TOK_USAGE] = make_frame_payload(tf->f[TOK_USAGE], 8000, TOK_PORT_BASE + TOK_USAGE,
						data, p, (__u32)n);
	put_tmpl(tmpl_fd, TOK_USAGE, &st);
	/* the first event of a stream whose head went out: its first token */
	st.tflags = IG_RT_BEGUN;
	n = snprintf(p, sizeof(p), "%zx\r\n%s\r\n", sizeof(event) - 1, event);
	tf->len[TOK_FIRST] = make_frame_payload(tf->f[TOK_FIRST], 8000, TOK_PORT_BASE + TOK_FIRST,
						data, p, (__u32)n);
	put_tmpl(tmpl_fd, TOK_FIRST, &st);
	/* its last chunks: [DONE] and the last-chunk line, its end */
	st.tflags = IG_RT_BEGUN | IG_RT_FIRST;
	n = snprintf(p, sizeof(p), "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n");
	tf->len[TOK_END] = make_frame_payload(tf->f[TOK_END], 8000, TOK_PORT_BASE + TOK_END,
					      data, p, (__u32)n);
	put_tmpl(tmpl_fd, TOK_END, &st);
	memset(&st, 0, sizeof(st));
	st.phase = IG_RP_SIZE;
	st.kind = IG_RK_SSE;
	st.next_seq = FRAME_SEQ;

	/* a JSON body's last 1000 bytes, and 1000 far from its end */
	memset(&st, 0, sizeof(st));
	st.phase = IG_RP_BODY;
	st.kind = IG_RK_JSON;
	st.left = JSON_PART;
	text(p, JSON_PART - (sizeof(json_end) - 1));
	memcpy(p + JSON_PART - (sizeof(json_end) - 1), json_end, sizeof(json_end) - 1);
	tf->len[TOK_TAIL] = make_frame_payload(tf->f[TOK_TAIL], 8000, TOK_PORT_BASE + TOK_TAIL,
					       data, p, JSON_PART);
	put_tmpl(tmpl_fd, TOK_TAIL, &st);
	st.left = 1 << 20;
	text(p, JSON_PART);
	tf->len[TOK_MIDDLE] = make_frame_payload(tf->f[TOK_MIDDLE], 8000,
						 TOK_PORT_BASE + TOK_MIDDLE, data, p, JSON_PART);
	put_tmpl(tmpl_fd, TOK_MIDDLE, &st);
}

static __u64 spent(int tokens_fd)
{
	struct ig_client_key k = { .port = TOK_PORT_BASE };
	struct ig_token_state v;

	return bpf_map_lookup_elem(tokens_fd, &k, &v) ? 0 : v.spent;
}

void tok_check(const struct tok_frames *tf, int read_fd, int tokens_fd)
{
	static const struct {
		enum tok_case c;
		__u64 want;
	} t[] = { { TOK_USAGE, TOK_USAGE_TOTAL }, { TOK_TAIL, TOK_TAIL_TOTAL }, { TOK_EVENT, 1 } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		__u64 before = spent(tokens_fd), got;

		test_run_len(read_fd, tf->f[t[i].c], tf->len[t[i].c], 1, NULL);
		got = spent(tokens_fd) - before;
		if (got != t[i].want)
			die("token case %d: the reader charged %llu tokens, not %llu", t[i].c,
			    (unsigned long long)got, (unsigned long long)t[i].want);
	}
}

void report_tokens(FILE *o, struct bcase *cases, int ncase)
{
	struct bcase *by = find_target(cases, ncase, T_TOK_BYTES);
	struct bcase *ev = find_target(cases, ncase, T_TOK_EVENT);
	struct bcase *us = find_target(cases, ncase, T_TOK_USAGE);
	struct bcase *tl = find_target(cases, ncase, T_TOK_TAIL);
	struct bcase *md = find_target(cases, ncase, T_TOK_MIDDLE);
	double d_ev = ev->med - by->med;

	fprintf(o, "| streamed event segment read, above its bytes charged | %+.1f ns | %.0f ns "
		   "| %s |\n", d_ev, TARGET_EVENT_NS,
		target_word(case_ok(ev) && case_ok(by) && d_ev <= TARGET_EVENT_NS));
	fprintf(o, "\nTokens: each row is one reply segment through the reader "
		   "(ig_resp_run, then the charge) against the same segment charged by bytes "
		   "(%.1f ns above bare); the reading state starts from the same template every "
		   "run. A streamed content event (a %u-byte chunk): %+.1f ns; the stream's usage "
		   "event, read to its numbers: %+.1f ns; the last 1000 bytes of a JSON body, its "
		   "usage found in the %u-byte window: %+.1f ns; 1000 bytes in the middle of one "
		   "(skipped): %+.1f ns. Not in these rows: the socket storage lookup of the real "
		   "path (bpf_sk_storage_get, a test run has no socket).\n",
		by->above, (unsigned)(sizeof(event) - 1), d_ev, us->med - by->med, IG_RESP_TAIL,
		tl->med - by->med, md->med - by->med);
}

void report_timing(FILE *o, struct bcase *cases, int ncase)
{
	static const struct {
		enum target untimed, timed;
		const char *what;
	} rows[] = {
		{ T_TOK_EVENT, T_TIME_EVENT, "a streamed event (no time taken)" },
		{ T_TIME_FIRST0, T_TIME_FIRST, "a stream's first event (time to first token)" },
		{ T_TIME_END0, T_TIME_END, "a stream's end (duration, slow call)" },
	};

	struct bcase *only = find_target(cases, ncase, T_TIME_ONLY);

	fprintf(o, "\n| target | measured | limit | result |\n|---|---:|---:|---|\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct bcase *u = find_target(cases, ncase, rows[i].untimed);
		struct bcase *t = find_target(cases, ncase, rows[i].timed);
		double d = t->med - u->med;

		fprintf(o, "| response times: %s, timed above untimed | %+.1f ns | %.0f ns | %s |\n",
			rows[i].what, d, TARGET_TIMED_NS,
			target_word(case_ok(t) && case_ok(u) && d <= TARGET_TIMED_NS));
	}
	fprintf(o, "\nResponse times: the same reply segment read with the times taken "
		   "(bench_tok_timed: jiffies, and the histograms where the segment begins, "
		   "first-tokens or ends a response) against read without them. Not in these rows: "
		   "the three loads of the socket's stamps (a test run has no socket). A port timed "
		   "without a token budget (a `request` port) reads its replies for their framing "
		   "alone: a streamed event's segment %.1f ns above bare (a token port's: %.1f ns), "
		   "plus the socket storage lookup of the real path.\n", only->above,
		find_target(cases, ncase, T_TIME_EVENT)->above);
}
