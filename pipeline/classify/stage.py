"""Stage 2, classify: listings -> drug category (SPEC section 3) with a calibrated confidence.

Labels come from the markets themselves: each market config's `category_map` maps its own
category paths (or path prefixes) to taxonomy ids; ambiguous paths map to null and stay
unlabelled. Models are pluggable (`pipeline.classify.models`); this module holds the pure parts:
taxonomy and labels, model text, prediction with a review threshold, and the evaluation
(in-market split and leave-one-market-out).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from pipeline.core.config import CONF_DIR
from pipeline.core.io import (
    InputError,
    console,
    read_table,
    require_columns,
    side_output_path,
    table_files,
    write_table,
    write_with_quarantine,
)

TAXONOMY_FILE = CONF_DIR / "taxonomy.yaml"
MARKETS_DIR = CONF_DIR / "markets"
# column naming the market config whose category_map labels a row (else `market` is used)
CONFIG_COLUMN = "market_config"
NO_TEXT_REASON = "no title or description to classify"
_TAG = re.compile(r"<[^>]{0,500}>")
_SPACE = re.compile(r"\s+")
_BOUNDARY = re.compile(r"\s*[>»/|:-]")


# --- taxonomy and labels from market category paths ----------------------------------


@dataclass(frozen=True)
class Taxonomy:
    version: str
    ids: tuple[str, ...]


def load_taxonomy(path: str | Path = TAXONOMY_FILE) -> Taxonomy:
    data = yaml.safe_load(Path(path).read_text())
    return Taxonomy(version=str(data["version"]), ids=tuple(data["categories"]))


def _norm_path(path: str) -> str:
    return _SPACE.sub(" ", str(path)).strip().casefold()


class CategoryMap:
    """One market's category paths -> taxonomy ids. A key matches a path exactly or as a
    prefix ending at a segment boundary (` > `, ` » `, ` - `, `/`); the longest key wins,
    so `Drugs > Cannabis: cannabis` covers `Drugs > Cannabis > Hash` unless a longer key
    says otherwise. A null value marks an ambiguous path: unlabelled."""

    def __init__(self, mapping: dict[str, str | None], taxonomy: Taxonomy, source: str) -> None:
        unknown = sorted({v for v in mapping.values() if v is not None and v not in taxonomy.ids})
        if unknown:
            raise InputError(
                f"{source}: category_map uses unknown taxonomy ids {', '.join(unknown)} "
                f"(known: {', '.join(taxonomy.ids)})"
            )
        self.entries = sorted(
            ((_norm_path(k), v) for k, v in mapping.items()), key=lambda kv: -len(kv[0])
        )
        self._cache: dict[str, str | None] = {}

    def __call__(self, path: str) -> str | None:
        if path not in self._cache:
            self._cache[path] = self._lookup(_norm_path(path))
        return self._cache[path]

    def _lookup(self, path: str) -> str | None:
        for key, value in self.entries:
            if path == key or (path.startswith(key) and _BOUNDARY.match(path, len(key))):
                return value
        return None


def load_category_maps(
    extra: Iterable[str | Path] = (), taxonomy: Taxonomy | None = None
) -> dict[str, CategoryMap]:
    """Every market config's `category_map` (conf/markets plus extra YAML files or
    folders, e.g. a new market a researcher is trying), keyed by config name."""
    taxonomy = taxonomy or load_taxonomy()
    files = sorted(MARKETS_DIR.glob("*.yaml"))
    for item in extra:
        item = Path(item)
        if not item.exists():
            raise InputError(f"{item}: no such market config")
        files.extend(sorted(item.glob("*.yaml")) if item.is_dir() else [item])
    maps = {}
    for path in files:
        cfg = yaml.safe_load(path.read_text()) or {}
        if cfg.get("category_map"):
            maps[cfg.get("name", path.stem)] = CategoryMap(cfg["category_map"], taxonomy, str(path))
    return maps


def label_listings(listings: pd.DataFrame, maps: dict[str, CategoryMap]) -> pd.Series:
    """The taxonomy id each listing's market category maps to; None where unmapped. A row's
    map is that of its `market_config` (the ingested table's config) or else its market."""
    keys = listings[CONFIG_COLUMN] if CONFIG_COLUMN in listings else listings["market"]
    keys = keys.where(keys.isin(list(maps)), listings["market"])
    labels = [
        maps[key](path) if key in maps else None
        for key, path in zip(keys, listings["category_raw"].fillna(""), strict=True)
    ]
    return pd.Series(labels, index=listings.index, dtype=object)


# --- model input text ----------------------------------------------------------------


def listing_text(listings: pd.DataFrame, max_chars: int = 1000) -> pd.Series:
    """Title + description as one string: HTML tags and entities removed, whitespace
    collapsed, cut to `max_chars` (a 1 MB description costs no more than a short one)."""
    title = listings["title"].fillna("").astype(str).str.slice(0, max_chars)
    if "description" in listings:
        description = listings["description"].fillna("").astype(str).str.slice(0, 4 * max_chars)
    else:
        description = pd.Series("", index=listings.index)
    text = (title + " \n " + description).str.replace(_TAG, " ", regex=True).map(html.unescape)
    return text.str.replace(_SPACE, " ", regex=True).str.strip().str.slice(0, max_chars)


def text_hash(texts: pd.Series) -> pd.Series:
    """A short, stable key for identical texts (used to keep duplicates on one side of a split)."""
    return texts.str.casefold().map(
        lambda t: hashlib.blake2b(t.encode(), digest_size=8).hexdigest()
    )


# --- prediction ------------------------------------------------------------------------


def predict_categories(model: Any, texts: pd.Series, batch_size: int = 20_000,
                       progress: Callable[[Iterable], Iterable] = iter) -> pd.DataFrame:
    """`category` (the most probable id) and `category_confidence` (its calibrated
    probability) for each text, in batches."""
    categories, confidences = [], []
    starts = range(0, len(texts), batch_size)
    for start in progress(starts):
        proba = model.predict_proba(texts.iloc[start : start + batch_size].tolist())
        best = proba.argmax(axis=1)
        categories.append(np.asarray(model.classes_)[best])
        confidences.append(proba[np.arange(len(best)), best])
    if not categories:
        return pd.DataFrame({"category": pd.Series(dtype=str),
                             "category_confidence": pd.Series(dtype=float)}, index=texts.index)
    return pd.DataFrame(
        {"category": np.concatenate(categories).astype(str),
         "category_confidence": np.concatenate(confidences).astype(float).round(4)},
        index=texts.index,
    )


def classify_listings(
    listings: pd.DataFrame, model: Any, max_chars: int = 1000,
    progress: Callable[[Iterable], Iterable] = iter,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Listings + category + category_confidence, and the rows set aside (no text at all)."""
    if "title" not in listings:
        raise InputError("input has no `title` column: not canonical listings")
    texts = listing_text(listings, max_chars)
    empty = texts.eq("")
    quarantined = listings[empty].assign(reason=NO_TEXT_REASON)
    kept = listings[~empty].copy()
    predicted = predict_categories(model, texts[~empty], progress=progress)
    kept["category"] = predicted["category"]
    kept["category_confidence"] = predicted["category_confidence"]
    return kept, quarantined


def review_queue(classified: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Listings whose confidence is below `threshold`: exported for human review."""
    return classified[classified["category_confidence"] < threshold].sort_values(
        "category_confidence"
    )


# --- labelled data, training and the model card ----------------------------------------


def labelled_data(listings: pd.DataFrame, maps: dict[str, CategoryMap],
                  max_chars: int = 1000) -> tuple[pd.DataFrame, dict[str, int]]:
    """The training table (`text`, `label`, `market`, `path`, `group`) and what was set aside.

    Label noise is handled deliberately here: a text that its markets label with two
    different ids is dropped (the labels contradict each other), and repeats of one text
    within a market (vendor spam) count once, so no listing weighs more for being reposted.
    `group` (a text hash) keeps identical texts on one side of every split."""
    keys = listings[CONFIG_COLUMN] if CONFIG_COLUMN in listings else listings["market"]
    keys = keys.where(keys.isin(list(maps)), listings["market"])
    data = pd.DataFrame({
        "text": listing_text(listings, max_chars),
        "label": label_listings(listings, maps),
        "market": keys,
        "path": listings["category_raw"].fillna("").astype(str),
    })
    counts = {"rows": len(data), "unlabelled": int(data["label"].isna().sum())}
    data = data[data["label"].notna()]
    counts["no_text"] = int(data["text"].eq("").sum())
    data = data[data["text"].ne("")].assign(group=lambda d: text_hash(d["text"]))
    conflicting = data.groupby("group")["label"].transform("nunique").gt(1)
    counts["conflicting_labels"] = int(conflicting.sum())
    data = data[~conflicting]
    deduped = data.drop_duplicates(["market", "group"])
    counts["duplicates"] = len(data) - len(deduped)
    counts["labelled"] = len(deduped)
    return deduped.reset_index(drop=True), counts


def fit_model(model_cfg: dict[str, Any], data: pd.DataFrame, seed: int) -> Any:
    """Fit the configured model. Categories with fewer than `min_class_rows` labelled
    listings cannot be learnt (nor calibrated): they are left out, and said so."""
    from pipeline.classify.models import build_model

    sizes = data["label"].value_counts()
    rare = sizes[sizes < model_cfg.get("min_class_rows", 5)]
    if len(rare):
        console.print("too few rows to learn, left out of training: "
                      + ", ".join(f"{c} ({n})" for c, n in rare.items()))
        data = data[~data["label"].isin(rare.index)]
    if data["label"].nunique() < 2:
        raise InputError(
            f"need labelled listings of at least 2 categories to train, got "
            f"{data['label'].nunique()} ({len(data)} labelled rows): map the markets' "
            "categories in conf/markets/*.yaml (category_map)"
        )
    return build_model(model_cfg, seed).fit(data["text"].tolist(), data["label"].tolist())


def model_card(model_cfg: dict[str, Any], taxonomy: Taxonomy, data: pd.DataFrame,
               counts: dict[str, int], metrics: dict[str, Any] | None, trained_on: str) -> dict:
    """What a model directory says about itself (read by people and by `load_model`)."""
    return {
        "model": model_cfg["name"],
        "params": model_cfg.get("params") or {},
        "taxonomy_version": taxonomy.version,
        "classes": sorted(data["label"].unique().tolist()),
        "trained_at": trained_on,
        "training_markets": _counts(data["market"]),
        "label_counts": _counts(data["label"]),
        "rows": counts,
        "text_max_chars": model_cfg.get("text_max_chars", 1000),
        "metrics": _metrics_summary(metrics) if metrics else None,
    }


def _counts(values: pd.Series) -> dict[str, int]:
    return {k: int(v) for k, v in values.value_counts().sort_index().items()}


def _metrics_summary(metrics: dict[str, Any]) -> dict[str, Any]:
    lomo = metrics.get("lomo", {})
    return {
        "in_market_macro_f1": metrics.get("in_market", {}).get("macro_f1"),
        "lomo_mean_macro_f1": lomo.get("mean_macro_f1"),
        "lomo_per_market": {m: r["macro_f1"] for m, r in lomo.get("markets", {}).items()},
    }


def model_card_markdown(card: dict[str, Any]) -> str:
    lines = [
        f"# Listing classifier: `{card['model']}`", "",
        f"Trained {card['trained_at']} on {sum(card['training_markets'].values())} labelled "
        f"listings; taxonomy version {card['taxonomy_version']}.", "",
        "## Training markets", "", "| market | listings |", "|---|---|",
        *[f"| {m} | {n} |" for m, n in card["training_markets"].items()], "",
        "## Label counts", "", "| category | listings |", "|---|---|",
        *[f"| {c} | {n} |" for c, n in card["label_counts"].items()], "",
        "## Metrics", "",
    ]
    metrics = card.get("metrics")
    if not metrics:
        lines.append("No evaluation was given (`--metrics reports/metrics/classifier.json`).")
    else:
        lines += [f"- in-market macro-F1: {metrics['in_market_macro_f1']}",
                  f"- leave-one-market-out macro-F1 (mean): {metrics['lomo_mean_macro_f1']}"]
        lines += [f"  - {m}: {f}" for m, f in metrics["lomo_per_market"].items()]
    return "\n".join(lines) + "\n"


# --- evaluation: in-market split and leave-one-market-out --------------------------------


def scores(y_true: Iterable[str], y_pred: Iterable[str], min_support: int = 1) -> dict[str, Any]:
    """Macro-F1 over the classes with at least `min_support` rows in `y_true` (a held-out
    market without, say, steroids is not scored on steroids, nor on the two opioid
    listings it happens to hold), accuracy over all rows, and per-class P/R/F1."""
    y_true, y_pred = np.asarray(list(y_true)), np.asarray(list(y_pred))
    support = pd.Series(y_true).value_counts()
    labels = sorted(support[support >= min_support].index) or sorted(support.index)
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "n": len(y_true),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro",
                                         zero_division=0)), 4),
        "accuracy": round(float((y_true == y_pred).mean()), 4) if len(y_true) else 0.0,
        "per_class": {
            c: {"precision": round(float(pi), 4), "recall": round(float(ri), 4),
                "f1": round(float(fi), 4), "support": int(si)}
            for c, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
        },
    }


def in_market_split(
    data: pd.DataFrame, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train/test row positions, stratified by label, identical texts kept together."""
    folds = max(2, round(1 / test_size))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return next(splitter.split(data["text"], data["label"], data["group"]))


def evaluate(model_cfg: dict[str, Any], data: pd.DataFrame, eval_cfg: dict[str, Any],
             seed: int, progress: Callable[[Iterable], Iterable] = iter) -> dict[str, Any]:
    """In-market split and leave-one-market-out, each model fitted on training rows only.
    Parts that the data cannot support (too few rows, one market) are skipped with a note."""
    result: dict[str, Any] = {"model": model_cfg["name"], "labelled": len(data), "notes": []}
    min_rows, min_classes = eval_cfg.get("min_labelled", 50), 2
    folds = max(2, round(1 / eval_cfg.get("test_size", 0.2)))
    sizes = data["label"].value_counts()
    splittable = data[data["label"].isin(sizes[sizes >= folds].index)]
    if len(splittable) < len(data):
        result["notes"].append(
            "in-market split leaves out classes with fewer than "
            f"{folds} rows: {', '.join(sorted(sizes[sizes < folds].index))}"
        )
    if len(splittable) < min_rows or splittable["label"].nunique() < min_classes:
        result["notes"].append(
            f"in-market split skipped: {len(splittable)} labelled rows, "
            f"{splittable['label'].nunique()} classes "
            f"(needs {min_rows} rows, {min_classes} classes)"
        )
    else:
        train, test = in_market_split(splittable, eval_cfg.get("test_size", 0.2), seed)
        model = fit_model(model_cfg, splittable.iloc[train], seed)
        predicted = model.predict(splittable["text"].iloc[test].tolist())
        held = splittable.iloc[test].assign(predicted=predicted)
        result["in_market"] = scores(held["label"], held["predicted"])
        result["in_market"]["markets"] = {
            m: scores(g["label"], g["predicted"])["macro_f1"] for m, g in held.groupby("market")
        }
    result["lomo"] = lomo(model_cfg, data, eval_cfg, seed, progress)
    result["notes"] += result["lomo"].pop("notes")
    return result


def lomo(model_cfg: dict[str, Any], data: pd.DataFrame, eval_cfg: dict[str, Any], seed: int,
         progress: Callable[[Iterable], Iterable] = iter) -> dict[str, Any]:
    """Leave-one-market-out: for each market with enough labelled rows, train on all other
    markets and test on it; the honest test of applying the model to a new market."""
    min_rows = eval_cfg.get("lomo_min_rows", 200)
    min_class_rows = eval_cfg.get("lomo_min_class_rows", 10)
    sizes = data["market"].value_counts()
    held_out = sorted(m for m, n in sizes.items() if n >= min_rows)
    notes = [f"LOMO leaves out {m}: {n} labelled rows < {min_rows}"
             for m, n in sizes.items() if n < min_rows]
    out: dict[str, Any] = {"markets": {}, "notes": notes}
    predictions = []
    for market in progress(held_out):
        train, test = data[data["market"] != market], data[data["market"] == market]
        if train["label"].nunique() < 2:
            out["notes"].append(f"LOMO skips {market}: the other markets hold < 2 classes")
            continue
        predicted = fit_model(model_cfg, train, seed).predict(test["text"].tolist())
        out["markets"][market] = scores(test["label"], predicted, min_class_rows)
        predictions.append(test.assign(predicted=predicted)[["label", "predicted"]])
    if not out["markets"]:
        out["notes"].append("LOMO skipped: no market with enough labelled rows")
        return out
    per_market = [r["macro_f1"] for r in out["markets"].values()]
    out["mean_macro_f1"] = round(float(np.mean(per_market)), 4)
    pooled = pd.concat(predictions)
    out["pooled"] = scores(pooled["label"], pooled["predicted"])
    labels = sorted(set(pooled["label"]) | set(pooled["predicted"]))
    out["confusion"] = {
        "labels": labels,
        "matrix": confusion_matrix(pooled["label"], pooled["predicted"], labels=labels).tolist(),
    }
    return out


# --- label audit: which market category paths does the text disagree with? -------------


def out_of_fold_predictions(model_cfg: dict[str, Any], data: pd.DataFrame, folds: int,
                            seed: int, progress: Callable[[Iterable], Iterable] = iter
                            ) -> pd.Series:
    """Each labelled row predicted by a model that never saw it (identical texts kept in
    one fold): the evidence for auditing labels without trusting a model fitted on them."""
    predicted = pd.Series("", index=data.index, dtype=object)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in progress(list(splitter.split(data["text"], data["label"],
                                                    data["group"]))):
        model = fit_model(model_cfg, data.iloc[train], seed)
        predicted.iloc[test] = model.predict(data["text"].iloc[test].tolist())
    return predicted


def label_audit(data: pd.DataFrame, predicted: pd.Series, min_rows: int = 20) -> pd.DataFrame:
    """Per market category path: how often out-of-fold predictions agree with the label
    the path maps to, and what the text says instead. A path whose rows mostly read as
    another category is mixed or mis-mapped: read a sample of it and fix its
    `category_map` entry (or map it to null). Lowest agreement first."""
    rows = data.assign(predicted=predicted.to_numpy(), agrees=predicted.to_numpy() == data["label"])
    audit = []
    for (market, path, label), group in rows.groupby(["market", "path", "label"], sort=True):
        if len(group) < min_rows:
            continue
        others = group.loc[~group["agrees"], "predicted"].value_counts()
        audit.append({
            "market": market, "path": path, "label": label, "rows": len(group),
            "agreement": round(float(group["agrees"].mean()), 4),
            "read_as": others.index[0] if len(others) else "",
            "read_as_share": round(float(others.iloc[0] / len(group)), 4) if len(others) else 0.0,
        })
    columns = ["market", "path", "label", "rows", "agreement", "read_as", "read_as_share"]
    return pd.DataFrame(audit, columns=columns).sort_values(
        ["agreement", "rows"], ascending=[True, False], ignore_index=True)


def confusion_figure(confusion: dict[str, Any], path: str | Path, title: str) -> Path:
    """Row-normalised confusion matrix as a PNG (rows: market label, columns: predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, matrix = confusion["labels"], np.asarray(confusion["matrix"], dtype=float)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(9, 8))
    if not labels:
        ax.axis("off")
        ax.text(0.5, 0.5, title, ha="center", va="center", wrap=True)
        return _save(fig, path)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i, j in zip(*np.nonzero(matrix), strict=True):
        ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7,
                color="white" if share[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("market label")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# --- IO layer for the commands ---------------------------------------------------------


def read_listings(path: str | Path) -> pd.DataFrame:
    """Listings from a file or a folder of tables; each row remembers the table it came
    from (`market_config`: ingest writes `<market config>.parquet`), whose category_map
    labels it."""
    frames = [read_table(f).assign(**{CONFIG_COLUMN: f.stem}) for f in table_files(Path(path))]
    listings = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    require_columns(listings, ("title", "market", "category_raw"), path, "canonical listings")
    return listings


def _tqdm(desc: str) -> Callable[[Iterable], Iterable]:
    from tqdm import tqdm

    return lambda items: tqdm(items, desc=desc, leave=False)


def run_train(inp: Path, out_dir: Path, params: dict[str, Any], market_configs: list[Path],
              metrics_file: Path | None) -> dict[str, Any]:
    """Fit the configured model on every labelled listing; save it with its model card."""
    import json
    from datetime import date

    model_cfg, taxonomy = params["model"], load_taxonomy()
    data, counts = read_labelled(inp, market_configs, params)
    console.print(f"training {model_cfg['name']} on {len(data)} labelled listings "
                  f"({counts['unlabelled']} unlabelled, {counts['conflicting_labels']} with "
                  f"conflicting labels, {counts['duplicates']} repeats left out)")
    model = fit_model(model_cfg, data, params.get("seed", 42))
    metrics = None
    if metrics_file:
        if not Path(metrics_file).exists():
            raise InputError(f"{metrics_file}: no such metrics file")
        metrics = json.loads(Path(metrics_file).read_text())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir)
    card = model_card(model_cfg, taxonomy, data, counts, metrics, date.today().isoformat())
    (out_dir / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    (out_dir / "MODEL_CARD.md").write_text(model_card_markdown(card))
    console.print(f"model -> {out_dir}")
    return card


def run_classify(inp: Path, out: Path, model_dir: Path, params: dict[str, Any]) -> dict[str, int]:
    """Classify listings; write OUT, its quarantine file and the low-confidence review file."""
    import json

    from pipeline.classify.models import load_model

    model = load_model(model_dir)
    card = json.loads((Path(model_dir) / "model_card.json").read_text())
    listings = read_table(inp)
    kept, quarantined = classify_listings(
        listings, model, card.get("text_max_chars", 1000), progress=_tqdm("classify")
    )
    counts = write_with_quarantine(kept, quarantined, out, len(listings), label="listings")
    threshold = params["model"].get("review_threshold", 0.5)
    review = review_queue(kept, threshold)
    review_path = side_output_path(out, "review")
    write_table(review, review_path)
    console.print(f"{len(review)} listings below confidence {threshold} -> {review_path}")
    return {**counts, "review": len(review)}


def per_market_sample(data: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most `max_rows` labelled rows of each market, the same rows for every model
    (so that models too slow for the full data are compared on identical splits)."""
    return pd.concat(
        group.sample(min(len(group), max_rows), random_state=seed)
        for _, group in data.groupby("market", sort=True)
    ).reset_index(drop=True)


def read_labelled(inp: Path, market_configs: list[Path], params: dict[str, Any],
                  max_per_market: int | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """The labelled table of a listings file or folder (`labelled_data` with every market's
    category map) and its counts; with `max_per_market`, the same per-market subsample for
    every model (`per_market_sample`), counted as `evaluated`."""
    data, counts = labelled_data(read_listings(inp), load_category_maps(market_configs),
                                 params["model"].get("text_max_chars", 1000))
    if max_per_market:
        data = per_market_sample(data, max_per_market, params.get("seed", 42))
        counts["evaluated"] = len(data)
    return data, counts


def run_evaluate(inp: Path, metrics_out: Path, figure: Path | None, params: dict[str, Any],
                 market_configs: list[Path], max_per_market: int | None = None) -> dict[str, Any]:
    """In-market and leave-one-market-out evaluation: printed tables, metrics JSON, figure."""
    import json

    model_cfg = params["model"]
    data, counts = read_labelled(inp, market_configs, params, max_per_market)
    result = evaluate(model_cfg, data, model_cfg.get("evaluation", {}), params.get("seed", 42),
                      progress=_tqdm("leave-one-market-out"))
    result["rows"] = counts
    if figure:
        confusion = result["lomo"].get("confusion")
        if confusion:
            confusion_figure(confusion, figure, f"{model_cfg['name']}: leave-one-market-out")
        else:
            # keep the declared output: an empty figure that says why
            confusion_figure({"labels": [], "matrix": []}, figure,
                             "no leave-one-market-out evaluation (too few labelled markets)")
    metrics_out = Path(metrics_out)
    metrics_out.parent.mkdir(parents=True, exist_ok=True)
    metrics_out.write_text(json.dumps(result, indent=2) + "\n")
    print_evaluation(result)
    return result


def run_audit(inp: Path, out: Path, params: dict[str, Any], market_configs: list[Path],
              folds: int, min_rows: int, max_per_market: int | None = None,
              metrics_out: Path | None = None) -> pd.DataFrame:
    """Out-of-fold label audit of every mapped category path: writes the per-path table
    and the disagreeing rows (to read), prints the paths that agree least."""
    import json

    from rich.table import Table

    model_cfg, seed = params["model"], params.get("seed", 42)
    data, _ = read_labelled(inp, market_configs, params, max_per_market)
    predicted = out_of_fold_predictions(model_cfg, data, folds, seed, _tqdm("audit folds"))
    audit = label_audit(data, predicted, min_rows)
    write_table(audit, out)
    disagreements = data.assign(predicted=predicted)[predicted != data["label"]]
    rows_out = side_output_path(out, "disagreements")
    write_table(disagreements.drop(columns="group"), rows_out)
    console.print(f"{len(data)} labelled rows; out-of-fold agreement with their labels "
                  f"{1 - len(disagreements) / len(data):.3f}; {len(audit)} paths -> {out}; "
                  f"the {len(disagreements)} disagreeing rows, to read -> {rows_out}")
    if metrics_out:
        Path(metrics_out).parent.mkdir(parents=True, exist_ok=True)
        Path(metrics_out).write_text(json.dumps({
            "labelled": len(data), "folds": folds,
            "agreement": round(1 - len(disagreements) / len(data), 4),
            "paths_audited": len(audit),
            "paths_below_0.8": int((audit["agreement"] < 0.8).sum()),
        }, indent=2) + "\n")
    table = Table(title="least agreeing category paths")
    for column in audit.columns:
        table.add_column(column)
    for row in audit.head(15).itertuples(index=False):
        table.add_row(*map(str, row))
    console.print(table)
    return audit


def print_evaluation(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console()  # stdout: the evaluation's result, not a log line
    if "in_market" in result:
        im = result["in_market"]
        out.print(f"in-market split: macro-F1 {im['macro_f1']}, accuracy {im['accuracy']}, "
                  f"n={im['n']}")
    lomo_result = result["lomo"]
    if lomo_result["markets"]:
        table = Table(title=f"leave-one-market-out ({result['model']})")
        for col in ("held-out market", "n", "macro-F1", "accuracy"):
            table.add_column(col)
        for market, r in lomo_result["markets"].items():
            table.add_row(market, str(r["n"]), f"{r['macro_f1']:.3f}", f"{r['accuracy']:.3f}")
        table.add_row("mean", "", f"{lomo_result['mean_macro_f1']:.3f}", "")
        out.print(table)
        classes = Table(title="leave-one-market-out, per class (all held-out markets pooled)")
        for col in ("class", "precision", "recall", "F1", "support"):
            classes.add_column(col)
        for c, r in lomo_result["pooled"]["per_class"].items():
            classes.add_row(c, f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}",
                            str(r["support"]))
        out.print(classes)
    for note in result["notes"]:
        out.print(f"note: {note}")
