# Entry points documented in README.md. Everything else goes through CMake + Ninja.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
HOST ?= 127.0.0.1
PORT ?= 5000
DATA_DIR ?= ./tamga-data
FUZZ_BUILD ?= build-fuzz
ASAN_BUILD ?= build-asan
FUZZ_SECONDS ?= 60

.PHONY: deps configure build run test bench format clean fuzz asan-test check

deps:
	@./scripts/install-deps.sh

configure: deps
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
	  cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release; fi

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/tamga server --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	./bench/run_all.sh $(BUILD_DIR)
	./bench/serving.sh $(BUILD_DIR)
	./bench/rollouts.sh $(BUILD_DIR)
	./bench/batching.sh $(BUILD_DIR)
	./bench/jobs.sh $(BUILD_DIR)

# libFuzzer campaign (docs/fuzzing.md): clang build in $(FUZZ_BUILD), FUZZ_SECONDS per target.
fuzz: deps
	@./scripts/install-fuzz-deps.sh
	@./tests/fuzz/configure.sh fuzz $(FUZZ_BUILD)
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target tamga_fuzz_all
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) ./tests/fuzz/run_fuzz.sh

# Unit tests and corpus replays under AddressSanitizer + UndefinedBehaviorSanitizer (UB is fatal).
asan-test: deps
	@./scripts/install-fuzz-deps.sh
	@./tests/fuzz/configure.sh asan $(ASAN_BUILD)
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target tamga_unit_tests tamga_fuzz_all
	cd $(ASAN_BUILD) && UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -L 'fuzz|sanitize'

# Static checks run by CI: formatting and clang's -Wthread-safety (GUARDED_BY/REQUIRES) over src/, as
# -fsyntax-only with the flags of the configured build.
check: configure
	@./scripts/install-fuzz-deps.sh
	@clang-format --dry-run --Werror $$(git ls-files 'src/*.h' 'src/*.cc' 'tests/*.h' 'tests/*.cc' 'bench/*.cc')
	@./scripts/check-thread-safety.py $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files 'src/*.h' 'src/*.cc' 'tests/*.h' 'tests/*.cc' 'bench/*.cc')

clean:
	rm -rf $(BUILD_DIR)
