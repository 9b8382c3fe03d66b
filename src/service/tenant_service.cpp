#include "service/tenant_service.hpp"
#include "service/project_lookup.hpp"

#include <algorithm>

#include "core/notification.hpp"
#include "core/notification_ports.hpp"

namespace joule {

namespace {

Error Refused(std::string message) {
    return Error{ErrorCode::kUnauthenticated, std::move(message), "code"};
}

std::string ActionTarget(const AccountRecord& account) { return "account:" + account.number; }

}  // namespace

std::string TenantService::CodeHash(CodePurpose purpose, std::string_view requester,
                                    AccountId account, std::string_view code) const {
    return options_.sha256_hex(std::to_string(static_cast<int>(purpose)) + "|" +
                               std::string(requester) + "|" + std::to_string(account.value) + "|" +
                               std::string(code));
}

Result<CodeSent> TenantService::IssueCode(Tx& tx, CodePurpose purpose, const std::string& sent_to,
                                          const std::string& requester, AccountId account,
                                          std::string_view account_number,
                                          const ProjectRecord& project, Instant now) {
    if (!options_.sms_configured && !options_.show_codes) {
        return MakeError(ErrorCode::kFailedPrecondition,
                         "this server sends no SMS, so no code can reach you; ask the property "
                         "office",
                         purpose == CodePurpose::kSignIn ? "phone" : "account");
    }
    const std::string field = purpose == CodePurpose::kSignIn ? "phone" : "account";
    const Instant day_ago = now - Seconds{24 * 3600};
    JOULE_ASSIGN_OR_RETURN(const int64_t this_hour,
                           tx.Tenants().CountAllCodesSince(now - Seconds{3600}));
    if (this_hour >= kCodesPerServerPerHour) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "the server has sent as many codes as it may this hour; try again later",
                         field);
    }
    if (purpose == CodePurpose::kBind) {
        JOULE_ASSIGN_OR_RETURN(const int64_t asked,
                               tx.Tenants().CountCodesRequestedSince(requester, purpose, day_ago));
        if (asked >= kBindCodesPerPersonPerDay) {
            return MakeError(ErrorCode::kResourceExhausted,
                             "you have asked for " + std::to_string(kBindCodesPerPersonPerDay) +
                                 " binding codes today; try again tomorrow",
                             field);
        }
    }
    JOULE_ASSIGN_OR_RETURN(auto last, tx.Tenants().LastCodeSentAt(sent_to, purpose));
    if (last && now < *last + kCodeResendAfter) {
        const auto wait = (*last + kCodeResendAfter - now).count();
        return MakeError(
            ErrorCode::kResourceExhausted,
            "a code was sent a moment ago; ask again in " + std::to_string(wait) + " s", field);
    }
    JOULE_ASSIGN_OR_RETURN(const int64_t today,
                           tx.Tenants().CountCodesSentSince(sent_to, purpose, day_ago));
    if (today >= kCodesPerPhonePerDay) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "this phone has had " + std::to_string(kCodesPerPhonePerDay) +
                             " codes in a day; try again tomorrow",
                         field);
    }
    // 32 random bits from the adapter's generator (hex of 4 bytes).
    const std::string hex = options_.random_hex(4);
    const auto entropy = static_cast<uint32_t>(std::stoul(hex, nullptr, 16));
    const std::string code = CodeFromEntropy(entropy);
    VerificationCode record;
    record.purpose = purpose;
    record.sent_to = sent_to;
    record.requester = requester;
    record.account = account;
    record.code_hash = CodeHash(purpose, requester, account, code);
    record.created_at = now;
    record.expires_at = now + kCodeLifetime;
    JOULE_ASSIGN_OR_RETURN(const int64_t id, tx.Tenants().InsertCode(record));
    if (options_.sms_configured) {
        const std::string minutes = std::to_string(kCodeLifetime.count() / 60);
        const std::string purpose_zh =
            purpose == CodePurpose::kSignIn
                ? "用于登录水电缴费。"
                : "尾号" + requester.substr(requester.size() - 4) + "的手机正在申请绑定您的户号" +
                      std::string(account_number) + "，请确认后告知对方。";
        const std::string purpose_en =
            purpose == CodePurpose::kSignIn
                ? "It signs you in to pay for power and water. "
                : "The phone ending " + requester.substr(requester.size() - 4) +
                      " asks to bind your account " + std::string(account_number) +
                      "; tell them the code only if you agree. ";
        const NotificationText text = RenderNotification("verification_code", "zh-CN",
                                                         {{"project", project.name},
                                                          {"code", code},
                                                          {"minutes", minutes},
                                                          {"purpose", purpose_zh},
                                                          {"purpose_en", purpose_en}});
        DeliveryRecord sms;
        sms.project = project.id;
        sms.event = "code:" + std::to_string(id);
        sms.kind = "verification_code";
        sms.subject = MaskPhone(sent_to);
        sms.recipient_name = "tenant";
        sms.channel = NotifyChannel::kSms;
        sms.address = sent_to;
        sms.language = "zh-CN";
        sms.title = text.title;
        sms.body = text.body;
        sms.vars = R"({"code":")" + code + R"("})";  // digits only: nothing to escape
        sms.next_attempt_at = now;
        sms.created_at = now;
        JOULE_TRY(tx.Notifications().InsertDelivery(sms));
    }
    CodeSent sent;
    // One's own phone masked in the middle; an account holder's shows only its last digits.
    sent.sent_to = purpose == CodePurpose::kSignIn ? MaskPhone(sent_to) : PhoneTail(sent_to);
    if (options_.show_codes) {
        sent.demo_code = code;
    }
    return sent;
}

Status TenantService::Redeem(Tx& tx, CodePurpose purpose, const std::string& requester,
                             AccountId account, std::string_view typed, Instant now) {
    JOULE_ASSIGN_OR_RETURN(std::string code, NormalizeCode(typed, "code"));
    JOULE_ASSIGN_OR_RETURN(const int64_t wrong_today,
                           tx.Tenants().CountWrongTriesSince(requester, now - Seconds{24 * 3600}));
    if (wrong_today >= kWrongTriesPerPersonPerDay) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "too many wrong codes today; try again tomorrow", "code");
    }
    JOULE_ASSIGN_OR_RETURN(auto newest, tx.Tenants().NewestCode(purpose, requester, account));
    if (!newest || newest->used_at) {
        return std::unexpected(Refused("no code is waiting; ask for a new one"));
    }
    if (now >= newest->expires_at) {
        return std::unexpected(Refused("the code has expired; ask for a new one"));
    }
    if (newest->tries >= kCodeMaxTries) {
        return std::unexpected(Refused("too many wrong codes; ask for a new one"));
    }
    if (!SameSecretText(CodeHash(purpose, requester, account, code), newest->code_hash)) {
        newest->tries += 1;
        JOULE_TRY(tx.Tenants().UpdateCode(*newest));
        const int left = kCodeMaxTries - newest->tries;
        return std::unexpected(Refused(left > 0
                                           ? "wrong code; " + std::to_string(left) + " tries left"
                                           : "wrong code; ask for a new one"));
    }
    newest->used_at = now;
    return tx.Tenants().UpdateCode(*newest);
}

Result<CodeSent> TenantService::SendSignInCode(std::string_view phone,
                                               std::string_view project_code, Instant now) {
    JOULE_ASSIGN_OR_RETURN(const std::string mobile, NormalizeMobile(phone, "phone"));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    // The SMS is logged in the delivery log of the project the tenant came for: staff of
    // another project never see who signs in here.
    std::optional<ProjectRecord> project;
    if (!project_code.empty()) {
        JOULE_ASSIGN_OR_RETURN(project, RequireProject(*tx, project_code));
    } else {
        JOULE_ASSIGN_OR_RETURN(auto projects, tx->ListProjects());
        if (projects.empty()) {
            return MakeError(ErrorCode::kFailedPrecondition, "this server has no project yet",
                             "phone");
        }
        if (projects.size() > 1) {
            return InvalidArgument("project", "choose the project you pay for");
        }
        project = projects.front();
    }
    JOULE_ASSIGN_OR_RETURN(CodeSent sent, IssueCode(*tx, CodePurpose::kSignIn, mobile, mobile,
                                                    AccountId{}, "", *project, now));
    JOULE_TRY(tx->Commit());
    return sent;
}

Result<TenantSignIn> TenantService::SignIn(std::string_view phone, std::string_view code,
                                           std::string remote, Instant now) {
    JOULE_ASSIGN_OR_RETURN(const std::string mobile, NormalizeMobile(phone, "phone"));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    const Status redeemed = Redeem(*tx, CodePurpose::kSignIn, mobile, AccountId{}, code, now);
    if (!redeemed) {
        if (redeemed.error().code == ErrorCode::kUnauthenticated) {
            JOULE_TRY(tx->Commit());  // the wrong try counts
        }
        return std::unexpected(redeemed.error());
    }
    JOULE_ASSIGN_OR_RETURN(TenantPerson person, tx->Tenants().SignInPerson(mobile, now));
    // Sign-ins are when old sessions and codes go: codes are kept a day past their life for the
    // daily limits.
    JOULE_TRY(tx->Tenants().PurgeExpired(now, now - Seconds{2 * 24 * 3600}));
    TenantSignIn out;
    out.token = options_.random_hex(32);
    out.session.token_hash = options_.sha256_hex(out.token);
    out.session.person = person.id;
    out.session.csrf_token = options_.random_hex(16);
    out.session.remote = std::move(remote);
    out.session.created_at = now;
    out.session.expires_at = now + kTenantSessionLifetime;
    JOULE_TRY(tx->Tenants().InsertSession(out.session));
    JOULE_TRY(tx->InsertOperation(OperationBy(Actor{TenantActor(person), out.session.remote}, now,
                                              ProjectId{}, "tenant.sign_in",
                                              "tenant:" + std::to_string(person.id), "{}")));
    JOULE_TRY(tx->Commit());
    out.person = std::move(person);
    return out;
}

Result<std::pair<TenantSession, TenantPerson>> TenantService::Authenticate(
    std::string_view token_hash, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto session, tx->Tenants().FindSession(token_hash));
    if (!session) {
        return MakeError(ErrorCode::kUnauthenticated, "the session has ended; sign in again");
    }
    if (session->expires_at <= now) {
        return MakeError(ErrorCode::kUnauthenticated, "the session has expired; sign in again");
    }
    JOULE_ASSIGN_OR_RETURN(auto person, tx->Tenants().GetPerson(session->person));
    if (!person) {
        return MakeError(ErrorCode::kUnauthenticated, "sign in again");
    }
    return std::pair{std::move(*session), std::move(*person)};
}

Status TenantService::SignOut(std::string_view token_hash) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_TRY(tx->Tenants().DeleteSession(token_hash));
    return tx->Commit();
}

Status TenantService::RememberWechatPayer(std::string_view token_hash, std::string_view openid) {
    if (openid.empty() || openid.size() > 128) {
        return InvalidArgument("openid", "must be 1 to 128 bytes");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_TRY(tx->Tenants().SetSessionOpenid(token_hash, openid));
    return tx->Commit();
}

Result<BindOutcome> TenantService::Bind(const TenantPerson& person, std::string_view project_code,
                                        std::string_view account_number,
                                        std::optional<std::string_view> code, const Actor& actor,
                                        Instant now) {
    if (account_number.empty() || account_number.size() > 64) {
        return InvalidArgument("account", "must be the account number (户号), 1 to 64 characters");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(const ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(auto account, tx->FindAccount(project.id, account_number));
    if (!account) {
        return NotFound("no account '" + std::string(account_number) + "' in " + project.name,
                        "account");
    }
    if (account->status != AccountStatus::kOpen) {
        return FailedPrecondition("the account is closed", "account");
    }
    JOULE_ASSIGN_OR_RETURN(auto mine, tx->Tenants().BindingsOfPerson(person.id));
    if (std::any_of(mine.begin(), mine.end(),
                    [&](const TenantBinding& b) { return b.account == account->id; })) {
        return MakeError(ErrorCode::kAlreadyExists, "you are bound to this account already",
                         "account");
    }
    if (std::ssize(mine) >= kMaxBindingsPerPerson) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "at most " + std::to_string(kMaxBindingsPerPerson) +
                             " accounts per person; unbind one first",
                         "account");
    }
    JOULE_ASSIGN_OR_RETURN(auto members, tx->Tenants().BindingsOfAccount(account->id));
    if (std::ssize(members) >= kMaxMembersPerAccount) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "the account has " + std::to_string(kMaxMembersPerAccount) +
                             " people bound; the holder must remove one first",
                         "account");
    }
    const auto holder_phone = NormalizeMobile(account->phone, "account");
    BindingRole role = BindingRole::kMember;
    if (holder_phone && *holder_phone == person.phone) {
        role = BindingRole::kHolder;
    } else if (!holder_phone) {
        return FailedPrecondition(
            "the account has no mobile phone registered to send a code to; ask the property "
            "office to add it",
            "account");
    } else if (!code) {
        JOULE_ASSIGN_OR_RETURN(CodeSent sent,
                               IssueCode(*tx, CodePurpose::kBind, *holder_phone, person.phone,
                                         account->id, account->number, project, now));
        JOULE_TRY(tx->Commit());
        return BindOutcome{std::nullopt, std::move(sent)};
    } else {
        const Status redeemed =
            Redeem(*tx, CodePurpose::kBind, person.phone, account->id, *code, now);
        if (!redeemed) {
            if (redeemed.error().code == ErrorCode::kUnauthenticated) {
                JOULE_TRY(tx->Commit());
            }
            return std::unexpected(redeemed.error());
        }
    }
    TenantBinding binding;
    binding.person = person.id;
    binding.account = account->id;
    binding.role = role;
    binding.created_at = now;
    binding.phone = person.phone;
    JOULE_ASSIGN_OR_RETURN(binding.id, tx->Tenants().InsertBinding(binding));
    JOULE_TRY(tx->InsertOperation(
        OperationBy(actor, now, project.id, "tenant.bind", ActionTarget(*account),
                    R"({"phone":")" + MaskPhone(person.phone) + R"(","role":")" +
                        std::string(BindingRoleName(role)) + R"("})")));
    JOULE_TRY(tx->Commit());
    return BindOutcome{std::move(binding), std::nullopt};
}

Status TenantService::Unbind(const TenantPerson& person, int64_t binding, const Actor& actor,
                             Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(auto target, tx->Tenants().GetBinding(binding));
    if (!target) {
        return NotFound("no binding " + std::to_string(binding), "binding");
    }
    JOULE_ASSIGN_OR_RETURN(auto members, tx->Tenants().BindingsOfAccount(target->account));
    JOULE_TRY(CurrentRoles(*tx, members));
    // The target's role as it is now (the account's phone may have changed since it bound).
    for (const TenantBinding& m : members) {
        if (m.id == target->id) {
            target->role = m.role;
        }
    }
    const auto own = std::find_if(members.begin(), members.end(),
                                  [&](const TenantBinding& b) { return b.person == person.id; });
    if (own == members.end()) {
        // Another account's binding is as absent as a missing one.
        return NotFound("no binding " + std::to_string(binding), "binding");
    }
    if (target->person != person.id &&
        (own->role != BindingRole::kHolder || target->role == BindingRole::kHolder)) {
        return MakeError(ErrorCode::kPermissionDenied,
                         "only the account's holder may remove someone else", "binding");
    }
    JOULE_ASSIGN_OR_RETURN(AccountRecord account, tx->GetAccount(target->account));
    JOULE_TRY(tx->Tenants().DeleteBinding(binding));
    JOULE_TRY(tx->InsertOperation(
        OperationBy(actor, now, account.project, "tenant.unbind", ActionTarget(account),
                    R"({"phone":")" + MaskPhone(target->phone) + R"(","role":")" +
                        std::string(BindingRoleName(target->role)) + R"("})")));
    return tx->Commit();
}

Result<std::vector<TenantBinding>> TenantService::BindingsOf(const TenantPerson& person) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto bindings, tx->Tenants().BindingsOfPerson(person.id));
    JOULE_TRY(CurrentRoles(*tx, bindings));
    return bindings;
}

Result<TenantBinding> TenantService::BindingOf(const TenantPerson& person, int64_t binding) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto found, tx->Tenants().GetBinding(binding));
    if (!found || found->person != person.id) {
        return NotFound("no binding " + std::to_string(binding), "binding");
    }
    std::vector<TenantBinding> one{*found};
    JOULE_TRY(CurrentRoles(*tx, one));
    return one.front();
}

Result<std::vector<TenantBinding>> TenantService::Members(const TenantPerson& person,
                                                          int64_t binding) {
    JOULE_ASSIGN_OR_RETURN(TenantBinding own, BindingOf(person, binding));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto members, tx->Tenants().BindingsOfAccount(own.account));
    JOULE_TRY(CurrentRoles(*tx, members));
    return members;
}

Status TenantService::CurrentRoles(Tx& tx, std::vector<TenantBinding>& bindings) {
    for (TenantBinding& b : bindings) {
        JOULE_ASSIGN_OR_RETURN(AccountRecord account, tx.GetAccount(b.account));
        const auto holder = NormalizeMobile(account.phone, "phone");
        b.role = holder && *holder == b.phone ? BindingRole::kHolder : BindingRole::kMember;
    }
    return {};
}

Result<std::pair<AccountRecord, std::vector<TenantBinding>>> TenantService::PeopleOfAccount(
    std::string_view project_code, std::string_view account_number) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(const ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(auto account, tx->FindAccount(project.id, account_number));
    if (!account) {
        return NotFound("no account '" + std::string(account_number) + "'", "account");
    }
    JOULE_ASSIGN_OR_RETURN(auto people, tx->Tenants().BindingsOfAccount(account->id));
    JOULE_TRY(CurrentRoles(*tx, people));
    return std::pair{std::move(*account), std::move(people)};
}

Status TenantService::RemoveBinding(std::string_view project_code, std::string_view account_number,
                                    int64_t binding, const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto found, PeopleOfAccount(project_code, account_number));
    const auto& [account, people] = found;
    const auto it = std::find_if(people.begin(), people.end(),
                                 [&](const TenantBinding& b) { return b.id == binding; });
    if (it == people.end()) {
        return NotFound("no binding " + std::to_string(binding) + " of this account", "binding");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_TRY(tx->Tenants().DeleteBinding(binding));
    JOULE_TRY(tx->InsertOperation(
        OperationBy(actor, now, account.project, "tenant.unbind", ActionTarget(account),
                    R"({"phone":")" + MaskPhone(it->phone) + R"(","by":"staff"})")));
    return tx->Commit();
}

std::string TenantActor(const TenantPerson& person) {
    return "tenant:" + std::to_string(person.id) + ":" + MaskPhone(person.phone);
}

}  // namespace joule
