// The room grid's model: one tile per room, coloured by what staff must act on first.
export interface MonitorMeter {
  code: string
  online: boolean
}

export interface MonitorRoom {
  room: string
  name: string
  building: string
  floor: string
  account: string // "" when no account is open in the room
  tenant: string
  state: string // the account's prepaid state ("normal", "alarm1", ... "tripped"), "" without one
  relay: string
  keep_power: boolean
  available: string // yuan, "12.34"
  meters: MonitorMeter[]
}

export type TileState =
  | 'normal'
  | 'alarm1'
  | 'alarm2'
  | 'alarm3'
  | 'tripped'
  | 'keep_power'
  | 'unopened'
  | 'offline'

export const tileStates: TileState[] = [
  'normal',
  'alarm1',
  'alarm2',
  'alarm3',
  'tripped',
  'keep_power',
  'unopened',
  'offline',
]

export const tileColors: Record<TileState, string> = {
  normal: '#2f9e44',
  alarm1: '#f5b400',
  alarm2: '#f08c00',
  alarm3: '#e8590c',
  tripped: '#e03131',
  keep_power: '#7048e8',
  unopened: '#adb5bd',
  offline: '#495057',
}

// Unopened rooms have nothing to act on; a room whose meters are all offline cannot be trusted
// (nor controlled) whatever its last state; keep-power overrides the balance states.
export function tileState(room: MonitorRoom): TileState {
  if (!room.account) return 'unopened'
  if (room.meters.length > 0 && room.meters.every((m) => !m.online)) return 'offline'
  if (room.keep_power || room.state === 'keep_power') return 'keep_power'
  switch (room.state) {
    case 'alarm1':
    case 'alarm2':
    case 'alarm3':
      return room.state
    case 'trip_held':
    case 'tripped':
    case 'forced_trip':
      return 'tripped'
    default:
      return 'normal'
  }
}

export interface TileFilter {
  building: string
  floor: string
  state: string
  search: string
}

export function matches(room: MonitorRoom, f: TileFilter): boolean {
  if (f.building && room.building !== f.building) return false
  if (f.floor && room.floor !== f.floor) return false
  if (f.state && tileState(room) !== f.state) return false
  const q = f.search.trim().toLowerCase()
  if (q) {
    const hay = `${room.room} ${room.name} ${room.account} ${room.tenant}`.toLowerCase()
    if (!hay.includes(q)) return false
  }
  return true
}

export function countByState(rooms: MonitorRoom[]): Record<TileState, number> {
  const out = Object.fromEntries(tileStates.map((s) => [s, 0])) as Record<TileState, number>
  for (const r of rooms) out[tileState(r)] += 1
  return out
}

// A live event applied to the rooms it concerns. Returns whether anything changed.
export function applyMeterEvent(index: Map<string, MonitorRoom>, e: { meter: string; online?: boolean }): boolean {
  const room = index.get('m:' + e.meter)
  if (!room || e.online === undefined) return false
  const meter = room.meters.find((m) => m.code === e.meter)
  if (!meter || meter.online === e.online) return false
  meter.online = e.online
  return true
}

export function applyAccountEvent(
  index: Map<string, MonitorRoom>,
  e: { number: string; state?: string; relay?: string; keep_power?: boolean; status?: string },
): boolean {
  const room = index.get('a:' + e.number)
  if (!room) return false
  if (e.status === 'closed') {
    room.account = ''
    room.tenant = ''
    room.state = ''
    return true
  }
  if (e.state !== undefined) room.state = e.state
  if (e.relay !== undefined) room.relay = e.relay
  if (e.keep_power !== undefined) room.keep_power = e.keep_power
  return true
}

// Lookup of rooms by meter ("m:CODE") and by account ("a:NUMBER") for live events.
export function indexRooms(rooms: MonitorRoom[]): Map<string, MonitorRoom> {
  const index = new Map<string, MonitorRoom>()
  for (const r of rooms) {
    if (r.account) index.set('a:' + r.account, r)
    for (const m of r.meters) index.set('m:' + m.code, r)
  }
  return index
}
