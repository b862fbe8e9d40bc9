"""The WhatsApp Web multi-device protocol engine.

Usable on its own, like whatsmeow: nothing under this package imports Matrix code.
"""
