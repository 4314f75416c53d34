// Test entry point: any MuJoCo warning raised through mju_warning fails the
// running test (warnings counted in mjData are checked by Env itself).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

namespace {

void fail_on_mujoco_warning(const char* message) { FAIL_CHECK("MuJoCo warning: " << message); }

}  // namespace

int main(int argc, char** argv) {
  mju_user_warning = fail_on_mujoco_warning;
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
