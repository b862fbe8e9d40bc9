"""The committed *_pb2 modules are what the pinned protoc makes of the committed .proto files."""

from __future__ import annotations

from pathlib import Path

import pytest
from grpc_tools import protoc

PROTO_DIR = Path(__file__).parents[3] / "mautrix_whatsapp_py" / "whatsapp" / "proto"
SCHEMAS = sorted(PROTO_DIR.glob("*.proto"))


def test_schemas_exist() -> None:
    assert {p.stem for p in SCHEMAS} >= {"wa_handshake", "wa_client_payload", "wa_adv", "wa_e2e"}


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda p: p.stem)
def test_generated_code_is_current(schema: Path, tmp_path: Path) -> None:
    rc = protoc.main(
        [
            "protoc",
            f"--proto_path={PROTO_DIR}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            str(schema),
        ]
    )
    assert rc == 0
    for suffix in ("_pb2.py", "_pb2.pyi"):
        fresh = (tmp_path / f"{schema.stem}{suffix}").read_text()
        committed = (PROTO_DIR / f"{schema.stem}{suffix}").read_text()
        assert committed == fresh, f"{schema.stem}{suffix} is stale: run scripts/gen_proto.sh"
