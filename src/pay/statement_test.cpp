#include "pay/statement.hpp"

#include <gtest/gtest.h>
#include <iconv.h>

#include <random>
#include <string>
#include <vector>

#include "codec/test_zip.hpp"

namespace joule::pay {
namespace {

// A trade bill laid out as WeChat Pay documents it: the detail header, rows with every value
// behind a backtick, the totals' header and the totals.
constexpr std::string_view kHeader =
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注\n";

std::string Row(std::string_view time, std::string_view txn, std::string_view order,
                std::string_view status, std::string_view settled, std::string_view refund_id,
                std::string_view refund, std::string_view total) {
    std::string r;
    for (std::string_view v : {time,
                               std::string_view("wx8888888888888888"),
                               std::string_view("1900000109"),
                               std::string_view("0"),
                               std::string_view(""),
                               txn,
                               order,
                               std::string_view("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
                               std::string_view("JSAPI"),
                               status,
                               std::string_view("CMC"),
                               std::string_view("CNY"),
                               settled,
                               std::string_view("0.00"),
                               refund_id,
                               std::string_view(refund_id.empty() ? "" : "RF1"),
                               refund,
                               std::string_view("0.00"),
                               std::string_view(refund_id.empty() ? "" : "ORIGINAL"),
                               std::string_view(refund_id.empty() ? "" : "SUCCESS"),
                               std::string_view("电费充值"),
                               std::string_view(""),
                               std::string_view("0.60"),
                               std::string_view("0.60%"),
                               total,
                               refund,
                               std::string_view("")}) {
        r += r.empty() ? "`" : ",`";
        r += v;
    }
    return r + "\n";
}

std::string Bill(std::string_view count, std::string_view settled_total) {
    std::string bill(kHeader);
    bill += Row("2026-11-22 10:00:00", "4200000001", "J20261122100000aa", "SUCCESS", "100.00", "",
                "0.00", "100.00");
    bill += Row("2026-11-22 11:30:15", "4200000002", "J20261122113000bb", "REVOKED", "25.50", "",
                "0.00", "25.50");
    bill += Row("2026-11-22 23:59:59", "4200000001", "J20261122100000aa", "REFUND", "-30.00",
                "50000001", "30.00", "100.00");
    bill +=
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
        "申请退款总金额\n";
    bill += "`" + std::string(count) + ",`" + std::string(settled_total) +
            ",`30.00,`0.00,`1.20,`225.50,`30.00\n";
    return bill;
}

TEST(Statement, AWechatTradeBillLineByLine) {
    auto lines = ParseWechatTradeBill(Bill("3", "95.50"));
    ASSERT_TRUE(lines.has_value()) << lines.error().ToString();
    ASSERT_EQ(lines->size(), 3U);
    const StatementLine& paid = (*lines)[0];
    EXPECT_EQ(paid.kind, StatementLineKind::kPayment);
    EXPECT_TRUE(paid.paid);
    EXPECT_EQ(paid.transaction_id, "4200000001");
    EXPECT_EQ(paid.order_no, "J20261122100000aa");
    EXPECT_EQ(paid.amount, Money{10000});
    EXPECT_EQ(paid.row, 2);
    EXPECT_EQ(paid.at, ParseInstant("2026-11-22T02:00:00Z", "t").value());  // Beijing time
    EXPECT_FALSE((*lines)[1].paid);                                         // revoked
    EXPECT_EQ((*lines)[1].amount, Money{2550});
    const StatementLine& refund = (*lines)[2];
    EXPECT_EQ(refund.kind, StatementLineKind::kRefund);
    EXPECT_EQ(refund.refund_id, "50000001");
    EXPECT_EQ(refund.refund_no, "RF1");  // ours: 商户退款单号
    EXPECT_EQ(refund.amount, Money{3000});
    // The sandbox's statements are trade bills too.
    EXPECT_EQ(ParseStatement("sandbox", Bill("3", "95.50")).value().size(), 3U);
}

TEST(Statement, ACutOffOrEditedBillIsRefusedWhole) {
    for (const auto& [bill, why] : std::vector<std::pair<std::string, std::string>>{
             {Bill("4", "95.50"), "count"},
             {Bill("3", "96.50"), "sum"},
             {Bill("3", "95.50").substr(0, Bill("3", "95.50").find("总交易单数")), "no totals"},
             {std::string("a,b\n1,2\n"), "not a bill"}}) {
        auto lines = ParseWechatTradeBill(bill);
        ASSERT_FALSE(lines.has_value()) << why;
        EXPECT_EQ(lines.error().code, ErrorCode::kInvalidArgument) << why;
        EXPECT_EQ(lines.error().field, "file") << why;
    }
    std::string bad_amount = Bill("3", "95.50");
    bad_amount.replace(bad_amount.find("`100.00,`0.00,`"), 7, "`1OO.00");
    auto refused = ParseWechatTradeBill(bad_amount);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().field, "row 2: 应结订单金额");
    std::string bad_status = Bill("3", "95.50");
    bad_status.replace(bad_status.find("`REVOKED"), 8, "`PENDING");
    EXPECT_EQ(ParseWechatTradeBill(bad_status).error().field, "row 3: 交易状态");
    // Only 应结订单金额 carries a sign; a negative refund or order amount is an edited file.
    const std::string totals =
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
        "申请退款总金额\n`1,`-30.00,`30.00,`0.00,`0.00,`0.00,`30.00\n";
    const std::string negative_refund =
        std::string(kHeader) +
        Row("2026-11-22 23:59:59", "4200000001", "J20261122100000aa", "REFUND", "-30.00",
            "50000001", "-30.00", "100.00") +
        totals;
    EXPECT_EQ(ParseWechatTradeBill(negative_refund).error().field, "row 2: 退款金额");
    const std::string negative_order = std::string(kHeader) +
                                       Row("2026-11-22 10:00:00", "4200000001", "J20261122100000aa",
                                           "SUCCESS", "-100.00", "", "0.00", "-100.00") +
                                       totals;
    EXPECT_EQ(ParseWechatTradeBill(negative_order).error().field, "row 2: 订单金额");
}

std::string Gbk(std::string_view utf8) {
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    std::string in(utf8);
    std::string out(in.size() * 2, '\0');
    char* ip = in.data();
    char* op = out.data();
    std::size_t il = in.size();
    std::size_t ol = out.size();
    EXPECT_NE(iconv(cd, &ip, &il, &op, &ol), static_cast<std::size_t>(-1));
    iconv_close(cd);
    out.resize(out.size() - ol);
    return out;
}

// Alipay's business detail as its daily bill zip holds it: GBK, '#' notes, tab-padded values.
constexpr std::string_view kAlipay =
    "#支付宝业务明细查询\n"
    "#账号：[20880000000000000156]\n"
    "#起始日期：[2026年11月22日 00:00:00]   终止日期：[2026年11月23日 00:00:00]\n"
    "#-----------------------------------------业务明细列表----------------------------------------"
    "\n"
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
    "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注\n"
    "2026112222001400001\t,J20261122090000cc\t,交易,电费充值,2026-11-22 09:00:00,"
    "2026-11-22 09:00:05,,,,,buyer@example.com,50.00,50.00,0.00,0.00,0.00,0.00,0.00,,0.00,"
    "0.00,,-0.30,0.00,\n"
    "2026112222001400001\t,J20261122090000cc\t,退款,电费充值,2026-11-22 12:00:00,"
    "2026-11-22 12:00:03,,,,,buyer@example.com,-20.00,-20.00,0.00,0.00,0.00,0.00,0.00,,0.00,"
    "0.00,RF20261122001,0.12,0.00,\n"
    "#-----------------------------------------业务明细列表结束------------------------------------"
    "\n"
    "#交易合计：1笔，商家实收：50.00元，商家实收（退款）：-20.00元\n"
    "#导出时间：[2026年11月23日 09:15:00]\n";

TEST(Statement, AnAlipayDetailInGbk) {
    for (const std::string& file : {Gbk(kAlipay), std::string(kAlipay)}) {
        auto lines = ParseAlipayStatement(file);
        ASSERT_TRUE(lines.has_value()) << lines.error().ToString();
        ASSERT_EQ(lines->size(), 2U);
        EXPECT_EQ((*lines)[0].transaction_id, "2026112222001400001");
        EXPECT_EQ((*lines)[0].order_no, "J20261122090000cc");
        EXPECT_EQ((*lines)[0].amount, Money{5000});
        EXPECT_EQ((*lines)[0].kind, StatementLineKind::kPayment);
        EXPECT_EQ((*lines)[1].kind, StatementLineKind::kRefund);
        EXPECT_EQ((*lines)[1].amount, Money{2000});
        EXPECT_EQ((*lines)[1].refund_id, "RF20261122001");
        EXPECT_EQ((*lines)[1].refund_no, "RF20261122001");  // our out_request_no
        EXPECT_EQ((*lines)[1].row, 7);
    }
    auto binary = TextAsUtf8(std::string("\xff\xfe\x00\x01", 4), "file");
    ASSERT_FALSE(binary.has_value());
    EXPECT_EQ(binary.error().field, "file");
    EXPECT_EQ(ParseStatement("unionpay", "x").error().field, "provider");
}

// The sandbox's statement: whatever payments it is written from, it reads back as the same lines.
TEST(Statement, TheSandboxsTradeBillReadsBackAsWritten) {
    std::mt19937_64 rng(20261123);
    for (int round = 0; round < 50; ++round) {
        std::vector<StatementLine> payments(rng() % 20);
        const Instant day = ParseInstant("2026-11-22T00:00:00+08:00", "t").value();
        for (std::size_t i = 0; i < payments.size(); ++i) {
            payments[i].transaction_id = "SBX" + std::to_string(rng() % 1'000'000'000);
            payments[i].order_no = "J" + std::to_string(rng());
            payments[i].amount = Money{static_cast<int64_t>(1 + rng() % 5'000'000)};
            payments[i].at = day + Seconds{static_cast<int64_t>(rng() % 86'400)};
        }
        const std::string bill = WriteWechatTradeBill(payments);
        auto lines = ParseWechatTradeBill(bill);
        ASSERT_TRUE(lines.has_value()) << lines.error().ToString() << "\n" << bill;
        ASSERT_EQ(lines->size(), payments.size());
        for (std::size_t i = 0; i < payments.size(); ++i) {
            EXPECT_EQ((*lines)[i].transaction_id, payments[i].transaction_id);
            EXPECT_EQ((*lines)[i].order_no, payments[i].order_no);
            EXPECT_EQ((*lines)[i].amount, payments[i].amount);
            EXPECT_EQ((*lines)[i].at, payments[i].at);
            EXPECT_TRUE((*lines)[i].paid);
            EXPECT_EQ((*lines)[i].kind, StatementLineKind::kPayment);
        }
    }
}

TEST(Statement, AlipaysDailyBillZip) {
    // As the bill's address gives it: GBK names without the zip's UTF-8 flag, the detail and its
    // summary side by side.
    const std::string detail_name = Gbk("20880000000000000156_20261122_业务明细.csv");
    const std::string summary_name = Gbk("20880000000000000156_20261122_业务明细(汇总).csv");
    const std::string zip = codec::testing::MakeZip(
        {{summary_name, Gbk("#支付宝业务汇总查询\n门店编号,门店名称,交易订单总笔数\n")},
         {detail_name, Gbk(kAlipay)}},
        false);
    auto lines = ParseStatement("alipay", zip);
    ASSERT_TRUE(lines.has_value()) << lines.error().ToString();
    ASSERT_EQ(lines->size(), 2U);
    EXPECT_EQ((*lines)[1].refund_no, "RF20261122001");
    // UTF-8 names do as well.
    const std::string utf8 =
        codec::testing::MakeZip({{"2088_20261122_业务明细.csv", std::string(kAlipay)}});
    EXPECT_TRUE(ParseAlipayStatement(utf8).has_value());

    // A zip without a detail, with two, or damaged: refused naming the file.
    auto none = ParseAlipayStatement(codec::testing::MakeZip({{summary_name, "x"}}, false));
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().field, "file");
    EXPECT_NE(none.error().message.find("业务明细(汇总).csv"), std::string::npos)
        << none.error().message;
    auto two = ParseAlipayStatement(codec::testing::MakeZip(
        {{"a_业务明细.csv", std::string(kAlipay)}, {"b_业务明细.csv", std::string(kAlipay)}}));
    ASSERT_FALSE(two.has_value());
    EXPECT_EQ(two.error().field, "file");
    std::string damaged = zip;
    damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x5a);
    auto broken = ParseAlipayStatement(damaged);
    ASSERT_FALSE(broken.has_value());
    EXPECT_EQ(broken.error().field, "file");
    auto cut = ParseAlipayStatement(std::string_view(zip).substr(0, zip.size() - 30));
    ASSERT_FALSE(cut.has_value());
    EXPECT_EQ(cut.error().field, "file");
}

}  // namespace
}  // namespace joule::pay
