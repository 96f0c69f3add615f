/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The test-run bench's cases (struct bcase) and how each is timed and judged
 * (bench_run.c); bench.c loads the programs, lists the cases and reports.
 */
#ifndef IG_BENCH_H
#define IG_BENCH_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "ig_abi.h"
#include "bench_req.h"
#include "bench_tok.h"

/*
 * Share of a timed run's packets that must take the case's path. Not 100 %:
 * with every one of N sources in debt at once (the worst case, which the
 * many-source drop cases build), the few sets of the 4-way source table that
 * hold more than 4 of them keep replacing each other, and those sources are
 * admitted as new. The table is sized at 4 ways per source, where that is
 * ~0.2 % of packets; the report prints the share for every case.
 */
#define MIN_ON_PATH 0.995
#define MAX_ATTEMPTS 3
/* Repeat-1 cases: runs per round, per IG_BENCH_REPEAT packets. */
#define SINGLES_PER_REPEAT 100

/* Which target from the issue a case is judged against. */
enum target {
	T_NONE,
	T_DROP_1,   /* drop path, 1 source */
	T_ACK,      /* non-SYN on a conn port */
	T_DROP_1M,  /* drop path, 1M sources */
	T_ADMIT_1,  /* admitted SYN, one bucket */
	T_ADMIT_H,  /* admitted SYN, every fair-share level */
	T_DROP_H,   /* drop at the source level, through the hierarchy */
	/* not targets: what other cases are measured against */
	T_BARE0,    /* XDP_DROP only */
	T_TC_BARE,  /* TC_ACT_UNSPEC only */
	T_BARE1,    /* the baseline, one packet per run */
	T_DROP_X1,  /* drop path, 1 source, test clock (the algorithms' baseline) */
	/* the `request` unit */
	T_ACK_REQ,  /* a pure ACK on a request port */
	T_429,      /* a request answered 429, repeat 1 */
	T_RST1,     /* a SYN answered RST, repeat 1 */
	T_REQ1,     /* an admitted request, repeat 1 */
	T_SYN1,     /* an admitted SYN, repeat 1 */
	T_OPAQUE,   /* an opaque connection's segment, dropped */
	T_REQ_DROP, /* a request segment, dropped */
	T_RETX1,    /* a request segment counted before, repeat 1 */
	T_REQ_DROP1, /* a request segment, dropped, repeat 1 */
	T_REQ1K_SRC, /* a 1 KB-header request, dropped, on a port keyed by source */
	T_REQ1K_KEY, /* ... by API key */
	T_STAGE1K_SRC, /* the request stage alone over it, keyed by source */
	T_STAGE1K_KEY, /* ... by API key */
	/* token counting (bench_tok.h) */
	T_TOK_BYTES,  /* a reply segment charged by bytes: the baseline */
	T_TOK_EVENT,  /* a streamed event read */
	T_TOK_USAGE,  /* a stream's usage event read */
	T_TOK_TAIL,   /* a JSON body's end read */
	T_TOK_MIDDLE, /* a JSON body's middle */
	/* response times (issue 15): the same segments timed */
	T_TIME_EVENT,  /* a streamed event, timed */
	T_TIME_FIRST0, /* a stream's first event, untimed */
	T_TIME_FIRST,  /* ... timed */
	T_TIME_END0,   /* a stream's end, untimed */
	T_TIME_END,    /* ... timed */
	T_TIME_ONLY,   /* a streamed event on a port timed without a token budget */
};

struct bcase {
	const char *name;
	enum target target;
	__u32 sources;
	int prog_fd;
	const __u8 *frame;
	__u32 len;      /* of the frame; 0: FRAME_LEN */
	__u32 warm;     /* sources to exhaust before each timed run (0: none) */
	int ctr_fd;     /* the instance's bench_ctr, when warm > repeat */
	int stats_fd;   /* -1: no check */
	__u32 slot;
	enum ig_reason want;
	__u32 want_ret;
	enum target base_t; /* what "above" is measured against; T_NONE: bare */
	struct bcase *base;
	const struct req_entry *entry; /* put into http_conns before every run */
	bool keep;      /* the timed run must leave the entry as it was put */
	bool single;    /* timed one packet per run: see run_single() */
	double *ns;
	unsigned long long timed, on_path, bad_rounds, reruns;
	unsigned long long changed; /* rounds whose run changed the entry (keep) */
	/* results */
	double med, p25, p75, above;
};

/* The CPU count of per-CPU maps, and the CPU the bench is pinned to. */
extern int ncpus, bench_cpu;

void run_case(struct bcase *c, int round, __u32 repeat);
void summarise(struct bcase *c, int rounds);
bool case_ok(const struct bcase *c);
double paired_diff(const struct bcase *a, const struct bcase *b, int rounds);
/* results.csv (a case a row) and rounds.csv (every round's time of a case) */
void write_csv(const char *path, const struct bcase *cases, int ncase, unsigned long rounds);
void write_rounds(const char *path, const struct bcase *cases, int ncase, unsigned long rounds);
/* What an off-path case's packets did instead, from its counters. */
void report_off_path(FILE *o, const struct bcase *c);
const char *target_word(bool ok);
struct bcase *find_target(struct bcase *cases, int ncase, enum target t);
/* The `request` unit's rows of the targets table, then what its figures mean. */
void report_request(FILE *o, struct bcase *cases, int ncase, int rounds, unsigned long singles,
		    __u32 request_len, __u32 hdr1k_len);

#endif /* IG_BENCH_H */
