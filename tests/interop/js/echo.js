// Smallest peer: proves the harness works before any real peer is involved.
'use strict'
const { serve } = require('./rpc')
serve({ echo: params => params, version: () => require('@whiskeysockets/baileys/package.json').version })
