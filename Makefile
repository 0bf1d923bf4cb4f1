# basin: two commands do everything on a fresh Debian 12 machine.
#   make run   installs what is missing, builds, and starts basin on the embedded default
#   make test  installs what is missing, builds (release + ASan/UBSan), runs every test
# Other targets: build, asan, bench, bench-query, bench-ingest, install (PREFIX=/usr/local), format, clean.

BUILD_DIR ?= build/release
ASAN_DIR  ?= build/asan
BASIN_HOME ?= $(HOME)/.local/share/basin
PREFIX    ?= /usr/local
JOBS      ?= $(shell nproc)
# ccache keyed on paths relative to the clone, so every clone on a machine shares one cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps test-deps configure build asan run test test-release test-asan test-e2e bench bench-query bench-ingest install format tidy clean

all: build

deps:
	@scripts/bootstrap.sh

test-deps:
	@scripts/bootstrap.sh --test

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

asan: deps
	@[ -f $(ASAN_DIR)/build.ninja ] || cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBASIN_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)

# Creates the home on first run (printing the admin password once), then serves.
run: build
	@[ -f "$(BASIN_HOME)/basin.yaml" ] || $(BUILD_DIR)/bin/basin init "$(BASIN_HOME)"
	$(BUILD_DIR)/bin/basin --home "$(BASIN_HOME)" serve

test: test-deps build asan
	scripts/check-format.sh
	scripts/run-tests.sh $(BUILD_DIR) $(ASAN_DIR)

bench: build test-deps
	scripts/with-test-servers.sh bench/run.sh $(BUILD_DIR)

# The query benchmark alone; QUERY_BENCH_FLAGS="--quick" for a 1M-row smoke run.
bench-query: build test-deps
	scripts/with-test-servers.sh bench/run-query.sh $(BUILD_DIR) $(QUERY_BENCH_FLAGS)

# The stream ingest benchmark alone; INGEST_BENCH_FLAGS="--quick" for a few-second smoke run.
bench-ingest: build
	bench/run-ingest.sh $(BUILD_DIR) $(INGEST_BENCH_FLAGS)

install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc' 'bench/*.h')

# clang-tidy with the repository's .clang-tidy over FILES (default: every source file; slow,
# so not part of `make test`), e.g. make tidy FILES=src/basin/tablewrite/table_write.cc
FILES ?= $$(git ls-files 'src/*.cc')
tidy: build
	clang-tidy -p $(BUILD_DIR) --quiet --extra-arg=-Wno-unknown-warning-option $(FILES)

clean:
	rm -rf build
