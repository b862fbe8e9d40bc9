"""Drive a Node.js peer (Baileys or npm libsignal) from Python tests and benchmarks.

Each peer is a script under ``tests/interop/js/`` that serves line-delimited JSON-RPC through
``rpc.js``. The peer is independent software; these helpers only carry requests to it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).parent / "js"


class PeerError(RuntimeError):
    """The Node peer answered a request with an error."""


def node_available() -> bool:
    return shutil.which("node") is not None and (JS_DIR / "node_modules").is_dir()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(data: str) -> bytes:
    return base64.b64decode(data)


def _script_path(script: str) -> str:
    path = JS_DIR / script
    if not path.is_file():
        raise FileNotFoundError(path)
    return str(path)


class NodePeer:
    """A blocking JSON-RPC client for a Node script; use as a context manager."""

    def __init__(self, script: str) -> None:
        self._proc = subprocess.Popen(
            ["node", _script_path(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=JS_DIR,
        )
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> Any:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        req_id = next(self._ids)
        self._proc.stdin.write(json.dumps({"id": req_id, "method": method, "params": params}))
        self._proc.stdin.write("\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise PeerError(f"peer exited (code {self._proc.poll()}) during {method}")
        reply = json.loads(line)
        if reply.get("id") != req_id:
            raise PeerError(f"reply out of order: {reply!r}")
        if "error" in reply:
            raise PeerError(reply["error"])
        return reply.get("result")

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> NodePeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncNodePeer:
    """The asyncio twin of :class:`NodePeer`, for peers that do network I/O of their own."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    @classmethod
    async def start(cls, script: str, env: dict[str, str] | None = None) -> AsyncNodePeer:
        """Start ``script``; ``env`` is merged over this process's environment."""
        proc = await asyncio.create_subprocess_exec(
            "node",
            _script_path(script),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=JS_DIR,
            env={**os.environ, **env} if env else None,
            limit=64 * 1024 * 1024,
        )
        return cls(proc)

    async def call(self, method: str, **params: Any) -> Any:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        async with self._lock:
            req_id = next(self._ids)
            payload = json.dumps({"id": req_id, "method": method, "params": params}) + "\n"
            self._proc.stdin.write(payload.encode())
            await self._proc.stdin.drain()
            line = await self._proc.stdout.readline()
            # Libraries inside the peer (npm libsignal) print notices to stdout; replies are
            # the lines that are JSON objects.
            while line and not line.lstrip().startswith(b"{"):
                line = await self._proc.stdout.readline()
        if not line:
            raise PeerError(f"peer exited (code {self._proc.returncode}) during {method}")
        reply = json.loads(line)
        if reply.get("id") != req_id:
            raise PeerError(f"reply out of order: {reply!r}")
        if "error" in reply:
            raise PeerError(reply["error"])
        return reply.get("result")

    async def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), 10)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
