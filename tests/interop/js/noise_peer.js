// Baileys 6.17's own Noise handler as the client, over a real websocket, against our server.
// It does exactly what Baileys' validateConnection does: ClientHello, processHandshake (which
// checks the certificate the way Baileys does), ClientFinish with an encrypted payload, then
// binary-node frames (dictionary version 2) through the transport.
'use strict'
const WebSocket = require('ws')
const pino = require('pino')
const { serve, b64, unb64 } = require('./rpc')
const { nodeFromJson, nodeToJson } = require('./node_json')
const { makeNoiseHandler } = require('@whiskeysockets/baileys/lib/Utils/noise-handler')
const { Curve } = require('@whiskeysockets/baileys/lib/Utils/crypto')
const { NOISE_WA_HEADER } = require('@whiskeysockets/baileys/lib/Defaults')
const { proto } = require('@whiskeysockets/baileys/WAProto')
const { encodeBinaryNode } = require('@whiskeysockets/baileys/lib/WABinary')

let ws
let noise
let noiseKey
const received = []
let waiters = []
let closed = null

function onFrame(frame) {
	received.push(frame)
	const w = waiters
	waiters = []
	w.forEach(fn => fn())
}

function nextRaw(timeoutMs) {
	return new Promise((resolve, reject) => {
		const check = () => {
			if(received.length) {
				resolve(received.shift())
			} else if(closed) {
				reject(new Error(`closed: ${closed}`))
			} else {
				waiters.push(check)
			}
		}
		setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs)
		check()
	})
}

serve({
	connect: async({ url, payload }) => {
		const ephemeral = Curve.generateKeyPair()
		noiseKey = Curve.generateKeyPair()
		noise = makeNoiseHandler({ keyPair: ephemeral, NOISE_HEADER: NOISE_WA_HEADER, logger: pino({ level: 'silent' }) })
		ws = new WebSocket(url, { origin: 'https://web.whatsapp.com' })
		ws.on('message', data => noise.decodeFrame(data, onFrame))
		ws.on('close', code => {
			closed = `code ${code}`
			waiters.splice(0).forEach(fn => fn())
		})
		await new Promise((resolve, reject) => {
			ws.once('open', resolve)
			ws.once('error', reject)
		})
		const hello = proto.HandshakeMessage.encode({ clientHello: { ephemeral: ephemeral.public } }).finish()
		ws.send(noise.encodeFrame(hello))
		const serverHello = proto.HandshakeMessage.decode(await nextRaw(5000))
		const keyEnc = await noise.processHandshake(serverHello, noiseKey)
		const payloadEnc = noise.encrypt(unb64(payload))
		ws.send(noise.encodeFrame(proto.HandshakeMessage.encode({ clientFinish: { static: keyEnc, payload: payloadEnc } }).finish()))
		// Baileys calls finishInit() without awaiting it, which is safe in its own flow because it
		// sends nothing until the server's first stanza arrives. This harness sends at once, so
		// it waits for the transport keys first.
		await noise.finishInit()
		const first = await nextRaw(5000)
		return { noisePublic: b64(noiseKey.public), first: nodeToJson(first) }
	},
	send: ({ nodes }) => {
		for(const node of nodes) {
			ws.send(noise.encodeFrame(encodeBinaryNode(nodeFromJson(node))))
		}
		return nodes.length
	},
	receive: async({ count, timeoutMs }) => {
		const out = []
		for(let i = 0; i < count; i++) {
			out.push(nodeToJson(await nextRaw(timeoutMs || 5000)))
		}
		return out
	},
	close: () => {
		ws && ws.close()
		return true
	},
})
