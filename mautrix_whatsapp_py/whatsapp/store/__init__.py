"""Persistence for the WhatsApp engine: a small SQL layer, schema upgrades and SQL-backed stores.

Like whatsmeow's ``sqlstore``, this package has its own database layer (:mod:`.sqldb`) rather
than borrowing the bridge's, so that the engine stays usable without any Matrix code.
"""
