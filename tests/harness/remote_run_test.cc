// A LIBERO-style run through the openpi client against the project's `serve`
// gives the same episodes as the same policy in-process; a dead server ends
// episodes with "policy_error", the run goes on, and --retry-failed-policy
// re-runs them with the new line superseding the old one.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/batcher.h"
#include "harness/plan.h"
#include "harness/registry.h"
#include "harness/results.h"
#include "harness/runner.h"
#include "harness/serve.h"
#include "policies/remote/probe_policy.h"
#include "policies/remote/remote_policy.h"

namespace {

namespace remote = policies::remote;

constexpr int kMaxSteps = 24;  // policy steps per episode, shortened to keep the test quick

class ServedPolicy {
 public:
  ServedPolicy(policies::Policy& policy, int port) {
    harness::ServeOptions options;
    options.port = port;
    std::promise<int> listening;
    std::future<int> bound = listening.get_future();
    options.on_listening = [&listening](int p) { listening.set_value(p); };
    thread_ = std::thread([this, &policy, options, &listening] {
      try {
        harness::serve(policy, options, &stop_);
      } catch (...) {
        listening.set_exception(std::current_exception());
      }
    });
    port_ = bound.get();
  }
  ~ServedPolicy() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int port_ = 0;
};

// Forwards to a policy and keeps every chunk it returns, in order.
class RecordingPolicy : public policies::Policy {
 public:
  explicit RecordingPolicy(policies::Policy& inner) : inner_(inner) {}
  policies::PolicyInfo info() const override { return inner_.info(); }
  void reset(int slot, uint64_t seed) override { inner_.reset(slot, seed); }
  std::vector<policies::ActionChunk> act(std::span<const policies::PolicyQuery> batch) override {
    std::vector<policies::ActionChunk> chunks = inner_.act(batch);
    std::lock_guard lock(mutex_);
    chunks_.insert(chunks_.end(), chunks.begin(), chunks.end());
    return chunks;
  }
  const std::vector<policies::ActionChunk>& chunks() const { return chunks_; }

 private:
  policies::Policy& inner_;
  std::mutex mutex_;
  std::vector<policies::ActionChunk> chunks_;
};

// Two episodes of libero_spatial task 0 with shortened episodes.
std::vector<harness::EpisodeSpec> short_plan() {
  harness::PlanSettings settings;
  settings.suites = {"libero_spatial"};
  settings.task_ids = {0};
  settings.episodes_per_task = 2;
  std::vector<harness::EpisodeSpec> plan = harness::make_plan(settings);
  auto task = std::make_shared<tasks::TaskDefinition>(*plan.front().task);
  task->protocol.max_steps = kMaxSteps;
  for (harness::EpisodeSpec& spec : plan) spec.task = task;
  return plan;
}

std::string fresh_directory(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("vla_remote_run_" + name);
  std::filesystem::remove_all(path);
  return path.string();
}

harness::RunSettings quiet_settings() {
  harness::RunSettings settings;
  settings.quiet = true;
  return settings;
}

}  // namespace

TEST_CASE("remote run: openpi client against serve gives the in-process episodes, step for step") {
  const std::vector<harness::EpisodeSpec> plan = short_plan();
  remote::ProbePolicy served_probe;
  ServedPolicy server(served_probe, 0);

  remote::ProbePolicy local_probe;
  RecordingPolicy local(local_probe);
  harness::ResultStore local_store(fresh_directory("local"), {});
  harness::run_plan(plan, local, local_store, quiet_settings());

  harness::PolicyOptions options;
  options.family = "libero";
  auto client =
      harness::make_policy("openpi://127.0.0.1:" + std::to_string(server.port()), options);
  RecordingPolicy recorded(*client);
  harness::ResultStore remote_store(fresh_directory("remote"), {});
  const harness::RunStats stats = harness::run_plan(plan, recorded, remote_store, quiet_settings());
  CHECK(stats.episodes_run == 2);

  // Same queries answered with the same chunks (images and proprio arrived bit for bit).
  REQUIRE(local.chunks().size() == recorded.chunks().size());
  CHECK(local.chunks().size() == size_t(2 * ((kMaxSteps + 4) / 5)));
  CHECK(local.chunks() == recorded.chunks());
  const auto local_episodes = local_store.episodes();
  const auto remote_episodes = remote_store.episodes();
  REQUIRE(remote_episodes.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(remote_episodes[i].episode_id == local_episodes[i].episode_id);
    CHECK(remote_episodes[i].end_reason == "max_steps");
    CHECK(remote_episodes[i].end_reason == local_episodes[i].end_reason);
    CHECK(remote_episodes[i].success == local_episodes[i].success);
    CHECK(remote_episodes[i].steps == local_episodes[i].steps);
    CHECK(remote_episodes[i].metrics == local_episodes[i].metrics);
    CHECK(local_episodes[i].timing.empty());
  }

  // Unwrapped, the client's per-episode timing reaches the store.
  harness::ResultStore timed_store(fresh_directory("timed"), {});
  harness::run_plan(plan, *client, timed_store, quiet_settings());
  for (const harness::EpisodeResult& episode : timed_store.episodes()) {
    CHECK(episode.end_reason == "max_steps");
    CHECK(episode.timing.at("requests") == (kMaxSteps + 4) / 5);
    CHECK(episode.timing.at("round_trip_ms_mean") > 0);
    CHECK(episode.timing.at("server_ms_mean") > 0);
    CHECK(episode.timing.at("policy_ms_mean") > 0);
  }
  const harness::ResultStore reread(timed_store.directory(), {});
  CHECK(reread.episodes().at(0).timing.at("requests") == (kMaxSteps + 4) / 5);
}

TEST_CASE("remote run: a dead server records policy_error, the run goes on, retry re-runs them") {
  const std::vector<harness::EpisodeSpec> plan = short_plan();
  remote::ProbePolicy probe;
  auto server = std::make_unique<ServedPolicy>(probe, 0);
  const int port = server->port();
  harness::PolicyOptions options;
  auto client = harness::make_policy("openpi://127.0.0.1:" + std::to_string(port) +
                                         "?connect_attempts=2&backoff=0.05&connect_timeout=2",
                                     options);
  server->stop();

  const std::string directory = fresh_directory("retry");
  {
    harness::ResultStore store(directory, {});
    const harness::RunStats stats = harness::run_plan(plan, *client, store, quiet_settings());
    CHECK(stats.episodes_run == 2);
    for (const harness::EpisodeResult& episode : store.episodes()) {
      CHECK(episode.end_reason == "policy_error");
      CHECK(!episode.success);
      CHECK(episode.steps == 0);
      CHECK(episode.error.find("openpi://127.0.0.1:" + std::to_string(port)) != std::string::npos);
    }
    const auto rows = harness::aggregate(store.episodes());
    CHECK(rows.back().errors == 2);
  }

  // Back up on the same port: a plain resume skips them, --retry-failed-policy re-runs them.
  server = std::make_unique<ServedPolicy>(probe, port);
  harness::ResultStore resumed(directory, {});
  harness::RunStats stats = harness::run_plan(plan, *client, resumed, quiet_settings());
  CHECK(stats.episodes_run == 0);
  CHECK(stats.episodes_skipped == 2);
  harness::RunSettings retry = quiet_settings();
  retry.retry_failed_policy = true;
  stats = harness::run_plan(plan, *client, resumed, retry);
  CHECK(stats.episodes_run == 2);
  CHECK(stats.episodes_retried == 2);
  for (const harness::EpisodeResult& episode : resumed.episodes()) {
    CHECK(episode.end_reason == "max_steps");
    CHECK(episode.steps == kMaxSteps);
  }

  // The file keeps both lines per episode; reading it, the later line wins.
  std::ifstream in(directory + "/episodes.jsonl");
  int lines = 0;
  for (std::string line; std::getline(in, line);)
    lines += line.find("\"episode_id\"") != std::string::npos;
  CHECK(lines == 4);
  const harness::ResultStore reread(directory, {});
  REQUIRE(reread.episodes().size() == 2);
  for (const harness::EpisodeResult& episode : reread.episodes()) {
    CHECK(episode.end_reason == "max_steps");
    CHECK(reread.end_reason(episode.episode_id) == "max_steps");
  }
  CHECK(harness::aggregate(reread.episodes()).back().errors == 0);
  harness::RunStats again = harness::run_plan(plan, *client, resumed, retry);
  CHECK(again.episodes_run == 0);
}

namespace {

// Answers slot 0 and fails slot 1 of every batch, as a remote policy does when
// one of its connections fails.
class HalfFailingPolicy : public policies::Policy {
 public:
  policies::PolicyInfo info() const override { return {}; }
  std::vector<policies::ActionChunk> act(std::span<const policies::PolicyQuery> batch) override {
    std::vector<policies::ActionChunk> chunks(batch.size());
    std::vector<std::string> errors(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].slot == 1) {
        errors[i] = "slot 1: server error: boom";
      } else {
        chunks[i] = {envs::Action{0.5f, 0, 0, 0, 0, 0, -1}};
      }
    }
    if (batch.size() == 1 && batch[0].slot == 1) throw remote::PolicyError(errors[0]);
    if (batch.size() == 1) return chunks;
    throw remote::BatchError(std::move(chunks), std::move(errors));
  }
};

}  // namespace

TEST_CASE("remote run: a batch where one connection failed ends only that query") {
  HalfFailingPolicy policy;
  harness::PolicyBatcher batcher(policy, 2, std::chrono::milliseconds(500));
  envs::Observation observation;
  std::string slot1_error;
  policies::ActionChunk slot0_chunk;
  std::thread other([&] {
    try {
      batcher.query(1, observation);
    } catch (const remote::PolicyError& error) {
      slot1_error = error.what();
    }
  });
  slot0_chunk = batcher.query(0, observation);
  other.join();
  REQUIRE(slot0_chunk.size() == 1);
  CHECK(slot0_chunk[0][0] == 0.5f);
  CHECK(slot1_error == "slot 1: server error: boom");
  CHECK(batcher.stats().max_batch == 2);
}
