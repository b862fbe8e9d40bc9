"""The WhatsApp test network: a fake WhatsApp server that speaks the real wire protocol.

Real clients (Baileys, our own engine) pair with its simulated phones, log in and chat through
it. Run it with ``python -m mautrix_whatsapp_py.testnet --data DIR``; see :mod:`.server`.
"""
