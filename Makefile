# Entry points documented in README.md. Everything else goes through CMake + Ninja.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
HOST ?= 127.0.0.1
PORT ?= 5000
DATA_DIR ?= ./tamga-data

.PHONY: deps configure build run test bench format clean

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
	./bench/jobs.sh $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files 'src/*.h' 'src/*.cc' 'tests/*.h' 'tests/*.cc' 'bench/*.cc')

clean:
	rm -rf $(BUILD_DIR)
