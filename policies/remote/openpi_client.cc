#include "policies/remote/openpi_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <utility>

namespace policies::remote {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using WebSocket = websocket::stream<beast::tcp_stream>;

constexpr uint64_t kMaxMessageBytes = uint64_t{256} << 20;  // largest reply accepted

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Clock::time_point deadline_after(double seconds) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g s", seconds);
  return text;
}

// A number at reply[outer][inner], if the server sent one.
std::optional<double> reported_ms(const openpi::Value& reply, std::string_view outer,
                                  std::string_view inner) {
  const openpi::Value* group = reply.find(outer);
  if (group == nullptr) return std::nullopt;
  const openpi::Value* value = group->find(inner);
  if (value == nullptr || (value->kind() != openpi::Value::Kind::kFloat &&
                           value->kind() != openpi::Value::Kind::kInt)) {
    return std::nullopt;
  }
  return value->as_number();
}

}  // namespace

// The websocket connections, one per slot, driven by one single-threaded
// io_context inside act() (which the harness calls one at a time).
class OpenpiPolicy::Connections {
 public:
  struct Slot {
    std::unique_ptr<WebSocket> socket;  // null: not connected
    int connections = 0;                // made so far
    beast::flat_buffer buffer;          // the last message read
    std::vector<uint8_t> request;       // the encoded observation
    bool finished = false;              // the current operation completed
    std::string error;                  // its error, if any
    Clock::time_point sent;             // when the request write started
    double round_trip_ms = 0;
  };

  Connections(const Endpoint& endpoint, const Profile& profile, ConnectionSettings settings)
      : endpoint_(endpoint), settings_(settings), encoder_(profile) {
    if (const auto it = endpoint.params.find("api_key"); it != endpoint.params.end()) {
      api_key_ = it->second;
    }
    base_ = "openpi://" + endpoint.host + ":" + std::to_string(endpoint.port);
  }

  // One connection attempt: TCP connect, websocket handshake, metadata. Returns
  // the problem, or "" when connected.
  std::string connect_once(Slot& slot) {
    slot.socket.reset();
    tcp::resolver resolver(io_);
    beast::error_code error;
    const auto endpoints = resolver.resolve(endpoint_.host, std::to_string(endpoint_.port), error);
    if (error) return "cannot resolve host '" + endpoint_.host + "': " + error.message();
    auto socket = std::make_unique<WebSocket>(io_);
    socket->read_message_max(kMaxMessageBytes);
    socket->set_option(
        websocket::stream_base::decorator([key = api_key_](websocket::request_type& request) {
          request.set(http::field::user_agent, "vla-harness");
          if (!key.empty()) request.set(http::field::authorization, "Api-Key " + key);
        }));
    websocket::response_type response;
    slot.finished = false;
    slot.error.clear();
    slot.buffer.clear();
    WebSocket& ws = *socket;
    const std::string host_header = endpoint_.host + ":" + std::to_string(endpoint_.port);
    beast::get_lowest_layer(ws).async_connect(
        endpoints, [&](beast::error_code connect_error, const tcp::endpoint&) {
          if (connect_error) {
            slot.error = "cannot connect: " + connect_error.message();
            slot.finished = true;
            return;
          }
          ws.async_handshake(response, host_header, "/", [&](beast::error_code handshake_error) {
            if (handshake_error) {
              slot.error = "websocket handshake failed: " + handshake_error.message();
              if (response.result_int() != 0) {
                std::string body = response.body();
                while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
                  body.pop_back();
                }
                slot.error += " (HTTP " + std::to_string(response.result_int()) + ": " + body + ")";
              }
              slot.finished = true;
              return;
            }
            ws.async_read(slot.buffer, [&](beast::error_code read_error, size_t) {
              if (read_error) {
                slot.error = "no metadata from the server: " + read_error.message();
              } else if (!ws.got_binary()) {
                slot.error = "server error instead of metadata: " +
                             beast::buffers_to_string(slot.buffer.cdata());
              }
              slot.finished = true;
            });
          });
        });
    if (!run_until(deadline_after(settings_.connect_timeout_s), [&] { return slot.finished; })) {
      beast::get_lowest_layer(ws).close();
      drain();
      return "no connection within " + seconds_text(settings_.connect_timeout_s) +
             " (connect, handshake and metadata)";
    }
    if (!slot.error.empty()) return slot.error;
    try {
      const auto data = slot.buffer.cdata();
      openpi::Value metadata = openpi::decode(
          std::span<const uint8_t>(static_cast<const uint8_t*>(data.data()), data.size()));
      if (!have_metadata_) {
        metadata_ = std::move(metadata);
        have_metadata_ = true;
      }
    } catch (const std::exception& exception) {
      return std::string("bad metadata from the server: ") + exception.what();
    }
    ws.binary(true);
    slot.socket = std::move(socket);
    ++slot.connections;
    return "";
  }

  // Connects `slot` with retries and backoff. Returns "" or the last problem.
  std::string connect(Slot& slot, const std::function<void(int)>& backoff) {
    std::string problem;
    for (int attempt = 1; attempt <= settings_.connect_attempts; ++attempt) {
      backoff(attempt);
      problem = connect_once(slot);
      if (problem.empty()) return "";
    }
    return base_ + ": " + problem + " (after " + std::to_string(settings_.connect_attempts) +
           " attempt" + (settings_.connect_attempts == 1 ? "" : "s") + ")";
  }

  // Sends the slots' requests together and reads every reply.
  void exchange(const std::vector<Slot*>& active) {
    for (Slot* slot : active) {
      slot->finished = false;
      slot->error.clear();
      slot->buffer.clear();
      slot->sent = Clock::now();
      WebSocket& ws = *slot->socket;
      ws.async_write(asio::buffer(slot->request), [slot, &ws](beast::error_code error, size_t) {
        if (error) {
          slot->error = "connection lost while sending: " + error.message();
          slot->finished = true;
          return;
        }
        ws.async_read(slot->buffer, [slot](beast::error_code read_error, size_t) {
          slot->round_trip_ms = milliseconds_since(slot->sent);
          if (read_error) slot->error = "connection lost before the reply: " + read_error.message();
          slot->finished = true;
        });
      });
    }
    const bool all = run_until(deadline_after(settings_.request_timeout_s), [&] {
      for (const Slot* slot : active) {
        if (!slot->finished) return false;
      }
      return true;
    });
    if (all) return;
    std::vector<Slot*> late;
    for (Slot* slot : active) {
      if (slot->finished) continue;
      beast::get_lowest_layer(*slot->socket).close();
      late.push_back(slot);
    }
    drain();
    for (Slot* slot : late) {
      slot->error = "no reply within " + seconds_text(settings_.request_timeout_s);
      slot->finished = true;
    }
  }

  Slot& slot(int index) { return slots_[index]; }
  ObservationEncoder& encoder() { return encoder_; }
  const std::string& base() const { return base_; }
  const openpi::Value& metadata() const { return metadata_; }

 private:
  // Runs the event loop until `done` or the deadline. Returns `done()`.
  bool run_until(Clock::time_point deadline, const std::function<bool()>& done) {
    while (!done()) {
      io_.restart();
      if (io_.run_one_until(deadline) == 0) break;
    }
    return done();
  }

  // Runs the handlers of operations cancelled by closing their sockets.
  void drain() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_{1};
  Endpoint endpoint_;
  ConnectionSettings settings_;
  std::string api_key_;
  std::string base_;  // "openpi://HOST:PORT" for messages
  ObservationEncoder encoder_;
  std::map<int, Slot> slots_;
  openpi::Value metadata_;
  bool have_metadata_ = false;
};

OpenpiPolicy::OpenpiPolicy(const std::string& url, Profile profile, RemoteOptions options)
    : RemotePolicy(std::move(profile), std::move(options), url) {
  connections_ = std::make_unique<Connections>(parse_endpoint(url), profile_, options_.connection);
  const std::string problem =
      connections_->connect(connections_->slot(0), [this](int attempt) { backoff(attempt); });
  if (!problem.empty()) throw std::runtime_error("openpi policy: " + problem);
}

OpenpiPolicy::~OpenpiPolicy() = default;

const openpi::Value& OpenpiPolicy::metadata() const { return connections_->metadata(); }

std::vector<ActionChunk> OpenpiPolicy::act(std::span<const PolicyQuery> batch) {
  std::vector<ActionChunk> chunks(batch.size());
  std::vector<std::string> errors(batch.size());
  std::vector<Connections::Slot*> active;
  std::vector<size_t> active_query;
  for (size_t i = 0; i < batch.size(); ++i) {
    Connections::Slot& slot = connections_->slot(batch[i].slot);
    openpi::encode(connections_->encoder().encode(*batch[i].observation), slot.request);
    if (!slot.socket) {
      const bool reconnect = slot.connections > 0;
      errors[i] = connections_->connect(slot, [this](int attempt) { backoff(attempt); });
      if (!errors[i].empty()) continue;
      if (reconnect) record_reconnect(batch[i].slot);
    }
    active.push_back(&slot);
    active_query.push_back(i);
  }
  connections_->exchange(active);
  for (size_t k = 0; k < active.size(); ++k) {
    Connections::Slot& slot = *active[k];
    const size_t i = active_query[k];
    const std::string prefix = connections_->base() + ": ";
    if (!slot.error.empty()) {
      errors[i] = prefix + slot.error;
      slot.socket.reset();
      continue;
    }
    const auto data = slot.buffer.cdata();
    if (!slot.socket->got_binary()) {
      // openpi's servers send the error (a traceback) as text, then close.
      errors[i] = prefix + "server error: " + beast::buffers_to_string(data);
      slot.socket.reset();
      continue;
    }
    try {
      const openpi::Value reply = openpi::decode(
          std::span<const uint8_t>(static_cast<const uint8_t*>(data.data()), data.size()));
      chunks[i] = decode_action_chunk(profile_, reply);
      record_request(batch[i].slot, slot.round_trip_ms,
                     reported_ms(reply, "server_timing", "infer_ms"),
                     reported_ms(reply, "policy_timing", "infer_ms"));
    } catch (const std::exception& exception) {
      errors[i] = prefix + exception.what();
    }
  }
  for (const std::string& error : errors) {
    if (!error.empty()) throw_batch_error(std::move(chunks), std::move(errors));
  }
  return chunks;
}

}  // namespace policies::remote
