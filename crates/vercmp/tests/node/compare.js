// Reference side of tests/semver_reference.rs and tests/go_reference.rs: reads pairs of hex-encoded versions,
// one pair per line, and prints how node's semver.compare orders each pair (<, = or >), or E if it throws.
'use strict'

const semver = require('semver')

const decode = (hex) => Buffer.from(hex, 'hex').toString('utf8')
const chunks = []
process.stdin.on('data', (chunk) => chunks.push(chunk))
process.stdin.on('end', () => {
  const out = []
  for (const line of Buffer.concat(chunks).toString('latin1').split('\n')) {
    if (line === '') {
      continue
    }
    const [a, b] = line.split(' ').map(decode)
    try {
      const r = semver.compare(a, b)
      out.push(r < 0 ? '<' : r === 0 ? '=' : '>')
    } catch (e) {
      out.push('E')
    }
  }
  process.stdout.write(out.join('\n') + '\n')
})
