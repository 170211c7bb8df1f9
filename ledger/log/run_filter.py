"""The run search language: a small filter over runs' metrics, params and tags.

Modelled on MLflow's search syntax, so a data scientist's habits carry over:

    metrics.auc > 0.7 and params.C = '1.0' and tags.team != 'retail'

A filter is clauses joined by `and`; a clause is `KEY OP VALUE`. KEY is `metrics.NAME`,
`params.NAME`, `tags.NAME` (a NAME with other characters than letters, digits, `_`, `-`
and `.` is backquoted: metrics.`val auc`) or one of the run's attributes `version`, `kind`,
`actor`, `model`. OP is one of `= != < <= > >=`; VALUE is a number or a quoted string
('...' or "..."). Metrics compare as numbers; params, tags and attributes as text (`=` and
`!=`), or as numbers when both sides are numbers (`params.max_depth > 3`). A run that lacks
the key does not match. The text is tokenised and parsed here, never evaluated, and a
filter that does not parse is refused (`InvalidRunFilter`) saying where and why.

`order_by` keys are the same KEYs, each optionally followed by `ASC` or `DESC`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ledger.errors import InvalidRunFilter

MAX_FILTER_LENGTH = 2_000
MAX_CLAUSES = 50
ATTRIBUTES = ("version", "kind", "actor", "model")
SECTIONS = ("metrics", "params", "tags")
Op = Literal["=", "!=", "<", "<=", ">", ">="]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<key>(?:metrics|params|tags)\.(?:`(?:[^`]|``)+`|[A-Za-z0-9_][A-Za-z0-9_.\-]*)
          |version|kind|actor|model)
    |(?P<op><=|>=|!=|=|<|>)
    |(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    |(?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    |(?P<and>(?i:and)\b)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One `KEY OP VALUE` of a filter; `section` is metrics, params, tags or attribute."""

    section: str
    name: str
    op: Op
    value: float | str

    def matches(self, run: Mapping[str, Any]) -> bool:
        """Whether a run (its attributes and its metrics, params and tags) satisfies this."""
        found = _lookup(run, self.section, self.name)
        if found is _MISSING or found is None:
            return False
        if self.section == "metrics" or isinstance(self.value, float):
            number = _number(found)
            if number is None or not isinstance(self.value, float):
                return False
            return _compare(number, self.op, self.value)
        return _compare(_text(found), self.op, self.value)


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One sort key of `order_by`: a KEY and its direction."""

    section: str
    name: str
    descending: bool


_MISSING = object()


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as a search answers it: plain values, no entry object."""

    seq: int
    entry_hash: str
    model: str
    version: str
    kind: str
    actor: str
    recorded_at: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    algorithm: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON carries it (what `GET /v1/runs` answers per run)."""
        return {
            "seq": self.seq,
            "entry_hash": self.entry_hash,
            "model": self.model,
            "version": self.version,
            "kind": self.kind,
            "actor": self.actor,
            "recorded_at": self.recorded_at,
            "run_id": self.run_id,
            "algorithm": self.algorithm,
            "params": self.params,
            "metrics": self.metrics,
            "tags": self.tags,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        """A record from its JSON form (`as_dict`), as the client reads a search's answer."""
        return cls(
            seq=int(data["seq"]),
            entry_hash=str(data["entry_hash"]),
            model=str(data["model"]),
            version=str(data["version"]),
            kind=str(data["kind"]),
            actor=str(data["actor"]),
            recorded_at=str(data["recorded_at"]),
            params=dict(data.get("params") or {}),
            metrics=dict(data.get("metrics") or {}),
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
            run_id=data.get("run_id"),
            algorithm=data.get("algorithm"),
        )


def parse_filter(text: str | None) -> list[Clause]:
    """The clauses of a filter (none for an empty one); InvalidRunFilter if it does not parse."""
    text = (text or "").strip()
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidRunFilter(f"the filter is longer than {MAX_FILTER_LENGTH} characters")
    clauses: list[Clause] = []
    position = 0
    while position < len(text):
        if clauses:
            position = _expect(text, position, "and", "'and' between two clauses")
        key, position = _next(
            text, position, "key", "a key (metrics.NAME, params.NAME, tags.NAME, version...)"
        )
        op, position = _next(text, position, "op", "an operator (= != < <= > >=)")
        kind, value, position = _value(text, position)
        section, name = _key(key)
        if op not in ("=", "!=") and kind == "string":
            raise InvalidRunFilter(
                f"{key} {op} {value!r}: {op} compares numbers; quote-free numbers only"
            )
        if section == "metrics" and kind == "string":
            raise InvalidRunFilter(f"{key} is a metric: compare it with a number, not {value!r}")
        operator: Op = op  # type: ignore[assignment]  # the token pattern allows only these
        clauses.append(Clause(section, name, operator, float(value) if kind == "number" else value))
        if len(clauses) > MAX_CLAUSES:
            raise InvalidRunFilter(f"a filter holds at most {MAX_CLAUSES} clauses")
        position = _skip_space(text, position)
    return clauses


def parse_order_by(keys: list[str] | None) -> list[OrderKey]:
    """Sort keys such as `metrics.auc DESC`, `version`, `seq`; InvalidRunFilter otherwise."""
    parsed: list[OrderKey] = []
    for raw in keys or []:
        words = raw.strip().rsplit(None, 1)
        descending = False
        if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
            raw_key, descending = words[0], words[1].upper() == "DESC"
        else:
            raw_key = raw.strip()
        if raw_key == "seq":
            parsed.append(OrderKey("attribute", "seq", descending))
            continue
        match = _TOKEN.fullmatch(raw_key)
        if match is None or match.lastgroup != "key":
            raise InvalidRunFilter(
                f"order_by {raw!r}: expected a key (metrics.NAME, params.NAME, tags.NAME, "
                "version, kind, actor, model or seq), then ASC or DESC"
            )
        section, name = _key(raw_key)
        parsed.append(OrderKey(section, name, descending))
    return parsed


def sort_runs(runs: list[Mapping[str, Any]], keys: list[OrderKey]) -> list[Mapping[str, Any]]:
    """Runs sorted by `keys` (the first key first); a run lacking a key sorts after those
    that have it, in either direction, and numbers before text."""
    ordered = list(runs)
    for key in reversed(keys):
        present = [r for r in ordered if _lookup(r, key.section, key.name) not in (_MISSING, None)]
        missing = [r for r in ordered if _lookup(r, key.section, key.name) in (_MISSING, None)]
        present.sort(key=lambda r: _sort_value(r, key), reverse=key.descending)
        ordered = present + missing
    return ordered


def _sort_value(run: Mapping[str, Any], key: OrderKey) -> tuple[int, float, str]:
    found = _lookup(run, key.section, key.name)
    number = _number(found)
    return (0, number, "") if number is not None else (1, 0.0, _text(found))


def _expect(text: str, position: int, group: str, what: str) -> int:
    _, position = _next(text, position, group, what)
    return position


def _next(text: str, position: int, group: str, what: str) -> tuple[str, int]:
    match = _TOKEN.match(text, position)
    if match is None or match.lastgroup != group:
        found = text[position:].strip()[:30] or "the end of the filter"
        raise InvalidRunFilter(
            f"at character {_skip_space(text, position) + 1}: expected {what}, found {found!r}"
        )
    return str(match.group(group)), match.end()


def _value(text: str, position: int) -> tuple[str, str, int]:
    match = _TOKEN.match(text, position)
    if match is None or match.lastgroup not in ("number", "string"):
        found = text[position:].strip()[:30] or "the end of the filter"
        raise InvalidRunFilter(
            f"at character {_skip_space(text, position) + 1}: expected a number or a quoted "
            f"string, found {found!r}"
        )
    if match.lastgroup == "number":
        number = float(match.group("number"))
        if not math.isfinite(number):
            raise InvalidRunFilter(f"{match.group('number')} is not a finite number")
        return "number", match.group("number"), match.end()
    quoted = match.group("string")
    quote = quoted[0]
    return "string", quoted[1:-1].replace(quote * 2, quote), match.end()


def _key(key: str) -> tuple[str, str]:
    if key in ATTRIBUTES:
        return "attribute", key
    section, name = key.split(".", 1)
    if name.startswith("`"):
        name = name[1:-1].replace("``", "`")
    return section, name


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _lookup(run: Mapping[str, Any], section: str, name: str) -> Any:
    if section == "attribute":
        return run.get(name, _MISSING)
    values = run.get(section)
    if not isinstance(values, Mapping):
        return _MISSING
    return values.get(name, _MISSING)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)
