#include "app/bench_support.hpp"

#include <filesystem>
#include <thread>

namespace joule::app {

double SecondsSince(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

Instant WallNow() {
    return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
}

bool WaitUntil(const std::function<bool()>& done, int seconds) {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(seconds);
    while (SteadyClock::now() < deadline) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
}

void RemoveDb(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path + suffix);
}

std::string MeterCode(int i) { return "M" + std::to_string(i); }

SiteSpec BenchSite(const std::string& code, const std::string& name, Instant tariff_from) {
    SiteSpec site;
    site.project = {{}, code, name, std::string(kDefaultTimeZone)};
    MeterModelRecord model;
    model.code = "m";
    model.name = "bench meter";
    model.spec.max_rate_per_hour = 100'000;
    site.models.push_back(model);
    TariffRecord tariff;
    tariff.code = "flat";
    tariff.tariff.name = "flat";
    TariffVersion v;
    v.effective_from = tariff_from;
    v.flat_price = UnitPrice{8000};
    tariff.tariff.versions.push_back(v);
    site.tariffs.push_back(tariff);
    return site;
}

}  // namespace joule::app
