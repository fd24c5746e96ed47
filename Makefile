# sluice - an HTTP forward proxy.
#   make run     install what is missing, build, run on the built-in defaults
#   make check   install what is missing, build, run every test
# See README.md and docs/HACKING.md.

VERSION   := 0.1.0
CC        ?= cc
BUILD     := build
PKGS      := libevent libevent_pthreads libcurl libidn2
PYTHON    := /usr/bin/python3

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wformat=2 -Wvla -Wpointer-arith \
             -Wundef -Wcast-align -Wwrite-strings -Wimplicit-fallthrough
CPPFLAGS  := -D_GNU_SOURCE -Isrc -include src/base/banned.h \
             -DSLUICE_VERSION='"$(VERSION)"'
CFLAGS    ?= -O2 -g
ALLCFLAGS  = -std=c17 $(WARN) $(CPPFLAGS) -fno-common -fno-strict-aliasing $(CFLAGS)
LIBS       = $(shell pkg-config --libs $(PKGS)) -lcrypt -lpthread
SAN       := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=all

# Layers (docs/HACKING.md): pure modules first, then I/O.
PURE_SRC  := $(wildcard src/base/*.c src/http/*.c src/policy/*.c \
               src/config/*.c)
# libidn2 is pure computation (IDNA2008): the blocklist's names use it.
PURE_LIBS := -lidn2
IO_SRC    := $(wildcard src/net/*.c src/proxy/*.c src/report/*.c)
SRC       := $(PURE_SRC) $(IO_SRC) src/main.c
HDR       := $(wildcard src/*/*.h)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)
# Everything clang-format keeps in shape, test helpers and bench tools too.
FMT_SRC    = $(SRC) $(HDR) $(UNIT_SRC) $(wildcard tests/unit/*.h) \
             $(FUZZ_SRC) fuzz/replay.c $(wildcard bench/*.c)

.PHONY: all run check deps deps-check unit fuzz-replay fuzz-smoke integration \
        integration-asan lint format layers fuzz clean bench bench-unit install \
        uninstall

all: $(BUILD)/sluice

deps:
	@scripts/deps.sh build

deps-check:
	@scripts/deps.sh check

run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/sluice

$(BUILD)/sluice: $(SRC) $(HDR) Makefile
	@mkdir -p $(BUILD)
	$(CC) $(ALLCFLAGS) -o $@ $(SRC) $(LIBS)

$(BUILD)/asan/sluice: $(SRC) $(HDR) Makefile
	@mkdir -p $(BUILD)/asan
	$(CC) $(ALLCFLAGS) $(SAN) -o $@ $(SRC) $(LIBS)

# Unit tests: one binary per pure module, built with the sanitizers. The
# hosts-file parser lives in net/ beside its loader but is pure: tested too.
UNIT_LINK := $(PURE_SRC) src/net/hosts.c
$(BUILD)/unit/%: tests/unit/%.c $(UNIT_LINK) $(HDR) Makefile
	@mkdir -p $(BUILD)/unit
	$(CC) $(ALLCFLAGS) $(SAN) -o $@ $< $(UNIT_LINK) $(PURE_LIBS) -lcmocka

unit: $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
	@set -e; for t in $^; do echo "== $$t"; $$t; done

# Every fuzz target replays its committed corpus under the sanitizers,
# with a plain driver (fuzz/replay.c), so no clang is needed here.
$(BUILD)/fuzz-replay/%: fuzz/%.c fuzz/replay.c $(PURE_SRC) $(HDR) Makefile
	@mkdir -p $(BUILD)/fuzz-replay
	$(CC) $(ALLCFLAGS) $(SAN) -o $@ $< fuzz/replay.c $(PURE_SRC) \
		$(PURE_LIBS)

fuzz-replay: $(patsubst fuzz/%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRC))
	@set -e; for t in $^; do n=$${t##*/}; \
		$$t fuzz/corpus/$${n#fuzz_}; done

# libFuzzer builds for real fuzzing: make fuzz, then e.g.
#   build/fuzz/fuzz_http1_request -max_total_time=60 fuzz/corpus/http1_request
fuzz:
	@scripts/deps.sh fuzz
	@mkdir -p $(BUILD)/fuzz
	@set -e; for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
		echo "clang $$n"; \
		clang -std=c17 $(CPPFLAGS) -g -O1 \
		  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $(BUILD)/fuzz/$$n \
		  $$f $(PURE_SRC) $(PURE_LIBS); done

# A short libFuzzer run of every target (make check): new inputs go to a
# scratch directory, the committed corpus is only read.
FUZZ_SMOKE_SECONDS ?= 30
fuzz-smoke: fuzz
	@set -e; for f in $(FUZZ_SRC); do n=$$(basename $$f .c); c=$${n#fuzz_}; \
		d=$$(mktemp -d); \
		if ! UBSAN_OPTIONS=halt_on_error=1 $(BUILD)/fuzz/$$n \
		  -dict=fuzz/$$c.dict -max_total_time=$(FUZZ_SMOKE_SECONDS) \
		  -artifact_prefix=$$d/ $$d fuzz/corpus/$$c > $$d/log 2>&1; then \
			tail -40 $$d/log; echo "fuzz-smoke: $$n FAILED"; \
			ls $$d/crash-* $$d/leak-* $$d/timeout-* 2>/dev/null; exit 1; \
		fi; \
		echo "fuzz-smoke: $$n $$(grep -Eo '^Done [0-9]+ runs' $$d/log)"; \
		rm -rf $$d; done

integration: $(BUILD)/sluice
	SLUICE_BIN=$(BUILD)/sluice $(PYTHON) -m pytest -q tests/integration

integration-asan: $(BUILD)/asan/sluice
	SLUICE_BIN=$(BUILD)/asan/sluice \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(PYTHON) -m pytest -q tests/integration

# Side by side with Squid, Traffic Server, tinyproxy and Privoxy (about 10
# minutes; not part of check). bench/README.md; e.g.
#   make bench BENCH_ARGS="--quick --no-write"
bench: $(BUILD)/sluice
	$(PYTHON) bench/bench.py --sluice $(BUILD)/sluice $(BENCH_ARGS)

# How the benchmark judges its goals, on plain data (no proxy is run).
bench-unit:
	$(PYTHON) -m pytest -q tests/bench

format:
	clang-format -i $(FMT_SRC)

lint: layers $(BUILD)/sluice
	@scripts/check-docs.sh $(BUILD)/sluice
	@clang-format --dry-run -Werror $(FMT_SRC) && echo "lint: clang-format clean"

layers:
	@scripts/check-layers.sh

check: deps-check
	@$(MAKE) --no-print-directory lint all $(BUILD)/asan/sluice
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory bench-unit
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory integration-asan

clean:
	rm -rf $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary, a commented
# sluice.conf (never over an existing one), sluice(8), sluice.conf(5), a
# systemd unit and a sysusers.d file; scripts/install.sh says what and how.
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
MANDIR      ?= $(PREFIX)/share/man
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL_ENV  = DESTDIR="$(DESTDIR)" SBINDIR="$(SBINDIR)" \
	SYSCONFDIR="$(SYSCONFDIR)" MANDIR="$(MANDIR)" UNITDIR="$(UNITDIR)" \
	SYSUSERSDIR="$(SYSUSERSDIR)"

install: $(BUILD)/sluice
	@$(INSTALL_ENV) scripts/install.sh install $(BUILD)/sluice

uninstall:
	@$(INSTALL_ENV) scripts/install.sh uninstall
