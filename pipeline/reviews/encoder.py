"""The transformer encoder fine-tuned beside the n-gram model (`reviews.encoder`): the
n-gram model alone misses mixed and reserved verdicts ("fast but weak", "good so far, will
update") that a pretrained encoder reads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ENCODER_DIR = "encoder"  # the fine-tuned encoder inside a model directory (safetensors)


def encoder_training_rows(
    frame: pd.DataFrame, encoder: dict[str, Any], seed: int
) -> pd.DataFrame:
    """What the encoder is fine-tuned on: every human-labelled and seed text at its weight,
    the rating-labelled texts below the top score (all) and a seeded sample of
    `positive_sample` top-rated ones at `rating_weight` (ratings are a noisy proxy, and nine
    in ten are top scores: the sample keeps fine-tuning to minutes on two cores). Weights
    are then balanced across classes, as the n-gram model's `class_weight` does."""
    rated = ~frame["human"] & frame["group"].ne("")
    top = frame.index[rated & frame["label"].eq("positive")]
    kept_top = np.random.default_rng(seed).permutation(top)[: int(encoder["positive_sample"])]
    keep = ~rated | frame["label"].ne("positive") | frame.index.isin(kept_top)
    rows = frame[keep].assign(
        weight=frame["weight"].where(~rated, float(encoder["rating_weight"]))[keep]
    )
    per_class = rows.groupby("label")["weight"].transform("sum") * rows["label"].nunique()
    return rows.assign(weight=rows["weight"] * rows["weight"].sum() / per_class)


def inference_params(encoder: dict[str, Any]) -> dict[str, Any]:
    """The scoring options of the encoder, set again after loading it."""
    return {"quantize": bool(encoder.get("quantize", False)),
            "batch_size": int(encoder["batch_size"])}


def fit_encoder(rows: pd.DataFrame, encoder: dict[str, Any], seed: int) -> Any:
    """Fine-tune the configured encoder (`encoder.checkpoint`: a local folder with
    safetensors weights; "" = the packaged all-MiniLM-L6-v2) as a 3-class classifier."""
    from pipeline.core.ml.embeddings import resolve_encoder
    from pipeline.core.ml.transformer import TransformerTextClassifier

    model = TransformerTextClassifier(
        checkpoint=str(resolve_encoder(encoder["checkpoint"])),
        max_length=encoder["max_length"],
        epochs=encoder["epochs"],
        learning_rate=encoder["learning_rate"],
        warmup_ratio=encoder["warmup_ratio"],
        train_sampling=encoder.get("train_sampling", "random"),
        progress=True,
        seed=seed,
        **inference_params(encoder),
    )
    return model.fit(rows["text"].tolist(), rows["label"].tolist(), rows["weight"].tolist())


def load_encoder(folder: Any, encoder: dict[str, Any]) -> Any:
    """A saved fine-tuned encoder, with the configured scoring options."""
    from pipeline.core.ml.transformer import TransformerTextClassifier

    model = TransformerTextClassifier.load(folder)
    return model.set_params(**inference_params(encoder))
