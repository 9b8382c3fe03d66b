#include "service/project_lookup.hpp"

#include <string>

namespace joule {

Result<ProjectRecord> RequireProject(Tx& tx, std::string_view code) {
    JOULE_ASSIGN_OR_RETURN(auto project, tx.FindProject(code));
    if (!project) {
        return NotFound("no project '" + std::string(code.substr(0, 64)) + "'", "project");
    }
    return std::move(*project);
}

}  // namespace joule
