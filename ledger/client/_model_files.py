"""A trained model as a file, by its flavour, and back.

`model_file(model)` picks the flavour from the model's class (scikit-learn, XGBoost,
LightGBM; anything else is `python`, pickled) and serializes it in the library's own format
where it has one: XGBoost's UBJSON (`Booster.save_raw("ubj")`), LightGBM's text model
(`Booster.model_to_string()`), which load without running code; scikit-learn has none, so
it is joblib's pickle. The run records the flavour, the format, the library and its
version beside the file's SHA-256 (`ledger.log.payloads.ModelSerialization`).

`load_model_file` reads it back. Unpickling (joblib, pickle: the `sklearn` and `python`
flavours, and the scikit-learn wrappers of XGBoost and LightGBM) runs code that the file
chose: load only files from a ledger you trust. The caller checks the digest first
(`LedgerClient.load_model`), so the bytes are the ones the run recorded.
"""

from __future__ import annotations

import importlib
import io
import pickle
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from ledger.errors import ModelFlavourUnknown

FLAVOURS = ("sklearn", "xgboost", "lightgbm", "python")
_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "python": None,
}
_SUFFIX = {
    "joblib": ".joblib",
    "pickle": ".pkl",
    "xgboost-ubj": ".ubj",
    "lightgbm-text": ".txt",
    "xgboost-sklearn-joblib": ".joblib",
    "lightgbm-sklearn-joblib": ".joblib",
}


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A model serialized: its bytes, a file name and what the run records of it."""

    data: bytes
    file_name: str
    flavour: str
    format: str
    library: str | None
    library_version: str | None

    def serialization(self) -> dict[str, Any]:
        """The record the run's artifact reference carries (`ModelSerialization`)."""
        record: dict[str, Any] = {"flavour": self.flavour, "format": self.format}
        if self.library is not None:
            record["library"] = self.library
        if self.library_version is not None:
            record["library_version"] = self.library_version
        return record


def detect_flavour(model: Any) -> str:
    """The flavour of a model object, from the package its class is defined in."""
    root = type(model).__module__.split(".", 1)[0]
    if root in ("sklearn", "xgboost", "lightgbm"):
        return root
    return "python"


def model_file(model: Any, *, flavour: str | None = None, name: str | None = None) -> ModelFile:
    """Serialize `model` in its flavour's format (`flavour` None: detected)."""
    flavour = flavour or detect_flavour(model)
    if flavour not in FLAVOURS:
        raise ModelFlavourUnknown(
            f"flavour {flavour!r} is not one of {', '.join(FLAVOURS)}: pass one, or None to "
            "detect it from the model"
        )
    if flavour == "xgboost" and type(model).__name__ == "Booster":
        data, fmt = bytes(model.save_raw(raw_format="ubj")), "xgboost-ubj"
    elif flavour == "lightgbm" and type(model).__name__ == "Booster":
        data, fmt = model.model_to_string().encode("utf-8"), "lightgbm-text"
    elif flavour in ("sklearn", "xgboost", "lightgbm"):
        data = _joblib_bytes(model)
        fmt = "joblib" if flavour == "sklearn" else f"{flavour}-sklearn-joblib"
    else:
        data, fmt = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), "pickle"
    library = _DISTRIBUTIONS[flavour]
    return ModelFile(
        data=data,
        file_name=(name or f"model{_SUFFIX[fmt]}"),
        flavour=flavour,
        format=fmt,
        library=library,
        library_version=_version_of(library),
    )


def load_model_file(data: bytes, serialization: dict[str, Any]) -> Any:
    """The model from its bytes and the run's record of how they were made.

    Pickled formats run code while loading: call this only on bytes whose digest matched
    the run's record, from a ledger you trust."""
    fmt = str(serialization.get("format", ""))
    if fmt == "xgboost-ubj":
        xgboost = importlib.import_module("xgboost")
        booster = xgboost.Booster()
        booster.load_model(bytearray(data))
        return booster
    if fmt == "lightgbm-text":
        lightgbm = importlib.import_module("lightgbm")
        return lightgbm.Booster(model_str=data.decode("utf-8"))
    if fmt in ("joblib", "xgboost-sklearn-joblib", "lightgbm-sklearn-joblib"):
        joblib = importlib.import_module("joblib")
        return joblib.load(io.BytesIO(data))
    if fmt == "pickle":
        return pickle.loads(data)  # noqa: S301 - the documented, digest-checked trust boundary
    raise ModelFlavourUnknown(
        f"the model file's format {fmt!r} is not one this client reads (joblib, pickle, "
        "xgboost-ubj, lightgbm-text)"
    )


def _joblib_bytes(model: Any) -> bytes:
    joblib = importlib.import_module("joblib")
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def _version_of(distribution: str | None) -> str | None:
    if distribution is None:
        return None
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
