// `vla-harness slurm`: runs one evaluation plan as a Slurm array job, one shard
// per array task, and a dependent job that merges the shards.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace harness {

struct SlurmSettings {
  int shards = 0;         // array tasks, each running shard K/N of the plan
  std::string partition;  // --partition; "" for the cluster's default
  std::string time;       // --time limit per job (Slurm format, e.g. 2:00:00); "" for the default
  int cpus_per_task =
      1;  // --cpus-per-task; also the shards' --workers unless the eval arguments set it
  std::string job_name = "vla-harness";  // --job-name; the merge job gets "-merge" appended
  std::string program;                   // absolute path of the vla-harness the jobs run
  std::string working_directory;  // absolute; where the jobs run (relative paths resolve here)
};

struct SlurmScripts {
  std::string out_directory;  // absolute: the merged run; shards in shard-K/, logs in slurm/
  std::string eval_script;    // the sbatch array script
  std::string merge_script;   // the merge job's sbatch script
};

// Writes the scripts for `eval_args` (the arguments of `vla-harness eval`, with or
// without a leading "eval"; they must name --out and must not name --shard).
// Throws std::runtime_error naming the problem for bad settings or arguments.
SlurmScripts make_slurm_scripts(const SlurmSettings& settings,
                                const std::vector<std::string>& eval_args);

struct SlurmJobs {
  std::string array_job;  // job id of the shards' array job
  std::string merge_job;  // job id of the merge job (runs after every shard succeeded)
};

// Saves the scripts under OUT/slurm/ and submits them with `sbatch --parsable`,
// the merge job with --dependency=afterok:<array job>. Throws std::runtime_error
// with sbatch's message if a submission fails.
SlurmJobs submit_slurm(const SlurmScripts& scripts, const std::string& sbatch = "sbatch");

// Adds the `slurm` subcommand: slurm --shards N [--partition P] [--time T]
// [--cpus-per-task C] [--dry-run] -- <eval arguments>.
void add_slurm_command(CLI::App& app);

}  // namespace harness
