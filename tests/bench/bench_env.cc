// Simulation and rendering cost on libero_spatial/0:
//   BM_BarePhysics   25 bare mj_step calls (one control step's physics) on the scene model,
//                    actuators holding the controller's torques of the initial state
//   BM_EnvStep       Env::step without cameras (controller + 25 substeps + observation)
//   BM_Render/N      one agentview render + readback at N x N px (OSMesa unless VLA_GL=egl)
// The ratio EnvStep / BarePhysics is printed as a counter on BM_EnvStep.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

#include "envs/render.h"
#include "tasks/task_env.h"

namespace {

std::shared_ptr<const tasks::TaskDefinition> task0() {
  static auto task = tasks::load_task("libero_spatial/0");
  return task;
}

void BM_BarePhysics(benchmark::State& state) {
  // The same model and state as BM_EnvStep; the actuators hold the torques the
  // controller computed at the initial state (so the arm does not collapse onto
  // the table and change the contact load).
  envs::EnvSettings settings;
  settings.cameras.clear();
  tasks::TaskEnv env(task0(), settings);
  env.reset(0);
  env.step({0, 0, 0, 0, 0, 0, -1});
  const mjModel* model = env.env().model();
  mjData* data = env.env().mutable_data();
  std::vector<double> start(data->qpos, data->qpos + model->nq);
  std::vector<double> ctrl(data->ctrl, data->ctrl + model->nu);
  auto restart = [&] {
    mj_resetData(model, data);
    std::copy(start.begin(), start.end(), data->qpos);
    std::copy(ctrl.begin(), ctrl.end(), data->ctrl);
    mj_forward(model, data);
  };
  restart();
  int steps = 0;
  double contacts = 0;
  for (auto _ : state) {
    for (int i = 0; i < 25; ++i) mj_step(model, data);
    contacts += data->ncon;
    if (++steps == 200) {  // stay near the initial state
      state.PauseTiming();
      restart();
      steps = 0;
      state.ResumeTiming();
    }
  }
  state.counters["control_steps_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["contacts"] = contacts / double(state.iterations());
}
BENCHMARK(BM_BarePhysics)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EnvStep(benchmark::State& state) {
  envs::EnvSettings settings;
  settings.cameras.clear();
  tasks::TaskEnv env(task0(), settings);
  env.reset(0);
  int steps = 0;
  double contacts = 0;
  for (auto _ : state) {
    env.step({0.1f, 0, 0, 0, 0, 0, -1});
    contacts += env.env().data()->ncon;
    if (++steps == 200) {
      state.PauseTiming();
      env.reset(0);
      steps = 0;
      state.ResumeTiming();
    }
  }
  state.counters["control_steps_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["contacts"] = contacts / double(state.iterations());
}
BENCHMARK(BM_EnvStep)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Render(benchmark::State& state) {
  envs::EnvSettings settings;
  settings.cameras.clear();
  settings.render.width = settings.render.height = int(state.range(0));
  if (const char* gl = std::getenv("VLA_GL")) settings.render.backend = envs::parse_gl_backend(gl);
  tasks::TaskEnv env(task0(), settings);
  env.reset(0);
  envs::Image image;
  env.env().render("agentview", &image);
  for (auto _ : state) {
    env.env().render("agentview", &image);
    benchmark::DoNotOptimize(image.pixels.data());
  }
  state.counters["frames_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Render)->Arg(128)->Arg(224)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Ratios from this run: collect per-benchmark real time per iteration.
  class RatioReporter : public benchmark::ConsoleReporter {
   public:
    void ReportRuns(const std::vector<Run>& runs) override {
      ConsoleReporter::ReportRuns(runs);
      for (const Run& run : runs) {
        if (run.run_type != Run::RT_Iteration || run.iterations == 0) continue;
        std::string name = run.benchmark_name();
        const auto suffix = name.find("/real_time");
        if (suffix != std::string::npos) name.erase(suffix);
        times[name] = run.GetAdjustedRealTime();
      }
    }
    std::map<std::string, double> times;
  } reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const auto& t = reporter.times;
  if (t.count("BM_BarePhysics") && t.count("BM_EnvStep")) {
    std::printf("\nenv.step / bare physics (25 mj_step): %.3f\n",
                t.at("BM_EnvStep") / t.at("BM_BarePhysics"));
  }
  for (const char* size : {"128", "224", "256"}) {
    const std::string name = std::string("BM_Render/") + size;
    if (t.count(name) && t.count("BM_BarePhysics")) {
      std::printf("render %s px / bare physics of one control step: %.3f\n", size,
                  t.at(name) / t.at("BM_BarePhysics"));
    }
  }
  benchmark::Shutdown();
  return 0;
}
