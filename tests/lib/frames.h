/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Test frames, built byte by byte from a spec: Ethernet with 0-2 VLAN tags,
 * IPv4 (options, fragments) or IPv6 (extension header chains), TCP, UDP or
 * ICMP, all checksums filled in. Also a checksum implementation of its own
 * (RFC 1071, byte-wise) so that the tests never judge the data path's
 * checksums with the data path's code.
 *
 * Nothing here uses the wire structs of bpf/pure/hdr.h: a layout mistake there must
 * show up as a test failure, not be mirrored by the builder.
 */
#ifndef IG_FRAMES_H
#define IG_FRAMES_H

#include <stddef.h>
#include <linux/types.h>

/* Big enough for any test frame and a reply grown in front of it. */
#define IG_FRAME_MAX 2048
#define IG_FRAME_MAX_EXT 8

/* IP protocol numbers used by specs (same values as on the wire). */
#define IG_F_HOPOPTS 0
#define IG_F_ICMP 1
#define IG_F_TCP 6
#define IG_F_UDP 17
#define IG_F_ROUTING 43
#define IG_F_FRAGMENT 44
#define IG_F_ICMPV6 58
#define IG_F_NONE 59
#define IG_F_DSTOPTS 60

/* One IPv6 extension header. */
struct ig_fext {
	__u8 type;      /* IG_F_HOPOPTS, IG_F_ROUTING, IG_F_DSTOPTS or IG_F_FRAGMENT */
	__u8 len8;      /* Hdr Ext Len: the header is (len8 + 1) * 8 bytes; not for FRAGMENT */
	__u16 frag_off; /* FRAGMENT: offset in 8-octet units */
	__u8 more;      /* FRAGMENT: the M flag */
};

struct ig_frame_spec {
	__u8 dmac[6];
	__u8 smac[6];
	int nvlan;           /* 0..2 tags, outer first */
	__u16 vlan_tpid[2];  /* 0 = 802.1ad outer / 802.1Q inner (802.1Q when alone) */
	__u16 vlan_tci[2];
	__u16 ethertype;     /* 0 = IPv4 / IPv6 as `ipv6` says; else written as is */

	int ipv6;
	__u8 version;        /* 0 = 4 or 6; else written into the header (malformed frames) */
	__u8 saddr[16];      /* IPv4: first 4 bytes */
	__u8 daddr[16];
	__u8 ttl;
	__u8 tos;
	__u16 ip_id;
	__u16 frag_off;      /* IPv4 flags | offset, host order (IG_F_MF, IG_F_DF) */
	__u8 ihl;            /* 0 = computed; else written as the IHL nibble */
	__u8 ip_opts_len;    /* IPv4 option bytes, multiple of 4, <= 40 */
	__u8 ip_opts[40];
	int next;            /* IPv6 extension headers, in order */
	struct ig_fext ext[IG_FRAME_MAX_EXT];

	__u8 l4proto;        /* IG_F_TCP, IG_F_UDP, IG_F_ICMP, IG_F_ICMPV6 or any other */
	__u16 sport, dport;
	__u32 seq, ack;
	__u8 tcp_flags;
	__u8 doff;           /* 0 = computed; else written as the data offset nibble */
	__u16 window;
	__u8 tcp_opts_len;   /* multiple of 4, <= 40 */
	__u8 tcp_opts[40];
	__u8 icmp_type, icmp_code;
	const void *payload;
	size_t payload_len;
};

#define IG_F_MF 0x2000
#define IG_F_DF 0x4000

struct ig_frame {
	__u8 buf[IG_FRAME_MAX];
	size_t len;
	size_t l3_off;      /* IP header */
	size_t l4_off;      /* transport header (after IPv4 options / IPv6 extensions) */
	size_t payload_off; /* after the transport header */
};

/* A valid frame: 02:..:01 -> 02:..:02, 198.18.0.1:40000 -> 198.18.0.2:8000
 * (fd00::1 -> fd00::2 for IPv6), TTL 64, TCP SYN seq 1000 when TCP. */
void ig_frame_defaults(struct ig_frame_spec *s, int ipv6, __u8 l4proto);
void ig_frame_addrs(struct ig_frame_spec *s, const char *src, const char *dst);
/* `words` 4-byte words of IPv4 options: NOPs ending with End of Options. */
void ig_frame_ipv4_nops(struct ig_frame_spec *s, int words);
void ig_frame_add_ext(struct ig_frame_spec *s, __u8 type, __u8 len8);
void ig_frame_add_frag(struct ig_frame_spec *s, __u16 off8, int more);

/* Returns 0, or -1 when the frame would not fit. */
int ig_frame_build(const struct ig_frame_spec *s, struct ig_frame *f);

/* A malloc'd copy of the first `len` bytes, exactly that big, so a read past
 * its end is a heap overflow that ASan or valgrind reports. */
void *ig_frame_copy(const struct ig_frame *f, size_t len);

/*
 * RFC 1071 checksum over bytes taken as big-endian 16-bit words (an odd
 * trailing byte padded with zero). ig_ref_csum returns the value that goes
 * into a checksum field, host order; a region whose checksum field is
 * correct sums to ig_ref_csum() == 0.
 */
__u32 ig_ref_sum(__u32 sum, const void *data, size_t len);
__u16 ig_ref_fold(__u32 sum);
__u16 ig_ref_csum(const void *data, size_t len);

/* The IPv4 header at `ip` (its IHL says how long) has a correct checksum. */
int ig_ipv4_csum_ok(const void *ip);
/* The transport segment `l4` of `l4len` bytes, carried by the IP header at
 * `l3` (version from its first nibble), has a correct checksum: pseudo header
 * for TCP, UDP and ICMPv6, none for ICMP. */
int ig_l4_csum_ok(const void *l3, const void *l4, size_t l4len, __u8 proto);
/* The checksum field value the segment should carry (computed with the field
 * taken as zero). */
__u16 ig_l4_csum(const void *l3, const void *l4, size_t l4len, __u8 proto, size_t check_off);

/* Big-endian field readers for checking frames byte-exactly. */
__u16 ig_get16(const void *p);
__u32 ig_get32(const void *p);

/* ig_frame_build() for tests: a spec that does not fit fails the test. */
#define IG_FRAME(spec_ptr)                                                      \
	({                                                                      \
		struct ig_frame __f;                                            \
		ASSERT_OK(ig_frame_build((spec_ptr), &__f), "build a frame");  \
		__f;                                                            \
	})

#endif /* IG_FRAMES_H */
