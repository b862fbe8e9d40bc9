// Baileys' own binary XML codec (dictionary version 2), for interop tests and the codec bench.
// Nodes cross as JSON: {tag, attrs: {k: string | {jid: string}}, content: null | {b64} | [node]}.
'use strict'
const { serve, b64, unb64 } = require('./rpc')
const { encodeBinaryNode, decodeBinaryNode } = require('@whiskeysockets/baileys/lib/WABinary')

function fromJson(node) {
	const attrs = {}
	for(const [key, value] of Object.entries(node.attrs)) {
		attrs[key] = typeof value === 'string' ? value : value.jid
	}
	let content
	if(node.content === null) {
		content = undefined
	} else if(Array.isArray(node.content)) {
		content = node.content.map(fromJson)
	} else {
		content = unb64(node.content.b64)
	}
	return { tag: node.tag, attrs, content }
}

function toJson(node) {
	let content = null
	if(Array.isArray(node.content)) {
		content = node.content.map(toJson)
	} else if(node.content !== undefined && node.content !== null) {
		content = { b64: b64(typeof node.content === 'string' ? Buffer.from(node.content) : node.content) }
	}
	return { tag: node.tag, attrs: node.attrs, content }
}

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
