// What the browser tests share: their setup, free loopback ports, waiting for a condition, the
// child processes (joule serve, joule sim, sinks) they start and always stop, money in fen, and a
// staff session.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => ok(port))
    })
  })
}

// Polls `check` every 200 ms until it answers truthy; throws naming `what` after `seconds`.
export async function waitFor(what, check, seconds = 30) {
  const until = Date.now() + seconds * 1000
  for (;;) {
    try {
      if (await check()) return
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`timed out after ${seconds} s waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

// Children started in `work`, their output kept in `<work>/<name>.log`, stopped when the test
// process exits whatever happens.
export class Children {
  constructor(work) {
    this.work = work
    this.all = []
    process.on('exit', () => this.stopAll())
  }

  start(name, command, args) {
    const child = spawn(command, args, { cwd: this.work, stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    child.stdout.on('data', (d) => (log += d))
    child.stderr.on('data', (d) => (log += d))
    child.on('exit', () => writeFileSync(join(this.work, name + '.log'), log))
    this.all.push(child)
    return child
  }

  stopAll() {
    for (const c of this.all.reverse()) if (c.exitCode === null) c.kill('SIGTERM')
  }
}

// Money as integer fen, never a float: "¥105.50" → 10550, "-3.20" → -320; and back to yuan text.
export const fen = (text) => {
  const clean = text.replace(/[¥,\s]/g, '')
  const negative = clean.startsWith('-')
  const [whole, part = ''] = clean.replace('-', '').split('.')
  const value = Number(whole) * 100 + Number(part.padEnd(2, '0'))
  return negative ? -value : value
}
export const yuan = (f) => `${Math.floor(f / 100)}.${String(f % 100).padStart(2, '0')}`

// What a browser test runs with (env JOULE_BINARY, WEB_ROOT, CHROMIUM, JOULE_E2E_OUT), its work
// folder and screenshots folder; exits naming what is missing (`page`: the built page it needs).
export function browserTestSetup(name, what, page) {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
  const joule = resolve(repo, process.env.JOULE_BINARY ?? 'build/release/src/app/joule')
  const webRoot = resolve(repo, process.env.WEB_ROOT ?? 'web/dist')
  const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium'
  const work = mkdtempSync(join(tmpdir(), `joule-${name}-`))
  const shots = process.env.JOULE_E2E_OUT ?? join(work, 'screenshots')
  mkdirSync(shots, { recursive: true })
  for (const [label, path] of [['joule', joule], [what, join(webRoot, page)], ['Chromium', chromiumPath]]) {
    if (!existsSync(path)) {
      console.error(`${name} e2e: ${label} not found at ${path}`)
      process.exit(1)
    }
  }
  return { repo, joule, webRoot, chromiumPath, work, shots }
}

// A staff session through the API: its cookie and CSRF token.
export async function staffLogin(base, username, password) {
  const r = await fetch(base + '/api/v1/auth/login', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
  })
  if (r.status !== 200) throw new Error(`staff login answered ${r.status}`)
  return { cookie: r.headers.get('set-cookie').split(';')[0], csrf: (await r.json()).csrf_token }
}
