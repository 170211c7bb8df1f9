"""The fairness section: per-group rates with bootstrap intervals, disparities, four-fifths.

Per-group confidence intervals come from the `fairness_groups.json` artifact (the summary
keeps point estimates only); without it the section shows the summary's point estimates
and says why the intervals are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.log.entries import Entry
from ledger.store import ArtifactStore
from reports.sections import ArtifactReader, Estimate, SectionBase, number, section_fields
from reports.tables import summary_tables

MAX_GROUPS = 40
MAX_PARTITIONS = 10
"""A partition (sex, age band, their intersection) is a table and a chart: ten cover every
protected characteristic a credit model is screened on; the entry keeps the rest."""


_DISPARITY_LABELS = {
    "demographic_parity_difference": "Demographic parity difference",
    "demographic_parity_ratio": "Demographic parity ratio",
    "equalized_odds_difference": "Equalized odds difference",
    "equalized_odds_ratio": "Equalized odds ratio",
    "true_positive_rate_difference": "True positive rate difference",
    "false_positive_rate_difference": "False positive rate difference",
}


@dataclass
class GroupRow:
    group: str
    n: int | None
    selection_rate: Estimate
    impact_ratio: Estimate
    true_positive_rate: Estimate
    false_positive_rate: Estimate
    four_fifths: str


@dataclass
class Partition:
    name: str
    reference_group: str | None
    violations: list[str]
    unreliable: list[str]
    groups: list[GroupRow]
    disparities: list[tuple[str, Estimate]]
    truncated: int = 0


@dataclass
class FairnessSection(SectionBase):
    threshold: float | None = None
    confidence: float | None = None
    violated: bool = False
    partitions: list[Partition] = field(default_factory=list)
    intervals: bool = False


def _partition(data: dict[str, Any]) -> Partition:
    groups = [g for g in data.get("groups") or [] if isinstance(g, dict)]
    return Partition(
        name=str(data.get("name", "")),
        reference_group=data.get("reference_group"),
        violations=[str(v) for v in data.get("four_fifths_violations") or []],
        unreliable=[str(v) for v in data.get("unreliable_groups") or []],
        groups=[
            GroupRow(
                group=str(g.get("group", "")),
                n=int(g["n"]) if number(g.get("n")) is not None else None,
                selection_rate=Estimate.read(g.get("selection_rate")),
                impact_ratio=Estimate.read(g.get("impact_ratio")),
                true_positive_rate=Estimate.read(g.get("true_positive_rate")),
                false_positive_rate=Estimate.read(g.get("false_positive_rate")),
                four_fifths=str(g.get("four_fifths", "")),
            )
            for g in groups[:MAX_GROUPS]
        ],
        disparities=[
            (label, Estimate.read(data[key]))
            for key, label in _DISPARITY_LABELS.items()
            if key in data
        ],
        truncated=max(0, len(groups) - MAX_GROUPS),
    )


def read_fairness(entry: Entry, store: ArtifactStore | None) -> FairnessSection:
    section = FairnessSection(**section_fields(entry, "fairness evaluation"))
    s = section.summary
    section.threshold = number(s.get("threshold"))
    section.confidence = number(s.get("confidence"))
    detailed = ArtifactReader(store, entry, section.notes).json("fairness_groups.json")
    if isinstance(detailed, list) and all(isinstance(p, dict) for p in detailed):
        found = detailed
        section.intervals = True
    else:
        found = [p for p in s.get("partitions") or [] if isinstance(p, dict)]
        section.notes.append(
            "Per-group confidence intervals come from the fairness_groups.json artifact, "
            "which is not available: point estimates only."
        )
    section.partitions = [_partition(p) for p in found[:MAX_PARTITIONS]]
    if len(found) > MAX_PARTITIONS:
        flagged_elsewhere = sum(
            1 for p in found[MAX_PARTITIONS:] if p.get("four_fifths_violations")
        )
        section.notes.append(
            f"Showing {MAX_PARTITIONS} of {len(found):,} partitions ({flagged_elsewhere:,} of the "
            "others have flags); the rest are in the entry or its artifact."
        )
    flagged = s.get("four_fifths_violated")
    section.violated = (
        bool(flagged)
        if isinstance(flagged, bool)
        else any(p.get("four_fifths_violations") for p in found)
    )
    section.extra = summary_tables(
        s,
        title="Fairness settings",
        skip={
            "evaluation",
            "partitions",
            "library_versions",
            "four_fifths_violated",
            "threshold",
            "confidence",
            "bands",
        },
    )
    return section
