// The tenant API's shapes (docs/tenant.md). Money and energy are decimal strings, instants UTC
// ISO 8601.
export type Relay = 'closed' | 'open'

export interface Binding {
  binding: number
  role: 'holder' | 'member'
  project: string
  project_name: string
  account: string
  tenant_name: string
  state: string
  relay: Relay
  available: string
  days_left: number | null
}

export interface MeterToday {
  code: string
  utility: string
  // What the meter last reported (the account's `relay` is what was commanded).
  online?: boolean
  relay?: 'closed' | 'open' | 'unknown'
  today: { energy: string; charged: string }
}

export interface AccountDetail extends Binding {
  balance: { available: string; paid: string; granted: string; debt: string }
  usage: { charged_today: string; daily_average: string; days_left: number | null }
  meters: MeterToday[]
  alarm_levels: { alarm1: string; alarm2: string; alarm3: string }
}

export interface Me {
  phone: string
  csrf_token: string
  accounts: Binding[]
  providers: string[] // only those orders can really be made for: "wechat", "alipay", "sandbox"
  top_up_presets: string[]
  wechat_oauth?: boolean // the server can learn a payer's WeChat openid (OAuth)
  wechat_openid?: boolean // this session has one already
}

export interface Project {
  code: string
  name: string
}

export interface CodeSent {
  sent_to?: string
  code_sent_to?: string
  expires_in: number
  resend_after: number
  demo_code?: string
}

export interface Member {
  binding: number
  phone: string
  role: 'holder' | 'member'
  since: string
  me: boolean
}

export interface UsageItem {
  period: string
  utility: string
  energy: string
  charged: string
}

export interface RecordItem {
  id: string // the ledger transfer: "pay:sandbox:SBX1a2b", "topup-7"
  at: string
  code: string
  amount: string
  channel: string
  receipt: boolean
}

// Only the tenant's own kinds come: low_balance_1..3, arrears_trip, trip_held, keep_power,
// forced_trip, top_up, days_left (a kind added later is shown as its code).
export interface AlarmItem {
  id: number
  kind: string
  open?: boolean
  raised_at: string
  cleared_at: string | null // "" or null while open
}

export interface Order {
  order_no: string
  account: string
  provider: string
  channel: string
  amount: string
  state: 'created' | 'paid' | 'closed'
  created_at: string
  paid_at: string | null
  sandbox_pay?: string
  // The ledger transfer that credited it ("pay:<provider>:<transaction_id>"); "" until paid.
  transfer?: string
  // A new WeChat Pay / Alipay order: how the payer goes on to pay it.
  pay?: PayStep
}

// What WeixinJSBridge's getBrandWCPayRequest takes, as the server signed it.
export interface JsapiParams {
  appId: string
  timeStamp: string
  nonceStr: string
  package: string
  signType: string
  paySign: string
}

export type PayStep =
  | { kind: 'jsapi'; jsapi: JsapiParams } // inside WeChat: its JS bridge opens the cashier
  | { kind: 'redirect'; url: string } // the provider's page; it sends the payer back to return_path
  | { kind: 'qr'; url: string } // a code to scan (the desk, not the phone)

export interface Items<T> {
  items: T[]
}
