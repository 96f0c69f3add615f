/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Token counting, a segment at a time: which bytes of a server's reply
 * segment go through ig_resp_byte() (pure/resp_scan.h), which are skipped,
 * and what the segment is charged. One step of ig_resp_step() per call of
 * the caller's loop. The caller defines IG_RESP_SRC, the packet's type, and
 * IG_RESP_LOAD(src, io, off, dst, len) (a copy of len bytes at payload offset
 * off, 0 on success); natively, the payload is in memory. IG_RESP_PROMPT(st,
 * io) says what the request cost, in bytes, when a response begins.
 */
#ifndef IG_RESP_READ_H
#define IG_RESP_READ_H

#include "pure/hdr.h"
#include "pure/resp_scan.h"

#ifndef IG_RESP_SRC
/* natively, the payload in memory */
#define IG_RESP_SRC const __u8
#define IG_RESP_LOAD(src, io, off, dst, len) \
	(__builtin_memcpy((dst), (src) + (io)->poff + (off), (len)), 0)
#endif
#ifndef IG_RESP_PROMPT
/* The request's bytes: all the socket received since the last response
 * began (headers too). The caller may know the body's length better. */
#define IG_RESP_PROMPT(st, io) ((io)->rx - (st)->rx_mark)
#endif

/* io->mode of a reading for the response times alone (no token budget). */
#define IG_RESP_TIMES_ONLY IG_TC_MAX

/* What one segment's reading amounts to. */
struct ig_resp_out {
	__s64 add;			 /* tokens to charge (< 0: to give back) */
	__u32 responses[IG_TC_MAX];	 /* responses that ended, by the rule that counted them */
	__u32 _pad;
	__s64 tokens[IG_TC_MAX];	 /* what the responses that ended cost, by rule (and
					  * opaque bytes, by bytes) */
	/* response times (issue 15), in jiffies from each one's request: the
	 * number of first tokens and of ends taken in this segment, and the
	 * time of the last of each (several in one segment are pipelined
	 * small ones: they share the segment's time anyway) */
	__u32 nttft, ttft_j;
	__u32 ndur, dur_j;
	/* the last end's response was held back by its client's receive window
	 * at some point: its duration is the client's doing, not a slow call */
	__u32 dur_client;
	__u32 _pad2;
};

/* The scratch of one segment's reading (the caller's per-CPU memory). */
struct ig_resp_io {
	__u8 buf[IG_RESP_BUF];
	__u32 poff; /* where the payload starts in the packet (for IG_RESP_LOAD) */
	__u32 ev;   /* what the last byte read said (IG_RE_*) */
	__u32 pos;  /* the next payload byte to read */
	__u32 end;  /* payload length */
	__u32 bpt;  /* bytes per token */
	__u32 mode; /* enum ig_token_count: IG_TC_USAGE or IG_TC_EVENTS; or
		     * IG_RESP_TIMES_ONLY: no charge, the framing followed for times */
	__u64 rx;   /* the socket's bytes_received */
	__u32 jnow; /* jiffies now (low 32 bits) */
	__u32 jrcv; /* jiffies the socket last received data: a request's arrival */
	__u32 jrwnd; /* jiffies the socket has been limited by the client's window */
	__u32 _pad;
	struct ig_resp_out out;
};

/* Up to IG_RESP_BUF bytes of io->buf through ig_resp_byte(); stops after the
 * byte that has something to say (in io->ev). Returns the bytes read. (The
 * buffer is reached through io: a global function's pointer argument is as
 * big as its type.) */
IG_RESP_FN int ig_resp_bytes(struct ig_resp_state *st, struct ig_resp_io *io, __u32 n)
{
	__u32 i, e = IG_RE_NONE;

	if (!st || !io)
		return 0;
	for (i = 0; i < IG_RESP_BUF; i++) {
		if (i >= n)
			break;
		e = (__u32)ig_resp_byte(st, io->buf[i & (IG_RESP_BUF - 1)]);
		if (e != IG_RE_NONE) {
			i++;
			break;
		}
	}
	io->ev = e;
	return (int)i;
}

static __always_inline void ig_resp_charge(struct ig_resp_state *st, struct ig_resp_io *io,
					   __s64 t)
{
	io->out.add += t;
	st->charged += (__u32)t;
}

/* At the start of the next response. */
static __always_inline void ig_resp_reset(struct ig_resp_state *st)
{
	st->phase = IG_RP_STATUS;
	st->val = 0;
	st->left = 0;
	st->charged = 0;
	st->status = 0;
	st->flags = 0;
	st->kind = IG_RK_OTHER;
	st->m = 0;
}

/* Its first token: for an event stream its first event, else its head (the
 * time a server takes to say anything at all). Once per response. */
static __always_inline void ig_resp_first(struct ig_resp_state *st, struct ig_resp_io *io)
{
	if ((st->tflags & (IG_RT_BEGUN | IG_RT_FIRST)) != IG_RT_BEGUN)
		return;
	st->tflags |= IG_RT_FIRST;
	io->out.nttft++;
	io->out.ttft_j = io->jnow - st->t_req;
}

/* The response is over: count it by the rule that set its charge. */
static __always_inline void ig_resp_end(struct ig_resp_state *st, struct ig_resp_io *io)
{
	__u32 rule = (st->flags & IG_RF_USAGE) ? IG_TC_USAGE :
		     st->kind == IG_RK_SSE ? IG_TC_EVENTS : IG_TC_BYTES;

	/* timed where its framing said where it ends (not where it was lost) */
	if ((st->tflags & (IG_RT_BEGUN | IG_RT_LOST)) == IG_RT_BEGUN) {
		io->out.ndur++;
		io->out.dur_j = io->jnow - st->t_req;
		io->out.dur_client = io->jrwnd != st->t_rwnd;
	}
	st->tflags = 0;

	/* counted when it ends, as what it finally cost: the counts only grow
	 * (a usage report moves what a response was charged, not them) */
	io->out.responses[rule % IG_TC_MAX]++;
	io->out.tokens[rule % IG_TC_MAX] += st->charged;
	ig_resp_reset(st);
}

static __always_inline void ig_resp_opaque(struct ig_resp_state *st, struct ig_resp_io *io)
{
	st->tflags |= IG_RT_LOST;
	if (st->phase != IG_RP_STATUS || st->val)
		ig_resp_end(st, io); /* a response under way is over for the count */
	st->phase = IG_RP_OPAQUE;
}

/* The usage object was read: the response costs what it says. */
static __always_inline void ig_resp_settle(struct ig_resp_state *st, struct ig_resp_io *io)
{
	__u32 total = st->usage[2] ? st->usage[2] : st->usage[0] + st->usage[1];
	__s64 delta = (__s64)total - (__s64)st->charged;

	io->out.add += delta;
	st->flags = (st->flags & ~IG_RF_USAGE_NEW) | IG_RF_USAGE;
	st->charged = total;
}

/* The head is read: what the body is, how it is framed, and the prompt. */
static __always_inline void ig_resp_head(struct ig_resp_state *st, struct ig_resp_io *io)
{
	__u16 f = st->flags;
	__u64 prompt;

	if (st->status >= 100 && st->status < 200) {
		if (st->status == 101) { /* switching protocols: no longer HTTP/1.x */
			ig_resp_opaque(st, io);
			return;
		}
		ig_resp_reset(st); /* an interim response; the real one follows */
		return;
	}
	/* a stream is read as events in chunks, as the engines send it */
	st->kind = (f & IG_RF_PACKED) ? IG_RK_PACKED :
		   (f & IG_RF_SSE) && (f & IG_RF_CHUNKED) ? IG_RK_SSE :
		   (f & IG_RF_JSON) ? IG_RK_JSON : IG_RK_OTHER;
	/* a stream's head goes out before the model produced anything */
	if (st->kind != IG_RK_SSE)
		ig_resp_first(st, io);
	prompt = IG_RESP_PROMPT(st, io);
	st->rx_mark = io->rx;
	if (prompt < (1ULL << 40))
		ig_resp_charge(st, io, (__s64)(prompt / io->bpt));
	st->val = 0;
	st->m = 0;
	st->flags &= ~(IG_RF_DIGITS | IG_RF_VAL_ANY | IG_RF_VAL_END);
	if (f & IG_RF_BAD) {
		ig_resp_opaque(st, io);
	} else if (st->status == 204 || st->status == 304) {
		ig_resp_end(st, io);
	} else if (f & IG_RF_CHUNKED) {
		st->phase = IG_RP_SIZE;
	} else if (f & IG_RF_CL) {
		st->phase = IG_RP_BODY;
		if (!st->left)
			ig_resp_end(st, io);
	} else {
		ig_resp_opaque(st, io); /* a body up to the close: bytes */
	}
}

/* Body bytes that are charged by size (not an event stream). */
static __always_inline void ig_resp_body_bytes(struct ig_resp_state *st, struct ig_resp_io *io,
					       __u32 k)
{
	/* an event stream pays per event; after its usage, a body pays nothing more */
	if (st->kind == IG_RK_SSE || (st->flags & IG_RF_USAGE))
		return;
	ig_resp_charge(st, io, (__s64)(st->kind == IG_RK_PACKED ? k : k / io->bpt));
}

/* Feed payload bytes [from, to) to the matcher, a buffer at a time. */
static __always_inline int ig_resp_window(IG_RESP_SRC *src, struct ig_resp_state *st,
					  struct ig_resp_io *io, __u32 from, __u32 to)
{
	__u32 i;

	if (st->flags & IG_RF_GAP) {
		st->m = 0;
		st->flags &= ~IG_RF_GAP;
	}
	for (i = 0; i < (IG_RESP_TAIL + IG_RESP_BUF - 1) / IG_RESP_BUF; i++) {
		__u32 n = to - from;

		if (from >= to)
			break;
		if (n > IG_RESP_BUF)
			n = IG_RESP_BUF;
		if (IG_RESP_LOAD(src, io, from, io->buf, n))
			return -1;
		ig_resp_bytes(st, io, n);
		if (st->flags & IG_RF_USAGE_NEW)
			ig_resp_settle(st, io);
		from += n;
	}
	return 0;
}

/* Do the first bytes of a chunk (7 of them, zeroes where it is shorter)
 * open a `data:` event? "data: [DONE]" ends the stream: no event opens with
 * '['. (And after the usage event nothing more is charged: it said what all
 * cost; the caller checks that.) */
static __always_inline int ig_resp_is_event(const __u8 *b)
{
	__u32 o;

	if (b[0] != 'd' || b[1] != 'a' || b[2] != 't' || b[3] != 'a' || b[4] != ':')
		return 0;
	o = b[5] == ' ' ? 6 : 5;
	return b[o] != '[';
}

/* A stream's chunk begins here: is it a `data:` event (and not [DONE])? */
static __always_inline void ig_resp_event(IG_RESP_SRC *src, struct ig_resp_state *st,
					  struct ig_resp_io *io, __u32 k)
{
	__u8 *b = io->buf;
	__u32 n = k < IG_RESP_HEAD_PEEK ? k : IG_RESP_HEAD_PEEK;

	__builtin_memset(b, 0, 16);
	if (!n || IG_RESP_LOAD(src, io, io->pos, b, n & 15))
		return;
	if (ig_resp_is_event(b) && !(st->flags & IG_RF_USAGE))
		ig_resp_charge(st, io, 1);
}

/* A stream's chunk ends at payload offset `to`: a usage event ends "}}". */
static __always_inline int ig_resp_event_end(IG_RESP_SRC *src, struct ig_resp_state *st,
					     struct ig_resp_io *io, __u32 from, __u32 to, int usage)
{
	__u8 *b = io->buf;
	__u32 n = to - from, i, last = 0, prev = 0, crlf;

	if (n > 8)
		n = 8;
	/* with the CRLF after the data, when it is in this segment: the step
	 * that would read it byte by byte is saved */
	crlf = to + 2 <= io->end ? 2 : 0;
	if (!n || IG_RESP_LOAD(src, io, to - n, b, (n + crlf) & 15))
		return 0;
	if (crlf && b[n & 15] == '\r' && b[(n + 1) & 15] == '\n')
		st->flags |= IG_RF_CRLF;
	for (i = 0; i < 8; i++) {
		__u8 c = b[i];

		if (i >= n)
			break;
		if (c != '\r' && c != '\n') {
			prev = last;
			last = c;
		}
	}
	if (!usage || last != '}' || prev != '}')
		return 0;
	st->flags |= IG_RF_GAP; /* every event is a window of its own */
	return ig_resp_window(src, st, io, to - from > IG_RESP_TAIL_SSE ?
				to - IG_RESP_TAIL_SSE : from, to);
}

/* Body or chunk data: `left` bytes to come, k of them in this segment. */
static __always_inline int ig_resp_data(IG_RESP_SRC *src, struct ig_resp_state *st,
					struct ig_resp_io *io, __u32 k)
{
	__u32 from = io->pos, to = io->pos + k, tail = IG_RESP_TAIL;
	int usage = io->mode == IG_TC_USAGE, sse = st->kind == IG_RK_SSE;

	/* charged before the window is read: a usage object settles it */
	ig_resp_body_bytes(st, io, k);
	if (sse) {
		int start = st->flags & (IG_RF_DSTART | IG_RF_PEEKED);

		/* only a charge needs to know what the event is */
		if ((st->flags & IG_RF_DSTART) && io->mode < IG_RESP_TIMES_ONLY)
			ig_resp_event(src, st, io, k);
		if (start) /* every event is a window of its own */
			st->flags = (st->flags & ~(IG_RF_DSTART | IG_RF_PEEKED)) | IG_RF_GAP;
		if (start && k == st->left) {
			/* the whole event is here: read only one that ends "}}" */
			if (ig_resp_event_end(src, st, io, from, to, usage))
				return -1;
			usage = 0;
		}
		tail = IG_RESP_TAIL_SSE; /* one cut by the segment: its window as it passes */
	} else if (st->kind != IG_RK_JSON) {
		usage = 0;
	}
	if (usage) {
		__u64 skip = st->left > tail ? st->left - tail : 0;

		if (skip)
			st->flags |= IG_RF_GAP;
		if (skip < k && ig_resp_window(src, st, io, from + (__u32)skip, to))
			return -1;
	}
	st->left -= k;
	io->pos = to;
	if (st->left)
		return 0;
	if (st->phase == IG_RP_BODY) {
		ig_resp_end(st, io);
	} else if (st->flags & IG_RF_CRLF) {
		st->flags &= ~IG_RF_CRLF;
		ig_resp_to_size(st);
		io->pos += 2;
	} else {
		st->phase = IG_RP_DATA_END;
	}
	return 0;
}

/*
 * A stream's chunk framing at once, where it is the plain kind every engine
 * writes: [CRLF after the last chunk's data] hex-size CRLF, in the next 16
 * bytes. Returns 1 when it was (the chunk's data is next), 0 to read it byte
 * by byte instead (an extension, a split line, anything else). Per event,
 * this is what the byte-by-byte reading would cost ~6 calls for.
 */
static __always_inline int ig_resp_chunk_fast(IG_RESP_SRC *src, struct ig_resp_state *st,
					      struct ig_resp_io *io, __u32 n)
{
	__u8 *b = io->buf;
	__u32 i = 0, k = n < 32 ? n : 32, size = 0, digits = 0;

	if (k < 3 || IG_RESP_LOAD(src, io, io->pos, b, k & 63))
		return 0;
	if (st->phase == IG_RP_DATA_END) {
		if (b[0] != '\r' || b[1] != '\n')
			return 0;
		i = 2;
	}
#pragma unroll
	for (int j = 0; j < 8; j++) {
		int d = ig_hexval(b[(i + j) & 15]);

		if (d < 0 || i + j >= k)
			break;
		size = size << 4 | (__u32)d;
		digits++;
	}
	i += digits;
	if (!digits || i + 2 > k || b[i & 15] != '\r' || b[(i + 1) & 15] != '\n')
		return 0;
	io->pos += i + 2;
	st->val = 0;
	st->flags &= ~IG_RF_DIGITS;
	if (size) {
		st->left = size;
		st->phase = IG_RP_DATA;
		st->flags |= IG_RF_DSTART;
		if (st->kind == IG_RK_SSE)
			ig_resp_first(st, io);
		/* the event's first bytes came with its size line: no load for them */
		if (st->kind == IG_RK_SSE && i + 2 + 7 <= k) {
			st->flags &= ~IG_RF_DSTART;
			st->flags |= IG_RF_GAP;
			if (size >= 7 && ig_resp_is_event(b + ((i + 2) & 15)) &&
			    !(st->flags & IG_RF_USAGE))
				ig_resp_charge(st, io, 1);
			/* the whole event: whether it ends "}}" decides in ig_resp_data */
			st->flags |= IG_RF_PEEKED;
		}
	} else {
		st->phase = IG_RP_TRAILER;
	}
	return 1;
}

/*
 * One step of reading a segment's payload from io->pos: a run of bytes read
 * one by one up to an event, or a body's part skipped or windowed. Returns 1
 * while there is more to read, 0 when the segment is done.
 */
IG_RESP_FN int ig_resp_step(IG_RESP_SRC *src, struct ig_resp_state *st, struct ig_resp_io *io)
{
	__u32 n, k;
	int r;

	if (!st || !io || io->pos >= io->end)
		return 0;
	n = io->end - io->pos;
	switch (st->phase) {
	case IG_RP_OPAQUE:
		io->out.add += n / io->bpt;
		io->out.tokens[IG_TC_BYTES] += n / io->bpt;
		io->pos = io->end;
		return 0;
	case IG_RP_BODY:
	case IG_RP_DATA:
		k = st->left < n ? (__u32)st->left : n;
		if (ig_resp_data(src, st, io, k)) {
			ig_resp_opaque(st, io);
			return 1;
		}
		return 1;
	}
	if ((st->phase == IG_RP_DATA_END || (st->phase == IG_RP_SIZE && !st->val &&
					       !(st->flags & IG_RF_DIGITS))) &&
	    ig_resp_chunk_fast(src, st, io, n))
		return 1;
	/* a response's first byte: its request is the socket's last data */
	if (st->phase == IG_RP_STATUS && !(st->tflags & IG_RT_BEGUN)) {
		st->tflags |= IG_RT_BEGUN;
		st->t_req = io->jrcv;
		st->t_rwnd = io->jrwnd;
	}
	/* framing lines are short: a head is worth a buffer */
	k = st->phase >= IG_RP_SIZE ? 32 : IG_RESP_BUF;
	k = n < k ? n : k;
	if (IG_RESP_LOAD(src, io, io->pos, io->buf, k)) {
		ig_resp_opaque(st, io);
		return 1;
	}
	r = ig_resp_bytes(st, io, k);
	io->pos += (__u32)r;
	switch (io->ev) {
	case IG_RE_HEAD:
		ig_resp_head(st, io);
		break;
	case IG_RE_CHUNK:
		if (st->val) {
			st->left = st->val;
			st->phase = IG_RP_DATA;
			st->flags |= IG_RF_DSTART;
			if (st->kind == IG_RK_SSE)
				ig_resp_first(st, io);
		} else {
			st->phase = IG_RP_TRAILER;
		}
		break;
	case IG_RE_END:
		ig_resp_end(st, io);
		break;
	case IG_RE_OPAQUE:
		if (r > 0) /* the byte that lost the thread is counted as bytes too */
			io->pos -= 1;
		ig_resp_opaque(st, io);
		break;
	}
	return 1;
}

/*
 * Where a segment (TCP sequence seq, plen payload bytes) starts the reading.
 * A retransmission is not read twice; a stream first seen in the middle is
 * read from a status line, else opaque. Returns the payload offset to read
 * from, or plen when there is nothing new.
 */
static __always_inline __u32 ig_resp_begin(struct ig_resp_state *st, struct ig_resp_io *io,
					   __u32 seq, __u32 plen, int fresh)
{
	__s32 d;

	if (st->phase == IG_RP_NEW) {
		st->phase = IG_RP_STATUS;
		st->next_seq = seq;
		/* the first response of a connection: every byte received is its
		 * request's; seen first later: the prompt before is unknown */
		st->rx_mark = fresh ? 0 : io->rx;
	}
	d = (__s32)(seq - st->next_seq);
	if (d > 0) { /* a hole: the bytes in it were never read */
		if (st->phase != IG_RP_OPAQUE)
			ig_resp_opaque(st, io);
		st->next_seq = seq + plen;
		return 0;
	}
	if ((__u32)(-d) >= plen)
		return plen;
	st->next_seq = seq + plen;
	return (__u32)(-d);
}

#endif /* IG_RESP_READ_H */
