// Fuzzes the providers' statement readers (src/pay/statement) with the whole input as an uploaded
// statement file, read as WeChat Pay's trade bill and as Alipay's business detail (or the bill
// zip that holds it: the zip reader is fuzzed here too, seeded with a zip). What they
// accept they promise: every line has its transaction and order, a payment's amount is not
// negative, a line's row is inside the file, and no more lines than the limit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_input.hpp"
#include "pay/statement.hpp"

namespace {

namespace pay = joule::pay;

void Check(const joule::Result<std::vector<joule::StatementLine>>& lines) {
    if (!lines) {
        return;
    }
    JOULE_ASSERT(lines->size() <= pay::kMaxStatementLines, "more lines than the limit");
    for (const joule::StatementLine& l : *lines) {
        JOULE_ASSERT(!l.transaction_id.empty() && !l.order_no.empty(), "a line without its ids");
        JOULE_ASSERT(l.row >= 1, "a line outside the file");
        JOULE_ASSERT(l.kind != joule::StatementLineKind::kRefund || l.amount.fen >= 0,
                     "a negative refund");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    Check(pay::ParseWechatTradeBill(text));
    Check(pay::ParseAlipayStatement(text));
    if (auto utf8 = pay::TextAsUtf8(text, "file")) {
        JOULE_ASSERT(pay::TextAsUtf8(*utf8, "file").value_or("") == *utf8,
                     "UTF-8 text changed by reading it as UTF-8");
    }
    return 0;
}
