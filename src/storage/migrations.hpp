// Numbered schema migrations, applied in order at start and by `joule migrate`. A migration is
// never edited once released; a change is a new file in migrations/.
#pragma once

#include <span>

namespace joule::storage {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

std::span<const Migration> Migrations();

}  // namespace joule::storage
