#include "harness/batcher.h"

#include <stdexcept>

#include "policies/remote/remote_policy.h"

namespace harness {

PolicyBatcher::PolicyBatcher(policies::Policy& policy, int workers,
                             std::chrono::microseconds max_wait)
    : policy_(policy), max_wait_(max_wait), active_workers_(workers) {}

void PolicyBatcher::reset(int slot, uint64_t seed) {
  std::lock_guard lock(policy_mutex_);
  policy_.reset(slot, seed);
}

void PolicyBatcher::worker_done() {
  std::lock_guard lock(mutex_);
  --active_workers_;
  wake_.notify_all();
}

BatcherStats PolicyBatcher::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void PolicyBatcher::run_batch(std::unique_lock<std::mutex>& lock) {
  std::vector<Pending*> batch;
  batch.swap(pending_);
  in_flight_ = true;
  lock.unlock();
  std::vector<policies::PolicyQuery> queries;
  queries.reserve(batch.size());
  for (const Pending* pending : batch) queries.push_back(pending->query);
  std::vector<policies::ActionChunk> chunks;
  std::exception_ptr error;
  std::vector<std::exception_ptr> errors;  // per query, when only some failed
  try {
    std::lock_guard policy_lock(policy_mutex_);
    chunks = policy_.act(queries);
    if (chunks.size() != batch.size()) {
      throw std::runtime_error("policy returned " + std::to_string(chunks.size()) +
                               " chunks for " + std::to_string(batch.size()) + " queries");
    }
    for (const auto& chunk : chunks) {
      if (chunk.empty()) throw std::runtime_error("policy returned an empty action chunk");
    }
  } catch (const policies::remote::BatchError& partial) {
    // A remote policy answered some queries: only the failed ones get the error.
    if (partial.chunks.size() == batch.size() && partial.errors.size() == batch.size()) {
      chunks = partial.chunks;
      errors.resize(batch.size());
      for (size_t i = 0; i < batch.size(); ++i) {
        if (!partial.errors[i].empty()) {
          errors[i] = std::make_exception_ptr(policies::remote::PolicyError(partial.errors[i]));
        } else if (chunks[i].empty()) {
          errors[i] = std::make_exception_ptr(
              std::runtime_error("policy returned an empty action chunk"));
        }
      }
    } else {
      error = std::current_exception();
    }
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!errors.empty() && errors[i]) {
      batch[i]->error = errors[i];
    } else if (error) {
      batch[i]->error = error;
    } else {
      batch[i]->chunk = std::move(chunks[i]);
    }
    batch[i]->done = true;
  }
  ++stats_.calls;
  stats_.queries += long(batch.size());
  stats_.max_batch = std::max(stats_.max_batch, int(batch.size()));
  in_flight_ = false;
  wake_.notify_all();
}

policies::ActionChunk PolicyBatcher::query(int slot, const envs::Observation& observation) {
  Pending pending;
  pending.query = {slot, &observation};
  std::unique_lock lock(mutex_);
  pending_.push_back(&pending);
  const auto deadline = std::chrono::steady_clock::now() + max_wait_;
  while (!pending.done) {
    const bool everyone_waiting = int(pending_.size()) >= active_workers_;
    const bool waited_enough = std::chrono::steady_clock::now() >= deadline;
    if (!in_flight_ && !pending_.empty() && (everyone_waiting || waited_enough)) {
      run_batch(lock);
      continue;
    }
    if (in_flight_) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, deadline);
    }
  }
  if (pending.error) std::rethrow_exception(pending.error);
  return std::move(pending.chunk);
}

}  // namespace harness
