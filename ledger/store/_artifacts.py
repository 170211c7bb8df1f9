"""Content-addressed artifact store: bytes in, SHA-256 digest out; digest in, bytes out.

Artifacts (SHAP tables, fairness tables, charts, model files) are kept outside the database,
named by their SHA-256, written atomically (temp file, fsync, rename) and never overwritten.
Entries cite digests; verification re-hashes the bytes, so replaced bytes are detected. An
entry may mark a digest `stored` only once its bytes are here (`check_stored_references`,
run by the store's write gate on every write path).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from ledger.errors import (
    ArtifactNotFound,
    ArtifactNotStored,
    ArtifactStoreUnavailable,
    ArtifactTampered,
    InvalidStatement,
)
from ledger.log.entries import Statement

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1024 * 1024
_STORED_MARK = '"stored":true'
"""How a stored reference reads in a payload's RFC 8785 text (no whitespace): most payloads
hold none, and are let through without being parsed."""


class ArtifactState(StrEnum):
    """What a check of one artifact found."""

    OK = "ok"
    MISSING = "missing"
    TAMPERED = "tampered"


def check_digest(digest: str) -> str:
    """Refuse anything that is not a lowercase hex SHA-256 (no path tricks)."""
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise InvalidStatement(f"{digest!r} is not a lowercase hex SHA-256 digest")
    return digest


class ArtifactStore:
    """A directory of blobs at `<root>/sha256/<aa>/<digest>`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, digest: str) -> Path:
        """Where the bytes with this digest live (whether or not they exist)."""
        check_digest(digest)
        return self.root / "sha256" / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store bytes; return their SHA-256 digest (hex). Idempotent."""
        return self.put_stream(iter([data]))

    def put_file(self, path: Path) -> str:
        """Store a file's bytes, streaming; return the digest."""
        with open(path, "rb") as handle:
            return self.put_stream(_chunks(handle))

    def put_stream(self, chunks: Iterator[bytes]) -> str:
        """Store bytes arriving in chunks; return the digest.

        A file system that refuses the bytes (full disk, quota, read-only, I/O error)
        raises ArtifactStoreUnavailable (503) with the partial file removed: the store
        holds either the whole artifact under its digest or nothing of it."""
        tmp_name: str | None = None
        try:
            staging = self.root / "staging"
            staging.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            fd, tmp_name = tempfile.mkstemp(dir=staging)
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            name = digest.hexdigest()
            final = self.path_for(name)
            if final.exists():
                os.unlink(tmp_name)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp_name, 0o444)
                os.replace(tmp_name, final)
            return name
        except OSError as exc:
            _discard(tmp_name)
            raise ArtifactStoreUnavailable(
                f"the artifact store at {self.root} could not store the artifact "
                f"({exc.strerror or exc}): nothing was kept; free space or fix the store, "
                "then upload again"
            ) from exc
        except BaseException:
            _discard(tmp_name)
            raise

    def exists(self, digest: str) -> bool:
        """True when bytes with this digest are stored (not re-hashed)."""
        return self.path_for(digest).is_file()

    def get(self, digest: str) -> bytes:
        """The bytes with this digest, re-hashed on the way out."""
        path = self.path_for(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ArtifactNotFound(f"artifact {digest} is not in the artifact store") from None
        except OSError as exc:
            raise ArtifactStoreUnavailable(
                f"the artifact store could not read artifact {digest} ({exc.strerror or exc}); "
                "retry once the store is fixed"
            ) from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise ArtifactTampered(f"artifact {digest} was altered: its bytes no longer match")
        return data

    def check(self, digest: str) -> ArtifactState:
        """Re-hash a stored artifact, streaming."""
        path = self.path_for(digest)
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return ArtifactState.MISSING
        digest_now = hashlib.sha256()
        with handle:
            for chunk in _chunks(handle):
                digest_now.update(chunk)
        return ArtifactState.OK if digest_now.hexdigest() == digest else ArtifactState.TAMPERED


def check_stored_references(artifacts: ArtifactStore | None, statement: Statement) -> None:
    """Refuse a statement whose payload marks an artifact `stored` that is not stored.

    The references are the payload's `artifacts` list, the same the verifier re-hashes
    (`ledger.verify._stream`): an entry admitted with a reference to bytes nobody uploaded
    would fail verification forever after. A store opened without an artifact store
    (`artifacts` None) holds no artifact, so it refuses every stored reference.
    """
    if _STORED_MARK not in statement.payload_json:
        return
    references = statement.payload.get("artifacts")
    for artifact in references if isinstance(references, list) else []:
        if not isinstance(artifact, dict) or not artifact.get("stored"):
            continue
        digest = check_digest(str(artifact.get("sha256", "")))
        if artifacts is None or not artifacts.exists(digest):
            raise ArtifactNotStored(
                f"artifact {artifact.get('name')} is marked stored but {digest} is not in the "
                "artifact store: upload its bytes first (POST /v1/artifacts, "
                "LedgerClient.upload_artifact or ArtifactStore.put), then submit again"
            )


def _discard(tmp_name: str | None) -> None:
    """Remove a staging file, if there is one (a store that cannot even delete keeps it,
    under staging/, never under a digest)."""
    if tmp_name is None:
        return
    with contextlib.suppress(OSError):
        os.unlink(tmp_name)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(_CHUNK):
        yield chunk
