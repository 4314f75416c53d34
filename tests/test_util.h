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
  std::string text;  // what the command printed
};

// Runs `command` through the shell and captures its standard output (add
// " 2>&1" to the command for standard error too).
inline CommandOutput run_command(const std::string& command) {
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run " + command);
  CommandOutput output;
  std::array<char, 4096> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe.get())) {
    output.text.append(buffer.data(), n);
  }
  const int status = pclose(pipe.release());
  output.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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
