"""Shared IO: one-line errors that name the input, and tables that read back as written."""

import re

import pandas as pd
import pytest

from pipeline.core.io import InputError, read_table, require_columns, write_table


def test_missing_columns_are_named_in_one_line():
    with pytest.raises(InputError, match=r"^x\.csv: review table lacks columns review_id, text$"):
        require_columns(pd.DataFrame({"rating": [1]}), ("text", "review_id"), "x.csv", "review")


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet"])
def test_line_breaks_in_cells_read_back_as_written(tmp_path, ext):
    """Found by the fuzz suite: a lone carriage return was written unquoted to CSV and read
    back as a line break, splitting the row in two."""
    table = pd.DataFrame({"id": ["a", "b", "c"], "text": ["x\ry", "p\nq", "r\r\ns"]})
    path = write_table(table, tmp_path / f"t{ext}")
    assert read_table(path).to_dict("records") == table.to_dict("records")


@pytest.mark.parametrize("line", ["[1, 2]", "null", "1.5", '"text"'])
def test_a_jsonl_line_that_is_not_an_object_is_a_one_line_error(tmp_path, line):
    path = tmp_path / "t.jsonl"
    path.write_text(f'{{"id": "a"}}\n\n{line}\n')
    expected = rf"^{re.escape(str(path))}: line 3 is not a JSON object: "
    with pytest.raises(InputError, match=expected) as err:
        read_table(path)
    assert "\n" not in str(err.value)


def test_an_empty_jsonl_table_is_an_empty_file_and_reads_without_columns(tmp_path):
    """JSON Lines has no header: the documented cost is the columns of an empty table."""
    path = write_table(pd.DataFrame(columns=["id", "text"]), tmp_path / "t.jsonl")
    assert path.read_bytes() == b""
    assert read_table(path).shape == (0, 0)
    with pytest.raises(InputError, match="lacks columns id, text"):
        require_columns(read_table(path), ("id", "text"), path)
