/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The `request` unit's cases of the test-run bench: their frames and the
 * per-connection entries (map http_conns) they run against. A real connection
 * gets its entry from its first data segment, once bpf_skc_lookup_tcp finds
 * it; test runs have no socket, so the bench puts the entry in itself, keyed
 * as the data path keys it (ig_flow_key_make, dir IG_DIR_HTTP).
 */
#ifndef IG_BENCH_REQ_H
#define IG_BENCH_REQ_H

#include <stdbool.h>
#include <linux/types.h>

#include "ig_abi.h"
#include "benchlib.h"

/* Ports and slots: the 429's port alone, since for seconds after a 429 its
 * port looks its pure ACKs up. */
#define PORT_REQ 8005        /* request, rate 1, drop: pure ACK, body segment, request */
#define PORT_REQ_OPAQUE 8006 /* request, rate 1, drop: an opaque connection */
#define PORT_REQ_429 8007    /* request, rate 1, reject */
#define PORT_REQ_ADMIT 8008  /* request, a rate never reached */
#define SLOT_REQ 6
#define SLOT_REQ_OPAQUE 7
#define SLOT_REQ_429 8
#define SLOT_REQ_ADMIT 9
/* issue 16: a request with a 1 KB header block, Authorization among it, on a
 * port keyed by source and one by API key, both with the charge stage
 * (IG_POL_F_HIER, which --key turns on): the difference is finding and
 * hashing the key */
#define PORT_REQ_SRC1K 8009
#define PORT_REQ_KEY1K 8010
#define SLOT_REQ_SRC1K 10
#define SLOT_REQ_KEY1K 11

/* What http_conns holds for one connection before a run. */
struct req_entry {
	int fd; /* http_conns */
	struct ig_flow_key key;
	struct ig_http_conn val;
};

struct req_frames {
	__u8 ack[FRAME_MAX], body[FRAME_MAX], opaque[FRAME_MAX], r429[FRAME_MAX];
	__u8 admit[FRAME_MAX], drop[FRAME_MAX], src1k[FRAME_MAX], key1k[FRAME_MAX];
	__u32 ack_len, body_len, opaque_len, r429_len, admit_len, drop_len, src1k_len, key1k_len;
	__u32 hdr1k_len; /* the 1 KB request's header block */
	__u32 request_len; /* the request's bytes (r429, admit) */
	/* PORT_REQ's connection mid-body (the ACK and the body segment) and
	 * another at the start of a request (drop); PORT_REQ_OPAQUE's opaque
	 * one; PORT_REQ_429's and PORT_REQ_ADMIT's at the start of a request,
	 * and the latter's again past it (retx: the request was counted); and
	 * one of no case's connections (what the repeat-1 cases without an
	 * entry put instead, so that every repeat-1 case does the same before
	 * its run). */
	struct req_entry body_e, drop_e, opaque_e, r429_e, admit_e, retx_e, other_e;
	struct req_entry src1k_e, key1k_e;
};

/* A connection's first data segment to a proxy-source port (bench_proxy_*
 * in bench.bpf.c): a PROXY v2 header with an IPv6 client, a v1 header with
 * one, and no header, each before the request. */
struct proxy_frames {
	__u8 v2[FRAME_MAX], v1[FRAME_MAX], none[FRAME_MAX];
	__u32 v2_len, v1_len, none_len;
};
/* The frames; from_fd: the instance's proxy_from, which gets the frames'
 * source (the balancer). */
void proxy_frames_init(struct proxy_frames *pf, int from_fd);

/* Frames and entries, for the instance whose http_conns is conns_fd. */
void req_frames_init(struct req_frames *rf, int conns_fd);
void req_entry_put(const struct req_entry *e);
/* Is e's entry in the map exactly as put? */
bool req_entry_kept(const struct req_entry *e);
/* Dies unless the 429 and the admitted request take their paths. Uses up the
 * 429 port's bucket. */
void req_check(const struct req_frames *rf, int prog_fd);

#endif /* IG_BENCH_REQ_H */
