// `vla-harness serve`: exposes any policy as an openpi-compatible websocket server
// (the protocol of openpi's WebsocketPolicyServer, LIBERO observation keys).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "policies/policy.h"

namespace CLI {
class App;
}

namespace harness {

struct ServeOptions {
  std::string host = "127.0.0.1";  // bind address; loopback unless told otherwise
  int port = 8000;                 // TCP port; 0 lets the system pick a free one
  std::string api_key;  // if set, websocket clients must send "Authorization: Api-Key <key>"
  int max_batch = 1;    // most queued requests (from different connections) per act() call
  std::function<void(int port)> on_listening;  // called once listening, with the bound port
};

// Serves `policy` until `stop` becomes true (checked every 50 ms) or forever when
// `stop` is null. `GET /healthz` answers 200 "OK"; any other path upgrades to a
// websocket session: the server sends the policy's metadata, then answers each
// binary msgpack observation with {"actions": float32 (chunk, 7), "server_timing":
// {...}, "policy_timing": {...}}. A bad request or policy failure is answered with a
// text frame holding the error, then the connection closes. Connections are served
// concurrently; policy calls happen one at a time on one inference thread. Throws
// std::runtime_error if the options are invalid or the address cannot be bound.
void serve(policies::Policy& policy, const ServeOptions& options,
           const std::atomic<bool>* stop = nullptr);

// Adds the `serve` subcommand (--policy, --host, --port, --api-key, --max-batch).
// It runs until SIGINT or SIGTERM.
void add_serve_command(
    CLI::App& app,
    std::function<std::unique_ptr<policies::Policy>(const std::string&)> make_policy);

}  // namespace harness
