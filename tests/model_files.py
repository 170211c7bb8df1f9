"""Model files for tests that deploy through the client: a deployment binds to the run's
model file (an artifact with role `model`), so a run that is deployed logs one."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path


@cache
def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="govledger-model-files-"))


def model_file_for(model: str, version: str) -> Path:
    """A small file standing in for the model of `model` `version` (distinct bytes each)."""
    path = _folder() / f"{model}-{version}.txt"
    if not path.exists():
        path.write_text(f"tree 0\nleaf {model} {version}\n")
    return path
