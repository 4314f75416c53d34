// Runs a plan: worker threads, each with its own environments and GL context,
// sharing one batched policy; every finished episode goes to the result store.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "envs/env.h"
#include "tasks/episode_env.h"
#include "harness/plan.h"
#include "harness/results.h"
#include "harness/video.h"
#include "policies/policy.h"

namespace harness {

struct RunSettings {
  int workers = 1;                       // threads, each with its own environments
  envs::RenderSettings render;           // image size, shadows, GL backend
  bool quiet = false;                    // no progress output at all
  bool verbose = false;                  // one line per finished episode (progress as plain lines)
  VideoSettings videos;                  // which episodes get an MP4 (none by default)
  int replan_steps = 0;                  // actions executed per chunk; 0: the policy's own
  bool retry_failed_policy = false;      // re-run episodes recorded with end reason "policy_error"
};

struct RunStats {
  int episodes_run = 0;                  // this invocation (resumed ones excluded)
  int episodes_skipped = 0;              // already in the store
  int episodes_retried = 0;              // re-run after a recorded policy_error (in episodes_run)
  double wall_time_s = 0;
  long env_steps = 0;                    // control steps including wait steps
  long policy_calls = 0, policy_queries = 0;
  int max_batch = 0;
};

class PolicyBatcher;

// Runs one episode in `env` (already built for spec.task). Never throws for
// failures inside the episode: they are recorded on the result (end reason
// "policy_error" when a remote policy failed, "error" otherwise). A remote
// policy's timing for the episode goes to result.timing.
// With `recorder`, the episode's video is made if the recorder chooses it.
EpisodeResult run_episode(const EpisodeSpec& spec, tasks::EpisodeEnv& env, PolicyBatcher& batcher,
                          int slot, const policies::PolicyInfo& info, long* env_steps = nullptr,
                          EpisodeRecorder* recorder = nullptr);

// Progress goes to stderr: a live line on a terminal, plain lines otherwise
// (settings.quiet: none); settings.verbose adds a line per episode.
RunStats run_plan(const std::vector<EpisodeSpec>& plan, policies::Policy& policy,
                  ResultStore& store, const RunSettings& settings);

// The environment settings a policy needs (the cameras it reads, at its image size).
envs::EnvSettings env_settings_for(const policies::PolicyInfo& info, envs::RenderSettings render);

}  // namespace harness
