"""Bind what a card's pages say to the entries its evidence proves (`verify-card`).

`evidence.json` proves entries against a signed checkpoint, but nothing signs the pages: a
forger can keep the genuine attachment and draw any pages around it. A digest of the pages
inside the evidence would not help either: the forger recomputes it (no key is needed to
hash), and the ledger cannot sign a card's pages without signing every rendering. So the
binding is a re-derivation: the card's bound blocks (`templates/bound.html`) are a pure
function of proven entries (model, version, checkpoint, registration, run, parameters,
metrics, the headline performance line, every decision with its re-checked signature, the
approval policy recorded in the ledger (its proposal and approval entries), where the version
serves or served and the model file each deployment is bound to (`reports.card._serving`),
its champion/challenger comparison, its monitoring plan with the decisions on it, each
monitoring report and each breach with its answer (`reports.card._monitoring`; the
monitoring status is not bound: it depends on the clock), and the hash of every cited
entry). `check_pages`
renders those same blocks from the proven entries, extracts the text of the PDF's pages
(pypdf; running headers and footers dropped by position) and requires each block's text,
whitespace removed, to appear on the pages.
Decisions are bound row by row: a row never splits across pages, but the table may, and a
page's images (the charts) are drawn after its text, so their labels can come between two
rows of the extracted text.

What it proves, and what not:

- A forger without the ledger key cannot change a bound fact (an approver, a decision, a
  parameter, a metric, the checkpoint) in the page content, nor swap in another card's
  pages: the text the proven entries demand is then missing, and the check names the block.
- Text extraction reads the drawn glyphs, not the picture: a forger can still draw a white
  box over genuine text and write other text elsewhere, add pages of prose, or edit what is
  not bound (charts, the status badge, the sentence around the policy, the configured policy
  of a ledger that records none, artifact-backed tables such as the fairness intervals:
  their inputs are artifacts or store state that the evidence does not carry). Read bound
  facts only from the verified blocks, or re-render the card.
- A forger who holds the ledger key can re-sign a rewritten ledger, and then a card that
  passes everything here. Only a checkpoint held from before (`--checkpoint`, compared by
  `reports.verify._checkpoint_link`) or witness cosignatures expose that.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2.environment import TemplateModule

from ledger.log.entries import Entry
from ledger.log.kinds import DECISION_KINDS, RUN_KINDS, Kind
from ledger.verify import Failed, Problem, Subject, VerificationReport
from reports.card import (
    Evidence,
    answers,
    approved_by,
    breach_row,
    decides_plan,
    decision_row,
    latest_by_kind,
    ledger_policies,
    performance_line,
    plan_decision_row,
    plan_rows,
    read_performance,
    red_measures,
    registration_of,
    report_row,
    serving_section,
)
from reports.card import run_details as rebuild_run
from reports.citations import EntryRef, cite
from reports.limits import MAX_DECISIONS, latest, more_line
from reports.signatures import KeyBook

PAGE_MARGIN_TOP_MM = 24
PAGE_MARGIN_BOTTOM_MM = 21
"""The print stylesheet's page margins: text drawn there is the running header and footer."""
_TAG = re.compile(r"<[^>]*>")
_TABLE_HEADS = (
    "ParameterValue",
    "MetricValueBefore",
    "MetricValue",
    "DecisionActorRoleTimeReasonSignature",
)
"""Header rows a table repeats on every page it spans: dropped from both sides."""
_DECISIONS = {k.value for k in DECISION_KINDS}
_RUNS = {k.value for k in RUN_KINDS}


@dataclass(frozen=True)
class Fact:
    """One bound block: what it is, the entry it comes from, and its expected text."""

    what: str
    seq: int | None
    text: str


def normalise(text: str) -> str:
    """Text as compared: NFKC (ligatures), no whitespace at all, table header rows removed.

    Whitespace goes because line breaks depend on layout, not on the facts."""
    flat = "".join(unicodedata.normalize("NFKC", text).split())
    for head in _TABLE_HEADS:
        flat = flat.replace(head, "")
    return flat


def page_text(pdf_path: Path | str) -> str:
    """The normalised text of every page body, in drawing order (pypdf)."""
    import pypdf

    reader = pypdf.PdfReader(pdf_path)
    chunks: list[str] = []
    for page in reader.pages:
        height = float(page.mediabox.height)
        low = PAGE_MARGIN_BOTTOM_MM * 72 / 25.4
        high = height - PAGE_MARGIN_TOP_MM * 72 / 25.4

        def visit(
            text: str, cm: Any, tm: Any, *_: Any, low: float = low, high: float = high
        ) -> None:
            y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
            if low < y < high:
                chunks.append(text)

        page.extract_text(visitor_text=visit)
    return normalise("".join(chunks))


@cache
def _bound() -> TemplateModule:
    from reports.render import environment

    return environment().get_template("bound.html").module


def _text(markup: Any) -> str:
    return normalise(html.unescape(_TAG.sub(" ", str(markup))))


def _cite(entry: Entry, why: str) -> EntryRef:
    return cite(entry, why)


def card_facts(
    entries: list[Entry], model: str, version: str, evidence: Evidence
) -> list[Fact] | None:
    """The bound blocks of the card of `model` `version`, from proven entries only.

    None when the entries hold no run of that version (the pages name another card)."""
    own = [e for e in entries if e.statement.model == model]
    runs = [e for e in own if e.statement.kind in _RUNS and e.statement.version == version]
    if not runs:
        return None
    run_entry = runs[0]
    b: Any = _bound()  # a Jinja2 TemplateModule: its macros are attributes
    run = rebuild_run(run_entry, _cite)
    registration = registration_of(own, _cite)
    facts = [
        Fact(
            "the model and version on the cover",
            run_entry.seq,
            normalise(f"{model}Version{version}"),
        ),
        Fact(
            "the ledger and signed checkpoint on the cover",
            None,
            _text(b.checkpoint_rows(evidence)),
        ),
        Fact(
            "the model details", run_entry.seq, _text(b.details(model, version, registration, run))
        ),
        Fact("the training parameters", run_entry.seq, _text(b.params(run))),
        Fact("the metrics logged with the run", run_entry.seq, _text(b.metrics(run))),
    ]
    same = [e for e in own if e.statement.version == version]
    evaluations = [e for e in same if e.statement.kind == Kind.EVALUATION_RECORDED.value]
    performance_entry = latest_by_kind(evaluations).get("performance")
    performance = read_performance(performance_entry, None) if performance_entry else None
    facts.append(
        Fact(
            "the headline performance",
            performance_entry.seq if performance_entry else None,
            _text(b.performance_row(performance_line(performance))),
        )
    )
    catalogues = {
        e.entry_hash.hex() for e in same if e.statement.kind == Kind.CATALOGUE_RECORDED.value
    }
    plans = [e for e in same if e.statement.kind == Kind.MONITORING_PLAN.value]
    plan_hashes = {e.entry_hash.hex() for e in plans}
    decisions = [
        e
        for e in same
        if e.statement.kind in _DECISIONS
        and str(e.statement.payload.get("subject") or e.statement.payload.get("run"))
        not in catalogues
        and not decides_plan(e, plan_hashes)
    ]
    keys = KeyBook(entries)
    rows = [decision_row(e, run_entry, keys, _cite) for e in decisions]
    shown, hidden = latest(rows, MAX_DECISIONS)
    more = (
        more_line(hidden, "decisions (latest shown)", len(shown), "their approval entries")
        if hidden
        else ""
    )
    facts.append(
        Fact("the summary's approved-by line", None, _text(b.approved_by_row(approved_by(rows))))
    )
    if shown:  # row by row: a table that breaks across pages may have an image between rows
        facts += [
            Fact(
                f"the approvals and rejections ({'approval' if a.granted else 'rejection'} "
                f"by {a.actor})",
                a.entry.seq,
                _text(b.approval_row(a)),
            )
            for a in shown
        ]
        if more:
            facts.append(Fact("the approvals and rejections (those left out)", None, _text(more)))
    else:
        facts.append(Fact("the approvals and rejections", None, _text(b.approvals([], ""))))
    serving = serving_section(entries, model, version, run_entry, _cite)
    facts.append(Fact("the summary's serving line", None, _text(b.serving_summary_row(serving))))
    facts.append(
        Fact(
            "the version's model file",
            run_entry.seq,
            _text(b.model_files_row(serving.model_files)),
        )
    )
    facts += [
        Fact(
            f"the deployment to {r.environment} at seq {r.promotion_seq} ({r.description})",
            r.promotion_seq,
            _text(b.serving_row(r)),
        )
        for r in serving.rows
    ]
    if serving.comparison is not None:
        facts += [
            Fact(
                f"the champion/challenger comparison ({what})",
                serving.comparison.entry.seq,
                _text(b.comparison_row(what, text)),
            )
            for what, text in serving.comparison.rows
        ]
    facts += _monitoring_facts(b, same, plans, plan_hashes)
    for policy in ledger_policies(entries, _cite):
        facts.append(
            Fact(
                f"the approval policy {policy.description}",
                policy.proposal.seq,
                _text(b.ledger_policy(policy)),
            )
        )
    facts.append(Fact("the evidence section's checkpoint", None, _text(b.evidence_facts(evidence))))
    for entry in entries:
        if entry.statement.kind not in (Kind.KEY_REGISTERED.value, Kind.KEY_REVOKED.value):
            facts.append(
                Fact(
                    f"the hash of the cited {entry.statement.kind} entry",
                    entry.seq,
                    entry.entry_hash.hex(),
                )
            )
    return facts


def _monitoring_facts(
    b: Any, same: list[Entry], plans: list[Entry], plan_hashes: set[str]
) -> list[Fact]:
    """The monitoring blocks: each cited plan and the decisions on it, each cited report,
    and each cited breach with the latest cited answer to it (`reports.card._monitoring`)."""
    facts = [
        Fact(f"the monitoring plan at seq {p.seq}", p.seq, _text(b.monitoring_plan(plan_rows(p))))
        for p in plans
    ]
    facts += [
        Fact(
            f"the decision by {e.statement.actor} on a monitoring plan",
            e.seq,
            _text(b.plan_decision_row(plan_decision_row(e))),
        )
        for e in same
        if decides_plan(e, plan_hashes)
    ]
    answered = answers(same)
    for report in (e for e in same if e.statement.kind == Kind.MONITORING_REPORTED.value):
        facts.append(
            Fact(
                f"the monitoring report at seq {report.seq}",
                report.seq,
                _text(b.monitoring_report_row(report_row(report))),
            )
        )
        if red_measures(report):
            response = answered.get(report.entry_hash.hex())
            facts.append(
                Fact(
                    f"the breach reported at seq {report.seq} and its answer",
                    report.seq if response is None else response.seq,
                    _text(b.breach_cells(breach_row(report, response))),
                )
            )
    return facts


def check_pages(
    pdf_path: Path | str, entries: list[Entry], evidence: Evidence
) -> VerificationReport:
    """Compare the PDF's page text with the blocks the proven entries demand.

    The card's subject is the version whose run the evidence proves and whose model and
    version the cover names (the longest such name, so "1.0" is not taken for "1"). The
    report (subject `pages`) fails at the first block missing from the pages, naming the
    entry it comes from."""
    text = page_text(pdf_path)
    subjects = sorted(
        {(e.statement.model, e.statement.version) for e in entries if e.statement.kind in _RUNS},
        key=lambda mv: -len(mv[0] + mv[1]),
    )
    first_failure: Failed | None = None
    for model, version in subjects:
        facts = card_facts(entries, model, version, evidence)
        if facts is None or facts[0].text not in text:
            continue
        missing = next((f for f in facts if f.text and f.text not in text), None)
        if missing is None:
            note = (
                f"the pages state the {len(facts)} facts of {model} {version} that the "
                "proven entries determine"
            )
            return VerificationReport(subject=Subject.PAGES, ok=True, notes=(note,))
        first_failure = first_failure or Failed(
            Problem.PAGES_NOT_BOUND,
            f"the pages do not show {missing.what} as the proven entries state "
            f"(card of {model} {version}): the visible pages were altered or come from "
            "another card",
            seq=missing.seq,
        )
    return VerificationReport.failure(
        Subject.PAGES,
        first_failure
        or Failed(
            Problem.PAGES_NOT_BOUND,
            "the pages name no model version whose run the evidence proves: they come from "
            "another document than the attached evidence.json",
        ),
    )
