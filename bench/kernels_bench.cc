// The allocator's SIMD kernels (allocator/internal/kernels.h), each against its scalar version
// in the same run: BM_<Kernel>/isa:0 is scalar, /isa:1 AVX2 (skipped on a CPU without it).
// Inputs are the engine's shapes: three resource columns (cpus, mem, disk in milli-units) over
// n agents (fit mask, scores) or n clients (dominant shares). items_per_second counts agents
// or clients; the ratio of the two rows' times is the kernel's speed-up.
#include <cstdint>
#include <random>
#include <vector>

#include "allocator/internal/kernels.h"
#include "benchmark/benchmark.h"

namespace steward::allocator::internal::kernels {
namespace {

constexpr size_t kColumns = 3;

struct Data {
  std::vector<std::vector<int64_t>> free, caps;
  std::vector<const int64_t*> free_columns, cap_columns;
  std::vector<int64_t> demand, totals;
  std::vector<double> weights;
};

// Agents of 32 cpus, 128 GiB, 1 TiB, partly used at random; a demand of 1 cpu, 2 GiB, 10 GiB
// that about half of them fit.
Data MakeData(size_t n) {
  Data data;
  std::mt19937_64 rng(42);
  const int64_t cap[kColumns] = {32'000, 131'072'000, 1'048'576'000};
  data.free.resize(kColumns);
  data.caps.resize(kColumns);
  for (size_t k = 0; k < kColumns; ++k) {
    std::uniform_int_distribution<int64_t> used(0, cap[k]);
    data.free[k].resize(n);
    data.caps[k].assign(n, cap[k]);
    for (int64_t& f : data.free[k]) f = cap[k] - used(rng) / 2 - (rng() % 2 ? cap[k] / 2 : 0);
    data.free_columns.push_back(data.free[k].data());
    data.cap_columns.push_back(data.caps[k].data());
    data.totals.push_back(cap[k] * static_cast<int64_t>(n));
  }
  data.demand = {1'000, 2'048'000, 10'240'000};
  data.weights.assign(n, 1.0);
  for (size_t c = 0; c < n; c += 3) data.weights[c] = 2.5;
  return data;
}

Isa IsaArg(const benchmark::State& state) {
  return state.range(1) == 0 ? Isa::kScalar : Isa::kAvx2;
}

bool SkipUnsupported(benchmark::State& state) {
  if (IsaArg(state) == Isa::kAvx2 && !Avx2Supported()) {
    state.SkipWithError("no AVX2 on this CPU");
    return true;
  }
  return false;
}

void BM_FitMask(benchmark::State& state) {
  if (SkipUnsupported(state)) return;
  const auto n = static_cast<size_t>(state.range(0));
  const Data data = MakeData(n);
  std::vector<uint64_t> mask(MaskWords(n));
  for (auto _ : state) {
    FitMask(data.free_columns, data.demand, 0, n, mask.data(), IsaArg(state));
    benchmark::DoNotOptimize(mask.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void BM_DominantShares(benchmark::State& state) {
  if (SkipUnsupported(state)) return;
  const auto n = static_cast<size_t>(state.range(0));
  const Data data = MakeData(n);
  std::vector<double> out(n);
  for (auto _ : state) {
    DominantShares(data.free_columns, data.totals, data.weights.data(), n, out.data(),
                   IsaArg(state));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

template <ScoreKind kKind>
void BM_Scores(benchmark::State& state) {
  if (SkipUnsupported(state)) return;
  const auto n = static_cast<size_t>(state.range(0));
  const Data data = MakeData(n);
  std::vector<double> out(n);
  for (auto _ : state) {
    Scores(kKind, data.free_columns, data.cap_columns, data.demand, 0, n, out.data(),
           IsaArg(state));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "isa"});
  for (int64_t n : {64, 1'000, 10'000, 50'000}) {
    for (int64_t isa : {0, 1}) b->Args({n, isa});
  }
}

BENCHMARK(BM_FitMask)->Apply(Sizes);
BENCHMARK(BM_DominantShares)->Apply(Sizes);
BENCHMARK(BM_Scores<ScoreKind::kSlack>)->Name("BM_ScoresSlack")->Apply(Sizes);
BENCHMARK(BM_Scores<ScoreKind::kDot>)->Name("BM_ScoresDot")->Apply(Sizes);

}  // namespace
}  // namespace steward::allocator::internal::kernels

BENCHMARK_MAIN();
