// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the pure reply builders (bpf/reply.h): any frame the
 * parser accepts gets its RST and its port unreachable built as the data path
 * builds them (reply_tx.h's arithmetic), and each must be well formed: IP
 * version, lengths, TTL, protocol, addresses swapped, ports swapped, the
 * RST's numbers per RFC 9293 3.10.7.1, and every checksum verifying with
 * tests/lib/frames.c's own RFC 1071 code. ig_reply_allowed() agrees with a
 * plain reading of RFC 1122 / RFC 4443.
 */
#include "pure/reply.h"
#include "fuzz_input.h"
/* the reference checksums, built in: the fuzzer is one source file */
#include "frames.c"

static int ref_allowed(const struct ig_pkt *p, __u8 macs)
{
	static const __u8 zero[16], one[16] = { [15] = 1 };
	const __u8 *s = p->saddr, *d = p->daddr;

	if (macs & 1)
		return 0;
	if (!p->ipv6)
		return !(s[12] == 0 || s[12] == 127 || s[12] >= 224 || d[12] >= 224);
	return s[0] != 0xff && d[0] != 0xff && memcmp(s, zero, 16) && memcmp(s, one, 16);
}

/* The reply's IP header at ip: swapped addresses, our TTL, checksums right. */
static void check_l3(const struct ig_pkt *p, const __u8 *ip, size_t l4len, __u8 proto)
{
	if (!p->ipv6) {
		FZ_CHECK(ip[0] == 0x45 && ig_get16(ip + 2) == 20 + l4len && ip[8] == IG_REPLY_TTL);
		FZ_CHECK(ip[9] == proto && ig_get16(ip + 6) == IG_IP_DF);
		FZ_CHECK(!memcmp(ip + 12, p->daddr + 12, 4) && !memcmp(ip + 16, p->saddr + 12, 4));
		FZ_CHECK(ig_ipv4_csum_ok(ip));
		FZ_CHECK(ig_l4_csum_ok(ip, ip + 20, l4len, proto));
	} else {
		FZ_CHECK(ip[0] >> 4 == 6 && ig_get16(ip + 4) == l4len && ip[6] == proto);
		FZ_CHECK(ip[7] == IG_REPLY_TTL);
		FZ_CHECK(!memcmp(ip + 8, p->daddr, 16) && !memcmp(ip + 24, p->saddr, 16));
		FZ_CHECK(ig_l4_csum_ok(ip, ip + 40, l4len, proto));
	}
}

static void check_rst(const struct ig_pkt *p, const __u8 *frame, size_t size)
{
	const __u8 *th = frame + p->l4_off;
	struct ig_tcp_seg s = { .seq = ig_get32(th + 4), .ack = ig_get32(th + 8), .flags = th[13] };
	__u8 buf[sizeof(struct ig_rst6)];
	__u32 hdrs = p->l4_off - p->l3_off + (th[12] >> 4) * 4u;
	const __u8 *rt;

	s.len = (p->ip_len > hdrs ? p->ip_len - hdrs : 0) + !!(s.flags & IG_TCP_SYN) +
		!!(s.flags & IG_TCP_FIN);
	if (!p->ipv6)
		ig_build_rst4(p, &s, (struct ig_rst4 *)buf);
	else
		ig_build_rst6(p, &s, (struct ig_rst6 *)buf);
	check_l3(p, buf, sizeof(struct ig_tcp), IG_IPPROTO_TCP);
	rt = buf + (p->ipv6 ? 40 : 20);
	FZ_CHECK(ig_get16(rt) == p->dport && ig_get16(rt + 2) == p->sport && rt[12] == 5 << 4);
	if (s.flags & IG_TCP_ACK)
		FZ_CHECK(rt[13] == IG_TCP_RST && ig_get32(rt + 4) == s.ack && !ig_get32(rt + 8));
	else
		FZ_CHECK(rt[13] == (IG_TCP_RST | IG_TCP_ACK) && !ig_get32(rt + 4) &&
			 ig_get32(rt + 8) == s.seq + s.len);
	(void)size;
}

/* The one's-complement sum of the quote as it lies, as reply_tx.h's
 * ig_frame_sum() takes it from the frame. */
static __u32 quote_sum(const __u8 *q, size_t len)
{
	__u32 sum = 0;
	__u16 w;

	for (size_t i = 0; i + 1 < len; i += 2) {
		memcpy(&w, q + i, 2);
		sum += w;
	}
	return sum;
}

static void check_unreach(const struct ig_pkt *p, const __u8 *frame, size_t size)
{
	__u8 buf[sizeof(struct ig_unreach6) + IG_ICMP6_QUOTE_MAX];
	size_t avail = size - p->l3_off, quote, hdr;
	const __u8 *q = frame + p->l3_off;

	if (!p->ipv6) {
		quote = p->l4_off - p->l3_off + 8;
		if (quote > IG_ICMP4_QUOTE_MAX || quote > avail)
			return; /* the data path refuses these */
		hdr = sizeof(struct ig_unreach4);
	} else {
		quote = p->ip_len < avail ? p->ip_len : avail;
		if (quote > IG_ICMP6_QUOTE_MAX)
			quote = IG_ICMP6_QUOTE_MAX;
		quote &= ~(size_t)1;
		hdr = sizeof(struct ig_unreach6);
	}
	memcpy(buf + hdr, q, quote);
	if (!p->ipv6)
		ig_build_unreach4(p, (__u32)quote, quote_sum(q, quote), (struct ig_unreach4 *)buf);
	else
		ig_build_unreach6(p, (__u32)quote, quote_sum(q, quote), (struct ig_unreach6 *)buf);
	check_l3(p, buf, 8 + quote, p->ipv6 ? IG_IPPROTO_ICMPV6 : IG_IPPROTO_ICMP);
	FZ_CHECK(buf[hdr - 8] == (p->ipv6 ? IG_ICMPV6_DEST_UNREACH : IG_ICMP_DEST_UNREACH));
	FZ_CHECK(buf[hdr - 7] == (p->ipv6 ? IG_ICMPV6_PORT_UNREACH : IG_ICMP_PORT_UNREACH));
	FZ_CHECK(!memcmp(buf + hdr, q, quote));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	unsigned char *frame;
	struct ig_pkt p;
	__u8 macs;

	if (!size)
		return 0;
	macs = data[0];
	data++;
	size--;
	frame = malloc(size ? size : 1);
	FZ_CHECK(frame != NULL);
	memcpy(frame, data, size);
	memset(&p, 0, sizeof(p));
	if (ig_parse(frame, frame + size, &p) == IG_PARSE_OK) {
		FZ_CHECK(ig_reply_allowed(&p, macs) == ref_allowed(&p, macs));
		if (p.proto == IG_PROTO_TCP)
			check_rst(&p, frame, size);
		check_unreach(&p, frame, size);
	}
	free(frame);
	return 0;
}
