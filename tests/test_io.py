"""Shared IO: one-line errors that name the input."""

import pandas as pd
import pytest

from pipeline.core.io import InputError, require_columns


def test_missing_columns_are_named_in_one_line():
    with pytest.raises(InputError, match=r"^x\.csv: review table lacks columns review_id, text$"):
        require_columns(pd.DataFrame({"rating": [1]}), ("text", "review_id"), "x.csv", "review")
