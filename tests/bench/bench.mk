# The data-path bench: `make bench` (top-level Makefile) runs
#   $(MAKE) -s -f tests/bench/bench.mk BUILD=$(BUILD) bench
# after building `all`. Everything lands in $(BUILD)/tests/bench/; results in
# $(BUILD)/bench/results.{md,csv}. Knobs (environment): IG_BENCH_ROUNDS,
# IG_BENCH_REPEAT, IG_BENCH_CPU.
.DELETE_ON_ERROR:
.DEFAULT_GOAL := bench

BUILD   ?= build
CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= cc

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

B := $(BUILD)/tests/bench

BENCH_BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror -MMD -MP \
		    -I$(BUILD) -Ibpf
BENCH_CFLAGS := -g -O2 -Wall -Wextra -Wno-unused-parameter -Werror -MMD -MP \
		-I$(B) -I$(BUILD) -Ibpf

.PHONY: bench bench-build probe
bench: $(B)/bench
	$(B)/bench $(BUILD)/bench

bench-build: $(B)/bench $(B)/probe

# Map-layout probes (not part of `make bench`): PROBE_SOURCES="1000 1000000".
probe: $(B)/probe
	$(B)/probe $(PROBE_SOURCES)

$(B):
	mkdir -p $@

# Normally already built by `all`; these make the file usable on its own.
$(BUILD)/vmlinux.h:
	mkdir -p $(BUILD)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/infergate.bpf.o: bpf/infergate.bpf.c $(BUILD)/vmlinux.h
	$(CLANG) $(BENCH_BPF_CFLAGS) -MF $(BUILD)/infergate.bpf.d -c $< -o $@

$(BUILD)/infergate.skel.h: $(BUILD)/infergate.bpf.o
	$(BPFTOOL) gen skeleton $< name infergate > $@

$(B)/bench.bpf.o: tests/bench/bench.bpf.c $(BUILD)/vmlinux.h | $(B)
	$(CLANG) $(BENCH_BPF_CFLAGS) -c $< -o $@

$(B)/bench.skel.h: $(B)/bench.bpf.o
	$(BPFTOOL) gen skeleton $< name bench > $@

$(B)/probe.bpf.o: tests/bench/probe.bpf.c $(BUILD)/vmlinux.h | $(B)
	$(CLANG) $(BENCH_BPF_CFLAGS) -c $< -o $@

$(B)/probe.skel.h: $(B)/probe.bpf.o
	$(BPFTOOL) gen skeleton $< name probe > $@

$(B)/bench.o: tests/bench/bench.c $(B)/bench.skel.h $(BUILD)/infergate.skel.h | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/probe.o: tests/bench/probe.c $(B)/probe.skel.h | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/benchlib.o: tests/bench/benchlib.c | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/bench: $(B)/bench.o $(B)/benchlib.o
	$(CC) $^ -lbpf -lelf -lz -o $@

$(B)/probe: $(B)/probe.o $(B)/benchlib.o
	$(CC) $^ -lbpf -lelf -lz -o $@

-include $(wildcard $(B)/*.d)
