// Writes a .gz beside every text asset of the build over 1 KiB, so `joule serve` sends the
// compressed bytes to browsers that accept gzip without compressing per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync, constants } from 'node:zlib'

const root = process.argv[2] ?? 'dist'
let files = 0
let before = 0
let after = 0
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) {
      walk(path)
    } else if (/\.(js|css|html|svg|json)$/.test(name) && statSync(path).size > 1024) {
      const raw = readFileSync(path)
      const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION })
      writeFileSync(path + '.gz', gz)
      files += 1
      before += raw.length
      after += gz.length
    }
  }
}
walk(root)
console.log(`compress: ${files} files, ${(before / 1024).toFixed(0)} KiB -> ${(after / 1024).toFixed(0)} KiB gzip`)
