// `joule simulate SCENARIO`: replays a scenario file (site, tariffs and versions, accounts,
// timed readings, top-ups, refunds, subsidies, manual commands ...) through the real services on a
// temporary SQLite store and returns what happened as JSON. Finance's "what would this tariff
// charge" tool (电费试算) and the harness of data-driven tests. Format: docs/scenario-format.md.
#pragma once

#include "wire/json.hpp"

namespace joule::app {

// The whole file is validated before anything runs; an invalid file fails naming its field path.
// Business outcomes of single events (a refund larger than the balance ...) do not stop the run:
// each event's result is in the output's "events".
[[nodiscard]] Result<wire::Json> RunScenario(const wire::Json& scenario);

}  // namespace joule::app
