// What the remote-policy clients share: endpoint URLs, connection settings
// (timeouts, reconnect with backoff), the errors that end an episode with
// "policy_error", and per-episode timing (client round trip, server-reported).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/policy.h"
#include "policies/remote/profile.h"

namespace policies::remote {

// The remote side failed: a server error reply, a dead or unreachable server, a
// timeout, or a reply of the wrong shape or with NaN. The harness records it as
// end reason "policy_error" and goes on with the next episode.
class PolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Some queries of a batch failed: `chunks[i]` holds the chunk of query i when
// `errors[i]` is empty. Lets the harness end only the failed episodes.
class BatchError : public PolicyError {
 public:
  BatchError(std::vector<ActionChunk> chunks, std::vector<std::string> errors);
  std::vector<ActionChunk> chunks;
  std::vector<std::string> errors;
};

// "SCHEME://HOST:PORT[?key=value&...]".
struct Endpoint {
  std::string scheme;                         // "openpi" or "gr00t"
  std::string host;                           // name or address; [v6] brackets removed
  int port = 0;                               // 1..65535
  std::map<std::string, std::string> params;  // query parameters, percent-decoded
};

// Throws std::runtime_error naming the URL and the problem.
Endpoint parse_endpoint(const std::string& url);

struct ConnectionSettings {
  double connect_timeout_s = 10;   // one connection attempt (connect, handshake, first reply), s
  double request_timeout_s = 120;  // one request until its reply, s
  int connect_attempts = 3;        // tries per connection before the query fails
  double backoff_s = 0.5;          // wait before the second try; doubles per try, s
  double backoff_max_s = 8;        // longest wait between tries, s
};

// What every remote policy URL may carry besides the protocol's own keys:
// profile=NAME|PATH, replan_steps=N, timeout=S, connect_timeout=S,
// connect_attempts=N, backoff=S. Unknown keys (outside `protocol_keys` too)
// throw std::runtime_error listing the valid ones.
struct RemoteOptions {
  std::string profile;   // empty: PROTOCOL_FAMILY
  int replan_steps = 0;  // 0: the profile's
  ConnectionSettings connection;
};
RemoteOptions parse_remote_options(const Endpoint& endpoint,
                                   const std::vector<std::string>& protocol_keys);

// Per-episode timing of one slot (reset by Policy::reset).
struct EpisodeTiming {
  int requests = 0;
  double round_trip_ms_total = 0, round_trip_ms_max = 0;  // client: request sent to reply read
  int server_reports = 0;
  double server_ms_total = 0;  // server-reported time per request (openpi server_timing.infer_ms)
  int policy_reports = 0;
  double policy_ms_total = 0;  // server-reported model time (openpi policy_timing.infer_ms)
  int reconnects = 0;          // connections made after the first one of the episode
};

// Base of the remote clients: profile, options and per-slot timing.
class RemotePolicy : public Policy {
 public:
  RemotePolicy(Profile profile, RemoteOptions options, std::string url);

  PolicyInfo info() const override;
  void reset(int slot, uint64_t seed) override;  // clears the slot's timing

  // The slot's timing since its last reset as named numbers for the result
  // store ("requests", "round_trip_ms_mean", "round_trip_ms_max",
  // "server_ms_mean", "policy_ms_mean", "reconnects"); server entries only when
  // the server reported them.
  std::map<std::string, double> episode_timing(int slot) const;
  const Profile& profile() const { return profile_; }
  const RemoteOptions& options() const { return options_; }

 protected:
  void record_request(int slot, double round_trip_ms, std::optional<double> server_ms,
                      std::optional<double> policy_ms);
  void record_reconnect(int slot);
  // Waits before connection attempt `attempt` (1-based; none before the first).
  void backoff(int attempt) const;
  // The error of a batch: the single message, or a BatchError.
  [[noreturn]] static void throw_batch_error(std::vector<ActionChunk> chunks,
                                             std::vector<std::string> errors);

  Profile profile_;
  RemoteOptions options_;
  std::string url_;  // without parameters, for messages

 private:
  mutable std::mutex timing_mutex_;
  std::map<int, EpisodeTiming> timing_;
};

// Builds an "openpi://..." or "gr00t://..." policy; `family` picks the default
// profile (PROTOCOL_FAMILY) unless the URL names one; `replan_steps` > 0
// overrides the profile's. Throws std::runtime_error for a bad URL or profile,
// or when the server cannot be reached.
std::unique_ptr<Policy> make_remote_policy(const std::string& url, const std::string& family,
                                           int replan_steps);

// Whether `spec` names a remote policy (openpi:// or gr00t://).
bool is_remote_spec(const std::string& spec);

}  // namespace policies::remote
