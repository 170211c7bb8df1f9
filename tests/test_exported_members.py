"""What each package exports is deliberate: `__all__` is the public surface, nothing else.

A package whose modules are private (`_name.py`) hands on its public names in `__init__`
and lists them in `__all__`; a public name that appears in a package without being listed
was exported by accident (as httpx checks its own `__all__`). Code outside a package may
not import its private modules: it goes through the package's face. Tests may.
"""

from __future__ import annotations
import __future__ as future_module

import ast
import importlib
import pkgutil
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP = ("ledger", "explain", "reports", "api")


def _packages() -> list[str]:
    found = []
    for top in TOP:
        found.append(top)
        package = importlib.import_module(top)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{top}."):
            if info.ispkg and "._" not in info.name:
                found.append(info.name)
    return sorted(found)


def _public_attributes(package: types.ModuleType) -> set[str]:
    """The public classes and functions the package defines or hands on from its own modules
    (names it merely imports from elsewhere, such as `Path`, are not its exports)."""
    own = package.__name__
    return {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | future_module._Feature)
        and (getattr(value, "__module__", own) or own).startswith(own)
    }


@pytest.mark.parametrize("name", _packages())
def test_a_package_exports_exactly_its_all(name: str) -> None:
    package = importlib.import_module(name)
    exported = getattr(package, "__all__", None)
    assert exported is not None, f"{name}/__init__.py declares no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ names something twice"
    for member in exported:  # a listed module is imported on demand, as `import *` does
        assert hasattr(package, member) or importlib.util.find_spec(f"{name}.{member}"), (
            f"{name}.__all__ lists {member!r}, which {name} does not have"
        )
    accidental = _public_attributes(package) - set(exported)
    assert not accidental, f"{name} exports {sorted(accidental)} without listing them in __all__"


def _private_imports(path: Path) -> list[str]:
    """The private modules of other packages that the file at `path` imports."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    importer = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    here = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if "._" not in node.module:  # `from package import _module`
                modules += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        for module in modules:
            pieces = module.split(".")
            for i, piece in enumerate(pieces):
                if piece.startswith("_") and not piece.startswith("__"):
                    owner = ".".join(pieces[:i])
                    if here != owner and not here.startswith(owner + "."):
                        bad.append(module)
                    break
    return bad


def test_no_code_outside_a_package_imports_its_private_modules() -> None:
    offenders = {}
    for top in (*TOP, "migrations", "examples"):
        for path in sorted((ROOT / top).rglob("*.py")):
            found = _private_imports(path)
            if found:
                offenders[str(path.relative_to(ROOT))] = found
    assert not offenders, offenders


def test_the_private_module_check_sees_an_import_across_packages(tmp_path: Path) -> None:
    """The check above is not vacuous: an import of another package's private module is found."""
    module = ROOT / "api" / "service" / "_probe_for_test.py"
    module.write_text("from ledger.store._appender import Appender  # noqa\n")
    try:
        assert _private_imports(module) == ["ledger.store._appender"]
    finally:
        module.unlink()
