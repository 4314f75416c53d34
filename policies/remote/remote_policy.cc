#include "policies/remote/remote_policy.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <thread>

#include "policies/remote/gr00t_client.h"
#include "policies/remote/openpi_client.h"

namespace policies::remote {
namespace {

std::string percent_decode(const std::string& text, const std::string& url) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        throw std::runtime_error("remote policy URL '" + url + "': bad percent escape");
      }
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

double parse_seconds(const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    const double seconds = std::stod(value, &used);
    if (used == value.size() && std::isfinite(seconds) && seconds > 0) return seconds;
  } catch (const std::exception&) {
  }
  throw std::runtime_error("remote policy URL: " + key +
                           " must be a positive number of seconds, got '" + value + "'");
}

int parse_count(const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    const int count = std::stoi(value, &used);
    if (used == value.size() && count >= 1) return count;
  } catch (const std::exception&) {
  }
  throw std::runtime_error("remote policy URL: " + key + " must be a positive integer, got '" +
                           value + "'");
}

}  // namespace

BatchError::BatchError(std::vector<ActionChunk> chunks_in, std::vector<std::string> errors_in)
    : PolicyError([&] {
        std::string message;
        int failed = 0;
        for (const std::string& error : errors_in) {
          if (error.empty()) continue;
          if (++failed == 1) message = error;
        }
        return std::to_string(failed) + " of " + std::to_string(errors_in.size()) +
               " queries failed; first: " + message;
      }()),
      chunks(std::move(chunks_in)),
      errors(std::move(errors_in)) {}

Endpoint parse_endpoint(const std::string& url) {
  Endpoint endpoint;
  const auto fail = [&](const std::string& problem) {
    throw std::runtime_error("remote policy URL '" + url + "': " + problem +
                             " (expected SCHEME://HOST:PORT[?key=value&...])");
  };
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0) fail("no scheme");
  endpoint.scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  std::string query;
  if (const size_t question = rest.find('?'); question != std::string::npos) {
    query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t colon;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos) fail("unterminated [IPv6] host");
    endpoint.host = rest.substr(1, close - 1);
    colon = close + 1;
    if (colon >= rest.size() || rest[colon] != ':') fail("no port");
  } else {
    colon = rest.rfind(':');
    if (colon == std::string::npos) fail("no port");
    endpoint.host = rest.substr(0, colon);
  }
  if (endpoint.host.empty()) fail("no host");
  const std::string port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
      std::stoi(port) > 65535) {
    fail("port must be a number in 1..65535, got '" + port + "'");
  }
  endpoint.port = std::stoi(port);
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string item = query.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    const size_t equals = item.find('=');
    if (equals == std::string::npos || equals == 0)
      fail("parameter '" + item + "' is not key=value");
    endpoint.params[percent_decode(item.substr(0, equals), url)] =
        percent_decode(item.substr(equals + 1), url);
  }
  return endpoint;
}

RemoteOptions parse_remote_options(const Endpoint& endpoint,
                                   const std::vector<std::string>& protocol_keys) {
  RemoteOptions options;
  for (const auto& [key, value] : endpoint.params) {
    if (key == "profile") {
      options.profile = value;
    } else if (key == "replan_steps") {
      options.replan_steps = parse_count(key, value);
    } else if (key == "timeout") {
      options.connection.request_timeout_s = parse_seconds(key, value);
    } else if (key == "connect_timeout") {
      options.connection.connect_timeout_s = parse_seconds(key, value);
    } else if (key == "connect_attempts") {
      options.connection.connect_attempts = parse_count(key, value);
    } else if (key == "backoff") {
      options.connection.backoff_s = parse_seconds(key, value);
    } else if (std::find(protocol_keys.begin(), protocol_keys.end(), key) == protocol_keys.end()) {
      std::string valid =
          "profile, replan_steps, timeout, connect_timeout, connect_attempts, backoff";
      for (const std::string& own : protocol_keys) valid += ", " + own;
      throw std::runtime_error("remote policy URL: unknown parameter '" + key +
                               "' (valid: " + valid + ")");
    }
  }
  return options;
}

RemotePolicy::RemotePolicy(Profile profile, RemoteOptions options, std::string url)
    : profile_(std::move(profile)),
      options_(std::move(options)),
      url_(url.substr(0, url.find('?'))) {
  if (options_.replan_steps > 0) profile_.replan_steps = options_.replan_steps;
}

PolicyInfo RemotePolicy::info() const {
  PolicyInfo info;
  info.name = url_ + " (" + profile_.name + ")";
  info.action_space = profile_.action_space;
  info.chunk_length = profile_.replan_steps;  // the server decides; at least this many are used
  info.open_loop_steps = profile_.replan_steps;
  for (const ImageField& image : profile_.images) {
    if (std::find(info.cameras.begin(), info.cameras.end(), image.camera) == info.cameras.end()) {
      info.cameras.push_back(image.camera);
    }
  }
  info.image_size = profile_.render_size;
  return info;
}

void RemotePolicy::reset(int slot, uint64_t seed) {
  std::lock_guard lock(timing_mutex_);
  timing_[slot] = EpisodeTiming{};
}

std::map<std::string, double> RemotePolicy::episode_timing(int slot) const {
  std::lock_guard lock(timing_mutex_);
  std::map<std::string, double> out;
  const auto it = timing_.find(slot);
  if (it == timing_.end()) return out;
  const EpisodeTiming& timing = it->second;
  out["requests"] = timing.requests;
  out["reconnects"] = timing.reconnects;
  if (timing.requests > 0) {
    out["round_trip_ms_mean"] = timing.round_trip_ms_total / timing.requests;
    out["round_trip_ms_max"] = timing.round_trip_ms_max;
  }
  if (timing.server_reports > 0) {
    out["server_ms_mean"] = timing.server_ms_total / timing.server_reports;
  }
  if (timing.policy_reports > 0) {
    out["policy_ms_mean"] = timing.policy_ms_total / timing.policy_reports;
  }
  return out;
}

void RemotePolicy::record_request(int slot, double round_trip_ms, std::optional<double> server_ms,
                                  std::optional<double> policy_ms) {
  std::lock_guard lock(timing_mutex_);
  EpisodeTiming& timing = timing_[slot];
  ++timing.requests;
  timing.round_trip_ms_total += round_trip_ms;
  timing.round_trip_ms_max = std::max(timing.round_trip_ms_max, round_trip_ms);
  if (server_ms) {
    ++timing.server_reports;
    timing.server_ms_total += *server_ms;
  }
  if (policy_ms) {
    ++timing.policy_reports;
    timing.policy_ms_total += *policy_ms;
  }
}

void RemotePolicy::record_reconnect(int slot) {
  std::lock_guard lock(timing_mutex_);
  ++timing_[slot].reconnects;
}

void RemotePolicy::backoff(int attempt) const {
  if (attempt <= 1) return;
  const ConnectionSettings& settings = options_.connection;
  const double seconds =
      std::min(settings.backoff_max_s, settings.backoff_s * std::pow(2.0, attempt - 2));
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

void RemotePolicy::throw_batch_error(std::vector<ActionChunk> chunks,
                                     std::vector<std::string> errors) {
  if (errors.size() == 1) throw PolicyError(errors.front());
  throw BatchError(std::move(chunks), std::move(errors));
}

bool is_remote_spec(const std::string& spec) {
  return spec.starts_with("openpi://") || spec.starts_with("gr00t://");
}

std::unique_ptr<Policy> make_remote_policy(const std::string& url, const std::string& family,
                                           int replan_steps) {
  const Endpoint endpoint = parse_endpoint(url);
  std::vector<std::string> protocol_keys;
  if (endpoint.scheme == "openpi") {
    protocol_keys = {"api_key"};
  } else if (endpoint.scheme == "gr00t") {
    protocol_keys = {"api_token"};
  } else {
    throw std::runtime_error("remote policy URL '" + url + "': unknown scheme '" + endpoint.scheme +
                             "' (valid: openpi, gr00t)");
  }
  RemoteOptions options = parse_remote_options(endpoint, protocol_keys);
  if (replan_steps > 0) options.replan_steps = replan_steps;
  const Profile profile =
      find_profile(options.profile.empty() ? endpoint.scheme + "_" + family : options.profile);
  if (profile.protocol != endpoint.scheme) {
    throw std::runtime_error("remote policy URL '" + url + "': profile " + profile.path +
                             " is for protocol " + profile.protocol);
  }
  if (endpoint.scheme == "openpi") return std::make_unique<OpenpiPolicy>(url, profile, options);
  return std::make_unique<Gr00tPolicy>(url, profile, options);
}

}  // namespace policies::remote
