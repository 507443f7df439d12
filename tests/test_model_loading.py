"""Model files are data, not code: crafted skops files are refused before anything runs,
a changed file in a model folder is refused, and saving is byte-for-byte deterministic."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from skops.io._protocol import PROTOCOL
from typer.testing import CliRunner

from pipeline.classify.models import build_model, load_model
from pipeline.cli import app
from pipeline.core.io import InputError
from pipeline.core.ml import CARD_FILE, CARD_MARKDOWN, read_card, write_card
from pipeline.core.ml.safe_load import ALLOWED_TYPES, load_skops, save_skops

# the loader's old rule: any type under these prefixes was trusted
OLD_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.", "pipeline.")
TEXTS = ["mdma pills 120mg", "cannabis kush 5g", "lsd tabs 100ug", "xtc pills strong",
         "weed haze 10g", "acid blotter"] * 8
LABELS = ["ecstasy", "cannabis", "psychedelics"] * 16
SMALL_LINEAR = {"name": "linear", "params": {"min_df": 1, "char_hash_bits": 10, "n_jobs": 1}}


# --- crafted files ----------------------------------------------------------------------


def _json_node(value: object) -> dict:
    return {"__class__": type(value).__name__, "__module__": "builtins",
            "__loader__": "JsonNode", "content": json.dumps(value), "is_json": True}


def _call(module: str, name: str, *args: object) -> dict:
    """A node that skops builds by calling `module.name(*args)`."""
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
            "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                        "content": [a if isinstance(a, dict) else _json_node(a) for a in args]}}


def _crafted(path: Path, node: dict) -> Path:
    schema = {**node, "protocol": PROTOCOL, "_skops_version": skops.__version__}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
    return path


def _payloads(marker: Path) -> dict[str, dict]:
    """Object graphs whose construction would write `marker` (or reach a function that can)."""
    write = f"open({str(marker)!r}, 'w').write('ran')"
    return {
        "exec": _call("builtins", "exec", write),
        "eval": _call("builtins", "eval", write),
        "getattr": _call("builtins", "getattr", _call("builtins", "__import__", "os"), "system"),
        "importlib": _call("importlib", "import_module", "crafted_payload"),
        "os.system": _call("os", "system", f"touch {marker}"),
        "pipeline": _call("pipeline.core.io", "write_table", "table", str(marker)),
    }


@pytest.fixture
def payload_module(tmp_path, monkeypatch) -> Path:
    """A module that writes a marker when imported (the importlib payload's target)."""
    marker = tmp_path / "imported"
    (tmp_path / "crafted_payload.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    sys.modules.pop("crafted_payload", None)


def test_trusting_type_prefixes_runs_a_crafted_file(tmp_path):
    """The reproduction of the issue: under the old rule `builtins.exec` passed as trusted,
    and loading the file ran its code."""
    marker = tmp_path / "ran"
    path = _crafted(tmp_path / "m.skops", _payloads(marker)["exec"])
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == ["builtins.exec"]
    sio.load(path, trusted=[t for t in untrusted if t.startswith(OLD_TRUSTED_PREFIXES)])
    assert marker.read_text() == "ran"


@pytest.mark.parametrize("kind", ["exec", "eval", "getattr", "importlib", "os.system",
                                  "pipeline"])
def test_crafted_call_chains_are_refused_and_never_run(tmp_path, payload_module, kind):
    marker = tmp_path / "ran"
    path = _crafted(tmp_path / "m.skops", _payloads(marker)[kind])
    with pytest.raises(InputError, match="refuses to load types outside the allowlist") as err:
        load_skops(path)
    assert "\n" not in str(err.value)
    assert not marker.exists() and not payload_module.exists()


def test_allowlist_names_exact_types_and_nothing_callable():
    assert all(not t.endswith(".") for t in ALLOWED_TYPES)
    banned = ("builtins.", "os.", "posix.", "importlib.", "operator.", "functools.",
              "subprocess.", "sys.")
    assert not [t for t in ALLOWED_TYPES if t.startswith(banned)]


def test_a_foreign_type_is_refused(tmp_path):
    path = tmp_path / "m.skops"
    sio.dump({"payload": Path("x")}, path)  # pathlib is no part of a model
    with pytest.raises(InputError, match="pathlib"):
        load_skops(path)


def test_broken_and_missing_files_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="no such model file"):
        load_skops(tmp_path / "absent.skops")
    (tmp_path / "junk.skops").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable skops model"):
        load_skops(tmp_path / "junk.skops")


# --- deterministic archives --------------------------------------------------------------


def test_two_saves_of_a_fitted_model_are_byte_identical_and_load_back(tmp_path):
    first = build_model(SMALL_LINEAR, 0).fit(TEXTS, LABELS)
    second = build_model(SMALL_LINEAR, 0).fit(TEXTS, LABELS)
    first.save(tmp_path / "a")
    second.save(tmp_path / "b")
    a, b = (tmp_path / d / "model.skops" for d in "ab")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.namelist() == sorted(archive.namelist())
    for folder in ("a", "b"):
        write_card(tmp_path / folder, {"model": "linear"}, "# card\n")
    assert (tmp_path / "a" / CARD_FILE).read_bytes() == (tmp_path / "b" / CARD_FILE).read_bytes()
    loaded, _ = load_model(tmp_path / "a")
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), first.predict_proba(TEXTS))


def test_save_skops_is_independent_of_object_identity(tmp_path):
    def fitted():
        return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TEXTS, LABELS)

    keep = [fitted() for _ in range(3)]  # different ids for the same model
    paths = [save_skops(m, tmp_path / f"{i}.skops") for i, m in enumerate(keep)]
    assert len({p.read_bytes() for p in paths}) == 1
    assert (load_skops(paths[0]).predict(TEXTS) == keep[0].predict(TEXTS)).all()


# --- model cards: every file hashed, checked before loading ------------------------------


@pytest.fixture
def model_dir(tmp_path) -> Path:
    folder = tmp_path / "model"
    build_model(SMALL_LINEAR, 0).fit(TEXTS, LABELS).save(folder)
    write_card(folder, {"model": "linear", "text_max_chars": 1000}, "# a model\n")
    return folder


def test_card_lists_every_file_with_its_sha256(model_dir):
    card = read_card(model_dir)
    assert set(card["files"]) == {"model.skops", CARD_MARKDOWN}
    assert all(len(h) == 64 for h in card["files"].values())


@pytest.mark.parametrize("change, message", [
    (lambda d: (d / "model.skops").write_bytes((d / "model.skops").read_bytes() + b"x"),
     "sha256 differs"),
    (lambda d: (d / "model.skops").unlink(), "listed in model_card.json but missing"),
    (lambda d: (d / "extra.skops").write_bytes(b"x"), "not listed in model_card.json"),
    (lambda d: (d / CARD_FILE).write_text("{}"), "lists no file hashes"),
    (lambda d: (d / CARD_FILE).unlink(), "not a model directory"),
])
def test_a_changed_model_folder_is_refused(model_dir, change, message):
    change(model_dir)
    with pytest.raises(InputError, match=message):
        load_model(model_dir)


def test_classify_with_a_tampered_model_exits_2_with_one_line(model_dir, tmp_path):
    evil = _crafted(tmp_path / "evil.skops", _payloads(tmp_path / "ran")["exec"])
    (model_dir / "model.skops").write_bytes(evil.read_bytes())
    listings = tmp_path / "listings.csv"
    listings.write_text("title,market,category_raw\nmdma pills,alpha,Drugs\n")
    result = CliRunner().invoke(app, ["classify", str(listings), "-o", str(tmp_path / "o.csv"),
                                      "--model", str(model_dir)])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "sha256 differs" in result.output
    assert not (tmp_path / "ran").exists()
