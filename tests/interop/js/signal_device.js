// A libsignal device with an in-memory store, shared by the Signal interop peer and its bench.
// Records are kept serialized the way Baileys persists them, unless `live` keeps the objects.
'use strict'
const libsignal = require('libsignal')
const group = require('@whiskeysockets/baileys/WASignalGroup')

function makeDevice(prekeyCount, live = false) {
	const identity = libsignal.keyhelper.generateIdentityKeyPair()
	const registrationId = libsignal.keyhelper.generateRegistrationId()
	const signedPreKey = libsignal.keyhelper.generateSignedPreKey(identity, 1)
	const preKeys = new Map()
	for(let id = 1; id <= prekeyCount; id++) {
		preKeys.set(id, libsignal.keyhelper.generatePreKey(id).keyPair)
	}
	const sessions = new Map()
	const senderKeys = new Map()
	const storage = {
		getOurIdentity: () => identity,
		getOurRegistrationId: () => registrationId,
		isTrustedIdentity: () => true,
		loadSession: async id => {
			const s = sessions.get(id)
			return s && !live ? libsignal.SessionRecord.deserialize(s) : s
		},
		storeSession: async (id, record) => { sessions.set(id, live ? record : record.serialize()) },
		loadPreKey: async id => preKeys.get(Number(id)),
		removePreKey: async id => { preKeys.delete(Number(id)) },
		loadSignedPreKey: async id => (Number(id) === signedPreKey.keyId ? signedPreKey.keyPair : undefined),
		loadSenderKey: async name => new group.SenderKeyRecord(senderKeys.get(name)),
		storeSenderKey: async (name, record) => { senderKeys.set(name, record.serialize()) },
	}
	return { identity, registrationId, signedPreKey, preKeys, sessions, senderKeys, storage }
}

module.exports = { makeDevice }
