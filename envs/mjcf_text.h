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

// The <size> element of a scene: room for `max_contacts` contacts (nconmax)
// and 4 constraint rows per contact (njmax; elliptic cones, condim 3), and an
// explicit MuJoCo stack (nstack) of 2 M numbers (16 MB).
//
// MuJoCo 2.2.2 sizes mjData by njmax: efc_AR alone is njmax^2 numbers, and
// without nstack the stack defaults to about 5 njmax^2, all zeroed by
// mj_makeData (njmax 6000 made each mjData 1.75 GB). The scripted expert
// peaks at 191 contacts / 769 rows (libero_spatial/5, 50 states) and 140 /
// 561 (fractal), and mj_step's stack use at 11,231 numbers. Running out of
// contacts or rows raises a MuJoCo warning, which the environment turns
// into an error on that episode.
inline std::string size_element(int max_contacts) {
  return "<size nconmax=\"" + std::to_string(max_contacts) + "\" njmax=\"" +
         std::to_string(4 * max_contacts) + "\" nstack=\"2000000\"/>\n";
}

}  // namespace envs::mjcf
