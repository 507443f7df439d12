"""Harm-reduction content in forum posts (issue 6): multi-label over SPEC section 5.

Two layers, combined by a configured rule: a transparent multilingual lexicon of
regular expressions (conf/forums: a researcher can read and extend it), and a
TF-IDF one-vs-rest logistic regression trained on the project's own annotation of
real Reddit posts (labels stored by post id + text hash, never the text) plus its own
Dutch/French/German examples. Pattern hits also enter the classifier as features.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion

from pipeline.core.io import InputError, load_skops, quarantine_frame, require_columns
from pipeline.core.registry import Registry

_WORD = re.compile(r"\w", re.UNICODE)


def text_hash(text: str) -> str:
    """Key stored with a label instead of the text (first 16 hex of SHA-256)."""
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:16]


# --- sources of posts --------------------------------------------------------------------

SOURCES: Registry[Callable[[Path], pd.DataFrame]] = Registry("forum source")


@SOURCES.register("canonical")
def load_canonical(path: Path) -> pd.DataFrame:
    """A table already in the post schema (post_id, text)."""
    from pipeline.core.io import read_table_with_columns

    frame = read_table_with_columns(path, {"post_id", "text"}, "post")
    return frame.assign(source=Path(path).stem)


@SOURCES.register("reddit_drugs_ner")
def load_reddit_drugs_ner(path: Path) -> pd.DataFrame:
    """explosion/projects ner_drugs: Prodigy JSONL of drug-subreddit comments."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            rows.append(
                {
                    "post_id": f"drugsner:{record['_input_hash']}",
                    "text": record["text"],
                    "forum": record.get("meta", {}).get("section", ""),
                    "source": "reddit_drugs_ner",
                }
            )
    return pd.DataFrame(rows).drop_duplicates("post_id").reset_index(drop=True)


_SPACE_BEFORE = re.compile(r"\s+([.,!?;:)'’])")


@SOURCES.register("reddit_impacts")
def load_reddit_impacts(path: Path) -> pd.DataFrame:
    """SMM4H 2026 task 7 (Reddit opioid posts): the token lists joined back to text."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    texts = []
    for cell in raw["tokens"]:
        tokens = [t for t in ast.literal_eval(cell) if t not in ('""', "submission_subreddit")]
        texts.append(_SPACE_BEFORE.sub(r"\1", " ".join(tokens)))
    return pd.DataFrame(
        {"post_id": "impacts:" + raw["ID"], "text": texts, "forum": "", "source": "reddit_impacts"}
    )


def build_corpus(root: Path, sources: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posts from the configured sources -> (kept, quarantined: empty texts, repeats)."""
    frames = []
    for name, rel in sources.items():
        path = Path(root) / rel
        if not path.exists():
            raise InputError(f"{path}: forum source {name!r} not found")
        frames.append(SOURCES.get(name)(path))
    corpus = pd.concat(frames, ignore_index=True)
    corpus["text"] = corpus["text"].fillna("").astype(str)
    corpus["text_sha"] = corpus["text"].map(text_hash)
    reasons = pd.Series("", index=corpus.index)
    reasons[~corpus["text"].map(lambda t: bool(_WORD.search(t)))] = "empty text"
    reasons[corpus.duplicated("post_id") & reasons.eq("")] = "duplicate post_id"
    kept = corpus[reasons.eq("")].reset_index(drop=True)
    quarantined = quarantine_frame(corpus[reasons.ne("")].assign(reason=reasons[reasons.ne("")]))
    return kept, quarantined.reset_index(drop=True)


# --- lexicon -------------------------------------------------------------------------------


@dataclass
class Lexicon:
    """Compiled per-label patterns, all languages together (posts mix languages)."""

    patterns: dict[str, dict[str, list[str]]]
    max_chars: int = 6000
    compiled_: dict[str, re.Pattern] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.compiled_ = {
            label: re.compile("|".join(f"(?:{p})" for pats in langs.values() for p in pats), re.I)
            for label, langs in self.patterns.items()
        }

    def hits(self, texts: list[str], labels: list[str]) -> np.ndarray:
        """Boolean matrix texts x labels: does any pattern of the label fire."""
        out = np.zeros((len(texts), len(labels)), dtype=bool)
        for j, label in enumerate(labels):
            rx = self.compiled_.get(label)
            if rx is None:
                continue
            for i, text in enumerate(texts):
                out[i, j] = rx.search(text[: self.max_chars]) is not None
        return out

    def evidence(self, text: str) -> dict[str, str]:
        """The first matching span per label: why the lexicon said so."""
        found = {}
        for label, rx in self.compiled_.items():
            match = rx.search(text[: self.max_chars])
            if match:
                found[label] = match.group(0)
        return found


# --- classifier ----------------------------------------------------------------------------

MODELS: Registry[Callable[[dict, int], tuple[FeatureUnion, OneVsRestClassifier]]] = Registry(
    "harm-reduction model"
)


@MODELS.register("tfidf_ovr_logreg")
def tfidf_ovr_logreg(cfg: dict[str, Any], seed: int) -> tuple[FeatureUnion, OneVsRestClassifier]:
    """Word + character TF-IDF, one class-balanced logistic regression per label."""
    tf = cfg["tfidf"]
    common = {"min_df": tf["min_df"], "max_features": tf["max_features"], "sublinear_tf": True}
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=tuple(tf["word_ngrams"]), **common)),
            (
                "char",
                TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(tf["char_ngrams"]), **common),
            ),
        ]
    )
    classifier = OneVsRestClassifier(
        LogisticRegression(C=tf["C"], class_weight="balanced", max_iter=2000, random_state=seed)
    )
    return features, classifier


COMBINERS: Registry[Callable[[np.ndarray, np.ndarray], np.ndarray]] = Registry("combiner")


@COMBINERS.register("union")
def combine_union(predicted: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
    return predicted | lexicon


@COMBINERS.register("classifier")
def combine_classifier(predicted: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
    return predicted


@COMBINERS.register("lexicon")
def combine_lexicon(predicted: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
    return lexicon


@dataclass
class HarmReductionModel(BaseEstimator, ClassifierMixin):
    """Lexicon + trained multi-label classifier; `predict` gives a texts x labels bool
    matrix, combined by the configured rule."""

    cfg: dict[str, Any] = field(default_factory=dict)
    seed: int = 42

    def __post_init__(self) -> None:
        if self.cfg:
            self.labels_ = list(self.cfg["labels"])
            self.lexicon_ = Lexicon(self.cfg["lexicon"], self.cfg["max_chars"])

    def _prepare(self, texts: list[str]) -> list[str]:
        return [str(t)[: self.cfg["max_chars"]] for t in texts]

    def _matrix(self, texts: list[str], fit: bool = False) -> sparse.csr_matrix:
        prepared = self._prepare(texts)
        tfidf = (
            self.features_.fit_transform(prepared) if fit else self.features_.transform(prepared)
        )
        if not self.cfg["lexicon_features"]:
            return tfidf.tocsr()
        hits = sparse.csr_matrix(self.lexicon_.hits(prepared, self.labels_).astype(float))
        return sparse.hstack([tfidf, hits]).tocsr()

    def fit(self, texts: list[str], y: np.ndarray) -> HarmReductionModel:
        self.features_, self.classifier_ = MODELS.get(self.cfg["model"])(self.cfg, self.seed)
        self.classifier_.fit(self._matrix(texts, fit=True), np.asarray(y, dtype=int))
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.classifier_.predict_proba(self._matrix(texts))

    def predict(self, texts: list[str], combine: str | None = None) -> np.ndarray:
        """Texts without any word (emoji-only, empty) get no label."""
        prepared = self._prepare(texts)
        out = np.zeros((len(texts), len(self.labels_)), dtype=bool)
        idx = [i for i, t in enumerate(prepared) if _WORD.search(t)]
        if idx:
            chosen = [prepared[i] for i in idx]
            predicted = self.predict_proba(chosen) >= self.cfg["threshold"]
            lexicon = self.lexicon_.hits(chosen, self.labels_)
            out[idx] = COMBINERS.get(combine or self.cfg["combine"])(predicted, lexicon)
        return out

    def save(self, model_dir: Path, card: dict[str, Any]) -> None:
        """skops for the fitted parts (never pickle), JSON for config and card."""
        import skops.io as sio

        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        sio.dump(
            {"features": self.features_, "classifier": self.classifier_}, model_dir / "model.skops"
        )
        meta = {"cfg": self.cfg, "seed": self.seed}
        (model_dir / "config.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        (model_dir / "model_card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False))

    @classmethod
    def load(cls, model_dir: Path) -> HarmReductionModel:

        path = Path(model_dir) / "model.skops"
        if not path.exists():
            raise InputError(
                f"{model_dir}: no harm-reduction model (run `cryptodrug train-harm-reduction`)"
            )
        meta = json.loads((Path(model_dir) / "config.json").read_text())
        model = cls(cfg=meta["cfg"], seed=meta["seed"])
        parts = load_skops(path)
        model.features_, model.classifier_ = parts["features"], parts["classifier"]
        return model


# --- the labelled set ----------------------------------------------------------------------


def label_matrix(labels: pd.Series, names: list[str]) -> np.ndarray:
    """';'-joined label strings -> bool matrix."""
    sets = [set(filter(None, str(v).split(";"))) for v in labels.fillna("")]
    return np.array([[name in s for name in names] for s in sets], dtype=bool).reshape(
        len(sets), len(names)
    )


def join_gold(corpus: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """Attach stored labels to the posts' text by post id; a changed text (hash
    mismatch) is an error, not a silent relabel."""
    merged = gold.merge(
        corpus[["post_id", "text", "text_sha"]], on="post_id", how="left", suffixes=("", "_now")
    )
    missing = merged["text"].isna()
    if missing.any():
        raise InputError(
            f"{int(missing.sum())} labelled posts not found in the corpus "
            f"(e.g. {merged.loc[missing, 'post_id'].iloc[0]})"
        )
    changed = merged["text_sha"] != merged["text_sha_now"]
    if changed.any():
        raise InputError(f"{int(changed.sum())} labelled posts changed text since annotation")
    return merged.drop(columns=["text_sha_now"])


def load_gold(corpus: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Annotated real posts (labels by id + hash) and the project's own examples."""
    if "labels" in corpus.columns:  # a corpus that carries its own labels (the sample)
        real = corpus.assign(labels=corpus["labels"].fillna(""))
        real["split"] = real.get("split", pd.Series("train", index=real.index)).fillna("train")
    else:
        gold = pd.read_csv(cfg["gold"]["labels"], dtype=str, keep_default_na=False)
        real = join_gold(corpus, gold)
    own = pd.read_csv(cfg["gold"]["own_examples"], dtype=str, keep_default_na=False).assign(
        source="own"
    )
    return pd.concat([real, own], ignore_index=True)


def per_label_figures(y_true: np.ndarray, y_pred: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Per-label precision/recall/F1, micro/macro F1, and the any-label flag."""
    from sklearn.metrics import cohen_kappa_score, f1_score, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    flag_true, flag_pred = y_true.any(axis=1), y_pred.any(axis=1)
    fp, fr, ff, _ = precision_recall_fscore_support(
        flag_true, flag_pred, average="binary", zero_division=0
    )
    return {
        "n": int(len(y_true)),
        "harm_reduction_flag": {
            "precision": round(float(fp), 4),
            "recall": round(float(fr), 4),
            "f1": round(float(ff), 4),
            "micro_f1": round(float(f1_score(flag_true, flag_pred, average="micro")), 4),
            "kappa": round(float(cohen_kappa_score(flag_true, flag_pred)), 4),
            "support": int(flag_true.sum()),
        },
        "labels_micro_f1": round(
            float(f1_score(y_true, y_pred, average="micro", zero_division=0)), 4
        ),
        "labels_macro_f1": round(
            float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4
        ),
        "per_label": {
            name: {
                "precision": round(float(p[j]), 4),
                "recall": round(float(r[j]), 4),
                "f1": round(float(f[j]), 4),
                "support": int(s[j]),
            }
            for j, name in enumerate(names)
        },
    }


def evaluate(gold: pd.DataFrame, cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """Train on the `train` part, score the held-out part (never tuned on) with each
    combination rule; figures for the real posts and the own NL/FR/DE examples."""
    names = list(cfg["labels"])
    train, held = gold[gold["split"] == "train"], gold[gold["split"] == "heldout"]
    model = HarmReductionModel(cfg=cfg, seed=seed).fit(
        train["text"].tolist(), label_matrix(train["labels"], names)
    )
    y_true = label_matrix(held["labels"], names)
    metrics: dict[str, Any] = {
        "train_posts": len(train),
        "heldout_posts": len(held),
        "combine": cfg["combine"],
    }
    for rule in COMBINERS.names():
        y_pred = model.predict(held["text"].tolist(), combine=rule)
        real = (held["source"] != "own").to_numpy()
        metrics[rule] = {
            "all": per_label_figures(y_true, y_pred, names),
            "real_posts": per_label_figures(y_true[real], y_pred[real], names),
            "own_nl_fr_de": per_label_figures(y_true[~real], y_pred[~real], names),
        }
    return metrics


# --- scoring and summaries -----------------------------------------------------------------


def score_posts(
    posts: pd.DataFrame, model: HarmReductionModel
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posts -> (scored with harm_reduction, hr_labels, hr_evidence; quarantined empty)."""
    require_columns(posts, ("post_id", "text"), "input", what="post")
    frame = posts.reset_index(drop=True).copy()
    frame["text"] = frame["text"].fillna("").astype(str)
    empty = frame["text"].str.strip().eq("")
    kept = frame[~empty].reset_index(drop=True)
    predicted = model.predict(kept["text"].tolist())
    kept["hr_labels"] = [
        [n for n, on in zip(model.labels_, row, strict=True) if on] for row in predicted
    ]
    kept["harm_reduction"] = predicted.any(axis=1)
    kept["hr_evidence"] = [
        json.dumps(model.lexicon_.evidence(t), ensure_ascii=False) for t in kept["text"]
    ]
    quarantined = quarantine_frame(frame[empty], reason="empty text")
    return kept, quarantined.reset_index(drop=True)


def summarise(scored: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Share of posts with harm-reduction content, overall and by label."""
    n = len(scored)
    rows = [
        {
            "label": "any",
            "posts": int(scored["harm_reduction"].sum()),
            "share": round(float(scored["harm_reduction"].mean()), 4) if n else 0.0,
        }
    ]
    for name in names:
        has = scored["hr_labels"].map(lambda labels, name=name: name in list(labels))
        rows.append(
            {
                "label": name,
                "posts": int(has.sum()),
                "share": round(float(has.mean()), 4) if n else 0.0,
            }
        )
    return pd.DataFrame(rows).assign(total_posts=n)


# --- IO layer for the CLI --------------------------------------------------------------------


def forum_config(params: dict[str, Any]) -> dict[str, Any]:
    if "forums" not in params:
        raise InputError("params lack a `forums` group (run `python scripts/compose_params.py`)")
    return params["forums"]


def run_forum_corpus(params: dict[str, Any], out: Path) -> dict[str, int]:
    """Posts from `data.root` + `data.forums.sources` (with text hashes)."""
    from pipeline.core.io import write_with_quarantine

    sources = params.get("data", {}).get("forums", {}).get("sources", {})
    if not sources:
        raise InputError("params lack `data.forums.sources`")
    kept, quarantined = build_corpus(Path(params["data"]["root"]), sources)
    return write_with_quarantine(kept, quarantined, out, len(kept) + len(quarantined), "posts")


def run_train(corpus_path: Path, model_dir: Path, params: dict[str, Any]) -> None:
    """Fit on every labelled post (train and held-out): the deployed model."""
    from pipeline.core.io import console, read_table

    cfg = forum_config(params)
    gold = load_gold(read_table(corpus_path), cfg)
    names = list(cfg["labels"])
    model = HarmReductionModel(cfg=cfg, seed=params.get("seed", 42))
    model.fit(gold["text"].tolist(), label_matrix(gold["labels"], names))
    counts = dict(zip(names, label_matrix(gold["labels"], names).sum(axis=0).tolist(), strict=True))
    card = {
        "task": "harm-reduction content, multi-label (SPEC section 5)",
        "model": cfg["model"],
        "combine": cfg["combine"],
        "labelled_posts": len(gold),
        "label_counts": counts,
        "evaluation": "reports/metrics/harm_reduction.json (`cryptodrug evaluate-harm-reduction`)",
    }
    model.save(model_dir, card)
    console.print(f"harm-reduction model: {len(gold)} labelled posts -> {model_dir}")


def run_evaluate(corpus_path: Path, out: Path, params: dict[str, Any]) -> dict[str, Any]:
    from pipeline.core.io import console, read_table

    cfg = forum_config(params)
    gold = load_gold(read_table(corpus_path), cfg)
    metrics = evaluate(gold, cfg, params.get("seed", 42))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2))
    for rule in COMBINERS.names():
        m = metrics[rule]["all"]
        flag = m["harm_reduction_flag"]
        console.print(
            f"{rule:<10} flag P {flag['precision']:.3f} R {flag['recall']:.3f} F1 {flag['f1']:.3f}"
            f"  labels micro-F1 {m['labels_micro_f1']:.3f} (held-out n={m['n']})"
        )
    for name, fig in metrics[cfg["combine"]]["all"]["per_label"].items():
        console.print(
            f"  {name:<18} P {fig['precision']:.3f} R {fig['recall']:.3f} F1 {fig['f1']:.3f}"
            f" support {fig['support']}"
        )
    return metrics


def run_harm_reduction(
    inp: Path, out: Path, model_dir: Path, summary: Path | None
) -> dict[str, int]:
    from pipeline.core.io import read_table, write_table, write_with_quarantine

    posts = read_table(inp)
    model = HarmReductionModel.load(model_dir)
    kept, quarantined = score_posts(posts, model)
    counts = write_with_quarantine(kept, quarantined, out, len(posts), "posts")
    if summary is not None:
        write_table(summarise(kept, model.labels_), summary)
    return counts
