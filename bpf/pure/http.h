/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where a client's requests start, read off its TCP stream as it passes: the
 * pure half of per-request limiting (--unit request). HTTP/1.x with keep-alive
 * and pipelining, and h2c (prior knowledge, or after an Upgrade: h2c), counted
 * from the request bytes alone: the scanner never sees a response.
 *
 * The caller feeds the stream in order, up to IG_HTTP_CHUNK bytes at a time,
 * and keeps the 32-byte state per connection between segments. A body, a
 * chunk's data and an h2 frame's payload are skipped, not read
 * (ig_http_skip()): only the framing is examined, a few hundred bytes a
 * request.
 *
 * The counts are a security boundary: a stream the scanner cannot frame with
 * certainty (TLS, garbage, an Upgrade to anything but h2c, conflicting
 * Content-Lengths, obs-fold, a malformed chunk) turns opaque for good, and the
 * caller charges it per data segment. Each case that turns opaque is one a
 * server rejects (and then closes the connection: no later request is missed)
 * or one that leaves HTTP altogether.
 *
 * HTTP/1.x (RFC 9112): a request starts at the start of the stream or where
 * the previous one's framing ends; CR and LF before it are skipped (2.2). It is
 * counted at its method token (1 to 16 of A-Z, then SP; a 'P' is counted up to
 * 3 bytes later, once it is known not to open the h2 preface). The header
 * block ends at an empty line (CRLF or a bare LF); a line that starts with
 * whitespace (obs-fold) is opaque. Content-Length (OWS, digits, OWS; every
 * copy the same value; values of 10 * 2^58 and up taken as 2^62, which no
 * connection reaches) gives the body's length, and Transfer-Encoding (any
 * value) means chunked framing, which wins (6.3): chunk sizes in hex
 * (extensions ignored), each chunk's data and its CRLF skipped, the last
 * chunk's trailer lines read to the empty line. No Content-Length and no
 * Transfer-Encoding: no body (6.3, rule 7). Upgrade: h2c (OWS around it) is
 * the one upgrade let through: what follows it is read at a request start.
 *
 * API keys, when the caller sets IG_HF_KEYS: where the value of an
 * Authorization, X-API-Key or API-Key header line starts and ends (struct
 * ig_http_keys); the value itself is passed over like the rest of any line,
 * 8 bytes at once, and read by the caller (pure/apikey.h). Without the flag,
 * such a line is any other line. In h2c the headers are
 * HPACK-coded and in a frame payload the scanner skips: no key is read.
 *
 * h2c (RFC 9113 3.4): the 24-byte preface at a request start switches to
 * frames for good. A HEADERS frame on an odd stream id above every one the
 * client opened before starts a request; trailers (a HEADERS frame on an open
 * stream), CONTINUATION and everything else do not.
 *
 * How it is built is the verifier's doing. A bounded byte loop with a branchy
 * body does not verify in a million instructions: the verifier walks it once
 * per position, and a branch it walks late finds the states it could merge
 * into evicted. So every byte is one lookup in a transition table (byte
 * class x state): each letter of the literals matched (three header names,
 * "h2c", the preface) has a class of its own, so a literal is a run of
 * states, and what a table cannot do is an action on the transition (a digit,
 * the end of a header block, of a chunk-size line, of an h2 frame header).
 * The bytes go in blocks of 8, the 8 steps unrolled, the blocks an open-coded
 * iterator for BPF (walked until its state repeats, not once per block); a
 * block entered in the rest of a line, where most header bytes are, passes
 * over the bytes before the LF at once (the whole block if it has none), and
 * one entered in a header name judges the name's next bytes by one word
 * compare (struct ig_http_block). The actions have
 * no branches, and what the verifier would tell apart on each path goes
 * through memory (IG_HTTP_FORGET). On 6.18 a loop of 8 calls that is itself
 * an iterator verifies in 59k instructions, one call alone in 35k to 70k
 * (the caller's code around it counts); a plain loop of 8 calls exceeds the
 * million.
 *
 * Plain C otherwise: the unit tests compare it with a line-at-a-time model,
 * libFuzzer splits random streams at random places.
 */
#ifndef IG_HTTP_H
#define IG_HTTP_H

#include "pure/hdr.h"
#include "pure/http_fsm.h"

/* Rows of the table: a default for every class, then the exceptions. */
#define IG_ROW(st, dflt, ...) [st] = { [0 ... IG_K_N - 1] = (dflt), __VA_ARGS__ }
#define IG_UPPERS(e) [IG_K_UPPER] = (e), [IG_K_A ... IG_K_N - 1] = (e)
#define IG_DIGITS(e) [IG_K_0 ... IG_K_DIGIT] = (e)
#define IG_HEXES(e) IG_DIGITS(e), [IG_K_a ... IG_K_f] = (e), [IG_K_a + IG_K_CASE ... IG_K_f + IG_K_CASE] = (e)
#define IG_OWS(e) [IG_K_SP] = (e), [IG_K_HT] = (e)
/* a header name's next letter, in either case; anything else is some other
 * header, and an LF ends it */
#define IG_NAME(st, ch, nx)                                                    \
	IG_ROW(st, IG_E(IG_HS_LINE, 0), [IG_K_LF] = IG_E(IG_HS_HDR, 0),       \
	       [IG_KL(ch)] = IG_E(nx, 0), [IG_KU(ch)] = IG_E(nx, 0))
#define IG_NAME_NEXT(st, ch) IG_NAME(st, ch, (st) + 1)
/* the preface's next byte, exactly */
#define IG_PRE(k, ch, nx) IG_ROW(IG_HS_PRE + (k) - 1, 0, [IG_KX(ch)] = IG_E(nx, 0))
#define IG_PRE_NEXT(k, ch) IG_PRE(k, ch, IG_HS_PRE + (k))
#define IG_METHOD(k) IG_ROW(IG_HS_M1 + (k) - 1, 0, IG_UPPERS(IG_E(IG_HS_M1 + (k), 0)), \
			    [IG_K_SP] = IG_E(IG_HS_LINE, 0))
/* "P", "PR", "PRI" were the first letters of a method after all */
#define IG_PRE_METHOD(k) IG_UPPERS(IG_E(IG_HS_M1 + (k), IG_HA_COUNT)), \
			 [IG_K_SP] = IG_E(IG_HS_LINE, IG_HA_COUNT)
#define IG_H2_BYTE(k, a) IG_ROW(IG_HS_H2 + (k), IG_E(IG_HS_H2 + (k) + 1, a))

/*
 * One byte c of the stream, in state *s: the transition, and what goes with
 * it. Returns 1 when it enters a skip state (then the caller stops).
 */
static __always_inline int ig_http_step(struct ig_http_state *st, __u8 *sp, __u64 *valp,
					__u32 *np, struct ig_http_keys *k, __u32 pos, __u8 c)
{
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
	static const __u8 cls[256] = {
		['A' ... 'Z'] = IG_K_UPPER, ['a' ... 'z'] = IG_K_LOWER, ['0' ... '9'] = IG_K_DIGIT,
		['\r'] = IG_K_CR, ['\n'] = IG_K_LF, [' '] = IG_K_SP, ['\t'] = IG_K_HT,
		['-'] = IG_K_DASH, [':'] = IG_K_COLON, [';'] = IG_K_SEMI, ['*'] = IG_K_STAR,
		['/'] = IG_K_SLASH, ['.'] = IG_K_DOT, ['0'] = IG_K_0, ['2'] = IG_K_2,
#define IG_LETTER(ch) [ch] = IG_KL(ch), [(ch) & ~0x20] = IG_KL(ch) + IG_K_CASE
		IG_LETTER('a'), IG_LETTER('b'), IG_LETTER('c'), IG_LETTER('d'), IG_LETTER('e'),
		IG_LETTER('f'), IG_LETTER('g'), IG_LETTER('h'), IG_LETTER('i'), IG_LETTER('l'),
		IG_LETTER('m'), IG_LETTER('n'), IG_LETTER('o'), IG_LETTER('p'), IG_LETTER('r'),
		IG_LETTER('s'), IG_LETTER('t'), IG_LETTER('u'), IG_LETTER('k'), IG_LETTER('x'),
		IG_LETTER('y'), IG_LETTER('z'),
#undef IG_LETTER
	};
	/* what a row leaves out is 0: opaque */
	static const __u16 step[IG_HS_ROWS][IG_K_STRIDE] = {
		IG_ROW(IG_HS_START, 0, [IG_K_CR] = IG_E(IG_HS_START, 0),
		       [IG_K_LF] = IG_E(IG_HS_START, 0), IG_UPPERS(IG_E(IG_HS_M1, IG_HA_COUNT)),
		       [IG_KX('P')] = IG_E(IG_HS_PRE, 0)),
		IG_METHOD(1), IG_METHOD(2), IG_METHOD(3), IG_METHOD(4), IG_METHOD(5),
		IG_METHOD(6), IG_METHOD(7), IG_METHOD(8), IG_METHOD(9), IG_METHOD(10),
		IG_METHOD(11), IG_METHOD(12), IG_METHOD(13), IG_METHOD(14), IG_METHOD(15),
		IG_ROW(IG_HS_M1 + 15, 0, [IG_K_SP] = IG_E(IG_HS_LINE, 0)),
		IG_ROW(IG_HS_LINE, IG_E(IG_HS_LINE, 0), [IG_K_LF] = IG_E(IG_HS_HDR, 0)),
		IG_ROW(IG_HS_TE_LINE, IG_E(IG_HS_TE_LINE, 0), [IG_K_LF] = IG_E(IG_HS_HDR, IG_HA_TE)),
		IG_ROW(IG_HS_EXT_LINE, IG_E(IG_HS_EXT_LINE, 0),
		       [IG_K_LF] = IG_E(IG_HS_EXT_LINE, IG_HA_SIZE_END)),
		IG_ROW(IG_HS_TR_LINE, IG_E(IG_HS_TR_LINE, 0), [IG_K_LF] = IG_E(IG_HS_TRAILER, 0)),
		/* a line that starts with whitespace is obs-fold: opaque */
		IG_ROW(IG_HS_HDR, IG_E(IG_HS_LINE, 0), [IG_K_CR] = IG_E(IG_HS_HDR_CR, 0),
		       [IG_K_LF] = IG_E(IG_HS_HDR, IG_HA_HDR_END), IG_OWS(0),
		       [IG_K_c] = IG_E(IG_HS_CN, 0), [IG_K_c + IG_K_CASE] = IG_E(IG_HS_CN, 0),
		       [IG_K_t] = IG_E(IG_HS_TN, 0), [IG_K_t + IG_K_CASE] = IG_E(IG_HS_TN, 0),
		       [IG_K_u] = IG_E(IG_HS_UN, 0), [IG_K_u + IG_K_CASE] = IG_E(IG_HS_UN, 0),
		       [IG_K_a] = IG_E(IG_HS_KA, IG_HA_KGATE),
		       [IG_K_a + IG_K_CASE] = IG_E(IG_HS_KA, IG_HA_KGATE),
		       [IG_K_x] = IG_E(IG_HS_KX, IG_HA_KGATE),
		       [IG_K_x + IG_K_CASE] = IG_E(IG_HS_KX, IG_HA_KGATE)),
		IG_ROW(IG_HS_HDR_CR, 0, [IG_K_LF] = IG_E(IG_HS_HDR, IG_HA_HDR_END)),
		IG_NAME_NEXT(IG_HS_CN + 0, 'o'), IG_NAME_NEXT(IG_HS_CN + 1, 'n'),
		IG_NAME_NEXT(IG_HS_CN + 2, 't'), IG_NAME_NEXT(IG_HS_CN + 3, 'e'),
		IG_NAME_NEXT(IG_HS_CN + 4, 'n'), IG_NAME_NEXT(IG_HS_CN + 5, 't'),
		IG_NAME_NEXT(IG_HS_CN + 6, '-'), IG_NAME_NEXT(IG_HS_CN + 7, 'l'),
		IG_NAME_NEXT(IG_HS_CN + 8, 'e'), IG_NAME_NEXT(IG_HS_CN + 9, 'n'),
		IG_NAME_NEXT(IG_HS_CN + 10, 'g'), IG_NAME_NEXT(IG_HS_CN + 11, 't'),
		IG_NAME_NEXT(IG_HS_CN + 12, 'h'), IG_NAME(IG_HS_CN + 13, ':', IG_HS_CL_OWS),
		IG_NAME_NEXT(IG_HS_TN + 0, 'r'), IG_NAME_NEXT(IG_HS_TN + 1, 'a'),
		IG_NAME_NEXT(IG_HS_TN + 2, 'n'), IG_NAME_NEXT(IG_HS_TN + 3, 's'),
		IG_NAME_NEXT(IG_HS_TN + 4, 'f'), IG_NAME_NEXT(IG_HS_TN + 5, 'e'),
		IG_NAME_NEXT(IG_HS_TN + 6, 'r'), IG_NAME_NEXT(IG_HS_TN + 7, '-'),
		IG_NAME_NEXT(IG_HS_TN + 8, 'e'), IG_NAME_NEXT(IG_HS_TN + 9, 'n'),
		IG_NAME_NEXT(IG_HS_TN + 10, 'c'), IG_NAME_NEXT(IG_HS_TN + 11, 'o'),
		IG_NAME_NEXT(IG_HS_TN + 12, 'd'), IG_NAME_NEXT(IG_HS_TN + 13, 'i'),
		IG_NAME_NEXT(IG_HS_TN + 14, 'n'), IG_NAME_NEXT(IG_HS_TN + 15, 'g'),
		IG_NAME(IG_HS_TN + 16, ':', IG_HS_TE_LINE),
		IG_NAME_NEXT(IG_HS_UN + 0, 'p'), IG_NAME_NEXT(IG_HS_UN + 1, 'g'),
		IG_NAME_NEXT(IG_HS_UN + 2, 'r'), IG_NAME_NEXT(IG_HS_UN + 3, 'a'),
		IG_NAME_NEXT(IG_HS_UN + 4, 'd'), IG_NAME_NEXT(IG_HS_UN + 5, 'e'),
		IG_NAME(IG_HS_UN + 6, ':', IG_HS_UP_OWS),
		IG_ROW(IG_HS_PRE + 0, 0, IG_PRE_METHOD(1), [IG_KX('R')] = IG_E(IG_HS_PRE + 1, 0)),
		IG_ROW(IG_HS_PRE + 1, 0, IG_PRE_METHOD(2), [IG_KX('I')] = IG_E(IG_HS_PRE + 2, 0)),
		/* "PRI " is the preface's */
		IG_ROW(IG_HS_PRE + 2, 0, IG_UPPERS(IG_E(IG_HS_M1 + 3, IG_HA_COUNT)),
		       [IG_K_SP] = IG_E(IG_HS_PRE + 3, 0)),
		IG_PRE_NEXT(4, '*'), IG_PRE_NEXT(5, ' '), IG_PRE_NEXT(6, 'H'),
		IG_PRE_NEXT(7, 'T'), IG_PRE_NEXT(8, 'T'), IG_PRE_NEXT(9, 'P'),
		IG_PRE_NEXT(10, '/'), IG_PRE_NEXT(11, '2'), IG_PRE_NEXT(12, '.'),
		IG_PRE_NEXT(13, '0'), IG_PRE_NEXT(14, '\r'), IG_PRE_NEXT(15, '\n'),
		IG_PRE_NEXT(16, '\r'), IG_PRE_NEXT(17, '\n'), IG_PRE_NEXT(18, 'S'),
		IG_PRE_NEXT(19, 'M'), IG_PRE_NEXT(20, '\r'), IG_PRE_NEXT(21, '\n'),
		IG_PRE_NEXT(22, '\r'), IG_PRE(23, '\n', IG_HS_H2),
		IG_ROW(IG_HS_CL_OWS, 0, IG_OWS(IG_E(IG_HS_CL_OWS, 0)),
		       IG_DIGITS(IG_E(IG_HS_CL_DIGIT, IG_HA_DEC))),
		IG_ROW(IG_HS_CL_DIGIT, 0, IG_DIGITS(IG_E(IG_HS_CL_DIGIT, IG_HA_DEC)),
		       IG_OWS(IG_E(IG_HS_CL_END, 0)), [IG_K_CR] = IG_E(IG_HS_CL_END, 0),
		       [IG_K_LF] = IG_E(IG_HS_HDR, IG_HA_CL)),
		IG_ROW(IG_HS_CL_END, 0, IG_OWS(IG_E(IG_HS_CL_END, 0)), [IG_K_CR] = IG_E(IG_HS_CL_END, 0),
		       [IG_K_LF] = IG_E(IG_HS_HDR, IG_HA_CL)),
		IG_ROW(IG_HS_UP_OWS, 0, IG_OWS(IG_E(IG_HS_UP_OWS, 0)),
		       [IG_K_h] = IG_E(IG_HS_UP_H, 0), [IG_K_h + IG_K_CASE] = IG_E(IG_HS_UP_H, 0)),
		IG_ROW(IG_HS_UP_H, 0, [IG_K_2] = IG_E(IG_HS_UP_H2, 0)),
		IG_ROW(IG_HS_UP_H2, 0, [IG_K_c] = IG_E(IG_HS_UP_END, 0),
		       [IG_K_c + IG_K_CASE] = IG_E(IG_HS_UP_END, 0)),
		IG_ROW(IG_HS_UP_END, 0, IG_OWS(IG_E(IG_HS_UP_END, 0)), [IG_K_CR] = IG_E(IG_HS_UP_END, 0),
		       [IG_K_LF] = IG_E(IG_HS_HDR, 0)),
		IG_ROW(IG_HS_SIZE, 0, IG_HEXES(IG_E(IG_HS_SIZE_DIGIT, IG_HA_HEX))),
		IG_ROW(IG_HS_SIZE_DIGIT, 0, IG_HEXES(IG_E(IG_HS_SIZE_DIGIT, IG_HA_HEX)),
		       IG_OWS(IG_E(IG_HS_EXT_LINE, 0)), [IG_K_SEMI] = IG_E(IG_HS_EXT_LINE, 0),
		       [IG_K_CR] = IG_E(IG_HS_EXT_LINE, 0),
		       [IG_K_LF] = IG_E(IG_HS_EXT_LINE, IG_HA_SIZE_END)),
		IG_ROW(IG_HS_DATA_CR, 0, [IG_K_CR] = IG_E(IG_HS_DATA_LF, 0),
		       [IG_K_LF] = IG_E(IG_HS_SIZE, 0)),
		IG_ROW(IG_HS_DATA_LF, 0, [IG_K_LF] = IG_E(IG_HS_SIZE, 0)),
		IG_ROW(IG_HS_TRAILER, IG_E(IG_HS_TR_LINE, 0), [IG_K_CR] = IG_E(IG_HS_TRAILER_CR, 0),
		       [IG_K_LF] = IG_E(IG_HS_START, 0)),
		IG_ROW(IG_HS_TRAILER_CR, 0, [IG_K_LF] = IG_E(IG_HS_START, 0)),
		/* byte 4, the flags, is of no interest */
		IG_H2_BYTE(0, IG_HA_H2), IG_H2_BYTE(1, IG_HA_H2), IG_H2_BYTE(2, IG_HA_H2),
		IG_H2_BYTE(3, IG_HA_H2), IG_H2_BYTE(4, 0), IG_H2_BYTE(5, IG_HA_H2),
		IG_H2_BYTE(6, IG_HA_H2), IG_H2_BYTE(7, IG_HA_H2),
		IG_ROW(IG_HS_H2 + 8, IG_E(IG_HS_H2, IG_HA_H2_END)),
		IG_ROW(IG_HS_KA, IG_E(IG_HS_LINE, 0), [IG_K_LF] = IG_E(IG_HS_HDR, 0),
		       [IG_K_u] = IG_E(IG_HS_KU, 0), [IG_K_u + IG_K_CASE] = IG_E(IG_HS_KU, 0),
		       [IG_K_p] = IG_E(IG_HS_KP, 0), [IG_K_p + IG_K_CASE] = IG_E(IG_HS_KP, 0)),
		IG_NAME_NEXT(IG_HS_KU + 0, 't'), IG_NAME_NEXT(IG_HS_KU + 1, 'h'),
		IG_NAME_NEXT(IG_HS_KU + 2, 'o'), IG_NAME_NEXT(IG_HS_KU + 3, 'r'),
		IG_NAME_NEXT(IG_HS_KU + 4, 'i'), IG_NAME_NEXT(IG_HS_KU + 5, 'z'),
		IG_NAME_NEXT(IG_HS_KU + 6, 'a'), IG_NAME_NEXT(IG_HS_KU + 7, 't'),
		IG_NAME_NEXT(IG_HS_KU + 8, 'i'), IG_NAME_NEXT(IG_HS_KU + 9, 'o'),
		IG_NAME_NEXT(IG_HS_KU + 10, 'n'),
		IG_ROW(IG_HS_KU + 11, IG_E(IG_HS_LINE, 0), [IG_K_LF] = IG_E(IG_HS_HDR, 0),
		       [IG_K_COLON] = IG_E(IG_HS_KEY_VAL, IG_HA_KCOLON)),
		IG_NAME_NEXT(IG_HS_KP + 0, 'i'), IG_NAME_NEXT(IG_HS_KP + 1, '-'),
		IG_NAME_NEXT(IG_HS_KP + 2, 'k'), IG_NAME_NEXT(IG_HS_KP + 3, 'e'),
		IG_NAME_NEXT(IG_HS_KP + 4, 'y'),
		IG_ROW(IG_HS_KP + 5, IG_E(IG_HS_LINE, 0), [IG_K_LF] = IG_E(IG_HS_HDR, 0),
		       [IG_K_COLON] = IG_E(IG_HS_KEY_VAL, IG_HA_KCOLON)),
		IG_NAME_NEXT(IG_HS_KX + 0, '-'), IG_NAME_NEXT(IG_HS_KX + 1, 'a'),
		IG_NAME_NEXT(IG_HS_KX + 2, 'p'), IG_NAME_NEXT(IG_HS_KX + 3, 'i'),
		IG_NAME_NEXT(IG_HS_KX + 4, '-'), IG_NAME_NEXT(IG_HS_KX + 5, 'k'),
		IG_NAME_NEXT(IG_HS_KX + 6, 'e'), IG_NAME_NEXT(IG_HS_KX + 7, 'y'),
		IG_ROW(IG_HS_KX + 8, IG_E(IG_HS_LINE, 0), [IG_K_LF] = IG_E(IG_HS_HDR, 0),
		       [IG_K_COLON] = IG_E(IG_HS_KEY_VAL, IG_HA_KCOLON)),
		/* The value is read by the caller, from the byte after the
		 * colon (ig_key_token() drops the whitespace before it). No
		 * transition leads to KEY_OWS any more, where an earlier
		 * version marked the value after its whitespace: the row stays
		 * for a connection that state was stored in (http_conns
		 * outlives an upgrade). */
		IG_ROW(IG_HS_KEY_OWS, IG_E(IG_HS_KEY_VAL, IG_HA_KMARK),
		       IG_OWS(IG_E(IG_HS_KEY_OWS, 0)), [IG_K_CR] = IG_E(IG_HS_KEY_OWS, 0),
		       [IG_K_LF] = IG_E(IG_HS_HDR, 0)),
		IG_ROW(IG_HS_KEY_VAL, IG_E(IG_HS_KEY_VAL, 0), [IG_K_LF] = IG_E(IG_HS_HDR, IG_HA_KEND)),
	};
#ifdef __clang__
#pragma clang diagnostic pop
#else
#pragma GCC diagnostic pop
#endif
	__u64 val = *valp, w, x;
	__u32 e, a, d;
	__u8 s;

	/* (the mask is the verifier's bound: the compiler, which knows s, must
	 * not drop it) */
	e = (__u32)(*sp & (IG_HS_ROWS - 1)) * IG_K_STRIDE + (cls[c] & (IG_K_STRIDE - 1));
	IG_HTTP_OPAQUE_REG(e);
	e = (&step[0][0])[e & (IG_HS_ROWS * IG_K_STRIDE - 1)];
	s = e & (IG_HS_ROWS - 1);
	*np += e >> 15;
	a = (e >> 8) & 0x7f;
	*sp = s;
	if (!a)
		return 0;
	/*
	 * The actions have no branch but the one on a: a state or a number
	 * that a branch on one path makes a constant, the verifier keeps apart
	 * from the same on the others. Truth values are 0 / 1, hidden from the
	 * compiler, which would make branches of them.
	 */
	/* a digit's value: c & 0xf for '0'..'9', 9 more for letters */
	d = (c & 0xf) + 9 * (c >> 6);
	/* from 2^58 on a number is taken as 2^62 (below it, ten times it plus a
	 * digit stays below 2^62) */
	w = 0ULL - (((val >> 58) + 63) >> 6);
	switch (a) {
	case IG_HA_DEC:
		val = ((val * 10 + d) & ~w) | (IG_HTTP_BIG & w);
		break;
	case IG_HA_HEX:
		val = ((val << 4 | d) & ~w) | (IG_HTTP_BIG & w);
		break;
	case IG_HA_H2:
		val = val << 8 | c;
		break;
	case IG_HA_CL:
		/* a second value must repeat the first: else opaque (state 0) */
		x = (st->flags & IG_HF_CL) & IG_HTTP_NZ(st->cl ^ val);
		IG_HTTP_OPAQUE_REG(x);
		s &= (__u8)(x - 1);
		st->cl = val;
		st->flags |= IG_HF_CL;
		val = 0;
		break;
	case IG_HA_TE:
		st->flags |= IG_HF_CHUNKED;
		break;
	case IG_HA_HDR_END:
		/* byte (cl != 0) << 2 | IG_HF_* of IG_HTTP_HDR_END: where the
		 * block leads (a u64, not a table: clang 14 puts an 8-byte
		 * table in .rodata.cst8, with BTF the kernel refuses) */
		x = (st->flags & 3) | IG_HTTP_NZ(st->cl) << 2;
		IG_HTTP_OPAQUE_REG(x);
		s = (__u8)(IG_HTTP_HDR_END >> (8 * (x & 7)));
		st->left = st->cl; /* read only in a skip state */
		st->flags &= IG_HF_KEYS;
		st->cl = 0;
		break;
	case IG_HA_SIZE_END:
		x = IG_HTTP_NZ(val);
		IG_HTTP_OPAQUE_REG(x);
		s = (__u8)(IG_HS_TRAILER + x * (IG_HS_SKIP_CHUNK - IG_HS_TRAILER));
		st->left = val;
		val = 0;
		break;
	case IG_HA_KGATE:
		/* to the rest of the line when keys are not wanted */
		x = (st->flags / IG_HF_KEYS) & 1;
		IG_HTTP_OPAQUE_REG(x);
		s = (__u8)(IG_HS_LINE + x * (s - IG_HS_LINE));
		break;
	case IG_HA_KMARK:
		/* found only once the line is whole */
		k->start = k->base + pos;
		k->found = 0;
		val = 0;
		break;
	case IG_HA_KEND:
		k->end = k->base + pos;
		k->found = 1;
		val = 0;
		break;
	case IG_HA_KCOLON:
		k->start = k->base + pos + 1;
		k->found = 0;
		val = 0;
		break;
	case IG_HA_H2_END:
		/* val: length 24 bits, type 8, stream id 32 (R bit on top); a
		 * HEADERS frame on an odd stream above all before starts one */
		val = val << 8 | c;
		w = val & 0x7fffffff;
		x = (1 - IG_HTTP_NZ(((val >> 32) & 0xff) ^ IG_H2_HEADERS)) & w &
		    ((st->cl - w) >> 63);
		IG_HTTP_OPAQUE_REG(x);
		*np += (__u32)x;
		st->cl += (w - st->cl) & (0 - x);
		st->first += (__u32)w & (0 - (__u32)(x & (1 - IG_HTTP_NZ(st->first))));
		st->left = val >> 40;
		x = IG_HTTP_NZ(st->left);
		IG_HTTP_OPAQUE_REG(x);
		s = (__u8)(IG_HS_H2 + x * (IG_HS_SKIP_H2 - IG_HS_H2));
		val = 0;
		break;
	}
	*sp = s;
	*valp = val;
	return IG_HS_IS_SKIP(s);
}

/*
 * A block that starts in a header name the scanner matches (state s of
 * content-length, transfer-encoding, upgrade or a key name), passed over
 * without a step where the transitions change nothing but the state: the
 * bytes that go on with the name (pat, mask; lower: the letters' case bit),
 * len of them, to state next (the name's own 8 bytes on, or the one after
 * its colon); or, from the first that does not (the rest of some other line,
 * miss), every byte before the first LF, as in the rest of any line.
 * Stepped a byte at a time instead, such a block cost up to 8 steps where
 * the rest of any other line costs none: with --key api-key, each X- line's
 * "x-" did an eighth of the time (measured, 1 KB of headers: about 70 ns).
 * The first letter of each line is still a step (which name, if any).
 *
 * A name that ends here leads to its value. The rest of the block is then
 * what that value's state reads: stepped from byte len on (stop) where the
 * value is read (Content-Length, Upgrade), passed over to its LF (rest: the
 * bytes after the colon) where it is the rest of a line (Transfer-Encoding,
 * a key's value). A key's value starts after its colon (mark): its
 * whitespace and all are the caller's (ig_key_token()). Stepped, the bytes
 * after a key's colon cost up to 8 steps where a line that is no key's
 * costs none (counted on 1 KB of an SDK's headers: 7 of the 15 steps an
 * api-key port took more than a source port; the other 8 were a block
 * entered after Accept's "A", now KA's row or api-key's).
 */
struct ig_http_block {
	__u64 pat;
	__u64 mask;
	__u64 lower;
	__u64 rest;
	__u64 stop;
	__u8 len;
	__u8 next;
	/* IG_HS_LINE in every row, but read from here: a constant would tell
	 * the verifier the state on that path (IG_HTTP_FORGET's reason) */
	__u8 miss;
	__u8 mark;
	__u8 pad[4];
};

/* byte i of what is left of a name past k of L's bytes (0 past its end) */
#define IG_BLK_C(L, k, i) ((k) + (i) < sizeof(L) - 1 ? (__u64)(__u8)(L)[(k) + (i)] : 0)
#define IG_BLK_B(L, k, i, f) ((__u64)f(IG_BLK_C(L, k, i)) << (8 * (i)))
#define IG_BLK_W(L, k, f)                                                      \
	(IG_BLK_B(L, k, 0, f) | IG_BLK_B(L, k, 1, f) | IG_BLK_B(L, k, 2, f) |  \
	 IG_BLK_B(L, k, 3, f) | IG_BLK_B(L, k, 4, f) | IG_BLK_B(L, k, 5, f) |  \
	 IG_BLK_B(L, k, 6, f) | IG_BLK_B(L, k, 7, f))
#define IG_BLK_ID(c) (c)
#define IG_BLK_ANY(c) ((c) ? 0xffULL : 0)
#define IG_BLK_CASE(c) ((c) >= 'a' && (c) <= 'z' ? 0x20ULL : 0)
#define IG_BLK_LEFT(L, k) (sizeof(L) - 1 - (k))
#define IG_BLK_LEN(L, k) (IG_BLK_LEFT(L, k) < 8 ? IG_BLK_LEFT(L, k) : 8)
/* does the name end in this block, into a value that is the rest of a line? */
#define IG_BLK_ENDS(L, k) (IG_BLK_LEFT(L, k) <= 8)
#define IG_BLK_LINE(fin) ((fin) == IG_HS_KEY_VAL || (fin) == IG_HS_TE_LINE)
/* the bytes from n on, and 0x80 in byte n (1 <= n <= 8; none for 8: two
 * shifts, as one of 64 would be undefined) */
#define IG_BLK_FROM(n) ((~0ULL << (8 * (n) - 1)) << 1)
#define IG_BLK_AT(n) ((0x80ULL << (8 * (n) - 1)) << 1)
/* state st0 + k of a name: L is what follows its first letter, k bytes of
 * it read; fin the state after its colon */
#define IG_BLK_NAME(st0, k, L, fin)                                            \
	[(st0) + (k)] = { .pat = IG_BLK_W(L, k, IG_BLK_ID),                    \
			  .mask = IG_BLK_W(L, k, IG_BLK_ANY),                    \
			  .lower = IG_BLK_W(L, k, IG_BLK_CASE),                  \
			  .rest = IG_BLK_ENDS(L, k) && IG_BLK_LINE(fin)          \
				  ? IG_BLK_FROM(IG_BLK_LEN(L, k)) : 0,           \
			  .stop = IG_BLK_ENDS(L, k) && !IG_BLK_LINE(fin)         \
				  ? IG_BLK_AT(IG_BLK_LEN(L, k)) : 0,             \
			  .len = IG_BLK_LEN(L, k),                               \
			  .next = IG_BLK_ENDS(L, k) ? (fin) : (st0) + (k) + 8,   \
			  .mark = IG_BLK_ENDS(L, k) && (fin) == IG_HS_KEY_VAL,   \
			  .miss = IG_HS_LINE }
#define IG_BLK_NAME6(s, L, f)                                                  \
	IG_BLK_NAME(s, 0, L, f), IG_BLK_NAME(s, 1, L, f), IG_BLK_NAME(s, 2, L, f), \
	IG_BLK_NAME(s, 3, L, f), IG_BLK_NAME(s, 4, L, f), IG_BLK_NAME(s, 5, L, f)
#define IG_BLK_NAME7(s, L, f) IG_BLK_NAME6(s, L, f), IG_BLK_NAME(s, 6, L, f)
#define IG_BLK_NAME9(s, L, f) IG_BLK_NAME7(s, L, f), IG_BLK_NAME(s, 7, L, f), IG_BLK_NAME(s, 8, L, f)
#define IG_BLK_NAME12(s, L, f)                                                 \
	IG_BLK_NAME9(s, L, f), IG_BLK_NAME(s, 9, L, f), IG_BLK_NAME(s, 10, L, f), \
	IG_BLK_NAME(s, 11, L, f)
#define IG_BLK_NAME14(s, L, f) IG_BLK_NAME12(s, L, f), IG_BLK_NAME(s, 12, L, f), IG_BLK_NAME(s, 13, L, f)
#define IG_BLK_NAME17(s, L, f)                                                 \
	IG_BLK_NAME14(s, L, f), IG_BLK_NAME(s, 14, L, f), IG_BLK_NAME(s, 15, L, f), \
	IG_BLK_NAME(s, 16, L, f)

/*
 * Feed the next len bytes of the stream (len <= IG_HTTP_CHUNK), the first len
 * of buf's IG_HTTP_CHUNK (8-byte aligned). Adds the requests that start in
 * them to *requests, and the last API key read (IG_HF_KEYS) to *keys.
 * Returns the bytes consumed: all of them, or fewer when a
 * body, a chunk's data or a frame payload begins (ig_http_skip() passes over
 * it; in a skip state this consumes nothing). Opaque: consumes everything,
 * counts nothing. For BPF, st and buf lie in map values (the verifier must
 * not know what st holds; the stack wants every 8-byte load aligned), and a
 * loop of calls over a segment's chunks is best an iterator or bpf_loop too:
 * a plain loop of 8 calls does not verify in a million instructions.
 */
static __always_inline __u32 ig_http_feed(struct ig_http_state *st, const __u8 *buf, __u32 len,
					  __u32 *requests, struct ig_http_keys *keys)
{
	static const struct ig_http_block blk[IG_HS_ROWS] = {
		/* "a" read: "uthoriza", or (its own row) "pi-key:" */
		IG_BLK_NAME(IG_HS_KA, 0, "uthorization:", IG_HS_KEY_VAL),
		IG_BLK_NAME(IG_HS_BLK_AP, 0, "pi-key:", IG_HS_KEY_VAL),
		IG_BLK_NAME14(IG_HS_CN, "ontent-length:", IG_HS_CL_OWS),
		IG_BLK_NAME17(IG_HS_TN, "ransfer-encoding:", IG_HS_TE_LINE),
		IG_BLK_NAME7(IG_HS_UN, "pgrade:", IG_HS_UP_OWS),
		IG_BLK_NAME12(IG_HS_KU, "thorization:", IG_HS_KEY_VAL),
		IG_BLK_NAME6(IG_HS_KP, "i-key:", IG_HS_KEY_VAL),
		IG_BLK_NAME9(IG_HS_KX, "-api-key:", IG_HS_KEY_VAL),
	};
	const struct ig_http_block *b;
	__u64 val = IG_HTTP_READ(st->val), w, x, from_lf, stop, m;
	__u32 n = 0, i = 0, end, left, from, ne;
	__u64 fast, name, ap;
	__u8 s = IG_HTTP_READ(st->state) ^ IG_HS_START;
	IG_HTTP_BLOCK_VARS;

	if (len > IG_HTTP_CHUNK)
		len = IG_HTTP_CHUNK;
	/* a caller that gave len to a helper as a size made it precise, and
	 * so did the clamp: each path's range of it would be a state of its own */
	IG_HTTP_FORGET_LEN(st, len);
	if (s == IG_HS_OPAQUE)
		return len;
	if (IG_HS_IS_SKIP(s))
		return 0;
	end = len;
	IG_HTTP_FOR_BLOCKS(i) {
		if (i >= len)
			break;
		left = len - i;
		/* a block that starts in the rest of a line, or in one of the
		 * names matched, is passed over at once to its first byte
		 * that can change more than the state (struct ig_http_block;
		 * no branch on s: the verifier would keep apart the paths
		 * where it knows s) */
		from = 0;
		/* s == KEY_VAL (here) and s == KA (below) as a subtract from
		 * a value the compiler cannot see through: as compares, or as
		 * 1 - IG_HTTP_NZ(), clang turns each into a branch (BPF has
		 * no setcc), this one in every block; on an api-key port the
		 * CPU mispredicted it around a key's value (1 KB of headers:
		 * ~25 ns of the ~97 the key's finding cost). ne is 0 where
		 * the two are equal and below 256 else (IG_HTTP_IS0). */
		ne = (__u8)(s ^ IG_HS_KEY_VAL);
		IG_HTTP_OPAQUE_REG(ne);
		fast = (((__u32)(__u8)(s - IG_HS_LINE) - (IG_HS_TR_LINE - IG_HS_LINE + 1)) >> 31) |
		       IG_HTTP_IS0(ne);
		name = (((__u32)(__u8)(s - IG_HS_CN) - (IG_HS_PRE - IG_HS_CN)) >> 31) |
		       (((__u32)(__u8)(s - IG_HS_KA) - (IG_HS_KEY_OWS - IG_HS_KA)) >> 31);
		IG_HTTP_OPAQUE_REG(fast);
		IG_HTTP_OPAQUE_REG(name);
		if ((fast | name) && left >= 8) {
#ifdef __bpf__
			w = *(const __u64 *)(buf + (i & (IG_HTTP_MASK & ~7)));
#else
			__builtin_memcpy(&w, buf + i, 8);
#endif
			w = ig_le64(w);
			from_lf = ~0ULL;
			stop = 0;
			if (name) {
				/* KA, a "p" next: api-key's row (a block
				 * after an "A" that ended the last one was
				 * stepped whole, and every SDK sends Accept) */
				ne = (__u32)(__u8)(s ^ IG_HS_KA) | (__u32)(((w & 0xff) | 0x20) ^ 'p');
				IG_HTTP_OPAQUE_REG(ne);
				ap = IG_HTTP_IS0(ne);
				IG_HTTP_OPAQUE_REG(ap);
				b = &blk[(s + ap * (IG_HS_BLK_AP - s)) & (IG_HS_ROWS - 1)];
				/* the name's bytes that differ (its letters
				 * in either case) */
				x = ((w | b->lower) ^ b->pat) & b->mask;
				if (!x) {
					/* it goes on in the next block, or
					 * ends (its colon) in this one, and
					 * the rest is its value's: stepped
					 * from len on, or passed to its LF
					 * (a key's marked first) */
					s = b->next;
					from_lf = b->rest;
					stop = b->stop;
					m = b->mark;
					IG_HTTP_OPAQUE_REG(m);
					keys->start += (keys->base + i + b->len - keys->start) & (0 - m);
					keys->found &= (__u32)(1 - m);
				} else {
					/* the rest of some other line from the
					 * first byte that differs: the block's
					 * first LF is at or after it, as the
					 * bytes before it are the name's (no
					 * name holds an LF), so it is looked
					 * for in the whole block (0.14.4 found
					 * that byte first, on the critical
					 * path of 6 blocks of 1 KB of an SDK's
					 * headers: ~10 ns of finding a key) */
					s = b->miss;
				}
			}
			w ^= 0x0a0a0a0a0a0a0a0aULL;
			/* 0x80 in each byte that is an LF, and maybe in some
			 * after the first (a borrow), never before it (and
			 * none is before a name's first byte that differs:
			 * no name holds one); and where a value's steps start */
			w = ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL & from_lf) | stop;
			if (!w)
				continue;
			/* the bytes before the first: one 1 bit each, summed */
			w = (((w & (0 - w)) - 1) >> 7) & 0x0101010101010101ULL;
			from = (__u32)((w * 0x0101010101010101ULL) >> 56);
		}
		/* entered at byte `from`: one branch, not one a byte (to the
		 * verifier each is another path); the last block may be short
		 * (what left is goes through memory: else the compare above
		 * decides the ones below, and each decision splits the paths) */
		IG_HTTP_FORGET_LEN(st, left);
#define IG_HTTP_STEP(j)                                                        \
	case j:                                                                \
		if ((j) >= left)                                               \
			break;                                                 \
		if (ig_http_step(st, &s, &val, &n, keys, i + (j), buf[(i + (j)) & IG_HTTP_MASK])) { \
			end = i + (j) + 1;                                     \
			break;                                                 \
		}                                                              \
		__attribute__((fallthrough))
		switch (from) {
		IG_HTTP_STEP(0);
		IG_HTTP_STEP(1);
		IG_HTTP_STEP(2);
		IG_HTTP_STEP(3);
		IG_HTTP_STEP(4);
		IG_HTTP_STEP(5);
		IG_HTTP_STEP(6);
		IG_HTTP_STEP(7);
		default:
			break;
		}
#undef IG_HTTP_STEP
		if (IG_HS_IS_SKIP(s))
			break;
		IG_HTTP_FORGET(st, s, val);
	}
	IG_HTTP_END_BLOCKS;
	st->state = s ^ IG_HS_START;
	st->val = val;
	*requests += n;
	return s == IG_HS_OPAQUE ? len : end;
}

/*
 * In a skip state, pass over min(left, avail) bytes without reading them and
 * return how many; 0 in any other state. The caller calls it before each
 * ig_http_feed(), with what is left of the segment.
 */
static __always_inline __u64 ig_http_skip(struct ig_http_state *st, __u64 avail)
{
	__u8 s = IG_HTTP_READ(st->state) ^ IG_HS_START;
	__u64 n = st->left;

	if (s < IG_HS_SKIP_BODY || s > IG_HS_SKIP_H2)
		return 0;
	if (n > avail)
		n = avail;
	st->left -= n;
	if (!st->left)
		st->state = (s == IG_HS_SKIP_BODY ? IG_HS_START :
			     s == IG_HS_SKIP_CHUNK ? IG_HS_DATA_CR : IG_HS_H2) ^ IG_HS_START;
	return n;
}

#endif /* IG_HTTP_H */
