// libsignal-node (1:1) and Baileys WASignalGroup (sender keys) timed in-process, for
// bench/bench_signal.py. Same workloads as the Python side; stores keep records serialized the
// way Baileys persists them. Answers operations per second.
'use strict'
const libsignal = require('libsignal')
const group = require('@whiskeysockets/baileys/WASignalGroup')
const { makeDevice } = require('./signal_device')
const { serve } = require('./rpc')

const quiet = () => {}
console.log = console.info = console.warn = console.error = quiet

function deviceBundle(dev, prekeyId) {
	return {
		registrationId: dev.registrationId,
		identityKey: dev.identity.pubKey,
		signedPreKey: {
			keyId: dev.signedPreKey.keyId,
			publicKey: dev.signedPreKey.keyPair.pubKey,
			signature: dev.signedPreKey.signature,
		},
		preKey: { keyId: prekeyId, publicKey: dev.preKeys.get(prekeyId).pubKey },
	}
}

const now = () => Number(process.hrtime.bigint()) / 1e9

async function run({ setups, messages, size, budget, live }) {
	const over = start => now() - start > budget
	const plaintext = Buffer.alloc(size, 0x61)
	const result = {}

	// Session setup: build from bundle, encrypt the first message, responder decrypts it.
	const bob = makeDevice(setups, live)
	const alices = []
	for(let i = 0; i < setups; i++) {
		alices.push(makeDevice(0, live))
	}
	const bobAddr = new libsignal.ProtocolAddress('bob', 0)
	let t = now()
	let done = 0
	for(let i = 0; i < setups && !over(t); i++, done++) {
		const alice = alices[i]
		await new libsignal.SessionBuilder(alice.storage, bobAddr).initOutgoing(deviceBundle(bob, i + 1))
		const { body } = await new libsignal.SessionCipher(alice.storage, bobAddr).encrypt(plaintext)
		const aliceAddr = new libsignal.ProtocolAddress('alice' + i, 0)
		await new libsignal.SessionCipher(bob.storage, aliceAddr).decryptPreKeyWhisperMessage(Buffer.from(body, 'binary'))
	}
	result.setup = done / (now() - t)

	// 1:1 messages on an established session (after one reply, so no prekey wrapper).
	const alice = alices[0]
	const aliceAddr = new libsignal.ProtocolAddress('alice0', 0)
	const toBob = new libsignal.SessionCipher(alice.storage, bobAddr)
	const toAlice = new libsignal.SessionCipher(bob.storage, aliceAddr)
	const ack = await toAlice.encrypt(plaintext)
	await toBob.decryptWhisperMessage(Buffer.from(ack.body, 'binary'))
	const bodies = []
	t = now()
	for(let i = 0; i < messages && !over(t); i++) {
		bodies.push(Buffer.from((await toBob.encrypt(plaintext)).body, 'binary'))
	}
	result.encrypt = bodies.length / (now() - t)
	t = now()
	for(const body of bodies) {
		await toAlice.decryptWhisperMessage(body)
	}
	result.decrypt = bodies.length / (now() - t)

	// Sender keys.
	const name = new group.SenderKeyName('g@g.us', new libsignal.ProtocolAddress('alice0', 0)).toString()
	const skdm = await new group.GroupSessionBuilder(alice.storage).create(name)
	const received = new group.SenderKeyDistributionMessage(null, null, null, null, skdm.serialize())
	await new group.GroupSessionBuilder(bob.storage).process(name, received)
	const sender = new group.GroupCipher(alice.storage, name)
	const receiver = new group.GroupCipher(bob.storage, name)
	const groupBodies = []
	t = now()
	for(let i = 0; i < messages && !over(t); i++) {
		groupBodies.push(await sender.encrypt(plaintext))
	}
	result.group_encrypt = groupBodies.length / (now() - t)
	t = now()
	for(const body of groupBodies) {
		await receiver.decrypt(body)
	}
	result.group_decrypt = groupBodies.length / (now() - t)
	return result
}

serve({ run })
