# beamlink: the two commands a newcomer needs are `make demo` and `make test`.
# Each installs what is missing first (scripts/setup.sh), so they work on a fresh Debian 12.

CARGO ?= cargo
QUICK ?=

.PHONY: all setup build test demo bench fuzz fuzz-long soak wheel install clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --workspace
	$(CARGO) test --workspace --no-run --quiet

test: setup
	@bash scripts/test.sh

demo: setup
	@bash scripts/demo.sh

bench: setup
	@QUICK=$(QUICK) bash bench/run.sh

# The Python package as an abi3 wheel (CPython >= 3.9) in dist/.
wheel: setup
	@bash scripts/python.sh wheel

# libbeamlink for C: PREFIX/include/beamlink.h, PREFIX/lib/libbeamlink.{so,a}, and
# PREFIX/lib/pkgconfig/beamlink.pc (then: pkg-config --cflags --libs beamlink).
PREFIX ?= /usr/local
install:
	@bash scripts/c.sh install "$(PREFIX)"

fuzz-long: setup
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-600} bash scripts/fuzz.sh

# Minutes of calls in flight on real nodes killed at random (BEAMLINK_SOAK_SECONDS, default
# 300): every call ends, nothing leaks, RSS stays flat. Not part of `make test`.
soak: setup
	BEAMLINK_SOAK_SECONDS=$${BEAMLINK_SOAK_SECONDS:-300} $(CARGO) test --release -p beamlink --test faults -- --ignored --nocapture soak

clean:
	$(CARGO) clean
