#include "pay/statement.hpp"

#include <iconv.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "base/decimal.hpp"
#include "codec/csv_reader.hpp"
#include "codec/zip_archive.hpp"

namespace joule::pay {

namespace {

using codec::Sheet;
using codec::SheetRow;

std::string_view Trimmed(std::string_view text) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && blank(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && blank(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

// A WeChat value: "`4200000001" -> "4200000001".
std::string_view Unticked(std::string_view text) {
    text = Trimmed(text);
    if (!text.empty() && text.front() == '`') {
        text.remove_prefix(1);
    }
    return Trimmed(text);
}

std::string RowField(const SheetRow& row, std::string_view column = {}) {
    std::string out = "row " + std::to_string(row.number);
    if (!column.empty()) {
        out += ": ";
        out += column;
    }
    return out;
}

// Column positions by name in a header row; the names are compared trimmed and unticked.
class Columns {
public:
    explicit Columns(const SheetRow& header) {
        for (std::size_t i = 0; i < header.cells.size(); ++i) {
            index_.emplace(std::string(Unticked(header.cells[i])), i);
        }
    }
    [[nodiscard]] bool Has(std::string_view name) const {
        return index_.contains(std::string(name));
    }
    // The first of `names` the header has; kInvalidArgument naming "file" when none.
    [[nodiscard]] Result<std::size_t> Find(std::initializer_list<std::string_view> names) const {
        for (std::string_view n : names) {
            if (auto it = index_.find(std::string(n)); it != index_.end()) {
                return it->second;
            }
        }
        return InvalidArgument("file", "the statement has no column " +
                                           std::string(*names.begin()) +
                                           "; is it the provider's statement of this kind?");
    }

private:
    std::map<std::string, std::size_t> index_;
};

std::string_view Cell(const SheetRow& row, std::size_t column) {
    return column < row.cells.size() ? std::string_view(row.cells[column]) : std::string_view();
}

Result<Money> Yuan(std::string_view text, const SheetRow& row, std::string_view column) {
    text = Unticked(text);
    const bool negative = !text.empty() && text.front() == '-';
    if (negative) {
        text.remove_prefix(1);
    }
    JOULE_ASSIGN_OR_RETURN(const int64_t fen, ParseScaled(text, 2, RowField(row, column)));
    return Money{negative ? -fen : fen};
}

// "2026-11-22 10:00:00" (or with '/' between the date's parts), Beijing time.
Result<Instant> BeijingTime(std::string_view text, const SheetRow& row, std::string_view column) {
    std::string t(Unticked(text));
    std::replace(t.begin(), t.end(), '/', '-');
    if (t.size() != 19 || t[10] != ' ') {
        return InvalidArgument(RowField(row, column), "must be a time as yyyy-MM-dd HH:mm:ss");
    }
    t[10] = 'T';
    return ParseInstant(t + "+08:00", RowField(row, column));
}

Result<Sheet> ReadStatementCsv(std::string_view bytes) {
    JOULE_ASSIGN_OR_RETURN(std::string text, TextAsUtf8(bytes, "file"));
    codec::SheetLimits limits;
    limits.max_rows = kMaxStatementLines + 64;  // the lines and the header, comments, totals
    return codec::ReadCsv(text, limits);
}

}  // namespace

Result<std::string> TextAsUtf8(std::string_view bytes, std::string_view field) {
    if (codec::IsCellText(bytes)) {
        return std::string(bytes);
    }
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (reinterpret_cast<std::intptr_t>(cd) == -1) {  // iconv_open's (iconv_t)-1
        return MakeError(ErrorCode::kInternal, "this system cannot read GB18030 text",
                         std::string(field));
    }
    const std::unique_ptr<void, int (*)(iconv_t)> closer(cd, iconv_close);
    std::string in(bytes);
    std::string out(in.size() * 2 + 16, '\0');
    char* in_ptr = in.data();
    std::size_t in_left = in.size();
    char* out_ptr = out.data();
    std::size_t out_left = out.size();
    if (iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) == static_cast<std::size_t>(-1) ||
        in_left != 0) {
        return InvalidArgument(std::string(field), "is neither UTF-8 nor GBK text (byte " +
                                                       std::to_string(in.size() - in_left) + ")");
    }
    out.resize(out.size() - out_left);
    if (!codec::IsCellText(out)) {
        return InvalidArgument(std::string(field), "holds characters that are not text");
    }
    return out;
}

Result<std::vector<StatementLine>> ParseWechatTradeBill(std::string_view bytes) {
    JOULE_ASSIGN_OR_RETURN(Sheet sheet, ReadStatementCsv(bytes));
    const auto header = std::find_if(sheet.rows.begin(), sheet.rows.end(), [](const SheetRow& r) {
        return !r.cells.empty() && Unticked(r.cells[0]) == "交易时间";
    });
    if (header == sheet.rows.end()) {
        return InvalidArgument("file",
                               "not a WeChat Pay trade bill: no header row starting with 交易时间");
    }
    const Columns columns(*header);
    JOULE_ASSIGN_OR_RETURN(const std::size_t time_col, columns.Find({"交易时间"}));
    JOULE_ASSIGN_OR_RETURN(const std::size_t txn_col, columns.Find({"微信订单号"}));
    JOULE_ASSIGN_OR_RETURN(const std::size_t order_col, columns.Find({"商户订单号"}));
    JOULE_ASSIGN_OR_RETURN(const std::size_t status_col, columns.Find({"交易状态"}));
    JOULE_ASSIGN_OR_RETURN(const std::size_t settled_col, columns.Find({"应结订单金额"}));
    // The order's total (before vouchers) is what the order asked for; older bills lack it.
    JOULE_ASSIGN_OR_RETURN(const std::size_t amount_col,
                           columns.Find({"订单金额", "应结订单金额"}));
    JOULE_ASSIGN_OR_RETURN(const std::size_t refund_id_col, columns.Find({"微信退款单号"}));
    const auto refund_no_col = columns.Find({"商户退款单号"});
    JOULE_ASSIGN_OR_RETURN(const std::size_t refund_col, columns.Find({"退款金额"}));

    std::vector<StatementLine> lines;
    Money settled_sum;
    auto row = std::next(header);
    for (; row != sheet.rows.end(); ++row) {
        if (!row->cells.empty() && Unticked(row->cells[0]) == "总交易单数") {
            break;  // the totals' header
        }
        if (lines.size() >= kMaxStatementLines) {
            return MakeError(ErrorCode::kOutOfRange,
                             "more than " + std::to_string(kMaxStatementLines) + " lines",
                             RowField(*row));
        }
        StatementLine line;
        line.row = row->number;
        line.status = std::string(Unticked(Cell(*row, status_col)));
        JOULE_ASSIGN_OR_RETURN(line.at, BeijingTime(Cell(*row, time_col), *row, "交易时间"));
        line.transaction_id = std::string(Unticked(Cell(*row, txn_col)));
        line.order_no = std::string(Unticked(Cell(*row, order_col)));
        if (line.transaction_id.empty() || line.order_no.empty()) {
            return InvalidArgument(RowField(*row), "a line without 微信订单号 or 商户订单号");
        }
        JOULE_ASSIGN_OR_RETURN(const Money settled,
                               Yuan(Cell(*row, settled_col), *row, "应结订单金额"));
        settled_sum += settled;
        if (line.status == "REFUND") {
            line.kind = StatementLineKind::kRefund;
            line.refund_id = std::string(Unticked(Cell(*row, refund_id_col)));
            if (refund_no_col) {
                line.refund_no = std::string(Unticked(Cell(*row, *refund_no_col)));
            }
            JOULE_ASSIGN_OR_RETURN(line.amount, Yuan(Cell(*row, refund_col), *row, "退款金额"));
        } else if (line.status == "SUCCESS" || line.status == "REVOKED") {
            line.paid = line.status == "SUCCESS";
            JOULE_ASSIGN_OR_RETURN(line.amount, Yuan(Cell(*row, amount_col), *row, "订单金额"));
        } else {
            return InvalidArgument(RowField(*row, "交易状态"),
                                   "must be SUCCESS, REFUND or REVOKED, not " + line.status);
        }
        // Only the settled column carries a sign (a refund's is negative); what was paid or
        // refunded is an amount.
        if (line.amount < Money{}) {
            return InvalidArgument(
                RowField(*row, line.kind == StatementLineKind::kRefund ? "退款金额" : "订单金额"),
                "must not be negative");
        }
        lines.push_back(std::move(line));
    }
    // The totals: a file cut short or edited by hand is refused whole.
    if (row == sheet.rows.end() || std::next(row) == sheet.rows.end()) {
        return InvalidArgument("file",
                               "the trade bill has no totals (总交易单数): is it complete?");
    }
    const Columns totals(*row);
    const SheetRow& values = *std::next(row);
    JOULE_ASSIGN_OR_RETURN(const std::size_t count_col, totals.Find({"总交易单数"}));
    const std::string_view count_text = Unticked(Cell(values, count_col));
    if (count_text != std::to_string(lines.size())) {
        return InvalidArgument("file", "the totals count " + std::string(count_text) +
                                           " lines, the file has " + std::to_string(lines.size()) +
                                           ": is it complete?");
    }
    if (totals.Has("应结订单总金额")) {
        JOULE_ASSIGN_OR_RETURN(const std::size_t sum_col, totals.Find({"应结订单总金额"}));
        JOULE_ASSIGN_OR_RETURN(const Money total,
                               Yuan(Cell(values, sum_col), values, "应结订单总金额"));
        if (total != settled_sum) {
            return InvalidArgument("file",
                                   "the lines' settled amounts do not add up to the "
                                   "totals' 应结订单总金额: is the file complete?");
        }
    }
    return lines;
}

Result<std::string> AlipayBillDetail(std::string_view zip_bytes) {
    codec::ZipLimits limits;
    limits.max_entries = 64;  // the detail and its summary, in practice
    limits.max_entry_bytes = kMaxStatementBytes;
    limits.max_total_bytes = kMaxStatementBytes;
    const auto about_the_file = [](Error e) {
        e.field = "file";
        return std::unexpected(std::move(e));
    };
    auto opened = codec::ZipArchive::Open(zip_bytes, limits, "Alipay's bill");
    if (!opened) {
        return about_the_file(opened.error());
    }
    const std::unique_ptr<codec::ZipArchive> zip = std::move(*opened);
    const std::vector<std::string> names = zip->RawNames();
    std::optional<std::size_t> detail;
    std::string listed;
    for (std::size_t i = 0; i < names.size(); ++i) {
        // Names are GBK without the zip's UTF-8 flag, as Alipay writes them, or UTF-8.
        auto name = TextAsUtf8(names[i], "file");
        if (!name) {
            continue;
        }
        listed += (listed.empty() ? "" : ", ") + *name;
        if (name->find("业务明细") == std::string::npos ||
            name->find("汇总") != std::string::npos || !name->ends_with(".csv")) {
            continue;
        }
        if (detail) {
            return InvalidArgument("file", "Alipay's bill holds two business details (" + listed +
                                               "): which day is this?");
        }
        detail = i;
    }
    if (!detail) {
        return InvalidArgument("file",
                               "Alipay's bill holds no business detail "
                               "(…_业务明细.csv); it holds: " +
                                   (listed.empty() ? std::string("nothing") : listed));
    }
    auto bytes = zip->ReadAt(*detail);
    if (!bytes) {
        return about_the_file(bytes.error());
    }
    return std::move(*bytes);
}

Result<std::vector<StatementLine>> ParseAlipayStatement(std::string_view bytes) {
    if (codec::LooksLikeZip(bytes)) {
        JOULE_ASSIGN_OR_RETURN(const std::string detail, AlipayBillDetail(bytes));
        return ParseAlipayStatement(detail);
    }
    JOULE_ASSIGN_OR_RETURN(Sheet sheet, ReadStatementCsv(bytes));
    const auto comment = [](const SheetRow& r) {
        return !r.cells.empty() && Trimmed(r.cells[0]).starts_with("#");
    };
    const auto header = std::find_if(sheet.rows.begin(), sheet.rows.end(), [&](const SheetRow& r) {
        return !comment(r) && !r.cells.empty() && Trimmed(r.cells[0]) == "支付宝交易号";
    });
    if (header == sheet.rows.end()) {
        return InvalidArgument(
            "file", "not an Alipay business detail: no header row starting with 支付宝交易号");
    }
    const Columns columns(*header);
    JOULE_ASSIGN_OR_RETURN(const std::size_t txn_col, columns.Find({"支付宝交易号"}));
    JOULE_ASSIGN_OR_RETURN(const std::size_t order_col, columns.Find({"商户订单号"}));
    JOULE_ASSIGN_OR_RETURN(const std::size_t type_col, columns.Find({"业务类型"}));
    JOULE_ASSIGN_OR_RETURN(const std::size_t time_col, columns.Find({"完成时间"}));
    JOULE_ASSIGN_OR_RETURN(const std::size_t amount_col,
                           columns.Find({"订单金额（元）", "订单金额(元)", "订单金额"}));
    const auto refund_no_col = columns.Find({"退款批次号/请求号"});

    std::vector<StatementLine> lines;
    for (auto row = std::next(header); row != sheet.rows.end(); ++row) {
        if (comment(*row)) {
            continue;  // "#-----业务明细列表结束-----", "#交易合计：...": the file's own notes
        }
        if (lines.size() >= kMaxStatementLines) {
            return MakeError(ErrorCode::kOutOfRange,
                             "more than " + std::to_string(kMaxStatementLines) + " lines",
                             RowField(*row));
        }
        StatementLine line;
        line.row = row->number;
        line.transaction_id = std::string(Trimmed(Cell(*row, txn_col)));
        line.order_no = std::string(Trimmed(Cell(*row, order_col)));
        line.status = std::string(Trimmed(Cell(*row, type_col)));
        if (line.transaction_id.empty() || line.order_no.empty()) {
            return InvalidArgument(RowField(*row), "a line without 支付宝交易号 or 商户订单号");
        }
        JOULE_ASSIGN_OR_RETURN(line.at, BeijingTime(Cell(*row, time_col), *row, "完成时间"));
        JOULE_ASSIGN_OR_RETURN(const Money amount,
                               Yuan(Cell(*row, amount_col), *row, "订单金额（元）"));
        if (line.status == "退款") {
            line.kind = StatementLineKind::kRefund;
            line.amount = amount < Money{} ? -amount : amount;  // refunds are listed negative
            if (refund_no_col) {
                // Alipay's request number is ours: out_request_no.
                line.refund_id = std::string(Trimmed(Cell(*row, *refund_no_col)));
                line.refund_no = line.refund_id;
            }
        } else if (line.status == "交易") {
            line.amount = amount;
        } else {
            return InvalidArgument(RowField(*row, "业务类型"),
                                   "must be 交易 or 退款, not " + line.status);
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

std::string WriteWechatTradeBill(const std::vector<StatementLine>& payments) {
    std::string out =
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
        "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
        "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
        "费率备注\r\n";
    const auto yuan = [](Money m) { return FormatScaled(m.fen, 2); };
    Money total;
    for (const StatementLine& p : payments) {
        total += p.amount;
        const std::string at =
            date::format("%F %T", std::chrono::floor<Seconds>(p.at + std::chrono::hours{8}));
        for (const std::string& value : {at,
                                         std::string("sandbox"),
                                         std::string("sandbox"),
                                         std::string("0"),
                                         std::string(),
                                         p.transaction_id,
                                         p.order_no,
                                         std::string("sandbox"),
                                         std::string("NATIVE"),
                                         std::string("SUCCESS"),
                                         std::string("OTHERS"),
                                         std::string("CNY"),
                                         yuan(p.amount),
                                         std::string("0.00"),
                                         std::string(),
                                         std::string(),
                                         std::string("0.00"),
                                         std::string("0.00"),
                                         std::string(),
                                         std::string(),
                                         std::string(),
                                         std::string(),
                                         std::string("0.00"),
                                         std::string("0.00%"),
                                         yuan(p.amount),
                                         std::string("0.00")}) {
            out += "`" + value + ",";
        }
        out += "`\r\n";
    }
    out +=
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
        "申请退款总金额\r\n";
    out += "`" + std::to_string(payments.size()) + ",`" + yuan(total) + ",`0.00,`0.00,`0.00,`" +
           yuan(total) + ",`0.00\r\n";
    return out;
}

Result<std::vector<StatementLine>> ParseStatement(std::string_view provider,
                                                  std::string_view bytes) {
    if (provider == "wechat" || provider == "sandbox") {
        return ParseWechatTradeBill(bytes);
    }
    if (provider == "alipay") {
        return ParseAlipayStatement(bytes);
    }
    return InvalidArgument("provider", "must be wechat, alipay or sandbox");
}

}  // namespace joule::pay
