// Reconciliation [PAY-3]: reading a provider's statement and matching it, for a big merchant's
// day (docs/performance.md "Reconciliation"). The statement is a WeChat trade bill of N payments;
// the orders are the same N, paid and credited, so everything matches (the common case, and the
// one that visits every line and every order).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/reconciliation.hpp"
#include "pay/statement.hpp"

namespace {

using namespace joule;

std::string Bill(int64_t n) {
    std::string bill =
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
        "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
        "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
        "费率备注\n";
    for (int64_t i = 0; i < n; ++i) {
        const std::string id = std::to_string(4200000000LL + i);
        bill.append("`2026-11-22 10:00:00,`wx8888888888888888,`1900000109,`0,`,`")
            .append(id)
            .append(",`J")
            .append(id)
            .append(
                ",`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`CMC,`CNY,`100.00,`0.00,`,`,`0.00,"
                "`0.00,`,`,`电费充值,`,`0.60,`0.60%,`100.00,`0.00,`\n");
    }
    bill +=
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
        "申请退款总金额\n`" +
        std::to_string(n) + ",`" + std::to_string(n * 100) + ".00,`0.00,`0.00,`0.00,`" +
        std::to_string(n * 100) + ".00,`0.00\n";
    return bill;
}

void BM_ReadTradeBill(benchmark::State& state) {
    const std::string bill = Bill(state.range(0));
    for (auto _ : state) {
        auto lines = pay::ParseWechatTradeBill(bill);
        benchmark::DoNotOptimize(lines);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bill.size()));
}
BENCHMARK(BM_ReadTradeBill)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_MatchDay(benchmark::State& state) {
    const auto lines = pay::ParseWechatTradeBill(Bill(state.range(0))).value();
    std::vector<ReconciledOrder> orders;
    orders.reserve(lines.size());
    for (const StatementLine& l : lines) {
        ReconciledOrder o;
        o.order_no = l.order_no;
        o.project = ProjectId{1};
        o.account = AccountId{1};
        o.state = "paid";
        o.transaction_id = l.transaction_id;
        o.amount = l.amount;
        o.credited = l.amount;
        o.of_the_day = true;
        orders.push_back(std::move(o));
    }
    for (auto _ : state) {
        auto result = Reconcile(ProjectId{1}, lines, orders);
        benchmark::DoNotOptimize(result);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MatchDay)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
