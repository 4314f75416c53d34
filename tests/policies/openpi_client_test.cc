// The openpi websocket client against real peers over loopback: the project's
// own `serve`, and a test server that answers with errors, wrong shapes, NaN,
// closes mid-request, stays silent, or is gone. Also URLs, profiles and the
// observation mapping (resize with padding, rotation, state slices).
#include "policies/remote/openpi_client.h"

#include <doctest/doctest.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness/serve.h"
#include "policies/remote/probe_policy.h"
#include "policies/remote/profile.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace openpi = policies::openpi;
namespace remote = policies::remote;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

envs::Image pattern_image(int width, int height, int seed) {
  envs::Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(size_t(width) * height * 3);
  for (size_t k = 0; k < image.pixels.size(); ++k) {
    image.pixels[k] = uint8_t((k * 7 + (k / 3) * seed + seed) % 251);
  }
  return image;
}

envs::Observation libero_observation(float offset) {
  envs::Observation observation;
  observation.images["agentview"] = pattern_image(224, 224, 3);
  observation.images["eye_in_hand"] = pattern_image(224, 224, 5);
  observation.proprio = {0.1f + offset, -0.2f, 1.05f, 3.1f, 0.05f, -0.02f, 0.039f, -0.039f};
  observation.instruction = "pick up the black bowl and place it on the plate";
  return observation;
}

// Runs the project's `serve` for `policy` on a free loopback port.
class ServedPolicy {
 public:
  explicit ServedPolicy(policies::Policy& policy, std::string api_key = "", int port = 0) {
    harness::ServeOptions options;
    options.port = port;
    options.api_key = std::move(api_key);
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
  ~ServedPolicy() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_; }
  std::string url(const std::string& query = "") const {
    return "openpi://127.0.0.1:" + std::to_string(port_) + query;
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int port_ = 0;
};

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

std::vector<policies::ActionChunk> act_one(policies::Policy& policy,
                                           const envs::Observation& observation, int slot = 0) {
  const policies::PolicyQuery query{slot, &observation};
  return policy.act(std::span(&query, 1));
}

// A websocket server with scripted behaviour per request: "ok" (actions derived
// from the request's state), "error" (a text frame, then close), "wrong_shape",
// "nan", "close" (drop the connection after reading) and "silent" (never reply).
class ScriptedServer {
 public:
  explicit ScriptedServer(std::deque<std::string> script, int port = 0)
      : script_(std::move(script)), acceptor_(io_) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedServer() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    beast::error_code ignored;
    // Ends the connection being served, then wakes the blocking accept.
    if (const int handle = current_socket_.load(); handle >= 0) ::shutdown(handle, SHUT_RDWR);
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
    acceptor_.close(ignored);
  }
  int port() const { return port_; }
  int connections() const { return connections_; }
  std::string url(const std::string& query) const {
    return "openpi://127.0.0.1:" + std::to_string(port_) + query;
  }

 private:
  std::string next_behaviour() {
    std::lock_guard lock(mutex_);
    if (script_.empty()) return "ok";
    std::string behaviour = script_.front();
    script_.pop_front();
    return behaviour;
  }

  void run() {
    while (!stopping_) {
      tcp::socket socket(io_);
      beast::error_code error;
      acceptor_.accept(socket, error);
      if (error || stopping_) continue;
      ++connections_;
      current_socket_ = socket.native_handle();
      serve_connection(std::move(socket));
      current_socket_ = -1;
    }
  }

  void serve_connection(tcp::socket socket) {
    websocket::stream<tcp::socket> ws(std::move(socket));
    beast::error_code error;
    ws.accept(error);
    if (error) return;
    openpi::Value metadata = openpi::Value::map();
    metadata.set("server", openpi::Value::string("scripted"));
    ws.binary(true);
    ws.write(asio::buffer(openpi::encode(metadata)), error);
    while (!error) {
      beast::flat_buffer buffer;
      ws.read(buffer, error);
      if (error) return;
      const std::string behaviour = next_behaviour();
      if (behaviour == "close") {
        beast::get_lowest_layer(ws).close(error);
        return;
      }
      if (behaviour == "silent") {
        ws.read(buffer, error);  // until the client gives up and closes
        return;
      }
      if (behaviour == "error") {
        ws.text(true);
        ws.write(asio::buffer(std::string("Traceback: policy exploded")), error);
        ws.close(websocket::close_code::internal_error, error);
        return;
      }
      const auto data = buffer.cdata();
      const openpi::Value request = openpi::decode(
          std::span<const uint8_t>(static_cast<const uint8_t*>(data.data()), data.size()));
      std::vector<float> state;
      openpi::to_floats(request.at("observation/state").as_ndarray(), state);
      const int columns = behaviour == "wrong_shape" ? 6 : 7;
      std::vector<float> actions(10 * columns);
      for (int t = 0; t < 10; ++t) {
        for (int d = 0; d < columns; ++d) actions[t * columns + d] = state[0] + t + 0.01f * d;
      }
      if (behaviour == "nan") actions[3 * columns + 2] = std::nanf("");
      openpi::Value reply = openpi::Value::map();
      reply.set("actions", openpi::Value(openpi::make_float32_array(actions, {10, columns})));
      openpi::Value timing = openpi::Value::map();
      timing.set("infer_ms", openpi::Value::number(2.5));
      reply.set("server_timing", std::move(timing));
      ws.binary(true);
      ws.write(asio::buffer(openpi::encode(reply)), error);
    }
  }

  std::mutex mutex_;
  std::deque<std::string> script_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> current_socket_{-1};  // native handle of the connection being served
  int port_ = 0;
};

std::unique_ptr<policies::Policy> openpi_client(const std::string& url) {
  return remote::make_remote_policy(url, "libero", 0);
}

}  // namespace

TEST_CASE("remote: URLs and options are parsed, bad ones get one clear error") {
  const remote::Endpoint endpoint =
      remote::parse_endpoint("openpi://example.org:8000?api_key=a%20b&timeout=2.5");
  CHECK(endpoint.scheme == "openpi");
  CHECK(endpoint.host == "example.org");
  CHECK(endpoint.port == 8000);
  CHECK(endpoint.params.at("api_key") == "a b");
  const remote::RemoteOptions options = remote::parse_remote_options(endpoint, {"api_key"});
  CHECK(options.connection.request_timeout_s == doctest::Approx(2.5));
  CHECK(remote::parse_endpoint("gr00t://[::1]:5555").host == "::1");

  CHECK(error_of([] { remote::parse_endpoint("openpi://host"); }).find("no port") !=
        std::string::npos);
  CHECK(error_of([] { remote::parse_endpoint("openpi://host:99999"); }).find("1..65535") !=
        std::string::npos);
  CHECK(error_of([] {
          remote::parse_remote_options(remote::parse_endpoint("openpi://h:1?tmeout=3"),
                                       {"api_key"});
        }).find("unknown parameter 'tmeout'") != std::string::npos);
  CHECK(error_of([] {
          remote::parse_remote_options(remote::parse_endpoint("openpi://h:1?timeout=-1"), {});
        }).find("timeout must be a positive number") != std::string::npos);
  CHECK(error_of([] {
          remote::make_remote_policy("grpc://h:1", "libero", 0);
        }).find("unknown scheme 'grpc'") != std::string::npos);
  CHECK(error_of([] {
          remote::make_remote_policy("openpi://h:1", "mars", 0);
        }).find("shipped profiles:") != std::string::npos);
}

TEST_CASE("remote: shipped profiles load, bad profiles name the file and the problem") {
  for (const std::string name : {"openpi_libero", "openpi_bridge", "openpi_fractal", "gr00t_libero",
                                 "gr00t_bridge", "gr00t_fractal"}) {
    const remote::Profile profile = remote::find_profile(name);
    CHECK(profile.name == name);
    CHECK(profile.protocol == name.substr(0, name.find('_')));
    CHECK(profile.family == name.substr(name.find('_') + 1));
  }
  const remote::Profile libero = remote::find_profile("openpi_libero");
  REQUIRE(libero.images.size() == 2);
  CHECK(libero.images[0].key == "observation/image");
  CHECK(libero.images[1].camera == "eye_in_hand");
  CHECK(libero.state.at(0).size == 8);
  CHECK(libero.prompt_key == "prompt");
  CHECK(libero.replan_steps == 5);

  const auto directory = std::filesystem::temp_directory_path() / "vla_profile_test";
  std::filesystem::create_directories(directory);
  auto write = [&](const std::string& text) {
    const std::string path = (directory / "bad.json").string();
    std::ofstream(path) << text;
    return path;
  };
  const std::string base =
      R"("name": "x", "protocol": "openpi", "family": "libero", "prompt": {"key": "prompt"})";
  CHECK(error_of([&] {
          remote::load_profile(write("{" + base + R"(, "actions": [{"key": "a", "size": 6}]})"));
        }).find("action dimension 6 is filled 0 times") != std::string::npos);
  CHECK(error_of([&] {
          remote::load_profile(
              write("{" + base + R"(, "actions": [{"key": "a", "size": 7, "scael": [1]}]})"));
        }).find("unknown key 'scael'") != std::string::npos);
  CHECK(error_of([&] {
          remote::load_profile(write("{" + base + R"(, "state": [{"key": "prompt", "size": 8}],
                                     "actions": [{"key": "a"}]})"));
        }).find("key 'prompt' used twice") != std::string::npos);
  CHECK(error_of([&] { remote::load_profile(write("{not json")); }).find("bad.json") !=
        std::string::npos);
  std::filesystem::remove_all(directory);
}

TEST_CASE("remote: observation mapping pads, rotates and slices as the profile says") {
  // Bridge: a 640x480 camera goes out as 224x224, 168 rows of image between 28 black rows.
  const remote::Profile bridge = remote::find_profile("openpi_bridge");
  remote::ObservationEncoder encoder(bridge);
  envs::Observation observation;
  observation.images["agentview"].width = 640;
  observation.images["agentview"].height = 480;
  observation.images["agentview"].pixels.assign(640 * 480 * 3, 200);
  observation.proprio = {1, 2, 3, 4, 5, 6, 7, 8};
  observation.instruction = "put the carrot on the plate";
  const openpi::Value request = encoder.encode(observation);
  const openpi::NdArray& image = request.at("observation/image").as_ndarray();
  REQUIRE(image.shape == std::vector<int64_t>{224, 224, 3});
  auto pixel = [&](int y, int x) { return image.data[(size_t(y) * 224 + x) * 3]; };
  CHECK(pixel(0, 100) == 0);
  CHECK(pixel(27, 100) == 0);
  CHECK(pixel(28, 0) == 200);
  CHECK(pixel(195, 223) == 200);
  CHECK(pixel(196, 100) == 0);
  CHECK(request.at("prompt").as_string() == "put the carrot on the plate");
  std::vector<float> state;
  openpi::to_floats(request.at("observation/state").as_ndarray(), state);
  CHECK(state == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});

  // GR00T-style: time axis, state slices, prompt as a list; a 180-degree rotation.
  remote::Profile gr00t = remote::find_profile("gr00t_libero");
  gr00t.images[0].rotate_180 = true;
  gr00t.images[0].width = gr00t.images[0].height = 4;
  remote::ObservationEncoder gr00t_encoder(gr00t);
  envs::Observation small = observation;
  small.images["agentview"] = pattern_image(4, 4, 1);
  small.images["eye_in_hand"] = pattern_image(256, 256, 2);
  const openpi::Value gr00t_request = gr00t_encoder.encode(small);
  const openpi::NdArray& rotated = gr00t_request.at("video.ego_view").as_ndarray();
  CHECK(rotated.shape == std::vector<int64_t>{1, 4, 4, 3});
  for (int p = 0; p < 16; ++p) {
    for (int c = 0; c < 3; ++c) {
      CHECK(rotated.data[p * 3 + c] == small.images["agentview"].pixels[(15 - p) * 3 + c]);
    }
  }
  CHECK(gr00t_request.at("video.wrist_view").as_ndarray().data ==
        small.images["eye_in_hand"].pixels);
  std::vector<float> rotation;
  openpi::to_floats(gr00t_request.at("state.eef_rotation").as_ndarray(), rotation);
  CHECK(gr00t_request.at("state.eef_rotation").as_ndarray().shape == std::vector<int64_t>{1, 3});
  CHECK(rotation == std::vector<float>{4, 5, 6});
  const openpi::Value& prompt = gr00t_request.at("annotation.human.action.task_description");
  REQUIRE(prompt.kind() == openpi::Value::Kind::kArray);
  CHECK(prompt.item(0).as_string() == "put the carrot on the plate");

  envs::Observation no_wrist = observation;
  CHECK(error_of([&] {
          remote::ObservationEncoder(remote::find_profile("openpi_libero")).encode(no_wrist);
        }).find("no camera 'eye_in_hand'") != std::string::npos);
}

TEST_CASE("openpi client: against the project's serve, actions equal the policy's own") {
  policies::remote::ProbePolicy probe;
  ServedPolicy server(probe);
  auto client = openpi_client(server.url());
  auto& openpi_policy = dynamic_cast<remote::OpenpiPolicy&>(*client);
  CHECK(openpi_policy.metadata().at("policy").as_string() == "probe");
  const policies::PolicyInfo info = client->info();
  CHECK(info.open_loop_steps == 5);
  CHECK(info.image_size == 224);
  CHECK(info.cameras == std::vector<std::string>{"agentview", "eye_in_hand"});
  CHECK(info.name.find("openpi://127.0.0.1:") == 0);

  client->reset(0, 1);
  client->reset(1, 2);
  const envs::Observation first = libero_observation(0.0f);
  const envs::Observation second = libero_observation(0.25f);
  const std::vector<policies::ActionChunk> local = act_one(probe, first);
  const std::vector<policies::ActionChunk> remote_chunks = act_one(*client, first);
  REQUIRE(remote_chunks.size() == 1);
  REQUIRE(remote_chunks[0].size() == size_t(remote::ProbePolicy::kChunkLength));
  CHECK(remote_chunks[0] == local[0]);  // bit for bit

  // Two slots in one call: two connections, answered in query order.
  const policies::PolicyQuery queries[] = {{1, &second}, {0, &first}};
  const std::vector<policies::ActionChunk> both = client->act(queries);
  REQUIRE(both.size() == 2);
  CHECK(both[0] == act_one(probe, second)[0]);
  CHECK(both[1] == local[0]);
  CHECK(both[0] != both[1]);

  const auto timing = static_cast<remote::RemotePolicy&>(*client).episode_timing(0);
  CHECK(timing.at("requests") == 2);
  CHECK(timing.at("round_trip_ms_mean") > 0);
  CHECK(timing.at("round_trip_ms_max") >= timing.at("round_trip_ms_mean"));
  CHECK(timing.at("server_ms_mean") > 0);
  CHECK(timing.at("policy_ms_mean") >= 0);
  CHECK(timing.at("reconnects") == 0);
  CHECK(static_cast<remote::RemotePolicy&>(*client).episode_timing(1).at("requests") == 1);
  client->reset(0, 3);
  CHECK(static_cast<remote::RemotePolicy&>(*client).episode_timing(0).at("requests") == 0);
}

TEST_CASE("openpi client: sends the API key, a wrong or missing key is refused with HTTP 401") {
  policies::remote::ProbePolicy probe;
  ServedPolicy server(probe, "secret");
  auto client = openpi_client(server.url("?api_key=secret&connect_attempts=1"));
  CHECK(act_one(*client, libero_observation(0))[0] == act_one(probe, libero_observation(0))[0]);
  const std::string wrong =
      error_of([&] { openpi_client(server.url("?api_key=nope&connect_attempts=1")); });
  CHECK(wrong.find("HTTP 401") != std::string::npos);
  CHECK(wrong.find("Api-Key") != std::string::npos);
  CHECK(error_of([&] { openpi_client(server.url("?connect_attempts=1")); }).find("HTTP 401") !=
        std::string::npos);
}

TEST_CASE(
    "openpi client: server errors, bad replies, dropped and silent connections, dead server") {
  ScriptedServer server({"ok", "error", "ok", "wrong_shape", "nan", "close", "ok", "silent", "ok"});
  const std::string query = "?timeout=1&connect_timeout=2&connect_attempts=2&backoff=0.1";
  auto client = openpi_client(server.url(query));
  auto& remote_policy = static_cast<remote::RemotePolicy&>(*client);
  const envs::Observation observation = libero_observation(0.5f);
  auto policy_error = [&] {
    try {
      act_one(*client, observation);
    } catch (const remote::PolicyError& error) {
      return std::string(error.what());
    }
    return std::string("no PolicyError");
  };

  const auto ok = act_one(*client, observation);
  CHECK(ok[0].size() == 10);
  CHECK(ok[0][2][1] == doctest::Approx(0.6f + 2 + 0.01f));
  CHECK(policy_error().find("server error: Traceback: policy exploded") != std::string::npos);
  CHECK(act_one(*client, observation)[0].size() == 10);  // reconnected
  CHECK(remote_policy.episode_timing(0).at("reconnects") == 1);
  CHECK(policy_error().find("'actions' has shape (10, 6), expected (horizon, 7)") !=
        std::string::npos);
  CHECK(policy_error().find("non-finite value (nan) at [3, 2]") != std::string::npos);
  CHECK(policy_error().find("connection lost before the reply") != std::string::npos);
  CHECK(act_one(*client, observation)[0].size() == 10);
  const auto start = Clock::now();
  CHECK(policy_error().find("no reply within 1 s") != std::string::npos);
  const double waited = std::chrono::duration<double>(Clock::now() - start).count();
  CHECK(waited >= 0.9);
  CHECK(waited < 3.0);
  CHECK(act_one(*client, observation)[0].size() == 10);
  CHECK(server.connections() == 4);
  CHECK(remote_policy.episode_timing(0).at("server_ms_mean") == doctest::Approx(2.5));

  // The server goes away: a clear error after the connection attempts; it comes back: reconnect.
  const int port = server.port();
  server.stop();
  // The idle connection was closed under the client: this request finds out.
  const std::string dropped = policy_error();
  CHECK((dropped.find("connection lost") != std::string::npos ||
         dropped.find("cannot connect") != std::string::npos));
  const auto dead_start = Clock::now();
  const std::string dead = policy_error();
  CHECK(dead.find("cannot connect") != std::string::npos);
  CHECK(dead.find("after 2 attempts") != std::string::npos);
  CHECK(std::chrono::duration<double>(Clock::now() - dead_start).count() < 5.0);
  ScriptedServer revived({"ok"}, port);
  CHECK(act_one(*client, observation)[0].size() == 10);
}

TEST_CASE("openpi client: an unreachable server fails construction with the URL and reason") {
  // A port that was free a moment ago.
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int port = acceptor.local_endpoint().port();
  acceptor.close();
  const std::string error = error_of([&] {
    openpi_client("openpi://127.0.0.1:" + std::to_string(port) +
                  "?connect_attempts=2&backoff=0.05");
  });
  CHECK(error.find("openpi://127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(error.find("cannot connect") != std::string::npos);
}
