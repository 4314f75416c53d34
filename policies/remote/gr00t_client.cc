#include "policies/remote/gr00t_client.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "policies/remote/npy.h"

namespace policies::remote {
namespace {

using Clock = std::chrono::steady_clock;
using openpi::Value;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g s", seconds);
  return text;
}

std::span<const uint8_t> bytes_of(const zmq::message_t& message) {
  return {static_cast<const uint8_t*>(message.data()), message.size()};
}

// A reply's "error" entry as text.
std::string error_text(const Value& error) {
  if (error.kind() == Value::Kind::kString) return error.as_string();
  if (error.kind() == Value::Kind::kBinary) {
    const auto& bytes = error.as_binary();
    return std::string(bytes.begin(), bytes.end());
  }
  return "(an error entry that is not a string)";
}

// Modality keys in get_modality_config's reply: {"video": ModalityConfig, ...},
// each {"__ModalityConfig_class__": true, "as_json": "{...modality_keys...}"}.
void collect_modality_keys(const Value& reply, std::vector<std::string>& keys) {
  if (reply.kind() != Value::Kind::kMap) return;
  for (size_t i = 0; i < reply.size(); ++i) {
    const Value& entry = reply.item(i);
    if (entry.kind() != Value::Kind::kMap) continue;
    nlohmann::json config;
    if (const Value* as_json = entry.find("as_json");
        as_json != nullptr && as_json->kind() == Value::Kind::kString) {
      config = nlohmann::json::parse(as_json->as_string(), nullptr, false);
    }
    if (config.is_object() && config.contains("modality_keys") &&
        config["modality_keys"].is_array()) {
      for (const auto& key : config["modality_keys"]) {
        if (key.is_string()) keys.push_back(key.get<std::string>());
      }
    } else if (const Value* list = entry.find("modality_keys");
               list != nullptr && list->kind() == Value::Kind::kArray) {
      for (size_t k = 0; k < list->size(); ++k) {
        if (list->item(k).kind() == Value::Kind::kString) keys.push_back(list->item(k).as_string());
      }
    }
  }
}

}  // namespace

Value to_gr00t_wire(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNdArray: {
      std::vector<uint8_t> npy;
      encode_npy(value.as_ndarray(), npy);
      Value wrapped = Value::map();
      wrapped.set("__ndarray_class__", Value::boolean(true));
      wrapped.set("as_npy", Value::binary(std::move(npy)));
      return wrapped;
    }
    case Value::Kind::kArray: {
      Value out = Value::array();
      for (size_t i = 0; i < value.size(); ++i) out.push_back(to_gr00t_wire(value.item(i)));
      return out;
    }
    case Value::Kind::kMap: {
      Value out = Value::map();
      for (size_t i = 0; i < value.size(); ++i) out.set(value.key(i), to_gr00t_wire(value.item(i)));
      return out;
    }
    default:
      return value;
  }
}

Value from_gr00t_wire(const Value& value) {
  if (value.kind() == Value::Kind::kArray) {
    Value out = Value::array();
    for (size_t i = 0; i < value.size(); ++i) out.push_back(from_gr00t_wire(value.item(i)));
    return out;
  }
  if (value.kind() != Value::Kind::kMap) return value;
  if (const Value* marker = value.find("__ndarray_class__");
      marker != nullptr && marker->kind() == Value::Kind::kBool && marker->as_bool()) {
    const Value* npy = value.find("as_npy");
    if (npy == nullptr || npy->kind() != Value::Kind::kBinary) {
      throw openpi::CodecError("__ndarray_class__ map without 'as_npy' bytes");
    }
    return Value(decode_npy(npy->as_binary()));
  }
  Value out = Value::map();
  for (size_t i = 0; i < value.size(); ++i) {
    try {
      out.set(value.key(i), from_gr00t_wire(value.item(i)));
    } catch (const openpi::CodecError& error) {
      throw openpi::CodecError("'" + value.key(i) + "': " + error.what());
    }
  }
  return out;
}

// REQ sockets, one per slot; a socket whose request timed out is closed (a REQ
// socket cannot send again before it receives) and made again on next use.
class Gr00tPolicy::Sockets {
 public:
  struct Slot {
    std::unique_ptr<zmq::socket_t> socket;  // null: not connected
    int connections = 0;                    // sockets made so far
    std::vector<uint8_t> request;           // the encoded request
    zmq::message_t reply;
    bool replied = false;
    std::string error;
    Clock::time_point sent;
    double round_trip_ms = 0;
  };

  Sockets(const Endpoint& endpoint, const Profile& profile, ConnectionSettings settings)
      : encoder(profile), settings_(settings) {
    address_ = "tcp://" + endpoint.host + ":" + std::to_string(endpoint.port);
    base_ = "gr00t://" + endpoint.host + ":" + std::to_string(endpoint.port);
    if (const auto it = endpoint.params.find("api_token"); it != endpoint.params.end()) {
      api_token_ = it->second;
    }
  }

  // {"endpoint": NAME, "data"?: DATA, "api_token"?: TOKEN} into `out`.
  void encode_request(const std::string& endpoint, const Value* data, std::vector<uint8_t>& out) {
    Value request = Value::map();
    request.set("endpoint", Value::string(endpoint));
    if (data != nullptr) request.set("data", to_gr00t_wire(*data));
    if (!api_token_.empty()) request.set("api_token", Value::string(api_token_));
    openpi::encode(request, out);
  }

  // Sends every active slot's request, then waits for all replies until the deadline.
  void exchange(const std::vector<Slot*>& active, double timeout_s) {
    for (Slot* slot : active) {
      slot->replied = false;
      slot->error.clear();
      slot->sent = Clock::now();
      try {
        if (!slot->socket->send(zmq::buffer(slot->request), zmq::send_flags::dontwait)) {
          slot->error = "cannot send the request (socket busy)";
        }
      } catch (const zmq::error_t& error) {
        slot->error = std::string("cannot send the request: ") + error.what();
      }
    }
    const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                          std::chrono::duration<double>(timeout_s));
    std::vector<zmq::pollitem_t> items;
    std::vector<Slot*> waiting;
    while (true) {
      items.clear();
      waiting.clear();
      for (Slot* slot : active) {
        if (slot->replied || !slot->error.empty()) continue;
        items.push_back({slot->socket->handle(), 0, ZMQ_POLLIN, 0});
        waiting.push_back(slot);
      }
      if (waiting.empty()) break;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      try {
        zmq::poll(items.data(), items.size(), left);
      } catch (const zmq::error_t& error) {
        if (error.num() == EINTR) continue;
        throw;
      }
      for (size_t k = 0; k < items.size(); ++k) {
        if (!(items[k].revents & ZMQ_POLLIN)) continue;
        Slot& slot = *waiting[k];
        if (slot.socket->recv(slot.reply, zmq::recv_flags::dontwait)) {
          slot.round_trip_ms = milliseconds_since(slot.sent);
          slot.replied = true;
        }
      }
    }
    for (Slot* slot : active) {
      if (slot->replied || !slot->error.empty()) continue;
      slot->error = "no reply within " + seconds_text(timeout_s);
    }
    for (Slot* slot : active) {
      if (!slot->error.empty()) slot->socket.reset();
    }
  }

  // The reply of an exchanged slot, decoded; throws PolicyError for an error reply.
  Value reply_of(const Slot& slot) {
    Value reply;
    try {
      reply = from_gr00t_wire(openpi::decode(bytes_of(slot.reply)));
    } catch (const std::exception& error) {
      throw PolicyError(base_ + ": bad reply: " + error.what());
    }
    if (reply.kind() == Value::Kind::kMap) {
      if (const Value* error = reply.find("error")) {
        throw PolicyError(base_ + ": server error: " + error_text(*error));
      }
    }
    return reply;
  }

  // Makes the slot's socket and pings the server until it answers, with backoff.
  // Returns "" or the last problem.
  std::string connect(Slot& slot, const std::function<void(int)>& backoff) {
    std::string problem;
    for (int attempt = 1; attempt <= settings_.connect_attempts; ++attempt) {
      backoff(attempt);
      slot.socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::req);
      slot.socket->set(zmq::sockopt::linger, 0);
      try {
        slot.socket->connect(address_);
      } catch (const zmq::error_t& error) {
        slot.socket.reset();
        return base_ + ": cannot connect: " + error.what();
      }
      std::vector<uint8_t> saved;
      saved.swap(slot.request);
      encode_request("ping", nullptr, slot.request);
      exchange({&slot}, settings_.connect_timeout_s);
      slot.request.swap(saved);
      if (slot.error.empty()) {
        try {
          reply_of(slot);
          ++slot.connections;
          return "";
        } catch (const PolicyError& error) {
          problem = error.what();
          slot.socket.reset();
          continue;
        }
      }
      problem = base_ + ": ping: " + slot.error;
    }
    return problem + " (after " + std::to_string(settings_.connect_attempts) + " attempt" +
           (settings_.connect_attempts == 1 ? "" : "s") + ")";
  }

  Slot& slot(int index) { return slots_[index]; }
  const std::string& base() const { return base_; }
  const ConnectionSettings& settings() const { return settings_; }

  ObservationEncoder encoder;  // scratch image buffers reused across queries

 private:
  zmq::context_t context_{1};
  ConnectionSettings settings_;
  std::string address_;
  std::string base_;  // "gr00t://HOST:PORT" for messages
  std::string api_token_;
  std::map<int, Slot> slots_;

 public:
  std::vector<std::string> modality_keys;
};

Gr00tPolicy::Gr00tPolicy(const std::string& url, Profile profile, RemoteOptions options)
    : RemotePolicy(std::move(profile), std::move(options), url) {
  sockets_ = std::make_unique<Sockets>(parse_endpoint(url), profile_, options_.connection);
  Sockets::Slot& slot = sockets_->slot(0);
  const std::string problem = sockets_->connect(slot, [this](int attempt) { backoff(attempt); });
  if (!problem.empty()) throw std::runtime_error("gr00t policy: " + problem);
  // The modality config names the keys the server's policy reads and writes.
  sockets_->encode_request("get_modality_config", nullptr, slot.request);
  sockets_->exchange({&slot}, options_.connection.request_timeout_s);
  if (!slot.error.empty()) {
    throw std::runtime_error("gr00t policy: " + sockets_->base() +
                             ": get_modality_config: " + slot.error);
  }
  Value config;
  try {
    config = sockets_->reply_of(slot);
  } catch (const PolicyError& error) {
    throw std::runtime_error(std::string("gr00t policy: get_modality_config: ") + error.what());
  }
  collect_modality_keys(config, sockets_->modality_keys);
  const std::vector<std::string>& keys = sockets_->modality_keys;
  if (keys.empty()) return;
  std::vector<std::string> wanted;
  for (const ImageField& field : profile_.images) wanted.push_back(field.key);
  for (const StateField& field : profile_.state) wanted.push_back(field.key);
  if (!profile_.prompt_key.empty()) wanted.push_back(profile_.prompt_key);
  for (const ActionField& field : profile_.actions) wanted.push_back(field.key);
  std::string missing;
  for (const std::string& key : wanted) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      missing += (missing.empty() ? "" : ", ") + key;
    }
  }
  if (!missing.empty()) {
    std::string offered;
    for (const std::string& key : keys) offered += (offered.empty() ? "" : ", ") + key;
    throw std::runtime_error("gr00t policy: profile " + profile_.path + " uses keys the server's " +
                             "modality config lacks: " + missing + " (server: " + offered + ")");
  }
}

Gr00tPolicy::~Gr00tPolicy() = default;

const std::vector<std::string>& Gr00tPolicy::modality_keys() const {
  return sockets_->modality_keys;
}

std::vector<ActionChunk> Gr00tPolicy::act(std::span<const PolicyQuery> batch) {
  std::vector<ActionChunk> chunks(batch.size());
  std::vector<std::string> errors(batch.size());
  std::vector<Sockets::Slot*> active;
  std::vector<size_t> active_query;
  for (size_t i = 0; i < batch.size(); ++i) {
    Sockets::Slot& slot = sockets_->slot(batch[i].slot);
    const Value observation = sockets_->encoder.encode(*batch[i].observation);
    if (!slot.socket) {
      const bool reconnect = slot.connections > 0;
      errors[i] = sockets_->connect(slot, [this](int attempt) { backoff(attempt); });
      if (!errors[i].empty()) continue;
      if (reconnect) record_reconnect(batch[i].slot);
    }
    sockets_->encode_request("get_action", &observation, slot.request);
    active.push_back(&slot);
    active_query.push_back(i);
  }
  sockets_->exchange(active, options_.connection.request_timeout_s);
  for (size_t k = 0; k < active.size(); ++k) {
    Sockets::Slot& slot = *active[k];
    const size_t i = active_query[k];
    if (!slot.error.empty()) {
      errors[i] = sockets_->base() + ": " + slot.error;
      continue;
    }
    try {
      chunks[i] = decode_action_chunk(profile_, sockets_->reply_of(slot));
      record_request(batch[i].slot, slot.round_trip_ms, std::nullopt, std::nullopt);
    } catch (const PolicyError& error) {
      errors[i] = error.what();
    } catch (const std::exception& error) {
      errors[i] = sockets_->base() + ": " + error.what();
    }
  }
  for (const std::string& error : errors) {
    if (!error.empty()) throw_batch_error(std::move(chunks), std::move(errors));
  }
  return chunks;
}

}  // namespace policies::remote
