// Shared test helpers.
#pragma once

namespace test_util {

// While one of these lives, MuJoCo warnings are expected and counted instead
// of failing the test.
struct ExpectMujocoWarnings {
  ExpectMujocoWarnings();
  ~ExpectMujocoWarnings();
  static int count();
};

}  // namespace test_util
