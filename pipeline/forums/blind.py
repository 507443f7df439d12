"""Blind evaluation of harm-reduction detection (issue 15): posts written and labelled by
annotators who never saw the training data (`posts.csv` + `labels.csv`), and real English
forum posts labelled blind (`real_en.csv`: keys + text hash, the text stays in the forum
corpus). The model against the resolved labels (`gold`) per language, beside A2 against
A1 (the annotators' own agreement: the ceiling)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.blind import labels_by_coder
from pipeline.core.corpus import check_stored_labels
from pipeline.core.io import InputError, require_columns
from pipeline.forums.evaluate import per_label_figures
from pipeline.forums.gold import label_matrix
from pipeline.forums.model import HarmReductionModel


def _read(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path}: blind harm-reduction file not found")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    require_columns(table, columns, path, what=what)
    return table


def _by_coder(labels: pd.DataFrame, path: Path, names: list[str],
              known: pd.Series | None = None, known_in: str = "") -> pd.DataFrame:
    """Labels (`post_id, coder, hr_labels`) -> one row per post, a column per coder."""
    labels = labels.assign(coder=labels["coder"].str.strip(),
                           hr_labels=labels["hr_labels"].str.replace(" ", ""))
    used = {x for cell in labels["hr_labels"] for x in cell.split(";") if x}
    return labels_by_coder(
        labels, "post_id", "hr_labels", path, "post",
        lambda cell: set(filter(None, cell.split(";"))) <= set(names),
        f"labels must be among {', '.join(names)} (unknown: {sorted(used - set(names))})",
        known, known_in)


def read_blind_posts(
    folder: Path, corpus: pd.DataFrame, names: list[str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(`post_id, lang, text, A1, A2, gold` for every post with a gold label; notes: the
    posts without one, and why the real part was skipped where it was). The real English
    posts are joined to `corpus` by id and text hash; when none of them is in it (the
    bundled sample) that part is skipped with a note; a partial or changed match is an
    InputError."""
    folder = Path(folder)
    written = _read(folder / "posts.csv", ("post_id", "lang", "text"), "post")
    labels = _read(folder / "labels.csv", ("post_id", "coder", "hr_labels"), "label")
    frames = [written[["post_id", "lang", "text"]].assign(real=False).join(
        _by_coder(labels, folder / "labels.csv", names,
                  written["post_id"], "posts.csv"), on="post_id")]
    notes: dict[str, Any] = {}
    real_path = folder / "real_en.csv"
    if real_path.is_file():
        real = _read(real_path, ("post_id", "text_sha", "coder", "hr_labels"), "label")
        keys = real.drop_duplicates("post_id")
        texts = corpus.drop_duplicates("post_id").set_index("post_id")["text"]
        if not keys["post_id"].isin(texts.index).any():
            notes["real_en_skipped"] = (f"none of the {len(keys)} real posts is in the forum "
                                        "corpus given (public data absent)")
        else:
            check_stored_labels(keys, texts, real_path, "post_id", noun="blind real posts")
            frames.append(
                keys[["post_id"]].assign(lang="en", text=texts[keys["post_id"]].to_numpy(),
                                         real=True)
                .join(_by_coder(real, real_path, names), on="post_id")
            )
            notes["real_en_posts"] = len(keys)
    frame = pd.concat(frames, ignore_index=True)
    has_gold = frame["gold"].notna()
    notes["unlabelled_posts"] = int((~has_gold).sum())
    return frame[has_gold].reset_index(drop=True), notes


def blind_figures(
    model: HarmReductionModel, blind: pd.DataFrame, notes: dict[str, Any]
) -> dict[str, Any]:
    """Flag P/R/F1 and per-label figures of the model against `gold` on all posts and per
    language (`en` holds the real posts where present, `en_real` them alone), beside A2
    against A1 on the posts both labelled."""
    names = model.labels_
    predicted = model.predict(blind["text"].tolist())
    gold = label_matrix(blind["gold"].fillna(""), names)
    real = blind["real"].astype(bool)
    groups = [("all", blind.index), *blind.groupby("lang").groups.items()]
    if real.any():
        groups.append(("en_real", blind.index[real]))
    out: dict[str, Any] = dict(notes)
    for lang, index in groups:
        rows = blind.index.isin(index)
        both = rows & blind["A1"].notna() & blind["A2"].notna()
        out[str(lang)] = {
            "model": per_label_figures(gold[rows], predicted[rows], names),
            "a2_vs_a1": per_label_figures(
                label_matrix(blind.loc[both, "A1"], names),
                label_matrix(blind.loc[both, "A2"], names), names) if both.any() else {"n": 0},
        }
    return out
