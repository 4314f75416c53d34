// Shared test helpers.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace test_util {

struct CommandOutput {
  int status = -1;   // exit status
  std::string text;  // stdout and stderr together
};

// Runs `command` through the shell and captures its output.
inline CommandOutput run_command(const std::string& command) {
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run " + command);
  CommandOutput output;
  std::array<char, 4096> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe.get())) {
    output.text.append(buffer.data(), n);
  }
  output.status = WEXITSTATUS(pclose(pipe.release()));
  return output;
}

// While one of these lives, MuJoCo warnings are expected and counted instead
// of failing the test.
struct ExpectMujocoWarnings {
  ExpectMujocoWarnings();
  ~ExpectMujocoWarnings();
  static int count();
};

}  // namespace test_util
