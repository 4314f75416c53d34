#include "policies/remote/probe_policy.h"

#include <cmath>
#include <stdexcept>

namespace policies::remote {
namespace {

// Mean pixel value of a camera in [0, 1], weighted by position so that a
// flipped or shifted image gives a different value.
double image_feature(const envs::Observation& observation, const std::string& camera) {
  const auto it = observation.images.find(camera);
  if (it == observation.images.end()) {
    throw std::runtime_error("probe policy: the observation has no camera '" + camera + "'");
  }
  const envs::Image& image = it->second;
  double sum = 0, weights = 0;
  for (size_t k = 0; k < image.pixels.size(); ++k) {
    const double weight = 1.0 + double(k % 97) / 97.0;
    sum += weight * image.pixels[k];
    weights += weight;
  }
  return weights > 0 ? sum / (weights * 255.0) : 0.0;
}

}  // namespace

PolicyInfo ProbePolicy::info() const {
  PolicyInfo info;
  info.name = "probe";
  info.chunk_length = kChunkLength;
  info.open_loop_steps = kOpenLoopSteps;
  info.cameras = {"agentview", "eye_in_hand"};
  info.image_size = 224;
  return info;
}

std::vector<ActionChunk> ProbePolicy::act(std::span<const PolicyQuery> batch) {
  std::vector<ActionChunk> chunks;
  chunks.reserve(batch.size());
  for (const PolicyQuery& query : batch) {
    const envs::Observation& observation = *query.observation;
    if (observation.proprio.size() < 8) {
      throw std::runtime_error("probe policy: expected 8 proprio values, got " +
                               std::to_string(observation.proprio.size()));
    }
    const double third_person = image_feature(observation, "agentview");
    const double wrist = image_feature(observation, "eye_in_hand");
    double phase = 6.0 * third_person + 3.0 * wrist + 0.01 * double(observation.instruction.size());
    for (int i = 0; i < 8; ++i) phase += (i + 1) * 0.7 * observation.proprio[i];
    ActionChunk chunk(kChunkLength);
    for (int t = 0; t < kChunkLength; ++t) {
      const double angle = phase + 0.3 * t;
      chunk[t] = {float(0.4 * std::sin(angle)),
                  float(0.4 * std::cos(1.3 * angle)),
                  float(0.3 * std::sin(0.7 * angle + 1.0)),
                  float(0.1 * std::sin(2.0 * angle)),
                  0.0f,
                  float(0.1 * std::cos(2.0 * angle)),
                  std::sin(3.0 * angle) > 0 ? 1.0f : -1.0f};
    }
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

}  // namespace policies::remote
