"""mautrix-whatsapp-py: a Matrix-WhatsApp puppeting bridge with its own WhatsApp Web engine."""

__version__ = "0.1.0.dev0"
