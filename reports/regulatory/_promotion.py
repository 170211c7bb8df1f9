"""A regime checklist as a promotion sees it: the gaps a deployment cannot close itself.

A policy may require a regime's checklist to have no gaps before a version is promoted
(`ledger.governance._evidence`). Some items are met only once the version is in operation
(EU AI Act Annex IV 1(c)(d) and SR 26-2 "model in use": a version serving; Art. 72
post-market monitoring: reports after the promotion), so at promotion time they are left out:
a requirement whose rules all look at serving, promotions or monitoring reports. What remains
is evaluated by the same `evaluate` as the card and the regulatory report, so the refusal can
never disagree with them.

The core may not import this layer; `promotion_gaps(store)` is the function the layer that
opens the store hands it (`LedgerStore.regime_gaps`).
"""

from __future__ import annotations

from functools import cache

from ledger.governance import RegimeFinding, RegimeGaps
from ledger.log.kinds import Kind
from ledger.store import LedgerStore, model_entries, version_view
from reports.regulatory._checklist import evaluate
from reports.regulatory.regimes import AnyOf, Item, Regime, Rule, load_regime

IN_OPERATION = frozenset(
    {
        Kind.DEPLOYMENT_PROMOTED.value,
        Kind.MONITORING_REPORTED.value,
        Kind.MONITORING_RESPONDED.value,
        Kind.SCORING_BATCH.value,
        Kind.SERVING_CHECKED.value,
    }
)
"""Entry kinds that exist only once a version is (or was) promoted."""


def _in_operation(rule: Rule) -> bool:
    return rule.serving is not None or rule.monitored is not None or set(rule.kind) <= IN_OPERATION


def _before_promotion(requirement: Rule | AnyOf) -> bool:
    rules = requirement.any_of if isinstance(requirement, AnyOf) else [requirement]
    return not all(_in_operation(r) for r in rules)


@cache
def promotion_checklist(regime_id: str) -> Regime:
    """The regime's checklist without what only operation can meet (UnknownRegime)."""
    regime = load_regime(regime_id)
    items: list[Item] = []
    for item in regime.items:
        kept = [r for r in item.evidence if _before_promotion(r)]
        if kept:
            items.append(item.model_copy(update={"evidence": kept}))
    return regime.model_copy(update={"items": items})


def short_title(regime: Regime) -> str:
    """'EU AI Act' of 'EU AI Act: technical documentation, ...'."""
    return regime.title.split(":", 1)[0].strip()


def promotion_gaps(store: LedgerStore) -> RegimeGaps:
    """The `RegimeGaps` of `store`: each gap as '<title> (<citation>)', in checklist order."""

    def gaps(model: str, version: str, regime_id: str) -> RegimeFinding:
        checklist = promotion_checklist(regime_id)
        family = model_entries(store, model)
        view = version_view(store, model, version, entries_of_model=family)
        check = evaluate(checklist, view, family, view.policy)
        return RegimeFinding(
            short_title(checklist), tuple(f"{i.title} ({i.citation})" for i in check.gaps)
        )

    return gaps
