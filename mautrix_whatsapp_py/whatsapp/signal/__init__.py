"""The Signal protocol as WhatsApp speaks it: X3DH, the Double Ratchet and sender keys.

Pure computation over bytes lives in :mod:`.keys`, :mod:`.kdf`, :mod:`.wire`, :mod:`.ratchet`,
:mod:`.session`, :mod:`.sender_key` and :mod:`.padding`; :mod:`.cipher`, :mod:`.builder` and
:mod:`.group` are thin async layers that load from and save to a :class:`.store.SignalStore`.
"""
