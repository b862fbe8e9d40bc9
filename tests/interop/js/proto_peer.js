// Baileys' WAProto (protobufjs) for checking our .proto schemas: decode what we encode and
// encode what we describe, both as protobuf JSON objects (longs and bytes as strings).
'use strict'
const { serve, b64, unb64 } = require('./rpc')
const { proto } = require('@whiskeysockets/baileys/WAProto')

const asObject = (type, msg) => type.toObject(msg, { longs: String, enums: String, bytes: String, defaults: false })

serve({
	decode: ({ type, data }) => {
		const T = proto[type]
		return asObject(T, T.decode(unb64(data)))
	},
	encode: ({ type, object }) => {
		const T = proto[type]
		return b64(T.encode(T.fromObject(object)).finish())
	},
})
