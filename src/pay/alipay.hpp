// Alipay asynchronous notifications [PAY-2] (trade_status_sync): a form-encoded POST whose
// parameters, without sign and sign_type and without empty values, sorted by name and joined as
// "k=v&k=v", are signed RSA2 (SHA256withRSA) with Alipay's key. Verified here against Alipay's
// public key, then the app id (and seller, when configured) checked against ours and the amount
// read exactly from its yuan text. Alipay expects the body "success"; anything else makes it
// retry (8 times over about 25 hours).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "core/payment_ports.hpp"
#include "core/units.hpp"

namespace joule::pay {

struct AlipayConfig {
    std::string app_id;
    std::string seller_id;              // the merchant's Alipay user id; "" skips the check
    std::string alipay_public_key_pem;  // Alipay's public key (or certificate), not ours
};

// The form's parameters, percent-decoded ('+' is a space). kInvalidArgument naming the
// parameter for bad encoding, an empty name or a repeated one.
[[nodiscard]] Result<std::map<std::string, std::string, std::less<>>> ParseForm(
    std::string_view body);

// The text Alipay signs: every parameter but sign and sign_type with a non-empty value, sorted
// by name, "k=v" joined by "&".
[[nodiscard]] std::string AlipaySignContent(
    const std::map<std::string, std::string, std::less<>>& params);

// kUnauthenticated ("sign") for a signature that does not verify or a sign_type that is not
// RSA2, kInvalidArgument for a malformed form, another app or seller, or a bad amount.
// TRADE_SUCCESS and TRADE_FINISHED are paid; WAIT_BUYER_PAY and TRADE_CLOSED verify unpaid.
[[nodiscard]] Result<PaymentNotification> VerifyAlipayNotification(const AlipayConfig& config,
                                                                   std::string_view body);

// Our side of Alipay's open API [PAY-2, PAY-4]: every request carries the common parameters
// (app_id, method, charset, sign_type RSA2, timestamp in Beijing time, version 1.0, biz_content)
// signed like a notification, with the app's own private key; each answer is
// {"<method>_response": {...}, "sign": "..."} with the response object's exact text signed by
// Alipay.
struct AlipayMerchant {
    std::string app_id;
    std::string private_key_pem;  // the app's private key (not Alipay's)
};

struct AlipayOrderRequest {
    std::string channel;  // "wap" (a phone browser), "page" (a computer), "qr" (a QR code)
    std::string order_no;
    Money amount;
    std::string subject;     // "电费充值 A-101"
    std::string notify_url;  // https://.../api/v1/pay/notify/alipay
    std::string return_url;  // wap, page: where Alipay sends the payer back; "" none
    Instant now;
    Instant expires;
};

// The signed, form-encoded parameters of an order: for wap (alipay.trade.wap.pay) and page
// (alipay.trade.page.pay) the query string of the gateway address the payer's browser opens;
// for qr the body of the alipay.trade.precreate call. kInvalidArgument naming "channel", or the
// key's error.
[[nodiscard]] Result<std::string> AlipayOrderRequestText(const AlipayMerchant& merchant,
                                                         const AlipayOrderRequest& r);
// The body of the alipay.trade.query call about `order_no`.
[[nodiscard]] Result<std::string> AlipayQueryRequestText(const AlipayMerchant& merchant,
                                                         std::string_view order_no, Instant now);

// The answer of alipay.trade.precreate: the QR code's content. kUnauthenticated ("sign") for an
// answer that does not verify; kInvalidArgument with Alipay's sub_code for a refusal.
[[nodiscard]] Result<std::string> ReadAlipayPrecreate(const AlipayConfig& config,
                                                      std::string_view body);
// The answer of alipay.trade.query as a notice: paid for TRADE_SUCCESS and TRADE_FINISHED,
// otherwise unpaid with its status. kNotFound for a trade Alipay has not seen
// (ACQ.TRADE_NOT_EXIST: the payer never opened it), kUnauthenticated ("sign") for an answer that
// does not verify, kInvalidArgument for another refusal.
[[nodiscard]] Result<PaymentNotification> ReadAlipayTradeQuery(const AlipayConfig& config,
                                                               std::string_view body);

// The body of alipay.trade.refund: `amount` of `order_no` back to its payer, out_request_no
// `refund_no` (the same number asked again is the same refund at Alipay).
[[nodiscard]] Result<std::string> AlipayRefundRequestText(const AlipayMerchant& merchant,
                                                          std::string_view order_no,
                                                          std::string_view refund_no, Money amount,
                                                          std::string_view reason, Instant now);
// Its answer, verified and about `order_no`: succeeded when fund_change is Y, else processing
// (confirmed by the refund query). kInvalidArgument with Alipay's sub_code for a refusal;
// kUnavailable when Alipay failed or its answer cannot be read; kUnauthenticated ("sign").
[[nodiscard]] Result<RefundAnswer> ReadAlipayRefund(const AlipayConfig& config,
                                                    std::string_view body,
                                                    std::string_view order_no);
// alipay.trade.fastpay.refund.query of `refund_no` (out_request_no), and its answer: succeeded
// for REFUND_SUCCESS, else processing (Alipay has not refunded it, or not yet).
[[nodiscard]] Result<std::string> AlipayRefundQueryRequestText(const AlipayMerchant& merchant,
                                                               std::string_view order_no,
                                                               std::string_view refund_no,
                                                               Instant now);
[[nodiscard]] Result<RefundAnswer> ReadAlipayRefundQuery(const AlipayConfig& config,
                                                         std::string_view body,
                                                         std::string_view order_no);

// The day's bill [PAY-3]: alipay.data.dataservice.bill.downloadurl.query of bill_type trade (the
// trades and refunds of the day, Beijing time), whose answer is the address of a zip of the
// business detail (pay/statement reads it), valid for 30 seconds. The zip is not signed; its
// address came in a signed answer, and the zip checks its entries' CRCs.
[[nodiscard]] Result<std::string> AlipayBillUrlRequestText(const AlipayMerchant& merchant,
                                                           CivilDate day, Instant now);
// The bill's address; nullopt when Alipay has no bill of that day (isp.bill_not_exist: no trade
// or refund). kUnavailable for what to ask again later (Alipay's trouble, a bill not made yet);
// kUnauthenticated ("sign"); kInvalidArgument for another refusal.
[[nodiscard]] Result<std::optional<std::string>> ReadAlipayBillUrl(const AlipayConfig& config,
                                                                   std::string_view body);

// The exact text of member `key` of the JSON object `json`, as it stands in the text (what
// Alipay signs). kInvalidArgument naming `key` when the text is not an object or has no such
// member.
[[nodiscard]] Result<std::string_view> RawJsonMember(std::string_view json, std::string_view key);

}  // namespace joule::pay
