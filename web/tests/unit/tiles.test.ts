import { describe, expect, it } from 'vitest'
import { applyAccountEvent, applyMeterEvent, countByState, indexRooms, matches, tileState, type MonitorRoom } from '../../src/tiles'

function room(over: Partial<MonitorRoom> = {}): MonitorRoom {
  return {
    room: 'A101', name: 'Shop A101', building: 'A', floor: 'A-1F', account: 'SA101', tenant: '茶铺',
    state: 'normal', relay: 'closed', keep_power: false, available: '12.34',
    meters: [{ code: 'E-A101', online: true }], ...over,
  }
}

describe('tileState', () => {
  it('orders unopened, offline, keep power, then the balance states', () => {
    expect(tileState(room({ account: '' }))).toBe('unopened')
    expect(tileState(room({ meters: [{ code: 'E', online: false }], state: 'tripped' }))).toBe('offline')
    expect(tileState(room({ keep_power: true, state: 'tripped' }))).toBe('keep_power')
    expect(tileState(room({ state: 'alarm2' }))).toBe('alarm2')
    for (const s of ['trip_held', 'tripped', 'forced_trip']) expect(tileState(room({ state: s }))).toBe('tripped')
    expect(tileState(room())).toBe('normal')
    // One meter online is enough to trust the room.
    expect(tileState(room({ meters: [{ code: 'E', online: false }, { code: 'W', online: true }] }))).toBe('normal')
  })
})

describe('filters and counts', () => {
  const rooms = [room(), room({ room: 'B201', building: 'B', floor: 'B-2F', account: 'SB201', tenant: 'Café', state: 'alarm1' }), room({ room: 'B202', building: 'B', account: '', tenant: '' })]
  it('filters by building, floor, state and search', () => {
    const f = { building: '', floor: '', state: '', search: '' }
    expect(rooms.filter((r) => matches(r, { ...f, building: 'B' })).map((r) => r.room)).toEqual(['B201', 'B202'])
    expect(rooms.filter((r) => matches(r, { ...f, floor: 'B-2F' })).map((r) => r.room)).toEqual(['B201'])
    expect(rooms.filter((r) => matches(r, { ...f, state: 'unopened' })).map((r) => r.room)).toEqual(['B202'])
    expect(rooms.filter((r) => matches(r, { ...f, search: 'café' })).map((r) => r.room)).toEqual(['B201'])
    expect(rooms.filter((r) => matches(r, { ...f, search: 'sa101' })).map((r) => r.room)).toEqual(['A101'])
  })
  it('counts every room once', () => {
    const c = countByState(rooms)
    expect(c.normal).toBe(1)
    expect(c.alarm1).toBe(1)
    expect(c.unopened).toBe(1)
    expect(Object.values(c).reduce((a, b) => a + b, 0)).toBe(rooms.length)
  })
})

describe('live events', () => {
  it('update the room of the meter or account they name, and nothing else', () => {
    const rooms = [room(), room({ room: 'A102', account: 'SA102', meters: [{ code: 'E-A102', online: true }] })]
    const index = indexRooms(rooms)
    expect(applyMeterEvent(index, { meter: 'E-A102', online: false })).toBe(true)
    expect(tileState(rooms[1])).toBe('offline')
    expect(tileState(rooms[0])).toBe('normal')
    expect(applyMeterEvent(index, { meter: 'E-A102', online: false })).toBe(false) // no change
    expect(applyMeterEvent(index, { meter: 'NOPE', online: true })).toBe(false)
    expect(applyAccountEvent(index, { number: 'SA101', state: 'tripped', relay: 'open' })).toBe(true)
    expect(tileState(rooms[0])).toBe('tripped')
    expect(applyAccountEvent(index, { number: 'SA101', status: 'closed' })).toBe(true)
    expect(tileState(rooms[0])).toBe('unopened')
  })
})
