"""Model cards and audit reports as HTML (Jinja2, autoescaped), for the web and for print.

`for_print=True` adds the print stylesheet (A4, running header with model and version,
"Page X of Y", a table of contents with page numbers through `target-counter`, table rows
that never split, repeated table headers) and embeds charts as SVG images; `for_print=False`
gives a web page with the charts inline as SVG markup. Every value from the ledger is
escaped: a model named `<script>` is printed as text.
"""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from ledger.log.cosignature import claimed_cosigners
from ledger.log.timestamps import format_rfc3339
from reports.audit import LEDGER_WIDE, AuditReport
from reports.card import ModelCard
from reports.limits import breakable, hex_breakable
from reports.notice import AdverseActionNotice
from reports.render import _charts as charts
from reports.render._columns import sized_tables
from reports.sections import Estimate

TEMPLATES = Path(__file__).parent / "templates"
PSI_STABLE_BELOW = 0.1
PSI_SHIFT_ABOVE = 0.25
"""The usual PSI reading, as `explain.stability` applies it (a test keeps them equal;
importing explain here would cost seconds of pandas import on every CLI call)."""


def num(value: Any, digits: int = 3) -> str:
    """A number for a table: ints with thousands separators, floats to `digits` places."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        if value != 0 and abs(value) < 10**-digits:
            return f"{value:.1e}"  # an additivity error of 6.7e-16 is not "0.000"
        return f"{value:.{digits}f}"
    return str(value)


def signed(value: Any, digits: int = 3) -> str:
    """A change with its sign."""
    return "n/a" if not isinstance(value, int | float) else f"{value:+.{digits}f}"


def pct(value: Any, digits: int = 1) -> str:
    """A share as a percentage."""
    return "n/a" if not isinstance(value, int | float) else f"{value:.{digits}%}"


def estimate(value: Estimate, digits: int = 3) -> Markup:
    """'0.491 [0.375, 0.638]': a point estimate with its confidence interval."""
    text = Markup("{}").format(num(value.value, digits))
    if value.low is not None and value.high is not None:
        text += Markup(' <span class="muted">[{}, {}]</span>').format(
            num(value.low, digits), num(value.high, digits)
        )
    return text


def when(value: Any) -> str:
    """An RFC 3339 timestamp as '2026-11-23 10:00 UTC'."""
    try:
        moment = datetime.strptime(str(value)[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return str(value or "")
    return moment.isoformat(" ", "minutes") + " UTC"  # strftime drops year 1's zeros


def css_string(value: Any) -> Markup:
    """A quoted CSS string for generated content; every risky character hex-escaped.

    Safe inside a <style> element (no '<', '&' or quote survives), where HTML escaping
    would not apply."""
    out = []
    for ch in str(value):
        out.append(ch if ch.isalnum() or ch in " .,:;-_()/+#@" else f"\\{ord(ch):x} ")
    # Safe by construction: every character that could end the string or the element is escaped.
    return Markup('"' + "".join(out) + '"')  # noqa: S704


def witnesses(note: str) -> str:
    """Who cosigned a checkpoint, as its cosignature lines claim (verify-card checks them
    against the witness keys a verifier pins: --witness)."""
    claims = claimed_cosigners(note)
    if not claims:
        return "none: no witness cosigned this checkpoint"
    return "; ".join(
        f"{name}, cosigned {format_rfc3339(datetime.fromtimestamp(at, UTC))}"
        for name, at in sorted(claims)
    )


def dot_breakable(value: Any) -> Markup:
    """An entry kind ("evaluation.recorded") that may break after its dots: `<wbr>`, not a
    zero-width space, so the kind copied from the PDF is the kind."""
    # escape() made the text safe; only <wbr> tags are added.
    return Markup(str(escape(value)).replace(".", ".<wbr>"))  # noqa: S704


def is_gap_row(row: object) -> bool:
    """A table row that states a checklist gap (a cell "GAP: ..."): shown in red, so that
    a reader scanning the card sees what is missing before what is satisfied."""
    return isinstance(row, list | tuple) and any(
        isinstance(v, str) and v.startswith("GAP") for v in row
    )


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=num,
        signed=signed,
        pct=pct,
        estimate=estimate,
        when=when,
        css_string=css_string,
        wrap=breakable,
        hexwrap=hex_breakable,
        dotwrap=dot_breakable,
        witnesses=witnesses,
    )
    env.tests["gap_row"] = is_gap_row
    return env


@cache
def _css(name: str) -> Markup:
    # Our own stylesheet files, not data: trusted markup.
    return Markup((TEMPLATES / name).read_text(encoding="utf-8"))  # noqa: S704


def _figure(svg: str, *, for_print: bool, alt: str) -> Markup:
    if for_print:
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        # base64 text cannot hold markup; `alt` is escaped by format().
        tag = Markup('<img src="data:image/svg+xml;base64,{}" alt="{}">')
        return tag.format(Markup(data), alt)  # noqa: S704
    # matplotlib's SVG writer escapes every label it writes (feature and group names).
    return Markup(svg)  # noqa: S704


def card_charts(card: ModelCard) -> dict[str, str]:
    """SVG charts of a card, by name (only those whose data the card has)."""
    made: dict[str, str] = {}
    p = card.performance
    if p is not None:
        if p.roc_fpr:
            made["roc"] = charts.roc_svg(p.roc_fpr, p.roc_tpr, p.metric("auc"))
        if p.calibration:
            made["calibration"] = charts.calibration_svg(p.calibration)
        if p.confusion:
            made["confusion"] = charts.confusion_svg(p.confusion)
    for index, (name, points) in enumerate(card.run.curves.items()):
        made[f"curve-{index}"] = charts.training_curve_svg(name, points)
    if card.explanation is not None and card.explanation.importance:
        made["importance"] = charts.importance_svg(card.explanation.importance)
    f = card.fairness
    if f is not None:
        for index, part in enumerate(f.partitions):
            reference = next((g for g in part.groups if g.group == part.reference_group), None)
            groups = [
                {
                    "group": g.group,
                    "value": g.selection_rate.value,
                    "low": g.selection_rate.low,
                    "high": g.selection_rate.high,
                    "status": g.four_fifths,
                }
                for g in part.groups
            ]
            if groups:
                made[f"fairness-{index}"] = charts.selection_rate_svg(
                    part.name,
                    groups,
                    reference.selection_rate.value if reference else None,
                    f.threshold,
                    f.confidence,
                )
    s = card.stability
    if s is not None and (s.features or s.score):
        columns = ([{**s.score, "column": "model score"}] if s.score else []) + s.features
        made["psi"] = charts.psi_svg(columns, PSI_STABLE_BELOW, PSI_SHIFT_ABOVE)
    for e, env in enumerate(card.monitoring.environments):
        for i, series in enumerate(env.series):
            made[f"monitoring-{e}-{i}"] = charts.monitoring_svg(
                series.name,
                [dataclasses.asdict(p) for p in series.points],
                series.amber,
                series.red,
                series.direction,
            )
    return made


def card_sections(card: ModelCard) -> list[dict[str, str]]:
    """The card's numbered sections (anchor, title) in order, for the contents and headings."""
    titles = [
        ("summary", "Summary for decision makers"),
        ("details", "Model details"),
        ("use", "Intended use and out-of-scope uses"),
        ("data", "Data"),
        ("performance", "Performance"),
        ("explanations", "Explanations"),
        ("fairness", "Fairness"),
        ("stability", "Stability"),
        ("approvals", "Approvals and sign-off"),
        *((s.anchor, s.title) for s in card.extra_sections),
        ("evidence", "Evidence"),
    ]
    return [{"number": str(i), "anchor": a, "title": t} for i, (a, t) in enumerate(titles, 1)]


def card_html(card: ModelCard, *, for_print: bool) -> str:
    """The model card as one HTML document."""
    figures = {
        name: _figure(svg, for_print=for_print, alt=name) for name, svg in card_charts(card).items()
    }
    html = _render(
        "card.html",
        card=card,
        sections=card_sections(card),
        figures=figures,
        for_print=for_print,
        title=f"Model card: {card.model} {card.version}",
        running_left=f"{card.model} · version {card.version}",
        running_right=f"Model card · {card.status}",
        running_foot=f"{card.evidence.origin} · checkpoint {card.evidence.checkpoint_size}",
        psi_bands=(PSI_STABLE_BELOW, PSI_SHIFT_ABOVE),
    )
    return sized_tables(html) if for_print else html


def audit_html(report: AuditReport, *, for_print: bool) -> str:
    """The audit report as one HTML document."""
    until = when(report.until) if report.until else "the end of the calendar"
    return _render(
        "audit.html",
        report=report,
        ledger_wide=LEDGER_WIDE,
        for_print=for_print,
        title=f"Audit report {report.origin} {when(report.since)} to {until}",
        running_left=f"Audit report · {report.origin}",
        running_right=f"{when(report.since)} to {until}" + (" (exclusive)" if report.until else ""),
        running_foot=f"{report.origin} · checkpoint {report.checkpoint_size}",
    )


def inventory_html(report: Any, *, for_print: bool) -> str:
    """The model inventory (`reports.inventory.InventoryReport`) as one HTML document."""
    return _render(
        "inventory.html",
        report=report,
        for_print=for_print,
        title=f"Model inventory {report.origin}",
        running_left=f"Model inventory · {report.origin}",
        running_right=f"{len(report.rows)} model{'' if len(report.rows) == 1 else 's'} · "
        f"{when(report.generated_at)}",
        running_foot=f"{report.origin} · checkpoint {report.checkpoint_size}",
    )


def notice_html(notice: AdverseActionNotice) -> str:
    """The adverse-action notice as one HTML document for print (a one-page letter)."""
    return _render(
        "notice.html",
        n=notice,
        for_print=True,
        notice_css=_css("notice.css"),
        title=f"Adverse action notice {notice.decision_id}",
        running_left="",  # a one-page letter: the letterhead says who and when
        running_right="",
        running_foot=f"Statement of credit denial · reference {notice.decision_id}",
    )


def _render(template: str, **context: Any) -> str:
    return (
        environment()
        .get_template(template)
        .render(
            css=_css("report.css"),
            print_css=_css("print.css"),
            screen_css=_css("screen.css"),
            **context,
        )
    )
