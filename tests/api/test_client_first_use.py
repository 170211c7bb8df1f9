"""What a data scientist meets first in the client: arrays as datasets, a NaN metric named
before anything is sent, an unchanged registration that writes nothing, a run that says what
it is and hands over its entry hash. One real service for the module."""

from __future__ import annotations

import numpy as np
import pytest

from ledger.errors import MissingReason
from tests.api.conftest import Service
from tests.model_files import model_file_for


def test_a_numpy_array_is_a_dataset_fingerprinted_by_dtype_shape_and_bytes(
    module_service: Service,
) -> None:
    values = np.arange(12, dtype="float64").reshape(4, 3)
    with module_service.client("dana") as dana:
        run = dana.run("client-arrays", "1.0")
        c_order = run.log_dataset(values, name="X")
        fortran = run.log_dataset(np.asfortranarray(values), name="X again")
        other = run.log_dataset(values.astype("float32"), name="X as float32")
        with pytest.raises(TypeError, match="DataFrame, a NumPy array or a file path, not list"):
            run.log_dataset([[1, 2], [3, 4]], name="a list")
    assert c_order["rows"] == 4 and c_order["sha256"] == fortran["sha256"]
    assert other["sha256"] != c_order["sha256"]  # same numbers, other dtype: other data


def test_a_nan_metric_is_refused_naming_it_and_nothing_is_sent(module_service: Service) -> None:
    size = module_service.size()
    with module_service.client("dana") as dana:
        with pytest.raises(ValueError, match="metric 'auc' is nan: log None"):
            with dana.run("client-nan", "1.0") as run:
                run.log_metric("gini", 0.4)
                run.log_metric("auc", float("nan"))
    assert module_service.size() == size


def test_registering_an_unchanged_model_again_writes_nothing(module_service: Service) -> None:
    with module_service.client("dana") as dana:
        first = dana.register_model("client-register", owner="credit-risk", decision="credit")
        size = module_service.size()
        again = dana.register_model("client-register", owner="credit-risk", decision="credit")
        assert again["seq"] == first["seq"] and module_service.size() == size
        with pytest.raises(MissingReason):  # a change is an amendment: it must say why
            dana.register_model("client-register", owner="retail-risk", decision="credit")


def test_a_run_says_what_it_is_and_gives_its_entry_hash_once_sent(
    module_service: Service,
) -> None:
    with module_service.client("dana") as dana:
        dana.register_model("client-run")
        run = dana.run("client-run", "1.0")
        assert "not sent" in repr(run)
        with pytest.raises(RuntimeError, match="has not been sent yet"):
            _ = run.entry_hash
        with run:
            run.log_model(model_file_for("client-run", "1.0"))
            run.log_metric("auc", 0.8)
    assert run.entry is not None and run.entry_hash == run.entry["entry_hash"]
    assert repr(run).startswith(f"<Run training of client-run 1.0 (seq {run.entry['seq']})")
