"""Charts for cards as SVG text (matplotlib, Agg-free SVG backend), legible in print.

Text stays text (`svg.fonttype: none`, DejaVu Sans), so WeasyPrint sets it in the embedded
font and it can be searched and copied in the PDF; colours are the Okabe-Ito palette, which
survives colour blindness and greyscale printing with the help of hatching and labels.
Figures are built with `matplotlib.figure.Figure` (no pyplot state) under one lock, since
rcParams are process-wide. Each function takes plain numbers and returns SVG markup, and
is remembered by the digest of its arguments (`reports.render._chart_memo`).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from reports.render._chart_memo import by_digest

BLUE, ORANGE, VERMILION, GREEN = "#0072B2", "#E69F00", "#D55E00", "#009E73"
SKY, GREY, PURPLE, INK = "#56B4E9", "#8C8C8C", "#CC79A7", "#1F2A37"
WIDTH = 6.6
_LOCK = threading.Lock()
_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "govledger",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "axes.edgecolor": "#6B7280",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "grid.color": "#E5E7EB",
    "grid.linewidth": 0.6,
}
_DIRECTION_COLOURS = {"positive": BLUE, "negative": VERMILION, "mixed": GREY, "categorical": PURPLE}
_DIRECTION_LABELS = {
    "positive": "higher value raises the score",
    "negative": "higher value lowers the score",
    "mixed": "no monotone direction",
    "categorical": "categorical",
}
_FOUR_FIFTHS_COLOURS = {"reference": BLUE, "pass": SKY, "fail": VERMILION, "not_reliable": GREY}


def label_inches(labels: Sequence[str], size: float = 7.5) -> float:
    """Room for the longest tick label (DejaVu Sans averages ~0.56 em per character)."""
    longest = max((len(str(label)) for label in labels), default=4)
    return 0.15 + longest * 0.56 * size / 72


def _render(
    draw: Any,
    height: float,
    width: float = WIDTH,
    *,
    left: float = 0.6,
    bottom: float = 0.45,
    top: float = 0.28,
    right: float = 0.15,
) -> str:
    """Draw into a figure with fixed margins (inches) and return the SVG markup.

    Fixed margins instead of bbox_inches="tight" draw the figure once, not twice."""
    with _LOCK, rc_context(_STYLE):  # type: ignore[arg-type]
        fig = Figure(figsize=(width, height))
        fig.subplots_adjust(
            left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
        )
        draw(fig)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


@by_digest
def roc_svg(fpr: Sequence[float], tpr: Sequence[float], auc: float | None) -> str:
    """ROC curve with the chance diagonal."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=0.8, label="chance")
        label = "model" if auc is None else f"model (AUC {auc:.3f})"
        ax.plot(fpr, tpr, color=BLUE, linewidth=1.6, label=label)
        ax.set(
            xlim=(0, 1),
            ylim=(0, 1.01),
            xlabel="False positive rate (bad risks approved)",
            ylabel="True positive rate (good risks approved)",
            title="ROC curve",
        )
        ax.set_aspect("equal")
        ax.grid(True)
        ax.legend(loc="lower right")

    return _render(draw, 3.2, 3.3, left=0.55, bottom=0.45)


@by_digest
def calibration_svg(bins: Sequence[dict[str, Any]]) -> str:
    """Observed good rate against mean predicted score, per score decile."""
    points: list[tuple[float, float]] = [
        (float(b["mean_score"]), float(b["observed_good_rate"]))
        for b in bins
        if isinstance(b.get("mean_score"), int | float)
        and isinstance(b.get("observed_good_rate"), int | float)
    ]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.plot(
            [0, 1], [0, 1], color=GREY, linestyle="--", linewidth=0.8, label="perfect calibration"
        )
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=ORANGE,
            marker="o",
            markersize=3.5,
            linewidth=1.4,
            label="score deciles",
        )
        ax.set(
            xlim=(0, 1),
            ylim=(0, 1.01),
            xlabel="Mean predicted probability of good risk",
            ylabel="Observed good rate",
            title="Calibration by decile",
        )
        ax.set_aspect("equal")
        ax.grid(True)
        ax.legend(loc="upper left")

    return _render(draw, 3.2, 3.3, left=0.55, bottom=0.45)


@by_digest
def confusion_svg(confusion: dict[str, Any]) -> str:
    """2 x 2 decisions at the cut-off against outcomes, with counts."""
    cells = [[confusion.get("tp"), confusion.get("fn")], [confusion.get("fp"), confusion.get("tn")]]
    values = [[v if isinstance(v, int | float) else 0 for v in row] for row in cells]
    total = sum(sum(r) for r in values) or 1

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.imshow(values, cmap="Blues", vmin=0, vmax=max(max(r) for r in values) or 1)
        names = [
            ["approved, good (TP)", "declined, good (FN)"],
            ["approved, bad (FP)", "declined, bad (TN)"],
        ]
        for i in range(2):
            for j in range(2):
                value = values[i][j]
                dark = value > 0.55 * (max(max(r) for r in values) or 1)
                ax.text(
                    j,
                    i,
                    f"{value:,.0f}\n{value / total:.1%}\n{names[i][j]}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if dark else INK,
                )
        ax.set_xticks([0, 1], ["approved", "declined"])
        ax.set_yticks([0, 1], ["good (y = 1)", "bad (y = 0)"])
        threshold = confusion.get("threshold")
        cut = f" at cut-off {threshold:g}" if isinstance(threshold, int | float) else ""
        ax.set_title(f"Decisions{cut}")
        for spine in ax.spines.values():
            spine.set_visible(False)

    return _render(draw, 2.9, 3.3, left=0.8, bottom=0.3, right=0.05)


LABEL_ROOM = 2.4
"""The widest a SHAP chart's feature label may be (inches of a 6.6-inch figure): a longer
name is shortened with an ellipsis; the table under the chart prints it in full."""


def text_points(text: str, size: float = 7.5) -> float:
    """The width of `text` set in DejaVu Sans at `size` points, measured from the font."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(family="DejaVu Sans", size=size)
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return float(width)


def fitted_label(text: str, room: float = LABEL_ROOM, size: float = 7.5) -> str:
    """`text`, or its longest prefix that fits in `room` inches followed by an ellipsis."""
    if text_points(text, size) <= room * 72:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix whose shortened form fits
        middle = (low + high + 1) // 2
        if text_points(text[:middle] + "…", size) <= room * 72:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"


@by_digest
def importance_svg(importance: Sequence[dict[str, Any]], limit: int = 15) -> str:
    """Mean |SHAP| per feature, coloured by the direction of its effect.

    The left margin is measured from the longest label (shortened past LABEL_ROOM), so no
    name is cut at the figure's edge; the legend sits under the axis, where it covers no bar."""
    items = [i for i in importance if isinstance(i.get("mean_abs_shap"), int | float)][:limit]
    items = list(reversed(items))
    labels = [fitted_label(str(i["feature"])) for i in items]
    seen = [d for d in _DIRECTION_COLOURS if any(i.get("direction") == d for i in items)]
    legend_rows = (len(seen) + 1) // 2

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        colours = [_DIRECTION_COLOURS.get(str(i.get("direction")), GREY) for i in items]
        # positions, not names: two features shortened to one label stay two bars
        ax.barh(range(len(items)), [i["mean_abs_shap"] for i in items], color=colours, height=0.7)
        ax.set_yticks(range(len(items)), labels)
        ax.set_ylim(-0.6, max(len(items), 1) - 0.4)
        ax.set(
            xlabel="Mean |SHAP contribution| (how much the feature moves scores)",
            title="Global feature importance (SHAP)",
        )
        ax.grid(True, axis="x")
        ax.set_axisbelow(True)
        handles = [Patch(color=_DIRECTION_COLOURS[d], label=_DIRECTION_LABELS[d]) for d in seen]
        if handles:
            fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.01), ncols=2)

    left = 0.2 + max((text_points(label) for label in labels), default=20) / 72
    return _render(
        draw,
        0.9 + 0.2 * max(len(items), 1) + 0.19 * legend_rows,
        left=left,
        bottom=0.45 + 0.19 * legend_rows,
    )


@by_digest
def selection_rate_svg(
    name: str,
    groups: Sequence[dict[str, Any]],
    reference_rate: float | None,
    threshold: float | None,
    confidence: float | None,
) -> str:
    """Selection rate per group with confidence intervals and the four-fifths line.

    `groups`: dicts with group, value, low, high, status (reference/pass/fail/not_reliable).
    """
    rows = list(reversed([g for g in groups if isinstance(g.get("value"), int | float)]))

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        labels = [str(g["group"]) for g in rows]
        values = [g["value"] for g in rows]
        colours = [_FOUR_FIFTHS_COLOURS.get(str(g.get("status")), GREY) for g in rows]
        hatches = ["////" if g.get("status") == "fail" else "" for g in rows]
        bars = ax.barh(labels, values, color=colours, height=0.62, edgecolor="white")
        for bar, hatch in zip(bars, hatches, strict=True):
            bar.set_hatch(hatch)
        for y, g in enumerate(rows):
            low, high = g.get("low"), g.get("high")
            if isinstance(low, int | float) and isinstance(high, int | float):
                ax.errorbar(
                    g["value"],
                    y,
                    xerr=[[g["value"] - low], [high - g["value"]]],
                    color=INK,
                    capsize=2.5,
                    linewidth=0.9,
                )
        title = f"Selection rate by {name}"
        if reference_rate is not None and threshold is not None:
            line = reference_rate * threshold
            ax.axvline(line, color=VERMILION, linestyle="--", linewidth=1.1)
            title += (
                f"\ndashed line: four-fifths line = {threshold:g} x reference rate "
                f"{reference_rate:.3f} = {line:.3f}"
            )
        level = f"{confidence:.0%} " if confidence else ""
        ax.set(xlim=(0, 1.02), xlabel=f"Selection (approval) rate, {level}confidence interval")
        ax.set_title(title, fontsize=8.5)
        ax.grid(True, axis="x")
        ax.set_axisbelow(True)

    return _render(
        draw,
        1.15 + 0.26 * max(len(rows), 1),
        top=0.45,
        left=label_inches([str(g["group"]) for g in rows]),
    )


@by_digest
def psi_svg(
    columns: Sequence[dict[str, Any]], stable_below: float, shift_above: float, limit: int = 20
) -> str:
    """PSI per column with the stable / watch / shift bands shaded."""
    rows = [c for c in columns if isinstance(c.get("psi"), int | float)][:limit]
    rows = list(reversed(rows))

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        top = max([c["psi"] for c in rows] + [shift_above * 1.3])
        ax.axvspan(0, stable_below, color=GREEN, alpha=0.10, lw=0)
        ax.axvspan(stable_below, shift_above, color=ORANGE, alpha=0.14, lw=0)
        ax.axvspan(shift_above, top * 1.08, color=VERMILION, alpha=0.10, lw=0)
        for x in (stable_below, shift_above):
            ax.axvline(x, color=GREY, linestyle="--", linewidth=0.8)
        colours = [
            VERMILION if c["psi"] > shift_above else ORANGE if c["psi"] >= stable_below else BLUE
            for c in rows
        ]
        ax.barh(
            [str(c.get("column")) for c in rows],
            [c["psi"] for c in rows],
            color=colours,
            height=0.62,
        )
        ax.set(
            xlim=(0, top * 1.08),
            xlabel=f"PSI  (stable < {stable_below:g} <= watch <= {shift_above:g} < shift)",
            title="Population stability index",
        )
        ax.set_axisbelow(True)

    return _render(
        draw,
        0.95 + 0.22 * max(len(rows), 1),
        left=label_inches([str(c.get("column")) for c in rows]),
    )


_STATUS_COLOURS = {"green": GREEN, "amber": ORANGE, "red": VERMILION}


@by_digest
def monitoring_svg(
    name: str,
    points: Sequence[dict[str, Any]],
    amber: float,
    red: float,
    direction: str,
) -> str:
    """One monitored measure, report by report, against its amber and red thresholds.

    `points`: dicts with label, value, status, ci_low, ci_high and answer (for a red point:
    the action that answered the breach, or None while unanswered). The zones beyond each
    threshold are shaded; a breach is a large cross, labelled with its answer."""
    shown = [(i, p) for i, p in enumerate(points) if isinstance(p.get("value"), int | float)]
    higher = direction == "higher_is_worse"

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        values = [float(p["value"]) for _, p in shown]
        for _, p in shown:
            for key in ("ci_low", "ci_high"):
                if isinstance(p.get(key), int | float):
                    values.append(float(p[key]))
        low = min([*values, amber, red])
        high = max([*values, amber, red])
        pad = (high - low) * 0.25 or abs(high) * 0.1 or 0.1
        bottom, top = low - pad, high + pad
        if higher:
            ax.axhspan(amber, red, color=ORANGE, alpha=0.14, lw=0)
            ax.axhspan(red, top, color=VERMILION, alpha=0.10, lw=0)
        else:
            ax.axhspan(red, amber, color=ORANGE, alpha=0.14, lw=0)
            ax.axhspan(bottom, red, color=VERMILION, alpha=0.10, lw=0)
        ax.axhline(amber, color=ORANGE, linestyle="--", linewidth=1.0, label=f"amber {amber:g}")
        ax.axhline(red, color=VERMILION, linestyle="--", linewidth=1.1, label=f"red {red:g}")
        xs = [i for i, _ in shown]
        ax.plot(xs, [p["value"] for _, p in shown], color=GREY, linewidth=0.9, zorder=2)
        for i, p in shown:
            value = float(p["value"])
            low_ci, high_ci = p.get("ci_low"), p.get("ci_high")
            if isinstance(low_ci, int | float) and isinstance(high_ci, int | float):
                ax.errorbar(
                    i,
                    value,
                    yerr=[[value - float(low_ci)], [float(high_ci) - value]],
                    color=INK,
                    capsize=2.5,
                    linewidth=0.8,
                    zorder=3,
                )
            breach = p.get("status") == "red"
            ax.scatter(
                [i],
                [value],
                s=70 if breach else 22,
                marker="X" if breach else "o",
                color=_STATUS_COLOURS.get(str(p.get("status")), BLUE),
                edgecolor=INK,
                linewidth=0.5,
                zorder=4,
            )
            if breach:
                answer = p.get("answer")
                ax.annotate(
                    f"breach: {answer}" if answer else "breach: UNANSWERED",
                    (i, value),
                    xytext=(6, 6),
                    textcoords="offset points",
                    fontsize=7,
                    color=INK,
                    fontweight="normal" if answer else "bold",
                )
        ax.set_xticks(range(len(points)), [str(p.get("label", "")) for p in points])
        ax.set_xlim(-0.6, max(len(points) - 0.4, 0.6))
        ax.set_ylim(bottom, top)
        worse = "higher is worse" if higher else "lower is worse"
        ax.set(ylabel=name, title=f"{name} by report ({worse}; period end and report seq)")
        ax.grid(True, axis="y")
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", ncols=2)

    return _render(draw, 2.3, bottom=0.55, left=0.7)


@by_digest
def training_curve_svg(name: str, points: Sequence[tuple[int, float]]) -> str:
    """One metric logged with a step (a training curve): value by step, the last point
    marked and labelled, so the value the run's metrics table states is visible."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        steps = [step for step, _ in points]
        values = [value for _, value in points]
        ax.plot(steps, values, color=BLUE, linewidth=1.3, marker="o" if len(points) < 30 else "")
        if points:
            ax.scatter([steps[-1]], [values[-1]], s=26, color=VERMILION, zorder=3)
            ax.annotate(
                f"{values[-1]:.4g} at step {steps[-1]}",
                (steps[-1], values[-1]),
                xytext=(-6, 6),
                textcoords="offset points",
                ha="right",
                fontsize=7,
                color=INK,
            )
        ax.set(xlabel="step", ylabel=name, title=f"{name} by step")
        ax.grid(True)
        ax.set_axisbelow(True)

    return _render(draw, 2.0, 3.2, left=0.62, bottom=0.42)
