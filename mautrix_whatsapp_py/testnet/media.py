"""The test network's media server: encrypted blobs uploaded and downloaded over HTTPS.

Clients learn the host and an auth token from the ``media_conn`` query, upload with
``POST /mms/<type>/<token>?auth=...`` and get back a ``direct_path``; downloads are plain GETs
of that path. Blobs are stored as files, so they survive restarts. The server never sees a
media key.

Some clients fetch a bare ``direct_path`` (history sync blobs, for one) from the real
``mmg.whatsapp.net``. :class:`MediaProxy` is an HTTP ``CONNECT`` proxy that tunnels such
connections to the media server (whose certificate names that host); point a client's
``HTTPS_PROXY`` at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import os
import secrets
import ssl
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: Names the media certificate is valid for; ``mmg.whatsapp.net`` lets clients that insist on
#: the real media host reach us through a hosts entry or a custom agent.
CERT_NAMES = ("localhost", "mmg.whatsapp.net")


class MediaStore:
    def __init__(self, root: Path, auth: str) -> None:
        self.root = root
        self.auth = auth
        self.public_url = ""
        root.mkdir(parents=True, exist_ok=True)

    def _new_path(self, prefix: str, ext: str = "enc") -> str:
        name = secrets.token_urlsafe(18)
        return f"/v/t62/{prefix.strip('/').replace('/', '-')}/{name}.{ext}"

    def _file(self, direct_path: str) -> Path:
        safe = direct_path.split("?")[0].lstrip("/")
        path = (self.root / safe).resolve()
        if self.root.resolve() not in path.parents:
            raise web.HTTPNotFound()
        return path

    async def store_blob(self, blob: bytes, upload_path: str) -> str:
        """Keep ``blob`` (written on a thread, atomically) and return its direct path."""
        direct_path = self._new_path(upload_path)
        await asyncio.to_thread(_write_atomic, self._file(direct_path), blob)
        return direct_path

    async def store_public(self, data: bytes, ext: str) -> str:
        direct_path = self._new_path("pp", ext)
        await asyncio.to_thread(_write_atomic, self._file(direct_path), data)
        return direct_path

    def routes(self) -> list[web.RouteDef]:
        async def upload(request: web.Request) -> web.Response:
            if request.query.get("auth") != self.auth:
                raise web.HTTPUnauthorized(text="bad media auth")
            blob = await request.read()
            if not blob:
                raise web.HTTPBadRequest(text="empty upload")
            direct_path = await self.store_blob(blob, "/mms/" + request.match_info["kind"])
            return web.json_response(
                {"url": self.public_url + direct_path, "direct_path": direct_path}
            )

        async def download(request: web.Request) -> web.StreamResponse:
            path = self._file(request.path)
            if not path.is_file():
                raise web.HTTPNotFound()
            return web.FileResponse(path)

        return [
            web.post("/mms/{kind}/{token}", upload),
            web.get("/v/{tail:.*}", download),
        ]


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def ensure_tls_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the media server, made once and kept."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "media-cert.pem", directory / "media-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mautrix-whatsapp-py testnet")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in CERT_NAMES]
                + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


#: Hosts :class:`MediaProxy` tunnels to the media server.
PROXIED_HOSTS = frozenset({"mmg.whatsapp.net"})
MAX_PROXY_HEADER = 16 * 1024


class MediaProxy:
    """A ``CONNECT`` proxy that sends WhatsApp media hosts to the test network's media server
    and refuses everything else."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._client, host, port)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for task in list(self._tasks):
            task.cancel()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._tunnel(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_PROXY_HEADER:
            return
        method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
        target = rest.split(" ", 1)[0]
        host, _, port = target.rpartition(":")
        if method != "CONNECT" or host not in PROXIED_HOSTS or port != "443":
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        if writer.can_write_eof():
            with contextlib.suppress(OSError):
                writer.write_eof()


def server_ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
