// Binary nodes as JSON for crossing to and from Python:
// {tag, attrs: {k: string | {jid: string}}, content: null | {b64} | [node]}.
'use strict'
const { b64, unb64 } = require('./rpc')

function nodeFromJson(node) {
	const attrs = {}
	for(const [key, value] of Object.entries(node.attrs)) {
		attrs[key] = typeof value === 'string' ? value : value.jid
	}
	let content
	if(node.content === null) {
		content = undefined
	} else if(Array.isArray(node.content)) {
		content = node.content.map(nodeFromJson)
	} else {
		content = unb64(node.content.b64)
	}
	return { tag: node.tag, attrs, content }
}

function nodeToJson(node) {
	let content = null
	if(Array.isArray(node.content)) {
		content = node.content.map(nodeToJson)
	} else if(node.content !== undefined && node.content !== null) {
		content = { b64: b64(typeof node.content === 'string' ? Buffer.from(node.content) : node.content) }
	}
	return { tag: node.tag, attrs: node.attrs, content }
}

module.exports = { nodeFromJson, nodeToJson }
