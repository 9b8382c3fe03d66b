// Binding by scan [HIER-4]: what a meter's label code says, read by a camera (QR) or typed by a
// handheld scanner (which types the code and presses Enter), and which pending device it names.
// Labels differ by maker: a bare serial or address, a URL with the serial in its query, key/value
// pairs, or JSON. Every plausible value is a candidate; a device matches by serial or bus address.

const KEYS = ['sn', 'serial', 'serial_no', 'serialno', 'no', 'id', 'addr', 'address', 'meter', 'meter_no', 'meterno', 'code', '表号', '表地址', '地址', '编号', '序列号']

function clean(value: string): string {
  return value.trim().replace(/^["']|["']$/g, '').trim()
}

// The values a scanned text may name a device by, most specific first, without duplicates.
export function codeCandidates(text: string): string[] {
  const raw = text.replace(/\r/g, '').trim()
  if (!raw) return []
  const out: string[] = []
  const add = (v: string | null | undefined) => {
    const c = v == null ? '' : clean(String(v))
    if (c && c.length <= 64 && !out.includes(c)) out.push(c)
  }
  // JSON: {"sn": "...", "addr": "..."}
  if (raw.startsWith('{')) {
    try {
      const j = JSON.parse(raw) as Record<string, unknown>
      for (const [k, v] of Object.entries(j)) {
        if (KEYS.includes(k.toLowerCase()) && (typeof v === 'string' || typeof v === 'number')) add(String(v))
      }
      return out
    } catch {
      /* not JSON after all: read as text */
    }
  }
  // A URL: its query values under known keys, else its last path segment.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    try {
      const url = new URL(raw)
      for (const [k, v] of url.searchParams) if (KEYS.includes(k.toLowerCase())) add(v)
      if (out.length === 0) add(decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? ''))
      return out
    } catch {
      /* fall through */
    }
  }
  // Key/value pairs: "SN:A77-1234;ADDR:000000001234", "表号=123\n型号=DDSY", "sn=1&addr=2".
  const pairs = raw.split(/[;,&\n|，；]+/).map((p) => p.split(/[:=：]/))
  const keyed = pairs.filter((p) => p.length >= 2 && KEYS.includes(p[0].trim().toLowerCase()))
  if (keyed.length > 0) {
    for (const p of keyed) add(p.slice(1).join(':'))
    return out
  }
  // A bare code (a 1D barcode read by a handheld scanner is usually this).
  if (!/\s/.test(raw) && raw.length <= 64) add(raw)
  return out
}

// Addresses printed on labels often drop or keep leading zeros: all-digit codes compare as
// numbers written without them; anything else compares exactly, ignoring case.
function sameCode(a: string, b: string): boolean {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.replace(/^0+/, '') === b.replace(/^0+/, '')
  return a.toLowerCase() === b.toLowerCase()
}

export interface PendingDevice {
  id: number
  serial?: string
  bus_address?: string
  [key: string]: unknown
}

// The pending devices a scan names (by serial or bus address).
export function matchPending<T extends PendingDevice>(devices: T[], candidates: string[]): T[] {
  return devices.filter((d) =>
    candidates.some((c) => (d.serial && sameCode(d.serial, c)) || (d.bus_address && sameCode(d.bus_address, c))),
  )
}
