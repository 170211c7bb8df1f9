"""The card's serving statements: where the version serves (or served, until when, replaced
by which version), the model file each deployment is bound to, and the champion/challenger
comparison recorded for it.

Everything here is a pure function of entries: the serving fold (`ledger.store.serving_of`,
the one `ledger.governance._serving` defines), the run's model files (artifacts with role
`model`) and the comparison entry's own summary (`explain.comparison`). So
`reports.verify._binding` re-derives the same rows from the entries evidence.json proves and
finds them on the pages (`verify-card`).

The card cites the entries the statements rest on: each tenure's promotion, the promotion
or retirement that ended it, the comparison and the champion's run. Folded alone, those
entries give the same tenures of this version as the whole ledger does: only promotions
that actually ended one of its tenures are cited, so the fold of the cited entries treats
every environment as one that serves one version at a time (no shadow set is needed, and
the configured one is not in the evidence).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.governance import COMPARISON_EVALUATION, PromotionFact, Tenure, model_files
from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.store import serving_of
from reports.citations import EntryRef
from reports.limits import MAX_EVENTS, clip, more_line

Cite = Callable[[Entry, str], EntryRef]
UNBOUND = (
    "not bound to a model file (recorded before promotions named one: which bytes were "
    "deployed is not on the ledger)"
)
"""What the card says of a deployment whose promotion names no model_sha256."""
_METRICS = (
    ("auc", "AUC"),
    ("ks", "KS"),
    ("brier", "Brier score"),
    ("approval_rate", "Approval rate"),
)


@dataclass(frozen=True)
class ServingRow:
    """One tenure of the version in one environment, as the card states it."""

    environment: str
    state: str
    """`serving`, `replaced` or `retired`."""
    description: str
    """`Tenure.describe()`: 'served in production from seq 12; replaced by 1.1 at seq 40'."""
    since: str
    promoted_by: str
    reason: str
    rollback: bool
    model_file: str
    """The promotion's model_sha256, or `UNBOUND`."""
    bound: bool
    ended_at: str = ""
    ended_by: str = ""
    """Who ended it (the replacing promotion's or the retirement's actor)."""
    promotion_seq: int = 0


@dataclass(frozen=True)
class ComparisonSection:
    """The version's latest champion/challenger comparison (its summary only)."""

    entry: EntryRef
    champion: str
    """The champion's version (or its run hash when the run is not among the entries)."""
    rows: list[tuple[str, str]]
    """(what, statement) pairs: sample, AUC with DeLong, KS, Brier, approval rate, swaps."""


@dataclass
class ServingSection:
    """Where the version serves or served, its model files, its comparison."""

    rows: list[ServingRow] = field(default_factory=list)
    model_files: list[str] = field(default_factory=list)
    comparison: ComparisonSection | None = None
    more: str = ""

    @property
    def unbound(self) -> list[ServingRow]:
        """Tenures whose promotion named no model file."""
        return [r for r in self.rows if not r.bound]

    def statement(self) -> str:
        """One sentence for the summary: where it serves now, or that it serves nowhere."""
        now = [r.environment for r in self.rows if r.state == "serving"]
        if now:
            return "Serving in " + ", ".join(now) + "."
        if self.rows:
            return "Served before; serves nowhere now."
        return "Never deployed."


def _row(tenure: Tenure) -> ServingRow:
    p, end = tenure.promotion, tenure.ended_by
    return ServingRow(
        environment=tenure.environment,
        state="serving" if end is None else str(tenure.end),
        description=tenure.describe(),
        since=p.recorded_at,
        promoted_by=p.actor,
        reason=clip(p.reason, where=f"the entry at seq {p.seq}"),
        rollback=p.rollback,
        model_file=p.model_sha256 or UNBOUND,
        bound=p.model_sha256 is not None,
        ended_at="" if end is None else end.recorded_at,
        ended_by="" if end is None else end.actor,
        promotion_seq=p.seq,
    )


def serving_section(
    entries: Iterable[Entry],
    model: str,
    version: str,
    run: Entry,
    use: Cite,
    shadow_environments: Iterable[str] = (),
) -> ServingSection:
    """The serving statements of `model` `version` from `entries` (seq order not needed).

    `shadow_environments` is the ledger's configuration when the card is built; the binding
    check folds the cited entries without one (see the module docstring)."""
    own = sorted((e for e in entries if e.statement.model == model), key=lambda e: e.seq)
    by_hash = {e.entry_hash: e for e in own}
    tenures = serving_of(own, tuple(shadow_environments)).of_version(version)
    shown = tenures[-MAX_EVENTS:]
    for tenure in shown:
        promotion = by_hash[tenure.promotion.entry_hash]
        use(promotion, f"promotion to {tenure.environment}")
        end = tenure.ended_by
        if end is not None:
            why = (
                f"promotion of {end.version} that replaced this version in {tenure.environment}"
                if isinstance(end, PromotionFact)
                else "retirement that ended this version's deployment"
            )
            use(by_hash[end.entry_hash], why)
    hidden = len(tenures) - len(shown)
    section = ServingSection(
        rows=[_row(t) for t in shown],
        model_files=model_files(run.statement.payload),
        more=more_line(hidden, "deployments (latest shown)", len(shown), "the ledger")
        if hidden
        else "",
    )
    comparisons = [
        e
        for e in own
        if e.statement.version == version
        and e.statement.kind == Kind.EVALUATION_RECORDED.value
        and e.statement.payload.get("evaluation") == COMPARISON_EVALUATION
    ]
    if comparisons:
        section.comparison = _comparison(comparisons[-1], by_hash, use)
    return section


def _num(value: Any, digits: int = 4, sign: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _p_value(value: Any) -> str:
    if _num(value) == "n/a":
        return "not defined"
    return "< 0.0001" if float(value) < 0.0001 else f"= {float(value):.4f}"


def _interval(low: Any, high: Any, confidence: Any) -> str:
    if _num(low) == "n/a" or _num(high) == "n/a":
        return "no bootstrap interval"
    level = f"{float(confidence) * 100:g}%" if isinstance(confidence, int | float) else "the"
    return f"{level} paired bootstrap interval [{_num(low, sign=True)}, {_num(high, sign=True)}]"


def _count(value: Any) -> str:
    n = value.get("n") if isinstance(value, Mapping) else None
    return f"{n:,}" if isinstance(n, int) else "n/a"


def _comparison(entry: Entry, by_hash: Mapping[bytes, Entry], use: Cite) -> ComparisonSection:
    p = entry.statement.payload
    s = p.get("summary") if isinstance(p.get("summary"), Mapping) else {}
    assert isinstance(s, Mapping)
    ref = use(entry, "champion/challenger comparison")
    other = str(p.get("compared_with") or s.get("champion_run") or "")
    champion_run = by_hash.get(bytes.fromhex(other)) if len(other) == 64 else None
    if champion_run is not None:
        champion = champion_run.statement.version
        use(champion_run, f"the champion's run (version {champion})")
    else:
        champion = f"the run {other[:12]}…"
    confidence = s.get("confidence")
    metrics = s.get("metrics") if isinstance(s.get("metrics"), Mapping) else {}
    assert isinstance(metrics, Mapping)
    n = s.get("n")
    rows = [
        (
            "Compared with",
            f"{champion} (champion), on the same {n if isinstance(n, int) else 'n/a'} "
            f"applicants (sample {str(s.get('sample_fingerprint', ''))[:16]}…), cut-off "
            f"{_num(s.get('cut_off'), 3)}",
        )
    ]
    delong = s.get("delong") if isinstance(s.get("delong"), Mapping) else {}
    assert isinstance(delong, Mapping)
    for key, label in _METRICS:
        m = metrics.get(key)
        if not isinstance(m, Mapping):
            continue
        text = (
            f"{_num(m.get('difference'), sign=True)} (challenger {_num(m.get('challenger'))}, "
            f"champion {_num(m.get('champion'))}); "
            f"{_interval(m.get('ci_low'), m.get('ci_high'), confidence)}"
        )
        if key == "auc" and delong:
            text += f"; DeLong p {_p_value(delong.get('p_value'))}"
        rows.append((f"{label} difference", text))
    swaps = s.get("swap_sets") if isinstance(s.get("swap_sets"), Mapping) else {}
    assert isinstance(swaps, Mapping)
    if swaps:
        rows.append(
            (
                "Swap sets",
                f"swap-in {_count(swaps.get('swap_in'))} (approved by the challenger only), "
                f"swap-out {_count(swaps.get('swap_out'))} (approved by the champion only), "
                f"both approved {_count(swaps.get('both_approved'))}, both declined "
                f"{_count(swaps.get('both_declined'))}",
            )
        )
    return ComparisonSection(ref, champion, rows)
