#include "harness/serve.h"

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "policies/openpi_codec.h"

namespace harness {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace openpi = policies::openpi;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kMaxMessageBytes = uint64_t{256} << 20;  // largest websocket message accepted
constexpr uint32_t kMaxHttpBodyBytes = 64 << 10;            // body of the request before upgrade
constexpr auto kHttpRequestTimeout =
    std::chrono::seconds(30);  // to send the request before upgrade
constexpr auto kStopPollInterval = std::chrono::milliseconds(50);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);  // after a failed accept

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void log_error(const std::string& where, const std::string& message) {
  std::cerr << "serve: " << where << ": " << message << std::endl;
}

// One request waiting for the policy. Each websocket session is one, reused for all
// of its requests (a session sends its next request only after the reply).
class InferenceRequest {
 public:
  virtual ~InferenceRequest() = default;
  // Called on the inference thread once `actions` or `error` and `act_ms` are set.
  virtual void on_inferred() = 0;

  envs::Observation observation;  // set by the session before submitting
  policies::ActionChunk actions;  // set by the inference thread
  std::string error;              // non-empty when the policy failed
  double act_ms = 0;              // time in Policy::act for the batch holding this request
};

// Runs Policy::act on its own thread, one call at a time, stacking up to max_batch
// queued requests into one call. Network threads never block on the policy.
class InferenceQueue {
 public:
  InferenceQueue(policies::Policy& policy, int max_batch) : policy_(policy), max_batch_(max_batch) {
    batch_.reserve(max_batch);
    queries_.reserve(max_batch);
    worker_ = std::thread([this] { run(); });
  }

  ~InferenceQueue() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  void submit(std::shared_ptr<InferenceRequest> request) {
    {
      std::lock_guard lock(mutex_);
      pending_.push_back(std::move(request));
    }
    wake_.notify_one();
  }

 private:
  void run() {
    while (true) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
        if (stopping_) return;
        while (!pending_.empty() && static_cast<int>(batch_.size()) < max_batch_) {
          batch_.push_back(std::move(pending_.front()));
          pending_.pop_front();
        }
      }
      queries_.clear();
      for (size_t i = 0; i < batch_.size(); ++i) {
        queries_.push_back({static_cast<int>(i), &batch_[i]->observation});
      }
      std::string error;
      std::vector<policies::ActionChunk> chunks;
      const Clock::time_point start = Clock::now();
      try {
        chunks = policy_.act(queries_);
        if (chunks.size() != batch_.size()) {
          error = "policy returned " + std::to_string(chunks.size()) + " action chunks for " +
                  std::to_string(batch_.size()) + " observations";
        }
      } catch (const std::exception& exception) {
        error = std::string("policy failed: ") + exception.what();
      }
      const double act_ms = milliseconds_since(start);
      for (size_t i = 0; i < batch_.size(); ++i) {
        InferenceRequest& request = *batch_[i];
        request.act_ms = act_ms;
        request.error = error;
        if (error.empty()) {
          request.actions = std::move(chunks[i]);
          if (request.actions.empty()) request.error = "policy returned an empty action chunk";
        }
        request.on_inferred();
      }
      batch_.clear();
    }
  }

  policies::Policy& policy_;
  const int max_batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<InferenceRequest>> pending_;  // guarded by mutex_
  bool stopping_ = false;                                  // guarded by mutex_
  std::vector<std::shared_ptr<InferenceRequest>> batch_;   // worker thread only
  std::vector<policies::PolicyQuery> queries_;             // worker thread only
  std::thread worker_;
};

// What every session needs; lives as long as serve().
struct ServerContext {
  policies::PolicyInfo info;
  std::string api_key;
  std::vector<uint8_t> metadata;  // msgpack map sent on connect
  InferenceQueue* queue = nullptr;
};

std::vector<uint8_t> encode_metadata(const policies::PolicyInfo& info, int max_batch) {
  openpi::Value cameras = openpi::Value::array();
  for (const std::string& camera : info.cameras) cameras.push_back(openpi::Value::string(camera));
  openpi::Value metadata = openpi::Value::map();
  metadata.set("server", openpi::Value::string("vla-harness"));
  metadata.set("policy", openpi::Value::string(info.name));
  metadata.set("action_space", openpi::Value::string(info.action_space));
  metadata.set("chunk_length", openpi::Value::integer(info.chunk_length));
  metadata.set("open_loop_steps", openpi::Value::integer(info.open_loop_steps));
  metadata.set("cameras", std::move(cameras));
  metadata.set("image_size", openpi::Value::integer(info.image_size));
  metadata.set("max_batch", openpi::Value::integer(max_batch));
  return openpi::encode(metadata);
}

// Compares without stopping at the first difference, so timing does not leak the key.
bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return difference == 0;
}

// One websocket connection: metadata, then request -> reply until either side closes.
class WebSocketSession : public InferenceRequest,
                         public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(beast::tcp_stream&& stream, const ServerContext& context)
      : websocket_(std::move(stream)), context_(context) {
    beast::error_code ignored;
    const tcp::endpoint remote = websocket_.next_layer().socket().remote_endpoint(ignored);
    peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
  }

  void start(const http::request<http::string_body>& upgrade) {
    websocket_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    websocket_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, "vla-harness");
    }));
    websocket_.read_message_max(kMaxMessageBytes);
    websocket_.async_accept(
        upgrade, beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
  }

  void on_inferred() override {
    asio::post(websocket_.get_executor(),
               beast::bind_front_handler(&WebSocketSession::on_inference_done, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code error) {
    if (error) return log_error(peer_, "websocket handshake failed: " + error.message());
    websocket_.binary(true);
    websocket_.async_write(
        asio::buffer(context_.metadata),
        beast::bind_front_handler(&WebSocketSession::on_reply_written, shared_from_this()));
  }

  void read_next() {
    buffer_.clear();
    websocket_.async_read(
        buffer_, beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code error, size_t) {
    if (error) {
      if (error != websocket::error::closed && error != asio::error::eof &&
          error != asio::error::operation_aborted && error != asio::error::connection_reset) {
        log_error(peer_, "read failed: " + error.message());
      }
      return;
    }
    request_start_ = Clock::now();
    if (!websocket_.got_binary())
      return fail("bad request: expected a binary msgpack frame, got text");
    try {
      const auto data = buffer_.cdata();
      const openpi::Value request = openpi::decode(
          std::span<const uint8_t>(static_cast<const uint8_t*>(data.data()), data.size()));
      openpi::decode_libero_observation(request, context_.info.cameras, observation);
      observation.step = requests_served_;
    } catch (const std::exception& exception) {
      return fail(std::string("bad request: ") + exception.what());
    }
    context_.queue->submit(shared_from_this());
  }

  void on_inference_done() {
    if (!error.empty()) return fail(error);
    try {
      openpi::Value server_timing = openpi::Value::map();
      server_timing.set("infer_ms", openpi::Value::number(milliseconds_since(request_start_)));
      if (prev_total_ms_)
        server_timing.set("prev_total_ms", openpi::Value::number(*prev_total_ms_));
      openpi::Value policy_timing = openpi::Value::map();
      policy_timing.set("infer_ms", openpi::Value::number(act_ms));
      openpi::Value reply = openpi::Value::map();
      reply.set(std::string(openpi::libero::kActionsKey),
                openpi::Value(openpi::encode_actions(actions)));
      reply.set("server_timing", std::move(server_timing));
      reply.set("policy_timing", std::move(policy_timing));
      openpi::encode(reply, reply_bytes_);
    } catch (const std::exception& exception) {
      return fail(std::string("cannot encode the reply: ") + exception.what());
    }
    ++requests_served_;
    websocket_.binary(true);
    websocket_.async_write(
        asio::buffer(reply_bytes_),
        beast::bind_front_handler(&WebSocketSession::on_reply_written, shared_from_this()));
  }

  void on_reply_written(beast::error_code error, size_t) {
    if (error) return log_error(peer_, "write failed: " + error.message());
    if (requests_served_ > 0) prev_total_ms_ = milliseconds_since(request_start_);
    read_next();
  }

  // As openpi: the error text in a text frame, then close with "internal error".
  void fail(std::string message) {
    log_error(peer_, message);
    error_text_ = std::move(message);
    websocket_.text(true);
    websocket_.async_write(
        asio::buffer(error_text_),
        beast::bind_front_handler(&WebSocketSession::on_error_written, shared_from_this()));
  }

  void on_error_written(beast::error_code error, size_t) {
    if (error) return;
    websocket_.async_close(
        websocket::close_reason(websocket::close_code::internal_error,
                                "Internal server error. Error message included in previous frame."),
        [self = shared_from_this()](beast::error_code) {});
  }

  websocket::stream<beast::tcp_stream> websocket_;
  const ServerContext& context_;
  std::string peer_;                     // "address:port" of the client, for logs
  beast::flat_buffer buffer_;            // the last request frame
  std::vector<uint8_t> reply_bytes_;     // the last reply, kept until written
  std::string error_text_;               // the error frame, kept until written
  Clock::time_point request_start_;      // when the current request arrived
  std::optional<double> prev_total_ms_;  // receive-to-sent time of the previous request
  int requests_served_ = 0;
};

// Reads the first HTTP request of a connection: /healthz, or a websocket upgrade.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, const ServerContext& context)
      : stream_(std::move(socket)), context_(context) {}

  void start() {
    parser_.emplace();
    parser_->body_limit(kMaxHttpBodyBytes);
    stream_.expires_after(kHttpRequestTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

 private:
  void on_read(beast::error_code error, size_t) {
    if (error) return;  // closed, timed out or not HTTP: nothing to answer
    http::request<http::string_body> request = parser_->release();
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/healthz") return respond(http::status::ok, "OK\n", request.version());
    if (!websocket::is_upgrade(request)) {
      return respond(http::status::upgrade_required,
                     "Failed to open a WebSocket connection: expected a websocket upgrade request "
                     "(GET /healthz for health).\n",
                     request.version());
    }
    if (!context_.api_key.empty()) {
      const auto header = request.find(http::field::authorization);
      const std::string_view given =
          header == request.end()
              ? std::string_view()
              : std::string_view(header->value().data(), header->value().size());
      if (!equal_constant_time(given, "Api-Key " + context_.api_key)) {
        return respond(http::status::unauthorized,
                       "Unauthorized: missing or wrong 'Authorization: Api-Key <key>' header.\n",
                       request.version());
      }
    }
    stream_.expires_never();
    std::make_shared<WebSocketSession>(std::move(stream_), context_)->start(request);
  }

  void respond(http::status status, std::string body, unsigned version) {
    response_.result(status);
    response_.version(version);
    response_.set(http::field::server, "vla-harness");
    response_.set(http::field::content_type, "text/plain");
    response_.keep_alive(false);
    response_.body() = std::move(body);
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&HttpSession::on_written, shared_from_this()));
  }

  void on_written(beast::error_code error, size_t) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  const ServerContext& context_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

// Accepts connections, each on its own strand; retries after a delay on errors
// such as running out of file descriptors.
class Listener {
 public:
  Listener(tcp::acceptor& acceptor, const ServerContext& context)
      : acceptor_(acceptor), context_(context), retry_timer_(acceptor.get_executor()) {}

  void accept_next() {
    acceptor_.async_accept(asio::make_strand(acceptor_.get_executor()),
                           [this](beast::error_code error, tcp::socket socket) {
                             if (error == asio::error::operation_aborted) return;
                             if (error) {
                               log_error("accept", error.message());
                               retry_timer_.expires_after(kAcceptRetryDelay);
                               retry_timer_.async_wait([this](beast::error_code wait_error) {
                                 if (!wait_error) accept_next();
                               });
                               return;
                             }
                             std::make_shared<HttpSession>(std::move(socket), context_)->start();
                             accept_next();
                           });
  }

 private:
  tcp::acceptor& acceptor_;
  const ServerContext& context_;
  asio::steady_timer retry_timer_;
};

// Polls the stop flag; on stop closes the acceptor and stops the event loop.
class StopWatcher {
 public:
  StopWatcher(asio::io_context& io, tcp::acceptor& acceptor, const std::atomic<bool>& stop)
      : io_(io), acceptor_(acceptor), stop_(stop), timer_(io) {}

  void watch() {
    timer_.expires_after(kStopPollInterval);
    timer_.async_wait([this](beast::error_code error) {
      if (error) return;
      if (stop_.load()) {
        beast::error_code ignored;
        acceptor_.close(ignored);
        io_.stop();
        return;
      }
      watch();
    });
  }

 private:
  asio::io_context& io_;
  tcp::acceptor& acceptor_;
  const std::atomic<bool>& stop_;
  asio::steady_timer timer_;
};

// Set by SIGINT / SIGTERM while `vla-harness serve` runs.
std::atomic<bool> stop_requested{false};

extern "C" void request_stop(int) { stop_requested.store(true); }

// Installs the stop handlers for SIGINT and SIGTERM and restores the previous ones.
class StopOnSignals {
 public:
  StopOnSignals() {
    stop_requested.store(false);
    previous_interrupt_ = std::signal(SIGINT, request_stop);
    previous_terminate_ = std::signal(SIGTERM, request_stop);
  }
  ~StopOnSignals() {
    std::signal(SIGINT, previous_interrupt_);
    std::signal(SIGTERM, previous_terminate_);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  void (*previous_interrupt_)(int) = SIG_DFL;
  void (*previous_terminate_)(int) = SIG_DFL;
};

}  // namespace

void serve(policies::Policy& policy, const ServeOptions& options, const std::atomic<bool>* stop) {
  if (options.port < 0 || options.port > 65535) {
    throw std::runtime_error("serve: port must be in 0..65535, got " +
                             std::to_string(options.port));
  }
  if (options.max_batch < 1) {
    throw std::runtime_error("serve: max_batch must be at least 1, got " +
                             std::to_string(options.max_batch));
  }
  ServerContext context;
  context.info = policy.info();
  context.api_key = options.api_key;
  context.metadata = encode_metadata(context.info, options.max_batch);
  // Requests are stacked into batch slots 0..max_batch-1.
  for (int slot = 0; slot < options.max_batch; ++slot) policy.reset(slot, 0);

  asio::io_context io(1);
  tcp::acceptor acceptor(io);
  const std::string address = options.host + ":" + std::to_string(options.port);
  beast::error_code error;
  tcp::resolver resolver(io);
  const auto endpoints =
      resolver.resolve(options.host, std::to_string(options.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, error);
  if (error || endpoints.empty()) {
    throw std::runtime_error("serve: cannot resolve host '" + options.host +
                             "': " + error.message());
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error)
    throw std::runtime_error("serve: cannot listen on " + address + ": " + error.message());

  // Destroyed before `io`: joins the inference thread while the event loop still exists.
  InferenceQueue queue(policy, options.max_batch);
  context.queue = &queue;
  Listener listener(acceptor, context);
  listener.accept_next();
  std::optional<StopWatcher> stop_watcher;
  if (stop != nullptr) {
    stop_watcher.emplace(io, acceptor, *stop);
    stop_watcher->watch();
  }
  if (options.on_listening) options.on_listening(acceptor.local_endpoint().port());

  while (!io.stopped()) {
    try {
      io.run();
    } catch (const std::exception& exception) {
      log_error("event loop", exception.what());
    }
  }
}

void add_serve_command(
    CLI::App& app,
    std::function<std::unique_ptr<policies::Policy>(const std::string&)> make_policy) {
  CLI::App* command =
      app.add_subcommand("serve", "Expose a policy as an openpi-compatible websocket server");
  auto options = std::make_shared<ServeOptions>();
  auto policy_spec = std::make_shared<std::string>();
  command->add_option("--policy", *policy_spec, "Policy to serve: NAME or NAME:ARGUMENT")
      ->required();
  command->add_option("--host", options->host, "Bind address")->capture_default_str();
  command->add_option("--port", options->port, "TCP port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  command->add_option("--api-key", options->api_key,
                      "Require the header 'Authorization: Api-Key KEY' from websocket clients");
  command
      ->add_option("--max-batch", options->max_batch,
                   "Most queued requests from different connections per policy call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command->callback([options, policy_spec, make_policy = std::move(make_policy)] {
    const std::unique_ptr<policies::Policy> policy = make_policy(*policy_spec);
    const std::string name = policy->info().name;
    ServeOptions run_options = *options;
    run_options.on_listening = [&](int port) {
      std::cout << "serving " << name << " on ws://" << run_options.host << ":" << port
                << " (GET /healthz for health; Ctrl-C stops)" << std::endl;
      if (options->on_listening) options->on_listening(port);
    };
    const StopOnSignals stop_on_signals;
    serve(*policy, run_options, &stop_requested);
    std::cout << "serve: stopped" << std::endl;
  });
}

}  // namespace harness
