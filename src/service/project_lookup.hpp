// The one way the use cases resolve a project's code inside their unit of work.
#pragma once

#include <string_view>

#include "base/error.hpp"
#include "core/ports.hpp"

namespace joule {

// The project `code` names; kNotFound naming "project" ("no project 'P9'") when there is none.
[[nodiscard]] Result<ProjectRecord> RequireProject(Tx& tx, std::string_view code);

}  // namespace joule
