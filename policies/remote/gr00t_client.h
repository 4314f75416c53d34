// A client of GR00T's ZeroMQ inference service: one REQ socket per batch slot,
// requests {"endpoint": "ping" | "get_modality_config" | "get_action", "data":
// ..., "api_token"?: ...} in msgpack with arrays as .npy bytes
// ({"__ndarray_class__": true, "as_npy": ...}); {"error": ...} replies are errors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policies/openpi_codec.h"
#include "policies/remote/remote_policy.h"

namespace policies::remote {

class Gr00tPolicy : public RemotePolicy {
 public:
  // `url`: gr00t://HOST:PORT[?api_token=TOKEN&...] (see parse_remote_options).
  // Pings the server and reads its modality config; every profile key must be
  // one of the server's modality keys when it lists them. Throws
  // std::runtime_error naming the URL and the problem.
  Gr00tPolicy(const std::string& url, Profile profile, RemoteOptions options);
  ~Gr00tPolicy() override;

  // One get_action request per query on the queries' slot sockets, replies
  // polled within the request timeout. Throws PolicyError (BatchError when only
  // some failed); a timed-out socket is closed and made again on the next query.
  std::vector<ActionChunk> act(std::span<const PolicyQuery> batch) override;

  // The server's modality keys from get_modality_config (empty if it lists none).
  const std::vector<std::string>& modality_keys() const;

 private:
  class Sockets;
  std::unique_ptr<Sockets> sockets_;
};

// GR00T's array encoding on top of the openpi Value tree: ndarrays become
// {"__ndarray_class__": true, "as_npy": <.npy bytes>} maps and back.
openpi::Value to_gr00t_wire(const openpi::Value& value);
openpi::Value from_gr00t_wire(const openpi::Value& value);

}  // namespace policies::remote
