"""Check a demo ledger's evidence with an independent implementation: the Go checksum
database's own packages, golang.org/x/mod/sumdb/note (signed notes) and sumdb/tlog (RFC 6962
inclusion and consistency proofs), plus a Go restatement of c2sp.org/tlog-cosignature.

Not part of the test suite (it needs a Go toolchain): on Debian,
`apt-get install golang-go golang-golang-x-mod-dev`, then after `make demo`:

    .venv/bin/python tools/interop/check_with_go.py demo-output

It builds the two Go programs beside this file in GOPATH mode against Debian's x/mod source,
feeds them the card's evidence.json (checkpoint note with the witness's cosignature line,
entries, inclusion proofs) and the consistency proofs between every pair of sizes (old, old),
(old, old + 1) and (old, latest) of the ledger, and exits non-zero if any check fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pikepdf

from ledger.store import LedgerSettings, open_ledger

HERE = Path(__file__).parent
DEBIAN_GOPATH = "/usr/share/gocode"


def _build(program: str, gopath: Path) -> Path:
    source = gopath / "src" / program
    source.mkdir(parents=True)
    shutil.copy(HERE / program / "main.go", source / "main.go")
    binary = gopath / program
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": f"{gopath}:{DEBIAN_GOPATH}"}
    go = shutil.which("go")
    if go is None:
        raise SystemExit("no `go` on PATH: apt-get install golang-go golang-golang-x-mod-dev")
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=source, env=env, check=True)  # noqa: S603
    return binary


def main(out: Path) -> int:
    with pikepdf.open(out / "model-card.pdf") as card:
        evidence = card.attachments["evidence.json"].get_file().read_bytes()
    settings = LedgerSettings(
        database_url=f"sqlite:///{(out / 'ledger.db').resolve()}", home=out / ".govledger"
    )
    store = open_ledger(settings)
    size = store.checkpoint().size
    proofs = []
    for old in range(1, size + 1):
        for new in sorted({old, min(size, old + 1), size}):
            proof = store.consistency_proof(old, new)
            proofs.append(
                {
                    "Old": old,
                    "New": new,
                    "OldRoot": proof.old_root.hex(),
                    "NewRoot": proof.new_root.hex(),
                    "Proof": [h.hex() for h in proof.proof],
                }
            )
    store.engine.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        gopath = Path(tmp)
        (gopath / "evidence.json").write_bytes(evidence)
        (gopath / "consistency.json").write_text(json.dumps(proofs))
        vkey = (out / "witness.vkey").read_text().strip()
        checks = [
            [str(_build("evidence", gopath)), str(gopath / "evidence.json"), vkey],
            [str(_build("consistency", gopath)), str(gopath / "consistency.json")],
        ]
        return max(subprocess.run(command).returncode for command in checks)  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "demo-output")))
