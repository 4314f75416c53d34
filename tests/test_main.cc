// Test entry point: any MuJoCo warning raised through mju_warning fails the
// running test (warnings counted in mjData are checked by Env itself), unless
// the test declares it expects them.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <atomic>
#include <string>

#include "test_util.h"

namespace {

std::atomic<int> expecting{0};
std::atomic<int> expected_count{0};

void fail_on_mujoco_warning(const char* message) {
  if (expecting > 0) {
    ++expected_count;
    return;
  }
  FAIL_CHECK("MuJoCo warning: " << std::string(message));
}

}  // namespace

namespace test_util {

ExpectMujocoWarnings::ExpectMujocoWarnings() {
  ++expecting;
  expected_count = 0;
}
ExpectMujocoWarnings::~ExpectMujocoWarnings() { --expecting; }
int ExpectMujocoWarnings::count() { return expected_count; }

}  // namespace test_util

int main(int argc, char** argv) {
  mju_user_warning = fail_on_mujoco_warning;
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
