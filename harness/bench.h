// Throughput figures measured in one run on one LIBERO-style scene: a bare
// loop of mj_step + mjr_render + mjr_readPixels (the baseline), the harness
// path with the scripted expert, and 1 worker against N workers (threads of
// one process, and processes).
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "envs/render.h"

namespace harness {

struct BenchSettings {
  std::string task = "libero_spatial/0";  // task as suite/id
  int init_state = 0;                     // stored initial state of the bare loop and harness path
  int steps = 50;                         // policy steps per episode (the protocol's max_steps)
  int workers = 2;                        // workers of the multi-worker run
  int image_size = 224;                   // px, both cameras (agentview, eye_in_hand)
  int repeats = 2;                        // repeats of every measurement; each keeps its best
  envs::GlBackend backend = envs::GlBackend::kOsMesa;
  std::string program;                    // vla-harness binary for the process ceiling; "": this one
};

struct BenchFigures {
  BenchSettings settings;
  int cores = 0;                       // hardware threads of this machine
  long bare_observations = 0;          // control steps of the bare loop (each renders every camera)
  double bare_obs_per_s = 0;           // bare loop, best repeat
  double physics_ms_per_obs = 0;       // bare loop's best repeat: mj_step substeps per observation
  double render_ms_per_camera = 0;     // bare loop's best repeat: render + readback of one camera
  int substeps = 0;                    // physics steps per control step
  long harness_observations = 0;       // env steps of the harness path (wait steps included)
  double harness_obs_per_s = 0;        // harness path (1 worker), best repeat
  double harness_ratio = 0;            // harness / bare (1.0: no overhead)
  double bare_one_thread_obs_per_s = 0;  // bare loop on 1 thread (own environment)
  double bare_n_threads_obs_per_s = 0;   // bare loop on settings.workers threads at once
  double bare_speedup = 0;               // n threads / 1 thread: the ceiling for `speedup`
  double bare_n_processes_obs_per_s = 0; // bare loop in settings.workers processes at once
  double bare_process_speedup = 0;       // n processes / 1 thread: nothing shared but the machine
  long plan_episodes = 0;              // episodes of each run_plan run
  double one_worker_obs_per_s = 0;     // run_plan, 1 worker
  double n_worker_obs_per_s = 0;       // run_plan, settings.workers workers
  double speedup = 0;                  // n_worker / one_worker
  double n_process_obs_per_s = 0;      // run_plan in settings.workers processes of 1 worker
  double process_speedup = 0;          // n_process / one_worker
  double obs_per_s_per_core = 0;       // max(n_worker, n_process) / min(workers, cores)
  bool harness_target_met = false;     // harness_ratio >= 0.9
  bool speedup_target_met = false;     // speedup >= 1.8 (targets 2 workers on 2 cores)
  bool process_speedup_target_met = false;  // process_speedup >= 1.8
  bool per_core_target_met = false;    // obs_per_s_per_core >= 100
};

// Runs the three measurements. Throws std::runtime_error for an unknown task,
// a task without stored initial states, or a setting out of range (naming it).
BenchFigures run_bench(const BenchSettings& settings);

// Every figure and target, machine-readable.
nlohmann::json bench_to_json(const BenchFigures& figures);
// The figures as a short table with the targets met or missed.
std::string format_bench(const BenchFigures& figures);

// `vla-harness bench`: --task, --steps, --workers, --image-size, --init-state,
// --repeats, --gl, --json.
void add_bench_command(CLI::App& app);

}  // namespace harness
