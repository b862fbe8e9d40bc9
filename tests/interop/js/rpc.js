// Line-delimited JSON-RPC over stdin/stdout, so Python tests can drive an independent peer.
// Request: {"id": n, "method": "name", "params": {...}}; reply: {"id": n, "result": ...} or
// {"id": n, "error": "message"}. Byte strings travel as base64 by convention of each method.
'use strict'
const readline = require('readline')

function serve(handlers) {
	const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
	// Keep replies in request order even when handlers are async.
	let chain = Promise.resolve()
	rl.on('line', line => {
		if(!line.trim()) {
			return
		}
		chain = chain.then(async() => {
			let req
			try {
				req = JSON.parse(line)
			} catch(err) {
				process.stdout.write(JSON.stringify({ id: null, error: `bad request: ${err.message}` }) + '\n')
				return
			}
			const handler = handlers[req.method]
			let reply
			if(!handler) {
				reply = { id: req.id, error: `unknown method ${req.method}` }
			} else {
				try {
					reply = { id: req.id, result: await handler(req.params || {}) }
				} catch(err) {
					reply = { id: req.id, error: String(err && err.stack || err) }
				}
			}
			process.stdout.write(JSON.stringify(reply === undefined ? null : reply) + '\n')
		})
	})
	rl.on('close', () => chain.then(() => process.exit(0)))
}

const b64 = buf => Buffer.from(buf).toString('base64')
const unb64 = s => Buffer.from(s, 'base64')

module.exports = { serve, b64, unb64 }
