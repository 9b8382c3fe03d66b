// Bulk import of buildings, rooms, gateways, meters and accounts [HIER-3]: the rows of a template
// (read and typed by the API out of a CSV or XLSX file) checked against each other and against the
// store, then written in ONE unit of work — every row or none.
//
// All rows are checked before anything is written, and every problem is reported, each with its
// row as the sheet numbers it and the column (the template's field key): duplicates within the
// file and against the store, references to nothing, a bus address taken on a gateway, a meter a
// second account would take. With any error nothing is written. Without, the rows are written in
// file order and the unit of work commits — unless it is a dry run, which writes everything and
// then rolls back, so a dry run that passes is an import that passes (the store permitting).
//
// What a kind does:
//   buildings  code, name.
//   rooms      building and floor by code (or by name when exactly one has it); a building or
//              floor that does not exist is CREATED (code and name: the text given) and reported,
//              so one sheet of rooms sets up a site. Both empty: a room on no floor.
//   gateways   code, name, transport, endpoint, framing (as the API's gateway).
//   meters     code (serial/address), model, gateway, bus address, circuit, room, tariff, parent
//              (a meter of the store or of the same file), public area.
//   accounts   opened as POST .../accounts opens one (BillingService::OpenAccountInTx), at `now`,
//              platform billing and the default alarm scheme, on one or more meters with their
//              opening registers; an opening balance is a first top-up through the billing
//              service's own path (ledger transfer "open:<account>", channel of the row), in the
//              same unit of work. The billing service logs each opening and top-up as it always
//              does; the import adds its one entry.
// One operation-log entry per import: "import.<kind>", with the rows and what was created.
#pragma once

#include <string>
#include <vector>

#include "service/billing_service.hpp"
#include "service/site_edit.hpp"

namespace joule {

inline constexpr std::size_t kMaxImportRows = 20'000;

// stored in the operation log by name: never rename.
enum class ImportKind : uint8_t { kBuildings, kRooms, kGateways, kMeters, kAccounts };
[[nodiscard]] std::string_view ImportKindName(ImportKind kind);  // "buildings" ...

struct ImportRowError {
    int64_t row = 0;     // as the sheet numbers it (the header is row 1); 0: the file as a whole
    std::string column;  // the template's field key ("building"), or "" for the row
    ErrorCode code = ErrorCode::kInvalidArgument;
    std::string message;
};

struct BuildingRow {
    int64_t row = 0;
    std::string code;
    std::string name;  // "": the code
};
struct RoomRow {
    int64_t row = 0;
    RoomSpec spec;
};
struct GatewayRow {
    int64_t row = 0;
    GatewayRecord gateway;  // code, name, transport, endpoint, framing
};
struct MeterRow {
    int64_t row = 0;
    MeterSpec spec;
};
struct AccountRow {
    int64_t row = 0;
    // number, tenant, phone, tariff, meters with their openings, first_top_up, channel; the
    // project, opened_at and billing mode are the import's.
    OpenAccountRequest request;
};

struct ImportRequest {
    std::string project_code;
    ImportKind kind = ImportKind::kBuildings;
    // The rows of `kind`; the other lists are empty.
    std::vector<BuildingRow> buildings;
    std::vector<RoomRow> rooms;
    std::vector<GatewayRow> gateways;
    std::vector<MeterRow> meters;
    std::vector<AccountRow> accounts;
    // Write nothing whatever happens: the caller found errors of its own in other rows and wants
    // these rows' errors too.
    bool check_only = false;
    bool dry_run = false;  // write, then roll back
    // For the log: the file's format and its data rows (including rows the caller refused).
    std::string format;
    std::size_t file_rows = 0;
};

struct ImportResult {
    std::vector<ImportRowError> errors;  // not empty: nothing was written
    // What was (or, in a dry run, would be) created: ("buildings", codes), ("floors",
    // "building/floor"), ("rooms", codes) ... in file order.
    std::vector<std::pair<std::string, std::vector<std::string>>> created;
    bool written = false;  // committed
};

// Errors: kNotFound ("project"), or an operating error of the store. Problems of the rows are not
// errors of the call: they are ImportResult::errors.
[[nodiscard]] Result<ImportResult> ImportSite(Store& store, BillingService& billing,
                                              const ImportRequest& request, const Actor& actor,
                                              Instant now);

}  // namespace joule
