import { describe, expect, it } from 'vitest'
import { codeCandidates, matchPending } from '../../src/scan'

describe('codeCandidates', () => {
  it('reads a bare code as it is', () => {
    expect(codeCandidates('000012345678\r\n')).toEqual(['000012345678'])
    expect(codeCandidates('  A77-1234 ')).toEqual(['A77-1234'])
    expect(codeCandidates('')).toEqual([])
  })
  it('reads the known keys of key/value labels, in Chinese too', () => {
    expect(codeCandidates('SN:A77-1234;ADDR:000000001234;MODEL:DDSY')).toEqual(['A77-1234', '000000001234'])
    expect(codeCandidates('表号=201900001234\n型号=DDSY1352')).toEqual(['201900001234'])
    expect(codeCandidates('表地址：000000005678，厂家：正泰')).toEqual(['000000005678'])
  })
  it('reads the query of a URL, else its last segment', () => {
    expect(codeCandidates('https://maker.example/q?sn=A77-9&x=1')).toEqual(['A77-9'])
    expect(codeCandidates('https://maker.example/m/000012345678')).toEqual(['000012345678'])
  })
  it('reads JSON labels', () => {
    expect(codeCandidates('{"serial": "S-1", "addr": 1234, "other": "x"}')).toEqual(['S-1', '1234'])
  })
})

describe('matchPending', () => {
  const devices = [
    { id: 1, serial: 'A77-1234', bus_address: '000000001234' },
    { id: 2, serial: '000012345678', bus_address: '000012345678' },
    { id: 3, serial: 'b-9', bus_address: '9' },
  ]
  it('matches by serial or bus address', () => {
    expect(matchPending(devices, ['A77-1234']).map((d) => d.id)).toEqual([1])
    expect(matchPending(devices, ['000000001234']).map((d) => d.id)).toEqual([1])
    expect(matchPending(devices, ['B-9']).map((d) => d.id)).toEqual([3])
  })
  it('compares all-digit codes without their leading zeros', () => {
    expect(matchPending(devices, ['12345678']).map((d) => d.id)).toEqual([2])
    expect(matchPending(devices, ['1234']).map((d) => d.id)).toEqual([1])
  })
  it('matches nothing for an unknown code', () => {
    expect(matchPending(devices, ['77'])).toEqual([])
    expect(matchPending(devices, [])).toEqual([])
  })
})
