#include "core/reading.hpp"

#include "base/checked.hpp"

namespace joule {

std::string_view VerdictName(Verdict verdict) {
    switch (verdict) {
        case Verdict::kAccepted:
            return "accepted";
        case Verdict::kDuplicate:
            return "duplicate";
        case Verdict::kQuarantined:
            break;
    }
    return "quarantined";
}

std::string_view ReadingReasonName(ReadingReason reason) {
    switch (reason) {
        case ReadingReason::kInterval:
            return "interval";
        case ReadingReason::kAfterGap:
            return "after_gap";
        case ReadingReason::kRollover:
            return "rollover";
        case ReadingReason::kDuplicate:
            return "duplicate";
        case ReadingReason::kConflictingDuplicate:
            return "conflicting_duplicate";
        case ReadingReason::kLate:
            return "late";
        case ReadingReason::kRegressed:
            return "regressed";
        case ReadingReason::kSpike:
            return "spike";
        case ReadingReason::kFuture:
            return "future";
        case ReadingReason::kBeyondRegisterMax:
            return "beyond_register_max";
        case ReadingReason::kPerRateMismatch:
            return "per_rate_mismatch";
        case ReadingReason::kNoCursor:
            return "no_cursor";
        case ReadingReason::kNoTariff:
            return "no_tariff";
        case ReadingReason::kBaseline:
            return "baseline";
    }
    return "unknown";
}

namespace {

ValidatedReading Quarantine(ReadingReason reason) {
    return {Verdict::kQuarantined, reason, {}, false, {}, {}};
}

// Forward distance from `from` to `to` on a register that wraps to 0 at `modulus`.
int64_t Forward(int64_t from, int64_t to, int64_t modulus) {
    return to >= from ? to - from : (modulus - from) + to;
}

}  // namespace

ValidatedReading ValidateReading(const RegisterSpec& spec, const Cursor& cursor,
                                 const ReadingInput& reading) {
    if (reading.total.milli < 0 || reading.total >= spec.register_modulus) {
        return Quarantine(ReadingReason::kBeyondRegisterMax);
    }
    if (reading.meter_time > reading.received + spec.future_tolerance) {
        return Quarantine(ReadingReason::kFuture);
    }
    if (!cursor.valid) {
        return Quarantine(ReadingReason::kNoCursor);
    }
    if (reading.meter_time == cursor.time) {
        return reading.total == cursor.total ? ValidatedReading{Verdict::kDuplicate,
                                                                ReadingReason::kDuplicate,
                                                                {},
                                                                false,
                                                                {},
                                                                {}}
                                             : Quarantine(ReadingReason::kConflictingDuplicate);
    }
    if (reading.meter_time < cursor.time) {
        return Quarantine(ReadingReason::kLate);
    }

    const int64_t elapsed_s = (reading.meter_time - cursor.time).count();
    // Physical maximum over the interval, plus one resolution step of slack for register rounding.
    const Int128 max_delta = static_cast<Int128>(spec.max_rate_per_hour) * elapsed_s / 3600 + 10;
    ValidatedReading out;
    out.verdict = Verdict::kAccepted;
    out.from = cursor.time;
    out.reason = elapsed_s > spec.gap_threshold.count() ? ReadingReason::kAfterGap
                                                        : ReadingReason::kInterval;
    if (reading.total >= cursor.total) {
        out.delta = reading.total - cursor.total;
        if (out.delta.milli > max_delta) {
            return Quarantine(ReadingReason::kSpike);
        }
    } else {
        const int64_t wrapped =
            Forward(cursor.total.milli, reading.total.milli, spec.register_modulus.milli);
        if (wrapped > max_delta) {
            return Quarantine(ReadingReason::kRegressed);
        }
        out.delta = Quantity{wrapped};
        out.reason = ReadingReason::kRollover;
    }

    if (reading.has_per_rate && cursor.has_per_rate) {
        Quantity sum;
        bool consistent = true;
        for (std::size_t p = 0; p < kPeriodCount; ++p) {
            const int64_t d = Forward(cursor.per_rate[p].milli, reading.per_rate[p].milli,
                                      spec.register_modulus.milli);
            if (d > out.delta.milli) {
                consistent = false;
                break;
            }
            out.per_rate_delta[p].milli = d;
            sum += out.per_rate_delta[p];
        }
        // Per-rate registers are billed only when they add up to the total exactly; otherwise the
        // total is allocated by time and the reading says why.
        if (consistent && sum == out.delta) {
            out.bill_per_rate = true;
        } else {
            out.per_rate_delta = {};
            if (out.reason == ReadingReason::kInterval) {
                out.reason = ReadingReason::kPerRateMismatch;
            }
        }
    }
    return out;
}

Cursor Advance(const ReadingInput& reading) {
    return Cursor{true, reading.meter_time, reading.total, reading.has_per_rate, reading.per_rate};
}

}  // namespace joule
