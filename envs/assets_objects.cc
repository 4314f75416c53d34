// Free objects beyond the tabletop basics: groceries, mugs, kitchenware and
// books (see envs/assets.h for the conventions).
#include "envs/assets_build.h"

namespace envs::assets::detail {

BuilderList object_builders() { return {}; }

}  // namespace envs::assets::detail
