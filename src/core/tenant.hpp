// Tenant self-service [PAY-1]: who a tenant is (a person with a mobile phone, signed in by a code
// sent to it) and the rules of the codes and the bindings between people and accounts. Pure: the
// records are in core/tenant_ports.hpp, the use cases in service/tenant_service.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "core/time.hpp"

namespace joule {

// A code is good for 5 minutes and 5 tries; a phone gets one a minute and 10 a day.
inline constexpr Seconds kCodeLifetime{300};
inline constexpr Seconds kCodeResendAfter{60};
inline constexpr int kCodesPerPhonePerDay = 10;
inline constexpr int kCodeMaxTries = 5;
inline constexpr int kCodeDigits = 6;
inline constexpr Seconds kTenantSessionLifetime{30 * 24 * 3600};
// Against guessing and SMS pumping: a person asks for at most 5 binding codes and types at most 10
// wrong codes a day, and the server sends at most 1,000 codes an hour in all.
inline constexpr int kBindCodesPerPersonPerDay = 5;
inline constexpr int kWrongTriesPerPersonPerDay = 10;
inline constexpr int kCodesPerServerPerHour = 1'000;
// One person binds a handful of accounts, one account a handful of people: bounds against abuse.
inline constexpr int kMaxBindingsPerPerson = 20;
inline constexpr int kMaxMembersPerAccount = 20;

// Stored: never renumber.
enum class CodePurpose : uint8_t {
    kSignIn = 1,  // sent to the person's own phone
    kBind = 2,    // sent to an account's registered phone, for someone else to bind it
};

enum class BindingRole : uint8_t {
    kHolder = 1,  // the account's registered phone (户主)
    kMember = 2,  // anyone the holder let in with a code (成员)
};
[[nodiscard]] std::string_view BindingRoleName(BindingRole role);

// A mainland mobile number as tenants and staff type it: spaces, dashes and brackets dropped, a
// "+86" or "86" in front taken off; then 11 digits starting with 1. Errors name `field`.
[[nodiscard]] Result<std::string> NormalizeMobile(std::string_view phone, std::string_view field);
// "138****0001": enough to recognise one's own phone, not enough to learn someone else's.
[[nodiscard]] std::string MaskPhone(std::string_view phone);
// "*******0001": someone else's phone (an account holder's), the last four digits only.
[[nodiscard]] std::string PhoneTail(std::string_view phone);
// Whether two secrets (hashes) are equal, in time that does not depend on where they differ.
[[nodiscard]] bool SameSecretText(std::string_view a, std::string_view b);
// Whether a code as typed ("123456", spaces around allowed) has the shape of one; the digits.
[[nodiscard]] Result<std::string> NormalizeCode(std::string_view code, std::string_view field);
// The code for `entropy` (any 32 random bits): kCodeDigits digits, leading zeros kept.
[[nodiscard]] std::string CodeFromEntropy(uint32_t entropy);

}  // namespace joule
