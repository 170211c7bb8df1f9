"""An artifact store whose file system refuses the bytes answers 503, and keeps nothing.

The store is a real, tiny tmpfs mounted over the service's artifact folder (root may mount
one; the tests skip, saying why, where mounting is not permitted): a full disk (ENOSPC) and
a read-only one (EROFS) both answer `ledger-unavailable`, like a lost database does, with no
partial file left under the store, and the store works again once space is back.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Service, make_service, stop
from tests.api.test_errors import assert_problem


def _mount(target: Path, options: str) -> None:
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip() or result.returncode}")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def small_store_service(tmp_path: Path) -> Iterator[tuple[Service, Path]]:
    """A service whose artifact folder is a 1 MiB tmpfs."""
    svc = make_service(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)
    store = svc.home / "artifacts"
    store.mkdir(parents=True, exist_ok=True)
    try:
        _mount(store, "size=1m")
        yield svc, store
    finally:
        stop(svc)
        subprocess.run(["umount", str(store)], capture_output=True, check=False)


def test_an_upload_on_a_full_disk_is_a_503_and_leaves_no_partial_file(
    small_store_service: tuple[Service, Path],
) -> None:
    svc, store = small_store_service
    before = svc.size()
    with svc.http("dana") as dana:
        full = dana.post(
            "/v1/artifacts",
            params={"name": "shap_values.csv"},
            content=os.urandom(3 * 1024 * 1024),
            headers={"Content-Type": "application/octet-stream"},
        )
        body = assert_problem(full, 503, "ledger-unavailable")
        assert "No space left on device" in body["detail"]
        assert _files(store) == []
        assert svc.size() == before
        small = dana.post(
            "/v1/artifacts",
            params={"name": "small.csv"},
            content=b"a,b\n1,2\n",
            headers={"Content-Type": "application/octet-stream"},
        )
    assert small.status_code == 201, small.text
    assert len(_files(store)) == 1


def test_an_upload_to_a_read_only_store_is_a_503(
    small_store_service: tuple[Service, Path],
) -> None:
    svc, store = small_store_service
    remount = subprocess.run(
        ["mount", "-o", "remount,ro", str(store)],
        capture_output=True,
        text=True,
        check=False,
    )
    if remount.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only: {remount.stderr.strip()}")
    with svc.http("dana") as dana:
        response = dana.post(
            "/v1/artifacts",
            content=b"x" * 100,
            headers={"Content-Type": "application/octet-stream"},
        )
    body = assert_problem(response, 503, "ledger-unavailable")
    assert "Read-only file system" in body["detail"]
    assert _files(store) == []
