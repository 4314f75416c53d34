// `eval --processes P`: one plan run as P shard processes of this program
// (`eval --shard K/P --out OUT/shards/K-of-P`), watched for progress and
// merged into OUT when they end. Each process has its own GL driver state:
// software rendering (Mesa's llvmpipe) serializes the frames of every GL
// context of one process on one rasterizer, so on a CPU machine processes
// scale where the worker threads of one process do not.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "harness/merge.h"
#include "harness/plan.h"

namespace harness {

struct ProcessRunSettings {
  std::string program;                 // the vla-harness binary the processes run
  std::vector<std::string> eval_args;  // eval's arguments, without --processes, --out, --shard
  int processes = 2;
  std::string out_directory;           // merged run; the shards live in OUT/shards/
  std::string command_line;            // recorded in the merged run's context
  bool quiet = false;                  // no progress output
};

struct ProcessRunResult {
  MergeReport merge;              // the merged run (its rows and gaps)
  std::vector<std::string> failures;  // one line per process that did not exit 0
  int episodes_run = 0;           // finished during this run
  int episodes_skipped = 0;       // recorded before it
  long observations = 0;          // environment steps of the episodes run
  double wall_time_s = 0;
};

// The directory of shard `k` of `processes` under `out_directory`.
std::string shard_directory(const std::string& out_directory, int k, int processes);

// Runs `plan` (unsharded) as `settings.processes` processes and merges their
// runs into settings.out_directory, also when some failed (the merge then
// reports gaps; a rerun of the same command resumes every shard). SIGINT and
// SIGTERM are passed on to the processes. Throws std::runtime_error when OUT
// holds a run made without --processes, or a process cannot be started.
ProcessRunResult run_in_processes(const std::vector<EpisodeSpec>& plan,
                                  const ProcessRunSettings& settings);

// `args` without the options named in `with_value` (and their values, given
// as "--name value" or "--name=value") and the flags named in `flags`.
std::vector<std::string> without_options(const std::vector<std::string>& args,
                                         const std::set<std::string>& with_value,
                                         const std::set<std::string>& flags);

}  // namespace harness
