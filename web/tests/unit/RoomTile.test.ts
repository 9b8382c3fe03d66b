// A tile shows its room's state and opens the account; a room without one is not a button to press.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick, reactive } from 'vue'
import RoomTile from '../../src/components/RoomTile.vue'
import StateLegend from '../../src/components/StateLegend.vue'
import type { MonitorRoom } from '../../src/tiles'

function room(over: Partial<MonitorRoom> = {}): MonitorRoom {
  return reactive({
    room: 'A101', name: 'Shop', building: 'A', floor: 'A-1F', account: 'SA101', tenant: '茶铺', state: 'alarm1',
    relay: 'closed', keep_power: false, available: '4.00', meters: [{ code: 'E', online: true }], ...over,
  })
}

describe('RoomTile', () => {
  it('shows the state, follows live changes and opens the account', async () => {
    const r = room()
    const w = mount(RoomTile, { props: { room: r } })
    expect(w.attributes('data-state')).toBe('alarm1')
    expect(w.text()).toContain('¥4.00')
    expect(w.text()).toContain('一级告警')
    r.state = 'tripped'
    await nextTick()
    expect(w.attributes('data-state')).toBe('tripped')
    await w.trigger('click')
    expect(w.emitted('open')?.[0]?.[0]).toStrictEqual(r)
  })
  it('is disabled without an account', () => {
    const w = mount(RoomTile, { props: { room: room({ account: '', tenant: '' }) } })
    expect(w.attributes('disabled')).toBeDefined()
    expect(w.attributes('data-state')).toBe('unopened')
  })
})

describe('StateLegend', () => {
  it('counts the rooms by state and toggles the filter', async () => {
    const w = mount(StateLegend, { props: { rooms: [room(), room({ room: 'A102' }), room({ room: 'A103', account: '' })], selected: '' } })
    expect(w.get('[data-test=legend-alarm1]').text()).toContain('2')
    expect(w.get('[data-test=legend-unopened]').text()).toContain('1')
    await w.get('[data-test=legend-alarm1]').trigger('click')
    expect(w.emitted('select')?.[0]).toEqual(['alarm1'])
    await w.setProps({ selected: 'alarm1' })
    await w.get('[data-test=legend-alarm1]').trigger('click')
    expect(w.emitted('select')?.[1]).toEqual([''])
  })
})
