# leaktop build. `make` builds ./leaktop; `make test` builds and runs the
# whole suite twice, plain and under ASan/UBSan; `make soak` the soak tests
# (minutes); `make bench` runs the overhead benchmark. `make leaktop-san`
# (or `make SAN=1`) builds the sanitized leaktop and unit tests in
# build-san/, apart from build/.
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
VERSION := 0.1.0

BUILD := build
LEAKTOP_BIN := leaktop
UNIT_BIN := tests/unit/unit_tests
CFLAGS ?= -O2 -g
# The sanitized build: its own objects, so the two never mix.
ifeq ($(SAN),1)
BUILD := build-san
LEAKTOP_BIN := $(BUILD)/leaktop
UNIT_BIN := $(BUILD)/unit_tests
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif
CFLAGS += -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(BUILD) -Isrc -DLEAKTOP_VERSION='"$(VERSION)"'
LDLIBS := -lbpf -lelf -ldw -lz -lcapstone -lmicrohttpd -lncurses -lpthread -lstdc++ -lm
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Ivmlinux -Iinclude

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
SRCS := $(wildcard src/*/*.c)
OBJS := $(patsubst src/%.c,$(BUILD)/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(BUILD)/cli/main.o,$(OBJS))

.PHONY: all clean test soak bench vmlinux unit targets format demo leaktop-san
# Keep the BPF object and skeleton: they are build products, not temporaries.
.SECONDARY:

all: $(LEAKTOP_BIN)

$(BUILD):
	mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c bpf/*.h include/*.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

# Objects mirror src/'s stage folders: build/probes/elfsym.o.
$(BUILD)/%.o: src/%.c $(SKELS) $(wildcard src/*/*.h include/*.h) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LEAKTOP_BIN): $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

leaktop-san:
	$(MAKE) SAN=1 build-san/leaktop build-san/unit_tests

# Regenerate the committed vmlinux.h from the running kernel's BTF.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

$(UNIT_BIN): tests/unit/unit_tests.c tests/unit/check.c tests/unit/check.h tests/unit/gobin_tests.c \
		tests/unit/render_tests.c tests/unit/snapfile_tests.c $(LIB_OBJS)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

# Go binaries for tests/unit/gobin_tests.c, built by the system's Go (1.19 on
# Debian bookworm) from the standard library only: no network.
GO ?= go
GO_ENV := GOCACHE=/tmp/leaktop-gocache GOFLAGS=-mod=mod
GO_UNIT := tests/unit/go/build
GO_UNIT_BINS := $(addprefix $(GO_UNIT)/,hello hello_stripped hello_nocompress hello_zdebug)

$(GO_UNIT)/hello: tests/unit/go/hello.go
	cd tests/unit/go && $(GO_ENV) $(GO) build -o build/hello hello.go

$(GO_UNIT)/hello_stripped: tests/unit/go/hello.go
	cd tests/unit/go && $(GO_ENV) $(GO) build -ldflags='-s -w' -o build/hello_stripped hello.go

$(GO_UNIT)/hello_nocompress: tests/unit/go/hello.go
	cd tests/unit/go && $(GO_ENV) $(GO) build -ldflags=-compressdwarf=false \
		-o build/hello_nocompress hello.go

# Go <= 1.18 wrote DWARF as .zdebug_* sections: the same DWARF, GNU-compressed.
$(GO_UNIT)/hello_zdebug: $(GO_UNIT)/hello_nocompress
	objcopy --compress-debug-sections=zlib-gnu $< $@

unit: $(UNIT_BIN) $(GO_UNIT_BINS)

include tests/fuzz/fuzz.mk

targets:
	$(MAKE) -C tests/targets

# Both passes in one run; the last line counts both.
test: leaktop unit targets leaktop-san
	python3 tests/run.py --san

soak: leaktop targets
	python3 tests/run.py --soak

# The bundled leaky program under leaktop: prints the top-N table.
demo: leaktop targets
	./leaktop -- tests/targets/build/leaky

bench: leaktop
	bash scripts/bench.sh

format:
	clang-format -i src/*/*.c src/*/*.h include/*.h bpf/*.c tests/unit/*.c

clean:
	rm -rf build build-san leaktop tests/unit/unit_tests tests/unit/go/build
	$(MAKE) -C tests/targets clean
