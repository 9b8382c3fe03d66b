// What the browser tests share: free loopback ports, waiting for a condition, and the child
// processes (joule serve, joule sim, sinks) they start and always stop.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

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
