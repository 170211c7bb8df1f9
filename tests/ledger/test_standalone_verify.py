"""The standalone verifier: one file, no govledger, verifies real export bundles.

It runs with `python -I` from a temporary folder with every govledger package (and the
libraries govledger uses for canonical JSON) blocked from import; it agrees with
`rfc8785.dumps` on the canonical form; any one-byte change to a bundle makes it fail.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import math
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.log import ed25519_strict, signing
from ledger.log.entries import build_statement
from ledger.store import ArtifactStore, LedgerSettings, init_ledger
from ledger.verify import export_bundle, verify_bundle
from tests.ledger.regulated import build_regulated_ledger

SCRIPT = Path(__file__).parents[2] / "ledger" / "verify" / "standalone.py"
BLOCKED = ("ledger", "reports", "api", "explain", "rfc8785", "pydantic", "sqlalchemy", "tests")
RUNNER = """
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError("standalone_verify must not import " + name)
sys.meta_path.insert(0, Block())
sys.argv = ["standalone_verify.py", *sys.argv[1:]]
try:
    runpy.run_path("standalone_verify.py", run_name="__main__")
finally:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in {blocked!r})
    print("LOADED", loaded, file=sys.stderr)
"""


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("standalone_verify", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sv = _load()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A bundle exported by the real ledger (the regulated model's life) and its key."""
    folder = tmp_path_factory.mktemp("bundle")
    settings = LedgerSettings(database_url=f"sqlite:///{folder / 'l.db'}", home=folder / "h")
    store = init_ledger(settings, origin="bank.example/retention")
    build_regulated_ledger(store, ArtifactStore(settings.artifacts_path))
    store.append(  # a revoked key, so that revocation is in the bundle too
        build_statement(
            kind="key.revoked",
            actor="vera",
            reason="laptop replaced",
            payload={"key_id": store.entry(1).statement.payload["key_id"]},
        )
    )
    path = folder / "ledger.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        export_bundle(store, out)
    key = store.meta()["verifier_key"]
    store.engine.dispose()
    return path, key


def run_isolated(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -I` in an empty temp folder, with only the copied script."""
    shutil.copy(SCRIPT, tmp_path / "standalone_verify.py")
    return subprocess.run(
        [sys.executable, "-I", "-c", RUNNER.format(blocked=BLOCKED), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_verifies_a_real_bundle_isolated_from_govledger(
    exported: tuple[Path, str], tmp_path: Path
) -> None:
    bundle, key = exported
    assert verify_bundle(bundle).ok  # govledger agrees
    result = run_isolated(tmp_path, str(bundle), "--key", key)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: bundle of 27 entries of bank.example/retention")
    assert "LOADED []" in result.stderr
    assert "note: trusted" not in result.stdout


def test_its_imports_are_the_standard_library_and_cryptography_only() -> None:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots - set(sys.stdlib_module_names) == {"cryptography"}


def test_a_key_file_pins_the_ledger_and_another_key_fails(
    exported: tuple[Path, str], tmp_path: Path
) -> None:
    bundle, key = exported
    (tmp_path / "ledger.pub").write_text(key + "\n")
    assert sv.main([str(bundle), "--key", str(tmp_path / "ledger.pub")]) == 0
    other = init_ledger(
        LedgerSettings(database_url=f"sqlite:///{tmp_path / 'o.db'}", home=tmp_path / "o"),
        origin="bank.example/retention",
    )
    wrong = other.meta()["verifier_key"]
    other.engine.dispose()
    with pytest.raises(sv.Failed, match="another ledger key"):
        sv.verify_file(bundle, wrong)
    forged = tmp_path / "forged.jsonl"
    forged.write_text(bundle.read_text(encoding="utf-8").replace(key, wrong, 1), encoding="utf-8")
    with pytest.raises(sv.Failed, match="no signature by key"):
        sv.verify_file(forged, wrong)
    assert sv.main([str(tmp_path / "missing.jsonl")]) == 2
    assert sv.main([]) == 2


def _flip(data: bytes, position: int) -> bytes:
    """Change one byte, keeping the file UTF-8 (ASCII bytes only)."""
    byte = data[position]
    replacement = byte ^ 0x01 if byte not in (0x0A, 0x0D) else 0x20
    return data[:position] + bytes([replacement]) + data[position + 1 :]


def test_any_one_byte_change_to_the_bundle_fails(
    exported: tuple[Path, str], tmp_path: Path
) -> None:
    bundle, key = exported
    data = bundle.read_bytes()
    header_end = data.index(b"\n")
    exported_at = data.index(b'"exported_at"')
    unsigned = range(exported_at, data.index(b"}", exported_at))  # informational, unsigned
    ascii_positions = [
        p for p in range(len(data)) if data[p] < 0x80 and p not in unsigned and p != header_end
    ]
    step = max(1, len(ascii_positions) // 300)
    tampered = tmp_path / "t.jsonl"
    survivors = []
    for position in ascii_positions[::step]:
        tampered.write_bytes(_flip(data, position))
        try:
            sv.verify_file(tampered, key)
        except sv.Failed:
            continue
        except (ValueError, KeyError, TypeError) as exc:  # pragma: no cover - a crash
            pytest.fail(f"byte {position}: crashed with {exc!r} instead of failing cleanly")
        survivors.append(position)
    assert survivors == []
    tampered.write_bytes(_flip(data, len(data) // 2))
    result = run_isolated(tmp_path, str(tampered), "--key", key)
    assert result.returncode == 1 and result.stderr.startswith("FAILED")


def test_removed_reordered_and_truncated_entries_fail(
    exported: tuple[Path, str], tmp_path: Path
) -> None:
    bundle, key = exported
    lines = bundle.read_text(encoding="utf-8").splitlines(keepends=True)
    entries = [i for i, line in enumerate(lines) if line.startswith('{"type": "entry"')]
    keys = [i for i, line in enumerate(lines) if line.startswith('{"type": "key"')]
    cases = {
        "removed": [line for i, line in enumerate(lines) if i != entries[5]],
        "truncated": lines[:-1],
        "reordered": [
            *lines[: entries[3]],
            lines[entries[4]],
            lines[entries[3]],
            *lines[entries[5] :],
        ],
        "key line dropped": [line for i, line in enumerate(lines) if i != keys[0]],
    }
    for name, changed in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(changed), encoding="utf-8")
        with pytest.raises(sv.Failed):
            sv.verify_file(path, key)
        assert not verify_bundle(path, verifier_key=key).ok or name == "key line dropped"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_canonical_form_is_rfc8785(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        with pytest.raises(sv.Failed):
            sv.canonical(value)
        return
    assert sv.canonical(value).encode("utf-8") == expected


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_are_formatted_as_ecmascript_does(value: float) -> None:
    assert sv.es_number(value) == rfc8785.dumps(value).decode()
    assert float(sv.es_number(value)) == value or (value == 0 and math.copysign(1, value) < 0)


def test_rfc_8785_appendix_examples() -> None:
    """Numbers from RFC 8785 appendix B, and its sorting example (section 3.2.3)."""
    for bits, text in [
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c3e0000000000001", "-9223372036854778000"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("44b52d02c7e14af6", "1e+23"),
        ("41b3de4355555553", "333333333.3333332"),
        ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555557", "333333333.33333343"),
    ]:
        assert sv.es_number(struct.unpack(">d", bytes.fromhex(bits))[0]) == text
    data = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew", "1": "One",
            "\U0001f600": "Emoji", "\u0080": "Control", "\u00f6": "Latin"}  # fmt: skip
    assert list(json.loads(sv.canonical(data))) == [
        "\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"
    ]  # fmt: skip


def test_the_standalone_citation_table_restates_the_ledgers() -> None:
    """Both verifiers must refuse the same citations: the restated table is the same rule."""
    from ledger.governance import _citations as citations
    from ledger.verify import standalone as standalone_verify

    restated = {
        kind: tuple(
            (c.field, c.many, None if c.kinds is None else tuple(sorted(c.kinds)), c.same_model,
             c.same_version)
            for c in rule
        )
        for kind, rule in citations.CITATIONS.items()
    }  # fmt: skip
    standalone = {
        kind: tuple(
            (f, many, None if kinds is None else tuple(sorted(kinds)), model, version)
            for f, many, kinds, model, version in rule
        )
        for kind, rule in standalone_verify.CITATIONS.items()
    }
    assert standalone == restated


def _strict_cases() -> dict[str, tuple[bytes, bytes, bytes]]:
    """(public key, signature, message) cases of the strict Ed25519 rule."""
    key = signing.generate_private_key()
    public, message = signing.public_key_raw(key), b"approve credit-scoring 1.0"
    good = key.sign(message)
    identity = bytes([1]) + bytes(31)
    s_plus_l = int.from_bytes(good[32:], "little") + ed25519_strict.L
    cases = {
        "honest": (public, good, message),
        "identity key, universal signature": (identity, identity + bytes(32), message),
        "S + L": (public, good[:32] + s_plus_l.to_bytes(32, "little"), message),
        "R of small order": (public, identity + good[32:], message),
        "key y >= p": ((2**255 - 1).to_bytes(32, "little"), good, message),
        "other message": (public, good, message + b"!"),
    }
    for point in sorted(ed25519_strict.SMALL_ORDER_POINTS):
        cases[f"small-order key {point.hex()[:8]}"] = (point, point + bytes(32), message)
    return cases


@pytest.mark.parametrize("case", list(_strict_cases()))
def test_its_strict_ed25519_rule_gives_govledgers_verdicts(case: str) -> None:
    public, signature, message = _strict_cases()[case]
    ours = signing.verify(
        base64.b64encode(public).decode(), message, base64.b64encode(signature).decode()
    )
    try:
        sv.strict_verify(public, signature, message, None)
        theirs = True
    except sv.Failed:
        theirs = False
    assert ours is theirs is (case == "honest")
