"""Notifications as signed webhooks, end to end: a real `govledger serve` and a real
receiver on loopback that verifies every delivery with `standardwebhooks.Webhook.verify`.

Intervals and backoff are milliseconds here (GOVLEDGER_WEBHOOK_*), so the retries of a
receiver that is down or failing play out in a second or two."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from ledger.log.entries import build_statement
from ledger.log.timestamps import parse_rfc3339
from ledger.store import LedgerSettings, init_ledger
from ledger.store import _appender as appender
from ledger.store import _bootstrap as bootstrap
from tests.api.conftest import Service, free_port, register_model, start_server
from tests.ledger import factories
from tests.reports import monitoring_story

SECRET = "whsec_" + base64.b64encode(b"govledger-test-secret-32-bytes!!").decode()
FAST = {
    "GOVLEDGER_WEBHOOK_INTERVAL_SECONDS": "0.05",
    "GOVLEDGER_WEBHOOK_BACKOFF_SECONDS": "0.05",
    "GOVLEDGER_WEBHOOK_BACKOFF_MAX_SECONDS": "0.2",
    "GOVLEDGER_WEBHOOK_TIMEOUT_SECONDS": "5",
}


@dataclass
class Receiver:
    """A webhook receiver: verifies each request, answers `status`, keeps what it got."""

    port: int
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    refused_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/govledger"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                try:
                    payload = Webhook(SECRET).verify(body, dict(self.headers.items()))
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.refused_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver.lock:
                    status = receiver.status
                    receiver.received.append(
                        {"id": self.headers["webhook-id"], "status": status, **payload}
                    )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def delivered(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.received if 200 <= r["status"] < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(free_port())
    yield made
    made.stop()


def _webhooks(receiver: Receiver, **extra: Any) -> dict[str, str]:
    endpoint = {"url": receiver.url, "secret": SECRET, "name": "risk-office", **extra}
    return {"GOVLEDGER_WEBHOOKS": json.dumps([endpoint]), **FAST}


def _log_runs(service: Service, model: str, versions: list[str]) -> list[int]:
    """Log a training run per version (each one an `approval.requested`); their seqs."""
    with service.client("dana") as dana:
        dana.register_model(model, description="PD model", intended_use="consumer loans")
        for version in versions:
            register_model(dana, model)
            with dana.run(model, version, algorithm="lightgbm") as run:
                run.log_metric("auc", 0.8)
    with service.client("carol") as carol:
        return [e["seq"] for e in carol.entries(model=model, kind="run.training")]


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _deliveries(service: Service, user: str = "carol") -> dict[str, Any]:
    with service.http(user) as http:
        response = http.get("/v1/webhooks/deliveries", params={"limit": 1000})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_events_arrive_signed_once_each_and_in_order_after_the_receiver_recovers(
    database_url: str, service_factory: Callable[..., Service], receiver: Receiver
) -> None:
    receiver.status = 500
    receiver.start()
    service = service_factory(database_url, **_webhooks(receiver))
    seqs = _log_runs(service, "credit-pd", ["1.0", "1.1", "1.2", "1.3"])
    _wait_for(lambda: len(receiver.received) >= 3)  # the first event, retried
    assert receiver.delivered() == []
    receiver.status = 204
    _wait_for(lambda: len(receiver.delivered()) == len(seqs))
    time.sleep(0.3)  # nothing more arrives

    delivered = receiver.delivered()
    assert receiver.refused_signatures == 0
    assert [d["data"]["seq"] for d in delivered] == seqs  # in order, each once
    assert len({d["id"] for d in delivered}) == len(seqs)
    assert {d["type"] for d in delivered} == {"approval.requested"}
    first = delivered[0]
    assert first["data"]["model"] == "credit-pd" and first["data"]["version"] == "1.0"
    assert {r["id"] for r in receiver.received if r["status"] == 500} == {first["id"]}

    log = _deliveries(service)
    by_seq = {item["event"]["seq"]: item for item in log["items"]}
    assert log["counts"] == {"pending": 0, "delivered": len(seqs), "failed": 0}
    assert by_seq[seqs[0]]["attempts"] > 1
    assert by_seq[seqs[0]]["last_status"] == 204
    assert by_seq[seqs[0]]["event"]["id"] == first["id"]
    assert log["endpoints"] == [{"name": "risk-office", "events": None}]


def test_the_delivery_log_is_for_admins_and_compliance_and_never_shows_a_secret(
    service_factory: Callable[..., Service], receiver: Receiver, sqlite_url: str
) -> None:
    receiver.start()
    service = service_factory(sqlite_url, **_webhooks(receiver, events=["model.deployed"]))
    _log_runs(service, "credit-lgd", ["1.0"])  # not subscribed: no delivery
    for user in ("carol", "adam"):
        text = json.dumps(_deliveries(service, user))
        assert SECRET not in text and SECRET[6:] not in text and receiver.url not in text
    with service.http("dana") as http:
        assert http.get("/v1/webhooks/deliveries").status_code == 403
        assert http.post("/v1/webhooks/deliveries/1/redeliver").status_code == 403
    assert _deliveries(service)["items"] == []
    assert receiver.received == []
    server_log = "".join(p.read_text() for p in service.home.glob("server-*.log"))
    assert SECRET[6:] not in server_log


def test_two_worker_processes_deliver_each_event_once_to_a_receiver_that_was_down(
    service_factory: Callable[..., Service], receiver: Receiver, sqlite_url: str
) -> None:
    service = service_factory(sqlite_url, **_webhooks(receiver))  # the receiver is down
    for process in service.processes:
        process.terminate()
        process.wait(timeout=10)
    port = free_port()
    service.processes = [start_server(service.env, port, workers=2)]
    service.url = f"http://127.0.0.1:{port}"
    seqs = _log_runs(service, "credit-pd", [f"2.{i}" for i in range(8)])
    time.sleep(0.5)  # attempts fail: connection refused
    receiver.start()
    _wait_for(lambda: len(receiver.delivered()) == len(seqs))
    time.sleep(0.5)
    delivered = receiver.delivered()
    assert [d["data"]["seq"] for d in delivered] == seqs
    assert len(receiver.received) == len(seqs)
    assert _deliveries(service)["items"][-1]["attempts"] > 1  # the oldest waited for the receiver

    cli = subprocess.run(
        [sys.executable, "-m", "api", "webhooks", "deliveries", "--status", "delivered"],
        env={**service.env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    lines = cli.stdout.splitlines()
    assert lines[0] == f"0 pending, {len(seqs)} delivered, 0 failed deliveries"
    assert len(lines) == 1 + len(seqs)
    assert all("approval.requested" in line and "to risk-office" in line for line in lines[1:])
    assert SECRET[6:] not in cli.stdout and receiver.url not in cli.stdout


def _config(**endpoint: Any) -> str:
    return json.dumps([{"url": "https://hooks.example/x", "secret": SECRET, **endpoint}])


@pytest.mark.parametrize(
    ("webhooks", "says"),
    [
        (_config(url="ftp://hooks.example/x"), "http:// or https://"),
        (_config(secret="whsec_c2hvcnQ="), "24 to 64"),
        (_config(events=["model.exploded"]), "model.exploded"),
        (_config()[:-3], "not valid JSON"),
    ],
)
def test_bad_webhook_settings_stop_start_up_with_one_line_and_no_secret(
    webhooks: str, says: str, child_python_env: dict[str, str], tmp_path: Any
) -> None:
    env = {
        **child_python_env,
        "GOVLEDGER_WEBHOOKS": webhooks,
        "GOVLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}",
        "GOVLEDGER_HOME": str(tmp_path / "home"),
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [sys.executable, "-m", "api", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: GOVLEDGER_WEBHOOKS"), result.stderr
    assert says in lines[0]
    assert SECRET[6:] not in result.stderr + result.stdout
    assert not os.path.exists(tmp_path / "none.db")


class _TwoMonthsAgo(datetime):
    """A clock 60 days behind: the ledger below is written as if two months ago."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _TwoMonthsAgo:
        moment = datetime.now(tz) - timedelta(days=60)
        return cls.fromtimestamp(moment.timestamp(), tz)


def _overdue_ledger(url: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """1.0 serving in production since two months ago under a monthly plan (responses due
    within 14 days) with one red report of that day never answered: by now its cadence is
    missed and its breach overdue. Returns the red report's seq and the promotion's."""
    with monkeypatch.context() as clock:
        for module in (appender, bootstrap, factories):
            clock.setattr(module, "datetime", _TwoMonthsAgo)
        store = init_ledger(LedgerSettings(database_url=url, home=home), origin="test.example/o")
        m = monitoring_story.serving_version(store)
        plan = monitoring_story.approved_plan(m)
        day = _TwoMonthsAgo.now(UTC).date().isoformat()
        red = build_statement(
            kind="monitoring.reported", model=factories.MODEL, version="1.0", actor="dana",
            payload={"plan": plan.entry_hash.hex(), "period": {"start": day, "end": day},
                     "rows": 800, "measures": {"score_psi": {"value": 0.4, "status": "red"}}},
        )  # fmt: skip
        seqs = store.append(red).seq, m.entries["promotion"].seq
        store.close()
    return seqs


def test_overdue_monitoring_is_announced_once_per_reason_and_due_date(
    receiver: Receiver, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    red_seq, _ = _overdue_ledger(sqlite_url, home, monkeypatch)
    receiver.start()
    env = {
        **os.environ,
        "GOVLEDGER_DATABASE_URL": sqlite_url,
        "GOVLEDGER_HOME": str(home),
        "GOVLEDGER_MONITORING_CHECK_SECONDS": "0.1",
        **_webhooks(receiver),
    }
    server = start_server(env, free_port(), workers=2)  # two processes find the same lapses
    try:
        _wait_for(lambda: len(receiver.delivered()) >= 2)
        time.sleep(1.0)  # many more checks in both processes: nothing new to announce
    finally:
        server.terminate()
        server.wait(timeout=10)
    delivered = receiver.delivered()
    assert receiver.refused_signatures == 0
    assert len(delivered) == 2 and len({d["id"] for d in delivered}) == 2
    by_reason = {d["data"]["reason"]: d for d in delivered}
    assert set(by_reason) == {"missed_cadence", "breach_unanswered"}
    assert {d["type"] for d in delivered} == {"monitoring.overdue"}
    breach = by_reason["breach_unanswered"]["data"]
    assert breach["model"] == factories.MODEL and breach["version"] == "1.0"
    assert breach["environment"] == "production" and breach["report_seq"] == red_seq
    assert breach["red_measures"] == ["score_psi"]
    cadence = by_reason["missed_cadence"]
    assert cadence["data"]["cadence"] == "monthly"
    assert cadence["timestamp"] == cadence["data"]["due"]  # it happened when the report was due
    assert parse_rfc3339(breach["due"]) < parse_rfc3339(cadence["data"]["due"])
