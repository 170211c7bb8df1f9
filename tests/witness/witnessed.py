"""Cosigned evidence for the witness-policy tests: witnesses with their own keys, and every
evidence document (bundle, evidence.json, card PDF, receipt, serving answer) with its
checkpoint note replaced by the same note carrying cosignature lines.

A witness here is a key and a name, cosigning with `ledger.log.cosignature.cosign` what a
real witness (`govledger witness serve`) would: the producers' part (asking witnesses,
carrying the lines into documents) is tested elsewhere; these tests check the verifiers.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.log.canonical import canonical_json
from ledger.log.cosignature import cosign, merge_signatures, witness_verifier_key
from ledger.store import ArtifactStore, LedgerStore
from reports.card import build_card, build_evidence, cyclonedx_json
from reports.documents import CARD_ATTACHMENTS
from reports.render import card_html, render_pdf


@dataclass(frozen=True)
class Cosigner:
    """A witness: its note key name, private key and verifier key (vkey)."""

    name: str
    key: Ed25519PrivateKey
    vkey: str

    @classmethod
    def make(cls, name: str) -> Cosigner:
        key = Ed25519PrivateKey.generate()
        return cls(name, key, witness_verifier_key(name, key))

    def line(self, note: str) -> str:
        """This witness's cosignature/v1 line on the note's checkpoint, timestamped now."""
        return cosign(note, self.name, self.key, int(time.time()))


def cosigned(note: str, *witnesses: Cosigner) -> str:
    """The note with each witness's cosignature line appended."""
    return merge_signatures(note, "".join(w.line(note) for w in witnesses))


def tampered_line(line: str) -> str:
    """A cosignature line with one bit of its signature flipped (still canonical base64)."""
    dash, name, blob = line.rstrip("\n").split(" ")
    data = bytearray(base64.b64decode(blob))
    data[-5] ^= 0x01
    return f"{dash} {name} {base64.b64encode(bytes(data)).decode()}\n"


# --- documents with another checkpoint note ------------------------------------------------


def note_of(kind: str, doc: Any) -> str:
    """The checkpoint note of a document (as `with_note` takes it)."""
    if kind == "bundle":
        return str(json.loads(Path(doc).read_text().split("\n")[1])["note"])
    if kind == "evidence":
        return str(json.loads(doc)["checkpoint"])
    return str(doc["evidence"]["checkpoint"])


def with_note(kind: str, doc: Any, note: str, out: Path | None = None) -> Any:
    """The document with its checkpoint note replaced: a bundle file (written to `out`),
    evidence.json bytes (re-encoded in RFC 8785 form), or a receipt / serving answer."""
    if kind == "bundle":
        assert out is not None
        lines = Path(doc).read_text().split("\n")
        lines[1] = json.dumps({"type": "checkpoint", "note": note}, ensure_ascii=False)
        out.write_text("\n".join(lines))
        return out
    if kind == "evidence":
        parsed = json.loads(doc)
        parsed["checkpoint"] = note
        return canonical_json(parsed)
    changed = copy.deepcopy(doc)
    changed["evidence"]["checkpoint"] = note
    return changed


def cosigned_card(
    store: LedgerStore, artifacts: ArtifactStore | None, model: str, version: str,
    *witnesses: Cosigner,
) -> tuple[bytes, bytes]:  # fmt: skip
    """A card PDF (and its evidence.json) built as `reports.documents.card_pdf` builds one,
    on the current checkpoint with the witnesses' cosignature lines: its pages show that
    note, so the lines must be there before it is rendered."""
    card = build_card(store, artifacts, model, version)
    card.evidence.checkpoint_note = cosigned(card.evidence.checkpoint_note, *witnesses)
    evidence = build_evidence(store, card)
    files = {"evidence.json": evidence, "model-card.cdx.json": cyclonedx_json(card)}
    pdf = render_pdf(
        card_html(card, for_print=True),
        files,
        relationships={k: v[0] for k, v in CARD_ATTACHMENTS.items()},
        descriptions={k: v[1] for k, v in CARD_ATTACHMENTS.items()},
    )
    return pdf, evidence


def card_with_evidence(card: Path, evidence: bytes, out: Path) -> Path:
    """The card PDF with its evidence.json attachment replaced (pages untouched)."""
    with pikepdf.open(card) as pdf:
        pdf.attachments["evidence.json"] = pikepdf.AttachedFileSpec(pdf, evidence)
        pdf.save(out)
    return out
