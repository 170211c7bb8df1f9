"""A verifier's witness policy: K of these N witnesses cosigned the checkpoint, or no proof.

A checkpoint signed with the ledger key proves what the ledger's operator says; someone who
holds that key can sign two histories of one log (a split view) and show each party its
own. A witness (c2sp.org/tlog-witness) cosigns a checkpoint only after a consistency proof
from the last one it cosigned, so two forks cannot both carry its cosignature
(c2sp.org/tlog-cosignature). A verifier that requires K cosignatures from witnesses it
trusts therefore accepts evidence only from the history those witnesses saw.

The rule, for every verifier (`govledger verify`, `verify-bundle`, `verify-card`,
`verify-receipt`, `verify-model`, and their Python functions): verification fails unless K
of the given witnesses cosigned the checkpoint that the evidence's proofs are against. A
cosignature line that names a given witness but does not verify fails it too: the
checkpoint was altered after the witness saw it.

K defaults to 1 when witnesses are given and K is not (one witness already makes a split
view detectable, and asking for every witness would make one witness that is down stop
every verification); asking for more is explicit. K < 1, K above the number of witnesses,
a repeated witness, or a key that is not a cosignature/v1 key (a ledger key, type 0x01)
is a WitnessPolicyInvalid: a policy that cannot mean what its caller meant is refused
before anything is verified.

The policy lives on the log's floor, beside the cosignature format it applies
(`ledger.log.cosignature.require_cosignatures` is the check), because the checks of a
serving answer and of a receipt live here too and the client applies them;
`ledger/verify/standalone.py` restates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import CheckpointInvalid, NotWitnessed, WitnessPolicyInvalid
from ledger.log.cosignature import WitnessKey, require_cosignatures

DEFAULT_REQUIRED = 1
"""Cosignatures required when witnesses are given and the number is not."""


@dataclass(frozen=True, slots=True)
class WitnessPolicy:
    """`required` of `witnesses` must have cosigned a checkpoint; falsy when none are given.

    Build it with `WitnessPolicy.of(vkeys, required)` from text (as `govledger witness
    keygen` prints a key), or from parsed keys; `WitnessPolicy.none()` requires nothing.
    """

    witnesses: tuple[WitnessKey, ...] = ()
    required: int = 0

    def __post_init__(self) -> None:
        if not self.witnesses:
            if self.required:
                raise WitnessPolicyInvalid(
                    f"{self.required} witness cosignatures are required but no witness key "
                    "is given: pass each witness's key with --witness"
                )
            return
        n = len(self.witnesses)
        if not 1 <= self.required <= n:
            raise WitnessPolicyInvalid(
                f"--witnesses-required is {self.required}, but with {n} witness key"
                f"{'s' if n > 1 else ''} given it must be between 1 and {n}: pass more "
                "--witness keys or a number in that range"
            )
        names = [w.name for w in self.witnesses]
        vkeys = [w.vkey() for w in self.witnesses]
        for index, vkey in enumerate(vkeys):
            if vkey in vkeys[:index] or names[index] in names[:index]:
                raise WitnessPolicyInvalid(
                    f"witness {names[index]!r} is given twice: each --witness counts once, "
                    "so give each witness's key once"
                )

    @classmethod
    def none(cls) -> WitnessPolicy:
        """The policy that requires no witness (the ledger key's signature alone)."""
        return cls()

    @classmethod
    def of(cls, vkeys: Sequence[str], required: int | None = None) -> WitnessPolicy:
        """A policy from witness vkey texts and K (DEFAULT_REQUIRED when None and keys are
        given); raise WitnessPolicyInvalid naming the key that is not a witness key."""
        keys: list[WitnessKey] = []
        for number, text in enumerate(vkeys, start=1):
            try:
                keys.append(WitnessKey.parse(text))
            except CheckpointInvalid as exc:
                where = f"witness key {number}" if len(vkeys) > 1 else "witness key"
                raise WitnessPolicyInvalid(
                    f"{where} ({text.strip()[:40]!r}): {exc.message}"
                ) from None
        if required is None:
            required = DEFAULT_REQUIRED if keys else 0
        return cls(tuple(keys), required)

    def __bool__(self) -> bool:
        return bool(self.witnesses)

    def check(self, note: str) -> list[str]:
        """The vkeys of the given witnesses that cosigned the checkpoint note.

        Raises NotWitnessed (a CheckpointInvalid) when fewer than `required` did, naming how
        many of how many, or when a cosignature by a given witness does not verify. The
        empty policy checks nothing and returns [].
        """
        if not self.witnesses:
            return []
        try:
            return require_cosignatures(note, self.witnesses, self.required)
        except CheckpointInvalid as exc:
            raise NotWitnessed(exc.message) from None

    def names(self, vkeys: Sequence[str]) -> list[str]:
        """The witness names of cosigning vkeys (as `check` returns them), in policy order."""
        wanted = set(vkeys)
        return [w.name for w in self.witnesses if w.vkey() in wanted]

    def describe(self, vkeys: Sequence[str]) -> str:
        """One clause for an OK line: who cosigned, of how many required."""
        names = ", ".join(self.names(vkeys))
        plural = "es" if len(vkeys) > 1 else ""
        counts = f"{len(vkeys)} of {len(self.witnesses)}, {self.required} required"
        return f"cosigned by witness{plural} {names} ({counts})"
