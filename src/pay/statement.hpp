// The providers' daily statements (对账单) [PAY-3], read into StatementLines
// (core/reconciliation.hpp). Pure: bytes in, lines or a precise error out.
//
// - WeChat Pay's trade bill (交易账单, bill_type ALL, as the merchant platform and
//   GET /v3/bill/tradebill give it): a header row, one row per payment or refund with every value
//   behind a backtick, then the totals' header and the totals. Columns are found by their names.
//   The totals must agree with the rows (the number of rows and the settled sum): a cut-off file is
//   refused, not half-reconciled. The sandbox provider's statements have this format.
// - Alipay's business detail (业务明细, the CSV inside the daily bill zip): '#' comment lines
//   around a header row and one row per trade or refund, values often padded with tabs. The zip
//   itself, as alipay.data.dataservice.bill.downloadurl.query's address gives it, is read too.
//
// Either may be UTF-8 (with or without a byte-order mark) or GB18030/GBK, as the providers and
// Excel save them. Times are Beijing time (UTC+8, no daylight saving).
#pragma once

#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/reconciliation.hpp"

namespace joule::pay {

inline constexpr std::size_t kMaxStatementLines = 200'000;

// kInvalidArgument naming "file" (the format), or "row N" / "row N: <column>" for a bad value;
// kOutOfRange past kMaxStatementLines.
[[nodiscard]] Result<std::vector<StatementLine>> ParseWechatTradeBill(std::string_view bytes);
// The business detail CSV or the daily bill zip that holds it.
[[nodiscard]] Result<std::vector<StatementLine>> ParseAlipayStatement(std::string_view bytes);
// The business detail CSV (…_业务明细.csv, not its 汇总) out of Alipay's daily bill zip.
// kInvalidArgument naming "file" when the zip is damaged or holds none or two; kOutOfRange past
// kMaxStatementBytes decompressed.
[[nodiscard]] Result<std::string> AlipayBillDetail(std::string_view zip_bytes);
// The statement of `provider` ("wechat", "sandbox": the trade-bill format; "alipay").
[[nodiscard]] Result<std::vector<StatementLine>> ParseStatement(std::string_view provider,
                                                                std::string_view bytes);

// A trade bill in WeChat Pay's format (UTF-8) of `payments` (paid payment lines: their time,
// transaction, order and amount), as ParseWechatTradeBill reads it: the sandbox provider's daily
// statement.
[[nodiscard]] std::string WriteWechatTradeBill(const std::vector<StatementLine>& payments);

// `bytes` as UTF-8: as they are when they are UTF-8, else read as GB18030 (which GBK is a part
// of). kInvalidArgument naming `field` when they are neither.
[[nodiscard]] Result<std::string> TextAsUtf8(std::string_view bytes, std::string_view field);

}  // namespace joule::pay
