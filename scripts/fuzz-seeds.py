#!/usr/bin/env python3
"""Seeds the decoders' fuzz corpus from the recorded and hand-made test data (idempotent).

usage: fuzz-seeds.py TESTDATA_DIR CORPUS_DIR
node_answer: every node answer as is; l1_calldata: every recorded transaction input; l1_log: every
recorded log as an RPC object and in the target's binary layout (topic index, extra topics, data).
"""
import hashlib
import json
import sys
from pathlib import Path

KNOWN = [  # topic0 in sparta_chain::l1::events::known_topics() order
    "4ed05e9673c26d2ed44f7ef6a7f2942df0ee3b5e1e17db4b99f9dcd261a339cd",  # Slashed
    "1577e4658cc494bc5768745d541f9bcc8be48a5a33a380b62ee4e89730d2bb62",  # WithdrawInitiated
    "c78a70f3b27748d5fa327f6a3c1104b9b007d6a80d20c41f7c0dc4543fbdbdcd",  # PrunedPending
    "6ff492bf2b4ca1b93a175167d14b3e46085b935cab3f39ca94013000799b93a0",  # CheckpointProposed
    "034dd13d657aeb14f8dec7291c4a8ddb3b20d40cf2412714e72f97f19c735609",  # L2ProofVerified
    "7fe1d4e6b34e228b5dc059fcdc037c71b216fb2417f47c171e505144a5e4f5fc",  # VoteCast
    "f5b0598f6b87cd92cc8a5cdc26c424169e1d2084571d5ebff9efc8e417eb87ea",  # RoundExecuted
    "9ad613a7ff46b97e0f732b31118d43f39c9ca017bed1efe739b70b0625383589",  # L2BlockProposed
]


def put(directory, data):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


def main(testdata, corpus):
    testdata, corpus = Path(testdata), Path(corpus)
    for path in sorted(testdata.glob("*/*.json")):
        if path.name.startswith("eth_") or path.name in ("propose_transactions.json", "l1_view.json"):
            continue
        put(corpus / "node_answer", path.read_bytes())
    for path in sorted(testdata.glob("*/propose_transactions.json")):
        for tx in json.loads(path.read_text()):
            put(corpus / "l1_calldata", bytes.fromhex(tx["input"][2:]))
    for path in sorted(testdata.glob("*/eth_getLogs*.json")):
        for log in json.loads(path.read_text())["result"]:
            put(corpus / "l1_log", json.dumps(log).encode())
            topics = [t[2:] for t in log["topics"]]
            head = bytes([KNOWN.index(topics[0])]) if topics[0] in KNOWN else b"\xff" + bytes.fromhex(topics[0])
            extra = b"".join(bytes.fromhex(t) for t in topics[1:])
            put(corpus / "l1_log", head + bytes([len(topics) - 1]) + extra + bytes.fromhex(log["data"][2:]))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
