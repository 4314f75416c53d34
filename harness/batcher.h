// Stacks the policy queries of all waiting workers into one batched call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "policies/policy.h"

namespace harness {

struct BatcherStats {
  long calls = 0;      // policy.act calls
  long queries = 0;    // observations answered
  int max_batch = 0;   // largest batch
};

class PolicyBatcher {
 public:
  // `workers`: how many threads will query; a batch runs as soon as every
  // active worker is waiting, or after `max_wait` once one is.
  PolicyBatcher(policies::Policy& policy, int workers,
                std::chrono::microseconds max_wait = std::chrono::microseconds(2000));

  // Blocks until this query's chunk is ready. Rethrows the policy's error.
  policies::ActionChunk query(int slot, const envs::Observation& observation);
  // Forwards to policy.reset under the policy lock.
  void reset(int slot, uint64_t seed);
  // A worker has no more episodes; batches stop waiting for it.
  void worker_done();
  BatcherStats stats() const;
  policies::Policy& policy() const { return policy_; }

 private:
  struct Pending {
    policies::PolicyQuery query;
    policies::ActionChunk chunk;
    std::exception_ptr error;
    bool done = false;
  };
  void run_batch(std::unique_lock<std::mutex>& lock);

  policies::Policy& policy_;
  std::chrono::microseconds max_wait_;
  mutable std::mutex mutex_;
  std::mutex policy_mutex_;
  std::condition_variable wake_;
  std::vector<Pending*> pending_;
  int active_workers_;
  bool in_flight_ = false;
  BatcherStats stats_;
};

}  // namespace harness
