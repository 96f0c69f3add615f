// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Frame builder and reference checksums for the tests (see frames.h). */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "frames.h"

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

__u16 ig_get16(const void *p)
{
	const __u8 *b = p;

	return (__u16)(b[0] << 8 | b[1]);
}

__u32 ig_get32(const void *p)
{
	const __u8 *b = p;

	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

__u32 ig_ref_sum(__u32 sum, const void *data, size_t len)
{
	const __u8 *b = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += (__u32)b[i] << 8 | b[i + 1];
		/* fold as we go: the caller may sum many kilobytes */
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (__u32)b[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

__u16 ig_ref_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

__u16 ig_ref_csum(const void *data, size_t len)
{
	return ig_ref_fold(ig_ref_sum(0, data, len));
}

int ig_ipv4_csum_ok(const void *ip)
{
	const __u8 *b = ip;

	return ig_ref_csum(b, (size_t)(b[0] & 0x0f) * 4) == 0;
}

/* Sum of the pseudo header of the IP header at l3. */
static __u32 pseudo_sum(const __u8 *l3, size_t l4len, __u8 proto)
{
	__u8 ph[40];

	if ((l3[0] >> 4) == 6) {
		memcpy(ph, l3 + 8, 32);
		put32(ph + 32, (__u32)l4len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = proto;
		return ig_ref_sum(0, ph, 40);
	}
	memcpy(ph, l3 + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (__u16)l4len);
	return ig_ref_sum(0, ph, 12);
}

int ig_l4_csum_ok(const void *l3, const void *l4, size_t l4len, __u8 proto)
{
	__u32 sum = proto == IG_F_ICMP ? 0 : pseudo_sum(l3, l4len, proto);

	/* the pseudo header is 12 or 40 bytes: the segment starts word-aligned */
	return ig_ref_fold(ig_ref_sum(sum, l4, l4len)) == 0;
}

__u16 ig_l4_csum(const void *l3, const void *l4, size_t l4len, __u8 proto, size_t check_off)
{
	__u8 *copy = malloc(l4len ? l4len : 1);
	__u32 sum = proto == IG_F_ICMP ? 0 : pseudo_sum(l3, l4len, proto);
	__u16 c;

	memcpy(copy, l4, l4len);
	copy[check_off] = copy[check_off + 1] = 0;
	c = ig_ref_fold(ig_ref_sum(sum, copy, l4len));
	free(copy);
	return c;
}

void ig_frame_defaults(struct ig_frame_spec *s, int ipv6, __u8 l4proto)
{
	static const __u8 dmac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const __u8 smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memset(s, 0, sizeof(*s));
	memcpy(s->dmac, dmac, 6);
	memcpy(s->smac, smac, 6);
	s->ipv6 = ipv6;
	if (ipv6)
		ig_frame_addrs(s, "fd00::1", "fd00::2");
	else
		ig_frame_addrs(s, "198.18.0.1", "198.18.0.2");
	s->ttl = 64;
	s->ip_id = 0x1234;
	s->l4proto = l4proto;
	s->sport = 40000;
	s->dport = 8000;
	s->seq = 1000;
	s->tcp_flags = 0x02; /* SYN */
	s->window = 64240;
	s->icmp_type = ipv6 ? 128 : 8; /* echo request */
}

void ig_frame_addrs(struct ig_frame_spec *s, const char *src, const char *dst)
{
	int af = s->ipv6 ? AF_INET6 : AF_INET;

	memset(s->saddr, 0, 16);
	memset(s->daddr, 0, 16);
	if (inet_pton(af, src, s->saddr) != 1 || inet_pton(af, dst, s->daddr) != 1)
		abort(); /* a typo in a test, not a test failure */
}

void ig_frame_ipv4_nops(struct ig_frame_spec *s, int words)
{
	s->ip_opts_len = (__u8)(words * 4);
	memset(s->ip_opts, 1, sizeof(s->ip_opts));
	if (words)
		s->ip_opts[words * 4 - 1] = 0;
}

void ig_frame_add_ext(struct ig_frame_spec *s, __u8 type, __u8 len8)
{
	if (s->next >= IG_FRAME_MAX_EXT)
		abort();
	s->ext[s->next++] = (struct ig_fext){ .type = type, .len8 = len8 };
}

void ig_frame_add_frag(struct ig_frame_spec *s, __u16 off8, int more)
{
	if (s->next >= IG_FRAME_MAX_EXT)
		abort();
	s->ext[s->next++] = (struct ig_fext){ .type = IG_F_FRAGMENT, .frag_off = off8,
					      .more = (__u8)!!more };
}

static size_t ext_len(const struct ig_fext *e)
{
	return e->type == IG_F_FRAGMENT ? 8 : ((size_t)e->len8 + 1) * 8;
}

static size_t l4_hdr_len(const struct ig_frame_spec *s)
{
	switch (s->l4proto) {
	case IG_F_TCP:
		return 20 + s->tcp_opts_len;
	case IG_F_UDP:
	case IG_F_ICMP:
	case IG_F_ICMPV6:
		return 8;
	default:
		return 0;
	}
}

static void write_ext(__u8 *p, const struct ig_fext *e, __u8 next)
{
	size_t len = ext_len(e);

	memset(p, 0, len);
	p[0] = next;
	if (e->type == IG_F_FRAGMENT) {
		put16(p + 2, (__u16)(e->frag_off << 3 | e->more));
		put32(p + 4, 0xabcd0001);
		return;
	}
	p[1] = e->len8;
	if (e->type == IG_F_ROUTING) {
		p[2] = 253; /* RFC 4727 experimental type; segments left 0: skipped */
		p[3] = 0;
		return;
	}
	/* hop-by-hop / destination options: one PadN filling the header */
	p[2] = 1;
	p[3] = (__u8)(len - 4);
}

int ig_frame_build(const struct ig_frame_spec *s, struct ig_frame *f)
{
	size_t l2 = 14 + 4 * (size_t)s->nvlan, ip_hdr, ext = 0, l4h, l4len, total;
	__u8 *b = f->buf, *ip, *l4;
	__u16 ethertype;
	int i;

	for (i = 0; i < s->next; i++)
		ext += ext_len(&s->ext[i]);
	ip_hdr = s->ipv6 ? 40 + ext : 20 + (size_t)s->ip_opts_len;
	l4h = l4_hdr_len(s);
	l4len = l4h + s->payload_len;
	total = l2 + ip_hdr + l4len;
	if (total > sizeof(f->buf) || s->nvlan > 2 || s->ip_opts_len > 40 || s->tcp_opts_len > 40)
		return -1;

	memset(f, 0, sizeof(*f));
	memcpy(b, s->dmac, 6);
	memcpy(b + 6, s->smac, 6);
	ethertype = s->ethertype ? s->ethertype : (s->ipv6 ? 0x86dd : 0x0800);
	for (i = 0; i < s->nvlan; i++) {
		__u16 tpid = s->vlan_tpid[i];

		if (!tpid)
			tpid = (s->nvlan == 2 && i == 0) ? 0x88a8 : 0x8100;
		put16(b + 12 + 4 * i, tpid);
		put16(b + 14 + 4 * i, s->vlan_tci[i]);
	}
	put16(b + l2 - 2, ethertype);

	ip = b + l2;
	if (s->ipv6) {
		__u8 next = s->l4proto;

		put32(ip, (__u32)(s->version ? s->version : 6) << 28 | (__u32)s->tos << 20);
		put16(ip + 4, (__u16)(ext + l4len));
		ip[6] = s->next ? s->ext[0].type : s->l4proto;
		ip[7] = s->ttl;
		memcpy(ip + 8, s->saddr, 16);
		memcpy(ip + 24, s->daddr, 16);
		ext = 40;
		for (i = 0; i < s->next; i++) {
			next = i + 1 < s->next ? s->ext[i + 1].type : s->l4proto;
			write_ext(ip + ext, &s->ext[i], next);
			ext += ext_len(&s->ext[i]);
		}
	} else {
		ip[0] = (__u8)((s->version ? s->version : 4) << 4 |
			       (s->ihl ? s->ihl : (ip_hdr / 4)));
		ip[1] = s->tos;
		put16(ip + 2, (__u16)(ip_hdr + l4len));
		put16(ip + 4, s->ip_id);
		put16(ip + 6, s->frag_off);
		ip[8] = s->ttl;
		ip[9] = s->l4proto;
		memcpy(ip + 12, s->saddr, 4);
		memcpy(ip + 16, s->daddr, 4);
		memcpy(ip + 20, s->ip_opts, s->ip_opts_len);
		put16(ip + 10, ig_ref_csum(ip, ip_hdr));
	}

	l4 = ip + ip_hdr;
	if (s->payload_len)
		memcpy(l4 + l4h, s->payload, s->payload_len);
	switch (s->l4proto) {
	case IG_F_TCP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (__u8)((s->doff ? s->doff : l4h / 4) << 4);
		l4[13] = s->tcp_flags;
		put16(l4 + 14, s->window);
		memcpy(l4 + 20, s->tcp_opts, s->tcp_opts_len);
		put16(l4 + 16, ig_l4_csum(ip, l4, l4len, IG_F_TCP, 16));
		break;
	case IG_F_UDP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, (__u16)l4len);
		put16(l4 + 6, ig_l4_csum(ip, l4, l4len, IG_F_UDP, 6));
		if (ig_get16(l4 + 6) == 0)
			put16(l4 + 6, 0xffff); /* RFC 768: zero means "no checksum" */
		break;
	case IG_F_ICMP:
	case IG_F_ICMPV6:
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		put16(l4 + 4, 0x4242); /* echo identifier */
		put16(l4 + 6, 1);
		put16(l4 + 2, ig_l4_csum(ip, l4, l4len, s->l4proto, 2));
		break;
	default:
		break;
	}

	f->len = total;
	f->l3_off = l2;
	f->l4_off = l2 + ip_hdr;
	f->payload_off = f->l4_off + l4h;
	return 0;
}

void *ig_frame_copy(const struct ig_frame *f, size_t len)
{
	/* malloc(0) may return NULL; one byte is still past the end for len 0 */
	void *p = malloc(len ? len : 1);

	if (!p)
		abort();
	memcpy(p, f->buf, len);
	return p;
}
