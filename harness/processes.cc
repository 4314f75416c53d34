#include "harness/processes.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/progress.h"
#include "harness/results.h"
#include "harness/subprocess.h"

namespace harness {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_signal = 0;
void remember_signal(int signal) { g_signal = signal; }

// Reads the lines appended to one shard's episodes.jsonl since the last call;
// a torn last line waits for its end.
class ShardWatcher {
 public:
  explicit ShardWatcher(std::string path) : path_(std::move(path)) {}

  // Calls `on_episode` for each complete new episode line.
  template <typename F>
  void poll(F&& on_episode) {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return;
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size <= offset_) return;
    in.seekg(offset_);
    std::string chunk(size_t(size - offset_), '\0');
    in.read(chunk.data(), std::streamsize(chunk.size()));
    const size_t end = chunk.rfind('\n');
    if (end == std::string::npos) return;
    offset_ += std::streamoff(end + 1);
    size_t start = 0;
    while (start <= end) {
      const size_t stop = chunk.find('\n', start);
      const std::string line = chunk.substr(start, stop - start);
      start = stop + 1;
      const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
      if (record.is_object() && record.contains("episode_id")) {
        on_episode(record.value("episode_id", ""), record.value("success", false),
                   record.value("steps", 0));
      }
    }
  }

 private:
  std::string path_;
  std::streamoff offset_ = 0;
};

std::string last_lines(const std::string& path, size_t count) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > count) lines.erase(lines.begin());
  }
  std::string text;
  for (const std::string& line : lines) text += "    " + line + "\n";
  return text;
}

}  // namespace

std::string shard_directory(const std::string& out_directory, int k, int processes) {
  return (fs::path(out_directory) / "shards" / (std::to_string(k) + "-of-" + std::to_string(processes)))
      .string();
}

std::vector<std::string> without_options(const std::vector<std::string>& args,
                                         const std::set<std::string>& with_value,
                                         const std::set<std::string>& flags) {
  std::vector<std::string> kept;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags.count(arg)) continue;
    if (with_value.count(arg)) {
      ++i;  // and its value
      continue;
    }
    const size_t equals = arg.find('=');
    if (equals != std::string::npos && with_value.count(arg.substr(0, equals))) continue;
    kept.push_back(arg);
  }
  return kept;
}

ProcessRunResult run_in_processes(const std::vector<EpisodeSpec>& plan,
                                  const ProcessRunSettings& settings) {
  if (settings.processes < 1) throw std::runtime_error("--processes must be at least 1");
  const int processes = settings.processes;
  // A run made in this directory without --processes is resumed that way;
  // merging shards over it would replace its episodes.
  const fs::path merged_file = fs::path(settings.out_directory) / "episodes.jsonl";
  if (fs::exists(merged_file) && fs::file_size(merged_file) > 0) {
    const RecordedRun existing = read_run(settings.out_directory);
    if (!existing.context.is_object() || !existing.context.contains("merged_from")) {
      throw std::runtime_error("--out " + settings.out_directory +
                               " holds a run made without --processes; resume it the same way, "
                               "or choose another --out");
    }
  }

  std::map<std::string, int> wait_steps;  // by episode id
  for (const EpisodeSpec& spec : plan) wait_steps[spec.episode_id] = spec.task->protocol.wait_steps;

  std::vector<std::string> directories;
  std::vector<ShardWatcher> watchers;
  int already_done = 0;
  for (int k = 0; k < processes; ++k) {
    directories.push_back(shard_directory(settings.out_directory, k, processes));
    fs::create_directories(directories.back());
    watchers.emplace_back((fs::path(directories.back()) / "episodes.jsonl").string());
    watchers.back().poll([&](const std::string&, bool, int) { ++already_done; });
  }

  ProcessRunResult result;
  result.episodes_skipped = already_done;
  std::unique_ptr<Progress> progress;
  if (!settings.quiet) {
    ProgressSettings progress_settings;
    progress_settings.live = isatty(fileno(stderr));
    progress = std::make_unique<Progress>(int(plan.size()), already_done, stderr, progress_settings);
  }
  auto on_episode = [&](const std::string& id, bool success, int steps) {
    auto it = wait_steps.find(id);
    const long observations = steps + (it == wait_steps.end() ? 0 : it->second);
    ++result.episodes_run;
    result.observations += observations;
    if (progress) progress->episode_done(success, observations);
  };

  // Start every process, its output into its shard's eval.log.
  g_signal = 0;
  struct sigaction action {}, old_int {}, old_term {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  const auto start = std::chrono::steady_clock::now();
  std::vector<pid_t> pids(processes, -1);
  std::vector<int> statuses(processes, 0);
  std::string start_error;
  for (int k = 0; k < processes && start_error.empty(); ++k) {
    std::vector<std::string> args = {settings.program, "eval"};
    args.insert(args.end(), settings.eval_args.begin(), settings.eval_args.end());
    args.insert(args.end(), {"--out", directories[k], "--shard",
                             std::to_string(k) + "/" + std::to_string(processes), "--quiet"});
    const std::string log = (fs::path(directories[k]) / "eval.log").string();
    const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      start_error = "cannot open " + log + ": " + std::strerror(errno);
      break;
    }
    try {
      pids[k] = spawn_process(args, -1, log_fd, log_fd);
    } catch (const std::runtime_error& error) {
      start_error = error.what();
    }
    close(log_fd);
  }
  if (!start_error.empty()) g_signal = SIGTERM;  // stop the ones started

  // Watch until every process has ended.
  int running = 0;
  for (pid_t pid : pids) running += pid > 0;
  bool forwarded = false;
  while (running > 0) {
    if (g_signal != 0 && !forwarded) {
      for (pid_t pid : pids) {
        if (pid > 0) kill(pid, g_signal);
      }
      forwarded = true;
    }
    for (int k = 0; k < processes; ++k) {
      if (pids[k] <= 0) continue;
      const pid_t ended = waitpid(pids[k], &statuses[k], WNOHANG);
      if (ended == pids[k]) {
        pids[k] = 0;  // ended; statuses[k] holds how
        --running;
      }
    }
    for (ShardWatcher& watcher : watchers) watcher.poll(on_episode);
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (ShardWatcher& watcher : watchers) watcher.poll(on_episode);
  result.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) progress->finish();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (!start_error.empty()) throw std::runtime_error("--processes: " + start_error);

  for (int k = 0; k < processes; ++k) {
    const int status = statuses[k];
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    const std::string log = (fs::path(directories[k]) / "eval.log").string();
    char line[256];
    std::snprintf(line, sizeof(line), "process %d (shard %d/%d) %s %d; its log, %s, ends:\n", k, k,
                  processes, WIFEXITED(status) ? "exited with status" : "was killed by signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log.c_str());
    result.failures.push_back(line + last_lines(log, 5));
  }

  // Merge what the shards hold (all of it on success; gaps otherwise).
  std::vector<std::string> inputs;
  for (const std::string& directory : directories) {
    const fs::path file = fs::path(directory) / "episodes.jsonl";
    if (fs::exists(file) && fs::file_size(file) > 0) inputs.push_back(directory);
  }
  if (inputs.empty()) {
    std::string why;
    for (const std::string& failure : result.failures) why += failure;
    throw std::runtime_error("--processes: no process recorded anything\n" + why);
  }
  try {
    result.merge = merge_runs(inputs, settings.out_directory, settings.command_line);
  } catch (const std::exception& error) {
    std::string why;
    for (const std::string& failure : result.failures) why += "\n" + failure;
    throw std::runtime_error(error.what() + why);
  }
  return result;
}

}  // namespace harness
