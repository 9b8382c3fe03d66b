// The tenant pages' texts: zh-CN first, English on the toggle, the choice kept in the browser.
// Separate from the console's dictionary so the phone bundle carries only its own strings.
// t('key') falls back to Chinese, then to the key itself, so a missing text shows rather than breaks.
import { ref } from 'vue'
import { Locale as VantLocale } from 'vant'
import vantEnUS from 'vant/es/locale/lang/en-US'
import vantZhCN from 'vant/es/locale/lang/zh-CN'

export type Locale = 'zh-CN' | 'en'
const storageKey = 'joule.tenant.locale'

const zh: Record<string, string> = {
  'app.title': '水电缴费',
  'lang.toggle': 'English',
  'common.empty': '暂无数据',
  'common.cancel': '取消',
  'error.network': '网络异常，请稍后重试',
  'error.server': '服务暂不可用（{status}）',

  'tab.home': '首页',
  'tab.topup': '充值',
  'tab.records': '记录',
  'tab.me': '我的',

  'login.hint': '使用手机号和短信验证码登录',
  'login.phone': '手机号',
  'login.phone_placeholder': '请输入手机号',
  'login.phone_invalid': '请输入 11 位手机号',
  'login.code': '验证码',
  'login.code_placeholder': '6 位短信验证码',
  'login.code_invalid': '请输入 6 位验证码',
  'login.send_code': '获取验证码',
  'login.resend_in': '{n} 秒后重发',
  'login.sent_to': '验证码已发送至 {phone}',
  'login.demo_code': '演示模式验证码:',
  'login.submit': '登录',
  'login.code_wrong': '验证码错误或已过期',
  'login.too_soon': '发送太频繁，请稍后再试',

  'bind.title': '绑定户号',
  'bind.hint': '绑定后可查看余额、充值和用量',
  'bind.project': '项目',
  'bind.project_pick': '请选择项目',
  'bind.project_required': '请选择项目',
  'bind.account': '户号',
  'bind.account_placeholder': '电表箱或缴费单上的户号',
  'bind.account_required': '请输入户号',
  'bind.code_sent': '验证码已发送至户主手机 {phone}',
  'bind.code_hint': '请向户主索取验证码',
  'bind.code': '验证码',
  'bind.submit': '绑定',
  'bind.not_found': '未找到该户号，请核对',
  'bind.already': '你已绑定该户号',
  'bind.code_wrong': '验证码错误或已过期',

  'home.balance': '可用余额',
  'home.days_left': '预计可用 {n} 天',
  'home.days_unknown': '暂无预测',
  'home.relay.closed': '供电中',
  'home.relay.open': '已断电',
  'home.meter_relay.closed': '表计已合闸',
  'home.meter_relay.open': '表计已拉闸',
  'home.charged_today': '今日费用',
  'home.daily_average': '日均费用',
  'home.switch': '切换户号',
  'quick.topup': '充值',
  'quick.usage': '用量',
  'quick.records': '记录',
  'quick.alarms': '告警',
  'quick.members': '成员',

  'state.normal': '正常',
  'state.alarm1': '余额不足（一级）',
  'state.alarm2': '余额不足（二级）',
  'state.alarm3': '余额不足（三级）',
  'state.trip_held': '欠费待断电',
  'state.tripped': '欠费断电',
  'state.keep_power': '保电',
  'state.forced_trip': '强制断电',

  'utility.electricity': '电',
  'utility.water': '水',
  'unit.electricity': 'kWh',
  'unit.water': 'm³',

  'topup.title': '充值',
  'topup.for': '充值户号',
  'topup.presets': '选择金额',
  'topup.custom': '其他金额',
  'topup.custom_placeholder': '0.01 – 50000 元',
  'topup.provider': '支付方式',
  'topup.pay': '立即支付 ¥{amount}',
  'topup.pay_empty': '立即支付',
  'topup.amount_required': '请输入充值金额',
  'topup.amount_format': '金额须为数字，最多两位小数',
  'topup.amount_min': '充值金额最低 0.01 元',
  'topup.amount_max': '单笔充值最多 50000 元',
  'topup.no_provider': '暂无可用的支付方式',
  'topup.provider_unavailable': '{provider}暂不可用：本版本尚未接入该支付渠道，请选择其他方式',
  'topup.confirming': '正在确认支付结果…',
  'topup.timeout': '暂未确认到账，请稍后在记录中查看',
  'topup.outcome_failed': '支付未入账（{outcome}），请联系物业',
  'topup.success': '支付成功',
  'topup.new_balance': '当前余额 ¥{balance}',
  'topup.receipt': '查看收据',
  'topup.again': '继续充值',
  'topup.home': '返回首页',
  'provider.wechat': '微信支付',
  'provider.alipay': '支付宝',
  'provider.sandbox': '沙箱支付',
  'cashier.title': '模拟支付',
  'cashier.hint': '演示用沙箱收银台，不会产生真实扣款',
  'cashier.order': '订单号',
  'cashier.confirm': '确认支付',

  'usage.title': '用量',
  'usage.day': '日',
  'usage.month': '月',
  'usage.today': '今日',
  'usage.this_month': '本月',
  'usage.charged': '费用',
  'usage.energy': '用量',
  'usage.chart': '每{unit}费用（元）',
  'usage.per_day': '日',
  'usage.per_month': '月',

  'records.title': '记录',
  'records.top_up': '充值',
  'records.usage': '用量',
  'records.all': '全部',
  'records.receipt': '收据',
  'code.top_up': '充值',
  'code.refund': '退款',
  'code.subsidy': '补贴',
  'code.consumption': '扣费',
  'code.deduction': '扣费',
  'code.fee': '费用',
  'code.adjustment': '调账',
  'code.account_transfer': '余额转移',
  'code.debt_recovery': '欠款抵扣',
  'code.grant_expiry': '补贴过期',
  'code.debt_recorded': '欠费记账',
  'code.purchase_sent': '购电下发',
  'code.purchase_confirmed': '购电确认',
  'code.purchase_returned': '购电退回',
  'channel.cash': '现金',
  'channel.wechat': '微信',
  'channel.alipay': '支付宝',
  'channel.card': '银行卡',
  'channel.transfer': '转账',
  'channel.sandbox': '沙箱',
  'channel.jsapi': '微信',
  'channel.wap': '支付宝',

  'alarms.title': '告警',
  'alarms.raised': '发生',
  'alarms.cleared': '解除',
  'alarms.open': '未解除',
  'alarm.low_balance': '余额不足',
  'alarm.low_balance_level': '余额不足（{level}级）',
  'alarm.low_balance_1': '余额不足（一级）',
  'alarm.low_balance_2': '余额不足（二级）',
  'alarm.low_balance_3': '余额不足（三级）',
  'alarm.arrears_trip': '欠费断电',
  'alarm.trip_held': '欠费待断电',
  'alarm.keep_power': '保电',
  'alarm.forced_trip': '强制断电',
  'alarm.payment_mismatch': '支付异常',
  'alarm.purchase_count_mismatch': '购电次数不符',
  'alarm.meter_offline': '表计离线',
  'alarm.gateway_offline': '网关离线',
  'alarm.relay_mismatch': '通断状态不符',
  'alarm.command_failed': '指令失败',
  'alarm.battery_low': '电池电量低',

  'members.title': '成员',
  'members.holder': '户主',
  'members.member': '成员',
  'members.me': '我',
  'members.since': '{at} 起',
  'members.remove': '移除',
  'members.remove_confirm': '移除成员 {phone}？移除后对方将无法查看此户号。',
  'members.removed': '已移除',
  'members.unbind': '解除绑定',
  'members.unbind_confirm': '解除与户号 {account} 的绑定？',
  'members.unbound': '已解除绑定',
  'members.add_account': '绑定其他户号',

  'me.title': '我的',
  'me.phone': '手机号',
  'me.accounts': '已绑定户号',
  'me.current': '当前',
  'me.language': '语言',
  'me.logout': '退出登录',
}

const en: Record<string, string> = {
  'app.title': 'Utility payments',
  'lang.toggle': '中文',
  'common.empty': 'Nothing yet',
  'common.cancel': 'Cancel',
  'error.network': 'Network error, please try again',
  'error.server': 'Service unavailable ({status})',

  'tab.home': 'Home',
  'tab.topup': 'Top up',
  'tab.records': 'Records',
  'tab.me': 'Me',

  'login.hint': 'Sign in with your phone and an SMS code',
  'login.phone': 'Phone',
  'login.phone_placeholder': 'Your phone number',
  'login.phone_invalid': 'Enter an 11-digit phone number',
  'login.code': 'Code',
  'login.code_placeholder': '6-digit SMS code',
  'login.code_invalid': 'Enter the 6-digit code',
  'login.send_code': 'Get code',
  'login.resend_in': 'Resend in {n}s',
  'login.sent_to': 'Code sent to {phone}',
  'login.demo_code': 'Demo mode code:',
  'login.submit': 'Sign in',
  'login.code_wrong': 'Wrong or expired code',
  'login.too_soon': 'Too many requests, try again later',

  'bind.title': 'Bind account',
  'bind.hint': 'Bind an account to see its balance, top up and usage',
  'bind.project': 'Project',
  'bind.project_pick': 'Choose a project',
  'bind.project_required': 'Choose a project',
  'bind.account': 'Account',
  'bind.account_placeholder': 'The number on the meter box or bill',
  'bind.account_required': 'Enter the account number',
  'bind.code_sent': "Code sent to the holder's phone {phone}",
  'bind.code_hint': 'Ask the account holder for the code',
  'bind.code': 'Code',
  'bind.submit': 'Bind',
  'bind.not_found': 'No such account, please check',
  'bind.already': 'You have bound this account already',
  'bind.code_wrong': 'Wrong or expired code',

  'home.balance': 'Available balance',
  'home.days_left': 'About {n} days left',
  'home.days_unknown': 'No forecast yet',
  'home.relay.closed': 'Power on',
  'home.relay.open': 'Power off',
  'home.meter_relay.closed': 'meter on',
  'home.meter_relay.open': 'meter off',
  'home.charged_today': 'Charged today',
  'home.daily_average': 'Daily average',
  'home.switch': 'Switch account',
  'quick.topup': 'Top up',
  'quick.usage': 'Usage',
  'quick.records': 'Records',
  'quick.alarms': 'Alarms',
  'quick.members': 'Members',

  'state.normal': 'Normal',
  'state.alarm1': 'Low balance (level 1)',
  'state.alarm2': 'Low balance (level 2)',
  'state.alarm3': 'Low balance (level 3)',
  'state.trip_held': 'Arrears, trip pending',
  'state.tripped': 'Cut off for arrears',
  'state.keep_power': 'Power kept on',
  'state.forced_trip': 'Forced off',

  'utility.electricity': 'Electricity',
  'utility.water': 'Water',
  'unit.electricity': 'kWh',
  'unit.water': 'm³',

  'topup.title': 'Top up',
  'topup.for': 'Account',
  'topup.presets': 'Amount',
  'topup.custom': 'Other amount',
  'topup.custom_placeholder': '0.01 – 50000 yuan',
  'topup.provider': 'Pay with',
  'topup.pay': 'Pay ¥{amount}',
  'topup.pay_empty': 'Pay',
  'topup.amount_required': 'Enter an amount',
  'topup.amount_format': 'A number with at most two decimals',
  'topup.amount_min': 'At least 0.01 yuan',
  'topup.amount_max': 'At most 50000 yuan per top-up',
  'topup.no_provider': 'No payment method is available',
  'topup.provider_unavailable': '{provider} is not available in this build yet; please choose another method',
  'topup.confirming': 'Confirming the payment…',
  'topup.timeout': 'Not confirmed yet; check Records later',
  'topup.outcome_failed': 'The payment was not credited ({outcome}); please contact the property office',
  'topup.success': 'Payment successful',
  'topup.new_balance': 'Balance now ¥{balance}',
  'topup.receipt': 'View receipt',
  'topup.again': 'Top up again',
  'topup.home': 'Back home',
  'provider.wechat': 'WeChat Pay',
  'provider.alipay': 'Alipay',
  'provider.sandbox': 'Sandbox',
  'cashier.title': 'Simulated payment',
  'cashier.hint': 'A demo sandbox cashier: no real money moves',
  'cashier.order': 'Order no.',
  'cashier.confirm': 'Pay now',

  'usage.title': 'Usage',
  'usage.day': 'Day',
  'usage.month': 'Month',
  'usage.today': 'Today',
  'usage.this_month': 'This month',
  'usage.charged': 'Charged',
  'usage.energy': 'Used',
  'usage.chart': 'Charged per {unit} (yuan)',
  'usage.per_day': 'day',
  'usage.per_month': 'month',

  'records.title': 'Records',
  'records.top_up': 'Top-ups',
  'records.usage': 'Usage',
  'records.all': 'All',
  'records.receipt': 'Receipt',
  'code.top_up': 'Top-up',
  'code.refund': 'Refund',
  'code.subsidy': 'Subsidy',
  'code.consumption': 'Usage charge',
  'code.deduction': 'Usage charge',
  'code.fee': 'Fee',
  'code.adjustment': 'Adjustment',
  'code.account_transfer': 'Balance transfer',
  'code.debt_recovery': 'Debt recovered',
  'code.grant_expiry': 'Subsidy expired',
  'code.debt_recorded': 'Debt recorded',
  'code.purchase_sent': 'Purchase sent',
  'code.purchase_confirmed': 'Purchase confirmed',
  'code.purchase_returned': 'Purchase returned',
  'channel.cash': 'Cash',
  'channel.wechat': 'WeChat',
  'channel.alipay': 'Alipay',
  'channel.card': 'Card',
  'channel.transfer': 'Bank transfer',
  'channel.sandbox': 'Sandbox',
  'channel.jsapi': 'WeChat',
  'channel.wap': 'Alipay',

  'alarms.title': 'Alarms',
  'alarms.raised': 'Raised',
  'alarms.cleared': 'Cleared',
  'alarms.open': 'Open',
  'alarm.low_balance': 'Low balance',
  'alarm.low_balance_level': 'Low balance (level {level})',
  'alarm.low_balance_1': 'Low balance (level 1)',
  'alarm.low_balance_2': 'Low balance (level 2)',
  'alarm.low_balance_3': 'Low balance (level 3)',
  'alarm.arrears_trip': 'Cut off for arrears',
  'alarm.trip_held': 'Arrears, trip pending',
  'alarm.keep_power': 'Power kept on',
  'alarm.forced_trip': 'Forced off',
  'alarm.payment_mismatch': 'Payment problem',
  'alarm.purchase_count_mismatch': 'Purchase count mismatch',
  'alarm.meter_offline': 'Meter offline',
  'alarm.gateway_offline': 'Gateway offline',
  'alarm.relay_mismatch': 'Relay mismatch',
  'alarm.command_failed': 'Command failed',
  'alarm.battery_low': 'Battery low',

  'members.title': 'Members',
  'members.holder': 'Holder',
  'members.member': 'Member',
  'members.me': 'Me',
  'members.since': 'since {at}',
  'members.remove': 'Remove',
  'members.remove_confirm': 'Remove member {phone}? They will no longer see this account.',
  'members.removed': 'Removed',
  'members.unbind': 'Unbind',
  'members.unbind_confirm': 'Unbind account {account}?',
  'members.unbound': 'Unbound',
  'members.add_account': 'Bind another account',

  'me.title': 'Me',
  'me.phone': 'Phone',
  'me.accounts': 'Bound accounts',
  'me.current': 'Current',
  'me.language': 'Language',
  'me.logout': 'Sign out',
}

const messages: Record<Locale, Record<string, string>> = { 'zh-CN': zh, en }

function initialLocale(): Locale {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(storageKey) : null
  return saved === 'en' ? 'en' : 'zh-CN'
}

export const locale = ref<Locale>(initialLocale())

// Vant's own texts (dialog buttons, pull-to-refresh hints) follow ours.
function applyLocale(l: Locale): void {
  if (l === 'en') VantLocale.use('en-US', vantEnUS)
  else VantLocale.use('zh-CN', vantZhCN)
  if (typeof document !== 'undefined') {
    document.documentElement.lang = l
    document.title = messages[l]['app.title']
  }
}
applyLocale(locale.value)

export function setLocale(l: Locale): void {
  locale.value = l
  localStorage.setItem(storageKey, l)
  applyLocale(l)
}

export function toggleLocale(): void {
  setLocale(locale.value === 'en' ? 'zh-CN' : 'en')
}

export function t(key: string, params: Record<string, string | number> = {}): string {
  let text = messages[locale.value][key] ?? zh[key] ?? key
  for (const [k, v] of Object.entries(params)) text = text.replace(`{${k}}`, String(v))
  return text
}

// A translated code, or the code itself when there is no text for it (a kind added later).
export function tOr(prefix: string, code: string): string {
  const key = prefix + code
  return key in zh ? t(key) : code
}

// The keys each language has, for the test that both have the same.
export function messageKeys(l: Locale): string[] {
  return Object.keys(messages[l]).sort()
}
