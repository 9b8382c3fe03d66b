// The end-to-end tests' site: project "e2e" (Asia/Shanghai) with one DL/T 645 meter E101 on a
// DTU gateway, a flat tariff of 1 yuan/kWh, and account S101 opened with 10.00 yuan.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "e2e_support.hpp"

namespace joule::e2e {

// Made with the real binary's `site create` and `account open`.
inline void CreateMallWithOneAccount(const fs::path& dir, const fs::path& db) {
    using Json = nlohmann::json;
    const Json model =
        Json::parse(ReadFile(fs::path(JOULE_MODELS_DIR) / "dlt645-2007-1p-prepaid.json"));
    const Json site = {
        {"project", {{"code", "e2e"}, {"name", "E2E mall"}, {"time_zone", "Asia/Shanghai"}}},
        {"models", {model}},
        {"gateways", {{{"code", "gw-a"}, {"transport", "dtu"}, {"endpoint", "86000001"}}}},
        {"tariffs",
         {{{"code", "flat"},
           {"name", "Flat"},
           {"versions",
            {{{"effective_from", "2026-01-01T00:00:00+08:00"}, {"price", "1.0000"}}}}}}},
        {"meters",
         {{{"code", "E101"},
           {"model", "dlt645-2007-1p-prepaid"},
           {"gateway", "gw-a"},
           {"bus_address", "000000000101"}}}}};
    std::ofstream(dir / "site.json") << site.dump(2);
    ASSERT_EQ(Shell(std::string(JOULE_BINARY) + " site create --db " + db.string() + " " +
                    (dir / "site.json").string() + " > " + (dir / "cli.log").string() + " 2>&1"),
              0)
        << ReadFile(dir / "cli.log");
    const Json account = {{"number", "S101"},
                          {"tenant", "Tea shop"},
                          {"tariff", "flat"},
                          {"scheme",
                           {{"alarm1", "5.00"},
                            {"alarm2", "2.00"},
                            {"alarm3", "1.00"},
                            {"overdraft", "0.00"},
                            {"restore", "0.10"}}},
                          {"meters", {{{"meter", "E101"}, {"reading", "0"}}}},
                          {"top_up", "10.00"},
                          {"opened_at", "2026-11-01T00:00:00Z"}};
    std::ofstream(dir / "account.json") << account.dump(2);
    ASSERT_EQ(
        Shell(std::string(JOULE_BINARY) + " account open --db " + db.string() + " --project e2e " +
              (dir / "account.json").string() + " > " + (dir / "cli.log").string() + " 2>&1"),
        0)
        << ReadFile(dir / "cli.log");
}

}  // namespace joule::e2e
