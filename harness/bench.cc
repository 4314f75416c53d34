#include "harness/bench.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <mujoco/mujoco.h>

#include "envs/random.h"
#include "harness/batcher.h"
#include "harness/plan.h"
#include "harness/registry.h"
#include "harness/results.h"
#include "harness/runner.h"
#include "harness/subprocess.h"
#include "tasks/episode_env.h"
#include "tasks/suite.h"

namespace harness {

namespace {

using Clock = std::chrono::steady_clock;

const std::vector<std::string> kBenchCameras = {"agentview", "eye_in_hand"};
constexpr double kHarnessRatioTarget = 0.9;  // harness within 10% of the bare loop
constexpr double kSpeedupTarget = 1.8;       // 2 workers on 2 cores against 1 worker
constexpr double kPerCoreTarget = 100;       // observations/s per core

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The scripted expert reads privileged state and no cameras; the bench renders
// the two cameras a vision policy reads, at the bench's size, on every step.
class WithCameras : public policies::Policy {
 public:
  WithCameras(std::unique_ptr<policies::Policy> inner, int image_size)
      : inner_(std::move(inner)), image_size_(image_size) {}
  policies::PolicyInfo info() const override {
    policies::PolicyInfo info = inner_->info();
    info.cameras = kBenchCameras;
    info.image_size = image_size_;
    return info;
  }
  void reset(int slot, uint64_t seed) override { inner_->reset(slot, seed); }
  std::vector<policies::ActionChunk> act(std::span<const policies::PolicyQuery> batch) override {
    return inner_->act(batch);
  }

 private:
  std::unique_ptr<policies::Policy> inner_;
  int image_size_;
};

// MuJoCo's offscreen rendering set up as envs::Renderer sets it up (same GL
// backend, buffer sized to the camera, the same envs::OffscreenView), without
// the harness around it: no image flip, no observation.
class BareRenderer {
 public:
  BareRenderer(const mjModel* model, const envs::RenderSettings& settings)
      : width_(settings.width), height_(settings.height),
        context_(envs::GlContext::create(settings.backend, width_, height_)),
        view_(std::make_unique<envs::OffscreenView>(model, settings)) {
    pixels_.resize(size_t(width_) * height_ * 3);
  }
  ~BareRenderer() {
    context_->make_current();
    view_.reset();
  }
  BareRenderer(const BareRenderer&) = delete;
  BareRenderer& operator=(const BareRenderer&) = delete;

  void make_current() { context_->make_current(); }
  void render(const mjModel* model, mjData* data, int camera_id) {
    view_->render(model, data, camera_id, width_, height_, pixels_.data());
  }

 private:
  int width_, height_;
  std::unique_ptr<envs::GlContext> context_;
  std::unique_ptr<envs::OffscreenView> view_;
  std::vector<uint8_t> pixels_;
};

// Runs `observations` control steps of the bare loop on `env`'s model from its
// current state (substeps of mj_step, then every camera rendered and read
// back), restarting from that state every `episode_length` steps. Returns the
// wall time in seconds; adds the time spent in physics and in rendering.
// `ready`, when given, is called once everything is set up, just before the
// timed loop.
double time_bare_loop(envs::Env& env, long observations, long episode_length, double& physics_s,
                      double& render_s, const std::function<void()>& ready = {}) {
  const mjModel* model = env.model();
  std::unique_ptr<mjData, decltype(&mj_deleteData)> start(mj_makeData(model), mj_deleteData);
  std::unique_ptr<mjData, decltype(&mj_deleteData)> data(mj_makeData(model), mj_deleteData);
  mj_copyData(start.get(), model, env.data());
  std::vector<int> cameras;
  for (const std::string& name : kBenchCameras) {
    const int id = env.camera_id(name);
    if (id < 0) throw std::runtime_error("bench: the scene has no camera '" + name + "'");
    cameras.push_back(id);
  }
  const int substeps = env.settings().substeps;
  BareRenderer renderer(model, env.settings().render);
  renderer.make_current();
  if (ready) ready();
  const auto begin = Clock::now();
  for (long i = 0; i < observations; ++i) {
    if (i % episode_length == 0) mj_copyData(data.get(), model, start.get());
    const auto physics_begin = Clock::now();
    for (int k = 0; k < substeps; ++k) mj_step(model, data.get());
    const auto render_begin = Clock::now();
    for (int camera : cameras) renderer.render(model, data.get(), camera);
    physics_s += std::chrono::duration<double>(render_begin - physics_begin).count();
    render_s += seconds_since(render_begin);
  }
  return seconds_since(begin);
}

void check_range(const char* flag, long value, long low, long high) {
  if (value < low || value > high) {
    throw std::runtime_error(std::string("bench: ") + flag + " must be within " + std::to_string(low) +
                             ".." + std::to_string(high) + ", got " + std::to_string(value));
  }
}

// The bench's task with episodes cut to `steps` policy steps, and the
// environment settings of a policy reading both cameras at the bench's size.
struct BenchScene {
  std::shared_ptr<const tasks::TaskDefinition> task;
  envs::EnvSettings env_settings;
  long episode_length = 0;  // wait steps + policy steps
};

BenchScene bench_scene(const BenchSettings& settings) {
  const std::shared_ptr<const tasks::TaskDefinition> loaded = tasks::load_task(settings.task);
  if (loaded->episodes <= 0) throw std::runtime_error("bench: task " + settings.task + " has no episodes");
  check_range("--init-state", settings.init_state, 0, loaded->episodes - 1);
  auto cut = std::make_shared<tasks::TaskDefinition>(*loaded);
  cut->protocol.max_steps = settings.steps;
  cut->protocol.wait_steps = std::min(cut->protocol.wait_steps, settings.steps);
  BenchScene scene;
  scene.task = cut;
  scene.episode_length = cut->protocol.wait_steps + cut->protocol.max_steps;
  WithCameras policy(make_policy("scripted"), settings.image_size);
  envs::RenderSettings render;
  render.backend = settings.backend;
  scene.env_settings = env_settings_for(policy.info(), render);
  return scene;
}

// The bare loop on `threads` threads at once, each with its own copy of the
// task's environment and GL context: the scaling ceiling of this machine and
// GL backend without the harness. Returns observations per second in all.
double time_parallel_bare_loop(const std::shared_ptr<const tasks::TaskDefinition>& task,
                               const envs::EnvSettings& env_settings, int init_state, int threads,
                               long observations_per_thread, long episode_length) {
  std::vector<std::unique_ptr<tasks::EpisodeEnv>> envs(threads);
  for (auto& env : envs) {
    env = tasks::make_episode_env(task, env_settings);
    env->reset(init_state);
    env->step(envs::Action{0, 0, 0, 0, 0, 0, -1});
  }
  std::vector<std::string> errors(threads);
  std::vector<std::thread> pool;
  // The threads start their loops together, once every renderer is set up;
  // the time runs from that start to the last thread's end.
  std::mutex mutex;
  std::condition_variable all_ready;
  int waiting = 0;
  Clock::time_point begin;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto ready = [&] {
        std::unique_lock lock(mutex);
        if (++waiting == threads) {
          begin = Clock::now();
          all_ready.notify_all();
        } else {
          all_ready.wait(lock, [&] { return waiting == threads; });
        }
      };
      try {
        double physics_s = 0, render_s = 0;
        time_bare_loop(envs[t]->env(), observations_per_thread, episode_length, physics_s, render_s,
                       ready);
      } catch (const std::exception& error) {
        errors[t] = error.what();
        std::lock_guard lock(mutex);
        if (waiting < threads) {  // never reached the start: release the others
          waiting = threads;
          begin = Clock::now();
          all_ready.notify_all();
        }
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  const double wall = seconds_since(begin);
  for (const std::string& error : errors) {
    if (!error.empty()) throw std::runtime_error("bench: parallel bare loop: " + error);
  }
  return double(observations_per_thread * threads) / wall;
}

// Observations of each process of the process ceiling: two episodes.
long bare_child_observations(const BenchScene& scene) { return 2 * scene.episode_length; }

// Copies of this program (`bench --child MODE`) run at once: each sets up,
// says "ready", waits for "go" on its stdin, runs and prints its
// observations and seconds. Processes share no GL state. Mode "bare": the
// bare loop; "plan/K/N": slice K of N of the bench plan through run_plan with
// one worker. Returns observations per second in all (all observations over
// the slowest process's time).
double time_in_processes(const BenchSettings& settings, int processes, const std::string& mode) {
  const std::string program = settings.program.empty()
                                  ? std::filesystem::read_symlink("/proc/self/exe").string()
                                  : settings.program;
  const char* gl = settings.backend == envs::GlBackend::kEgl ? "egl" : "osmesa";

  struct Child {
    pid_t pid = -1;
    FILE* to = nullptr;    // its stdin
    FILE* from = nullptr;  // its stdout
  };
  std::vector<Child> children(processes);
  auto fail = [&](const std::string& message) {
    for (Child& child : children) {
      if (child.pid > 0) kill(child.pid, SIGKILL);
    }
    for (Child& child : children) {
      if (child.to) std::fclose(child.to);
      if (child.from) std::fclose(child.from);
      if (child.pid > 0) wait_process(child.pid);
    }
    throw std::runtime_error("bench: " + mode + " in processes: " + message);
  };
  for (int k = 0; k < processes; ++k) {
    Child& child = children[k];
    const std::string child_mode =
        mode == "bare" ? mode : mode + "/" + std::to_string(k) + "/" + std::to_string(processes);
    std::vector<std::string> args = {program,         "bench",
                                     "--child",       child_mode,
                                     "--task",        settings.task,
                                     "--init-state",  std::to_string(settings.init_state),
                                     "--steps",       std::to_string(settings.steps),
                                     "--workers",     std::to_string(settings.workers),
                                     "--image-size",  std::to_string(settings.image_size),
                                     "--gl",          gl};
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) fail("pipe failed");
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      fail("pipe failed");
    }
    std::string error;
    try {
      child.pid = spawn_process(args, in[0], out[1]);
    } catch (const std::runtime_error& spawn_error) {
      error = spawn_error.what();
    }
    close(in[0]);
    close(out[1]);
    child.to = fdopen(in[1], "w");
    child.from = fdopen(out[0], "r");
    if (!error.empty()) fail(error);
  }
  char line[256];
  for (Child& child : children) {
    if (!std::fgets(line, sizeof(line), child.from) || std::string(line) != "ready\n") {
      fail("a child did not get ready");
    }
  }
  for (Child& child : children) {
    std::fputs("go\n", child.to);
    std::fflush(child.to);
  }
  long observations = 0;
  double slowest = 0;
  for (Child& child : children) {
    long count = 0;
    double seconds = 0;
    if (!std::fgets(line, sizeof(line), child.from) ||
        std::sscanf(line, "%ld %lf", &count, &seconds) != 2 || seconds <= 0) {
      fail("a child reported no figures");
    }
    observations += count;
    slowest = std::max(slowest, seconds);
  }
  for (Child& child : children) {
    std::fclose(child.to);
    std::fclose(child.from);
    child.to = child.from = nullptr;
    const int status = wait_process(child.pid);
    child.pid = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("a child failed");
  }
  return observations / slowest;
}

EpisodeSpec bench_episode(const std::shared_ptr<const tasks::TaskDefinition>& task, int init_state,
                          int index) {
  EpisodeSpec spec;
  spec.suite = task->suite;
  spec.task_id = task->id;
  spec.init_state = init_state;
  spec.episode_id = task->key + "/" + std::to_string(index);
  spec.seed = envs::derive_seed(7, spec.episode_id, "episode");
  spec.task = task;
  return spec;
}

// A fresh, empty directory under the system's temporary directory.
std::filesystem::path scratch_directory(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("vla_bench_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + name);
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

// The bench's plan: 2 episodes per worker (at least 4), from consecutive
// stored states.
std::vector<EpisodeSpec> bench_plan(const BenchSettings& settings,
                                    const std::shared_ptr<const tasks::TaskDefinition>& task) {
  std::vector<EpisodeSpec> plan;
  const int episodes = 2 * std::max(settings.workers, 2);
  for (int i = 0; i < episodes; ++i) {
    plan.push_back(bench_episode(task, (settings.init_state + i) % task->episodes, i));
  }
  return plan;
}

struct PlanTiming {
  long env_steps = 0;
  double seconds = 0;
};

// `plan` through run_plan with `workers` workers. `ready`, when given, is
// called just before run_plan starts.
PlanTiming time_run_plan(const std::vector<EpisodeSpec>& plan, policies::Policy& policy, int workers,
                         const envs::RenderSettings& render,
                         const std::function<void()>& ready = {}) {
  const std::filesystem::path directory = scratch_directory("w" + std::to_string(workers));
  RunStats stats;
  {
    ResultStore store(directory.string(), make_context("vla-harness bench", policy.info().name));
    RunSettings settings;
    settings.workers = workers;
    settings.render = render;
    settings.quiet = true;
    if (ready) ready();
    stats = run_plan(plan, policy, store, settings);
    for (const EpisodeResult& result : store.episodes()) {
      if (result.end_reason == "error" || result.end_reason == "policy_error") {
        std::filesystem::remove_all(directory);
        throw std::runtime_error("bench: episode " + result.episode_id + " failed: " + result.error);
      }
    }
  }
  std::filesystem::remove_all(directory);
  if (stats.wall_time_s <= 0 || stats.env_steps <= 0) {
    throw std::runtime_error("bench: run_plan with " + std::to_string(workers) + " workers ran no steps");
  }
  return {stats.env_steps, stats.wall_time_s};
}

double obs_per_s(const PlanTiming& timing) { return timing.env_steps / timing.seconds; }

const char* met(bool value) { return value ? "met" : "MISSED"; }

}  // namespace

BenchFigures run_bench(const BenchSettings& settings) {
  check_range("--steps", settings.steps, 1, 100000);
  check_range("--workers", settings.workers, 1, 256);
  check_range("--image-size", settings.image_size, 1, 4096);
  check_range("--repeats", settings.repeats, 1, 100);
  BenchFigures figures;
  figures.settings = settings;
  figures.cores = int(std::max(1u, std::thread::hardware_concurrency()));

  const BenchScene scene = bench_scene(settings);
  const std::shared_ptr<const tasks::TaskDefinition>& task = scene.task;
  const long episode_length = scene.episode_length;
  WithCameras policy(make_policy("scripted"), settings.image_size);
  const policies::PolicyInfo info = policy.info();
  const envs::EnvSettings& env_settings = scene.env_settings;
  figures.substeps = env_settings.substeps;

  // 1 and 2: bare loop and harness path alternate on one environment (built
  // and rendered once before any timing); each keeps its best repeat.
  {
    std::unique_ptr<tasks::EpisodeEnv> env = tasks::make_episode_env(task, env_settings);
    PolicyBatcher batcher(policy, 1);
    constexpr int kEpisodesPerRepeat = 2;
    for (int repeat = 0; repeat < settings.repeats; ++repeat) {
      env->reset(settings.init_state);
      env->step(envs::Action{0, 0, 0, 0, 0, 0, -1});
      const long bare_steps = kEpisodesPerRepeat * episode_length;
      double physics_s = 0, render_s = 0;
      const double bare_s =
          time_bare_loop(env->env(), bare_steps, episode_length, physics_s, render_s);
      if (figures.bare_obs_per_s < bare_steps / bare_s) {
        figures.physics_ms_per_obs = 1e3 * physics_s / bare_steps;
        figures.render_ms_per_camera = 1e3 * render_s / (bare_steps * kBenchCameras.size());
      }
      figures.bare_observations += bare_steps;
      figures.bare_obs_per_s = std::max(figures.bare_obs_per_s, bare_steps / bare_s);

      long harness_steps = 0;
      const auto begin = Clock::now();
      for (int e = 0; e < kEpisodesPerRepeat; ++e) {
        const EpisodeResult result = run_episode(bench_episode(task, settings.init_state, e), *env,
                                                 batcher, 0, info, &harness_steps);
        if (result.end_reason == "error") {
          throw std::runtime_error("bench: harness episode failed: " + result.error);
        }
      }
      const double harness_s = seconds_since(begin);
      figures.harness_observations += harness_steps;
      figures.harness_obs_per_s = std::max(figures.harness_obs_per_s, harness_steps / harness_s);
    }
    batcher.worker_done();
  }
  figures.harness_ratio = figures.harness_obs_per_s / figures.bare_obs_per_s;

  // 3: the bare loop on 1 and N threads, each its own environment, and in N
  // processes.
  {
    const long per_thread = 2 * episode_length;
    // Each keeps its best repeat.
    for (int repeat = 0; repeat < settings.repeats; ++repeat) {
      figures.bare_one_thread_obs_per_s =
          std::max(figures.bare_one_thread_obs_per_s,
                   time_parallel_bare_loop(task, env_settings, settings.init_state, 1, per_thread,
                                           episode_length));
      figures.bare_n_threads_obs_per_s =
          std::max(figures.bare_n_threads_obs_per_s,
                   time_parallel_bare_loop(task, env_settings, settings.init_state,
                                           settings.workers, per_thread, episode_length));
      figures.bare_n_processes_obs_per_s =
          std::max(figures.bare_n_processes_obs_per_s,
                   time_in_processes(settings, settings.workers, "bare"));
    }
    figures.bare_speedup = figures.bare_n_threads_obs_per_s / figures.bare_one_thread_obs_per_s;
    figures.bare_process_speedup =
        figures.bare_n_processes_obs_per_s / figures.bare_one_thread_obs_per_s;
  }

  // 4: the same plan through run_plan with 1 and with N workers, and as N
  // processes of one worker each (eval --processes N).
  const std::vector<EpisodeSpec> plan = bench_plan(settings, task);
  figures.plan_episodes = long(plan.size());
  // Each keeps its best repeat, as the bare loop and harness path do.
  for (int repeat = 0; repeat < settings.repeats; ++repeat) {
    figures.one_worker_obs_per_s =
        std::max(figures.one_worker_obs_per_s,
                 obs_per_s(time_run_plan(plan, policy, 1, env_settings.render)));
    figures.n_worker_obs_per_s =
        std::max(figures.n_worker_obs_per_s,
                 obs_per_s(time_run_plan(plan, policy, settings.workers, env_settings.render)));
    figures.n_process_obs_per_s = std::max(figures.n_process_obs_per_s,
                                           time_in_processes(settings, settings.workers, "plan"));
  }
  figures.speedup = figures.n_worker_obs_per_s / figures.one_worker_obs_per_s;
  figures.process_speedup = figures.n_process_obs_per_s / figures.one_worker_obs_per_s;
  const int used_cores = std::min(settings.workers, figures.cores);
  figures.obs_per_s_per_core =
      std::max(figures.n_worker_obs_per_s, figures.n_process_obs_per_s) / used_cores;

  figures.harness_target_met = figures.harness_ratio >= kHarnessRatioTarget;
  figures.speedup_target_met = figures.speedup >= kSpeedupTarget;
  figures.process_speedup_target_met = figures.process_speedup >= kSpeedupTarget;
  figures.per_core_target_met = figures.obs_per_s_per_core >= kPerCoreTarget;
  return figures;
}

// One process of time_in_processes (`bench --child MODE`).
void run_child(const BenchSettings& settings, const std::string& mode) {
  const BenchScene scene = bench_scene(settings);
  auto ready = [] {
    std::fputs("ready\n", stdout);
    std::fflush(stdout);
    char line[16];
    if (!std::fgets(line, sizeof(line), stdin)) throw std::runtime_error("bench: no start signal");
  };
  long observations = 0;
  double seconds = 0;
  int index = 0, count = 0;
  if (mode == "bare") {
    std::unique_ptr<tasks::EpisodeEnv> env = tasks::make_episode_env(scene.task, scene.env_settings);
    env->reset(settings.init_state);
    env->step(envs::Action{0, 0, 0, 0, 0, 0, -1});
    double physics_s = 0, render_s = 0;
    observations = bare_child_observations(scene);
    seconds = time_bare_loop(env->env(), observations, scene.episode_length, physics_s, render_s,
                             ready);
  } else if (std::sscanf(mode.c_str(), "plan/%d/%d", &index, &count) == 2 && count > 0 &&
             index >= 0 && index < count) {
    std::vector<EpisodeSpec> slice;
    const std::vector<EpisodeSpec> plan = bench_plan(settings, scene.task);
    for (size_t i = index; i < plan.size(); i += count) slice.push_back(plan[i]);
    WithCameras policy(make_policy("scripted"), settings.image_size);
    const PlanTiming timing = time_run_plan(slice, policy, 1, scene.env_settings.render, ready);
    observations = timing.env_steps;
    seconds = timing.seconds;
  } else {
    throw std::runtime_error("bench: --child must be bare or plan/K/N, got " + mode);
  }
  std::printf("%ld %.9f\n", observations, seconds);
  std::fflush(stdout);
}

nlohmann::json bench_to_json(const BenchFigures& f) {
  const BenchSettings& s = f.settings;
  return {{"settings",
           {{"task", s.task},
            {"init_state", s.init_state},
            {"steps", s.steps},
            {"workers", s.workers},
            {"image_size", s.image_size},
            {"cameras", kBenchCameras},
            {"repeats", s.repeats},
            {"gl", s.backend == envs::GlBackend::kEgl ? "egl" : "osmesa"}}},
          {"cores", f.cores},
          {"bare_observations", f.bare_observations},
          {"bare_obs_per_s", f.bare_obs_per_s},
          {"physics_ms_per_obs", f.physics_ms_per_obs},
          {"render_ms_per_camera", f.render_ms_per_camera},
          {"harness_observations", f.harness_observations},
          {"harness_obs_per_s", f.harness_obs_per_s},
          {"harness_ratio", f.harness_ratio},
          {"bare_one_thread_obs_per_s", f.bare_one_thread_obs_per_s},
          {"bare_n_threads_obs_per_s", f.bare_n_threads_obs_per_s},
          {"bare_speedup", f.bare_speedup},
          {"bare_n_processes_obs_per_s", f.bare_n_processes_obs_per_s},
          {"bare_process_speedup", f.bare_process_speedup},
          {"plan_episodes", f.plan_episodes},
          {"one_worker_obs_per_s", f.one_worker_obs_per_s},
          {"n_worker_obs_per_s", f.n_worker_obs_per_s},
          {"speedup", f.speedup},
          {"n_process_obs_per_s", f.n_process_obs_per_s},
          {"process_speedup", f.process_speedup},
          {"obs_per_s_per_core", f.obs_per_s_per_core},
          {"targets",
           {{"harness_ratio_min", kHarnessRatioTarget},
            {"speedup_min", kSpeedupTarget},
            {"obs_per_s_per_core_min", kPerCoreTarget},
            {"harness_ratio_met", f.harness_target_met},
            {"speedup_met", f.speedup_target_met},
            {"process_speedup_met", f.process_speedup_target_met},
            {"obs_per_s_per_core_met", f.per_core_target_met}}}};
}

std::string format_bench(const BenchFigures& f) {
  const BenchSettings& s = f.settings;
  char text[2048];
  std::snprintf(
      text, sizeof(text),
      "bench: %s (state %d), scripted expert, agentview + eye_in_hand at %d px, %d steps per "
      "episode, %d cores\n"
      "  bare loop (mj_step + mjr_render + mjr_readPixels)  %8.1f obs/s  (%ld obs)\n"
      "    of which physics %.2f ms per obs (%d substeps), render + readback %.2f ms per camera\n"
      "  harness path (run_episode, 1 worker)              %8.1f obs/s  (%ld obs)  ratio %.3f  "
      "[target >= %.2f: %s]\n"
      "  bare loop, 1 thread                               %8.1f obs/s\n"
      "  bare loop, %d threads                              %8.1f obs/s  speed-up %.2fx\n"
      "  bare loop, %d processes                            %8.1f obs/s  speed-up %.2fx\n"
      "  run_plan, 1 worker                                %8.1f obs/s  (%ld episodes)\n"
      "  run_plan, %d workers                               %8.1f obs/s  speed-up %.2fx  "
      "[target >= %.1fx: %s]\n"
      "  run_plan, %d processes x 1 worker                  %8.1f obs/s  speed-up %.2fx  "
      "[target >= %.1fx: %s]\n"
      "  per core (best of the two, %d cores)               %8.1f obs/s  [target >= %.0f: %s]\n",
      s.task.c_str(), s.init_state, s.image_size, s.steps, f.cores, f.bare_obs_per_s,
      f.bare_observations, f.physics_ms_per_obs, f.substeps, f.render_ms_per_camera,
      f.harness_obs_per_s, f.harness_observations, f.harness_ratio,
      kHarnessRatioTarget, met(f.harness_target_met), f.bare_one_thread_obs_per_s, s.workers,
      f.bare_n_threads_obs_per_s, f.bare_speedup, s.workers, f.bare_n_processes_obs_per_s,
      f.bare_process_speedup, f.one_worker_obs_per_s, f.plan_episodes,
      s.workers, f.n_worker_obs_per_s, f.speedup, kSpeedupTarget, met(f.speedup_target_met),
      s.workers, f.n_process_obs_per_s, f.process_speedup, kSpeedupTarget,
      met(f.process_speedup_target_met), std::min(s.workers, f.cores), f.obs_per_s_per_core,
      kPerCoreTarget, met(f.per_core_target_met));
  return text;
}

void add_bench_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "bench", "Observations/s: bare MuJoCo loop vs the harness, 1 vs N workers (one run)");
  auto settings = std::make_shared<BenchSettings>();
  auto gl = std::make_shared<std::string>("osmesa");
  auto json = std::make_shared<bool>(false);
  command->add_option("--task", settings->task, "Task as suite/id")->capture_default_str();
  command->add_option("--init-state", settings->init_state, "Stored initial state")->capture_default_str();
  command->add_option("--steps", settings->steps, "Policy steps per episode")->capture_default_str();
  command->add_option("--workers", settings->workers, "Workers of the multi-worker run")
      ->capture_default_str();
  command->add_option("--image-size", settings->image_size, "Camera image size in px")
      ->capture_default_str();
  command->add_option("--repeats", settings->repeats, "Repeats of every measurement; each keeps its best")
      ->capture_default_str();
  command->add_option("--gl", *gl, "GL backend: osmesa or egl")->capture_default_str();
  command->add_flag("--json", *json, "Print the figures as one JSON document");
  auto child = std::make_shared<std::string>();
  command->add_option("--child", *child, "One process of a multi-process figure (internal)")
      ->group("");
  command->callback([settings, gl, json, child] {
    settings->backend = envs::parse_gl_backend(*gl);
    if (!child->empty()) {
      run_child(*settings, *child);
      return;
    }
    const BenchFigures figures = run_bench(*settings);
    if (*json) {
      std::printf("%s\n", bench_to_json(figures).dump(1).c_str());
    } else {
      std::printf("%s", format_bench(figures).c_str());
    }
    std::fflush(stdout);
  });
}

}  // namespace harness
