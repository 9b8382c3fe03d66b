// Paying a top-up online: make the order, then the provider's own step, then wait for the paid
// notification to have credited it (the paid order names its ledger transfer: the receipt). Only the sandbox has a step in this build; WeChat Pay and
// Alipay get theirs (open the provider's cashier with the prepay parameters) once the API
// returns those parameters.
import { get, post } from './api'
import type { Order } from './types'

export type ProviderStep = 'sandbox-cashier' | 'unavailable'
const providerSteps: Record<string, ProviderStep> = {
  sandbox: 'sandbox-cashier',
}
export const stepFor = (provider: string): ProviderStep => providerSteps[provider] ?? 'unavailable'

export function createOrder(binding: number, amount: string, provider: string): Promise<Order> {
  return post<Order>(`bindings/${binding}/payments`, { amount, provider })
}

// The sandbox's notification outcomes that mean the money is on the account.
export const creditedOutcomes = ['credited', 'already_credited']

export function sandboxPay(orderNo: string): Promise<{ outcome: string; order: Order }> {
  return post(`payments/${encodeURIComponent(orderNo)}/sandbox-pay`)
}

// How often and how long to ask whether an order is paid.
export const pollTiming = { intervalMs: 1000, timeoutMs: 30_000 }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// The order once paid; null when it was closed, the wait gave up or `stopped()` says so.
export async function waitUntilPaid(orderNo: string, stopped: () => boolean = () => false): Promise<Order | null> {
  const deadline = Date.now() + pollTiming.timeoutMs
  for (;;) {
    const order = await get<Order>(`payments/${encodeURIComponent(orderNo)}`)
    if (order.state === 'paid') return order
    if (order.state === 'closed' || stopped() || Date.now() + pollTiming.intervalMs > deadline) return null
    await sleep(pollTiming.intervalMs)
  }
}
