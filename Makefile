# Steward: the two set-up commands are `make demo` and `make test` (see README.md).
BUILD       ?= build
BUILD_ASAN  ?= build-asan
BUILD_TSAN  ?= build-tsan
BUILD_BENCH ?= build-release
JOBS        ?= $(shell nproc)
# Debian's python3, where install-deps puts pandas, matplotlib and nbconvert.
PYTHON      ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
CMAKE_GEN   := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build demo test test-fast test-asan test-tsan bench perf-build perf-check \
  perf-baseline format clean

all: build

deps:
	scripts/install-deps

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEWARD_WERROR=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The main job: a simulator replay of the built-in synthetic workload (1,000 machines, 100,000
# tasks, DRF, offers), its summary on stdout, and its outputs and report in sim-out/demo.
demo: build
	$(BUILD)/sim/steward-sim run sim/scenarios/demo.textproto --out sim-out/demo
	PYTHONPATH=notebooks MPLBACKEND=Agg $(PYTHON) -m steward_report sim-out/demo

# Every test: the warnings-as-errors build, the whole suite again under ASan+UBSan, and the
# tests of concurrent code (ctest label "concurrent") under ThreadSanitizer.
test: test-fast test-asan test-tsan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Debug (assertions on) at -O1, the optimisation level ASan's documentation recommends: the
# differential and parallel tests ran 5-8x slower at -O0 and dominated `make test`.
test-asan: deps
	cmake -S . -B $(BUILD_ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
	  -DSTEWARD_WERROR=ON \
	  -DSTEWARD_SANITIZE=address,undefined -DSTEWARD_BUILD_BENCHMARKS=OFF
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

# Only the concurrent tests are built here (TSan slows everything else for nothing).
TSAN_TESTS := sweep_test intake_primitives_test concurrent_allocator_test engine_parallel_stress_test http_test metrics_test master_test containerizer_test cli_scheduler_session_test agent_test agent_process_test steward-agent
test-tsan: deps
	cmake -S . -B $(BUILD_TSAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEWARD_WERROR=ON \
	  -DSTEWARD_SANITIZE=thread -DSTEWARD_BUILD_BENCHMARKS=OFF
	cmake --build $(BUILD_TSAN) -j $(JOBS) --target $(TSAN_TESTS)
	cd $(BUILD_TSAN) && TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure -L concurrent

# Benchmarks (bench/README.md), JSON in $(BUILD_BENCH): the allocator engine and reference side
# by side (bench.json), whole simulator runs (sim-bench.json) and trace reading, CSV against
# native (trace-bench.json), and the master under simulated agents and frameworks
# (master-bench.json). The simulator runs include the Google-scale day in both modes (about a
# minute of CPU for OFFER, 650 MB); SIM_BENCH_FILTER narrows them, e.g.
# `make bench SIM_BENCH_FILTER='^BM_Sim_(Openb|Synthetic/machines:1250/)'`.
SIM_BENCH_FILTER ?= .
bench: deps
	cmake -S . -B $(BUILD_BENCH) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DSTEWARD_BUILD_TESTS=OFF
	cmake --build $(BUILD_BENCH) -j $(JOBS) --target steward-allocator-bench steward-sim-bench \
	  steward-trace-bench steward-master-bench
	$(BUILD_BENCH)/bench/steward-allocator-bench --benchmark_out=$(BUILD_BENCH)/bench.json \
	  --benchmark_out_format=json $(BENCH_ARGS)
	$(BUILD_BENCH)/bench/steward-sim-bench --benchmark_out=$(BUILD_BENCH)/sim-bench.json \
	  --benchmark_out_format=json '--benchmark_filter=$(SIM_BENCH_FILTER)'
	$(BUILD_BENCH)/bench/steward-trace-bench --benchmark_out=$(BUILD_BENCH)/trace-bench.json \
	  --benchmark_out_format=json
	$(BUILD_BENCH)/bench/steward-master-bench --benchmark_out=$(BUILD_BENCH)/master-bench.json \
	  --benchmark_out_format=json

# The CI performance gate (docs/perf-check.md): a fast subset of the allocator engine's
# benchmarks and the openb DIRECT simulator run, normalised by a calibration kernel measured in
# the same run, against the committed bench/baseline/perf-baseline.json. Fails when a tracked
# figure is slower than its threshold in the first measurement and in two re-measurements.
# Results (Google Benchmark JSON and the comparison) go to $(BUILD_BENCH)/perf.
# `make perf-baseline` re-measures the baseline (8 runs, a few minutes): commit the file it
# writes with the change that justifies it. PERF_ARGS passes options to scripts/perf-check.
PERF_TARGETS := steward-calibration-bench steward-allocator-bench steward-sim-bench
perf-build: deps
	cmake -S . -B $(BUILD_BENCH) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DSTEWARD_BUILD_TESTS=OFF
	cmake --build $(BUILD_BENCH) -j $(JOBS) --target $(PERF_TARGETS)

perf-check: perf-build
	$(PYTHON) scripts/perf-check run --build $(BUILD_BENCH) $(PERF_ARGS)

perf-baseline: perf-build
	$(PYTHON) scripts/perf-check baseline --build $(BUILD_BENCH) $(PERF_ARGS)

# A local cluster on 127.0.0.1 (scripts/cluster): one master (5050) and two agents (5051, 5052).
.PHONY: cluster cluster-stop
cluster:
	BUILD=$(BUILD) JOBS=$(JOBS) scripts/cluster start
cluster-stop:
	BUILD=$(BUILD) scripts/cluster stop

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_BENCH)
