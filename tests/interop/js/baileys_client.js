// A real, unmodified Baileys 6.17 client that tests drive over JSON-RPC (see rpc.js), so the test
// network can be checked against an independent WhatsApp Web implementation end to end.
// One socket per process. Everything Baileys emits that tests care about goes into an event list
// with a increasing `seq`; tests read it with `events` / `waitEvent`. Bytes travel as base64.
'use strict'
const pino = require('pino')
const {
	default: makeWASocket,
	useMultiFileAuthState,
	DisconnectReason,
	getMediaKeys,
	downloadEncryptedContent,
	normalizeMessageContent,
	jidNormalizedUser,
} = require('@whiskeysockets/baileys')
const { serve, b64, unb64 } = require('./rpc')

let sock = null
let config = null
let authState = null
let saveCreds = null
let savingCreds = Promise.resolve()
let stopped = false
let reconnectTimer = null
let lastMe = null
const sentMessages = new Map()

const events = []
let seq = 0
let waiters = []
const EVENT_LOG_LIMIT = 20

function push(event) {
	seq += 1
	events.push({ seq, ...event })
	const w = waiters
	waiters = []
	w.forEach(fn => fn())
}

// protobufjs messages, Buffers, Uint8Arrays and Longs all have to become plain JSON. Buffer's own
// toJSON runs before the replacer sees it, hence the {type: 'Buffer'} case.
function replacer(_key, value) {
	if(value instanceof Uint8Array) {
		return b64(value)
	}
	if(value && value.type === 'Buffer' && Array.isArray(value.data)) {
		return b64(value.data)
	}
	if(value && typeof value === 'object' && typeof value.toNumber === 'function' && 'low' in value && 'high' in value) {
		return value.toNumber()
	}
	return value
}

const toJson = value => (value === undefined ? null : JSON.parse(JSON.stringify(value, replacer)))

function bytesB64(value) {
	if(value === undefined || value === null) {
		return null
	}
	return typeof value === 'string' ? value : b64(value)
}

function toNumber(value) {
	if(value === undefined || value === null) {
		return null
	}
	return typeof value === 'object' && typeof value.toNumber === 'function' ? value.toNumber() : Number(value)
}

function plainKey(key) {
	return {
		remoteJid: key.remoteJid || null,
		fromMe: !!key.fromMe,
		id: key.id || null,
		participant: key.participant || null,
	}
}

function messageEvent(msg, upsertType) {
	const content = normalizeMessageContent(msg.message) || {}
	const text = content.conversation || (content.extendedTextMessage && content.extendedTextMessage.text) || null
	const img = content.imageMessage
	const image = img ? {
		mimetype: img.mimetype || null,
		caption: img.caption || null,
		url: img.url || null,
		directPath: img.directPath || null,
		mediaKeyB64: bytesB64(img.mediaKey),
		fileEncSha256B64: bytesB64(img.fileEncSha256),
		fileSha256B64: bytesB64(img.fileSha256),
		fileLength: toNumber(img.fileLength),
	} : null
	return {
		type: 'message',
		key: plainKey(msg.key),
		pushName: msg.pushName || null,
		messageTimestamp: toNumber(msg.messageTimestamp),
		text,
		image,
		raw: toJson(msg),
		upsertType,
	}
}

// `match` is a partial description: every field it names must be present and equal, recursively.
function includes(actual, match) {
	if(match === null || typeof match !== 'object') {
		return actual === match
	}
	if(actual === null || typeof actual !== 'object') {
		return false
	}
	return Object.keys(match).every(k => includes(actual[k], match[k]))
}

function requireSock() {
	if(!sock) {
		throw new Error('no socket: call start first')
	}
	return sock
}

function connect() {
	const s = makeWASocket({
		waWebSocketUrl: config.url,
		auth: authState,
		printQRInTerminal: false,
		logger: pino({ level: process.env.BAILEYS_LOG_LEVEL || 'silent' }),
		browser: ['mwp-test', 'Chrome', '1.0'],
		markOnlineOnConnect: false,
		syncFullHistory: false,
		connectTimeoutMs: 20000,
		defaultQueryTimeoutMs: 20000,
		// Retry receipts make Baileys re-encrypt a message it sent; it needs the content back.
		getMessage: async key => sentMessages.get(key.id),
	})
	sock = s
	s.ev.on('creds.update', update => {
		savingCreds = savingCreds.then(() => saveCreds()).catch(() => {})
		const me = authState.creds.me
		const snapshot = me ? JSON.stringify({ id: me.id, lid: me.lid, name: me.name }) : null
		if(update.me && snapshot !== lastMe) {
			lastMe = snapshot
			push({ type: 'creds', me: { id: me.id, lid: me.lid || null, name: me.name || null } })
		}
	})
	s.ev.on('connection.update', update => {
		if(update.qr) {
			push({ type: 'qr', qr: update.qr })
		}
		if(update.connection || update.isNewLogin !== undefined) {
			const error = update.lastDisconnect && update.lastDisconnect.error
			const statusCode = error && error.output ? error.output.statusCode : null
			push({
				type: 'connection',
				connection: update.connection || null,
				statusCode,
				error: error ? String(error.message || error) : null,
				isNewLogin: update.isNewLogin === undefined ? null : update.isNewLogin,
			})
		}
		if(update.connection === 'close' && s === sock) {
			const statusCode = update.lastDisconnect && update.lastDisconnect.error && update.lastDisconnect.error.output
				? update.lastDisconnect.error.output.statusCode
				: null
			// As Baileys' README does: reconnect on everything but a logout (515 after pairing
			// included), with the credentials saved so far.
			if(!stopped && statusCode !== DisconnectReason.loggedOut) {
				reconnectTimer = setTimeout(() => {
					reconnectTimer = null
					if(!stopped) {
						savingCreds.then(() => !stopped && connect())
					}
				}, 500)
			}
		}
	})
	s.ev.on('messages.upsert', ({ messages, type }) => {
		messages.forEach(msg => push(messageEvent(msg, type)))
	})
	s.ev.on('messaging-history.set', ({ chats, messages, isLatest, syncType }) => {
		push({
			type: 'history',
			chats: chats.length,
			messages: messages.map(msg => {
				const content = normalizeMessageContent(msg.message) || {}
				const text = content.conversation || (content.extendedTextMessage && content.extendedTextMessage.text) || null
				return { key: plainKey(msg.key), text }
			}),
			chatList: toJson(chats),
			isLatest: isLatest === undefined ? null : isLatest,
			syncType: syncType === undefined ? null : syncType,
		})
	})
	s.ev.on('message-receipt.update', updates => {
		updates.forEach(({ key, receipt }) => push({ type: 'receipt', key: plainKey(key), receipt: toJson(receipt) }))
	})
	s.ev.on('messages.update', updates => {
		updates.forEach(({ key, update }) => push({ type: 'update', key: plainKey(key), update: toJson(update) }))
	})
	s.ev.on('chats.upsert', chats => push({ type: 'chats', event: 'upsert', chats: toJson(chats) }))
	s.ev.on('chats.update', chats => push({ type: 'chats', event: 'update', chats: toJson(chats) }))
	s.ev.on('contacts.update', contacts => push({ type: 'contacts', event: 'update', contacts: toJson(contacts) }))
	s.ev.on('presence.update', ({ id, presences }) => push({ type: 'presence', id, presences: toJson(presences) }))
	s.ev.on('groups.upsert', groups => {
		groups.forEach(group => push({ type: 'group', event: 'upsert', id: group.id, group: toJson(group) }))
	})
	s.ev.on('groups.update', groups => {
		groups.forEach(group => push({ type: 'group', event: 'update', id: group.id, group: toJson(group) }))
	})
	s.ev.on('group-participants.update', ({ id, author, participants, action }) => {
		push({ type: 'group', event: 'participants', id, author: author || null, participants: toJson(participants), action })
	})
	return s
}

function halt() {
	stopped = true
	if(reconnectTimer) {
		clearTimeout(reconnectTimer)
		reconnectTimer = null
	}
}

function describeRecent() {
	const buffering = sock && sock.ev.isBuffering && sock.ev.isBuffering()
	const recent = events.slice(-EVENT_LOG_LIMIT).map(e => {
		const { raw, ...rest } = e
		return JSON.stringify(rest)
	})
	return `${buffering ? 'Baileys is buffering events. ' : ''}recent events:\n${recent.join('\n') || '(none)'}`
}

async function streamToBuffer(stream) {
	const chunks = []
	for await (const chunk of stream) {
		chunks.push(chunk)
	}
	return Buffer.concat(chunks)
}

serve({
	start: async({ url, authDir, name }) => {
		if(sock) {
			throw new Error('already started')
		}
		const auth = await useMultiFileAuthState(authDir)
		authState = auth.state
		saveCreds = auth.saveCreds
		config = { url, name }
		stopped = false
		connect()
		return true
	},
	events: ({ after }) => events.filter(e => e.seq > (after || 0)),
	waitEvent: ({ type, match, after, timeoutMs }) => new Promise((resolve, reject) => {
		const limit = timeoutMs || 30000
		const timer = setTimeout(() => {
			waiters = waiters.filter(fn => fn !== check)
			reject(new Error(`no ${type} event matching ${JSON.stringify(match || {})} after seq ${after || 0} `
				+ `within ${limit} ms; ${describeRecent()}`))
		}, limit)
		function check() {
			const found = events.find(e => e.seq > (after || 0) && e.type === type && includes(e, match || {}))
			if(found) {
				clearTimeout(timer)
				resolve(found)
			} else {
				waiters.push(check)
			}
		}
		check()
	}),
	// Baileys holds back message, receipt and group-update events while it thinks an initial
	// sync is pending; this says whether it is doing so right now.
	isBuffering: () => !!(sock && sock.ev.isBuffering()),
	lastSeq: () => seq,
	me: () => toJson((sock && sock.user) || (authState && authState.creds.me) || null),
	sendText: async({ jid, text }) => {
		const msg = await requireSock().sendMessage(jid, { text })
		sentMessages.set(msg.key.id, msg.message)
		return { id: msg.key.id }
	},
	sendImage: async({ jid, dataB64, mimetype, caption }) => {
		const msg = await requireSock().sendMessage(jid, { image: unb64(dataB64), mimetype, caption })
		sentMessages.set(msg.key.id, msg.message)
		return { id: msg.key.id, message: toJson(msg.message) }
	},
	readMessages: async({ keys }) => {
		await requireSock().readMessages(keys)
		return true
	},
	sendPresence: async({ type, jid }) => {
		await requireSock().sendPresenceUpdate(type, jid)
		return true
	},
	presenceSubscribe: async({ jid }) => {
		await requireSock().presenceSubscribe(jid)
		return true
	},
	groupCreate: async({ subject, participants }) => toJson(await requireSock().groupCreate(subject, participants)),
	groupMetadata: async({ jid }) => toJson(await requireSock().groupMetadata(jid)),
	groupParticipantsUpdate: async({ jid, participants, action }) => (
		toJson(await requireSock().groupParticipantsUpdate(jid, participants, action))
	),
	groupUpdateSubject: async({ jid, subject }) => {
		await requireSock().groupUpdateSubject(jid, subject)
		return true
	},
	groupUpdateDescription: async({ jid, description }) => {
		await requireSock().groupUpdateDescription(jid, description)
		return true
	},
	groupSettingUpdate: async({ jid, setting }) => {
		await requireSock().groupSettingUpdate(jid, setting)
		return true
	},
	groupInviteCode: async({ jid }) => (await requireSock().groupInviteCode(jid)) || null,
	groupAcceptInvite: async({ code }) => (await requireSock().groupAcceptInvite(code)) || null,
	groupLeave: async({ jid }) => {
		await requireSock().groupLeave(jid)
		return true
	},
	// downloadContentFromMessage would fetch from mmg.whatsapp.net when only a directPath is known,
	// so the download goes through Baileys' own key derivation and decryption with a chosen host.
	downloadImage: async({ message, mediaBase }) => {
		const img = message.imageMessage || message
		const url = mediaBase ? mediaBase.replace(/\/$/, '') + img.directPath : img.url
		const keys = await getMediaKeys(img.mediaKey || img.mediaKeyB64, 'image')
		return b64(await streamToBuffer(await downloadEncryptedContent(url, keys, {})))
	},
	chatModify: async({ mod, jid }) => {
		await requireSock().chatModify(mod, jid)
		return true
	},
	profilePictureUrl: async({ jid, type }) => (await requireSock().profilePictureUrl(jid, type)) || null,
	// Baileys' updateProfilePicture resizes with jimp or sharp, neither of which is installed, so
	// this sends the same query with an image the test made ready (a small JPEG).
	setProfilePicture: async({ jid, dataB64 }) => {
		const s = requireSock()
		const target = jidNormalizedUser(jid) !== jidNormalizedUser(s.user.id) ? jidNormalizedUser(jid) : undefined
		await s.query({
			tag: 'iq',
			attrs: { target, to: 's.whatsapp.net', type: 'set', xmlns: 'w:profile:picture' },
			content: [{ tag: 'picture', attrs: { type: 'image' }, content: unb64(dataB64) }],
		})
		return true
	},
	requestPairingCode: async({ phone }) => requireSock().requestPairingCode(phone),
	logout: async() => {
		halt()
		await requireSock().logout()
		return true
	},
	end: () => {
		halt()
		if(sock) {
			sock.end(undefined)
		}
		return true
	},
	stop: () => {
		halt()
		return true
	},
	// Reconnect after `end`, as an app that was closed and opened again (same auth files).
	resume: () => {
		stopped = false
		connect()
		return true
	},
})
