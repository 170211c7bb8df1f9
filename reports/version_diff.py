"""What changed between two versions of a model, each difference with the entries that show it.

A validator reviewing 1.1.0 asks first what is different from 1.0.0: parameters, metrics,
features, the data (fingerprints, rows, columns), the environment it trained in (packages,
python, platform, git revision and dirt), the code revision, the seeds, the reason
catalogue and who approved. `version_diff` answers from the two versions' entries alone, and
each `Difference` cites the entries (seq and hash) that establish it, so the answer can be
checked against the log. `govledger diff` prints it and the model card's "What changed"
section shows it against the version's parent or previous version.

Digests are compared only within one fingerprint scheme (`ledger.log.payloads
.fingerprint_scheme`): a dataset fingerprinted as CSV text in one run and by its columns in
the other is reported as a change of scheme, not as a change of data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import UnknownEntry, UnknownModelVersion, VersionsOfDifferentModels
from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.log.payloads import fingerprint_scheme
from ledger.store import LedgerStore, VersionView, model_entries, version_view
from reports.citations import EntryRef, cite

ASPECTS = (
    "params",
    "metrics",
    "features",
    "seeds",
    "datasets",
    "environment",
    "code",
    "catalogue",
    "approvals",
)
"""The aspects a diff compares, in the order it lists them."""

_RUN_KINDS = (Kind.RUN_TRAINING.value, Kind.RUN_RECALIBRATION.value)
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Difference:
    """One thing that differs: `change` is added, removed, changed, upgraded or downgraded;
    `before` / `after` are the values in the older / newer version (None: absent)."""

    aspect: str
    item: str
    change: str
    before: Any
    after: Any
    entries: tuple[EntryRef, ...]
    """The entries that establish it: each side's run, catalogue or decisions."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "aspect": self.aspect,
            "item": self.item,
            "change": self.change,
            "before": self.before,
            "after": self.after,
            "entries": [
                {"seq": e.seq, "entry_hash": e.entry_hash, "kind": e.kind} for e in self.entries
            ],
        }


@dataclass
class VersionDiff:
    """The differences from version `before` to version `after` of `model`."""

    model: str
    before: str
    after: str
    before_run: EntryRef
    after_run: EntryRef
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What could not be compared, and why (e.g. only one side records a catalogue)."""

    def of(self, aspect: str) -> list[Difference]:
        return [d for d in self.differences if d.aspect == aspect]

    def cited(self) -> list[EntryRef]:
        """Every entry a difference cites, and both runs, by seq."""
        found = {self.before_run.seq: self.before_run, self.after_run.seq: self.after_run}
        for d in self.differences:
            for e in d.entries:
                found.setdefault(e.seq, e)
        return [found[s] for s in sorted(found)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "before": {"version": self.before, "run": _ref(self.before_run)},
            "after": {"version": self.after, "run": _ref(self.after_run)},
            "differences": [d.to_dict() for d in self.differences],
            "notes": list(self.notes),
        }

    def heading(self) -> str:
        count = len(self.differences)
        return (
            f"{self.model} {self.before} (run seq {self.before_run.seq}) -> {self.after} "
            f"(run seq {self.after_run.seq}): {count} difference{'' if count == 1 else 's'}"
        )

    def rows(self) -> list[list[str]]:
        """One row per difference: aspect, item, change, before, after, the entries' seqs."""
        return [
            [
                d.aspect,
                d.item,
                d.change,
                shown(d.before),
                shown(d.after),
                ", ".join(str(e.seq) for e in d.entries),
            ]
            for d in self.differences
        ]

    def text(self, width: int = 64) -> str:
        """The diff as plain text: the heading, a fixed-width table (cells cut at `width`,
        which a SHA-256 in hex fits), the notes."""
        header = ["ASPECT", "ITEM", "CHANGE", "BEFORE", "AFTER", "ENTRIES (SEQ)"]
        rows = [[_cut(c, width) for c in row] for row in self.rows()]
        lines = [self.heading()]
        if rows:
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            for row in [header, *rows]:
                lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(line.rstrip() for line in lines) + "\n"


def _ref(entry: EntryRef) -> dict[str, Any]:
    return {"seq": entry.seq, "entry_hash": entry.entry_hash}


def shown(value: Any) -> str:
    """A value as a diff shows it: '-' for absent, text as it is, anything else as JSON-ish."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(shown(v) for v in value) or "(none)"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- choosing the versions -----------------------------------------------------------------


def _view(store: LedgerStore, model: str, named: str, family: list[Entry]) -> VersionView:
    """A version named by its name, or by its run's entry hash (which must be the model's)."""
    if _HASH.fullmatch(named) and not any(e.statement.version == named for e in family):
        run = next((e for e in family if e.entry_hash.hex() == named), None)
        if run is None:
            try:
                other: Entry | None = store.entry_by_hash(bytes.fromhex(named))
            except UnknownEntry:
                other = None
            if other is not None and other.statement.model != model:
                raise VersionsOfDifferentModels(
                    f"the run {named[:12]}… is of model {other.statement.model!r}, not "
                    f"{model!r}: compare two versions of one model (`govledger diff "
                    f"{other.statement.model} V1 V2`)"
                )
            raise UnknownModelVersion(
                f"no run of {model} has the entry hash {named[:12]}…: name a version, or a "
                "run entry hash of this model"
            )
        if run.statement.kind not in _RUN_KINDS:
            raise UnknownModelVersion(
                f"the entry {named[:12]}… is a {run.statement.kind}, not a run: name a "
                "version or a run entry hash"
            )
        named = run.statement.version
    try:
        return version_view(store, model, named, entries_of_model=family)
    except UnknownModelVersion:
        known = sorted({e.statement.version for e in family if e.statement.kind in _RUN_KINDS})
        listed = ", ".join(known[:20]) if known else "none"
        raise UnknownModelVersion(
            f"{model} {named} was never logged: the versions of {model} are {listed}"
        ) from None


def version_diff(store: LedgerStore, model: str, before: str, after: str) -> VersionDiff:
    """What changed from version `before` to `after` of `model` (each a version name or a
    run entry hash). UnknownModelVersion names the versions the model has;
    VersionsOfDifferentModels when a run hash belongs to another model."""
    family = model_entries(store, model)
    if not family:
        raise UnknownModelVersion(
            f"model {model!r} is not in the ledger: `govledger report inventory` lists the models"
        )
    return diff_views(_view(store, model, before, family), _view(store, model, after, family))


def previous_version(view: VersionView, family: list[Entry]) -> Entry | None:
    """The run a version is best compared with: its parent run (a recalibration's
    `parent_run`), else the latest run of another version of the model before it."""
    run = view.run
    parent = run.statement.payload.get("parent_run")
    if isinstance(parent, str):
        found = next((e for e in family if e.entry_hash.hex() == parent), None)
        if found is not None:
            return found
    earlier = [
        e
        for e in family
        if e.seq < run.seq
        and e.statement.kind in _RUN_KINDS
        and e.statement.version != view.version
    ]
    return earlier[-1] if earlier else None


# -- comparing -----------------------------------------------------------------------------


def diff_views(before: VersionView, after: VersionView) -> VersionDiff:
    """The differences between two versions' views (of one model)."""
    if before.model != after.model:
        raise VersionsOfDifferentModels(
            f"{before.model} {before.version} and {after.model} {after.version} are versions "
            "of different models: compare two versions of one model"
        )
    runs = (
        cite(before.run, f"run of {before.version}"),
        cite(after.run, f"run of {after.version}"),
    )
    diff = VersionDiff(before.model, before.version, after.version, runs[0], runs[1])
    old, new = before.run.statement.payload, after.run.statement.payload
    for aspect, key in (("params", "params"), ("metrics", "metrics"), ("seeds", "seeds")):
        diff.differences += _mapping(aspect, "", _dict(old.get(key)), _dict(new.get(key)), runs)
    diff.differences += _mapping(
        "params",
        "",
        {"algorithm": old.get("algorithm")} if old.get("algorithm") else {},
        {"algorithm": new.get("algorithm")} if new.get("algorithm") else {},
        runs,
    )
    diff.differences += _features(old, new, runs)
    diff.differences += _datasets(old, new, runs)
    diff.differences += _environment(old, new, runs, diff.notes, before.version, after.version)
    if old.get("code_revision") != new.get("code_revision"):
        diff.differences.append(
            _change(
                "code", "code_revision", old.get("code_revision"), new.get("code_revision"), runs
            )
        )
    diff.differences += _catalogue(before, after, diff.notes)
    diff.differences += _approvals(before, after)
    order = {a: i for i, a in enumerate(ASPECTS)}
    diff.differences.sort(key=lambda d: order.get(d.aspect, len(order)))
    return diff


def _dict(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def _change(
    aspect: str, item: str, before: Any, after: Any, entries: Iterable[EntryRef]
) -> Difference:
    change = "added" if before is None else "removed" if after is None else "changed"
    return Difference(aspect, item, change, before, after, tuple(entries))


def _mapping(
    aspect: str,
    prefix: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    entries: Iterable[EntryRef],
) -> list[Difference]:
    refs = tuple(entries)
    found = []
    for key in sorted(set(old) | set(new)):
        if key in old and key in new and old[key] == new[key]:
            continue
        item = f"{prefix}{key}"
        if key not in old:
            found.append(Difference(aspect, item, "added", None, new[key], refs))
        elif key not in new:
            found.append(Difference(aspect, item, "removed", old[key], None, refs))
        else:
            found.append(Difference(aspect, item, "changed", old[key], new[key], refs))
    return found


def _features(
    old: Mapping[str, Any], new: Mapping[str, Any], runs: tuple[EntryRef, EntryRef]
) -> list[Difference]:
    before, after = old.get("features"), new.get("features")
    if not isinstance(before, list) or not isinstance(after, list):
        if isinstance(before, list) != isinstance(after, list):
            return [_change("features", "features", before, after, runs)]
        return []
    found = [
        Difference("features", str(f), "removed", str(f), None, runs)
        for f in before
        if f not in after
    ]
    found += [
        Difference("features", str(f), "added", None, str(f), runs)
        for f in after
        if f not in before
    ]
    return found


def _by_name(payload: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for d in payload.get("datasets") or []:
        if isinstance(d, dict):
            name = str(d.get("name", ""))
            key, n = name, 2
            while key in found:
                key, n = f"{name} ({n})", n + 1
            found[key] = d
    return found


def _datasets(
    old: Mapping[str, Any], new: Mapping[str, Any], runs: tuple[EntryRef, EntryRef]
) -> list[Difference]:
    before, after = _by_name(old), _by_name(new)
    found: list[Difference] = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is None or b is None:
            digest = (b or a or {}).get("sha256")
            found.append(
                _change(
                    "datasets",
                    name,
                    None if a is None else digest,
                    None if b is None else digest,
                    runs,
                )
            )
            continue
        schemes = fingerprint_scheme(a), fingerprint_scheme(b)
        if schemes[0] != schemes[1]:
            found.append(
                Difference(
                    "datasets",
                    f"{name} fingerprint scheme",
                    "changed",
                    schemes[0],
                    schemes[1],
                    runs,
                )
            )
        elif a.get("sha256") != b.get("sha256"):
            found.append(
                Difference(
                    "datasets", f"{name} sha256", "changed", a.get("sha256"), b.get("sha256"), runs
                )
            )
        for key in ("rows", "role"):
            if a.get(key) != b.get(key):
                found.append(_change("datasets", f"{name} {key}", a.get(key), b.get(key), runs))
        cols_a, cols_b = a.get("columns"), b.get("columns")
        if isinstance(cols_a, list) and isinstance(cols_b, list):
            found += [
                Difference("datasets", f"{name} column {c}", "removed", c, None, runs)
                for c in cols_a
                if c not in cols_b
            ]
            found += [
                Difference("datasets", f"{name} column {c}", "added", None, c, runs)
                for c in cols_b
                if c not in cols_a
            ]
    return found


def _version_order(before: str, after: str) -> str:
    """upgraded, downgraded or changed, by PEP 440 where both versions parse."""
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging comes with pip and setuptools
        return "changed"
    try:
        older, newer = Version(before), Version(after)
    except InvalidVersion:
        return "changed"
    return "upgraded" if newer > older else "downgraded" if newer < older else "changed"


def _environment(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    runs: tuple[EntryRef, EntryRef],
    notes: list[str],
    before_version: str,
    after_version: str,
) -> list[Difference]:
    a, b = old.get("environment"), new.get("environment")
    if not isinstance(a, dict) or not isinstance(b, dict):
        if isinstance(a, dict) or isinstance(b, dict):
            missing = before_version if not isinstance(a, dict) else after_version
            notes.append(
                f"the run of {missing} records no environment (logged before the client "
                "captured it, or with capture_environment=False): environments not compared"
            )
        return []
    found: list[Difference] = []
    for group, keys in (
        ("python", ("version", "implementation")),
        ("platform", ("system", "release", "machine")),
    ):
        found += _mapping(
            "environment",
            f"{group} ",
            {k: v for k, v in _dict(a.get(group)).items() if k in keys},
            {k: v for k, v in _dict(b.get(group)).items() if k in keys},
            runs,
        )
    packages_a, packages_b = a.get("packages"), b.get("packages")
    if isinstance(packages_a, dict) and isinstance(packages_b, dict):
        for d in _mapping("environment", "package ", packages_a, packages_b, runs):
            if d.change == "changed":
                d = Difference(
                    d.aspect,
                    d.item,
                    _version_order(str(d.before), str(d.after)),
                    d.before,
                    d.after,
                    d.entries,
                )
            found.append(d)
    lock_a, lock_b = _dict(a.get("lock_file")), _dict(b.get("lock_file"))
    if lock_a.get("sha256") != lock_b.get("sha256"):
        found.append(
            _change(
                "environment",
                "lock file sha256",
                lock_a.get("sha256") or ("(packages listed)" if packages_a else None),
                lock_b.get("sha256") or ("(packages listed)" if packages_b else None),
                runs,
            )
        )
    git_a, git_b = a.get("git"), b.get("git")
    if isinstance(git_a, dict) and isinstance(git_b, dict):
        found += _mapping(
            "environment",
            "git ",
            {k: git_a.get(k) for k in ("revision", "dirty", "diff_sha256") if k in git_a},
            {k: git_b.get(k) for k in ("revision", "dirty", "diff_sha256") if k in git_b},
            runs,
        )
    elif git_a != git_b:
        found.append(
            _change(
                "environment",
                "git checkout",
                "none" if git_a is None else _dict(git_a).get("revision"),
                "none" if git_b is None else _dict(git_b).get("revision"),
                runs,
            )
        )
    return found


def _catalogue_entry(view: VersionView) -> Entry | None:
    """The catalogue a version's notices use (the one in force), else its latest recorded."""
    in_force = {s.seq for s in view.catalogue_states if s.in_force}
    chosen = [e for e in view.catalogues if e.seq in in_force] or view.catalogues
    return chosen[-1] if chosen else None


def _catalogue(before: VersionView, after: VersionView, notes: list[str]) -> list[Difference]:
    a, b = _catalogue_entry(before), _catalogue_entry(after)
    if a is None or b is None:
        if a is not None or b is not None:
            missing = before.version if a is None else after.version
            notes.append(f"{missing} records no reason catalogue: catalogues not compared")
        return []
    refs = (
        cite(a, f"reason catalogue of {before.version}"),
        cite(b, f"reason catalogue of {after.version}"),
    )

    def lines(entry: Entry) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in entry.statement.payload.get("entries") or []:
            if isinstance(line, dict):
                values = line.get("values")
                where = str(line.get("feature", ""))
                if values is not None:
                    where += f" = {shown(values)}"
                found[where] = f"{line.get('code')}: {line.get('statement')}"
        return found

    found = _mapping("catalogue", "", lines(a), lines(b), refs)
    version_a = a.statement.payload.get("catalogue_version")
    version_b = b.statement.payload.get("catalogue_version")
    if version_a != version_b:
        found.insert(0, _change("catalogue", "catalogue_version", version_a, version_b, refs))
    return found


def _approvals(before: VersionView, after: VersionView) -> list[Difference]:
    """Who decided what, in which role, on each version's run: the latest decision of each
    (role, person) counts, as the approval policy counts them."""

    def decided(view: VersionView) -> dict[str, tuple[str, Entry]]:
        run_hash = view.run.entry_hash.hex()
        found: dict[str, tuple[str, Entry]] = {}
        for entry in view.decisions:
            p = entry.statement.payload
            if (p.get("subject") or p.get("run")) != run_hash:
                continue
            granted = entry.statement.kind == Kind.APPROVAL_GRANTED.value
            key = f"{p.get('role', '')} {entry.statement.actor}"
            found[key] = ("granted" if granted else "rejected", entry)
        return found

    a, b = decided(before), decided(after)
    found: list[Difference] = []
    for key in sorted(set(a) | set(b)):
        old, new = a.get(key), b.get(key)
        if old is not None and new is not None and old[0] == new[0]:
            continue
        refs = tuple(
            cite(side[1], f"decision on {version}")
            for side, version in ((old, before.version), (new, after.version))
            if side is not None
        )
        found.append(
            _change("approvals", key, old[0] if old else None, new[0] if new else None, refs)
        )
    return found
