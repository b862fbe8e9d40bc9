// Times Baileys' binary codec on a corpus handed over by bench/bench_codec.py; timing is done
// here, inside Node, so the JSON-RPC transport is not counted.
'use strict'
const { serve, unb64 } = require('./rpc')
const { nodeFromJson: fromJson } = require('./node_json')
const { encodeBinaryNode, decodeBinaryNode, decodeDecompressedBinaryNode } = require('@whiskeysockets/baileys/lib/WABinary')
const constants = require('@whiskeysockets/baileys/lib/WABinary/constants')

function timeLoop(seconds, fn) {
	let ops = 0
	const start = process.hrtime.bigint()
	const limit = BigInt(Math.round(seconds * 1e9))
	let elapsed = 0n
	while(elapsed < limit) {
		ops += fn()
		elapsed = process.hrtime.bigint() - start
	}
	return { ops, seconds: Number(elapsed) / 1e9 }
}

serve({
	run: async({ payloads, nodes, seconds }) => {
		const bufs = payloads.map(unb64)
		const objs = nodes.map(fromJson)
		// Warm up the JIT before measuring.
		for(let i = 0; i < 2000; i++) {
			encodeBinaryNode(objs[i % objs.length])
			decodeDecompressedBinaryNode(bufs[i % bufs.length].subarray(1), constants)
		}
		// decodeBinaryNode is what Baileys calls per frame (async: it checks the flags byte).
		const t0 = process.hrtime.bigint()
		let decOps = 0
		while(Number(process.hrtime.bigint() - t0) / 1e9 < seconds) {
			for(const b of bufs) {
				await decodeBinaryNode(b)
			}
			decOps += bufs.length
		}
		const decode = { ops: decOps, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }
		const decodeSync = timeLoop(seconds, () => {
			for(const b of bufs) {
				decodeDecompressedBinaryNode(b.subarray(1), constants)
			}
			return bufs.length
		})
		const encode = timeLoop(seconds, () => {
			for(const n of objs) {
				encodeBinaryNode(n)
			}
			return objs.length
		})
		return { decode, decodeSync, encode }
	},
})
