/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The state of one server socket's responses as the token counter reads them
 * (issue 19): kept per socket in `resp_socks` (socket storage), so the kernel
 * frees it with the socket and no flood can fill it. The reading itself is in
 * pure/resp_scan.h; this part is ABI (map value) and nothing else.
 */
#ifndef IG_RESP_H
#define IG_RESP_H

#ifdef __bpf__
#include "vmlinux.h"
#else
#include <linux/types.h>
#endif

/* How the replies of a token-budget port are counted (limit --token-count). */
enum ig_token_count {
	IG_TC_USAGE = 0,  /* the engine's own "usage" where it reports one; else as below */
	IG_TC_EVENTS = 1, /* a stream: one token per `data:` event; the rest by bytes */
	IG_TC_BYTES = 2,  /* every reply byte / bytes_per_token (0.6 and before) */
	IG_TC_MAX,
};

/* Where the reading of a socket's stream stands. All zero: nothing seen. */
enum ig_resp_phase {
	IG_RP_NEW = 0,	   /* no segment of this socket seen yet */
	IG_RP_OPAQUE,	   /* not HTTP/1.x, or framing lost: every byte by the bytes rule */
	IG_RP_STATUS,	   /* the status line (val counts its bytes) */
	IG_RP_LINE,	   /* at the start of a header line */
	IG_RP_NAME,	   /* a header name (hash) */
	IG_RP_VALUE,	   /* a header value (hdr says whose) */
	IG_RP_BODY,	   /* a Content-Length body: `left` bytes to come */
	IG_RP_SIZE,	   /* a chunk-size line (hex in val) */
	IG_RP_SIZE_EXT,	   /* its chunk extension, to the LF */
	IG_RP_DATA,	   /* a chunk's data: `left` bytes to come */
	IG_RP_DATA_END,	   /* the CRLF after a chunk's data */
	IG_RP_TRAILER,	   /* at the start of a trailer line */
	IG_RP_TRAILER_REST, /* the rest of a trailer line */
};

/* What a response body is, from its head. */
enum ig_resp_kind {
	IG_RK_OTHER = 0, /* counted by bytes */
	IG_RK_JSON,	 /* application/json: the usage object near its end */
	IG_RK_SSE,	 /* text/event-stream: events, and a usage event */
	IG_RK_PACKED,	 /* Content-Encoding other than identity: one token per byte */
};

struct ig_resp_state {
	__u64 left;	/* body or chunk-data bytes still to come; Content-Length in a head */
	__u64 val;	/* the number being read (chunk size, status-line position) */
	__u64 rx_mark;	/* the socket's bytes_received when the last response began */
	__u32 next_seq; /* the stream is read up to here (TCP sequence) */
	__u32 charged;	/* tokens charged for the response being read */
	__u32 usage[3]; /* prompt, completion, total tokens as the usage object said */
	__u32 num;	/* a number in the usage object */
	__u32 hash;	/* a header name or value, or a key of the usage object */
	__u16 status;	/* the response's status code */
	__u16 flags;	/* IG_RF_* */
	__u8 phase;	/* enum ig_resp_phase */
	__u8 kind;	/* enum ig_resp_kind */
	__u8 hdr;	/* whose value is read (IG_RH_*) */
	__u8 m;		/* the usage matcher's state (IG_UM_*) */
	__u8 depth;	/* nesting inside the usage object */
	__u8 key;	/* which usage number the key being read names (1..3, 0: none) */
	__u8 tflags;	/* IG_RT_*: the response's times (issue 15) */
	__u8 _pad1;
	__u32 t_req;	/* jiffies (low 32 bits) the request of the response being read
			 * arrived: the socket's last received data when it began */
	__u32 t_rwnd;	/* the socket's time limited by the client's window when it
			 * began (tcp_sock chrono_stat), in jiffies */
};
_Static_assert(sizeof(struct ig_resp_state) == 72, "ig_resp_state layout");

/* IG_RT_*: ig_resp_state.tflags. */
#define IG_RT_BEGUN 0x1 /* the response's first byte was seen (t_req is its request's) */
#define IG_RT_FIRST 0x2 /* its time to first token was taken */
#define IG_RT_LOST 0x4	/* its framing was lost: it ends, but not when it says */

#endif /* IG_RESP_H */
