"""Files the commands write (PDFs, HTML, CSV, bundles): whole or not at all.

Each file is written under a `.partial` name beside the target and renamed over it only
once complete (an atomic rename on POSIX), so a reader, or a retention job copying the
folder, never sees half a PDF or a bundle cut short; a failed write leaves the previous
file, if any, in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path`, replacing it only once every byte is written."""
    partial = _partial(path)
    partial.write_bytes(data)
    partial.replace(path)


@contextmanager
def writing_atomically(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text handle whose content becomes `path` when the block ends without error."""
    partial = _partial(path)
    with open(partial, "w", encoding="utf-8") as handle:
        yield handle
    partial.replace(path)
