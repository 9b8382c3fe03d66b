// The server's English error messages told in the page's words: by status and field, and where one
// status and field cover several cases, by a word of the message; the message itself only when
// nothing is known of the answer.
import { afterEach, describe, expect, it } from 'vitest'
import { TenantApiError } from '../../src/tenant/api'
import { errorText } from '../../src/tenant/errorText'
import { setLocale } from '../../src/tenant/i18n'

const err = (status: number, field: string, message: string, code = 'x') => new TenantApiError(status, code, message, field)

afterEach(() => setLocale('zh-CN'))

describe('tenant errorText', () => {
  it('words the sign-in code requests', () => {
    expect(errorText(err(400, 'phone', 'must be a mobile phone number (11 digits)', 'invalid_argument'))).toBe('请输入 11 位手机号')
    expect(errorText(err(400, 'project', 'this server has several projects; name one', 'invalid_argument'))).toBe('请先选择所在项目')
    expect(errorText(err(429, 'phone', 'a code was sent a moment ago; ask again in 42 s', 'resource_exhausted'))).toBe('发送太频繁，请稍后再试')
    expect(errorText(err(429, 'phone', 'this phone has had 10 codes in a day; try again tomorrow'))).toBe('今日获取验证码次数已达上限，请明天再试')
    expect(errorText(err(412, 'phone', 'this server sends no SMS, so no code can reach you; ask the property office'))).toBe(
      '本服务器未开通短信，验证码无法送达，请联系物业',
    )
    expect(errorText(err(412, 'phone', 'this server has no project yet'))).toBe('本服务器尚未开通任何项目，请联系物业')
    expect(errorText(err(429, 'phone', 'the server has sent as many codes as it may this hour; try again later'))).toBe('发送太频繁，请稍后再试')
  })

  it('words each refused code, with the tries left', () => {
    expect(errorText(err(401, 'code', 'wrong code; 3 tries left', 'unauthenticated'))).toBe('验证码错误，还可尝试 3 次')
    expect(errorText(err(401, 'code', 'wrong code; 1 try left'))).toBe('验证码错误，还可尝试 1 次')
    expect(errorText(err(401, 'code', 'wrong code; ask for a new one'))).toBe('验证码错误，请重新获取')
    expect(errorText(err(401, 'code', 'too many wrong codes; ask for a new one'))).toBe('验证码错误次数过多，请重新获取')
    expect(errorText(err(401, 'code', 'the code has expired; ask for a new one'))).toBe('验证码已过期，请重新获取')
    expect(errorText(err(401, 'code', 'no code is waiting; ask for a new one'))).toBe('没有待使用的验证码，请重新获取')
    expect(errorText(err(401, 'code', 'something new'))).toBe('验证码错误或已过期')
    expect(errorText(err(429, 'code', 'too many wrong codes today; try again tomorrow'))).toBe('今日验证码错误次数过多，请明天再试')
  })

  it('words the refused bindings', () => {
    expect(errorText(err(404, 'account', "no account 'X' in 阳光公寓"))).toBe('未找到该户号，请核对')
    expect(errorText(err(404, 'project', "no project 'P9'"))).toBe('未找到该项目')
    expect(errorText(err(409, 'account', 'you are bound to this account already'))).toBe('你已绑定该户号')
    expect(errorText(err(412, 'account', 'the account is closed'))).toBe('该户号已销户，无法绑定')
    expect(errorText(err(412, 'account', 'the account has no mobile phone registered to send a code to; ask the property office to add it'))).toBe(
      '该户号未登记户主手机，无法发送验证码，请联系物业登记',
    )
    expect(errorText(err(412, 'account', 'this server sends no SMS, so no code can reach you; ask the property office'))).toBe(
      '本服务器未开通短信，验证码无法送达，请联系物业',
    )
    expect(errorText(err(429, 'account', 'at most 10 accounts per person; unbind one first'))).toBe('绑定的户号已达上限，请先解除一个')
    expect(errorText(err(429, 'account', 'the account has 20 people bound; the holder must remove one first'))).toBe('该户号绑定人数已满，请户主先移除一位成员')
    expect(errorText(err(429, 'account', 'a code was sent a moment ago; ask again in 30 s'))).toBe('发送太频繁，请稍后再试')
    expect(errorText(err(429, 'account', 'this phone has had 10 codes in a day; try again tomorrow'))).toBe('今日获取验证码次数已达上限，请明天再试')
    expect(errorText(err(429, 'account', 'you have asked for 10 binding codes today; try again tomorrow'))).toBe('今日获取验证码次数已达上限，请明天再试')
    expect(errorText(err(401, 'code', 'wrong code; 2 tries left'))).toBe('验证码错误，还可尝试 2 次')
    expect(errorText(err(403, 'binding', "only the account's holder may remove someone else"))).toBe('只有户主可以移除其他成员')
  })

  it('words the refused payment orders', () => {
    expect(errorText(err(409, 'openid', 'a JSAPI payment needs the payer\'s openid; authorize first', 'failed_precondition'))).toBe('在微信内支付需先完成微信授权，请重试')
    expect(errorText(err(503, 'provider', 'wechat: connection refused', 'unavailable'))).toBe('支付服务暂时不可用，请稍后再试')
    expect(errorText(err(502, 'provider', 'alipay said ACQ.SYSTEM_ERROR'))).toBe('支付服务暂时不可用，请稍后再试')
    expect(errorText(err(503, '', 'shutting down'))).toBe('服务暂不可用（503）')
    setLocale('en')
    expect(errorText(err(503, 'provider', 'wechat: timeout'))).toBe('The payment service is unavailable right now; please try again later')
    expect(errorText(err(409, 'openid', 'authorize first'))).toBe('WeChat must confirm who is paying first; please try again')
  })

  it('speaks English on the toggle', () => {
    setLocale('en')
    expect(errorText(err(401, 'code', 'wrong code; 4 tries left'))).toBe('Wrong code; 4 tries left')
    expect(errorText(err(429, 'phone', 'this phone has had 10 codes in a day; try again tomorrow'))).toBe('Too many codes today; please try again tomorrow')
    expect(errorText(err(412, 'account', 'the account is closed'))).toBe('This account is closed and cannot be bound')
    expect(errorText(err(400, 'project', 'name the project'))).toBe('Choose your project first')
  })

  it('says what the status says, and the server message only as a last resort', () => {
    expect(errorText(err(0, '', 'network', 'network'))).toBe('网络异常，请稍后重试')
    expect(errorText(err(502, '', 'bad gateway'))).toBe('服务暂不可用（502）')
    expect(errorText(err(404, 'binding', 'no binding 7'))).toBe('该户号已解除绑定')
    expect(errorText(err(400, 'amount', 'must be 0.01 to 50000.00'))).toBe('must be 0.01 to 50000.00')
    expect(errorText(new Error('boom'))).toBe('boom')
  })
})
