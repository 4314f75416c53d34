// Test scaffolding for asset tests: bare MuJoCo scenes compiled from memory,
// stepping, and small lookups. Header-only, for tests/envs.
#pragma once

#include <doctest/doctest.h>
#include <mujoco/mujoco.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "envs/assets.h"
#include "envs/mjcf_text.h"

namespace test_scene {

using ModelPtr = std::unique_ptr<mjModel, decltype(&mj_deleteModel)>;
using DataPtr = std::unique_ptr<mjData, decltype(&mj_deleteData)>;

struct Scene {
  ModelPtr model{nullptr, &mj_deleteModel};
  DataPtr data{nullptr, &mj_deleteData};
};

// A bare scene: ground plane named "floor", a light, the given objects and
// extra worldbody elements.
inline std::string scene_xml(const std::vector<envs::assets::ObjectMjcf>& objects,
                             const std::string& extra_bodies = "") {
  std::string asset_text, body_text;
  for (const auto& object : objects) {
    asset_text += object.assets;
    body_text += object.body;
  }
  return "<mujoco model=\"test_scene\">\n"
         "<compiler angle=\"radian\" autolimits=\"true\"/>\n"
         "<option timestep=\"0.002\"/>\n" +
         envs::mjcf::size_element(1000) + "<asset>\n" +
         asset_text +
         "</asset>\n<worldbody>\n"
         "<light pos=\"0 0 3\" dir=\"0 0 -1\"/>\n"
         "<geom name=\"floor\" type=\"plane\" size=\"3 3 0.1\"/>\n" +
         body_text + extra_bodies + "</worldbody>\n</mujoco>\n";
}

// Compiles an MJCF document from memory through MuJoCo's virtual file system.
inline Scene load(const std::string& xml) {
  auto vfs = std::make_unique<mjVFS>();
  mj_defaultVFS(vfs.get());
  REQUIRE(mj_makeEmptyFileVFS(vfs.get(), "scene.xml", static_cast<int>(xml.size())) == 0);
  std::memcpy(vfs->filedata[mj_findFileVFS(vfs.get(), "scene.xml")], xml.data(), xml.size());
  char error[1000] = "";
  Scene scene;
  scene.model.reset(mj_loadXML("scene.xml", vfs.get(), error, sizeof(error)));
  mj_deleteVFS(vfs.get());
  if (!scene.model) {
    throw std::runtime_error(std::string("MuJoCo did not load the scene: ") + error);
  }
  scene.data.reset(mj_makeData(scene.model.get()));
  mj_forward(scene.model.get(), scene.data.get());
  return scene;
}

// Names of MuJoCo warnings raised so far ("" when none).
inline std::string warnings(const mjData* data) {
  static const char* names[mjNWARNING] = {"inertia", "contactfull", "cnstrfull", "vgeomfull",
                                          "badqpos", "badqvel",     "badqacc",   "badctrl"};
  std::string out;
  for (int i = 0; i < mjNWARNING; ++i) {
    if (data->warning[i].number > 0) out += std::string(names[i]) + " ";
  }
  return out;
}

inline void simulate(Scene& scene, double seconds) {
  const int steps = static_cast<int>(std::lround(seconds / scene.model->opt.timestep));
  for (int i = 0; i < steps; ++i) mj_step(scene.model.get(), scene.data.get());
}

inline int id_of(const Scene& scene, mjtObj type, const std::string& name) {
  return mj_name2id(scene.model.get(), type, name.c_str());
}

inline bool in_subtree(const mjModel* model, int body, int root) {
  while (body > 0 && body != root) body = model->body_parentid[body];
  return body == root;
}

}  // namespace test_scene
