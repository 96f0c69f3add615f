/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The request scanner's vocabulary (pure/http.h is the scanner, and says how
 * it is built): what a connection keeps between segments (struct
 * ig_http_state, 32 bytes in http_conns), where an API key's value lies
 * (struct ig_http_keys), the automaton's states, byte classes and actions,
 * and how BPF walks the blocks and hides from the verifier what it would
 * otherwise keep apart. The states' numbers are stored in pinned maps: they
 * keep their meaning across upgrades.
 */
#ifndef IG_HTTP_FSM_H
#define IG_HTTP_FSM_H

#include "pure/hdr.h"

/* Bytes per ig_http_feed() call; a power of two, so i & IG_HTTP_MASK is a
 * bound the verifier sees without a comparison. */
#define IG_HTTP_CHUNK 256
#define IG_HTTP_MASK (IG_HTTP_CHUNK - 1)
/* Cap of a length: more than any connection carries. */
#define IG_HTTP_BIG (1ULL << 62)
#define IG_HTTP_METHOD_MAX 16

/* All zero: at the start of a request (a new connection). */
struct ig_http_state {
	__u64 left;  /* skip states: bytes still to skip */
	__u64 val;   /* the number being read: Content-Length, chunk-size, h2 frame header */
	__u64 cl;    /* h1: this request's Content-Length; h2: highest client stream id */
	__u8 state;  /* enum ig_http_scan ^ IG_HS_START */
	__u8 flags;  /* IG_HF_* of the request being read */
	__u16 len;   /* ig_http_feed()'s lengths, through memory (IG_HTTP_FORGET) */
	__u32 first; /* h2: the first stream a HEADERS opened since the caller zeroed it */
};
_Static_assert(sizeof(struct ig_http_state) == 32, "ig_http_state is half a cache line");

#define IG_HF_CL 1	/* a Content-Length was read: cl holds it */
#define IG_HF_CHUNKED 2 /* a Transfer-Encoding was read */
/* the caller wants API keys (--key api-key): the key headers' names are
 * matched and their values hashed; kept from request to request */
#define IG_HF_KEYS 4

/*
 * API keys (IG_HF_KEYS): where the value of the last Authorization,
 * X-API-Key or API-Key line read lies in the stream, for the caller to read
 * (pure/apikey.h) after the segment. Positions are the caller's: it sets
 * `base`, the position of the chunk's first byte (a TCP sequence number),
 * before each feed; `start` is the byte after the colon (the value with the
 * whitespace before it, which ig_key_token() drops), `end` its line's LF;
 * `found` says one was seen.
 */
struct ig_http_keys {
	__u32 base;
	__u32 start;
	__u32 end;
	__u32 found;
};

/*
 * The automaton's states. Opaque is 0 so that a transition the table leaves
 * out is opaque (and opaque stays opaque: its row is all zero); a zeroed
 * ig_http_state is at a request start because the state is stored xor'ed
 * with IG_HS_START.
 */
enum ig_http_scan {
	IG_HS_OPAQUE = 0,
	IG_HS_START,				/* before a request: CR / LF skipped */
	IG_HS_M1,				/* M1 + k - 1: k letters of a method read */
	IG_HS_LINE = IG_HS_M1 + IG_HTTP_METHOD_MAX, /* the rest of a line, to HDR */
	IG_HS_TE_LINE,				/* the rest of a Transfer-Encoding line */
	IG_HS_EXT_LINE,				/* the rest of a chunk-size line */
	IG_HS_TR_LINE,				/* the rest of a trailer line */
	IG_HS_HDR,				/* at the start of a header line */
	IG_HS_HDR_CR,
	IG_HS_CN,				/* CN + k - 1: "content-length:" k letters in */
	IG_HS_TN = IG_HS_CN + 14,		/* "transfer-encoding:" */
	IG_HS_UN = IG_HS_TN + 17,		/* "upgrade:" */
	IG_HS_PRE = IG_HS_UN + 7,		/* PRE + k - 1: k bytes of the h2 preface */
	IG_HS_CL_OWS = IG_HS_PRE + 23,		/* Content-Length value: before the digits, */
	IG_HS_CL_DIGIT,				/* just after a digit, */
	IG_HS_CL_END,				/* after the digits */
	IG_HS_UP_OWS,				/* Upgrade value: before "h2c", */
	IG_HS_UP_H,
	IG_HS_UP_H2,
	IG_HS_UP_END,				/* after it */
	IG_HS_SIZE,				/* a chunk-size, before its first digit */
	IG_HS_SIZE_DIGIT,
	IG_HS_DATA_CR,				/* after a chunk's data */
	IG_HS_DATA_LF,
	IG_HS_TRAILER,				/* at the start of a trailer line */
	IG_HS_TRAILER_CR,
	IG_HS_H2,				/* H2 + k: k bytes of an h2 frame header read */
	IG_HS_SKIP_BODY = IG_HS_H2 + 9,		/* the skip states: ig_http_feed() reads none */
	IG_HS_SKIP_CHUNK,
	IG_HS_SKIP_H2,
	/* The key headers (IG_HF_KEYS), after the skip states: a connection's
	 * state in http_conns keeps its meaning across an upgrade. */
	IG_HS_KA,				/* "a": "authorization" or "api-key" */
	IG_HS_KU,				/* KU + k: "au" and k letters more */
	IG_HS_KP = IG_HS_KU + 12,		/* "ap" ... "api-key" */
	IG_HS_KX = IG_HS_KP + 6,		/* "x" ... "x-api-key" */
	IG_HS_KEY_OWS = IG_HS_KX + 9,		/* a key line's value: before it, */
	IG_HS_KEY_VAL,				/* in it (the rest of the line) */
	IG_HS_ROWS = 256,
	/* KA's second name ("pi-key:") in ig_http_feed()'s block table: a
	 * row no state has */
	IG_HS_BLK_AP = IG_HS_ROWS - 1,
};
_Static_assert(IG_HS_KEY_VAL < IG_HS_BLK_AP, "every state has a row");
_Static_assert(IG_HS_KU == IG_HS_KA + 1, "authorization's states follow KA's");
#define IG_HS_IS_SKIP(s) ((__u8)((s) - IG_HS_SKIP_BODY) <= IG_HS_SKIP_H2 - IG_HS_SKIP_BODY)

#define IG_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define IG_H2_HEADERS 1

/*
 * Byte classes: what some transition tells apart. Every letter of a literal
 * the scanner matches has a class of its own, in each case: methods are upper
 * case and so is the preface, header names and "h2c" are in any case.
 */
enum {
	IG_K_OTHER,
	IG_K_CR,
	IG_K_LF,
	IG_K_SP,
	IG_K_HT,
	IG_K_DASH,
	IG_K_COLON,
	IG_K_SEMI,
	IG_K_STAR,
	IG_K_SLASH,
	IG_K_DOT,
	IG_K_0,
	IG_K_2,
	IG_K_DIGIT,	/* the other digits */
	IG_K_UPPER,	/* the other letters */
	IG_K_LOWER,
	/* a b c d e f first: the hex digits are a range */
	IG_K_a, IG_K_b, IG_K_c, IG_K_d, IG_K_e, IG_K_f, IG_K_g, IG_K_h, IG_K_i,
	IG_K_l, IG_K_m, IG_K_n, IG_K_o, IG_K_p, IG_K_r, IG_K_s, IG_K_t, IG_K_u,
	IG_K_k, IG_K_x, IG_K_y, IG_K_z,
	IG_K_A,		/* the same letters in upper case, in the same order */
	IG_K_CASE = IG_K_A - IG_K_a,
	IG_K_N = IG_K_A + IG_K_CASE,
	IG_K_STRIDE = 64,
};
_Static_assert(IG_K_N <= IG_K_STRIDE, "classes fit a row");

/* The class of a character constant (tables only: a chain of compares). */
#define IG_KL(ch)                                                              \
	((ch) == 'a' ? IG_K_a : (ch) == 'b' ? IG_K_b : (ch) == 'c' ? IG_K_c :  \
	 (ch) == 'd' ? IG_K_d : (ch) == 'e' ? IG_K_e : (ch) == 'f' ? IG_K_f :  \
	 (ch) == 'g' ? IG_K_g : (ch) == 'h' ? IG_K_h : (ch) == 'i' ? IG_K_i :  \
	 (ch) == 'l' ? IG_K_l : (ch) == 'm' ? IG_K_m : (ch) == 'n' ? IG_K_n :  \
	 (ch) == 'o' ? IG_K_o : (ch) == 'p' ? IG_K_p : (ch) == 'r' ? IG_K_r :  \
	 (ch) == 's' ? IG_K_s : (ch) == 't' ? IG_K_t : (ch) == 'u' ? IG_K_u :  \
	 (ch) == 'k' ? IG_K_k : (ch) == 'x' ? IG_K_x : (ch) == 'y' ? IG_K_y :  \
	 (ch) == 'z' ? IG_K_z :                                                \
	 (ch) == '\r' ? IG_K_CR : (ch) == '\n' ? IG_K_LF : (ch) == ' ' ? IG_K_SP : \
	 (ch) == '-' ? IG_K_DASH : (ch) == ':' ? IG_K_COLON : (ch) == '*' ? IG_K_STAR : \
	 (ch) == '/' ? IG_K_SLASH : (ch) == '.' ? IG_K_DOT : (ch) == '0' ? IG_K_0 : \
	 (ch) == '2' ? IG_K_2 : IG_K_OTHER)
/* ... of an upper-case letter of the literals, or any of the above */
#define IG_KX(ch) ((ch) >= 'A' && (ch) <= 'Z' ? IG_KL((ch) | 0x20) + IG_K_CASE : IG_KL(ch))
/* ... of the upper case of a lower-case letter, or of any other of the above */
#define IG_KU(ch) ((ch) >= 'a' && (ch) <= 'z' ? IG_KL(ch) + IG_K_CASE : IG_KL(ch))

/* A transition: the next state, an action (bits 8..14), a request starts
 * (bit 15). */
#define IG_E(next, act) ((__u16)((act) << 8 | (next)))
#define IG_HA_COUNT 0x80
enum {
	IG_HA_NONE,
	IG_HA_DEC,	/* a Content-Length digit */
	IG_HA_HEX,	/* a chunk-size digit */
	IG_HA_H2,	/* a byte of an h2 frame header */
	IG_HA_CL,	/* a Content-Length value ends */
	IG_HA_TE,	/* a Transfer-Encoding line ends */
	IG_HA_HDR_END,	/* the header block ends: body? */
	IG_HA_SIZE_END,	/* a chunk-size line ends: data or trailer? */
	IG_HA_H2_END,	/* the last byte of an h2 frame header */
	IG_HA_KGATE,	/* a line may start a key header: only if keys are wanted */
	IG_HA_KMARK,	/* a key's value starts here (KEY_OWS: an earlier version's) */
	IG_HA_KEND,	/* its line ends here */
	IG_HA_KCOLON,	/* a key name's colon: its value starts after it */
};

/*
 * For BPF only:
 * - the blocks are an open-coded iterator (bpf_iter_num: Linux 6.4; infergate
 *   needs 6.6). One iterator call costs about 1.3 ns on this x86 VM, one a
 *   block is 0.16 ns a byte.
 * - The state, the number being read, len and what is left of a block go
 *   through memory (the state in a map value): read back, each is any value,
 *   where a register would hold one constant per path, or a range per path
 *   (len, which a caller that gave it to a helper as a size made precise),
 *   and the verifier would keep a state for each.
 * - IG_HTTP_OPAQUE_REG hides a value from the compiler, so that it keeps a
 *   mask the verifier needs as a bound.
 */
#ifdef __bpf__
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end)
	__attribute__((section(".ksyms")));
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __attribute__((section(".ksyms")));
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __attribute__((section(".ksyms")));
#define IG_HTTP_BLOCK_VARS struct bpf_iter_num it__; int *blk__
#define IG_HTTP_FOR_BLOCKS(i)                                                  \
	bpf_iter_num_new(&it__, 0, IG_HTTP_CHUNK / 8);                          \
	while ((blk__ = bpf_iter_num_next(&it__)) && ((i) = (__u32)*blk__ * 8, 1))
#define IG_HTTP_END_BLOCKS bpf_iter_num_destroy(&it__)
#define IG_HTTP_READ(x) (*(volatile typeof(x) *)&(x))
#define IG_HTTP_OPAQUE_REG(x) asm volatile("" : "+r"(x))
#define IG_HTTP_FORGET(st, s, val)                                             \
	do {                                                                   \
		(st)->state = (s);                                             \
		(st)->val = (val);                                             \
		(s) = IG_HTTP_READ((st)->state);                               \
		(val) = IG_HTTP_READ((st)->val);                               \
	} while (0)
#define IG_HTTP_FORGET_LEN(st, len)                                            \
	do {                                                                   \
		(st)->len = (__u16)(len);                                      \
		(len) = IG_HTTP_READ((st)->len);                               \
	} while (0)
#else
#define IG_HTTP_BLOCK_VARS
#define IG_HTTP_FOR_BLOCKS(i) for ((i) = 0; (i) < IG_HTTP_CHUNK; (i) += 8)
#define IG_HTTP_END_BLOCKS do { } while (0)
#define IG_HTTP_READ(x) (x)
#define IG_HTTP_OPAQUE_REG(x) do { } while (0)
#define IG_HTTP_FORGET(st, s, val) do { } while (0)
#define IG_HTTP_FORGET_LEN(st, len) do { } while (0)
#endif

/* Where a header block leads, by (cl != 0) << 2 | IG_HF_*: chunked, a body,
 * or the next request. */
#define IG_HTTP_HDR_END                                                        \
	((__u64)IG_HS_START | (__u64)IG_HS_START << 8 | (__u64)IG_HS_SIZE << 16 |   \
	 (__u64)IG_HS_SIZE << 24 | (__u64)IG_HS_START << 32 |                      \
	 (__u64)IG_HS_SKIP_BODY << 40 | (__u64)IG_HS_SIZE << 48 | (__u64)IG_HS_SIZE << 56)

/* 1 if x is not 0, without a branch */
#define IG_HTTP_NZ(x) (((__u64)(x) | (0 - (__u64)(x))) >> 63)
/* 1 if the u32 ne (below 2^31) is 0: clang keeps it arithmetic only when ne
 * went through IG_HTTP_OPAQUE_REG first (else it makes a compare and a
 * branch of the equality, BPF having no setcc) */
#define IG_HTTP_IS0(ne) (((__u32)(ne) - 1) >> 31)

static __always_inline int ig_http_opaque(const struct ig_http_state *st)
{
	return (IG_HTTP_READ(st->state) ^ IG_HS_START) == IG_HS_OPAQUE;
}

/* Is the connection past the h2 preface (between frames, in a frame header
 * or skipping a frame's payload)? */
static __always_inline int ig_http_is_h2(const struct ig_http_state *st)
{
	__u8 d = st->state ^ IG_HS_START;

	return (d >= IG_HS_H2 && d <= IG_HS_H2 + 8) || d == IG_HS_SKIP_H2;
}

#endif /* IG_HTTP_FSM_H */
