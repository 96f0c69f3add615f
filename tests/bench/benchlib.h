/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IG_BENCHLIB_H
#define IG_BENCHLIB_H

#include <stddef.h>
#include <linux/types.h>

#include "pure/hdr.h"

#define XDP_DROP_RC 1
#define XDP_PASS_RC 2
#define XDP_TX_RC 3

/* Sources live in 198.16.0.0/12 (2^20 addresses). They are only written into
 * test frames and never leave the kernel's test-run harness. */
#define SRC_BASE 0xc6100000u
#define DST_ADDR 0xc6120001u /* 198.18.0.1 */

#define FRAME_LEN 64 /* minimum Ethernet frame: headers + padding */
#define FRAME_MAX 1514 /* the largest frame the bench sends (an MTU) */
#define FRAME_OUT 4096 /* room for what a program leaves (a reply built in place) */
#define FRAME_SEQ 0x01020304u /* the TCP sequence number of every bench frame */

/* Nanoseconds per jiffy, from the running kernel's CONFIG_HZ; src gets where
 * that came from. */
__u64 tick_ns_from_config(char *src, size_t srclen);
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
unsigned long env_ul(const char *name, unsigned long def, unsigned long min, unsigned long max);
void make_frame(__u8 *f, __u16 sport, __u16 dport, __u8 flags);
/* The connection of make_frame()'s frames from sport to dport, counted by
 * max-conns: its entry in `conns` (fd). */
void conn_counted(int fd, __u16 sport, __u16 dport);
/* make_frame() with a payload; f holds FRAME_MAX bytes. Returns the length. */
__u32 make_frame_payload(__u8 *f, __u16 sport, __u16 dport, __u8 flags, const void *payload,
			 __u32 plen);
unsigned long long map_memlock(int fd);
/* Runs prog_fd `repeat` times on `frame`; *ns (if given) gets thread CPU ns
 * per run. Returns the last run's verdict. */
__u32 test_run(int prog_fd, const __u8 *frame, __u32 repeat, double *ns);
/* The same for a frame of `len` bytes. */
__u32 test_run_len(int prog_fd, const __u8 *frame, __u32 len, __u32 repeat, double *ns);
/* One run of `len` bytes; *duration (if given) gets the kernel's own timing of
 * it in ns (bpf_prog_test_run's `duration`: one clock read included), `out`
 * (FRAME_OUT bytes, if given) the frame the program left. Returns the verdict. */
__u32 test_run_once(int prog_fd, const __u8 *frame, __u32 len, __u32 *duration, __u8 *out);
void sort_doubles(double *v, int n);
double quantile(const double *sorted, int n, double q);
void pin_cpu(int cpu);
/* A step through [0, n) coprime to n and far from 0 and n: see bench_step. */
__u32 spread_step(__u32 n);

#endif /* IG_BENCHLIB_H */
