// An independent Signal peer for interop tests: npm libsignal (SessionBuilder/SessionCipher) for
// 1:1 sessions and Baileys' WASignalGroup for sender keys, over an in-memory store that keeps
// records serialized the way Baileys persists them. One process is one device.
'use strict'
const libsignal = require('libsignal')
const group = require('@whiskeysockets/baileys/WASignalGroup')
const { makeDevice } = require('./signal_device')
const { serve, b64, unb64 } = require('./rpc')
const { writeRandomPadMax16, unpadRandomMax16 } = require('@whiskeysockets/baileys/lib/Utils/generics')

// libsignal logs with console.info/warn/error; stdout carries JSON-RPC, so keep it clean.
const quiet = () => {}
console.log = console.info = console.warn = console.error = process.env.SIGNAL_PEER_DEBUG
	? (...args) => process.stderr.write(args.join(' ') + '\n')
	: quiet

let dev = makeDevice(10)
const addr = p => new libsignal.ProtocolAddress(p.name, p.device)
const skName = p => new group.SenderKeyName(p.group, addr(p)).toString()

function bundle(prekeyId) {
	const out = {
		registration_id: dev.registrationId,
		identity_key: b64(dev.identity.pubKey),
		signed_prekey_id: dev.signedPreKey.keyId,
		signed_prekey: b64(dev.signedPreKey.keyPair.pubKey),
		signed_prekey_signature: b64(dev.signedPreKey.signature),
	}
	if(prekeyId !== null && prekeyId !== undefined) {
		out.prekey_id = prekeyId
		out.prekey = b64(dev.preKeys.get(prekeyId).pubKey)
	}
	return out
}

async function tryEach(items, fn) {
	const out = []
	for(const item of items) {
		try {
			out.push({ ok: await fn(item) })
		} catch(err) {
			out.push({ error: String(err && err.message || err) })
		}
	}
	return out
}

serve({
	reset: ({ prekeys }) => { dev = makeDevice(prekeys || 10); return bundle(1) },
	bundle: ({ prekey_id }) => bundle(prekey_id),
	identity: () => b64(dev.identity.pubKey),
	snapshot: () => ({
		sessions: Object.fromEntries(dev.sessions),
		prekeys: [...dev.preKeys.keys()],
	}),
	process_bundle: async p => {
		const b = p.bundle
		const device = {
			registrationId: b.registration_id,
			identityKey: unb64(b.identity_key),
			signedPreKey: {
				keyId: b.signed_prekey_id,
				publicKey: unb64(b.signed_prekey),
				signature: unb64(b.signed_prekey_signature),
			},
		}
		if(b.prekey) {
			device.preKey = { keyId: b.prekey_id, publicKey: unb64(b.prekey) }
		}
		await new libsignal.SessionBuilder(dev.storage, addr(p)).initOutgoing(device)
		return true
	},
	// Batched: encrypt every plaintext in order, answer [{type: 'msg'|'pkmsg', body}].
	encrypt: async p => {
		const cipher = new libsignal.SessionCipher(dev.storage, addr(p))
		const out = []
		for(const pt of p.plaintexts) {
			const { type, body } = await cipher.encrypt(unb64(pt))
			out.push({ type: type === 3 ? 'pkmsg' : 'msg', body: b64(Buffer.from(body, 'binary')) })
		}
		return out
	},
	// Batched: decrypt in order; each answer is {ok: b64} or {error: message}.
	decrypt: async p => {
		const cipher = new libsignal.SessionCipher(dev.storage, addr(p))
		return tryEach(p.messages, async m => b64(m.type === 'pkmsg'
			? await cipher.decryptPreKeyWhisperMessage(unb64(m.body))
			: await cipher.decryptWhisperMessage(unb64(m.body))))
	},
	pad: ({ data }) => b64(writeRandomPadMax16(unb64(data))),
	unpad: ({ data }) => b64(Buffer.from(unpadRandomMax16(unb64(data)))),
	group_create: async p => {
		const skdm = await new group.GroupSessionBuilder(dev.storage).create(skName(p))
		return b64(skdm.serialize())
	},
	group_process: async p => {
		const msg = new group.SenderKeyDistributionMessage(null, null, null, null, unb64(p.skdm))
		await new group.GroupSessionBuilder(dev.storage).process(skName(p), msg)
		return true
	},
	group_encrypt: async p => {
		const cipher = new group.GroupCipher(dev.storage, skName(p))
		const out = []
		for(const pt of p.plaintexts) {
			out.push(b64(await cipher.encrypt(unb64(pt))))
		}
		return out
	},
	group_decrypt: async p => {
		const cipher = new group.GroupCipher(dev.storage, skName(p))
		return tryEach(p.messages, async m => b64(await cipher.decrypt(unb64(m))))
	},
})
