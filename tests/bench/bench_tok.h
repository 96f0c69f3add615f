/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The bench's token-counting cases (issue 19): a reply segment read by the
 * response reader (bpf/pure/resp_scan.h) against the same segment charged
 * by bytes. The reading state starts every run from a template in
 * bench_resp_tmpl, chosen by the frame's destination port (the program
 * takes port & 7), so that every repeat reads the same thing.
 */
#ifndef IG_BENCH_TOK_H
#define IG_BENCH_TOK_H

#include <stdio.h>
#include <linux/types.h>

#include "benchlib.h"

enum tok_case {
	TOK_EVENT,  /* a streamed content event (one chunk), vLLM-shaped */
	TOK_USAGE,  /* a stream's usage event: read to its numbers */
	TOK_TAIL,   /* the last 1000 bytes of a JSON body, usage inside */
	TOK_MIDDLE, /* 1000 bytes in the middle of a JSON body: skipped */
	TOK_FIRST,  /* a stream's first event: its time to first token */
	TOK_END,    /* a stream's last chunks: [DONE] and the end, its duration */
	TOK_CASES,
};

#define TOK_PORT_BASE 41000 /* the frames' destination ports: base + case */

struct tok_frames {
	__u8 f[TOK_CASES][FRAME_MAX];
	__u32 len[TOK_CASES];
};

/* Frames, and the templates written into the map tmpl_fd. */
void tok_frames_init(struct tok_frames *tf, int tmpl_fd);
/* Dies unless the reader charges what the usage says (read_fd: the reading
 * program; tokens_fd: its tokens map). */
void tok_check(const struct tok_frames *tf, int read_fd, int tokens_fd);
struct bcase;
/* The token rows of the targets table and what they mean. */
void report_tokens(FILE *o, struct bcase *cases, int ncase);
/* The response times' rows (issue 15): timed against untimed reading. */
void report_timing(FILE *o, struct bcase *cases, int ncase);

#endif /* IG_BENCH_TOK_H */
