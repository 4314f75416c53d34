// A client of openpi's websocket policy server (and `vla-harness serve`):
// one websocket connection per batch slot, metadata read on connect, msgpack
// observations out, {"actions": (horizon, 7), ...} back; a text frame is the
// server's error. Optional "Authorization: Api-Key KEY" header.
#pragma once

#include <memory>
#include <string>
#include <utility>  // ahead of Asio in including files: its awaitable.hpp needs std::exchange

#include "policies/openpi_codec.h"
#include "policies/remote/remote_policy.h"

namespace policies::remote {

class OpenpiPolicy : public RemotePolicy {
 public:
  // `url`: openpi://HOST:PORT[?api_key=KEY&...] (see parse_remote_options).
  // Connects slot 0 and reads the server's metadata; throws std::runtime_error
  // naming the URL when that fails after every attempt.
  OpenpiPolicy(const std::string& url, Profile profile, RemoteOptions options);
  ~OpenpiPolicy() override;

  // One request per query, sent on the queries' slot connections together
  // (the server may batch them), then every reply awaited within the request
  // timeout. Throws PolicyError (BatchError when only some queries failed); the
  // failed connections are dropped and made again on the next query.
  std::vector<ActionChunk> act(std::span<const PolicyQuery> batch) override;

  // The metadata map the server sent on the first connection.
  const openpi::Value& metadata() const;

 private:
  class Connections;
  std::unique_ptr<Connections> connections_;
};

}  // namespace policies::remote
