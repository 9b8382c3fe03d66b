#include "service/tariff_quote.hpp"

#include <cstdio>

#include "service/service_test_support.hpp"

namespace joule {
namespace {

using service_test::Kwh;
using service_test::T;

// A mall billed at 1 yuan/kWh ("flat"): A001 on m1, A002 on m2 under "other" (2 yuan/kWh), and a
// public-area meter "pub" with "flat" as its own tariff.
class TariffQuoteTest : public service_test::ServiceTest {
protected:
    void SetUp() override {
        SiteSpec site = service_test::FlatSite("mall");
        TariffRecord other = site.tariffs.front();
        other.code = "other";
        other.tariff.versions[0].flat_price = UnitPrice{20'000};
        site.tariffs.push_back(other);
        site.meters = {service_test::SiteMeter(site, "m1"), service_test::SiteMeter(site, "m2")};
        SiteSpec::Meter pub = service_test::SiteMeter(site, "pub");
        pub.meter.public_area = true;
        pub.tariff_code = "flat";
        site.meters.push_back(pub);
        ASSERT_TRUE(CreateSite(*store_, site, actor_, now_).has_value());
        Open("A001", "m1", "flat");
        Open("A002", "m2", "other");
        // m1 and pub use 5 kWh a day from 2026-11-01 (Shanghai midnight = 16:00Z the day before);
        // m2 uses 1 kWh a day.
        for (int day = 1; day <= 20; ++day) {
            char at[32];
            std::snprintf(at, sizeof at, "2026-11-%02dT16:00:00Z", day);
            Read("m1", at, 100 + 5 * day);
            Read("pub", at, 5 * day);
            Read("m2", at, 100 + day);
        }
    }

    void Open(const char* number, const char* meter, const char* tariff) {
        OpenAccountRequest open;
        open.project_code = "mall";
        open.number = number;
        open.tenant_name = "Tenant";
        open.tariff_code = tariff;
        open.meters.push_back({meter, Kwh(100), std::nullopt});
        open.opened_at = T("2026-10-31T16:00:00Z");
        open.first_top_up = Money{1'000'000};
        ASSERT_TRUE(billing_.OpenAccount(open, actor_, now_).has_value());
    }
    void Read(const char* meter, const char* at, int64_t kwh) {
        ReadingItem item{"mall", meter, ReadingInput{T(at), T(at), Kwh(kwh), false, {}}};
        auto r = billing_.ApplyReadings(std::span<const ReadingItem>(&item, 1), T(at));
        ASSERT_TRUE(r.has_value()) << r.error().ToString();
    }
    QuoteRequest Request(const char* from, const char* to) {
        QuoteRequest r;
        r.project_code = "mall";
        r.tariff_code = "flat";
        r.from = T(from);
        r.to = T(to);
        return r;
    }
    static const QuoteLine& Line(const Quote& q, std::string_view meter) {
        for (const QuoteLine& l : q.lines) {
            if (l.meter == meter) {
                return l;
            }
        }
        ADD_FAILURE() << "no line for " << meter;
        return q.lines.front();
    }

    Instant now_ = T("2026-10-31T16:00:00Z");
};

TEST_F(TariffQuoteTest, WithoutACandidateTheQuoteIsWhatWasCharged) {
    // Readings of 2026-11-05 .. 2026-11-10 (local): six days of 5 kWh on m1 and on pub.
    auto quote = QuoteTariff(*store_, Request("2026-11-04T16:00:00Z", "2026-11-10T16:00:00Z"));
    ASSERT_TRUE(quote.has_value()) << quote.error().ToString();
    ASSERT_EQ(quote->lines.size(), 2U);  // m1 and pub; m2 is billed under "other"
    const QuoteLine& m1 = Line(*quote, "m1");
    EXPECT_EQ(m1.account, "A001");
    EXPECT_EQ(m1.amounts.readings, 6);
    EXPECT_EQ(m1.amounts.energy, Kwh(30));
    EXPECT_EQ(m1.amounts.charged, Money{3000});
    EXPECT_EQ(m1.amounts.quoted, Money{3000});
    EXPECT_EQ(Line(*quote, "pub").account, "");
    EXPECT_EQ(quote->total.energy, Kwh(60));
    EXPECT_EQ(quote->total.charged, Money{6000});
    EXPECT_EQ(quote->total.quoted, Money{6000});
}

TEST_F(TariffQuoteTest, ACandidatePricesTheSameReadingsAndChangesNothing) {
    QuoteRequest r = Request("2026-11-04T16:00:00Z", "2026-11-10T16:00:00Z");
    TariffVersion candidate;
    candidate.flat_price = UnitPrice{12'345};  // 1.2345 yuan/kWh
    candidate.surcharges = {Surcharge{"service", UnitPrice{100}}};
    r.candidate = candidate;
    auto quote = QuoteTariff(*store_, r);
    ASSERT_TRUE(quote.has_value()) << quote.error().ToString();
    const QuoteLine& m1 = Line(*quote, "m1");
    EXPECT_EQ(m1.amounts.charged, Money{3000});
    // 30 kWh x 1.2345 = 37.035 yuan base + 30 x 0.01 service = 37.335 -> 3734 fen (half up).
    EXPECT_EQ(m1.amounts.quoted, Money{3734});
    EXPECT_EQ(m1.amounts.quoted_surcharges, FineMoney{30 * kFinePerFen});
    EXPECT_EQ(m1.amounts.energy_by_period[static_cast<std::size_t>(Period::kFlat)], Kwh(30));
    // The total is rounded once from the exact sum: 2 x 37.335 = 74.67 yuan.
    EXPECT_EQ(quote->total.quoted, Money{7467});
    // A quote writes nothing: the tariff still has one version and the next quote agrees.
    auto tx = store_->BeginRead().value();
    const ProjectRecord project = tx->FindProject("mall").value().value();
    EXPECT_EQ(tx->FindTariff(project.id, "flat").value()->tariff.versions.size(), 1U);
}

TEST_F(TariffQuoteTest, TiersCountTheUsageOfTheCycleBeforeThePeriod) {
    // From the 11th: m1 used 50 kWh in November before it. Tier 1 is the first 40 kWh of the
    // month, so the whole period is in tier 2 (+0.5 yuan/kWh).
    QuoteRequest r = Request("2026-11-10T16:00:00Z", "2026-11-12T16:00:00Z");
    r.meters = {"m1"};
    TariffVersion candidate;
    candidate.flat_price = UnitPrice{10'000};
    candidate.cycle = TierCycle::kMonthly;
    candidate.tiers = {Tier{Kwh(40), UnitPrice{0}}, Tier{Quantity{0}, UnitPrice{5'000}}};
    r.candidate = candidate;
    auto quote = QuoteTariff(*store_, r);
    ASSERT_TRUE(quote.has_value()) << quote.error().ToString();
    ASSERT_EQ(quote->lines.size(), 1U);
    EXPECT_EQ(quote->lines[0].amounts.energy, Kwh(10));
    EXPECT_EQ(quote->lines[0].amounts.quoted_tier_extra, FineMoney{500 * kFinePerFen});
    EXPECT_EQ(quote->lines[0].amounts.quoted, Money{1500});
}

TEST_F(TariffQuoteTest, NamedMetersMayBeBilledUnderAnotherTariff) {
    QuoteRequest r = Request("2026-11-04T16:00:00Z", "2026-11-10T16:00:00Z");
    r.meters = {"m2"};
    auto quote = QuoteTariff(*store_, r);
    ASSERT_TRUE(quote.has_value()) << quote.error().ToString();
    ASSERT_EQ(quote->lines.size(), 1U);
    EXPECT_EQ(quote->lines[0].amounts.charged, Money{1200});  // 6 kWh at 2 yuan
    EXPECT_EQ(quote->lines[0].amounts.quoted, Money{600});    // at "flat"
}

TEST_F(TariffQuoteTest, ReadingsWithoutAnEarlierOneAreCountedNotPriced) {
    // pub's first reading (2026-11-01T16:00Z) was its baseline; m1's interval starts at its
    // account's opening register.
    auto quote = QuoteTariff(*store_, Request("2026-10-31T16:00:00Z", "2026-11-02T16:00:00Z"));
    ASSERT_TRUE(quote.has_value()) << quote.error().ToString();
    const QuoteLine& pub = Line(*quote, "pub");
    EXPECT_EQ(pub.unpriced_readings, 1);
    EXPECT_EQ(pub.amounts.readings, 1);
    EXPECT_EQ(pub.amounts.charged, pub.amounts.quoted);
    const QuoteLine& m1 = Line(*quote, "m1");
    EXPECT_EQ(m1.unpriced_readings, 0);
    EXPECT_EQ(m1.amounts.readings, 2);
    EXPECT_EQ(m1.amounts.quoted, Money{1000});
}

TEST_F(TariffQuoteTest, BadRequestsNameTheField) {
    const auto field_of = [&](const QuoteRequest& r) {
        auto quote = QuoteTariff(*store_, r);
        return quote.has_value() ? std::string("(none)") : quote.error().field;
    };
    EXPECT_EQ(field_of(Request("2026-11-10T00:00:00Z", "2026-11-10T00:00:00Z")), "to");
    EXPECT_EQ(field_of(Request("2026-01-01T00:00:00Z", "2026-11-10T00:00:00Z")), "to");
    QuoteRequest unknown_tariff = Request("2026-11-04T16:00:00Z", "2026-11-10T16:00:00Z");
    unknown_tariff.tariff_code = "nope";
    EXPECT_EQ(field_of(unknown_tariff), "tariff");
    QuoteRequest unknown_meter = Request("2026-11-04T16:00:00Z", "2026-11-10T16:00:00Z");
    unknown_meter.meters = {"m1", "m9"};
    EXPECT_EQ(field_of(unknown_meter), "meters[1]");
    QuoteRequest bad_tiers = Request("2026-11-04T16:00:00Z", "2026-11-10T16:00:00Z");
    TariffVersion candidate;
    candidate.flat_price = UnitPrice{10'000};
    candidate.cycle = TierCycle::kMonthly;
    candidate.tiers = {Tier{Kwh(40), UnitPrice{0}}, Tier{Kwh(10), UnitPrice{5'000}},
                       Tier{Quantity{0}, UnitPrice{6'000}}};  // the bounds go down
    bad_tiers.candidate = candidate;
    EXPECT_TRUE(field_of(bad_tiers).starts_with("version.tiers")) << field_of(bad_tiers);
}

}  // namespace
}  // namespace joule
