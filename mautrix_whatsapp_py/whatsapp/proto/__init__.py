"""Protobuf schemas of our own (``*.proto``) and the modules generated from them.

Regenerate with ``scripts/gen_proto.sh`` after editing a schema.
"""
