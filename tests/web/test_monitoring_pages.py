"""The model page's monitoring badge per environment, from a real `govledger serve` over a
ledger whose monitored version has a breach awaiting its answer (its own service: the shared
one's entry counts are asserted elsewhere; the ledger is written through the store)."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import make_service, stop
from tests.ledger.factories import MODEL
from tests.reports.monitoring_story import build_monitored
from tests.web.conftest import sign_in


def test_the_model_page_shows_each_serving_versions_monitoring_status(tmp_path: Path) -> None:
    svc = make_service(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)
    try:
        store = svc.open_store()
        try:
            build_monitored(store, validator="victor", approver="alice")
        finally:
            store.engine.dispose()
        client = sign_in(svc.url, svc.api_keys["dana"])
        try:
            page = client.get(f"/models/{MODEL}")
            assert page.status_code == 200
            assert (
                'class="status status-monitoring-under-review" title="monitoring of 1.0 in '
                'production">1.0: monitoring under review</span>'
            ) in page.text
            card = client.get(f"/models/{MODEL}/versions/1.0")
            assert card.status_code == 200 and "Monitoring in service" in card.text
        finally:
            client.close()
    finally:
        stop(svc)
