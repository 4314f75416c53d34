// vla-harness slurm on a real single-node Slurm cluster: munge, slurmctld and
// slurmd started here (as root, state in a temporary directory), a 4-shard sweep
// submitted as an array job with a dependent merge job, the merged run compared
// with an unsharded one, the daemons torn down.
#include "harness/slurm.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

struct Output {
  int status;
  std::string text;
};

Output shell(const std::string& command) {
  const test_util::CommandOutput output = test_util::run_command(command + " 2>&1");
  return {output.status, output.text};
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A TCP port nobody listens on right now.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Episode id -> the line without its timing fields.
std::map<std::string, std::string> without_timing(const std::string& directory) {
  std::map<std::string, std::string> episodes;
  std::ifstream in(directory + "/episodes.jsonl");
  for (std::string line; std::getline(in, line);) {
    REQUIRE(nlohmann::json::accept(line));
    nlohmann::json json = nlohmann::json::parse(line);
    if (json.contains("context")) continue;
    json.erase("wall_time_s");
    json.erase("timing");
    CHECK(episodes.emplace(json.at("episode_id").get<std::string>(), json.dump()).second);
  }
  return episodes;
}

// Stops a daemon by the PID in its pid file and waits until it has exited
// (daemons remove their pid files before they finish exiting).
void stop_daemon(const std::string& pid_file) {
  const std::string text = read_text(pid_file);
  const pid_t pid = text.empty() ? 0 : std::atoi(text.c_str());
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (kill(pid, 0) == 0) kill(pid, SIGKILL);
}

// munged, slurmctld and slurmd for the duration of a test; torn down on destruction.
class SlurmCluster {
 public:
  explicit SlurmCluster(const std::string& directory) : directory_(directory) {
    const char* programs[] = {"/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd",
                              "/usr/bin/sbatch",  "/usr/bin/squeue",     "/usr/bin/sinfo"};
    for (const char* program : programs) {
      INFO(program << " is missing: scripts/setup.sh installs the Slurm packages "
                      "(slurmctld slurmd slurm-client munge)");
      REQUIRE(fs::exists(program));
    }
    fs::remove_all(directory_);
    fs::create_directories(directory_ + "/state");
    fs::create_directories(directory_ + "/spool");
    // munge: reuse a running munged, else start one as the munge user.
    if (shell("munge -n | unmunge").status != 0) {
      REQUIRE(shell("mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge")
                  .status == 0);
      const Output started = shell("runuser -u munge -- /usr/sbin/munged");
      INFO(started.text);
      REQUIRE(started.status == 0);
      started_munge_ = true;
      bool ready = false;
      for (int i = 0; i < 50 && !ready; ++i) {
        ready = shell("munge -n | unmunge").status == 0;
        if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      REQUIRE(ready);
    }
    // The configuration essentials (see PROTOCOLS.md), on free ports.
    const std::string host =
        shell("hostname -s").text.substr(0, shell("hostname -s").text.find('\n'));
    long memory_kb = 0;
    std::ifstream meminfo("/proc/meminfo");
    for (std::string key; meminfo >> key;) {
      if (key == "MemTotal:") {
        meminfo >> memory_kb;
        break;
      }
    }
    const long memory_mb = std::max(256L, memory_kb / 1024 - 1024);
    const std::string conf = directory_ + "/slurm.conf";
    std::ofstream out(conf);
    out << "ClusterName=vlatest\n"
        << "SlurmctldHost=" << host << "(127.0.0.1)\n"
        << "SlurmctldPort=" << free_port() << "\n"
        << "SlurmdPort=" << free_port() << "\n"
        << "SlurmUser=root\nAuthType=auth/munge\n"
        << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
        << "JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n"
        << "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nReturnToService=2\n"
        << "StateSaveLocation=" << directory_ << "/state\n"
        << "SlurmdSpoolDir=" << directory_ << "/spool\n"
        << "SlurmctldPidFile=" << directory_ << "/slurmctld.pid\n"
        << "SlurmdPidFile=" << directory_ << "/slurmd.pid\n"
        << "SlurmctldLogFile=" << directory_ << "/slurmctld.log\n"
        << "SlurmdLogFile=" << directory_ << "/slurmd.log\n"
        << "NodeName=" << host << " NodeAddr=127.0.0.1 CPUs=" << std::thread::hardware_concurrency()
        << " RealMemory=" << memory_mb << " State=UNKNOWN\n"
        << "PartitionName=debug Nodes=" << host << " Default=YES MaxTime=INFINITE State=UP\n";
    out.close();
    setenv("SLURM_CONF", conf.c_str(), 1);
    started_daemons_ = true;
    Output started = shell("/usr/sbin/slurmctld -i");
    INFO(started.text << read_text(directory_ + "/slurmctld.log"));
    REQUIRE(started.status == 0);
    started = shell("/usr/sbin/slurmd");
    INFO(started.text << read_text(directory_ + "/slurmd.log"));
    REQUIRE(started.status == 0);
    std::string state;
    for (int i = 0; i < 100 && state != "idle"; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      state = shell("sinfo -h -o %T").text;
      state = state.substr(0, state.find('\n'));
    }
    INFO("node state " << state << "\n" << read_text(directory_ + "/slurmd.log"));
    REQUIRE(state == "idle");
  }

  ~SlurmCluster() {
    if (started_daemons_) {
      shell("scancel --user=root");
      stop_daemon(directory_ + "/slurmd.pid");
      stop_daemon(directory_ + "/slurmctld.pid");
    }
    if (started_munge_) stop_daemon("/run/munge/munged.pid");
    unsetenv("SLURM_CONF");
  }

  // Waits until the jobs have left the queue; false on timeout.
  bool wait_for(const std::string& jobs, int timeout_s) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      const Output queue = shell("squeue -h -j " + jobs);
      if (queue.status == 0 && queue.text.find_first_not_of(" \n") == std::string::npos)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }

  std::string logs() const {
    return read_text(directory_ + "/slurmctld.log") + read_text(directory_ + "/slurmd.log");
  }

 private:
  std::string directory_;
  bool started_munge_ = false, started_daemons_ = false;
};

const std::string kPlan =
    "--suite libero_spatial,bridge --tasks 0,1 --episodes-per-task 2 --policy scripted";

}  // namespace

TEST_CASE("slurm: the scripts run each shard as an array task and merge after them") {
  harness::SlurmSettings settings;
  settings.shards = 4;
  settings.partition = "debug";
  settings.time = "1:00:00";
  settings.cpus_per_task = 2;
  settings.program = "/opt/vla harness/vla-harness";
  settings.working_directory = "/work";
  const harness::SlurmScripts scripts = harness::make_slurm_scripts(
      settings, {"eval", "--suite", "bridge", "--out", "runs/x", "--policy", "scripted"});
  CHECK(scripts.out_directory == "/work/runs/x");
  const std::string& eval = scripts.eval_script;
  CHECK(eval.find("#SBATCH --array=0-3\n") != std::string::npos);
  CHECK(eval.find("#SBATCH --partition=debug\n") != std::string::npos);
  CHECK(eval.find("#SBATCH --time=1:00:00\n") != std::string::npos);
  CHECK(eval.find("#SBATCH --cpus-per-task=2\n") != std::string::npos);
  CHECK(eval.find("#SBATCH --chdir=/work\n") != std::string::npos);
  CHECK(eval.find("exec '/opt/vla harness/vla-harness' eval --suite bridge --policy scripted "
                  "--workers 2 --quiet "
                  "--shard \"${SLURM_ARRAY_TASK_ID}/4\" --out "
                  "/work/runs/x/shard-\"${SLURM_ARRAY_TASK_ID}\"\n") != std::string::npos);
  CHECK(scripts.merge_script.find(
            "merge /work/runs/x/shard-0 /work/runs/x/shard-1 /work/runs/x/shard-2 "
            "/work/runs/x/shard-3 --out /work/runs/x\n") != std::string::npos);
  CHECK_THROWS_WITH_AS(harness::make_slurm_scripts(settings, {"--suite", "bridge"}),
                       doctest::Contains("need --out DIR"), std::runtime_error);
  CHECK_THROWS_WITH_AS(harness::make_slurm_scripts(settings, {"--out", "x", "--shard", "0/2"}),
                       doctest::Contains("must not name --shard"), std::runtime_error);
  CHECK_THROWS_WITH_AS(harness::make_slurm_scripts(settings, {"--out", "x", "--processes", "2"}),
                       doctest::Contains("must not name --processes"), std::runtime_error);

  // --dry-run prints both scripts and submits nothing.
  const Output dry = shell(
      std::string(VLA_BINARY) +
      " slurm --shards 2 --dry-run --sbatch /bin/false -- eval --suite bridge --out /tmp/vla_dry");
  CHECK(dry.status == 0);
  CHECK(dry.text.find("#SBATCH --array=0-1") != std::string::npos);
  CHECK(dry.text.find("merge /tmp/vla_dry/shard-0 /tmp/vla_dry/shard-1 --out /tmp/vla_dry") !=
        std::string::npos);
  CHECK_FALSE(fs::exists("/tmp/vla_dry"));
}

TEST_CASE("slurm: a 4-shard sweep on a real single-node cluster equals an unsharded run" *
          doctest::skip(geteuid() != 0)) {
  const std::string root = (fs::temp_directory_path() / "vla_harness_slurm_test").string();
  fs::remove_all(root);
  SlurmCluster cluster(root + "/cluster");
  const std::string sweep = root + "/sweep", unsharded = root + "/unsharded";

  const Output submitted =
      shell(std::string(VLA_BINARY) + " slurm --shards 4 --cpus-per-task 1 -- eval " + kPlan +
            " --out " + sweep);
  INFO(submitted.text);
  REQUIRE(submitted.status == 0);
  std::smatch match;
  REQUIRE(
      std::regex_search(submitted.text, match, std::regex("array_job=(\\d+) merge_job=(\\d+)")));
  const std::string array_job = match[1], merge_job = match[2];

  // Meanwhile, the same plan unsharded.
  const Output reference =
      shell(std::string(VLA_BINARY) + " eval " + kPlan + " --quiet --workers 1 --out " + unsharded);
  INFO(reference.text);
  REQUIRE(reference.status == 0);

  const bool finished = cluster.wait_for(array_job + "," + merge_job, 600);
  std::string logs;
  for (const std::string name : {"shard-0", "shard-1", "shard-2", "shard-3", "merge"}) {
    logs += "== " + name + "\n" + read_text(sweep + "/slurm/" + name + ".out");
  }
  INFO(logs);
  REQUIRE(finished);
  REQUIRE(fs::exists(sweep + "/summary.json"));
  const auto merged = without_timing(sweep), expected = without_timing(unsharded);
  CHECK(merged.size() == 8);
  CHECK(merged == expected);
  for (int k = 0; k < 4; ++k)
    CHECK(without_timing(sweep + "/shard-" + std::to_string(k)).size() == 2);
  const auto summary = nlohmann::json::parse(std::ifstream(sweep + "/summary.json"));
  const auto reference_summary = nlohmann::json::parse(std::ifstream(unsharded + "/summary.json"));
  CHECK(summary["suites"] == reference_summary["suites"]);
  CHECK(summary["context"]["plan"]["plan_id"] == reference_summary["context"]["plan"]["plan_id"]);
  CHECK(summary["context"]["missing_episodes"] == 0);
}
