"""An MLflow tracking server read over its REST API 2.0, with httpx.

Speaking MLflow's documented REST API (`/api/2.0/mlflow/...`) keeps MLflow and its
dependencies out of govledger's environment: any MLflow 2 or 3 server answers it. Every
failure becomes one `ImportSourceError` that says which server and what to check, so the
command prints one line and writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ledger.errors import ImportSourceError, ImportSourceNotFound

_PAGE = 1000
"""Runs per `runs/search` page (MLflow's maximum is 50,000; smaller pages answer sooner)."""

MAX_ARTIFACTS = 10_000
"""Files listed per run at most: a run with more is refused rather than cut short."""


class MLflowSource:
    """One MLflow tracking server: the reads an import needs, each a plain JSON object.

    `server` is the tracking URI without its trailing slash: the name the ledger's
    entries give the source, so the same server is recognised on the next import."""

    def __init__(self, tracking_uri: str, *, timeout: float = 30.0) -> None:
        uri = tracking_uri.strip().rstrip("/")
        if not uri.startswith(("http://", "https://")):
            raise ImportSourceError(
                f"tracking URI {tracking_uri!r} is not an http(s) URL: give the MLflow "
                "tracking server's address, e.g. http://127.0.0.1:5000"
            )
        self.server = uri
        self._http = httpx.Client(base_url=f"{uri}/api/2.0/mlflow/", timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> MLflowSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ImportSourceError(
                f"cannot reach the MLflow tracking server at {self.server} ({exc}): check "
                "--tracking-uri and that the server is running"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            detail = body.get("message", "") if isinstance(body, dict) else response.text[:200]
            code = body.get("error_code", "") if isinstance(body, dict) else ""
            if code == "RESOURCE_DOES_NOT_EXIST":
                raise ImportSourceNotFound(f"{self.server}: {detail}")
            raise ImportSourceError(
                f"the MLflow server at {self.server} answered {path} with HTTP "
                f"{response.status_code} {code} {detail}".rstrip()
                + ": is it an MLflow tracking server (REST API 2.0)?"
            )
        return body

    def experiment(self, name: str) -> dict[str, Any]:
        """The experiment of that name; ImportSourceNotFound when the server has none."""
        try:
            body = self._call("GET", "experiments/get-by-name", params={"experiment_name": name})
        except ImportSourceNotFound:
            raise ImportSourceNotFound(
                f"experiment {name!r} does not exist on {self.server}: check its name in the "
                "MLflow UI (names are case-sensitive)"
            ) from None
        return dict(body["experiment"])

    def experiments(self) -> list[dict[str, Any]]:
        """Every active experiment, in the server's order."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            request: dict[str, Any] = {"max_results": _PAGE}
            if token:
                request["page_token"] = token
            body = self._call("POST", "experiments/search", json=request)
            found.extend(body.get("experiments", []))
            token = body.get("next_page_token")
            if not token:
                return found

    def runs(self, experiment_ids: list[str]) -> Iterator[dict[str, Any]]:
        """The active runs of these experiments, oldest first (parents before children
        when they started in that order)."""
        token: str | None = None
        while True:
            request: dict[str, Any] = {
                "experiment_ids": experiment_ids,
                "max_results": _PAGE,
                "run_view_type": "ACTIVE_ONLY",
                "order_by": ["attributes.start_time ASC"],
            }
            if token:
                request["page_token"] = token
            body = self._call("POST", "runs/search", json=request)
            yield from body.get("runs", [])
            token = body.get("next_page_token")
            if not token:
                return

    def artifacts(self, run_id: str) -> list[dict[str, Any]]:
        """Every file of a run's artifacts (`artifacts/list`, folders walked): path and
        size, which is all MLflow lists (no digest)."""
        files: list[dict[str, Any]] = []
        folders = [""]
        while folders:
            folder = folders.pop()
            params = {"run_id": run_id, **({"path": folder} if folder else {})}
            for item in self._call("GET", "artifacts/list", params=params).get("files", []):
                if item.get("is_dir"):
                    folders.append(str(item["path"]))
                else:
                    files.append(item)
            if len(files) > MAX_ARTIFACTS:
                raise ImportSourceError(
                    f"run {run_id} on {self.server} lists more than {MAX_ARTIFACTS:,} artifact "
                    "files: import it with --no-artifacts"
                )
        return sorted(files, key=lambda f: str(f["path"]))

    def artifact_digest(self, artifact_uri: str, path: str) -> tuple[str, int] | None:
        """SHA-256 and size of one artifact file, downloaded through the server's artifact
        proxy (MLflow Artifacts REST API, `mlflow-artifacts/artifacts/...`); None for a run
        whose artifacts the server does not serve (a `s3://` or local artifact URI: the
        tracking server only lists those)."""
        if not artifact_uri.startswith("mlflow-artifacts:"):
            return None
        root = urlsplit(artifact_uri).path.strip("/")
        url = f"{self.server}/api/2.0/mlflow-artifacts/artifacts/{quote(f'{root}/{path}')}"
        digest, size = hashlib.sha256(), 0
        try:
            with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ImportSourceError(
                        f"the MLflow server at {self.server} answered HTTP "
                        f"{response.status_code} for artifact {path!r} of {artifact_uri}: "
                        "import without --hash-artifacts, or check the server's artifact store"
                    )
                for chunk in response.iter_bytes():
                    digest.update(chunk)
                    size += len(chunk)
        except httpx.HTTPError as exc:
            raise ImportSourceError(
                f"cannot download artifact {path!r} from {self.server} ({exc}): import "
                "without --hash-artifacts, or check that the server is running"
            ) from None
        return digest.hexdigest(), size

    def registered_model(self, name: str) -> dict[str, Any]:
        """The registered model of that name (with its aliases); ImportSourceNotFound."""
        try:
            body = self._call("GET", "registered-models/get", params={"name": name})
        except ImportSourceNotFound:
            raise ImportSourceNotFound(
                f"registered model {name!r} does not exist on {self.server}: check its name "
                "in the MLflow UI's Models page"
            ) from None
        return dict(body["registered_model"])

    def registered_models(self) -> list[dict[str, Any]]:
        """Every registered model (`registered-models/search`)."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"max_results": _PAGE}
            if token:
                params["page_token"] = token
            body = self._call("GET", "registered-models/search", params=params)
            found.extend(body.get("registered_models", []))
            token = body.get("next_page_token")
            if not token:
                return found

    def model_versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of a registered model (`model-versions/search`), lowest first."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        quoted = name.replace("'", "\\'")
        while True:
            params: dict[str, Any] = {"filter": f"name='{quoted}'", "max_results": _PAGE}
            if token:
                params["page_token"] = token
            body = self._call("GET", "model-versions/search", params=params)
            found.extend(body.get("model_versions", []))
            token = body.get("next_page_token")
            if not token:
                return sorted(found, key=lambda v: int(str(v.get("version", "0"))))
