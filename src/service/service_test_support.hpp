// What the service tests (joule_service_tests) share: time and energy literals, a fixture with
// the real SQLite store (in a temporary file) and the billing and acquisition services over it, and
// the checks every money test makes.
#pragma once

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "service/acquisition_service.hpp"
#include "service/billing_service.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"

namespace joule::service_test {

inline Instant T(std::string_view text) { return ParseInstant(text, "t").value(); }
inline Quantity Kwh(int64_t kwh) { return Quantity{kwh * 1000}; }

// Tariff "flat": 1 yuan per kWh from `from` on (the tariff most test sites bill with).
inline TariffRecord FlatTariff(Instant from) {
    TariffRecord flat;
    flat.code = "flat";
    flat.tariff.name = "Flat 1.0000";
    TariffVersion v;
    v.effective_from = from;
    v.flat_price = UnitPrice{10'000};
    flat.tariff.versions.push_back(v);
    return flat;
}

// The start of most test sites: project `code` (Asia/Shanghai) with a single-phase meter model
// `model_code` (20 kW at most) and tariff "flat" (FlatTariff from 2026-01-01).
inline SiteSpec FlatSite(const std::string& code, const std::string& model_code = "dds") {
    SiteSpec site;
    site.project = {{}, code, code, "Asia/Shanghai"};
    MeterModelRecord model;
    model.code = model_code;
    model.name = "single-phase";
    model.spec.max_rate_per_hour = 20'000;
    site.models.push_back(model);
    site.tariffs.push_back(FlatTariff(T("2026-01-01T00:00:00Z")));
    return site;
}

// Opening account `number` of `project` for the "Tea shop" on the flat tariff, with `meter` read
// at `reading` when it opens at `opened_at`; no first top-up.
inline OpenAccountRequest TeaShop(const std::string& project, const std::string& number,
                                  const std::string& meter, Instant opened_at,
                                  Quantity reading = Quantity{0}) {
    OpenAccountRequest open;
    open.project_code = project;
    open.number = number;
    open.tenant_name = "Tea shop";
    open.tariff_code = "flat";
    open.meters.push_back({meter, reading, std::nullopt});
    open.opened_at = opened_at;
    return open;
}

// Adds building `building` with one floor `floor` holding `rooms` (code, name) to the site.
inline void AddFloor(SiteSpec& site, const std::string& building, const std::string& building_name,
                     const std::string& floor, const std::string& floor_name,
                     const std::vector<std::pair<std::string, std::string>>& rooms) {
    SiteSpec::Building b;
    b.building.code = building;
    b.building.name = building_name;
    SiteSpec::Floor f;
    f.floor.code = floor;
    f.floor.name = floor_name;
    for (const auto& [code, name] : rooms) {
        RoomRecord room;
        room.code = code;
        room.name = name;
        f.rooms.push_back(room);
    }
    b.floors.push_back(f);
    site.buildings.push_back(b);
}

// A meter of the site's first model.
inline SiteSpec::Meter SiteMeter(const SiteSpec& site, const std::string& code) {
    SiteSpec::Meter m;
    m.meter.code = code;
    m.model_code = site.models.front().code;
    return m;
}

// A new empty directory under the system's temporary directory.
inline std::string MakeTempDir(const std::string& prefix) {
    std::string path = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    EXPECT_NE(::mkdtemp(path.data()), nullptr) << path;
    return path;
}

// A real store in a file of its own, removed afterwards: in a file (not ":memory:") reads go
// through the read-only connections beside the writer, as in production. synchronous=NORMAL, as
// no test pulls the power.
class TempFileStore {
public:
    TempFileStore() : dir_(MakeTempDir("joule-test")) {
        store_ = std::move(
            storage::SqliteStore::Open(dir_ + "/joule.db", {storage::Durability::kNormal}).value());
    }
    ~TempFileStore() {
        store_.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    TempFileStore(const TempFileStore&) = delete;
    TempFileStore& operator=(const TempFileStore&) = delete;

    storage::SqliteStore& operator*() { return *store_; }
    storage::SqliteStore* operator->() { return store_.get(); }

private:
    std::string dir_;
    std::unique_ptr<storage::SqliteStore> store_;
};

// Money is neither made nor lost: the balances sum to zero and each matches its transfers.
inline void ExpectLedgerBalanced(Store& store) {
    auto tx = store.Begin().value();
    EXPECT_EQ(tx->SummarizeLedger().value().sum_of_balances.fen, 0);
    EXPECT_EQ(tx->CountBalanceMismatches().value(), 0);
}

// The fixture base: every test project is "mall".
class ServiceTest : public ::testing::Test {
protected:
    void ExpectLedgerBalanced() { service_test::ExpectLedgerBalanced(*store_); }

    // The open alarms of project "mall", all or of one kind.
    std::vector<AlarmRecord> OpenAlarms(std::optional<AlarmKind> kind = std::nullopt) {
        auto tx = store_->Begin().value();
        const ProjectRecord project = tx->FindProject("mall").value().value();
        // A named copy: GCC 12 warns falsely about iterating the temporary .value() directly.
        const std::vector<AlarmRecord> alarms = tx->ListAlarms(project.id, true).value();
        std::vector<AlarmRecord> out;
        for (const AlarmRecord& a : alarms) {
            if (!kind || a.kind == *kind)
                out.push_back(a);
        }
        return out;
    }

    TempFileStore store_;
    BillingService billing_{*store_};
    AcquisitionService acquisition_{*store_, billing_};
    Actor actor_{"tester"};
};

}  // namespace joule::service_test
