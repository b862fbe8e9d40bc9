// Baileys' own binary XML codec (dictionary version 2), for interop tests and the codec bench.
// Nodes cross as JSON (see node_json.js).
'use strict'
const { serve, b64, unb64 } = require('./rpc')
const { nodeFromJson: fromJson, nodeToJson: toJson } = require('./node_json')
const { encodeBinaryNode, decodeBinaryNode } = require('@whiskeysockets/baileys/lib/WABinary')

serve({
	encode: ({ nodes }) => nodes.map(n => b64(encodeBinaryNode(fromJson(n)))),
	decode: async({ payloads }) => {
		const out = []
		for(const p of payloads) {
			out.push(toJson(await decodeBinaryNode(unb64(p))))
		}
		return out
	},
	// Decodes every payload and reports which ones Baileys refused, for differential fuzzing.
	tryDecode: async({ payloads }) => {
		const out = []
		for(const p of payloads) {
			try {
				out.push(toJson(await decodeBinaryNode(unb64(p))))
			} catch(err) {
				out.push(null)
			}
		}
		return out
	},
})
