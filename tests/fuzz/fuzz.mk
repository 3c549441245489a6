# libFuzzer targets for the parsers of untrusted input: ELF symbol tables,
# Go executables, snapshot files, CFI (.eh_frame). Included from the top Makefile; see
# tests/fuzz/README.md. Needs clang-14 and libclang-rt-14-dev.
#   make fuzz-smoke   build, replay tests/fuzz/regress, fuzz each ~8 s
#   make fuzz         fuzz each target FUZZ_SECONDS (default 600), one at a
#                     time, keeping what is found in build/fuzz/corpus
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_TARGETS ?= elfsym gobin snapfile cfi
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Wall -Wextra -std=gnu11 -D_GNU_SOURCE \
	-Iinclude -Isrc -Itests/fuzz
FUZZ_DEPS := tests/fuzz/fuzz_file.c tests/fuzz/fuzz_file.h $(wildcard src/*/*.h include/*.h)
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

.PHONY: fuzz-build fuzz-smoke fuzz

$(FUZZ_DIR):
	mkdir -p $@

# The parser's source and its libraries, per target.
$(FUZZ_DIR)/fuzz_elfsym: tests/fuzz/fuzz_elfsym.c src/probes/elfsym.c $(FUZZ_DEPS) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -lelf

$(FUZZ_DIR)/fuzz_gobin: tests/fuzz/fuzz_gobin.c $(wildcard src/go/gobin*.c) $(FUZZ_DEPS) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -ldw -lelf -lcapstone -lz

$(FUZZ_DIR)/fuzz_cfi: tests/fuzz/fuzz_cfi.c src/symbols/cfi_compile.c src/symbols/cfi_screen.c $(FUZZ_DEPS) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -ldw -lelf

$(FUZZ_DIR)/fuzz_snapfile: tests/fuzz/fuzz_snapfile.c $(wildcard src/store/snapfile_*.c) src/lib/bytebuf.c \
		src/model/snapshot.c $(FUZZ_DEPS) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -lz

fuzz-build: $(FUZZ_BINS)

# The smoke test also replays the unit tests' Go binaries (too large to commit).
fuzz-smoke: $(FUZZ_BINS) $(GO_UNIT_BINS)
	FUZZ_DIR=$(FUZZ_DIR) bash tests/fuzz/fuzz.sh smoke $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz: $(FUZZ_BINS)
	FUZZ_DIR=$(FUZZ_DIR) bash tests/fuzz/fuzz.sh long $(FUZZ_SECONDS) $(FUZZ_TARGETS)
