// Throughput of one Dream-VLA policy query (vision once + LM and flow head per
// Euler step) at the tiny configuration on CPU, at batch 1, 8 and 32, with
// achieved GFLOP/s (matmul FLOPs counted analytically) beside a float32 sgemm
// peak measured in the same program.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "policies/dream_vla/cli.h"
#include "policies/dream_vla/model.h"

namespace dv = policies::dream_vla;

namespace {

constexpr int kImagesPerQuery = 2;  // third-person + wrist
constexpr int kImageGrid = 16;      // 224 px / 14 px patches
constexpr int kTextTokens = 20;     // chat header + instruction + assistant header

// Float32 GFLOP/s of a 1024 x 1024 x 1024 torch::mm, measured once.
double sgemm_peak_gflops() {
  static const double peak = [] {
    torch::NoGradGuard no_grad;
    auto a = torch::randn({1024, 1024});
    auto b = torch::randn({1024, 1024});
    auto c = torch::mm(a, b);  // warm-up
    int iterations = 0;
    const auto start = std::chrono::steady_clock::now();
    double seconds = 0.0;
    while (seconds < 1.0) {
      c = torch::mm(a, b);
      ++iterations;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return 2.0 * 1024.0 * 1024.0 * 1024.0 * iterations / seconds / 1e9;
  }();
  return peak;
}

// A random tiny checkpoint, written once and loaded.
const dv::DreamVlaModel& tiny_model() {
  static const std::unique_ptr<dv::DreamVlaModel> model = [] {
    const auto dir = std::filesystem::temp_directory_path() / "vla_bench_dream_tiny";
    dv::init_checkpoint(dv::tiny_config(), dir.string(), {});
    return dv::DreamVlaModel::load(dir.string());
  }();
  return *model;
}

// A LIBERO-shaped query batch: 2 images of 16 x 16 patches per row.
dv::VlaBatch make_batch(const dv::DreamVlaModel& model, int rows) {
  const dv::ModelConfig& config = model.config();
  const int image_tokens = kImageGrid * kImageGrid / 4;
  std::vector<int64_t> row;
  auto generator = at::detail::createCPUGenerator(7);
  auto text = torch::randint(1, 400, {kTextTokens}, generator, torch::kLong);
  for (int i = 0; i < kTextTokens / 2; ++i) row.push_back(text[i].item<int64_t>());
  for (int i = 0; i < kImagesPerQuery * image_tokens; ++i) row.push_back(config.tokens.image);
  for (int i = kTextTokens / 2; i < kTextTokens; ++i) row.push_back(text[i].item<int64_t>());
  for (int64_t id : model.action_suffix()) row.push_back(id);

  dv::VlaBatch batch;
  const int64_t length = static_cast<int64_t>(row.size());
  batch.input_ids = torch::tensor(row, torch::kLong).unsqueeze(0).repeat({rows, 1});
  batch.attention_mask = torch::ones({rows, length}, torch::kLong);
  const int64_t patches = static_cast<int64_t>(rows) * kImagesPerQuery * kImageGrid * kImageGrid;
  batch.pixel_values = torch::randn({patches, config.vision.patch_values()}, generator);
  batch.image_grid_thw = torch::tensor({int64_t{1}, int64_t{kImageGrid}, int64_t{kImageGrid}})
                             .unsqueeze(0)
                             .repeat({rows * kImagesPerQuery, 1});
  batch.proprio = torch::randn({rows, config.action.proprio_dim}, generator);
  return batch;
}

void BM_DreamVlaTinyFlowQuery(benchmark::State& state) {
  torch::NoGradGuard no_grad;
  const int rows = static_cast<int>(state.range(0));
  const dv::DreamVlaModel& model = tiny_model();
  const dv::VlaBatch batch = make_batch(model, rows);
  const auto& action = model.config().action;
  auto noise = torch::randn({rows, action.chunk_length, action.action_dim});
  const int64_t patches = batch.pixel_values.size(0);
  const double flops =
      2.0 * model.flow_query_macs(rows, batch.input_ids.size(1), patches, kImageGrid * kImageGrid);
  for (auto _ : state) {
    auto actions = model.predict_flow(batch, noise);
    benchmark::DoNotOptimize(actions.data_ptr<float>());
  }
  const double peak = sgemm_peak_gflops();
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["sgemm_peak_GFLOP/s"] = peak;
  state.counters["GFLOP_per_query_batch"] = flops / 1e9;
  // Achieved fraction of the sgemm peak is GFLOP/s / sgemm_peak_GFLOP/s; the
  // rate counter is only final after the run, so it is printed below as well.
  state.SetLabel("batch " + std::to_string(rows) +
                 ", L=" + std::to_string(batch.input_ids.size(1)));
}
BENCHMARK(BM_DreamVlaTinyFlowQuery)
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_SgemmPeak1024(benchmark::State& state) {
  torch::NoGradGuard no_grad;
  auto a = torch::randn({1024, 1024});
  auto b = torch::randn({1024, 1024});
  for (auto _ : state) {
    auto c = torch::mm(a, b);
    benchmark::DoNotOptimize(c.data_ptr<float>());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * 1024 * 1024 * 1024 * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SgemmPeak1024)->Unit(benchmark::kMillisecond)->UseRealTime();

// Prints each query benchmark's achieved GFLOP/s over the sgemm peak.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto achieved = run.counters.find("GFLOP/s");
      auto peak = run.counters.find("sgemm_peak_GFLOP/s");
      if (achieved == run.counters.end() || peak == run.counters.end() || peak->second.value <= 0) {
        continue;
      }
      // Rate counters are finalised by the time runs are reported.
      GetOutputStream() << "  " << run.benchmark_name()
                        << ": achieved/sgemm-peak = " << achieved->second.value / peak->second.value
                        << "\n";
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
