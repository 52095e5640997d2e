// Drives the npm `akismet-api` client against a local server for tests/server/test_real_clients.py.
//
//   node akismet_api_driver.js '{"key": ..., "blog": ..., "port": ..., "calls": [[name, comment], ...]}'
//
// The client has no base-URL setting and puts the key in the host name of comment-check and
// submit-* (https://KEY.rest.akismet.com/1.1/comment-check), so rest.akismet.com and its
// subdomains resolve to 127.0.0.1 here (what a hosts entry or a DNS override does for a
// site), and the client is told the port and plain http. It prints one JSON object: for
// each call, {"ok": value} or {"error": message}.
'use strict'

const dns = require('dns')

const realLookup = dns.lookup
dns.lookup = function (host, options, callback) {
  if (typeof options === 'function') {
    callback = options
    options = {}
  }
  if (host === 'rest.akismet.com' || host.endsWith('.rest.akismet.com')) {
    if (options && options.all) {
      return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }])
    }
    return process.nextTick(callback, null, '127.0.0.1', 4)
  }
  return realLookup(host, options, callback)
}

const { AkismetClient } = require('akismet-api')

async function main () {
  const config = JSON.parse(process.argv[2])
  const client = new AkismetClient({
    key: config.key,
    blog: config.blog,
    host: `rest.akismet.com:${config.port}`,
    protocol: 'http'
  })
  const results = {}
  for (const [name, comment] of config.calls) {
    try {
      if (name === 'verifyKey') {
        results[name] = { ok: await client.verifyKey() }
      } else if (name === 'checkSpam' || name === 'checkHam') {
        results[name] = { ok: await client.checkSpam({ ...comment, date: new Date() }) }
      } else {
        const response = await client[name]({ ...comment, date: new Date() })
        results[name] = { ok: response.text }
      }
    } catch (error) {
      results[name] = { error: String(error && error.message ? error.message : error) }
    }
  }
  process.stdout.write(JSON.stringify(results) + '\n')
}

main().catch(error => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n')
  process.exit(1)
})
