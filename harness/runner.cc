#include "harness/runner.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include <unistd.h>

#include "harness/batcher.h"
#include "harness/progress.h"
#include "policies/remote/remote_policy.h"

namespace harness {

envs::EnvSettings env_settings_for(const policies::PolicyInfo& info, envs::RenderSettings render) {
  envs::EnvSettings settings;
  settings.cameras = info.cameras;
  if (!info.cameras.empty() && info.image_size > 0) {
    render.width = info.image_size;
    render.height = info.image_size;
  }
  settings.render = render;
  return settings;
}

namespace {

// A result that names its episode, before anything has run.
EpisodeResult result_for(const EpisodeSpec& spec) {
  EpisodeResult result;
  result.episode_id = spec.episode_id;
  result.suite = spec.suite;
  result.task_id = spec.task_id;
  result.init_state = spec.init_state;
  result.seed = spec.seed;
  result.cameras = spec.cameras;
  return result;
}

}  // namespace

EpisodeResult run_episode(const EpisodeSpec& spec, tasks::EpisodeEnv& env, PolicyBatcher& batcher,
                          int slot, const policies::PolicyInfo& info, long* env_steps,
                          EpisodeRecorder* recorder) {
  EpisodeResult result = result_for(spec);
  const auto start = std::chrono::steady_clock::now();
  const tasks::Protocol& protocol = spec.task->protocol;
  try {
    batcher.reset(slot, spec.seed);
    const envs::Observation* observation = &env.reset(spec.init_state, spec.cameras);
    const envs::Action no_op{0, 0, 0, 0, 0, 0, -1};
    for (int i = 0; i < protocol.wait_steps; ++i) observation = env.step(no_op).observation;
    if (env_steps) *env_steps += protocol.wait_steps;
    if (recorder) recorder->begin(spec, env);
    policies::ActionChunk chunk;
    size_t next = 0;
    const size_t open_loop = size_t(std::max(1, info.open_loop_steps));
    result.end_reason = "max_steps";
    while (result.steps < protocol.max_steps) {
      if (next >= chunk.size() || next >= open_loop) {
        chunk = batcher.query(slot, *observation);
        next = 0;
      }
      const tasks::StepResult step = env.step(chunk[next++]);
      observation = step.observation;
      ++result.steps;
      if (env_steps) ++*env_steps;
      if (recorder) recorder->frame(env, result.steps);
      if (step.success) {
        result.success = true;
        result.end_reason = "success";
        break;
      }
    }
  } catch (const policies::remote::PolicyError& error) {
    result.success = false;
    result.end_reason = "policy_error";
    result.error = error.what();
  } catch (const std::exception& error) {
    result.success = false;
    result.end_reason = "error";
    result.error = error.what();
  }
  if (const auto* remote = dynamic_cast<const policies::remote::RemotePolicy*>(&batcher.policy())) {
    result.timing = remote->episode_timing(slot);
  }
  result.metrics = env.metrics();
  if (recorder) recorder->end(result);
  result.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

RunStats run_plan(const std::vector<EpisodeSpec>& plan, policies::Policy& policy,
                  ResultStore& store, const RunSettings& settings) {
  RunStats stats;
  std::vector<const EpisodeSpec*> todo;
  for (const EpisodeSpec& spec : plan) {
    if (!store.has(spec.episode_id)) {
      todo.push_back(&spec);
    } else if (settings.retry_failed_policy && store.end_reason(spec.episode_id) == "policy_error") {
      todo.push_back(&spec);
      ++stats.episodes_retried;
    } else {
      ++stats.episodes_skipped;
    }
  }
  policies::PolicyInfo info = policy.info();
  if (settings.replan_steps > 0) info.open_loop_steps = settings.replan_steps;
  const int workers = std::max(1, std::min<int>(settings.workers, int(todo.size())));
  PolicyBatcher batcher(policy, workers);
  std::atomic<size_t> next_episode{0};
  std::atomic<long> env_steps{0};
  std::atomic<int> finished{0};
  std::mutex print_mutex;
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Progress> progress;
  if (!settings.quiet) {
    ProgressSettings progress_settings;
    progress_settings.live = !settings.verbose && isatty(fileno(stderr));
    progress = std::make_unique<Progress>(int(plan.size()), int(plan.size() - todo.size()), stderr,
                                          progress_settings);
  }

  auto worker = [&](int slot) {
    // The environment of the task at hand, built on this thread (its GL context
    // too). Plans are ordered by task, so a worker meets each task once; the
    // previous task's environment (its mjData is large) is freed first.
    std::unique_ptr<tasks::EpisodeEnv> env;
    std::string env_task;
    long steps = 0;
    std::unique_ptr<EpisodeRecorder> recorder;  // made with each environment
    for (size_t i = next_episode++; i < todo.size(); i = next_episode++) {
      const EpisodeSpec& spec = *todo[i];
      EpisodeResult result;
      long episode_steps = 0;
      try {
        if (!env || env_task != spec.task->key) {
          // The video renderer belongs to the old environment's model.
          recorder.reset();
          if (settings.videos.enabled()) recorder = std::make_unique<EpisodeRecorder>(settings.videos);
          env.reset();
          env_task = spec.task->key;
          env = tasks::make_episode_env(spec.task, env_settings_for(info, settings.render));
        }
        const long steps_before = steps;
        result = run_episode(spec, *env, batcher, slot, info, &steps, recorder.get());
        episode_steps = steps - steps_before;
      } catch (const std::exception& error) {
        // Building this task's environment failed: recorded on the episode.
        result = result_for(spec);
        result.end_reason = "error";
        result.error = error.what();
      }
      store.append(result);
      const int done = ++finished;
      if (progress) progress->episode_done(result.success, episode_steps);
      if (settings.verbose && !settings.quiet) {
        std::lock_guard lock(print_mutex);
        std::fprintf(stderr, "[%d/%zu] %s: %s in %d steps (%.1f s)%s%s\n", done, todo.size(),
                     result.episode_id.c_str(), result.success ? "success" : "failure",
                     result.steps, result.wall_time_s, result.error.empty() ? "" : ": ",
                     result.error.c_str());
      }
    }
    env_steps += steps;
    batcher.worker_done();
  };

  std::vector<std::thread> threads;
  for (int slot = 0; slot < workers; ++slot) threads.emplace_back(worker, slot);
  for (std::thread& thread : threads) thread.join();
  if (progress) progress->finish();

  stats.episodes_run = int(todo.size());
  stats.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.env_steps = env_steps;
  const BatcherStats batch = batcher.stats();
  stats.policy_calls = batch.calls;
  stats.policy_queries = batch.queries;
  stats.max_batch = batch.max_batch;
  return stats;
}

}  // namespace harness
