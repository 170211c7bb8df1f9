"""The log: pure functions and values, no I/O.

The record format and its proofs: RFC 8785 bytes (`canonical`), statements and entries and
their hashes (`entries`), what each kind is and must carry (`kinds`, `payloads`), RFC 3339
time (`timestamps`, `time_bounds`), the name grammar (`names`), RFC 9162 Merkle trees
(`merkle`), C2SP signed-note checkpoints (`checkpoint`), Ed25519 under one strict rule
(`ed25519_strict`, reached through `signing`), the check of an as-of serving answer
(`serving_answer`), which the client applies too, scoring decisions' leaves and batch trees
(`scoring`), a batch of decisions checked and turned into leaves (`decision_batch`) and the
check of a decision's receipt (`receipt`), witness cosignatures with the tlog-witness bodies
(`cosignature`), a passkey's WebAuthn assertion over a statement (`webauthn`). Everything
above builds on these.
"""

__all__ = [
    "canonical",
    "checkpoint",
    "cosignature",
    "decision_batch",
    "ed25519_strict",
    "entries",
    "kinds",
    "merkle",
    "names",
    "payloads",
    "receipt",
    "scoring",
    "serving_answer",
    "signing",
    "time_bounds",
    "timestamps",
    "webauthn",
]
