/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Token counting: what a server's HTTP/1.x responses cost in LLM tokens, read
 * off its socket's stream as it leaves (TC egress), per socket in a struct
 * ig_resp_state (pure/resp.h).
 *
 * Read byte by byte: the status line and the header block (Content-Type,
 * Content-Encoding, Content-Length, Transfer-Encoding), chunk-size lines and
 * trailers. Skipped by arithmetic: bodies and chunk data, except
 *  - the first bytes of each chunk of a text/event-stream, which say whether
 *    it is a `data:` event (one token; `data: [DONE]` is none),
 *  - the last bytes of each such chunk, and for a stream's chunk that ends in
 *    "}}" (the usage event of vLLM, TGI, llama.cpp and OpenAI ends so; a
 *    content event ends "]}" or "\"}") its last IG_RESP_TAIL_SSE bytes,
 *  - the last IG_RESP_TAIL bytes of an application/json body (or of each of
 *    its chunks), where the engines put "usage".
 * Those windows go through a matcher for `"usage"` ws `:` ws `{ ... }` that
 * reads prompt_tokens, completion_tokens and total_tokens at the object's
 * first level. JSON escapes every '"' inside a string, so the text of a
 * completion (which a client can steer) never matches: `"usage"` followed by
 * ':' and '{' only occurs as a key whose value is an object.
 *
 * The charge follows the response: the prompt (IG_RESP_PROMPT: the request
 * bodies' bytes where the request scanner framed them, else all the socket
 * received since the last response began; / bytes-per-token) when the head
 * is read;
 * then one token per event of a stream, the body's bytes / bytes-per-token
 * otherwise (one token per byte when compressed: asking for gzip earns no
 * discount); and when a usage object is read, the response's charge is set to
 * its total (the difference charged or given back). A response that ends
 * without one keeps what it was charged. What cannot be framed (not HTTP/1.x,
 * h2, TLS, a bad Content-Length or chunk size, a body up to the close) turns
 * the socket opaque for good: every byte by the bytes rule.
 *
 * This file reads bytes (ig_resp_byte(): the head, the framing lines, the
 * usage matcher); pure/resp_read.h decides which, a segment at a time. The
 * caller may define IG_RESP_FN (how the functions are linked: BPF global
 * functions are verified once each, not once per caller).
 */
#ifndef IG_RESP_SCAN_H
#define IG_RESP_SCAN_H

#include "pure/hdr.h" /* __always_inline, natively too */
#include "pure/resp.h"

#ifndef IG_RESP_FN
#define IG_RESP_FN static inline
#endif

/* Bytes per IG_RESP_LOAD into the scratch buffer: a power of two. */
#define IG_RESP_BUF 256
/* The windows. OpenAI's usage object (with its *_details) starts ~350 bytes
 * before the end of a reply, llama.cpp's (timings follow it) ~500. */
#define IG_RESP_TAIL 768
#define IG_RESP_TAIL_SSE 512
/* How many bytes of a chunk decide whether it is an event. */
#define IG_RESP_HEAD_PEEK 12
/* Numbers past these are not what an engine reports: capped. */
#define IG_RESP_NUM_MAX 0x7fffffffU
#define IG_RESP_SIZE_MAX (1ULL << 40)

/* IG_RF_*: ig_resp_state.flags, of the response being read. */
#define IG_RF_SP 0x1	     /* the status line's first space was read */
#define IG_RF_CL 0x2	     /* a Content-Length was read (in left) */
#define IG_RF_CHUNKED 0x4    /* a Transfer-Encoding was read */
#define IG_RF_BAD 0x8	     /* a framing header that cannot be trusted */
#define IG_RF_VAL_ANY 0x10   /* the header value has begun */
#define IG_RF_VAL_END 0x20   /* its first token has ended */
#define IG_RF_DIGITS 0x40    /* a digit of the number being read */
#define IG_RF_USAGE 0x80     /* a usage object set the charge */
#define IG_RF_USAGE_NEW 0x100 /* ...just now: the caller settles it */
#define IG_RF_DSTART 0x200   /* at the start of a chunk's data */
#define IG_RF_GAP 0x400	     /* bytes were skipped since the matcher last read */
#define IG_RF_SSE 0x800	     /* Content-Type: text/event-stream */
#define IG_RF_JSON 0x1000    /* Content-Type: application/json */
#define IG_RF_PACKED 0x2000  /* Content-Encoding other than identity */
#define IG_RF_PEEKED 0x4000  /* a chunk's first bytes were read with its size line */
#define IG_RF_CRLF 0x8000    /* the CRLF after a chunk's data was read with its end */

/* Which header's value is read. */
enum { IG_RH_OTHER = 0, IG_RH_CL, IG_RH_TE, IG_RH_CT, IG_RH_CE };

/* The usage matcher: 0..6 bytes of "\"usage\"" matched, then these. */
enum {
	IG_UM_LIT_END = 7, /* after the key: whitespace, then ':' */
	IG_UM_COLON,	   /* after ':': whitespace, then '{' */
	IG_UM_OBJ,	   /* inside the object, between strings */
	IG_UM_STR,	   /* inside a string of the object */
	IG_UM_ESC,	   /* after a backslash in one */
};

/* What ig_resp_byte() tells the step. */
enum {
	IG_RE_NONE = 0,
	IG_RE_HEAD,   /* the header block ended */
	IG_RE_CHUNK,  /* a chunk-size line ended (size in val) */
	IG_RE_END,    /* the last chunk's trailers ended: the response is over */
	IG_RE_OPAQUE, /* cannot be framed */
};

/* FNV-1a, lower case: header names, media types and usage keys are told
 * apart by it (they come from the server, not from a client). */
#define IG_FNV_INIT 2166136261U
static __always_inline __u32 ig_fnv(__u32 h, __u32 c)
{
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	return (h ^ c) * 16777619U;
}

/* The names, values and keys the counter cares about, hashed so (the unit
 * tests check each against ig_fnv() of its text). */
#define IG_H_CL 0x4df9451dU	    /* content-length */
#define IG_H_TE 0xddb4744cU	    /* transfer-encoding */
#define IG_H_CT 0xfcf70995U	    /* content-type */
#define IG_H_CE 0x03e2ed88U	    /* content-encoding */
#define IG_V_SSE 0x19805eccU	    /* text/event-stream */
#define IG_V_JSON 0x69e8e6a8U	    /* application/json */
#define IG_V_IDENTITY 0xa945349bU   /* identity */
#define IG_K_PROMPT 0x16ca672eU	    /* prompt_tokens */
#define IG_K_COMPLETION 0x56aa314aU /* completion_tokens */
#define IG_K_TOTAL 0xe13df7e0U	    /* total_tokens */

/* Literals matched a byte at a time, packed little end first: no memory to
 * bound-check in BPF. */
#define IG_LIT_HTTP 0x2f50545448ULL	/* "HTTP/" */
#define IG_LIT_USAGE 0x22656761737522ULL /* "\"usage\"" */
#define IG_LIT_AT(lit, i) ((__u32)(((lit) >> (((i) & 7) * 8)) & 0xff))

static __always_inline int ig_is_ows(__u32 c)
{
	return c == ' ' || c == '\t';
}

static __always_inline int ig_hexval(__u32 c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* A header value's last byte was read: what it means for the response. */
static __always_inline int ig_resp_value_end(struct ig_resp_state *st)
{
	switch (st->hdr) {
	case IG_RH_CL:
		/* every Content-Length the same, digits only: else untrusted */
		if (!(st->flags & IG_RF_DIGITS) || ((st->flags & IG_RF_CL) && st->left != st->val))
			st->flags |= IG_RF_BAD;
		st->left = st->val;
		st->flags |= IG_RF_CL;
		break;
	case IG_RH_TE:
		st->flags |= IG_RF_CHUNKED;
		break;
	case IG_RH_CT:
		if (st->hash == IG_V_SSE)
			st->flags |= IG_RF_SSE;
		else if (st->hash == IG_V_JSON)
			st->flags |= IG_RF_JSON;
		break;
	case IG_RH_CE:
		if (st->hash != IG_V_IDENTITY)
			st->flags |= IG_RF_PACKED;
		break;
	}
	st->phase = IG_RP_LINE;
	return IG_RE_NONE;
}

static __always_inline int ig_resp_value(struct ig_resp_state *st, __u32 c)
{
	if (c == '\r')
		return IG_RE_NONE;
	if (c == '\n')
		return ig_resp_value_end(st);
	if (ig_is_ows(c) || (c == ';' && st->hdr == IG_RH_CT)) {
		if (st->flags & IG_RF_VAL_ANY)
			st->flags |= IG_RF_VAL_END;
		return IG_RE_NONE;
	}
	if (st->flags & IG_RF_VAL_END) {
		/* "12 34" is no length; the rest of a media type is parameters */
		if (st->hdr == IG_RH_CL)
			st->flags |= IG_RF_BAD;
		return IG_RE_NONE;
	}
	st->flags |= IG_RF_VAL_ANY;
	if (st->hdr == IG_RH_CL) {
		if (c < '0' || c > '9' || st->val > IG_RESP_SIZE_MAX) {
			st->flags |= IG_RF_BAD;
			return IG_RE_NONE;
		}
		st->val = st->val * 10 + (c - '0');
		st->flags |= IG_RF_DIGITS;
	} else {
		st->hash = ig_fnv(st->hash, c);
	}
	return IG_RE_NONE;
}

static __always_inline int ig_resp_name_end(struct ig_resp_state *st)
{
	__u32 h = st->hash;

	st->hdr = h == IG_H_CL ? IG_RH_CL :
		  h == IG_H_TE ? IG_RH_TE :
		  h == IG_H_CT ? IG_RH_CT :
		  h == IG_H_CE ? IG_RH_CE : IG_RH_OTHER;
	st->hash = IG_FNV_INIT;
	st->val = 0;
	st->flags &= ~(IG_RF_VAL_ANY | IG_RF_VAL_END | IG_RF_DIGITS);
	st->phase = IG_RP_VALUE;
	return IG_RE_NONE;
}

/* A completed usage object: the caller settles the charge. */
static __always_inline void ig_usage_done(struct ig_resp_state *st)
{
	if (st->usage[2] || st->usage[0] || st->usage[1])
		st->flags |= IG_RF_USAGE_NEW;
	st->m = 0;
}

static __always_inline void ig_usage_commit(struct ig_resp_state *st)
{
	__u32 k = (__u32)st->key - 1;

	if (k < 3 && (st->flags & IG_RF_DIGITS))
		st->usage[k] = st->num;
	st->key = 0;
	st->num = 0;
	st->flags &= ~IG_RF_DIGITS;
}

/* One byte of a body window through the usage matcher. */
static __always_inline int ig_usage_byte(struct ig_resp_state *st, __u32 c)
{
	__u32 m = st->m;

	if (m < IG_UM_LIT_END) {
		if (c == IG_LIT_AT(IG_LIT_USAGE, m))
			st->m = m + 1;
		else
			st->m = c == '"';
		return IG_RE_NONE;
	}
	if (m == IG_UM_LIT_END || m == IG_UM_COLON) {
		if (ig_is_ows(c) || c == '\r' || c == '\n')
			return IG_RE_NONE;
		if (m == IG_UM_LIT_END && c == ':') {
			st->m = IG_UM_COLON;
		} else if (m == IG_UM_COLON && c == '{') {
			st->m = IG_UM_OBJ;
			st->depth = 1;
			st->key = 0;
			st->num = 0;
			st->usage[0] = st->usage[1] = st->usage[2] = 0;
			st->flags &= ~IG_RF_DIGITS;
		} else {
			st->m = c == '"';
		}
		return IG_RE_NONE;
	}
	if (m == IG_UM_ESC) {
		st->m = IG_UM_STR;
		return IG_RE_NONE;
	}
	if (m == IG_UM_STR) {
		if (c == '\\') {
			st->m = IG_UM_ESC;
		} else if (c == '"') {
			st->m = IG_UM_OBJ;
			if (st->depth == 1) {
				__u32 h = st->hash;

				st->key = h == IG_K_PROMPT ? 1 : h == IG_K_COMPLETION ? 2 :
					  h == IG_K_TOTAL ? 3 : 0;
				st->num = 0;
				st->flags &= ~IG_RF_DIGITS;
			}
		} else if (st->depth == 1) {
			st->hash = ig_fnv(st->hash, c);
		}
		return IG_RE_NONE;
	}
	/* IG_UM_OBJ */
	if (c == '"') {
		st->m = IG_UM_STR;
		st->hash = IG_FNV_INIT;
	} else if (c == '{' || c == '[') {
		if (st->depth >= 16) /* nothing an engine reports: start over */
			st->m = 0;
		else
			st->depth++;
	} else if (c == '}' || c == ']') {
		if (st->depth == 1)
			ig_usage_commit(st);
		if (--st->depth == 0)
			ig_usage_done(st);
	} else if (c == ',') {
		if (st->depth == 1)
			ig_usage_commit(st);
	} else if (c >= '0' && c <= '9') {
		if (st->depth == 1 && st->key) {
			__u64 n = (__u64)st->num * 10 + (c - '0');

			st->num = n > IG_RESP_NUM_MAX ? IG_RESP_NUM_MAX : (__u32)n;
			st->flags |= IG_RF_DIGITS;
		}
	}
	return IG_RE_NONE;
}

/* A chunk's data and its CRLF are over: the next chunk-size line. */
static __always_inline void ig_resp_to_size(struct ig_resp_state *st)
{
	st->phase = IG_RP_SIZE;
	st->val = 0;
	st->flags &= ~IG_RF_DIGITS;
}

/* One byte of the stream in a phase read byte by byte (in BODY and DATA: one
 * byte of a window, for the usage matcher). */
IG_RESP_FN int ig_resp_byte(struct ig_resp_state *st, __u32 c)
{
	int d;

	if (!st)
		return IG_RE_OPAQUE;
	switch (st->phase) {
	case IG_RP_STATUS:
		if (st->val < 5) {
			/* "HTTP/": anything else is not a response this reads */
			if (c != IG_LIT_AT(IG_LIT_HTTP, st->val))
				return IG_RE_OPAQUE;
			st->val++;
			return IG_RE_NONE;
		}
		if (c == '\n') {
			st->phase = IG_RP_LINE;
		} else if (c == ' ' && !(st->flags & IG_RF_SP)) {
			st->flags |= IG_RF_SP;
			st->val = 5;
		} else if (st->flags & IG_RF_SP && st->val < 8 && c >= '0' && c <= '9') {
			st->status = (__u16)(st->status * 10 + (c - '0'));
			st->val++;
		} else if (st->flags & IG_RF_SP) {
			st->val = 8; /* the code is over */
		}
		return IG_RE_NONE;
	case IG_RP_LINE:
		if (c == '\r')
			return IG_RE_NONE;
		if (c == '\n')
			return IG_RE_HEAD;
		st->hash = ig_fnv(IG_FNV_INIT, c);
		st->phase = IG_RP_NAME;
		return IG_RE_NONE;
	case IG_RP_NAME:
		if (c == ':')
			return ig_resp_name_end(st);
		if (c == '\n') { /* no colon: not a field a server sends */
			st->phase = IG_RP_LINE;
			return IG_RE_NONE;
		}
		if (c != '\r')
			st->hash = ig_fnv(st->hash, c);
		return IG_RE_NONE;
	case IG_RP_VALUE:
		return ig_resp_value(st, c);
	case IG_RP_SIZE:
		d = ig_hexval(c);
		if (d >= 0) {
			if (st->val >= IG_RESP_SIZE_MAX)
				return IG_RE_OPAQUE;
			st->val = st->val * 16 + (__u64)d;
			st->flags |= IG_RF_DIGITS;
			return IG_RE_NONE;
		}
		if (c == ';' || ig_is_ows(c)) {
			st->phase = IG_RP_SIZE_EXT;
			return IG_RE_NONE;
		}
		if (c == '\r')
			return IG_RE_NONE;
		if (c != '\n')
			return IG_RE_OPAQUE;
		return (st->flags & IG_RF_DIGITS) ? IG_RE_CHUNK : IG_RE_OPAQUE;
	case IG_RP_SIZE_EXT:
		if (c != '\n')
			return IG_RE_NONE;
		return (st->flags & IG_RF_DIGITS) ? IG_RE_CHUNK : IG_RE_OPAQUE;
	case IG_RP_DATA_END:
		if (c == '\r')
			return IG_RE_NONE;
		if (c != '\n')
			return IG_RE_OPAQUE;
		ig_resp_to_size(st);
		return IG_RE_NONE;
	case IG_RP_TRAILER:
		if (c == '\r')
			return IG_RE_NONE;
		if (c == '\n')
			return IG_RE_END;
		st->phase = IG_RP_TRAILER_REST;
		return IG_RE_NONE;
	case IG_RP_TRAILER_REST:
		if (c == '\n')
			st->phase = IG_RP_TRAILER;
		return IG_RE_NONE;
	case IG_RP_BODY:
	case IG_RP_DATA:
		return ig_usage_byte(st, c);
	}
	return IG_RE_OPAQUE;
}

#endif /* IG_RESP_SCAN_H */
