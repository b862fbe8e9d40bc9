"""Binary XML codec throughput: this project's codec against Baileys' on the same stanzas.

Run: ``python bench/bench_codec.py [--seconds S]``. Builds a corpus of realistic stanzas (messages
with encrypted payloads, receipts, acks, usync results, notifications, presence, group fan-out),
encodes it with dictionary version 2 (the one Baileys 6.17 speaks), and times marshal and
unmarshal here and in Baileys (timed inside Node, so no transport is counted). Prints nodes/s,
MB/s and the ratio ours/Baileys.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mautrix_whatsapp_py.whatsapp import binary
from mautrix_whatsapp_py.whatsapp.binary import JID, Node
from tests.interop.node_peer import NodePeer, b64
from tests.interop.test_binary_baileys import js_key_order, to_json

DICT = 2


def corpus(rng: random.Random) -> list[Node]:
    def phone() -> str:
        return str(rng.randint(10**10, 10**12))

    def msg_id() -> str:
        return "3EB0" + rng.randbytes(8).hex().upper()

    ts = str(1_700_000_000 + rng.randint(0, 10**6))
    stanzas: list[Node] = []
    for _ in range(40):
        user = phone()
        stanzas.append(
            Node(
                "message",
                {
                    "from": JID(user, "s.whatsapp.net"),
                    "id": msg_id(),
                    "type": "text",
                    "t": ts,
                    "notify": "Alice Example",
                },
                [
                    Node(
                        "enc",
                        {"v": "2", "type": rng.choice(["msg", "pkmsg"])},
                        rng.randbytes(rng.randint(60, 600)),
                    )
                ],
            )
        )
        stanzas.append(
            Node(
                "receipt",
                {
                    "from": JID(user, "s.whatsapp.net", rng.randint(1, 20)),
                    "id": msg_id(),
                    "t": ts,
                    "type": "read",
                },
            )
        )
        stanzas.append(
            Node(
                "ack",
                {"class": "message", "id": msg_id(), "to": JID(user, "s.whatsapp.net"), "t": ts},
            )
        )
        stanzas.append(Node("presence", {"from": JID(user, "s.whatsapp.net"), "type": "available"}))
        stanzas.append(
            Node("chatstate", {"from": JID(user, "s.whatsapp.net")}, [Node("composing")])
        )
    for _ in range(8):
        users = [phone() for _ in range(20)]
        stanzas.append(
            Node(
                "iq",
                {"from": JID("", "s.whatsapp.net"), "id": msg_id(), "type": "result"},
                [
                    Node(
                        "usync",
                        {
                            "context": "message",
                            "index": "0",
                            "last": "true",
                            "mode": "query",
                            "sid": msg_id(),
                        },
                        [
                            Node(
                                "list",
                                {},
                                [
                                    Node(
                                        "user",
                                        {"jid": JID(u, "s.whatsapp.net")},
                                        [
                                            Node(
                                                "devices",
                                                {},
                                                [
                                                    Node(
                                                        "device-list",
                                                        {},
                                                        [
                                                            Node("device", {"id": str(d)})
                                                            for d in range(rng.randint(1, 4))
                                                        ],
                                                    )
                                                ],
                                            )
                                        ],
                                    )
                                    for u in users
                                ],
                            )
                        ],
                    )
                ],
            )
        )
        group = f"{phone()}-{rng.randint(10**9, 10**10)}"
        stanzas.append(
            Node(
                "message",
                {"to": JID(group, "g.us"), "id": msg_id(), "type": "text"},
                [
                    Node(
                        "participants",
                        {},
                        [
                            Node(
                                "to",
                                {"jid": JID(u, "s.whatsapp.net", rng.randint(0, 3))},
                                [Node("enc", {"v": "2", "type": "pkmsg"}, rng.randbytes(400))],
                            )
                            for u in users[:10]
                        ],
                    ),
                    Node("enc", {"v": "2", "type": "skmsg"}, rng.randbytes(200)),
                ],
            )
        )
        stanzas.append(
            Node(
                "notification",
                {
                    "from": JID(users[0], "s.whatsapp.net"),
                    "id": msg_id(),
                    "t": ts,
                    "type": "devices",
                },
                [Node("add", {}, [Node("device", {"jid": JID(users[0], "s.whatsapp.net", 5)})])],
            )
        )
    return [js_key_order(n) for n in stanzas]


def measure(
    seconds: float, payloads: list[bytes], fn: Callable[[bytes], object]
) -> tuple[int, float]:
    ops = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for p in payloads:
            fn(p)
        ops += len(payloads)
    return ops, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()
    nodes = corpus(random.Random(1))
    payloads = [binary.marshal(n, DICT) for n in nodes]
    total_bytes = sum(len(p) for p in payloads)
    avg = total_bytes / len(payloads)

    rows: list[tuple[str, int, float]] = []

    def run(name: str, items: list, fn: Callable) -> None:  # type: ignore[type-arg]
        ops, elapsed = measure(args.seconds, items, fn)
        rows.append((name, ops, elapsed))

    if binary.accelerated:
        run("unmarshal (C accelerator)", payloads, lambda p: binary.unmarshal(p, DICT))
        run("marshal (C accelerator)", nodes, lambda n: binary.marshal(n, DICT))
    run("unmarshal (pure Python)", payloads, lambda p: binary.unmarshal_pure(p, DICT))
    run("marshal (pure Python)", nodes, lambda n: binary.marshal_pure(n, DICT))

    with NodePeer("bench_codec.js") as peer:
        theirs = peer.call(
            "run",
            payloads=[b64(p) for p in payloads],
            nodes=[to_json(n) for n in nodes],
            seconds=args.seconds,
        )
    b_dec = theirs["decode"]["ops"] / theirs["decode"]["seconds"]
    b_dec_sync = theirs["decodeSync"]["ops"] / theirs["decodeSync"]["seconds"]
    b_enc = theirs["encode"]["ops"] / theirs["encode"]["seconds"]

    print(
        f"corpus: {len(payloads)} stanzas, {total_bytes} bytes, {avg:.0f} bytes/stanza on average"
    )
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print()
    print(f"{'measurement':34} {'nodes/s':>12} {'MB/s':>8} {'vs Baileys':>11}")
    print(f"{'Baileys decodeBinaryNode':34} {b_dec:12,.0f} {b_dec * avg / 1e6:8.1f} {'1.00x':>11}")
    print(
        f"{'Baileys decode (sync, no flags)':34} {b_dec_sync:12,.0f} {b_dec_sync * avg / 1e6:8.1f}"
    )
    print(f"{'Baileys encodeBinaryNode':34} {b_enc:12,.0f} {b_enc * avg / 1e6:8.1f} {'1.00x':>11}")
    for name, ops, elapsed in rows:
        rate = ops / elapsed
        peer_rate = b_dec if name.startswith("unmarshal") else b_enc
        print(f"{name:34} {rate:12,.0f} {rate * avg / 1e6:8.1f} {rate / peer_rate:10.2f}x")


if __name__ == "__main__":
    main()
