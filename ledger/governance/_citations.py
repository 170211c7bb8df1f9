"""Which payload fields name other entries by entry_hash, and what those entries must be.

A statement that cites an entry (an approval its run and its evidence, a recalibration its
parent run, a deployment the approvals it relies on, a note or an oversight record what it
refers to) is only meaningful if the cited entry is in the same log, *earlier*, and about
the right model. This table is the one statement of that rule: admission refuses a
statement that breaks it (nothing is written), and verification reports an entry that
breaks it as `bad-reference`, which is how a run rewritten after it was approved shows
even when no checkpoint was kept (the approval, which the rewriter cannot re-sign, still
names the old hash). The standalone verifier restates the same table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

RUN_KINDS = frozenset({"run.training", "run.recalibration"})
DECISION_KINDS = frozenset({"approval.granted", "approval.rejected"})


@dataclass(frozen=True, slots=True)
class Citation:
    """One payload field that holds an entry_hash (hex) or a list of them."""

    field: str
    many: bool = False
    kinds: frozenset[str] | None = None
    """The kinds the cited entry may have; None: any kind."""
    same_model: bool = True
    same_version: bool = False
    what: str = "an entry"
    """How the message names what the field must cite."""


_SUBJECT_KINDS = RUN_KINDS | {"catalogue.recorded", "monitoring.plan"}
_DECISION_CITATIONS = (
    Citation("run", kinds=RUN_KINDS, same_version=True, what="the run of"),
    Citation(
        "subject", kinds=_SUBJECT_KINDS, same_version=True, what="a run, catalogue or plan of"
    ),
    Citation("evidence", many=True, what="an entry of"),
)
_RUN_CITATIONS = (
    Citation("parent_run", kinds=RUN_KINDS, what="a run of"),
    Citation("breaches", many=True, kinds=frozenset({"monitoring.reported"}), what="a report of"),
)

CITATIONS: dict[str, tuple[Citation, ...]] = {
    "approval.granted": _DECISION_CITATIONS,
    "approval.rejected": _DECISION_CITATIONS,
    "run.training": _RUN_CITATIONS,
    "run.recalibration": _RUN_CITATIONS,
    "deployment.promoted": (
        Citation(
            "approvals",
            many=True,
            kinds=frozenset({"approval.granted"}),
            same_version=True,
            what="an approval of",
        ),
        Citation("replaces", kinds=frozenset({"deployment.promoted"}), what="a promotion of"),
    ),
    "evaluation.recorded": (Citation("compared_with", kinds=RUN_KINDS, what="a run of"),),
    "serving.checked": (
        Citation("promotion", kinds=frozenset({"deployment.promoted"}), what="a promotion of"),
    ),
    "catalogue.recorded": (
        Citation("supersedes", kinds=frozenset({"catalogue.recorded"}), what="a catalogue of"),
    ),
    "oversight.recorded": (Citation("refers_to", many=True, what="an entry of"),),
    "monitoring.plan": (
        Citation("supersedes", kinds=frozenset({"monitoring.plan"}), what="a plan of"),
    ),
    "monitoring.reported": (
        Citation("plan", kinds=frozenset({"monitoring.plan"}), same_version=True, what="a plan of"),
    ),
    "monitoring.responded": (
        Citation(
            "report",
            kinds=frozenset({"monitoring.reported"}),
            same_version=True,
            what="a report of",
        ),
        Citation("refers_to", many=True, what="an entry of"),
    ),
    "note": (Citation("refers_to", many=True, same_model=False),),
    "scoring.batch": (
        Citation(
            "catalogue",
            kinds=frozenset({"catalogue.recorded"}),
            same_version=True,
            what="a catalogue of",
        ),
    ),
}
"""Kind -> the fields of its payload that cite entries. A note may be about no model, so
what it refers to may be any earlier entry."""

CITING_KINDS = frozenset(CITATIONS)


@dataclass(frozen=True, slots=True)
class Cited:
    """What the ledger holds at a cited hash: (seq, kind, model, version)."""

    seq: int
    kind: str
    model: str
    version: str


_NEEDLES = {kind: tuple(f'"{c.field}":' for c in rule) for kind, rule in CITATIONS.items()}
"""Per kind, the text each citing field starts with in a canonical payload."""


def may_cite(kind: str, payload_json: str) -> bool:
    """A cheap test on the canonical payload text: False when the entry cites nothing.

    Verification runs this on every entry of a citing kind; most runs and notes cite
    nothing, and a substring test costs far less than parsing their payload."""
    for needle in _NEEDLES.get(kind, ()):
        if needle in payload_json:
            return True
    return False


def citations_of(kind: str, payload: dict[str, object]) -> Iterator[tuple[Citation, object]]:
    """Every (field, cited value) of a payload; values are as found (verify checks them)."""
    for citation in CITATIONS.get(kind, ()):
        value = payload.get(citation.field)
        if value is None:
            continue
        if citation.many:
            yield from ((citation, v) for v in (value if isinstance(value, list) else [value]))
        else:
            yield citation, value


def cited_hash(value: object) -> bytes | None:
    """The 32-byte hash a cited value names, or None when it is not 64 hex digits."""
    if not isinstance(value, str) or len(value) != 64:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def citation_problem(
    citation: Citation,
    value: object,
    found: Cited | None,
    *,
    seq: int | None,
    model: str,
    version: str,
) -> str | None:
    """Why citing `value` from an entry at `seq` of (model, version) is wrong, or None.

    `found` is the entry the ledger holds at that hash (None: no entry has it); `seq` None
    means the citing entry is not appended yet (admission), so any stored entry is earlier.
    """
    if found is None or (seq is not None and found.seq >= seq):
        return (
            f"{citation.field} {value} names no earlier entry of this ledger: cite the "
            "entry_hash of an entry that is already in it"
        )
    if citation.same_model and found.model != model:
        about = f"model {found.model!r}" if found.model else "no model"
        return (
            f"{citation.field} {value} is a {found.kind} of {about}, not {citation.what} {model!r}"
        )
    if citation.same_version and found.version != version:
        return (
            f"{citation.field} {value} is a {found.kind} of {found.model} {found.version}, "
            f"not {citation.what} {model} {version}"
        )
    if citation.kinds is not None and found.kind not in citation.kinds:
        return f"{citation.field} {value} is a {found.kind}, not {citation.what} {model}"
    return None
