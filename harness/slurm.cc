#include "harness/slurm.h"

#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace harness {

namespace {

// A word for bash, single-quoted unless it is plainly safe.
std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-+=/.,:@%") == std::string::npos) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The #SBATCH lines every job shares.
std::string common_directives(const SlurmSettings& settings) {
  std::string text;
  if (!settings.partition.empty()) text += "#SBATCH --partition=" + settings.partition + "\n";
  if (!settings.time.empty()) text += "#SBATCH --time=" + settings.time + "\n";
  text += "#SBATCH --chdir=" + settings.working_directory + "\n";
  return text;
}

// Runs `argv` and returns its standard output; throws with its output if it fails.
std::string run_capture(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("cannot create a pipe for " + argv[0]);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot fork to run " + argv[0]);
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr,
                 "cannot run %s (is Slurm installed? scripts/setup.sh installs slurm-client)\n",
                 args[0]);
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string output;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof(buffer))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    output.append(buffer, size_t(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string command;
    for (const std::string& arg : argv) {
      if (!command.empty()) command += ' ';
      command += shell_quote(arg);
    }
    throw std::runtime_error(command + " failed: " + output);
  }
  return output;
}

// `sbatch --parsable` prints "JOBID" or "JOBID;CLUSTER".
std::string parse_job_id(const std::string& output) {
  const std::string id = output.substr(0, output.find_first_of(";\n"));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    throw std::runtime_error("sbatch --parsable printed '" + output + "', not a job id");
  }
  return id;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

SlurmScripts make_slurm_scripts(const SlurmSettings& settings,
                                const std::vector<std::string>& eval_args) {
  namespace fs = std::filesystem;
  if (settings.shards < 1) throw std::runtime_error("slurm --shards must be at least 1");
  if (settings.cpus_per_task < 1)
    throw std::runtime_error("slurm --cpus-per-task must be at least 1");
  if (settings.program.empty() || settings.working_directory.empty()) {
    throw std::runtime_error("slurm: the program path and working directory must be set");
  }
  // The eval arguments: --out is taken out (each shard gets its own), --shard is ours.
  std::vector<std::string> args(eval_args.begin(), eval_args.end());
  if (!args.empty() && args.front() == "eval") args.erase(args.begin());
  std::string out;
  bool has_workers = false;
  std::vector<std::string> kept;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--shard" || arg.rfind("--shard=", 0) == 0) {
      throw std::runtime_error(
          "slurm: the eval arguments must not name --shard; --shards N sets it per array task");
    }
    if (arg == "--processes" || arg.rfind("--processes=", 0) == 0) {
      throw std::runtime_error(
          "slurm: the eval arguments must not name --processes; each array task is one shard "
          "(give it more cores with --cpus-per-task and --workers)");
    }
    if (arg == "--out") {
      if (i + 1 >= args.size())
        throw std::runtime_error("slurm: --out in the eval arguments needs a directory");
      out = args[++i];
      continue;
    }
    if (arg.rfind("--out=", 0) == 0) {
      out = arg.substr(6);
      continue;
    }
    if (arg == "--workers" || arg.rfind("--workers=", 0) == 0) has_workers = true;
    kept.push_back(arg);
  }
  if (out.empty()) {
    throw std::runtime_error(
        "slurm: the eval arguments need --out DIR (the merged run; shards go to DIR/shard-K)");
  }
  SlurmScripts scripts;
  const fs::path out_path =
      fs::path(out).is_absolute() ? fs::path(out) : fs::path(settings.working_directory) / out;
  scripts.out_directory = out_path.lexically_normal().string();
  if (scripts.out_directory.size() > 1 && scripts.out_directory.back() == '/')
    scripts.out_directory.pop_back();
  const std::string count = std::to_string(settings.shards);
  const std::string program = shell_quote(settings.program);
  const std::string out_quoted = shell_quote(scripts.out_directory);

  std::string eval = "#!/bin/bash\n";
  eval += "# vla-harness: one shard of the plan per array task; the merge job joins them.\n";
  eval += "#SBATCH --job-name=" + settings.job_name + "\n";
  eval += "#SBATCH --array=0-" + std::to_string(settings.shards - 1) + "\n";
  eval += "#SBATCH --cpus-per-task=" + std::to_string(settings.cpus_per_task) + "\n";
  eval += common_directives(settings);
  eval += "#SBATCH --output=" + scripts.out_directory + "/slurm/shard-%a.out\n";
  eval += "set -euo pipefail\n";
  eval += "exec " + program + " eval";
  for (const std::string& arg : kept) eval += " " + shell_quote(arg);
  if (!has_workers) eval += " --workers " + std::to_string(settings.cpus_per_task);
  eval += " --quiet --shard \"${SLURM_ARRAY_TASK_ID}/" + count + "\" --out " + out_quoted +
          "/shard-\"${SLURM_ARRAY_TASK_ID}\"\n";
  scripts.eval_script = eval;

  std::string merge = "#!/bin/bash\n";
  merge += "# vla-harness: joins the shards of the array job into one run (submitted with\n";
  merge += "# --dependency=afterok:<array job>).\n";
  merge += "#SBATCH --job-name=" + settings.job_name + "-merge\n";
  merge += "#SBATCH --cpus-per-task=1\n";
  merge += common_directives(settings);
  merge += "#SBATCH --output=" + scripts.out_directory + "/slurm/merge.out\n";
  merge += "set -euo pipefail\n";
  merge += "exec " + program + " merge";
  for (int k = 0; k < settings.shards; ++k)
    merge += " " + out_quoted + "/shard-" + std::to_string(k);
  merge += " --out " + out_quoted + "\n";
  scripts.merge_script = merge;
  return scripts;
}

SlurmJobs submit_slurm(const SlurmScripts& scripts, const std::string& sbatch) {
  namespace fs = std::filesystem;
  const std::string directory = scripts.out_directory + "/slurm";
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) throw std::runtime_error("cannot create " + directory + ": " + error.message());
  const std::string eval_path = directory + "/eval.sbatch",
                    merge_path = directory + "/merge.sbatch";
  write_file(eval_path, scripts.eval_script);
  write_file(merge_path, scripts.merge_script);
  SlurmJobs jobs;
  jobs.array_job = parse_job_id(run_capture({sbatch, "--parsable", eval_path}));
  jobs.merge_job = parse_job_id(
      run_capture({sbatch, "--parsable", "--dependency=afterok:" + jobs.array_job, merge_path}));
  write_file(directory + "/jobs.json", "{\"array_job\": \"" + jobs.array_job +
                                           "\", \"merge_job\": \"" + jobs.merge_job + "\"}\n");
  return jobs;
}

void add_slurm_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "slurm", "Run an eval as a Slurm array job (one shard per task) and a dependent merge job");
  auto settings = std::make_shared<SlurmSettings>();
  auto dry_run = std::make_shared<bool>(false);
  auto sbatch = std::make_shared<std::string>("sbatch");
  auto eval_args = std::make_shared<std::vector<std::string>>();
  command->add_option("--shards", settings->shards, "Shards, one per array task")
      ->required()
      ->check(CLI::PositiveNumber);
  command->add_option("--partition", settings->partition,
                      "Slurm partition (default: the cluster's)");
  command->add_option("--time", settings->time, "Time limit per job, Slurm format (e.g. 2:00:00)");
  command
      ->add_option("--cpus-per-task", settings->cpus_per_task,
                   "CPUs per shard; the shards' --workers unless the eval arguments set it")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command->add_option("--job-name", settings->job_name, "Slurm job name")->capture_default_str();
  command->add_option("--sbatch", *sbatch, "sbatch program")->capture_default_str();
  command->add_flag("--dry-run", *dry_run, "Print the scripts; submit nothing");
  command
      ->add_option("eval_args", *eval_args,
                   "-- then the arguments of vla-harness eval (with --out DIR)")
      ->required();
  command->callback([settings, dry_run, sbatch, eval_args] {
    SlurmSettings run = *settings;
    run.program = std::filesystem::read_symlink("/proc/self/exe").string();
    run.working_directory = std::filesystem::current_path().string();
    const SlurmScripts scripts = make_slurm_scripts(run, *eval_args);
    if (*dry_run) {
      std::printf("# %s/slurm/eval.sbatch (submit: %s --parsable eval.sbatch)\n%s\n",
                  scripts.out_directory.c_str(), sbatch->c_str(), scripts.eval_script.c_str());
      std::printf(
          "# %s/slurm/merge.sbatch (submit: %s --parsable --dependency=afterok:<array job> "
          "merge.sbatch)\n%s",
          scripts.out_directory.c_str(), sbatch->c_str(), scripts.merge_script.c_str());
      return;
    }
    const SlurmJobs jobs = submit_slurm(scripts, *sbatch);
    std::printf(
        "submitted array job %s (%d shards) and merge job %s (after every shard succeeds)\n",
        jobs.array_job.c_str(), run.shards, jobs.merge_job.c_str());
    std::printf("results: %s/episodes.jsonl; shards: %s/shard-K; logs: %s/slurm/\n",
                scripts.out_directory.c_str(), scripts.out_directory.c_str(),
                scripts.out_directory.c_str());
    std::printf("array_job=%s merge_job=%s\n", jobs.array_job.c_str(), jobs.merge_job.c_str());
  });
}

}  // namespace harness
