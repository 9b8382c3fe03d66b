// Backfill after an outage [DEV-7] through AcquisitionService against the real SQLite store (in
// memory): frozen daily registers are billed at their freeze time, in order, once, before the
// live reading that follows the outage; live state older than a few read intervals is stale.
#include "service/acquisition_service.hpp"

#include "service/service_test_support.hpp"

namespace joule {
namespace {

using service_test::Kwh;
using service_test::T;

// Asia/Shanghai is UTC+8: local midnight of day D is 16:00Z of day D-1.
class BackfillTest : public service_test::ServiceTest {
protected:
    void SetUp() override {
        SiteSpec site;
        site.project = {{}, "mall", "Test Mall", "Asia/Shanghai"};
        MeterModelRecord model;
        model.code = "dtsd";
        model.name = "three-phase";
        model.spec.max_rate_per_hour = 20'000;
        site.models.push_back(model);
        // The price doubles from local midnight of 4 November: which day energy belongs to
        // decides what it costs.
        TariffRecord tariff;
        tariff.code = "step";
        tariff.tariff.name = "1.0000 then 2.0000";
        TariffVersion v1;
        v1.effective_from = T("2026-01-01T00:00:00Z");
        v1.flat_price = UnitPrice{10'000};
        TariffVersion v2 = v1;
        v2.effective_from = T("2026-11-03T16:00:00Z");
        v2.flat_price = UnitPrice{20'000};
        tariff.tariff.versions = {v1, v2};
        site.tariffs.push_back(tariff);
        SiteSpec::Meter m;
        m.meter.code = "m1";
        m.model_code = "dtsd";
        site.meters.push_back(m);
        ASSERT_TRUE(CreateSite(*store_, site, actor_, now_).has_value());

        OpenAccountRequest open;
        open.project_code = "mall";
        open.number = "A001";
        open.tenant_name = "Noodle bar";
        open.tariff_code = "step";
        open.meters.push_back({"m1", Kwh(100), std::nullopt});
        open.opened_at = T("2026-11-01T00:00:00Z");
        open.first_top_up = Money{10000};  // 100 yuan
        auto opened = billing_.OpenAccount(open, actor_, now_);
        ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
        auto tx = store_->Begin().value();
        const ProjectRecord project = tx->FindProject("mall").value().value();
        meter_ = tx->FindMeter(project.id, "m1").value().value().id;
    }

    MeterSample Live(std::string_view at, int64_t kwh) const {
        MeterSample s;
        s.meter = meter_;
        s.meter_time = T(at);
        s.received = T(at);
        s.total = Kwh(kwh);
        s.values_json = R"({"voltage":"230.1"})";
        return s;
    }

    // A daily freeze read at `received` (after the outage), stamped with its freeze time.
    MeterSample Frozen(std::string_view frozen_at, int64_t kwh, std::string_view received) const {
        MeterSample s = Live(frozen_at, kwh);
        s.received = T(received);
        s.backfill = true;
        s.values_json = R"({"frozen_at":"x"})";
        return s;
    }

    Result<RecordResult> Record(std::vector<MeterSample> samples, std::string_view now) {
        return acquisition_.Record(samples, T(now));
    }

    Money Paid() { return billing_.ViewAccount("mall", "A001").value().paid; }

    std::vector<StoredReading> Readings() {
        auto tx = store_->Begin().value();
        return tx->ListReadings(meter_, 100).value();
    }

    Instant now_ = T("2026-11-01T00:00:00Z");
    MeterId meter_;
};

// The outage: last live read 1 Nov 12:00Z (102 kWh); the meter froze 110 / 140 / 142 kWh at the
// local midnights of 2, 3 and 4 November; the link is back on 4 Nov 02:00Z (152 kWh).
TEST_F(BackfillTest, EachDayIsBilledOnceAtItsFreezeTimeThenTheLiveReading) {
    auto before = Record({Live("2026-11-01T12:00:00Z", 102)}, "2026-11-01T12:00:00Z");
    ASSERT_TRUE(before.has_value()) << before.error().ToString();
    EXPECT_EQ(Paid().fen, 10000 - 200);

    const std::string_view back = "2026-11-04T02:00:00Z";
    std::vector<MeterSample> catch_up = {Frozen("2026-11-01T16:00:00Z", 110, back),
                                         Frozen("2026-11-02T16:00:00Z", 140, back),
                                         Frozen("2026-11-03T16:00:00Z", 142, back)};
    std::vector<MeterSample> batch = catch_up;
    batch.push_back(Live(back, 152));
    auto after = Record(batch, back);
    ASSERT_TRUE(after.has_value()) << after.error().ToString();
    EXPECT_EQ(after->billing.accepted, 4U);
    EXPECT_EQ(after->billing.quarantined, 0U);
    EXPECT_EQ(after->backfill_skipped, 0U);
    // 8 + 30 + 2 kWh at 1 yuan before 4 Nov, 10 kWh at 2 yuan after: 60 yuan. Billed as one
    // interval from 1 Nov 12:00Z it would have been spread and cost something else.
    EXPECT_EQ(after->billing.deducted.fen, 6000);
    EXPECT_EQ(Paid().fen, 10000 - 200 - 6000);

    const std::vector<StoredReading> rows = Readings();  // newest first
    ASSERT_EQ(rows.size(), 5U);
    EXPECT_EQ(rows[0].outcome.input.meter_time, T(back));
    EXPECT_EQ(rows[0].outcome.input.source, ReadingSource::kLive);
    const Instant freeze_times[] = {T("2026-11-03T16:00:00Z"), T("2026-11-02T16:00:00Z"),
                                    T("2026-11-01T16:00:00Z")};
    const int64_t deltas_kwh[] = {2, 30, 8};
    for (std::size_t i = 0; i < 3; ++i) {
        SCOPED_TRACE(i);
        const ReadingOutcome& o = rows[1 + i].outcome;
        EXPECT_EQ(o.input.meter_time, freeze_times[i]);  // never the arrival time
        EXPECT_EQ(o.input.received, T(back));
        EXPECT_EQ(o.input.source, ReadingSource::kFrozen);
        EXPECT_EQ(o.validated.verdict, Verdict::kAccepted);
        EXPECT_EQ(o.validated.delta, Kwh(deltas_kwh[i]));
    }
    EXPECT_EQ(rows[4].outcome.input.source, ReadingSource::kLive);
    ExpectLedgerBalanced();

    // The same backfill again (a retry, or the next reconnect reading the same freezes): nothing.
    auto again = Record(catch_up, "2026-11-04T02:30:00Z");
    ASSERT_TRUE(again.has_value()) << again.error().ToString();
    EXPECT_EQ(again->backfill_skipped, 3U);
    EXPECT_EQ(again->billing.accepted, 0U);
    EXPECT_EQ(again->billing.quarantined, 0U);
    EXPECT_EQ(Readings().size(), 5U);
    EXPECT_EQ(Paid().fen, 10000 - 200 - 6000);
    ExpectLedgerBalanced();
}

TEST_F(BackfillTest, FreezesOlderThanTheLastAcceptedReadingAreSkippedNotQuarantined) {
    ASSERT_TRUE(Record({Live("2026-11-02T12:00:00Z", 120)}, "2026-11-02T12:00:00Z").has_value());
    // The 2 Nov freeze (1 Nov 16:00Z) is older than the cursor; the 3 Nov one is newer.
    auto r = Record({Frozen("2026-11-01T16:00:00Z", 110, "2026-11-03T01:00:00Z"),
                     Frozen("2026-11-02T16:00:00Z", 125, "2026-11-03T01:00:00Z")},
                    "2026-11-03T01:00:00Z");
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(r->backfill_skipped, 1U);
    EXPECT_EQ(r->billing.accepted, 1U);
    EXPECT_EQ(r->billing.quarantined, 0U);
    EXPECT_EQ(Readings().size(), 2U);
    EXPECT_EQ(Paid().fen, 10000 - 2000 - 500);
    ExpectLedgerBalanced();
}

TEST_F(BackfillTest, BackfillDoesNotOverwriteTheLiveState) {
    ASSERT_TRUE(Record({Live("2026-11-01T12:00:00Z", 102)}, "2026-11-01T12:00:00Z").has_value());
    ASSERT_TRUE(Record({Frozen("2026-11-01T16:00:00Z", 110, "2026-11-02T01:00:00Z")},
                       "2026-11-02T01:00:00Z")
                    .has_value());
    auto tx = store_->Begin().value();
    const MeterStatusRecord status = tx->LoadMeterStatus(meter_).value().value();
    EXPECT_EQ(status.meter_time, T("2026-11-01T12:00:00Z"));
    EXPECT_EQ(status.values_json, R"({"voltage":"230.1"})");
}

TEST(LiveStatus, StaleWhenOfflineNeverSeenOrOlderThanThreeReadIntervals) {
    const Seconds interval{1800};
    MeterStatusRecord s;
    s.online = true;
    EXPECT_TRUE(MakeLiveStatus(s, interval, T("2026-11-01T12:00:00Z")).stale);  // never seen
    s.last_seen = T("2026-11-01T10:30:00Z");
    const LiveStatus fresh = MakeLiveStatus(s, interval, T("2026-11-01T12:00:00Z"));
    EXPECT_FALSE(fresh.stale);  // exactly 3 intervals
    EXPECT_EQ(fresh.age, Seconds{5400});
    EXPECT_TRUE(MakeLiveStatus(s, interval, T("2026-11-01T12:00:01Z")).stale);
    s.online = false;
    EXPECT_TRUE(MakeLiveStatus(s, interval, T("2026-11-01T10:31:00Z")).stale);
}

TEST_F(BackfillTest, LiveStatusUsesTheProjectReadInterval) {
    EXPECT_FALSE(acquisition_.GetLiveStatus(meter_, now_).value().has_value());
    ASSERT_TRUE(Record({Live("2026-11-01T12:00:00Z", 102)}, "2026-11-01T12:00:00Z").has_value());
    auto fresh = acquisition_.GetLiveStatus(meter_, T("2026-11-01T13:00:00Z"));
    ASSERT_TRUE(fresh.has_value() && fresh->has_value());
    EXPECT_FALSE((*fresh)->stale);
    auto old = acquisition_.GetLiveStatus(meter_, T("2026-11-01T14:00:00Z"));  // 1800 s × 3 < 2 h
    ASSERT_TRUE(old.has_value() && old->has_value());
    EXPECT_TRUE((*old)->stale);
    EXPECT_EQ((*old)->status.values_json, R"({"voltage":"230.1"})");  // values kept, flagged
    auto catch_up = acquisition_.CatchUp(meter_);
    ASSERT_TRUE(catch_up.has_value());
    EXPECT_EQ(catch_up->last_seen, T("2026-11-01T12:00:00Z"));
    EXPECT_EQ(catch_up->cursor, T("2026-11-01T12:00:00Z"));
}

}  // namespace
}  // namespace joule

namespace joule {
namespace {

TEST_F(BackfillTest, AMeterClockFarOffRaisesClockDriftAndACorrectOneClearsIt) {
    MeterSample s = Live("2026-11-01T12:00:00Z", 101);
    s.meter_clock = true;
    s.meter_time = T("2026-11-01T12:07:00Z");  // 7 minutes ahead of the server
    ASSERT_TRUE(Record({s}, "2026-11-01T12:00:00Z").has_value());
    ASSERT_EQ(OpenAlarms(AlarmKind::kClockDrift).size(), 1U);
    MeterSample fixed = Live("2026-11-01T12:30:00Z", 102);
    fixed.meter_clock = true;
    ASSERT_TRUE(Record({fixed}, "2026-11-01T12:30:00Z").has_value());
    EXPECT_TRUE(OpenAlarms(AlarmKind::kClockDrift).empty());
}

TEST_F(BackfillTest, SamplesOfOneMeterInOneBatchSeeEachOthersAlarms) {
    // The batch's live state is read once; within the batch it follows each sample: the first
    // raises, the second clears, the third raises again.
    MeterSample low = Live("2026-11-01T12:00:00Z", 101);
    low.battery_low = true;
    MeterSample fine = Live("2026-11-01T12:15:00Z", 101);
    ASSERT_TRUE(Record({low, fine}, "2026-11-01T12:15:00Z").has_value());
    EXPECT_TRUE(OpenAlarms(AlarmKind::kBatteryLow).empty());
    MeterSample low_again = Live("2026-11-01T12:45:00Z", 102);
    low_again.battery_low = true;
    MeterSample fine_again = Live("2026-11-01T12:30:00Z", 101);
    ASSERT_TRUE(Record({fine_again, low_again}, "2026-11-01T12:45:00Z").has_value());
    EXPECT_EQ(OpenAlarms(AlarmKind::kBatteryLow).size(), 1U);
    // An unknown meter among known ones names its sample.
    MeterSample stranger = Live("2026-11-01T13:00:00Z", 103);
    stranger.meter = MeterId{999};
    auto refused = Record({Live("2026-11-01T13:00:00Z", 103), stranger}, "2026-11-01T13:00:00Z");
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(refused.error().field, "samples[1].meter");
}

TEST_F(BackfillTest, RelayStateContradictingTheLastAcknowledgedCommandRaisesAMismatch) {
    auto id =
        acquisition_.QueueCommand(meter_, "trip", "{}", "test", actor_, T("2026-11-01T12:00:00Z"));
    ASSERT_TRUE(id.has_value());
    auto taken = acquisition_.TakeDueCommands(T("2026-11-01T12:00:01Z"), 10);
    ASSERT_TRUE(taken.has_value());
    ASSERT_EQ(taken->size(), 1U);
    ASSERT_TRUE(acquisition_.RecordCommandResult(*id, true, "", T("2026-11-01T12:00:02Z")));
    MeterSample closed = Live("2026-11-01T12:01:00Z", 101);
    closed.relay = RelayState::kClosed;  // the meter says closed: the trip did not take
    auto recorded = Record({closed}, "2026-11-01T12:01:00Z");
    ASSERT_TRUE(recorded.has_value());
    EXPECT_EQ(recorded->mismatches, 1U);
    ASSERT_EQ(OpenAlarms(AlarmKind::kRelayMismatch).size(), 1U);
    MeterSample open = Live("2026-11-01T12:02:00Z", 101);
    open.relay = RelayState::kOpen;
    ASSERT_TRUE(Record({open}, "2026-11-01T12:02:00Z").has_value());
    EXPECT_TRUE(OpenAlarms(AlarmKind::kRelayMismatch).empty());
}

TEST_F(BackfillTest, AMeterGoesOfflineAfterRepeatedFailuresAndBackOnItsNextRead) {
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(acquisition_.RecordReadFailure(meter_, "timeout", T("2026-11-01T12:00:00Z")));
    }
    EXPECT_TRUE(OpenAlarms(AlarmKind::kMeterOffline).empty());
    ASSERT_TRUE(acquisition_.RecordReadFailure(meter_, "timeout", T("2026-11-01T12:00:00Z")));
    EXPECT_EQ(OpenAlarms(AlarmKind::kMeterOffline).size(), 1U);
    ASSERT_TRUE(Record({Live("2026-11-01T12:30:00Z", 101)}, "2026-11-01T12:30:00Z").has_value());
    EXPECT_TRUE(OpenAlarms(AlarmKind::kMeterOffline).empty());
}

TEST_F(BackfillTest, FailedCommandsBackOffThenFailWithAnAlarm) {
    auto id =
        acquisition_.QueueCommand(meter_, "trip", "{}", "test", actor_, T("2026-11-01T12:00:00Z"));
    ASSERT_TRUE(id.has_value());
    Instant now = T("2026-11-01T12:00:00Z");
    for (int attempt = 1; attempt <= 5; ++attempt) {
        auto taken = acquisition_.TakeDueCommands(now, 10).value();
        ASSERT_EQ(taken.size(), 1U) << "attempt " << attempt;
        EXPECT_EQ(taken[0].attempts, attempt);
        // Not due again before its backoff.
        EXPECT_TRUE(acquisition_.TakeDueCommands(now, 10).value().empty());
        ASSERT_TRUE(acquisition_.RecordCommandResult(*id, false, "no reply", now));
        now = taken[0].next_attempt_at;
    }
    auto tx = store_->Begin().value();
    const CommandRecord c = tx->GetCommand(*id).value();
    tx.reset();
    EXPECT_EQ(c.state, CommandState::kFailed);
    EXPECT_EQ(c.error, "no reply");
    EXPECT_EQ(OpenAlarms(AlarmKind::kCommandFailed).size(), 1U);
    // A late acknowledgement of a finished command changes nothing.
    ASSERT_TRUE(acquisition_.RecordCommandResult(*id, true, "", now));
    auto again = store_->Begin().value();
    EXPECT_EQ(again->GetCommand(*id).value().state, CommandState::kFailed);
}

}  // namespace
}  // namespace joule
