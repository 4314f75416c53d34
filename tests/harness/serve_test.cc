// The openpi codec and `serve`: wire format, LIBERO mapping, websocket sessions
// with a C++ (Beast) client and an independent Python client, errors, API key, CLI.
#include "harness/serve.h"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "policies/openpi_codec.h"
#include "test_util.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace openpi = policies::openpi;
using tcp = asio::ip::tcp;

constexpr int kImageSize = 224;
constexpr int kChunkLength = 5;
constexpr auto kClientTimeout = std::chrono::seconds(20);

// The fixed image patterns of tests/harness/openpi_client.py.
envs::Image pattern_image(int size, int y_factor, int x_factor, int c_factor, int offset) {
  envs::Image image;
  image.width = size;
  image.height = size;
  image.pixels.resize(static_cast<size_t>(size) * size * 3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      for (int c = 0; c < 3; ++c) {
        image.pixels[(static_cast<size_t>(y) * size + x) * 3 + c] =
            static_cast<uint8_t>((y_factor * y + x_factor * x + c_factor * c + offset) % 256);
      }
    }
  }
  return image;
}

envs::Observation libero_observation(std::vector<float> state, std::string prompt) {
  envs::Observation observation;
  observation.images["agentview"] = pattern_image(kImageSize, 7, 3, 11, 0);
  observation.images["eye_in_hand"] = pattern_image(kImageSize, 5, 13, 2, 1);
  observation.proprio = std::move(state);
  observation.instruction = std::move(prompt);
  return observation;
}

// An order-sensitive digest of an image's pixels and size.
double image_signature(const envs::Image& image) {
  double sum = 0;
  for (size_t k = 0; k < image.pixels.size(); ++k) sum += image.pixels[k] * double(k % 251 + 1);
  return sum / (double(image.pixels.size()) * 255 * 126) + image.width * 1e-3 + image.height * 1e-4;
}

// What the test policy answers: every input (state, both images, prompt, step)
// shows up in the actions, so the test can see that each arrived intact.
policies::ActionChunk expected_chunk(const envs::Observation& observation) {
  policies::ActionChunk chunk(kChunkLength);
  const double agentview = image_signature(observation.images.at("agentview"));
  const double eye_in_hand = image_signature(observation.images.at("eye_in_hand"));
  for (int i = 0; i < kChunkLength; ++i) {
    for (int j = 0; j < 4; ++j) chunk[i][j] = observation.proprio.at(j) * float(i + 1);
    chunk[i][4] = observation.proprio.at(4) + observation.proprio.at(5) +
                  observation.proprio.at(6) + observation.proprio.at(7) +
                  10.0f * float(observation.step) + float(i);
    chunk[i][5] = static_cast<float>(agentview + i);
    chunk[i][6] = static_cast<float>(eye_in_hand + 0.01 * observation.instruction.size());
  }
  return chunk;
}

// A small, deterministic policy; the prompt "fail" makes it throw.
class SignaturePolicy : public policies::Policy {
 public:
  policies::PolicyInfo info() const override {
    policies::PolicyInfo info;
    info.name = "test-signature";
    info.chunk_length = kChunkLength;
    info.open_loop_steps = kChunkLength;
    info.cameras = {"agentview", "eye_in_hand"};
    info.image_size = kImageSize;
    return info;
  }

  std::vector<policies::ActionChunk> act(std::span<const policies::PolicyQuery> batch) override {
    largest_batch = std::max<int>(largest_batch, static_cast<int>(batch.size()));
    std::vector<policies::ActionChunk> chunks;
    for (const policies::PolicyQuery& query : batch) {
      if (query.observation->instruction == "fail") throw std::runtime_error("asked to fail");
      chunks.push_back(expected_chunk(*query.observation));
    }
    // Long enough that concurrent requests queue up behind this call.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return chunks;
  }

  std::atomic<int> largest_batch{0};
};

// `serve` on a free loopback port in a thread, stopped and joined on destruction.
class TestServer {
 public:
  explicit TestServer(harness::ServeOptions options = {}) {
    options.port = 0;
    std::future<int> port = listening_.get_future();
    options.on_listening = [this](int bound) { listening_.set_value(bound); };
    thread_ = std::thread([this, options] {
      try {
        harness::serve(policy, options, &stop_);
      } catch (...) {
        failure_ = std::current_exception();
        try {
          listening_.set_exception(std::current_exception());
        } catch (const std::future_error&) {
        }
      }
    });
    if (port.wait_for(std::chrono::seconds(10)) == std::future_status::ready && !failure_) {
      this->port = port.get();
    }
    if (this->port == 0) {
      stop();
      FAIL("serve did not start listening");
    }
  }

  ~TestServer() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    CHECK_MESSAGE(!failure_, "serve threw");
  }

  SignaturePolicy policy;
  int port = 0;

 private:
  std::promise<int> listening_;
  std::atomic<bool> stop_{false};
  std::exception_ptr failure_;
  std::thread thread_;
};

// Runs one asynchronous operation with a deadline; on timeout cancels it via `cancel`.
template <typename Start, typename Cancel>
beast::error_code run_with_deadline(asio::io_context& io, Start start, Cancel cancel) {
  beast::error_code result;
  bool done = false;
  start([&](beast::error_code error, auto&&...) {
    result = error;
    done = true;
  });
  io.restart();
  io.run_for(kClientTimeout);
  if (!done) {
    cancel();
    io.restart();
    io.run();
    return asio::error::timed_out;
  }
  return result;
}

struct HttpReply {
  int status = 0;
  std::string body;
};

HttpReply http_get(int port, const std::string& target) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(kClientTimeout);
  stream.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, "127.0.0.1");
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return {static_cast<int>(response.result_int()), response.body()};
}

// A websocket client on Beast, every operation with a deadline.
class WebSocketClient {
 public:
  // Connects and upgrades; returns the handshake's error (upgrade_declined if refused)
  // and keeps the HTTP status of the handshake response.
  beast::error_code connect(int port, const std::string& api_key = "") {
    const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
    beast::error_code error = run_with_deadline(
        io_, [&](auto handler) { socket().async_connect(endpoint, handler); }, [&] { close(); });
    if (error) return error;
    if (!api_key.empty()) {
      websocket_.set_option(
          websocket::stream_base::decorator([api_key](websocket::request_type& r) {
            r.set(http::field::authorization, "Api-Key " + api_key);
          }));
    }
    error = run_with_deadline(
        io_,
        [&](auto handler) {
          websocket_.async_handshake(handshake_response_, "127.0.0.1", "/", handler);
        },
        [&] { close(); });
    handshake_status = static_cast<int>(handshake_response_.result_int());
    return error;
  }

  // Reads one message; `text` tells its frame type.
  beast::error_code read(std::string& message, bool& text) {
    beast::flat_buffer buffer;
    const beast::error_code error = run_with_deadline(
        io_, [&](auto handler) { websocket_.async_read(buffer, handler); }, [&] { close(); });
    message = beast::buffers_to_string(buffer.data());
    text = websocket_.got_text();
    return error;
  }

  // Reads one binary message and decodes it.
  openpi::Value read_value() {
    std::string message;
    bool text = false;
    const beast::error_code error = read(message, text);
    REQUIRE_MESSAGE(!error, error.message());
    REQUIRE_MESSAGE(!text, "server answered with an error: ", message);
    return openpi::decode(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
  }

  beast::error_code write(std::span<const uint8_t> bytes) {
    websocket_.binary(true);
    return run_with_deadline(
        io_,
        [&](auto handler) {
          websocket_.async_write(asio::buffer(bytes.data(), bytes.size()), handler);
        },
        [&] { close(); });
  }

  int handshake_status = 0;

 private:
  tcp::socket& socket() { return websocket_.next_layer(); }
  void close() {
    beast::error_code ignored;
    socket().close(ignored);
  }

  asio::io_context io_;
  websocket::stream<tcp::socket> websocket_{io_};
  websocket::response_type handshake_response_;
};

// Checks that a reply carries the expected chunk for `observation`.
void check_reply(const openpi::Value& reply, const envs::Observation& observation) {
  const openpi::NdArray& actions = reply.at("actions").as_ndarray();
  CHECK(actions.dtype == "<f4");
  REQUIRE(actions.shape == std::vector<int64_t>{kChunkLength, 7});
  const policies::ActionChunk received = openpi::decode_actions(reply);
  const policies::ActionChunk expected = expected_chunk(observation);
  float max_difference = 0;
  for (int i = 0; i < kChunkLength; ++i) {
    for (int j = 0; j < 7; ++j) {
      max_difference = std::max(max_difference, std::abs(received[i][j] - expected[i][j]));
    }
  }
  CHECK(max_difference == 0.0f);
  CHECK(reply.at("server_timing").at("infer_ms").as_number() >= 0);
  CHECK(reply.at("policy_timing").at("infer_ms").as_number() >= 0);
}

template <typename Function>
std::string codec_error(Function function) {
  try {
    function();
  } catch (const openpi::CodecError& error) {
    return error.what();
  }
  return "(no CodecError)";
}

#define CHECK_CODEC_ERROR(statement, text)                                    \
  do {                                                                        \
    const std::string message = codec_error([&] { statement; });              \
    CHECK_MESSAGE(message.find(text) != std::string::npos, "got: ", message); \
  } while (false)

std::vector<uint8_t> bytes_of(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

bool contains_bytes(const std::vector<uint8_t>& haystack, const std::vector<uint8_t>& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

int free_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return acceptor.local_endpoint().port();
}

// Runs a command and returns its exit status and stdout.
std::pair<int, std::string> run_command(const std::string& command) {
  const test_util::CommandOutput output = test_util::run_command(command);
  return {output.status, output.text};
}

std::string python_client(int port, const std::string& arguments) {
  return std::string("/usr/bin/python3 ") + VLA_SOURCE_DIR +
         "/tests/harness/openpi_client.py --port " + std::to_string(port) + " " + arguments;
}

}  // namespace

TEST_CASE("openpi codec: values and ndarrays round trip in msgpack_numpy's layout") {
  const std::vector<float> floats = {1.5f, -2.25f, 3.0f, 4.0f, 5.0f, 6.0f};
  openpi::Value nested = openpi::Value::array();
  nested.push_back(openpi::Value());
  nested.push_back(openpi::Value::boolean(true));
  nested.push_back(openpi::Value::integer(-300000));
  nested.push_back(openpi::Value::number(0.125));
  nested.push_back(openpi::Value::binary({0, 1, 255}));
  openpi::Value message = openpi::Value::map();
  message.set("values", std::move(nested));
  message.set("name", openpi::Value::string("pi0"));
  message.set("matrix", openpi::Value(openpi::make_float32_array(floats, {2, 3})));

  const std::vector<uint8_t> bytes = openpi::encode(message);
  // Array tags are binary keys (msgpack bin8 0xc4), as Python bytes keys are.
  std::vector<uint8_t> tag = {0xc4, 11};
  for (char c : std::string("__ndarray__")) tag.push_back(static_cast<uint8_t>(c));
  CHECK(contains_bytes(bytes, tag));
  CHECK(contains_bytes(bytes, bytes_of("<f4")));

  const openpi::Value decoded = openpi::decode(bytes);
  REQUIRE(decoded.kind() == openpi::Value::Kind::kMap);
  CHECK(decoded.size() == 3);
  CHECK(decoded.key(0) == "values");
  const openpi::Value& values = decoded.at("values");
  REQUIRE(values.size() == 5);
  CHECK(values.item(0).is_nil());
  CHECK(values.item(1).as_bool());
  CHECK(values.item(2).as_int() == -300000);
  CHECK(values.item(3).as_number() == 0.125);
  CHECK(values.item(4).as_binary() == std::vector<uint8_t>{0, 1, 255});
  CHECK(decoded.at("name").as_string() == "pi0");
  const openpi::NdArray& matrix = decoded.at("matrix").as_ndarray();
  CHECK(matrix.dtype == "<f4");
  CHECK(matrix.shape == std::vector<int64_t>{2, 3});
  std::vector<float> round_trip;
  openpi::to_floats(matrix, round_trip);
  CHECK(round_trip == floats);
}

TEST_CASE("openpi codec: other dtypes convert to float, big-endian included") {
  openpi::NdArray doubles;
  doubles.dtype = "<f8";
  doubles.shape = {2};
  const double values[] = {0.5, -7.0};
  doubles.data.assign(reinterpret_cast<const uint8_t*>(values),
                      reinterpret_cast<const uint8_t*>(values) + sizeof(values));
  std::vector<float> floats;
  openpi::to_floats(doubles, floats);
  CHECK(floats == std::vector<float>{0.5f, -7.0f});

  openpi::NdArray big_endian;
  big_endian.dtype = ">i2";
  big_endian.shape = {2};
  big_endian.data = {0x01, 0x02, 0xff, 0xfe};  // 258, -2
  openpi::to_floats(big_endian, floats);
  CHECK(floats == std::vector<float>{258.0f, -2.0f});

  // A numpy scalar decodes to its plain value.
  const std::vector<uint8_t> scalar = {0x83, 0xc4, 13,   '_',  '_', 'n',  'p',  'g', 'e', 'n', 'e',
                                       'r',  'i',  'c',  '_',  '_', 0xc3, 0xc4, 4,   'd', 'a', 't',
                                       'a',  0xcb, 0x40, 0x04, 0,   0,    0,    0,   0,   0,   0xc4,
                                       5,    'd',  't',  'y',  'p', 'e',  0xa3, '<', 'f', '8'};
  CHECK(openpi::decode(scalar).as_number() == 2.5);
}

TEST_CASE("openpi codec: bad input gets one clear error") {
  openpi::NdArray object_array;
  object_array.dtype = "|O";
  object_array.shape = {1};
  object_array.data = std::vector<uint8_t>(8);
  CHECK_CODEC_ERROR(openpi::encode(openpi::Value(object_array)), "object, void or complex");
  CHECK_CODEC_ERROR(openpi::parse_dtype("<c8"), "object, void or complex");
  CHECK_CODEC_ERROR(openpi::parse_dtype("|V8"), "object, void or complex");
  CHECK_CODEC_ERROR(openpi::parse_dtype("<U4"), "not supported");

  // Wrong data size for the shape, caught on decode.
  openpi::Value state = openpi::Value::map();
  state.set("observation/state",
            openpi::Value(openpi::make_float32_array(std::vector<float>(8, 1.0f), {8})));
  std::vector<uint8_t> good = openpi::encode(state);
  std::vector<uint8_t> wrong_shape = good;
  wrong_shape.back() = 9;  // shape [8] -> [9]
  CHECK_CODEC_ERROR(openpi::decode(wrong_shape), "observation/state");
  CHECK_CODEC_ERROR(openpi::decode(wrong_shape), "need 36");

  // Truncated, trailing bytes, not msgpack, empty, ext type, non-string map key, too deep.
  CHECK_CODEC_ERROR(openpi::decode(std::span(good).first(good.size() - 5)), "truncated");
  std::vector<uint8_t> trailing = good;
  trailing.push_back(0x01);
  CHECK_CODEC_ERROR(openpi::decode(trailing), "trailing");
  CHECK_CODEC_ERROR(openpi::decode(bytes_of("\xc1 not msgpack")), "malformed");
  CHECK_CODEC_ERROR(openpi::decode(std::vector<uint8_t>{}), "empty");
  CHECK_CODEC_ERROR(openpi::decode(std::vector<uint8_t>{0xd4, 0x01, 0x00}), "ext");
  CHECK_CODEC_ERROR(openpi::decode(std::vector<uint8_t>{0x81, 0x01, 0x02}), "map keys");
  CHECK_CODEC_ERROR(openpi::decode(std::vector<uint8_t>(100, 0x91)), "malformed");
  CHECK_CODEC_ERROR(openpi::decode(std::vector<uint8_t>{0xdd, 0xff, 0xff, 0xff, 0xff}),
                    "malformed");

  // LIBERO mapping: missing keys, wrong shapes and dtypes are named.
  const std::vector<std::string> cameras = {"agentview", "eye_in_hand"};
  envs::Observation observation;
  openpi::Value request =
      openpi::encode_libero_observation(libero_observation(std::vector<float>(8, 0.5f), "go"));
  CHECK_NOTHROW(openpi::decode_libero_observation(request, cameras, observation));
  openpi::Value no_state = openpi::Value::map();
  for (size_t i = 0; i < request.size(); ++i) {
    if (request.key(i) != "observation/state") no_state.set(request.key(i), request.item(i));
  }
  CHECK_CODEC_ERROR(openpi::decode_libero_observation(no_state, cameras, observation),
                    "missing key 'observation/state'");
  openpi::Value short_state = request;
  short_state.set("observation/state",
                  openpi::Value(openpi::make_float32_array(std::vector<float>(7, 0), {7})));
  CHECK_CODEC_ERROR(openpi::decode_libero_observation(short_state, cameras, observation),
                    "observation/state: expected shape (8,), got (7,)");
  openpi::Value rgba = request;
  rgba.set("observation/image",
           openpi::Value(openpi::make_uint8_array(std::vector<uint8_t>(2 * 2 * 4), {2, 2, 4})));
  CHECK_CODEC_ERROR(openpi::decode_libero_observation(rgba, cameras, observation),
                    "observation/image: expected a uint8 image of shape (H, W, 3)");
  openpi::Value no_wrist = openpi::Value::map();
  for (size_t i = 0; i < request.size(); ++i) {
    if (request.key(i) != "observation/wrist_image") no_wrist.set(request.key(i), request.item(i));
  }
  CHECK_CODEC_ERROR(openpi::decode_libero_observation(no_wrist, cameras, observation),
                    "missing key 'observation/wrist_image'");
  CHECK_NOTHROW(openpi::decode_libero_observation(no_wrist, {}, observation));
  CHECK_FALSE(observation.images.contains("eye_in_hand"));
  openpi::Value no_actions = openpi::Value::map();
  CHECK_CODEC_ERROR(openpi::decode_actions(no_actions), "missing key 'actions'");
}

TEST_CASE("openpi codec: LIBERO observation survives encode and decode") {
  const envs::Observation sent =
      libero_observation({0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f}, "open the drawer");
  const std::vector<uint8_t> bytes = openpi::encode(openpi::encode_libero_observation(sent));
  envs::Observation received;
  const std::vector<std::string> cameras = {"agentview", "eye_in_hand"};
  openpi::decode_libero_observation(openpi::decode(bytes), cameras, received);
  CHECK(received.proprio == sent.proprio);
  CHECK(received.instruction == sent.instruction);
  for (const std::string& camera : cameras) {
    CHECK(received.images.at(camera).width == kImageSize);
    CHECK(received.images.at(camera).height == kImageSize);
    CHECK(received.images.at(camera).pixels == sent.images.at(camera).pixels);
  }
  const policies::ActionChunk chunk = expected_chunk(sent);
  openpi::Value reply = openpi::Value::map();
  reply.set("actions", openpi::Value(openpi::encode_actions(chunk)));
  CHECK(openpi::decode_actions(openpi::decode(openpi::encode(reply))) == chunk);
}

TEST_CASE("serve: C++ client gets metadata and actions and /healthz answers OK") {
  TestServer server;
  const HttpReply health = http_get(server.port, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "OK\n");
  CHECK(http_get(server.port, "/").status == 426);

  WebSocketClient client;
  REQUIRE(!client.connect(server.port));
  const openpi::Value metadata = client.read_value();
  CHECK(metadata.at("policy").as_string() == "test-signature");
  CHECK(metadata.at("action_space").as_string() == "libero_delta_eef_7d");
  CHECK(metadata.at("chunk_length").as_int() == kChunkLength);
  CHECK(metadata.at("image_size").as_int() == kImageSize);
  REQUIRE(metadata.at("cameras").size() == 2);
  CHECK(metadata.at("cameras").item(1).as_string() == "eye_in_hand");

  for (int step = 0; step < 2; ++step) {
    envs::Observation observation = libero_observation(
        {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, float(step)}, "pick up the black bowl");
    observation.step = step;  // the server counts requests per connection
    REQUIRE(!client.write(openpi::encode(openpi::encode_libero_observation(observation))));
    const openpi::Value reply = client.read_value();
    check_reply(reply, observation);
    CHECK((reply.at("server_timing").find("prev_total_ms") != nullptr) == (step > 0));
  }
  // Stopping with a client still connected ends its session.
  server.stop();
  std::string message;
  bool text = false;
  CHECK(client.read(message, text));
}

TEST_CASE("serve: an independent Python openpi client round trip") {
  const auto [module_status, module_output] =
      run_command("/usr/bin/python3 -c 'import websockets, msgpack, numpy' 2>&1");
  REQUIRE_MESSAGE(module_status == 0,
                  "/usr/bin/python3 lacks websockets, msgpack or numpy: run scripts/setup.sh (",
                  module_output, ")");
  TestServer server;
  const auto [status, output] = run_command(python_client(server.port, "--requests 2"));
  REQUIRE_MESSAGE(status == 0, "python client failed: ", output);
  const nlohmann::json result = nlohmann::json::parse(output);
  CHECK(result["metadata"]["policy"] == "test-signature");
  CHECK(result["metadata"]["chunk_length"] == kChunkLength);
  REQUIRE(result["replies"].size() == 2);
  for (int step = 0; step < 2; ++step) {
    const nlohmann::json& reply = result["replies"][step];
    CHECK(reply["dtype"] == "<f4");
    CHECK(reply["shape"] == nlohmann::json::array({kChunkLength, 7}));
    // The client sends state + request index.
    std::vector<float> state = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
    for (float& value : state) value += float(step);
    envs::Observation observation = libero_observation(state, "put the bowl on the plate");
    observation.step = step;
    const policies::ActionChunk expected = expected_chunk(observation);
    float max_difference = 0;
    for (int i = 0; i < kChunkLength; ++i) {
      for (int j = 0; j < 7; ++j) {
        max_difference = std::max(max_difference,
                                  std::abs(reply["actions"][i][j].get<float>() - expected[i][j]));
      }
    }
    CHECK_MESSAGE(max_difference == 0.0f, "max difference ", max_difference);
    CHECK(reply["server_timing"]["infer_ms"].get<double>() >= 0);
    CHECK(reply["server_timing"].contains("prev_total_ms") == (step > 0));
  }

  // An error reaches the Python client as a text frame.
  const auto [error_status, error_output] = run_command(python_client(server.port, "--omit-state"));
  CHECK(error_status == 3);
  CHECK_MESSAGE(error_output.find("missing key 'observation/state'") != std::string::npos,
                error_output);
}

TEST_CASE("serve: malformed requests and policy failures get an error frame and serving goes on") {
  TestServer server;
  const auto expect_error_frame = [&](const std::vector<uint8_t>& request,
                                      const std::string& text) {
    WebSocketClient client;
    REQUIRE(!client.connect(server.port));
    client.read_value();
    REQUIRE(!client.write(request));
    std::string message;
    bool is_text = false;
    REQUIRE(!client.read(message, is_text));
    CHECK(is_text);
    CHECK_MESSAGE(message.find(text) != std::string::npos, "error frame: ", message);
    // Then the server closes the connection (close code 1011).
    CHECK(client.read(message, is_text) == websocket::error::closed);
  };
  expect_error_frame(bytes_of("\xc1 not msgpack"), "bad request: msgpack: malformed");
  expect_error_frame(bytes_of("not msgpack"), "trailing bytes");
  expect_error_frame(openpi::encode(openpi::Value::string("hello")), "expected a msgpack map");
  openpi::Value no_state = openpi::Value::map();
  no_state.set("prompt", openpi::Value::string("x"));
  no_state.set("observation/image", openpi::Value(openpi::make_uint8_array(
                                        libero_observation({}, "").images["agentview"].pixels,
                                        {kImageSize, kImageSize, 3})));
  no_state.set("observation/wrist_image", no_state.at("observation/image"));
  expect_error_frame(openpi::encode(no_state), "missing key 'observation/state'");
  expect_error_frame(openpi::encode(openpi::encode_libero_observation(
                         libero_observation(std::vector<float>(8, 0), "fail"))),
                     "policy failed: asked to fail");

  // Other connections are served as before.
  WebSocketClient client;
  REQUIRE(!client.connect(server.port));
  client.read_value();
  const envs::Observation observation = libero_observation(std::vector<float>(8, 0.25f), "go");
  REQUIRE(!client.write(openpi::encode(openpi::encode_libero_observation(observation))));
  check_reply(client.read_value(), observation);
}

TEST_CASE("serve: concurrent connections are all answered, batched up to max_batch") {
  harness::ServeOptions options;
  options.max_batch = 4;
  TestServer server(options);
  constexpr int kClients = 4;
  constexpr int kRequests = 3;
  std::vector<std::thread> threads;
  std::atomic<int> correct_replies{0};
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      WebSocketClient client;
      if (client.connect(server.port)) return;
      std::string message;
      bool text = false;
      if (client.read(message, text)) return;
      for (int step = 0; step < kRequests; ++step) {
        envs::Observation observation =
            libero_observation(std::vector<float>(8, float(c) + 0.5f), std::string(c + 1, 'a'));
        observation.step = step;
        if (client.write(openpi::encode(openpi::encode_libero_observation(observation)))) return;
        if (client.read(message, text) || text) return;
        const policies::ActionChunk received = openpi::decode_actions(openpi::decode(
            std::span(reinterpret_cast<const uint8_t*>(message.data()), message.size())));
        if (received == expected_chunk(observation)) ++correct_replies;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(correct_replies == kClients * kRequests);
  CHECK(server.policy.largest_batch >= 1);
  CHECK(server.policy.largest_batch <= 4);
  MESSAGE("largest batch seen: ", server.policy.largest_batch.load());
}

TEST_CASE("serve: the API key is enforced when set") {
  harness::ServeOptions options;
  options.api_key = "secret-key";
  TestServer server(options);

  WebSocketClient anonymous;
  CHECK(anonymous.connect(server.port) == websocket::error::upgrade_declined);
  CHECK(anonymous.handshake_status == 401);
  WebSocketClient wrong;
  CHECK(wrong.connect(server.port, "secret-kez") == websocket::error::upgrade_declined);
  CHECK(wrong.handshake_status == 401);

  WebSocketClient client;
  REQUIRE(!client.connect(server.port, "secret-key"));
  CHECK(client.read_value().at("policy").as_string() == "test-signature");
  const envs::Observation observation = libero_observation(std::vector<float>(8, 1.0f), "go");
  REQUIRE(!client.write(openpi::encode(openpi::encode_libero_observation(observation))));
  check_reply(client.read_value(), observation);

  const auto [status, output] = run_command(python_client(server.port, "--api-key secret-key"));
  CHECK_MESSAGE(status == 0, output);
  const auto [refused_status, refused_output] =
      run_command(python_client(server.port, "--api-key nope 2>&1"));
  CHECK(refused_status == 1);
  CHECK_MESSAGE(refused_output.find("401") != std::string::npos, refused_output);
}

TEST_CASE("serve: bad options and a busy port give clear errors") {
  SignaturePolicy policy;
  harness::ServeOptions bad_batch;
  bad_batch.max_batch = 0;
  CHECK_THROWS_WITH_AS(harness::serve(policy, bad_batch),
                       "serve: max_batch must be at least 1, got 0", std::runtime_error);
  harness::ServeOptions bad_port;
  bad_port.port = 70000;
  CHECK_THROWS_AS(harness::serve(policy, bad_port), std::runtime_error);

  TestServer server;
  harness::ServeOptions busy;
  busy.port = server.port;
  std::string message;
  try {
    harness::serve(policy, busy);
  } catch (const std::runtime_error& error) {
    message = error.what();
  }
  CHECK_MESSAGE(message.find("cannot listen on 127.0.0.1:" + std::to_string(server.port)) !=
                    std::string::npos,
                message);
}

TEST_CASE("serve: the CLI subcommand serves until SIGINT") {
  CLI::App app("vla-harness");
  std::string requested_policy;
  harness::add_serve_command(app, [&](const std::string& spec) {
    requested_policy = spec;
    return std::make_unique<SignaturePolicy>();
  });
  const int port = free_port();
  const std::vector<std::string> arguments = {"vla-harness", "serve",  "--policy",
                                              "signature:x", "--port", std::to_string(port)};
  std::vector<const char*> argv;
  for (const std::string& argument : arguments) argv.push_back(argument.c_str());
  std::exception_ptr failure;
  std::thread command([&] {
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (...) {
      failure = std::current_exception();
    }
  });
  bool healthy = false;
  for (int attempt = 0; attempt < 200 && !healthy && !failure; ++attempt) {
    try {
      healthy = http_get(port, "/healthz").status == 200;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  CHECK(healthy);
  if (healthy) std::raise(SIGINT);  // handled by the command while it serves
  command.join();
  CHECK_FALSE(failure);
  CHECK(requested_policy == "signature:x");

  CLI::App bad("vla-harness");
  harness::add_serve_command(
      bad, [](const std::string&) { return std::make_unique<SignaturePolicy>(); });
  const char* bad_argv[] = {"vla-harness", "serve", "--policy", "x", "--port", "70000"};
  CHECK_THROWS_AS(bad.parse(6, bad_argv), CLI::ValidationError);
}
