// The GR00T ZeroMQ client against a REP test server written from the service's
// documented protocol (cppzmq): ping, get_modality_config, get_action with .npy
// arrays, API token, {"error": ...} replies, wrong shapes, NaN, timeouts and
// reconnects. The .npy codec is cross-checked with numpy.
#include "policies/remote/gr00t_client.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "policies/remote/npy.h"
#include "test_util.h"

namespace {

namespace openpi = policies::openpi;
namespace remote = policies::remote;
using openpi::Value;
using Clock = std::chrono::steady_clock;

constexpr int kHorizon = 16;

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

// The documented array encoding, written out here: {"__ndarray_class__": true, "as_npy": bytes}.
Value npy_value(const openpi::NdArray& array) {
  std::vector<uint8_t> bytes;
  remote::encode_npy(array, bytes);
  Value wrapped = Value::map();
  wrapped.set("__ndarray_class__", Value::boolean(true));
  wrapped.set("as_npy", Value::binary(std::move(bytes)));
  return wrapped;
}

openpi::NdArray array_of(const Value& wrapped, const std::string& key) {
  const Value& value = wrapped.at(key);
  if (!value.at("__ndarray_class__").as_bool()) throw std::runtime_error(key + ": not an ndarray");
  return remote::decode_npy(value.at("as_npy").as_binary());
}

Value modality_config(const std::vector<std::string>& keys) {
  std::string json = "{\"delta_indices\": [0], \"modality_keys\": [";
  for (size_t i = 0; i < keys.size(); ++i) json += (i ? ", \"" : "\"") + keys[i] + "\"";
  json += "]}";
  Value config = Value::map();
  config.set("__ModalityConfig_class__", Value::boolean(true));
  config.set("as_json", Value::string(json));
  return config;
}

// A REP server; get_action follows a script: "ok", "error", "wrong_shape", "nan",
// "silent" (answers only after the client has given up).
class Gr00tTestServer {
 public:
  Gr00tTestServer(std::deque<std::string> script, std::string token = "",
                  std::vector<std::string> video_keys = {"video.ego_view", "video.wrist_view"})
      : script_(std::move(script)), token_(std::move(token)), video_keys_(std::move(video_keys)) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:*");
    const std::string endpoint = socket_.get(zmq::sockopt::last_endpoint);
    port_ = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
    thread_ = std::thread([this] { run(); });
  }
  ~Gr00tTestServer() {
    stopping_ = true;
    thread_.join();
  }
  std::string url(const std::string& query = "") const {
    return "gr00t://127.0.0.1:" + std::to_string(port_) + query;
  }
  int action_requests() const { return action_requests_; }
  std::string problem() {
    std::lock_guard lock(mutex_);
    return problem_;
  }

 private:
  void run() {
    while (!stopping_) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t message;
      if (!socket_.recv(message)) continue;
      Value reply;
      try {
        reply = handle(
            openpi::decode(std::span(static_cast<const uint8_t*>(message.data()), message.size())));
      } catch (const std::exception& error) {
        reply = Value::map();
        reply.set("error", Value::string(std::string("test server: ") + error.what()));
        std::lock_guard lock(mutex_);
        problem_ = error.what();
      }
      socket_.send(zmq::buffer(openpi::encode(reply)), zmq::send_flags::none);
    }
  }

  Value handle(const Value& request) {
    Value reply = Value::map();
    if (!token_.empty()) {
      const Value* token = request.find("api_token");
      if (token == nullptr || token->as_string() != token_) {
        reply.set("error", Value::string("Unauthorized: Invalid API token"));
        return reply;
      }
    }
    const std::string endpoint = request.at("endpoint").as_string();
    if (endpoint == "ping") {
      reply.set("status", Value::string("ok"));
      reply.set("message", Value::string("Server is running"));
      return reply;
    }
    if (endpoint == "get_modality_config") {
      reply.set("video", modality_config(video_keys_));
      reply.set("state", modality_config(
                             {"state.eef_position", "state.eef_rotation", "state.gripper_qpos"}));
      reply.set("action", modality_config({"action.eef_position_delta", "action.eef_rotation_delta",
                                           "action.gripper_close"}));
      reply.set("language", modality_config({"annotation.human.action.task_description"}));
      return reply;
    }
    if (endpoint != "get_action") throw std::runtime_error("Unknown endpoint: " + endpoint);
    ++action_requests_;
    std::string behaviour = "ok";
    {
      std::lock_guard lock(mutex_);
      if (!script_.empty()) {
        behaviour = script_.front();
        script_.pop_front();
      }
    }
    if (behaviour == "error") {
      reply.set("error", Value::string("CUDA out of memory"));
      return reply;
    }
    if (behaviour == "silent") std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    // Check the observation as the documented format says it arrives.
    const Value& data = request.at("data");
    const openpi::NdArray video = array_of(data, "video.ego_view");
    if (video.dtype != "|u1" || video.shape != std::vector<int64_t>{1, 256, 256, 3}) {
      throw std::runtime_error("video.ego_view: wrong dtype or shape");
    }
    const openpi::NdArray position = array_of(data, "state.eef_position");
    if (position.dtype != "<f4" || position.shape != std::vector<int64_t>{1, 3}) {
      throw std::runtime_error("state.eef_position: wrong dtype or shape");
    }
    std::vector<float> state;
    openpi::to_floats(position, state);
    const Value& task = data.at("annotation.human.action.task_description");
    if (task.kind() != Value::Kind::kArray || task.size() != 1) {
      throw std::runtime_error("task description: expected a one-element list");
    }
    const float prompt_length = float(task.item(0).as_string().size());
    const int position_columns = behaviour == "wrong_shape" ? 2 : 3;
    std::vector<float> deltas(kHorizon * position_columns), rotations(kHorizon * 3),
        gripper(kHorizon);
    for (int t = 0; t < kHorizon; ++t) {
      for (int d = 0; d < position_columns; ++d) deltas[t * position_columns + d] = state[d] + t;
      for (int d = 0; d < 3; ++d) rotations[t * 3 + d] = prompt_length + d;
      gripper[t] = t % 2;
    }
    if (behaviour == "nan") rotations[5] = INFINITY;
    reply.set("action.eef_position_delta",
              npy_value(openpi::make_float32_array(deltas, {kHorizon, position_columns})));
    reply.set("action.eef_rotation_delta",
              npy_value(openpi::make_float32_array(rotations, {kHorizon, 3})));
    reply.set("action.gripper_close",
              npy_value(openpi::make_float32_array(gripper, {kHorizon, 1})));
    return reply;
  }

  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::rep};
  std::mutex mutex_;
  std::deque<std::string> script_;
  std::string token_;
  std::vector<std::string> video_keys_;
  std::string problem_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> action_requests_{0};
  int port_ = 0;
};

envs::Observation observation() {
  envs::Observation observation;
  for (const char* camera : {"agentview", "eye_in_hand"}) {
    envs::Image& image = observation.images[camera];
    image.width = image.height = 256;
    image.pixels.assign(256 * 256 * 3, 90);
  }
  observation.proprio = {0.5f, -0.25f, 1.0f, 3.0f, 0.1f, 0.2f, 0.03f, -0.03f};
  observation.instruction = "open the top drawer";
  return observation;
}

std::vector<policies::ActionChunk> act_one(policies::Policy& policy,
                                           const envs::Observation& observation) {
  const policies::PolicyQuery query{0, &observation};
  return policy.act(std::span(&query, 1));
}

std::string run_command(const std::string& command) {
  return test_util::run_command(command).text;
}

}  // namespace

TEST_CASE("npy: round trip, numpy reads ours and we read numpy's") {
  std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  const openpi::NdArray array = openpi::make_float32_array(values, {2, 3});
  std::vector<uint8_t> bytes;
  remote::encode_npy(array, bytes);
  CHECK((bytes.size() - values.size() * 4) % 64 == 0);  // data starts on a 64-byte boundary
  const openpi::NdArray back = remote::decode_npy(bytes);
  CHECK(back.dtype == "<f4");
  CHECK(back.shape == std::vector<int64_t>{2, 3});
  CHECK(back.data == array.data);
  std::vector<uint8_t> one_dim;
  remote::encode_npy(openpi::make_uint8_array(std::vector<uint8_t>{1, 2, 3}, {3}), one_dim);
  CHECK(std::string(one_dim.begin() + 10, one_dim.begin() + 70).find("'shape': (3,)") !=
        std::string::npos);

  const auto directory = std::filesystem::temp_directory_path() / "vla_npy_test";
  std::filesystem::create_directories(directory);
  const std::string ours = (directory / "ours.npy").string();
  const std::string theirs = (directory / "theirs.npy").string();
  std::ofstream(ours, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  const std::string script = "import numpy as np; a = np.load('" + ours +
                             "', allow_pickle=False); "
                             "print(a.dtype, a.shape, a.tolist()); "
                             "np.save('" +
                             theirs + "', np.arange(24, dtype='>i2').reshape(2, 3, 4))";
  const std::string output = run_command("/usr/bin/python3 -c \"" + script + "\" 2>&1");
  if (output.find("No module named") != std::string::npos) {
    MESSAGE("numpy missing: cross-check skipped: " << output);
  } else {
    CHECK(output == "float32 (2, 3) [[1.5, -2.0, 3.25], [0.0, 7.0, -8.5]]\n");
    std::ifstream in(theirs, std::ios::binary);
    const std::vector<uint8_t> saved((std::istreambuf_iterator<char>(in)), {});
    const openpi::NdArray big_endian = remote::decode_npy(saved);
    CHECK(big_endian.dtype == ">i2");
    CHECK(big_endian.shape == std::vector<int64_t>{2, 3, 4});
    std::vector<float> converted;
    openpi::to_floats(big_endian, converted);
    CHECK(converted[23] == 23.0f);
    CHECK(converted[5] == 5.0f);
  }
  std::filesystem::remove_all(directory);

  // Bad files: one clear error each.
  std::vector<uint8_t> bad = bytes;
  bad[1] = 'X';
  CHECK(error_of([&] { remote::decode_npy(bad); }).find("bad magic") != std::string::npos);
  bad = bytes;
  bad.pop_back();
  CHECK(error_of([&] { remote::decode_npy(bad); }).find("23 data bytes") != std::string::npos);
  bad = bytes;
  const std::string header(bad.begin(), bad.end());
  const size_t fortran = header.find("False");
  std::copy_n("True ", 5, bad.begin() + fortran);
  CHECK(error_of([&] { remote::decode_npy(bad); }).find("Fortran") != std::string::npos);
  bad = bytes;
  bad[6] = 9;
  CHECK(error_of([&] { remote::decode_npy(bad); }).find("version 9.0") != std::string::npos);
  bad = bytes;
  const size_t descr = header.find("<f4");
  std::copy_n("|O8", 3, bad.begin() + descr);
  CHECK(error_of([&] { remote::decode_npy(bad); }).find("not supported") != std::string::npos);
}

TEST_CASE("gr00t client: ping, modality config, get_action with .npy arrays and the API token") {
  Gr00tTestServer server({}, "token-1");
  auto client = remote::make_remote_policy(server.url("?api_token=token-1"), "libero", 0);
  auto& gr00t = dynamic_cast<remote::Gr00tPolicy&>(*client);
  CHECK(gr00t.modality_keys().size() == 9);
  const policies::PolicyInfo info = client->info();
  CHECK(info.open_loop_steps == 8);
  CHECK(info.image_size == 256);
  CHECK(info.cameras == std::vector<std::string>{"agentview", "eye_in_hand"});

  const envs::Observation input = observation();
  const auto chunks = act_one(*client, input);
  CHECK(server.problem() == "");
  REQUIRE(chunks.size() == 1);
  REQUIRE(chunks[0].size() == size_t(kHorizon));
  const float prompt_length = float(input.instruction.size());
  for (int t = 0; t < kHorizon; ++t) {
    CHECK(chunks[0][t][0] == input.proprio[0] + t);
    CHECK(chunks[0][t][2] == input.proprio[2] + t);
    CHECK(chunks[0][t][3] == prompt_length);
    CHECK(chunks[0][t][5] == prompt_length + 2);
    CHECK(chunks[0][t][6] == (t % 2 ? 1.0f : -1.0f));  // 0/1 mapped to -1/+1 by the profile
  }
  const auto timing = gr00t.episode_timing(0);
  CHECK(timing.at("requests") == 1);
  CHECK(timing.at("round_trip_ms_mean") > 0);
  CHECK(timing.count("server_ms_mean") == 0);  // GR00T reports no server timing

  const std::string refused = error_of([&] {
    remote::make_remote_policy(server.url("?api_token=wrong&connect_attempts=1"), "libero", 0);
  });
  CHECK(refused.find("server error: Unauthorized: Invalid API token") != std::string::npos);
}

TEST_CASE(
    "gr00t client: error replies, wrong shapes, NaN and timeouts end the query; it recovers") {
  Gr00tTestServer server({"error", "wrong_shape", "nan", "silent", "ok"});
  auto client = remote::make_remote_policy(
      server.url("?timeout=1&connect_timeout=2&connect_attempts=2&backoff=0.1"), "libero", 0);
  const envs::Observation input = observation();
  auto policy_error = [&] {
    try {
      act_one(*client, input);
    } catch (const remote::PolicyError& error) {
      return std::string(error.what());
    }
    return std::string("no PolicyError");
  };
  CHECK(policy_error().find("server error: CUDA out of memory") != std::string::npos);
  CHECK(
      policy_error().find("'action.eef_position_delta' has shape (16, 2), expected (horizon, 3)") !=
      std::string::npos);
  CHECK(
      policy_error().find("'action.eef_rotation_delta' holds a non-finite value (inf) at [1, 2]") !=
      std::string::npos);
  const auto start = Clock::now();
  CHECK(policy_error().find("no reply within 1 s") != std::string::npos);
  CHECK(std::chrono::duration<double>(Clock::now() - start).count() < 3.0);
  // A fresh REQ socket (the old one waits for a reply forever) and a good answer.
  const auto chunks = act_one(*client, input);
  CHECK(chunks[0].size() == size_t(kHorizon));
  CHECK(static_cast<remote::RemotePolicy&>(*client).episode_timing(0).at("reconnects") == 1);
  CHECK(server.action_requests() == 5);
  CHECK(server.problem() == "");
}

TEST_CASE("gr00t client: a profile key the server lacks, and no server, fail construction") {
  Gr00tTestServer server({}, "", {"video.ego_view"});
  const std::string missing =
      error_of([&] { remote::make_remote_policy(server.url(), "libero", 0); });
  CHECK(missing.find("lacks: video.wrist_view") != std::string::npos);
  // Bridge needs only the one camera.
  CHECK_NOTHROW(remote::make_remote_policy(server.url(), "bridge", 0));

  zmq::context_t context;
  zmq::socket_t probe(context, zmq::socket_type::rep);
  probe.bind("tcp://127.0.0.1:*");
  const std::string endpoint = probe.get(zmq::sockopt::last_endpoint);
  probe.close();
  const std::string port = endpoint.substr(endpoint.rfind(':') + 1);
  const auto start = Clock::now();
  const std::string dead = error_of([&] {
    remote::make_remote_policy(
        "gr00t://127.0.0.1:" + port + "?connect_timeout=0.3&connect_attempts=2&backoff=0.1",
        "libero", 0);
  });
  CHECK(dead.find("gr00t://127.0.0.1:" + port +
                  ": ping: no reply within 0.3 s (after 2 attempts)") != std::string::npos);
  CHECK(std::chrono::duration<double>(Clock::now() - start).count() < 2.0);
}
