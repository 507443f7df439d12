"""Shared IO: model files are loaded without trusting foreign types."""

from pathlib import Path

import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from pipeline.core.io import InputError, load_skops


def test_scikit_learn_model_loads(tmp_path):
    path = tmp_path / "model.skops"
    sio.dump({"model": LogisticRegression(C=0.5)}, path)
    assert load_skops(path)["model"].C == 0.5


def test_model_file_with_a_foreign_type_is_refused(tmp_path):
    path = tmp_path / "model.skops"
    sio.dump({"payload": Path("x")}, path)  # pathlib is no part of a model: never trusted
    with pytest.raises(InputError, match="refuses to load unexpected types"):
        load_skops(path)


def test_missing_model_file_is_a_one_line_error(tmp_path):
    with pytest.raises(InputError, match="no such model file"):
        load_skops(tmp_path / "absent.skops")


def test_missing_columns_are_named_in_one_line():
    import pandas as pd

    from pipeline.core.io import require_columns

    with pytest.raises(InputError, match=r"^x\.csv: review table lacks columns review_id, text$"):
        require_columns(pd.DataFrame({"rating": [1]}), ("text", "review_id"), "x.csv", "review")
