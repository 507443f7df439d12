"""The committed params.yaml must be exactly what conf/ composes to (DVC composes only on
`dvc exp run`, `dvc repro` reads params.yaml as committed)."""

import yaml

from pipeline.core.config import PARAMS_FILE, compose_params, load_market_config


def test_params_yaml_equals_composition_of_conf():
    committed = yaml.safe_load(PARAMS_FILE.read_text())
    assert committed == compose_params(), (
        "params.yaml is stale: run `python scripts/compose_params.py`"
    )


def test_public_data_override_switches_every_market_source():
    public = compose_params(["data=public"])
    sample = compose_params()
    assert public["data"]["name"] == "public"
    assert public["data"]["root"] != sample["data"]["root"]
    assert set(public["data"]["markets"]) > {"darkmatter", "drughub", "agora", "dream", "empire"}


def test_every_configured_market_has_an_adapter_config():
    for data_source in ("sample", "public"):
        for market in compose_params([f"data={data_source}"])["data"]["markets"]:
            assert load_market_config(market)["adapter"] in {"tabular", "html"}


def test_project_root_is_found_from_a_subfolder_of_any_checkout(tmp_path):
    from pipeline.core.config import find_project_root

    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("defaults: []\n")
    (tmp_path / "data" / "x").mkdir(parents=True)
    assert find_project_root(tmp_path / "data" / "x") == tmp_path.resolve()
