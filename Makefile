# Steward: the two set-up commands are `make demo` and `make test` (see README.md).
BUILD       ?= build
BUILD_ASAN  ?= build-asan
BUILD_BENCH ?= build-release
JOBS        ?= $(shell nproc)
CMAKE_GEN   := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build demo test test-fast test-asan bench format clean

all: build

deps:
	scripts/install-deps

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEWARD_WERROR=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The main job. Until the simulator lands it runs the allocator engine on the DRF paper's
# example and explains the allocation.
demo: build
	$(BUILD)/sim/steward-demo

# Every test: the warnings-as-errors build, then the whole suite again under ASan+UBSan.
test: test-fast test-asan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(BUILD_ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSTEWARD_WERROR=ON \
	  -DSTEWARD_SANITIZE=address,undefined -DSTEWARD_BUILD_BENCHMARKS=OFF
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

# Allocator benchmarks, engine and reference side by side; JSON in $(BUILD_BENCH)/bench.json.
bench: deps
	cmake -S . -B $(BUILD_BENCH) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DSTEWARD_BUILD_TESTS=OFF
	cmake --build $(BUILD_BENCH) -j $(JOBS) --target steward-allocator-bench
	$(BUILD_BENCH)/bench/steward-allocator-bench --benchmark_out=$(BUILD_BENCH)/bench.json \
	  --benchmark_out_format=json $(BENCH_ARGS)

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_BENCH)
