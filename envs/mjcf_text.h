// Numbers as MJCF attribute text, for robots built in code.
#pragma once

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>

namespace envs::mjcf {

// Seven significant digits; magnitudes below 1e-12 print as 0.
inline std::string num(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.7g", std::abs(value) < 1e-12 ? 0.0 : value);
  return buffer;
}

// Space-separated numbers ("0 0.1 0.25").
inline std::string vec(std::initializer_list<double> values) {
  std::string text;
  for (double value : values) {
    if (!text.empty()) text += ' ';
    text += num(value);
  }
  return text;
}

}  // namespace envs::mjcf
