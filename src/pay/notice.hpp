// What a verified payment notification says, whichever provider sent it [PAY-2]. Only a notice
// that verified (signature, time window, our app and merchant, decryption) is ever made, so
// everything downstream may trust its fields; `paid` decides whether it credits anything.
#pragma once

#include <optional>
#include <string>

#include "core/time.hpp"
#include "core/units.hpp"

namespace joule::pay {

struct PaymentNotice {
    std::string provider;        // "wechat", "alipay", "sandbox"
    std::string out_trade_no;    // our order number
    std::string transaction_id;  // the provider's: credited at most once
    Money amount;                // paid, in fen
    bool paid = false;           // a success state; any other is acknowledged, never credited
    std::string state;           // the provider's word: SUCCESS, TRADE_SUCCESS, CLOSED, ...
    std::optional<Instant> paid_at;
    std::string payer;     // WeChat openid, Alipay buyer_id
    std::string event_id;  // the notification's own id, for the log
};

}  // namespace joule::pay
