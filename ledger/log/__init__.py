"""The log: pure functions and values, no I/O.

The record format and its proofs: RFC 8785 bytes (`canonical`), statements and entries and
their hashes (`entries`), what each kind is and must carry (`kinds`, `payloads`), RFC 3339
time (`timestamps`, `time_bounds`), the name grammar (`names`), RFC 9162 Merkle trees
(`merkle`), C2SP signed-note checkpoints (`checkpoint`) and
witness cosignatures with the tlog-witness bodies (`cosignature`), Ed25519 under one strict rule
(`ed25519_strict`, reached through `signing`) and the check of an as-of serving answer
(`serving_answer`), which the client applies too. Everything above builds on these.
"""

__all__ = [
    "canonical",
    "checkpoint",
    "cosignature",
    "ed25519_strict",
    "entries",
    "kinds",
    "merkle",
    "names",
    "payloads",
    "serving_answer",
    "signing",
    "time_bounds",
    "timestamps",
]
