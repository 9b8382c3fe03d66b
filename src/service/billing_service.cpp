#include "service/billing_service.hpp"
#include "service/project_lookup.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <unordered_map>

#include "base/assert.hpp"
#include "base/decimal.hpp"
#include "base/json_quote.hpp"
#include "core/rounding.hpp"

namespace joule {

namespace {

constexpr int64_t kMaxMoneyFen = kMaxTransferFen;
// Meter billing: a purchase waits this long for its meter (offline for days is not unusual).
constexpr Seconds kPurchaseTtl{7 * 24 * 3600};
// Meter billing: the platform never trips for money; this overdraft keeps the prepaid state
// machine's trip level out of reach while its alarm levels still apply to the meter's amount.
constexpr Money kNoTripOverdraft{kMaxTransferFen * 1000};

// Everything a money operation on one account needs, loaded in its unit of work.
struct AccountContext {
    ProjectRecord project;
    AccountRecord account;
    Wallet wallet;
    std::shared_ptr<const TariffRecord> tariff;  // shared: a batch bills thousands of accounts
    std::optional<Zone> zone;
    // Meter billing only: the two ledger accounts of money sent to the meter.
    LedgerAccount meter_pending;
    LedgerAccount meter_held;
};

Status CheckText(std::string_view value, std::string_view field, std::size_t max_bytes) {
    if (value.empty() || value.size() > max_bytes) {
        return InvalidArgument(std::string(field),
                               "must be 1 to " + std::to_string(max_bytes) + " bytes long");
    }
    return {};
}

// Client idempotency keys share the transfer id space with ids the system derives ("rd:…",
// "expire:…", "close:…", "<key>:debt" …), which all contain ':'; client keys may not.
Status CheckClientKey(std::string_view key) {
    JOULE_TRY(CheckText(key, "idempotency_key", kMaxTransferIdBytes - 8));
    if (key.find(':') != std::string_view::npos) {
        return InvalidArgument("idempotency_key", "must not contain ':' (reserved for system ids)");
    }
    for (char c : key) {
        if (static_cast<unsigned char>(c) < 0x20) {
            return InvalidArgument("idempotency_key", "must not contain control characters");
        }
    }
    return {};
}

Status CheckReason(std::string_view reason) {
    if (reason.size() > 256) {
        return InvalidArgument("reason", "must be at most 256 bytes");
    }
    return {};
}

Status CheckAmount(Money amount, std::string_view field) {
    if (amount.fen <= 0) {
        return InvalidArgument(std::string(field), "must be a positive amount");
    }
    if (amount.fen > kMaxMoneyFen) {
        return InvalidArgument(std::string(field), "is larger than any single payment can be");
    }
    return {};
}

// The account's wallet from its ledger accounts and, when `meter` is given, the pending and held
// accounts of meter billing (asserted present for a meter-billing account).
Wallet WalletFrom(const AccountRecord& account, std::span<const LedgerAccount> ledgers,
                  AccountContext* meter) {
    Wallet wallet;
    for (const LedgerAccount& l : ledgers) {
        switch (l.kind) {
            case LedgerAccountKind::kTenantPaid:
                wallet.paid = l;
                break;
            case LedgerAccountKind::kTenantDebt:
                wallet.debt = l;
                break;
            case LedgerAccountKind::kTenantGrant:
                if (l.balance.fen > 0) {
                    wallet.grants.push_back(l);
                }
                break;
            case LedgerAccountKind::kTenantMeterPending:
                if (meter != nullptr) {
                    meter->meter_pending = l;
                }
                break;
            case LedgerAccountKind::kTenantMeterHeld:
                if (meter != nullptr) {
                    meter->meter_held = l;
                }
                break;
            default:
                break;
        }
    }
    JOULE_ASSERT(wallet.paid.id == account.paid, "account's paid ledger account is missing");
    JOULE_ASSERT(meter == nullptr || account.billing_mode != BillingMode::kMeter ||
                     (meter->meter_pending.id.valid() && meter->meter_held.id.valid()),
                 "meter-billing account without its meter ledger accounts");
    return wallet;
}

// WalletFrom the account's ledger accounts, read in one statement.
Result<Wallet> LoadWallet(Tx& tx, const AccountRecord& account, AccountContext* meter = nullptr) {
    JOULE_ASSIGN_OR_RETURN(auto ledgers, tx.LedgerAccountsOf(account.id));
    return WalletFrom(account, ledgers, meter);
}

// What prepaid alarms act on: the platform's balance, or for meter billing the meter's own
// remaining amount as last read (before the first read: what was sent to it).
Money AvailableOf(const AccountContext& ctx, Instant now) {
    if (ctx.account.billing_mode != BillingMode::kMeter) {
        return ctx.wallet.Available(now);
    }
    return MeterAvailable(ctx.account.purse, ctx.meter_pending.balance, ctx.meter_held.balance);
}

// The context of an account whose row is already loaded: its wallet and tariff.
Result<AccountContext> ContextOf(Tx& tx, const ProjectRecord& project, const Zone& zone,
                                 AccountRecord account) {
    AccountContext ctx;
    ctx.project = project;
    ctx.account = std::move(account);
    JOULE_ASSIGN_OR_RETURN(ctx.wallet, LoadWallet(tx, ctx.account, &ctx));
    JOULE_ASSIGN_OR_RETURN(TariffRecord tariff, tx.GetTariff(ctx.account.tariff));
    ctx.tariff = std::make_shared<const TariffRecord>(std::move(tariff));
    ctx.zone = zone;
    return ctx;
}

// The account `number` of `project`, or kNotFound naming "account_number".
Result<AccountRecord> FindAccountIn(Tx& tx, const ProjectRecord& project, std::string_view number) {
    JOULE_ASSIGN_OR_RETURN(auto account, tx.FindAccount(project.id, number));
    if (!account) {
        return NotFound(
            "no account '" + std::string(number) + "' in project '" + project.code + "'",
            "account_number");
    }
    return *std::move(account);
}

Result<AccountContext> LoadAccount(Tx& tx, std::string_view project_code, std::string_view number) {
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(tx, project_code));
    JOULE_ASSIGN_OR_RETURN(AccountRecord account, FindAccountIn(tx, project, number));
    JOULE_ASSIGN_OR_RETURN(Zone zone, Zone::Load(project.time_zone));
    return ContextOf(tx, project, zone, std::move(account));
}

// The account with id `id`, its project and wallet.
Result<AccountContext> ContextOfAccount(Tx& tx, AccountId id) {
    JOULE_ASSIGN_OR_RETURN(AccountRecord account, tx.GetAccount(id));
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, tx.GetProject(account.project));
    JOULE_ASSIGN_OR_RETURN(Zone zone, Zone::Load(project.time_zone));
    return ContextOf(tx, project, zone, std::move(account));
}

Status CheckVersion(const AccountRecord& account, std::optional<int64_t> expected) {
    if (expected && *expected != account.version) {
        return MakeError(ErrorCode::kAborted,
                         "the account changed since version " + std::to_string(*expected) +
                             " (it is at " + std::to_string(account.version) +
                             "); reload and try again",
                         "expected_version");
    }
    return {};
}

Status RequireOpen(const AccountRecord& account) {
    if (account.status != AccountStatus::kOpen) {
        return FailedPrecondition("account '" + account.number + "' is closed", "account_number");
    }
    return {};
}

// Friendly periods use the tariff's calendar (weekend days, holidays) in the project zone.
bool FriendlyNow(const ControlScheme& scheme, const Zone& zone, const Tariff& tariff, Instant now) {
    const LocalTime local = zone.ToLocal(now);
    const CivilDate date{date::floor<date::days>(local)};
    static const TouPlan kDefaultCalendar;  // Saturday and Sunday, no holidays
    const TouPlan* calendar = &kDefaultCalendar;
    for (const TariffVersion& v : tariff.versions) {
        if (v.effective_from <= now && v.base == PriceBase::kTou) {
            calendar = &v.tou;
        }
    }
    const DayType type = DayTypeOf(*calendar, date);
    return InFriendlyPeriod(scheme.friendly, local, type == DayType::kWeekend,
                            type == DayType::kHoliday);
}

// Checks a transfer against the core rules with the balances it will move, then appends it.
Status Post(Tx& tx, const Transfer& t) {
    JOULE_ASSIGN_OR_RETURN(LedgerAccount debit, tx.GetLedgerAccount(t.debit));
    JOULE_ASSIGN_OR_RETURN(LedgerAccount credit, tx.GetLedgerAccount(t.credit));
    const PostResult result = CheckTransfer(t, debit, credit);
    if (result != PostResult::kOk) {
        return FailedPrecondition(
            "transfer '" + t.id + "' rejected: " + std::string(PostResultName(result)), "amount");
    }
    return tx.InsertTransfer(t);
}

// Idempotency: kOk to go on, kExists when the same transfer was posted, an error otherwise.
Result<PostResult> CheckIdempotency(Tx& tx, const Transfer& t) {
    JOULE_ASSIGN_OR_RETURN(auto existing, tx.FindTransfer(t.id));
    if (!existing) {
        return PostResult::kOk;
    }
    if (SameTransfer(*existing, t)) {
        return PostResult::kExists;
    }
    return MakeError(ErrorCode::kAlreadyExists,
                     "idempotency key '" + t.id + "' was used for a different operation",
                     "idempotency_key");
}

std::string CommandKindFor(CommandKind kind, Utility utility) {
    if (utility == Utility::kWater || utility == Utility::kHeat) {
        return kind == CommandKind::kTrip ? "valve_close" : "valve_open";
    }
    return std::string(CommandKindName(kind));
}

// Queues a relay (or, for water, valve) command to one meter, with its outbox row. Meters
// without a relay or valve are skipped.
Status QueueRelayCommand(Tx& tx, AccountId account, MeterId meter_id, CommandKind kind,
                         const std::string& reason, std::string_view actor, Instant now,
                         ApplyReadingsResult* stats) {
    JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx.GetMeter(meter_id));
    JOULE_ASSIGN_OR_RETURN(MeterModelRecord model, tx.GetModel(meter.model));
    if (!model.has_relay) {
        return {};
    }
    CommandRecord command;
    command.meter = meter.id;
    command.account = account;
    command.kind = CommandKindFor(kind, model.utility);
    command.reason = reason;
    command.actor = std::string(actor);
    command.created_at = now;
    // The commands table is the commands' outbox: the dispatcher sends what is due there.
    JOULE_ASSIGN_OR_RETURN(int64_t id, tx.InsertCommand(command));
    (void)id;
    if (stats != nullptr) {
        ++stats->commands;
    }
    return {};
}

// Runs one prepaid step and persists its effects: alarms (de-duplicated), relay commands to every
// bound meter, and the account's new status. `account_changed`: the caller
// changed the account row too, so it is written (once) whether or not the status moves.
Status StepAndPersist(Tx& tx, AccountContext& ctx, ControlEvent event, Instant now,
                      std::string_view actor, std::string_view reason, ApplyReadingsResult* stats,
                      bool account_changed = false) {
    ControlEffects effects;
    const Money available = AvailableOf(ctx, now);
    ControlScheme scheme = ctx.account.scheme;
    if (ctx.account.billing_mode == BillingMode::kMeter) {
        // The meter trips itself at zero; the platform only raises the balance alarms.
        scheme.overdraft = kNoTripOverdraft;
        scheme.emergency = Money{};
    }
    const bool friendly = FriendlyNow(scheme, *ctx.zone, ctx.tariff->tariff, now);
    const PrepaidStatus next =
        StepPrepaid(scheme, ctx.account.prepaid, event, available, friendly, effects);
    for (const AlarmEffect& a : effects.alarms) {
        if (a.action == AlarmAction::kRaise) {
            AlarmRecord record;
            record.project = ctx.project.id;
            record.account = ctx.account.id;
            record.kind = a.kind;
            record.raised_at = now;
            record.detail = "{\"balance\":\"" + std::to_string(available.fen) + "\"}";
            // The alarm row is its own outbox entry: the notifier tells whoever hears of it.
            JOULE_TRY(tx.RaiseAlarm(record));
            if (stats != nullptr) {
                ++stats->alarms_raised;
            }
        } else {
            JOULE_TRY(tx.ClearAlarm(ctx.account.id, MeterId{}, a.kind, now));
        }
    }
    if (!effects.commands.empty()) {
        JOULE_ASSIGN_OR_RETURN(auto bindings, tx.BindingsOfAccount(ctx.account.id));
        for (const CommandEffect& c : effects.commands) {
            for (const MeterBinding& b : bindings) {
                if (b.bound_to) {
                    continue;
                }
                const std::string why =
                    reason.empty() ? std::string(PrepaidStateName(c.because)) : std::string(reason);
                JOULE_TRY(
                    QueueRelayCommand(tx, ctx.account.id, b.meter, c.kind, why, actor, now, stats));
            }
        }
    }
    if (account_changed || !(next == ctx.account.prepaid)) {
        ctx.account.prepaid = next;
        JOULE_TRY(tx.UpdateAccount(ctx.account));
        ++ctx.account.version;
    }
    return {};
}

// Grants that expired keep their money no longer: it returns to the subsidy pool.
Status ExpireGrants(Tx& tx, AccountContext& ctx, Instant now) {
    std::vector<int32_t> expired;
    ExpiredGrants(ctx.wallet, now, expired);
    if (expired.empty()) {
        return {};
    }
    JOULE_ASSIGN_OR_RETURN(LedgerAccountId pool,
                           tx.SystemLedgerAccount(LedgerAccountKind::kSubsidyExpense, "subsidy"));
    for (int32_t i : expired) {
        LedgerAccount& grant = ctx.wallet.grants[static_cast<std::size_t>(i)];
        const Transfer t{"expire:" + std::to_string(grant.id.value),
                         grant.id,
                         pool,
                         grant.balance,
                         TransferCode::kGrantExpiry,
                         "grant expired",
                         "billing",
                         now};
        JOULE_TRY(tx.InsertTransfer(t));
        grant.balance = Money{};
    }
    return {};
}

Status Log(Tx& tx, const Actor& actor, ProjectId project, std::string_view action,
           std::string_view target, const std::string& detail, Instant now) {
    return tx.InsertOperation(
        OperationBy(actor, now, project, std::string(action), std::string(target), detail));
}

Status ValidateOpenings(const std::vector<MeterOpening>& meters, std::string_view field) {
    if (meters.size() > kMaxMetersPerAccount) {
        return InvalidArgument(std::string(field), "at most 64 meters per account");
    }
    for (std::size_t i = 0; i < meters.size(); ++i) {
        const std::string at = std::string(field) + "[" + std::to_string(i) + "]";
        JOULE_TRY(CheckText(meters[i].meter_code, at + ".meter", 64));
        if (meters[i].opening_total.milli < 0) {
            return InvalidArgument(at + ".reading", "must not be negative");
        }
    }
    return {};
}

// Binds `meter` to `account` from `at` with an opening register; the billing state's cursor
// starts there. Tier usage carries over from `tiers` (continuous history on replacement).
Status BindMeter(Tx& tx, const AccountRecord& account, const MeterRecord& meter,
                 const MeterOpening& opening, Instant at, std::string_view field) {
    JOULE_ASSIGN_OR_RETURN(auto current, tx.CurrentBinding(meter.id));
    if (current) {
        return MakeError(ErrorCode::kAlreadyExists,
                         "meter '" + meter.code + "' is bound to another account",
                         std::string(field));
    }
    JOULE_ASSIGN_OR_RETURN(MeterModelRecord model, tx.GetModel(meter.model));
    if (opening.opening_total >= model.spec.register_modulus) {
        return InvalidArgument(std::string(field) + ".reading",
                               "is above what the meter's register can hold");
    }
    JOULE_TRY(tx.InsertBinding(
        {account.id, meter.id, at, std::nullopt, opening.opening_total, std::nullopt}));
    JOULE_ASSIGN_OR_RETURN(auto existing, tx.LoadBilling(meter.id));
    if (existing && existing->cursor.valid && at < existing->cursor.time) {
        return FailedPrecondition("meter '" + meter.code + "' was already read at " +
                                      FormatInstant(existing->cursor.time) +
                                      "; it can be bound only from then on",
                                  std::string(field));
    }
    if (meter.public_area) {
        return FailedPrecondition("meter '" + meter.code + "' is a public-area meter",
                                  std::string(field));
    }
    MeterBilling billing = existing.value_or(MeterBilling{});
    billing.meter = meter.id;
    billing.account = account.id;
    billing.utility = model.utility;
    billing.spec = model.spec;
    billing.cursor = Cursor{true, at, opening.opening_total, opening.opening_per_rate.has_value(),
                            opening.opening_per_rate.value_or(PerPeriod<Quantity>{})};
    billing.tiers = TierState{};
    return tx.SaveBilling(billing);
}

// Inserts a tenant account with its paid and debt ledger accounts; sets account.id, .paid,
// .debt and .version.
Status InsertAccountWithLedger(Tx& tx, AccountRecord& account) {
    LedgerAccount paid;
    paid.kind = LedgerAccountKind::kTenantPaid;
    JOULE_ASSIGN_OR_RETURN(account.paid, tx.InsertLedgerAccount(paid));
    LedgerAccount debt;
    debt.kind = LedgerAccountKind::kTenantDebt;
    JOULE_ASSIGN_OR_RETURN(account.debt, tx.InsertLedgerAccount(debt));
    JOULE_ASSIGN_OR_RETURN(account.id, tx.InsertAccount(account));
    account.version = 1;
    // The ledger accounts learn their owner now that the account has an id (they were inserted
    // first because the account row references them).
    JOULE_TRY(tx.SetLedgerAccountOwner(account.paid, account.id));
    JOULE_TRY(tx.SetLedgerAccountOwner(account.debt, account.id));
    if (account.billing_mode == BillingMode::kMeter) {
        for (LedgerAccountKind kind :
             {LedgerAccountKind::kTenantMeterPending, LedgerAccountKind::kTenantMeterHeld}) {
            LedgerAccount l;
            l.kind = kind;
            l.owner = account.id;
            JOULE_TRY(tx.InsertLedgerAccount(l));
        }
    }
    return {};
}

// Meter billing needs one meter that can hold money: refused before anything is written.
Status CheckMeterBilling(Tx& tx, const OpenAccountRequest& r, ProjectId project) {
    if (r.billing_mode != BillingMode::kMeter) {
        return {};
    }
    if (r.meters.size() != 1) {
        return InvalidArgument("meters",
                               "a meter-billing account holds exactly one meter (the money is kept "
                               "in that meter)");
    }
    if (r.purchase_count < 0 || r.purchase_count > 9999) {
        return InvalidArgument("purchase_count", "must be the meter's count, 0..9999");
    }
    JOULE_ASSIGN_OR_RETURN(auto meter, tx.FindMeter(project, r.meters[0].meter_code));
    if (!meter) {
        return NotFound("no meter '" + r.meters[0].meter_code + "'", "meters[0].meter");
    }
    JOULE_ASSIGN_OR_RETURN(MeterModelRecord model, tx.GetModel(meter->model));
    if (!model.in_meter_prepaid) {
        return FailedPrecondition("billing_mode \"meter\" needs a meter that holds money: model '" +
                                      model.code + "' of meter '" + meter->code +
                                      "' has capabilities.in_meter_prepaid false",
                                  "billing_mode");
    }
    // Each purchase attempt needs the meter's count read right before it [ACCT-1]; an MQTT
    // gateway reads its meters itself and cannot, so its money would wait in meter_pending.
    if (meter->gateway.valid()) {
        JOULE_ASSIGN_OR_RETURN(GatewayRecord gateway, tx.GetGateway(meter->gateway));
        if (gateway.transport == "mqtt") {
            return FailedPrecondition(
                "billing_mode \"meter\" needs a DTU or polled link to meter '" + meter->code +
                    "' (its gateway " + gateway.code +
                    " is MQTT: the purchase count cannot be read first)",
                "billing_mode");
        }
    }
    return {};
}

// Operations that assume the platform holds the money.
Status RequirePlatformBilling(const AccountRecord& account, std::string_view what) {
    if (account.billing_mode == BillingMode::kMeter) {
        return FailedPrecondition(std::string(what) + " is not available for account '" +
                                      account.number +
                                      "': it is meter-billed (the meter holds the money)",
                                  "billing_mode");
    }
    return {};
}

// The one meter a meter-billing account holds.
Result<MeterRecord> PurseMeter(Tx& tx, const AccountContext& ctx) {
    JOULE_ASSIGN_OR_RETURN(auto bindings, tx.BindingsOfAccount(ctx.account.id));
    for (const MeterBinding& b : bindings) {
        if (!b.bound_to) {
            return tx.GetMeter(b.meter);
        }
    }
    return FailedPrecondition("account '" + ctx.account.number + "' has no meter to send to",
                              "account_number");
}

// Meter billing: queues the purchase of `amount` to the account's meter with the next purchase
// count, and moves the money from paid credit to meter_pending, in the caller's unit of work.
Status QueuePurchase(Tx& tx, AccountContext& ctx, Money amount, std::string_view actor,
                     std::string_view ref, Instant now, TopUpResult& result) {
    JOULE_ASSIGN_OR_RETURN(MeterRecord meter, PurseMeter(tx, ctx));
    const int64_t count = AssignPurchase(ctx.account.purse);
    CommandRecord command;
    command.meter = meter.id;
    command.account = ctx.account.id;
    command.kind = "purchase";
    command.reason = "top-up";
    command.actor = std::string(actor);
    command.created_at = now;
    command.next_attempt_at = now;
    command.expires_at = now + kPurchaseTtl;
    // "value" in yuan for the frame, "count" the meter's purchase count after applying it.
    command.params = "{\"value\":\"" + FormatScaled(amount.fen, kMoneyScale) +
                     "\",\"count\":" + std::to_string(count) +
                     ",\"amount_fen\":" + std::to_string(amount.fen) + "}";
    JOULE_ASSIGN_OR_RETURN(int64_t id, tx.InsertCommand(command));
    JOULE_TRY(Post(tx, Transfer{"purchase:" + std::to_string(id), ctx.account.paid,
                                ctx.meter_pending.id, amount, TransferCode::kPurchaseSent,
                                std::string(ref), std::string(actor), now}));
    ctx.wallet.paid.balance -= amount;
    ctx.meter_pending.balance += amount;
    JOULE_TRY(tx.UpdateAccount(ctx.account));
    ++ctx.account.version;
    result.purchase_command = id;
    result.purchase_count = count;
    result.purchase_amount = amount;
    return {};
}

// Posts a top-up (with its debt recovery share) into `ctx` within the caller's unit of work.
Result<TopUpResult> PostTopUp(Tx& tx, AccountContext& ctx, const TopUpRequest& r,
                              const std::string& transfer_id, const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(LedgerAccountId cash,
                           tx.SystemLedgerAccount(LedgerAccountKind::kCash, r.channel));
    const Transfer top_up{transfer_id,          cash,  ctx.account.paid, r.amount,
                          TransferCode::kTopUp, r.ref, actor.name,       now};
    JOULE_ASSIGN_OR_RETURN(PostResult seen, CheckIdempotency(tx, top_up));
    TopUpResult result;
    if (seen == PostResult::kExists) {
        result.outcome = TopUpOutcome::kAlreadyCredited;
        result.credited = r.amount;
        result.balance_after = AvailableOf(ctx, now);
        result.state = ctx.account.prepaid.state;
        return result;
    }
    JOULE_TRY(RequireOpen(ctx.account));
    if (ctx.account.billing_mode == BillingMode::kMeter && r.amount > kMaxPurchase) {
        return InvalidArgument("amount", "a meter takes at most 999999.99 yuan in one purchase");
    }
    JOULE_TRY(Post(tx, top_up));
    ctx.wallet.paid.balance += r.amount;
    result.credited = r.amount;

    // Debt recovery: a configured share of each top-up, never more than is owed.
    const Money owed = -ctx.wallet.debt.balance;
    if (owed.fen > 0 && ctx.account.debt_share_basis_points > 0) {
        const Money share = std::min(ShareOf(r.amount, ctx.account.debt_share_basis_points), owed);
        if (share.fen > 0) {
            JOULE_TRY(
                Post(tx, Transfer{transfer_id + ":debt", ctx.account.paid, ctx.account.debt, share,
                                  TransferCode::kDebtRecovery, r.ref, actor.name, now}));
            ctx.wallet.paid.balance -= share;
            ctx.wallet.debt.balance += share;
            result.debt_recovered = share;
            result.credited = r.amount - share;
        }
    }
    if (ctx.account.billing_mode == BillingMode::kMeter && result.credited.fen > 0) {
        // Meter billing: what is left after debt recovery goes to the meter, queued in this
        // unit of work so a payment never exists without its purchase (or the reverse).
        JOULE_TRY(QueuePurchase(tx, ctx, result.credited, actor.name, r.ref, now, result));
    }
    JOULE_TRY(ExpireGrants(tx, ctx, now));
    JOULE_TRY(
        StepAndPersist(tx, ctx, ControlEvent::kBalanceChanged, now, actor.name, "top-up", nullptr));
    JOULE_TRY(Log(tx, actor, ctx.project.id, "account.top_up", ctx.account.number,
                  "{\"amount_fen\":" + std::to_string(r.amount.fen) + ",\"channel\":" +
                      JsonQuote(r.channel) + ",\"key\":" + JsonQuote(transfer_id) + "}",
                  now));
    result.balance_after = AvailableOf(ctx, now);
    result.state = ctx.account.prepaid.state;
    // The arrival notice [ALM-3], told to the tenant by the notifier; amounts in fen.
    JOULE_TRY(tx.InsertOutbox(
        "notice",
        "{\"kind\":\"top_up\",\"account_id\":" + std::to_string(ctx.account.id.value) +
            ",\"amount_fen\":" + std::to_string(r.amount.fen) + ",\"balance_fen\":" +
            std::to_string(result.balance_after.fen) + ",\"channel\":" + JsonQuote(r.channel) + "}",
        now));
    return result;
}

}  // namespace

// ------------------------------------------------------------------------------- accounts

Result<AccountId> BillingService::OpenAccount(const OpenAccountRequest& r, const Actor& actor,
                                              Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AccountId id, OpenAccountInTx(*tx, r, actor, now));
    JOULE_TRY(tx->Commit());
    return id;
}

namespace {

// The checks of an account's terms, wherever they are set (opening, a change of terms).
Status CheckPhone(std::string_view phone) {
    if (phone.size() > 32) {
        return InvalidArgument("phone", "must be at most 32 bytes");
    }
    return {};
}
Status CheckDebtShare(int32_t basis_points) {
    if (basis_points < 0 || basis_points > kBasisPointsOne) {
        return InvalidArgument("debt_share_percent", "must be between 0 and 100");
    }
    return {};
}
Status CheckScheme(const ControlScheme& scheme) {
    if (auto valid = ValidateControlScheme(scheme); !valid) {
        return std::unexpected(valid.error().WithFieldPrefix("scheme"));
    }
    return {};
}

}  // namespace

Result<AccountId> BillingService::OpenAccountInTx(Tx& tx, const OpenAccountRequest& r,
                                                  const Actor& actor, Instant now) {
    JOULE_TRY(CheckText(r.number, "number", 64));
    JOULE_TRY(CheckText(r.tenant_name, "tenant_name", 128));
    JOULE_TRY(CheckPhone(r.phone));
    JOULE_TRY(CheckDebtShare(r.debt_share_basis_points));
    JOULE_TRY(ValidateOpenings(r.meters, "meters"));
    JOULE_TRY(CheckScheme(r.scheme));
    if (r.first_top_up.fen != 0) {
        JOULE_TRY(CheckAmount(r.first_top_up, "first_top_up"));
    }
    JOULE_TRY(CheckText(r.channel, "channel", 32));
    if (r.opened_at > now + Seconds{300}) {
        return InvalidArgument("opened_at", "is in the future");
    }

    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(tx, r.project_code));
    JOULE_ASSIGN_OR_RETURN(auto existing, tx.FindAccount(project.id, r.number));
    if (existing) {
        return MakeError(ErrorCode::kAlreadyExists, "account '" + r.number + "' exists", "number");
    }
    JOULE_ASSIGN_OR_RETURN(auto tariff, tx.FindTariff(project.id, r.tariff_code));
    if (!tariff) {
        return NotFound("no tariff '" + r.tariff_code + "'", "tariff");
    }
    if (tariff->tariff.versions.front().effective_from > r.opened_at) {
        return FailedPrecondition("tariff '" + r.tariff_code + "' is not in effect at the opening",
                                  "opened_at");
    }
    JOULE_TRY(CheckMeterBilling(tx, r, project.id));

    AccountRecord account;
    account.project = project.id;
    account.number = r.number;
    account.tenant_name = r.tenant_name;
    account.phone = r.phone;
    account.tariff = tariff->id;
    account.scheme = r.scheme;
    account.debt_share_basis_points = r.debt_share_basis_points;
    account.opened_at = r.opened_at;
    account.billing_mode = r.billing_mode;
    account.purse.confirmed_count = r.purchase_count;
    account.purse.assigned_count = r.purchase_count;
    JOULE_TRY(InsertAccountWithLedger(tx, account));
    for (std::size_t i = 0; i < r.meters.size(); ++i) {
        const std::string field = "meters[" + std::to_string(i) + "]";
        JOULE_ASSIGN_OR_RETURN(auto meter, tx.FindMeter(project.id, r.meters[i].meter_code));
        if (!meter) {
            return NotFound("no meter '" + r.meters[i].meter_code + "'", field + ".meter");
        }
        if (meter->public_area) {
            return FailedPrecondition("meter '" + meter->code + "' is a public-area meter",
                                      field + ".meter");
        }
        JOULE_TRY(BindMeter(tx, account, *meter, r.meters[i], r.opened_at, field));
    }
    JOULE_TRY(Log(tx, actor, project.id, "account.open", r.number,
                  "{\"tenant\":" + JsonQuote(r.tenant_name) +
                      ",\"tariff\":" + JsonQuote(r.tariff_code) + ",\"billing_mode\":\"" +
                      std::string(BillingModeName(r.billing_mode)) + "\"}",
                  now));
    // The first top-up belongs to the opening: same unit of work, a system id that no client
    // key can take, so a failed opening leaves neither an account nor a payment behind.
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, LoadAccount(tx, r.project_code, r.number));
    if (r.first_top_up.fen > 0) {
        const TopUpRequest top_up{r.project_code, r.number, r.first_top_up,
                                  r.channel,      "",       "first top-up"};
        JOULE_TRY(
            PostTopUp(tx, ctx, top_up, "open:" + std::to_string(account.id.value), actor, now));
    } else {
        // Evaluate the empty balance once so the account starts in its true state.
        JOULE_TRY(
            StepAndPersist(tx, ctx, ControlEvent::kBalanceChanged, now, actor.name, "", nullptr));
    }
    return account.id;
}

Result<TopUpResult> BillingService::TopUp(const TopUpRequest& r, const Actor& actor, Instant now) {
    JOULE_TRY(CheckAmount(r.amount, "amount"));
    JOULE_TRY(CheckClientKey(r.idempotency_key));
    JOULE_TRY(CheckText(r.channel, "channel", 32));
    if (r.ref.size() > 128) {
        return InvalidArgument("ref", "must be at most 128 bytes");
    }
    // Group commit: top-ups arriving together share one durable commit. A replayed key writes
    // nothing, and is answered only once the credit it repeats is durable.
    TopUpResult result;
    JOULE_TRY(store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(AccountContext ctx,
                               LoadAccount(tx, r.project_code, r.account_number));
        JOULE_ASSIGN_OR_RETURN(result, PostTopUp(tx, ctx, r, r.idempotency_key, actor, now));
        return {};
    }));
    return result;
}

Result<TopUpResult> BillingService::TopUpInTx(Tx& tx, AccountId account, Money amount,
                                              std::string_view channel, std::string_view ref,
                                              const std::string& transfer_id, const Actor& actor,
                                              Instant now) {
    TopUpRequest r;
    r.amount = amount;
    r.channel = std::string(channel);
    r.ref = std::string(ref);
    JOULE_TRY(CheckAmount(r.amount, "amount"));
    JOULE_TRY(CheckText(r.channel, "channel", 32));
    if (transfer_id.empty() || transfer_id.size() > kMaxTransferIdBytes) {
        return InvalidArgument("transfer_id", "must be 1..128 bytes");
    }
    if (r.ref.size() > 128) {
        return InvalidArgument("ref", "must be at most 128 bytes");
    }
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, ContextOfAccount(tx, account));
    return PostTopUp(tx, ctx, r, transfer_id, actor, now);
}

namespace {

Result<bool> PostRefund(Tx& tx, AccountContext& ctx, Money amount, std::string_view channel,
                        const std::string& transfer_id, std::string_view reason, const Actor& actor,
                        Instant now) {
    // A meter-billing account's paid credit is always 0 (every payment goes on to the meter),
    // so there is nothing on the platform to refund.
    JOULE_TRY(RequirePlatformBilling(ctx.account, "a refund"));
    JOULE_ASSIGN_OR_RETURN(LedgerAccountId cash,
                           tx.SystemLedgerAccount(LedgerAccountKind::kCash, channel));
    const Transfer refund{transfer_id,           ctx.account.paid,    cash,       amount,
                          TransferCode::kRefund, std::string(reason), actor.name, now};
    JOULE_ASSIGN_OR_RETURN(PostResult seen, CheckIdempotency(tx, refund));
    if (seen == PostResult::kExists) {
        return false;
    }
    if (ctx.wallet.paid.balance < amount) {
        return FailedPrecondition("refund of " + std::to_string(amount.fen) +
                                      " fen exceeds the paid balance of " +
                                      std::to_string(ctx.wallet.paid.balance.fen) + " fen",
                                  "amount");
    }
    JOULE_TRY(Post(tx, refund));
    ctx.wallet.paid.balance -= amount;
    JOULE_TRY(
        StepAndPersist(tx, ctx, ControlEvent::kBalanceChanged, now, actor.name, "refund", nullptr));
    JOULE_TRY(Log(
        tx, actor, ctx.project.id, "account.refund", ctx.account.number,
        "{\"amount_fen\":" + std::to_string(amount.fen) + ",\"reason\":" + JsonQuote(reason) + "}",
        now));
    return true;
}

}  // namespace

Result<Money> BillingService::Refund(const RefundRequest& r, const Actor& actor, Instant now) {
    JOULE_TRY(CheckAmount(r.amount, "amount"));
    JOULE_TRY(CheckClientKey(r.idempotency_key));
    JOULE_TRY(CheckReason(r.reason));
    JOULE_TRY(CheckText(r.channel, "channel", 32));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, LoadAccount(*tx, r.project_code, r.account_number));
    JOULE_ASSIGN_OR_RETURN(const bool posted, PostRefund(*tx, ctx, r.amount, r.channel,
                                                         r.idempotency_key, r.reason, actor, now));
    if (posted) {
        JOULE_TRY(tx->Commit());
    }
    return r.amount;
}

Status BillingService::RefundInTx(Tx& tx, AccountId account, Money amount, std::string_view channel,
                                  const std::string& transfer_id, std::string_view reason,
                                  const Actor& actor, Instant now) {
    JOULE_TRY(CheckAmount(amount, "amount"));
    JOULE_TRY(CheckText(channel, "channel", 32));
    if (transfer_id.empty() || transfer_id.size() > kMaxTransferIdBytes) {
        return InvalidArgument("transfer_id", "must be 1..128 bytes");
    }
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, ContextOfAccount(tx, account));
    JOULE_ASSIGN_OR_RETURN(const bool posted,
                           PostRefund(tx, ctx, amount, channel, transfer_id, reason, actor, now));
    if (!posted) {
        return MakeError(ErrorCode::kAlreadyExists, "the refund is posted already", "transfer_id");
    }
    return {};
}

Status BillingService::ReturnRefundInTx(Tx& tx, AccountId account, Money amount,
                                        std::string_view channel, const std::string& transfer_id,
                                        std::string_view reason, const Actor& actor, Instant now) {
    JOULE_TRY(CheckAmount(amount, "amount"));
    JOULE_TRY(CheckText(channel, "channel", 32));
    if (transfer_id.empty() || transfer_id.size() > kMaxTransferIdBytes) {
        return InvalidArgument("transfer_id", "must be 1..128 bytes");
    }
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, ContextOfAccount(tx, account));
    JOULE_ASSIGN_OR_RETURN(LedgerAccountId cash,
                           tx.SystemLedgerAccount(LedgerAccountKind::kCash, channel));
    // The refund's debit undone: back from the provider's cash account to the paid credit, not a
    // top-up (no debt share taken, no top-up notice).
    const Transfer back{
        transfer_id, cash, ctx.account.paid, amount, TransferCode::kAdjustment, std::string(reason),
        actor.name,  now};
    JOULE_ASSIGN_OR_RETURN(PostResult seen, CheckIdempotency(tx, back));
    if (seen == PostResult::kExists) {
        return MakeError(ErrorCode::kAlreadyExists, "the return is posted already", "transfer_id");
    }
    JOULE_TRY(Post(tx, back));
    ctx.wallet.paid.balance += amount;
    JOULE_TRY(StepAndPersist(tx, ctx, ControlEvent::kBalanceChanged, now, actor.name,
                             "refund returned", nullptr));
    return Log(
        tx, actor, ctx.project.id, "account.refund_returned", ctx.account.number,
        "{\"amount_fen\":" + std::to_string(amount.fen) + ",\"reason\":" + JsonQuote(reason) + "}",
        now);
}

Result<LedgerAccountId> BillingService::GrantSubsidy(const SubsidyRequest& r, const Actor& actor,
                                                     Instant now) {
    JOULE_TRY(CheckAmount(r.amount, "amount"));
    JOULE_TRY(CheckClientKey(r.idempotency_key));
    JOULE_TRY(CheckReason(r.reason));
    if (r.expires_at && *r.expires_at <= now) {
        return InvalidArgument("expires_at", "is already past");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, LoadAccount(*tx, r.project_code, r.account_number));
    JOULE_TRY(RequirePlatformBilling(ctx.account, "a subsidy"));
    JOULE_ASSIGN_OR_RETURN(auto existing, tx->FindTransfer(r.idempotency_key));
    if (existing) {
        if (existing->amount == r.amount && existing->code == TransferCode::kSubsidy) {
            JOULE_ASSIGN_OR_RETURN(LedgerAccount granted, tx->GetLedgerAccount(existing->credit));
            if (granted.owner == ctx.account.id && granted.priority == r.priority &&
                granted.expires_at == r.expires_at) {
                return existing->credit;
            }
        }
        return MakeError(ErrorCode::kAlreadyExists,
                         "idempotency key was used for a different operation", "idempotency_key");
    }
    JOULE_TRY(RequireOpen(ctx.account));
    if (ctx.wallet.grants.size() >= kMaxGrantsPerAccount) {
        return MakeError(ErrorCode::kResourceExhausted, "the account has too many open grants");
    }
    LedgerAccount grant;
    grant.kind = LedgerAccountKind::kTenantGrant;
    grant.owner = ctx.account.id;
    grant.priority = r.priority;
    grant.expires_at = r.expires_at;
    JOULE_ASSIGN_OR_RETURN(grant.id, tx->InsertLedgerAccount(grant));
    JOULE_ASSIGN_OR_RETURN(LedgerAccountId pool,
                           tx->SystemLedgerAccount(LedgerAccountKind::kSubsidyExpense, "subsidy"));
    JOULE_TRY(Post(*tx, Transfer{r.idempotency_key, pool, grant.id, r.amount,
                                 TransferCode::kSubsidy, r.reason, actor.name, now}));
    grant.balance = r.amount;
    ctx.wallet.grants.push_back(grant);
    JOULE_TRY(StepAndPersist(*tx, ctx, ControlEvent::kBalanceChanged, now, actor.name, "subsidy",
                             nullptr));
    JOULE_TRY(Log(*tx, actor, ctx.project.id, "account.subsidy", ctx.account.number,
                  "{\"amount_fen\":" + std::to_string(r.amount.fen) + "}", now));
    JOULE_TRY(tx->Commit());
    return grant.id;
}

Status BillingService::RecordDebt(const DebtRequest& r, const Actor& actor, Instant now) {
    JOULE_TRY(CheckAmount(r.amount, "amount"));
    JOULE_TRY(CheckClientKey(r.idempotency_key));
    JOULE_TRY(CheckReason(r.reason));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, LoadAccount(*tx, r.project_code, r.account_number));
    // Arrears are a negative paid balance, which a meter-billing account never has (the meter
    // holds the money and runs into its own overdraft).
    JOULE_TRY(RequirePlatformBilling(ctx.account, "recording debt"));
    const Transfer t{r.idempotency_key,           ctx.account.debt, ctx.account.paid, r.amount,
                     TransferCode::kDebtRecorded, r.reason,         actor.name,       now};
    JOULE_ASSIGN_OR_RETURN(PostResult seen, CheckIdempotency(*tx, t));
    if (seen == PostResult::kExists) {
        return {};
    }
    if ((ctx.wallet.paid.balance + r.amount).fen > 0) {
        return FailedPrecondition("only arrears (a negative paid balance) can be recorded as debt",
                                  "amount");
    }
    JOULE_TRY(Post(*tx, t));
    ctx.wallet.paid.balance += r.amount;
    ctx.wallet.debt.balance -= r.amount;
    JOULE_TRY(
        StepAndPersist(*tx, ctx, ControlEvent::kBalanceChanged, now, actor.name, "debt", nullptr));
    JOULE_TRY(Log(*tx, actor, ctx.project.id, "account.debt", ctx.account.number,
                  "{\"amount_fen\":" + std::to_string(r.amount.fen) +
                      ",\"reason\":" + JsonQuote(r.reason) + "}",
                  now));
    return tx->Commit();
}

Result<PrepaidStatus> BillingService::Control(const ControlRequest& r, const Actor& actor,
                                              Instant now) {
    const bool needs_reason =
        r.event == ControlEvent::kKeepPowerOn || r.event == ControlEvent::kManualTrip;
    if (needs_reason) {
        JOULE_TRY(CheckText(r.reason, "reason", 256));
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, LoadAccount(*tx, r.project_code, r.account_number));
    JOULE_TRY(CheckVersion(ctx.account, r.expected_version));
    JOULE_TRY(RequireOpen(ctx.account));
    if (r.event == ControlEvent::kTakeEmergency &&
        !EmergencyAllowed(ctx.account.scheme, ctx.account.prepaid, ctx.wallet.Available(now))) {
        return FailedPrecondition("emergency credit is not available for this account now");
    }
    const PrepaidStatus before = ctx.account.prepaid;
    JOULE_TRY(StepAndPersist(*tx, ctx, r.event, now, actor.name, r.reason, nullptr));
    JOULE_TRY(Log(*tx, actor, ctx.project.id, "account.control", ctx.account.number,
                  "{\"event\":" + std::to_string(static_cast<int>(r.event)) +
                      ",\"reason\":" + JsonQuote(r.reason) + ",\"before\":\"" +
                      std::string(PrepaidStateName(before.state)) + "\",\"after\":\"" +
                      std::string(PrepaidStateName(ctx.account.prepaid.state)) + "\"}",
                  now));
    JOULE_TRY(tx->Commit());
    return ctx.account.prepaid;
}

namespace {

// What ChangeTerms logs of an account's terms: a JSON object (money in fen).
std::string TermsText(const AccountRecord& a, std::string_view tariff_code) {
    const ControlScheme& s = a.scheme;
    return "{\"tenant_name\":" + JsonQuote(a.tenant_name) + ",\"phone\":" + JsonQuote(a.phone) +
           ",\"tariff\":" + JsonQuote(tariff_code) +
           ",\"debt_share_basis_points\":" + std::to_string(a.debt_share_basis_points) +
           ",\"scheme\":{\"alarm1\":" + std::to_string(s.alarm1.fen) +
           ",\"alarm2\":" + std::to_string(s.alarm2.fen) +
           ",\"alarm3\":" + std::to_string(s.alarm3.fen) +
           ",\"overdraft\":" + std::to_string(s.overdraft.fen) +
           ",\"restore\":" + std::to_string(s.restore.fen) +
           ",\"emergency\":" + std::to_string(s.emergency.fen) +
           ",\"friendly\":{\"nights\":" + (s.friendly.nights ? "true" : "false") +
           ",\"night_start_minute\":" + std::to_string(s.friendly.night_start_minute) +
           ",\"night_end_minute\":" + std::to_string(s.friendly.night_end_minute) +
           ",\"weekends\":" + (s.friendly.weekends ? "true" : "false") +
           ",\"holidays\":" + (s.friendly.holidays ? "true" : "false") + "}}}";
}

}  // namespace

Result<AccountRecord> BillingService::ChangeTerms(const ChangeTermsRequest& r, const Actor& actor,
                                                  Instant now) {
    if (r.tenant_name) {
        JOULE_TRY(CheckText(*r.tenant_name, "tenant_name", 128));
    }
    if (r.phone) {
        JOULE_TRY(CheckPhone(*r.phone));
    }
    if (r.debt_share_basis_points) {
        JOULE_TRY(CheckDebtShare(*r.debt_share_basis_points));
    }
    if (r.scheme) {
        JOULE_TRY(CheckScheme(*r.scheme));
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, LoadAccount(*tx, r.project_code, r.account_number));
    JOULE_TRY(CheckVersion(ctx.account, r.expected_version));
    JOULE_TRY(RequireOpen(ctx.account));
    const AccountRecord before = ctx.account;
    const std::string tariff_before = ctx.tariff->code;
    if (r.tariff_code && *r.tariff_code != ctx.tariff->code) {
        JOULE_ASSIGN_OR_RETURN(auto tariff, tx->FindTariff(ctx.project.id, *r.tariff_code));
        if (!tariff) {
            return NotFound("no tariff '" + *r.tariff_code + "'", "tariff");
        }
        if (tariff->tariff.versions.front().effective_from > now) {
            return FailedPrecondition("tariff '" + *r.tariff_code + "' is not in effect yet",
                                      "tariff");
        }
        if (tariff->tariff.utility != ctx.tariff->tariff.utility) {
            return FailedPrecondition("tariff '" + *r.tariff_code +
                                          "' prices another utility than the account's tariff '" +
                                          ctx.tariff->code + "'",
                                      "tariff");
        }
        ctx.account.tariff = tariff->id;
        ctx.tariff = std::make_shared<const TariffRecord>(*std::move(tariff));
    }
    if (r.tenant_name) {
        ctx.account.tenant_name = *r.tenant_name;
    }
    if (r.phone) {
        ctx.account.phone = *r.phone;
    }
    if (r.scheme) {
        ctx.account.scheme = *r.scheme;
    }
    if (r.debt_share_basis_points) {
        ctx.account.debt_share_basis_points = *r.debt_share_basis_points;
    }
    // New alarm levels and overdraft apply to the balance as it stands now, not at the next
    // reading: a raised level 1 alarms at once, a lowered trip level closes a tripped relay. The
    // step writes the changed account with its new state, once.
    JOULE_TRY(StepAndPersist(*tx, ctx, ControlEvent::kBalanceChanged, now, actor.name,
                             "terms changed", nullptr, /*account_changed=*/true));
    JOULE_TRY(Log(*tx, actor, ctx.project.id, "account.terms", ctx.account.number,
                  "{\"before\":" + TermsText(before, tariff_before) +
                      ",\"after\":" + TermsText(ctx.account, ctx.tariff->code) + "}",
                  now));
    JOULE_TRY(tx->Commit());
    return ctx.account;
}

Result<AccountView> BillingService::ViewAccount(std::string_view project_code,
                                                std::string_view number,
                                                std::optional<Instant> usage_at) {
    // A read: the account row, its ledger accounts, meters and tariff code (no wallet context).
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    AccountView view;
    JOULE_ASSIGN_OR_RETURN(view.account, FindAccountIn(*tx, project, number));
    JOULE_ASSIGN_OR_RETURN(view.ledger_accounts, tx->LedgerAccountsOf(view.account.id));
    const TenantBalances balances = BalancesOf(view.ledger_accounts);
    view.paid = balances.paid;
    view.granted = balances.granted;
    view.debt = balances.debt;
    view.meter_pending = balances.meter_pending;
    view.meter_held = balances.meter_held;
    view.available = AvailableBalance(view.account.billing_mode, view.account.purse, balances);
    JOULE_ASSIGN_OR_RETURN(view.bindings, tx->BindingsOfAccount(view.account.id));
    view.meter_codes.reserve(view.bindings.size());
    for (const MeterBinding& b : view.bindings) {
        JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(b.meter));
        view.meter_codes.push_back(std::move(meter.code));
    }
    JOULE_ASSIGN_OR_RETURN(TariffRecord tariff, tx->GetTariff(view.account.tariff));
    view.tariff_code = std::move(tariff.code);
    if (!usage_at) {
        return view;
    }
    JOULE_ASSIGN_OR_RETURN(const Zone zone, Zone::Load(project.time_zone));
    const Seconds day_offset = DayCutOffset(zone);
    const int64_t today = DayNumber(*usage_at, day_offset);
    const int64_t opened = DayNumber(view.account.opened_at, day_offset);
    view.forecast_days = std::clamp<int64_t>(today - opened, 0, kForecastDays);
    JOULE_ASSIGN_OR_RETURN(auto days,
                           tx->AccountDays(view.account.id, {today - view.forecast_days, today}));
    Money spent{0};
    for (const MeterDayTotal& d : days) {
        if (d.day == today) {
            view.today.push_back(d);
            view.charged_today += d.deducted;
        } else {
            spent += d.deducted;
        }
    }
    // A meter-billing account's money is spent by the meter: nothing here says how fast.
    if (view.forecast_days > 0 && view.account.billing_mode == BillingMode::kPlatform) {
        view.forecast = ForecastUsage(view.available, spent, view.forecast_days);
    }
    return view;
}

// ------------------------------------------------------------------------------- readings

namespace {

// Per-batch caches of what many readings share. (Every member is default-constructed; clang-tidy
// 14 misreads this aggregate as uninitialized.)
struct BatchState {  // NOLINT(cppcoreguidelines-pro-type-member-init)
    std::map<std::string, ProjectRecord, std::less<>> projects;
    struct ProjectZone {
        Zone zone;
        Seconds day_offset;  // where its day totals cut days (core/time.hpp DayCutOffset)
    };
    std::map<int64_t, ProjectZone> zones;                            // by project id
    std::map<int64_t, std::shared_ptr<const TariffRecord>> tariffs;  // by tariff id
    std::map<int64_t, AccountContext> accounts;  // by account id, touched in the batch
    std::map<std::pair<int, int64_t>, LedgerAccountId> revenue;  // (kind, project) -> account
    std::vector<Transfer> transfers;                             // deductions, appended at the end
    std::vector<LedgerAccount> balances_before;  // wallets as loaded, before billing
    std::vector<MeterDayTotal> days;             // the accepted readings by meter and local day
};

Result<std::shared_ptr<const TariffRecord>> CachedTariff(Tx& tx, BatchState& batch, TariffId id) {
    auto it = batch.tariffs.find(id.value);
    if (it == batch.tariffs.end()) {
        JOULE_ASSIGN_OR_RETURN(TariffRecord t, tx.GetTariff(id));
        it = batch.tariffs.emplace(id.value, std::make_shared<const TariffRecord>(std::move(t)))
                 .first;
    }
    return it->second;
}

// Keeps a loaded account with its ledger accounts as the batch's context for it.
Status KeepAccount(Tx& tx, BatchState& batch, const ProjectRecord& project, const Zone& zone,
                   AccountRecord account, std::span<const LedgerAccount> ledgers) {
    AccountContext ctx;
    ctx.project = project;
    ctx.account = std::move(account);
    ctx.wallet = WalletFrom(ctx.account, ledgers, &ctx);
    JOULE_ASSIGN_OR_RETURN(ctx.tariff, CachedTariff(tx, batch, ctx.account.tariff));
    ctx.zone = zone;
    batch.balances_before.push_back(ctx.wallet.paid);
    batch.balances_before.insert(batch.balances_before.end(), ctx.wallet.grants.begin(),
                                 ctx.wallet.grants.end());
    const int64_t id = ctx.account.id.value;
    batch.accounts.insert_or_assign(id, std::move(ctx));
    return {};
}

// The accounts these meters bill that the batch has not loaded yet, with their ledger accounts:
// two reads for the lot instead of two per account.
Status PrefetchAccounts(Tx& tx, BatchState& batch, const ProjectRecord& project, const Zone& zone,
                        std::vector<AccountId>& ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::erase_if(ids, [&](AccountId id) { return batch.accounts.contains(id.value); });
    if (ids.empty()) {
        return {};
    }
    JOULE_ASSIGN_OR_RETURN(auto accounts, tx.GetAccounts(ids));
    JOULE_ASSIGN_OR_RETURN(auto ledgers, tx.LedgerAccountsOfOwners(ids));
    std::unordered_map<int64_t, std::pair<std::size_t, std::size_t>> owned;  // owner -> range
    for (std::size_t i = 0; i < ledgers.size();) {
        std::size_t end = i;
        while (end < ledgers.size() && ledgers[end].owner == ledgers[i].owner) {
            ++end;
        }
        owned.emplace(ledgers[i].owner.value, std::pair(i, end));
        i = end;
    }
    for (AccountRecord& account : accounts) {
        std::span<const LedgerAccount> own;
        if (auto it = owned.find(account.id.value); it != owned.end()) {
            own = std::span<const LedgerAccount>(ledgers).subspan(
                it->second.first, it->second.second - it->second.first);
        }
        JOULE_TRY(KeepAccount(tx, batch, project, zone, std::move(account), own));
    }
    return {};
}

bool WorthAnAlarm(ReadingReason reason) {
    return reason == ReadingReason::kSpike || reason == ReadingReason::kRegressed ||
           reason == ReadingReason::kConflictingDuplicate || reason == ReadingReason::kFuture ||
           reason == ReadingReason::kBeyondRegisterMax || reason == ReadingReason::kNoTariff;
}

// The core of ApplyReadings inside a caller's unit of work.
Status ApplyInTx(Tx& tx, std::span<const ReadingItem> batch, Instant now, BatchState& state,
                 ApplyReadingsResult& result) {
    // Group by (project, meter) and order each meter's readings by meter time.
    struct Key {
        std::string_view project;
        std::string_view meter;
        auto operator<=>(const Key&) const = default;
    };
    struct MeterReadings {
        std::vector<std::size_t> indices;
        std::optional<Tx::MeterWithBilling> found;  // prefetched
    };
    std::map<Key, MeterReadings> by_meter;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        by_meter[{batch[i].project_code, batch[i].meter_code}].indices.push_back(i);
    }
    // The project of a meter's readings with its zone, loaded once per batch.
    auto project_of = [&](const Key& key, const std::vector<std::size_t>& indices)
        -> Result<std::pair<const ProjectRecord*, const BatchState::ProjectZone*>> {
        auto pit = state.projects.find(key.project);
        if (pit == state.projects.end()) {
            auto project = RequireProject(tx, key.project);
            if (!project) {
                return std::unexpected(project.error().WithFieldPrefix(
                    "readings[" + std::to_string(indices.front()) + "]"));
            }
            pit = state.projects.emplace(std::string(key.project), *project).first;
        }
        const ProjectRecord& project = pit->second;
        auto zit = state.zones.find(project.id.value);
        if (zit == state.zones.end()) {
            JOULE_ASSIGN_OR_RETURN(Zone zone, Zone::Load(project.time_zone));
            zit = state.zones
                      .emplace(project.id.value, BatchState::ProjectZone{zone, DayCutOffset(zone)})
                      .first;
        }
        return std::pair(&project, &zit->second);
    };
    // Prefetch, per project: the meters with their billing states, then the accounts they bill
    // with their ledger accounts; three reads for the batch instead of three per meter. Every
    // meter of the batch is asked for, so one not found here does not exist.
    for (auto group = by_meter.begin(); group != by_meter.end();) {
        auto group_end = group;
        std::vector<std::string_view> codes;
        while (group_end != by_meter.end() && group_end->first.project == group->first.project) {
            codes.push_back(group_end->first.meter);
            ++group_end;
        }
        JOULE_ASSIGN_OR_RETURN(auto located, project_of(group->first, group->second.indices));
        const auto [project, project_zone] = located;
        JOULE_ASSIGN_OR_RETURN(auto loaded, tx.LoadMetersBilling(project->id, codes));
        std::vector<AccountId> accounts;
        for (Tx::MeterWithBilling& m : loaded) {
            auto it = by_meter.find(Key{group->first.project, m.meter.code});
            if (it == by_meter.end()) {
                continue;
            }
            if (m.billing && m.billing->account.valid()) {
                accounts.push_back(m.billing->account);
            }
            it->second.found = std::move(m);
        }
        JOULE_TRY(PrefetchAccounts(tx, state, *project, project_zone->zone, accounts));
        group = group_end;
    }
    TariffEngine engine;
    std::vector<ReadingInput> inputs;
    std::vector<ReadingOutcome> outcomes;
    for (auto& [key, entry] : by_meter) {
        std::vector<std::size_t>& indices = entry.indices;
        const std::string field = "readings[" + std::to_string(indices.front()) + "]";
        JOULE_ASSIGN_OR_RETURN(auto located, project_of(key, indices));
        const ProjectRecord& project = *located.first;
        const Zone& zone = located.second->zone;
        const Seconds day_offset = located.second->day_offset;
        std::optional<Tx::MeterWithBilling> found = std::move(entry.found);
        if (!found) {
            return NotFound(
                "no meter '" + std::string(key.meter) + "' in project '" + project.code + "'",
                field + ".meter");
        }
        const MeterRecord* meter = &found->meter;
        const std::optional<MeterBilling>& loaded = found->billing;
        if (!loaded) {
            return FailedPrecondition("meter '" + meter->code + "' has no billing state",
                                      field + ".meter");
        }
        MeterBilling billing = *loaded;
        std::stable_sort(indices.begin(), indices.end(), [&](std::size_t a, std::size_t b) {
            return batch[a].reading.meter_time < batch[b].reading.meter_time;
        });
        inputs.clear();
        for (std::size_t i : indices) {
            inputs.push_back(batch[i].reading);
        }
        AccountContext* account = nullptr;
        const Tariff* tariff = nullptr;
        if (billing.account.valid()) {
            auto it = state.accounts.find(billing.account.value);  // prefetched above
            if (it == state.accounts.end()) {
                return NotFound("no account " + std::to_string(billing.account.value));
            }
            account = &it->second;
            tariff = &account->tariff->tariff;
        }
        if (meter->tariff.valid()) {
            JOULE_ASSIGN_OR_RETURN(auto own, CachedTariff(tx, state, meter->tariff));
            tariff = &own->tariff;
        }
        BillingContext ctx;
        ctx.tariff = tariff;
        ctx.zone = &zone;
        const LedgerAccountKind revenue_kind = billing.utility == Utility::kWater
                                                   ? LedgerAccountKind::kWaterRevenue
                                                   : LedgerAccountKind::kEnergyRevenue;
        const auto revenue_key = std::pair(static_cast<int>(revenue_kind), project.id.value);
        auto rit = state.revenue.find(revenue_key);
        if (rit == state.revenue.end()) {
            JOULE_ASSIGN_OR_RETURN(LedgerAccountId revenue,
                                   tx.SystemLedgerAccount(revenue_kind, project.code));
            rit = state.revenue.emplace(revenue_key, revenue).first;
        }
        ctx.revenue = rit->second;
        outcomes.clear();
        const std::size_t first_transfer = state.transfers.size();
        // Meter billing: the meter deducts from its own purse; readings are priced, not deducted.
        Wallet* wallet =
            account != nullptr && account->account.billing_mode == BillingMode::kPlatform
                ? &account->wallet
                : nullptr;
        BillMeterReadings(billing, wallet, inputs, ctx, engine, outcomes, state.transfers);
        if (wallet == nullptr && account != nullptr) {
            for (ReadingOutcome& o : outcomes) {
                o.deducted = Money{};  // the charge is kept for reports; nothing was deducted
            }
        }
        result.transfers += state.transfers.size() - first_transfer;
        bool alarm = false;
        for (const ReadingOutcome& o : outcomes) {
            JOULE_ASSIGN_OR_RETURN(bool stored, tx.InsertReading({o, billing.account}));
            if (o.validated.verdict == Verdict::kAccepted) {
                ++result.accepted;
                result.deducted += o.deducted;
                if (stored) {
                    // The reading closes the interval that ends at its meter time: one at exactly
                    // local midnight counts for the day before. A meter's outcomes are in meter
                    // time order, so its days come one after another.
                    const int64_t day = DayNumber(o.input.meter_time - Seconds{1}, day_offset);
                    if (state.days.empty() || state.days.back().day != day ||
                        state.days.back().meter != meter->id) {
                        state.days.push_back({day, meter->id, billing.account, {}, {}, 0});
                    }
                    MeterDayTotal& total = state.days.back();
                    total.energy += o.validated.delta;
                    total.deducted += o.deducted;
                    ++total.readings;
                }
            } else if (o.validated.verdict == Verdict::kDuplicate || !stored) {
                ++result.duplicates;
            } else {
                ++result.quarantined;
                alarm = alarm || WorthAnAlarm(o.validated.reason);
            }
        }
        if (alarm) {
            AlarmRecord record;
            record.project = project.id;
            record.account = billing.account;
            record.meter = meter->id;
            record.kind = AlarmKind::kReadingQuarantined;
            record.raised_at = now;
            record.detail = "{\"meter\":" + JsonQuote(meter->code) + "}";
            JOULE_TRY(tx.RaiseAlarm(record));
        }
        JOULE_TRY(tx.SaveBilling(billing));
    }
    // Deduction ids derive from (meter, meter time), which the cursors keep unique.
    JOULE_TRY(tx.AppendTransfers(state.transfers, state.balances_before));
    state.transfers.clear();
    JOULE_TRY(tx.AddMeterDays(state.days));
    state.days.clear();
    for (auto& [id, account] : state.accounts) {
        JOULE_TRY(ExpireGrants(tx, account, now));
        JOULE_TRY(StepAndPersist(tx, account, ControlEvent::kBalanceChanged, now, "billing", "",
                                 &result));
    }
    return {};
}

}  // namespace

namespace {

Status ValidateReadingBatch(std::span<const ReadingItem> batch) {
    if (batch.size() > kMaxBatchReadings) {
        return InvalidArgument("readings", "a batch holds at most 100000 readings");
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const ReadingItem& item = batch[i];
        const std::string field = "readings[" + std::to_string(i) + "]";
        if (item.meter_code.empty() || item.meter_code.size() > 64) {
            return InvalidArgument(field + ".meter", "must be 1 to 64 bytes long");
        }
        if (item.reading.total.milli < 0 ||
            (item.reading.has_per_rate &&
             std::any_of(item.reading.per_rate.begin(), item.reading.per_rate.end(),
                         [](Quantity q) { return q.milli < 0; }))) {
            return InvalidArgument(field + ".total", "must not be negative");
        }
    }
    return {};
}

}  // namespace

Result<ApplyReadingsResult> BillingService::ApplyReadings(std::span<const ReadingItem> batch,
                                                          Instant now) {
    JOULE_TRY(ValidateReadingBatch(batch));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    BatchState state;
    ApplyReadingsResult result;
    JOULE_TRY(ApplyInTx(*tx, batch, now, state, result));
    JOULE_TRY(tx->Commit());
    return result;
}

Result<ApplyReadingsResult> BillingService::ApplyReadingsInTx(Tx& tx,
                                                              std::span<const ReadingItem> batch,
                                                              Instant now) {
    JOULE_TRY(ValidateReadingBatch(batch));
    BatchState state;
    ApplyReadingsResult result;
    JOULE_TRY(ApplyInTx(tx, batch, now, state, result));
    return result;
}

Result<ApplyReadingsResult> BillingService::Tick(std::string_view project_code, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(Zone zone, Zone::Load(project.time_zone));
    JOULE_ASSIGN_OR_RETURN(auto accounts, tx->ListAccounts(project.id));
    ApplyReadingsResult result;
    for (AccountRecord& a : accounts) {
        if (a.status != AccountStatus::kOpen) {
            continue;
        }
        JOULE_ASSIGN_OR_RETURN(AccountContext ctx, ContextOf(*tx, project, zone, std::move(a)));
        JOULE_TRY(ExpireGrants(*tx, ctx, now));
        JOULE_TRY(
            StepAndPersist(*tx, ctx, ControlEvent::kBalanceChanged, now, "scheduler", "", &result));
    }
    JOULE_TRY(tx->Commit());
    return result;
}

namespace {

// Bills a settlement reading (final or transfer register) of a bound meter, within `tx`.
Status SettleMeter(Tx& tx, const std::string& project_code, const MeterRecord& meter,
                   Quantity total, Instant at, Instant now, std::string_view field) {
    JOULE_ASSIGN_OR_RETURN(auto billing, tx.LoadBilling(meter.id));
    if (billing && billing->cursor.valid && billing->cursor.time == at &&
        billing->cursor.total == total) {
        return {};  // already at this register
    }
    ReadingItem item{project_code, meter.code, ReadingInput{at, now, total, false, {}}};
    BatchState state;
    ApplyReadingsResult result;
    JOULE_TRY(ApplyInTx(tx, std::span<const ReadingItem>(&item, 1), now, state, result));
    if (result.accepted != 1) {
        return FailedPrecondition("the settlement reading of meter '" + meter.code +
                                      "' was not accepted (it must be later than and not below "
                                      "the last reading)",
                                  std::string(field));
    }
    return {};
}

Result<MeterRecord> BoundMeter(Tx& tx, const AccountContext& ctx, std::string_view code,
                               std::string_view field) {
    JOULE_ASSIGN_OR_RETURN(auto meter, tx.FindMeter(ctx.project.id, code));
    if (!meter) {
        return NotFound("no meter '" + std::string(code) + "'", std::string(field));
    }
    JOULE_ASSIGN_OR_RETURN(auto binding, tx.CurrentBinding(meter->id));
    if (!binding || binding->account != ctx.account.id) {
        return FailedPrecondition("meter '" + std::string(code) + "' is not bound to account '" +
                                      ctx.account.number + "'",
                                  std::string(field));
    }
    return *meter;
}

// Settles and unbinds every meter of an account at the given registers.
Status SettleAndUnbindAll(Tx& tx, AccountContext& ctx, const std::vector<MeterOpening>& readings,
                          Instant at, Instant now) {
    JOULE_TRY(ValidateOpenings(readings, "readings"));
    JOULE_ASSIGN_OR_RETURN(auto bindings, tx.BindingsOfAccount(ctx.account.id));
    for (std::size_t i = 0; i < readings.size(); ++i) {
        const std::string field = "readings[" + std::to_string(i) + "].meter";
        JOULE_ASSIGN_OR_RETURN(MeterRecord meter,
                               BoundMeter(tx, ctx, readings[i].meter_code, field));
        JOULE_TRY(
            SettleMeter(tx, ctx.project.code, meter, readings[i].opening_total, at, now, field));
    }
    for (const MeterBinding& b : bindings) {
        if (b.bound_to) {
            continue;
        }
        JOULE_ASSIGN_OR_RETURN(auto billing, tx.LoadBilling(b.meter));
        if (!billing || !billing->cursor.valid || billing->cursor.time != at) {
            JOULE_ASSIGN_OR_RETURN(MeterRecord unsettled, tx.GetMeter(b.meter));
            return FailedPrecondition(
                "meter '" + unsettled.code + "' needs a reading at the settlement time",
                "readings");
        }
        const Quantity closing = billing->cursor.total;
        JOULE_TRY(tx.CloseBinding(b.meter, at, closing));
        if (billing) {
            billing->account = AccountId{};
            JOULE_TRY(tx.SaveBilling(*billing));
        }
    }
    // Settlement changed the balance: reload the wallet.
    JOULE_ASSIGN_OR_RETURN(ctx.account, tx.GetAccount(ctx.account.id));
    JOULE_ASSIGN_OR_RETURN(ctx.wallet, LoadWallet(tx, ctx.account));
    return {};
}

}  // namespace

Status BillingService::ReplaceMeter(const ReplaceMeterRequest& r, const Actor& actor, Instant now) {
    JOULE_TRY(CheckText(r.old_meter_code, "old_meter", 64));
    JOULE_TRY(CheckText(r.new_meter_code, "new_meter", 64));
    if (r.old_final_total.milli < 0) {
        return InvalidArgument("old_final_reading", "a register is never negative");
    }
    if (r.new_opening_total.milli < 0) {
        return InvalidArgument("new_opening_reading", "a register is never negative");
    }
    if (r.at > now + Seconds{300}) {
        return InvalidArgument("at", "is in the future");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, LoadAccount(*tx, r.project_code, r.account_number));
    JOULE_TRY(CheckVersion(ctx.account, r.expected_version));
    JOULE_TRY(RequireOpen(ctx.account));
    JOULE_TRY(RequirePlatformBilling(ctx.account, "meter replacement"));
    JOULE_ASSIGN_OR_RETURN(MeterRecord old_meter,
                           BoundMeter(*tx, ctx, r.old_meter_code, "old_meter"));
    JOULE_ASSIGN_OR_RETURN(auto new_meter, tx->FindMeter(ctx.project.id, r.new_meter_code));
    if (!new_meter) {
        return NotFound("no meter '" + r.new_meter_code + "'", "new_meter");
    }
    JOULE_TRY(SettleMeter(*tx, ctx.project.code, old_meter, r.old_final_total, r.at, now,
                          "old_final_reading"));
    JOULE_ASSIGN_OR_RETURN(auto old_billing, tx->LoadBilling(old_meter.id));
    JOULE_TRY(tx->CloseBinding(old_meter.id, r.at, r.old_final_total));
    const TierState tiers = old_billing ? old_billing->tiers : TierState{};
    if (old_billing) {
        old_billing->account = AccountId{};
        JOULE_TRY(tx->SaveBilling(*old_billing));
    }
    JOULE_TRY(BindMeter(*tx, ctx.account, *new_meter,
                        MeterOpening{r.new_meter_code, r.new_opening_total, std::nullopt}, r.at,
                        "new_meter"));
    // The tier position continues on the new meter: one continuous history per account.
    JOULE_ASSIGN_OR_RETURN(auto new_billing, tx->LoadBilling(new_meter->id));
    new_billing->tiers = tiers;
    JOULE_TRY(tx->SaveBilling(*new_billing));
    if (ctx.account.prepaid.relay == Relay::kOpen) {
        // A new meter arrives with its relay closed; the account is tripped, so trip it too.
        JOULE_TRY(QueueRelayCommand(*tx, ctx.account.id, new_meter->id, CommandKind::kTrip,
                                    "meter replaced while tripped", actor.name, now, nullptr));
    }
    JOULE_TRY(Log(*tx, actor, ctx.project.id, "meter.replace", ctx.account.number,
                  "{\"old\":" + JsonQuote(r.old_meter_code) +
                      ",\"old_final_milli\":" + std::to_string(r.old_final_total.milli) +
                      ",\"new\":" + JsonQuote(r.new_meter_code) +
                      ",\"new_opening_milli\":" + std::to_string(r.new_opening_total.milli) + "}",
                  now));
    return tx->Commit();
}

Result<CloseAccountResult> BillingService::CloseAccount(const CloseAccountRequest& r,
                                                        const Actor& actor, Instant now) {
    JOULE_TRY(CheckText(r.channel, "channel", 32));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, LoadAccount(*tx, r.project_code, r.account_number));
    JOULE_TRY(CheckVersion(ctx.account, r.expected_version));
    JOULE_TRY(RequireOpen(ctx.account));
    JOULE_TRY(RequirePlatformBilling(ctx.account, "closing"));
    JOULE_TRY(SettleAndUnbindAll(*tx, ctx, r.final_readings, r.at, now));
    if (ctx.wallet.paid.balance.fen < 0 || ctx.wallet.debt.balance.fen < 0) {
        return FailedPrecondition(
            "account '" + ctx.account.number + "' owes " +
                std::to_string(-(ctx.wallet.paid.balance + ctx.wallet.debt.balance).fen) +
                " fen; collect it before closing",
            "account_number");
    }
    CloseAccountResult result;
    // Unused granted credit is forfeited to the subsidy pool; paid credit is refunded.
    JOULE_ASSIGN_OR_RETURN(LedgerAccountId pool,
                           tx->SystemLedgerAccount(LedgerAccountKind::kSubsidyExpense, "subsidy"));
    for (LedgerAccount& g : ctx.wallet.grants) {
        if (g.balance.fen > 0) {
            JOULE_TRY(
                Post(*tx, Transfer{"close:" + std::to_string(g.id.value), g.id, pool, g.balance,
                                   TransferCode::kGrantExpiry, "account closed", actor.name, now}));
            result.grants_forfeited += g.balance;
        }
    }
    if (ctx.wallet.paid.balance.fen > 0) {
        JOULE_ASSIGN_OR_RETURN(LedgerAccountId cash,
                               tx->SystemLedgerAccount(LedgerAccountKind::kCash, r.channel));
        JOULE_TRY(Post(*tx, Transfer{"close:" + std::to_string(ctx.account.paid.value),
                                     ctx.account.paid, cash, ctx.wallet.paid.balance,
                                     TransferCode::kRefund, "account closed", actor.name, now}));
        result.refunded = ctx.wallet.paid.balance;
    }
    ctx.account.status = AccountStatus::kClosed;
    ctx.account.closed_at = r.at;
    JOULE_TRY(tx->UpdateAccount(ctx.account));
    JOULE_TRY(Log(*tx, actor, ctx.project.id, "account.close", ctx.account.number,
                  "{\"refunded_fen\":" + std::to_string(result.refunded.fen) + "}", now));
    JOULE_TRY(tx->Commit());
    return result;
}

Result<AccountId> BillingService::TransferTenant(const TransferTenantRequest& r, const Actor& actor,
                                                 Instant now) {
    JOULE_TRY(CheckText(r.new_number, "new_number", 64));
    JOULE_TRY(CheckText(r.new_tenant_name, "new_tenant_name", 128));
    JOULE_TRY(CheckText(r.channel, "channel", 32));
    if (r.new_phone.size() > 32) {
        return InvalidArgument("new_phone", "must be at most 32 bytes");
    }
    if (r.at > now + Seconds{300}) {
        return InvalidArgument("at", "is in the future");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, LoadAccount(*tx, r.project_code, r.account_number));
    JOULE_TRY(CheckVersion(ctx.account, r.expected_version));
    JOULE_TRY(RequireOpen(ctx.account));
    JOULE_TRY(RequirePlatformBilling(ctx.account, "tenant transfer"));
    JOULE_ASSIGN_OR_RETURN(auto taken, tx->FindAccount(ctx.project.id, r.new_number));
    if (taken) {
        return MakeError(ErrorCode::kAlreadyExists, "account '" + r.new_number + "' exists",
                         "new_number");
    }
    JOULE_ASSIGN_OR_RETURN(auto bindings, tx->BindingsOfAccount(ctx.account.id));
    JOULE_TRY(SettleAndUnbindAll(*tx, ctx, r.transfer_readings, r.at, now));
    if (ctx.wallet.paid.balance.fen < 0 || ctx.wallet.debt.balance.fen < 0) {
        return FailedPrecondition("the outgoing tenant owes money; settle it before transfer",
                                  "account_number");
    }
    // The new tenant's account: same tariff and scheme, the same meters from the transfer
    // registers.
    AccountRecord next;
    next.project = ctx.project.id;
    next.number = r.new_number;
    next.tenant_name = r.new_tenant_name;
    next.phone = r.new_phone;
    next.tariff = ctx.account.tariff;
    next.scheme = ctx.account.scheme;
    next.debt_share_basis_points = ctx.account.debt_share_basis_points;
    next.opened_at = r.at;
    // The meters' relays are where the old account left them; the first evaluation of the new
    // account sends whatever command brings them to its own state.
    next.prepaid.state = ctx.account.prepaid.state;
    next.prepaid.relay = ctx.account.prepaid.relay;
    JOULE_TRY(InsertAccountWithLedger(*tx, next));
    for (const MeterBinding& b : bindings) {
        if (b.bound_to) {
            continue;
        }
        JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(b.meter));
        JOULE_ASSIGN_OR_RETURN(auto billing, tx->LoadBilling(b.meter));
        const Quantity at_transfer = billing ? billing->cursor.total : b.opening_total;
        JOULE_TRY(BindMeter(*tx, next, meter, MeterOpening{meter.code, at_transfer, std::nullopt},
                            r.at, "transfer_readings"));
    }
    CloseAccountResult settled;
    JOULE_ASSIGN_OR_RETURN(LedgerAccountId pool,
                           tx->SystemLedgerAccount(LedgerAccountKind::kSubsidyExpense, "subsidy"));
    for (LedgerAccount& g : ctx.wallet.grants) {
        if (g.balance.fen > 0) {
            JOULE_TRY(Post(
                *tx, Transfer{"transfer:" + std::to_string(g.id.value), g.id, pool, g.balance,
                              TransferCode::kGrantExpiry, "tenant transfer", actor.name, now}));
        }
    }
    if (ctx.wallet.paid.balance.fen > 0) {
        if (r.carry_balance) {
            JOULE_TRY(Post(*tx, Transfer{"transfer:" + std::to_string(ctx.account.paid.value),
                                         ctx.account.paid, next.paid, ctx.wallet.paid.balance,
                                         TransferCode::kAccountTransfer, "to " + r.new_number,
                                         actor.name, now}));
        } else {
            JOULE_ASSIGN_OR_RETURN(LedgerAccountId cash,
                                   tx->SystemLedgerAccount(LedgerAccountKind::kCash, r.channel));
            JOULE_TRY(
                Post(*tx, Transfer{"transfer:" + std::to_string(ctx.account.paid.value),
                                   ctx.account.paid, cash, ctx.wallet.paid.balance,
                                   TransferCode::kRefund, "tenant transfer", actor.name, now}));
        }
    }
    ctx.account.status = AccountStatus::kClosed;
    ctx.account.closed_at = r.at;
    JOULE_TRY(tx->UpdateAccount(ctx.account));
    JOULE_TRY(Log(*tx, actor, ctx.project.id, "account.transfer", ctx.account.number,
                  "{\"to\":" + JsonQuote(r.new_number) +
                      ",\"carry\":" + (r.carry_balance ? "true" : "false") + "}",
                  now));
    // The new account's state from its (carried) balance.
    AccountContext fresh;
    fresh.project = ctx.project;
    fresh.account = next;
    JOULE_ASSIGN_OR_RETURN(fresh.wallet, LoadWallet(*tx, next));
    fresh.tariff = ctx.tariff;
    fresh.zone = ctx.zone;
    JOULE_TRY(StepAndPersist(*tx, fresh, ControlEvent::kBalanceChanged, now, actor.name,
                             "tenant transfer", nullptr));
    JOULE_TRY(tx->Commit());
    return next.id;
}

// ------------------------------------------------------------------------- meter billing

namespace {

// An integer field of a command's params, which the service writes itself ("count":N).
std::optional<int64_t> IntParam(std::string_view params, std::string_view name) {
    const std::string key = "\"" + std::string(name) + "\":";
    const auto at = params.find(key);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    int64_t value = 0;
    std::size_t i = at + key.size();
    const std::size_t first = i;
    for (; i < params.size() && params[i] >= '0' && params[i] <= '9' && i - first < 18; ++i) {
        value = value * 10 + (params[i] - '0');
    }
    if (i == first) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<int64_t> PurchaseCountOf(const CommandRecord& command) {
    if (command.kind != "purchase") {
        return std::nullopt;
    }
    return IntParam(command.params, "count");
}

Result<bool> BillingService::ConfirmPurchase(int64_t command_id, int64_t count_modulus,
                                             std::string_view how, Instant now) {
    if (count_modulus <= 0) {
        return InvalidArgument("count_modulus", "must be positive");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(CommandRecord command, tx->GetCommand(command_id));
    const std::optional<int64_t> count = PurchaseCountOf(command);
    if (!count) {
        return InvalidArgument("command",
                               "command " + std::to_string(command_id) + " is not a purchase");
    }
    const std::string sent_id = "purchase:" + std::to_string(command_id);
    const std::string confirmed_id = sent_id + ":confirmed";
    JOULE_ASSIGN_OR_RETURN(auto confirmed, tx->FindTransfer(confirmed_id));
    if (confirmed) {
        return false;  // the money moved already: never twice
    }
    JOULE_ASSIGN_OR_RETURN(auto sent, tx->FindTransfer(sent_id));
    if (!sent) {
        return MakeError(ErrorCode::kDataLoss,
                         "purchase command " + std::to_string(command_id) + " has no transfer");
    }
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, ContextOfAccount(*tx, command.account));
    JOULE_TRY(
        Post(*tx, Transfer{confirmed_id, ctx.meter_pending.id, ctx.meter_held.id, sent->amount,
                           TransferCode::kPurchaseConfirmed,
                           "meter purchase count " + std::to_string(*count), "dispatcher", now}));
    ctx.meter_pending.balance -= sent->amount;
    ctx.meter_held.balance += sent->amount;
    joule::ConfirmPurchase(ctx.account.purse, *count, sent->amount, count_modulus);
    command.state = CommandState::kAcknowledged;
    command.finished_at = now;
    command.error.clear();
    JOULE_TRY(tx->UpdateCommandDelivery(command));
    JOULE_TRY(tx->ClearAlarm(AccountId{}, command.meter, AlarmKind::kCommandFailed, now));
    JOULE_TRY(tx->ClearAlarm(AccountId{}, command.meter, AlarmKind::kPurchaseCountMismatch, now));
    // The purse changed: the account is written with whatever state the step leaves.
    JOULE_TRY(StepAndPersist(*tx, ctx, ControlEvent::kBalanceChanged, now, "dispatcher", "",
                             nullptr, /*account_changed=*/true));
    JOULE_TRY(Log(*tx, Actor{"dispatcher"}, ctx.project.id, "purchase.confirm", ctx.account.number,
                  "{\"command\":" + std::to_string(command_id) +
                      ",\"count\":" + std::to_string(*count) + ",\"amount_fen\":" +
                      std::to_string(sent->amount.fen) + ",\"how\":" + JsonQuote(how) + "}",
                  now));
    JOULE_TRY(tx->Commit());
    return true;
}

Status BillingService::MirrorMeterRemainingInTx(Tx& tx, const ProjectRecord& project, MeterId meter,
                                                Money remaining, std::optional<int64_t> wire_count,
                                                Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto binding, tx.CurrentBinding(meter));
    if (!binding) {
        return {};
    }
    JOULE_ASSIGN_OR_RETURN(AccountRecord account, tx.GetAccount(binding->account));
    if (account.billing_mode != BillingMode::kMeter || account.status != AccountStatus::kOpen) {
        return {};
    }
    JOULE_ASSERT(account.project == project.id, "a meter's account is in the meter's project");
    JOULE_ASSIGN_OR_RETURN(Zone zone, Zone::Load(project.time_zone));
    JOULE_ASSIGN_OR_RETURN(AccountContext ctx, ContextOf(tx, project, zone, std::move(account)));
    const MeterPurse before = ctx.account.purse;
    MirrorRemaining(ctx.account.purse, remaining, wire_count, now);
    return StepAndPersist(tx, ctx, ControlEvent::kBalanceChanged, now, "billing", "", nullptr,
                          /*account_changed=*/ctx.account.purse != before);
}

}  // namespace joule
