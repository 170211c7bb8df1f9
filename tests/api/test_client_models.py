"""`Run.log_model(model)` records the model file with its flavour against a real service,
and `LedgerClient.load_model` gives the same model back, refusing bytes that changed."""

from __future__ import annotations

import numpy as np
import pytest

from ledger.errors import ArtifactTampered, ModelFlavourUnknown
from ledger.store import ArtifactStore
from tests.api.conftest import Service, register_model

X = np.random.default_rng(7).normal(size=(200, 4))
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)


def _log(service: Service, model_name: str, version: str, model: object, **kw: object) -> dict:  # type: ignore[type-arg]
    with service.client("dana") as dana:
        register_model(dana, model_name)
        with dana.run(model_name, version, capture_environment=False) as run:
            ref = run.log_model(model, **kw)
    assert run.entry is not None
    recorded = [a for a in run.entry["statement"]["payload"]["artifacts"] if a["role"] == "model"]
    assert recorded == [ref]
    return ref


def test_a_scikit_learn_model_is_recorded_with_its_flavour_and_loads_back(
    module_service: Service,
) -> None:
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression().fit(X, Y)
    ref = _log(module_service, "models-sklearn", "1.0", fitted)
    assert ref["serialization"]["flavour"] == "sklearn"
    assert ref["serialization"]["format"] == "joblib"
    assert ref["serialization"]["library"] == "scikit-learn"
    import sklearn

    assert ref["serialization"]["library_version"] == sklearn.__version__
    assert ref["name"] == "model.joblib" and ref["stored"] is True
    with module_service.client("vera") as vera:
        loaded = vera.load_model("models-sklearn", "1.0")
    assert np.array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


def test_boosters_are_stored_in_their_library_format_and_load_back(
    module_service: Service,
) -> None:
    import lightgbm
    import xgboost

    lgb = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 4},
        lightgbm.Dataset(X, Y),
        num_boost_round=5,
    )
    xgb = xgboost.train({"objective": "binary:logistic", "max_depth": 2}, xgboost.DMatrix(X, Y), 5)
    lgb_ref = _log(module_service, "models-lgb", "1.0", lgb, name="pd.txt")
    xgb_ref = _log(module_service, "models-xgb", "1.0", xgb)
    assert (lgb_ref["serialization"]["format"], lgb_ref["name"]) == ("lightgbm-text", "pd.txt")
    assert xgb_ref["serialization"]["format"] == "xgboost-ubj"
    with module_service.client("vera") as vera:
        lgb_back = vera.load_model("models-lgb", "1.0")
        xgb_back = vera.load_model("models-xgb", "1.0")
        entry = vera.version("models-xgb", "1.0")["run"]
        assert vera.load_model(entry).num_boosted_rounds() == 5  # from the run entry too
    assert np.allclose(lgb_back.predict(X), lgb.predict(X))
    assert np.allclose(xgb_back.predict(xgboost.DMatrix(X)), xgb.predict(xgboost.DMatrix(X)))


def test_a_model_file_whose_bytes_changed_is_refused_before_it_is_unpickled(
    module_service: Service, tmp_path: object
) -> None:
    from sklearn.tree import DecisionTreeClassifier

    ref = _log(module_service, "models-tampered", "1.0", DecisionTreeClassifier().fit(X, Y))
    stored = ArtifactStore(module_service.home / "artifacts").path_for(ref["sha256"])
    stored.chmod(0o644)
    stored.write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")  # a pickle that would run code
    with module_service.client("vera") as vera, pytest.raises(ArtifactTampered):
        vera.load_model("models-tampered", "1.0")


def test_a_model_logged_as_a_path_has_no_flavour_to_load_by(
    module_service: Service, tmp_path: object
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "model.bin"
    path.write_bytes(b"opaque model bytes")
    _log(module_service, "models-file", "1.0", path)
    with module_service.client("vera") as vera:
        with pytest.raises(ModelFlavourUnknown, match="logged as a file, with no flavour"):
            vera.load_model("models-file", "1.0")
        with pytest.raises(ModelFlavourUnknown, match="flavour 'onnx' is not one of"):
            vera.run("models-file", "2.0", capture_environment=False).log_model(
                object(), flavour="onnx"
            )
