"""Transformer option: fine-tune a Hugging Face checkpoint for sequence classification.

`checkpoint` is a local path (xlm-roberta-base, a domain model, ...) holding the model and
its tokenizer; nothing is downloaded (HF_HUB_OFFLINE). Training data go through
🤗 `datasets` and the `Trainer`; the fine-tuned model is saved as safetensors with its
tokenizer, so the model directory is self-contained. Confidence is the softmax
probability of the predicted class.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from pipeline.io import InputError
from pipeline.models import MODELS


@MODELS.register("transformer")
class TransformerTextClassifier(ClassifierMixin, BaseEstimator):
    """`AutoModelForSequenceClassification` fine-tuned from `checkpoint`."""

    def __init__(
        self,
        checkpoint: str = "",
        max_length: int = 128,
        epochs: float = 2.0,
        batch_size: int = 32,
        learning_rate: float = 3e-5,
        weight_decay: float = 0.01,
        seed: int = 42,
    ) -> None:
        self.checkpoint = checkpoint
        self.max_length = max_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.seed = seed

    def fit(self, texts: list[str], labels: list[str]) -> TransformerTextClassifier:
        import torch
        from datasets import Dataset
        from transformers import (
            AutoModelForSequenceClassification,
            AutoTokenizer,
            DataCollatorWithPadding,
            Trainer,
            TrainingArguments,
            set_seed,
        )

        if not self.checkpoint or not Path(self.checkpoint).is_dir():
            raise InputError(
                f"transformer checkpoint {self.checkpoint!r} is not a local folder "
                "(set model.checkpoint to a downloaded model, e.g. xlm-roberta-base)"
            )
        set_seed(self.seed)
        self.classes_ = np.array(sorted(set(labels)))
        index = {c: i for i, c in enumerate(self.classes_)}
        self.tokenizer_ = AutoTokenizer.from_pretrained(self.checkpoint)
        self.model_ = AutoModelForSequenceClassification.from_pretrained(
            self.checkpoint,
            num_labels=len(self.classes_),
            id2label=dict(enumerate(self.classes_.tolist())),
            label2id=index,
            ignore_mismatched_sizes=True,
        )
        data = Dataset.from_dict({"text": list(texts), "label": [index[y] for y in labels]})
        data = data.map(self._tokenize, batched=True, remove_columns=["text"])
        with tempfile.TemporaryDirectory() as tmp:
            args = TrainingArguments(
                output_dir=tmp,
                num_train_epochs=self.epochs,
                per_device_train_batch_size=self.batch_size,
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
                seed=self.seed,
                data_seed=self.seed,
                save_strategy="no",
                report_to=[],
                logging_strategy="no",
                disable_tqdm=True,
                dataloader_pin_memory=torch.cuda.is_available(),  # pinning needs a GPU
            )
            Trainer(
                model=self.model_,
                args=args,
                train_dataset=data,
                data_collator=DataCollatorWithPadding(self.tokenizer_),
            ).train()
        self.model_.eval()
        return self

    def _tokenize(self, batch: dict) -> dict:
        return self.tokenizer_(batch["text"], truncation=True, max_length=self.max_length)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        import torch

        device = next(self.model_.parameters()).device
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer_(
                    list(texts[start : start + self.batch_size]), truncation=True,
                    max_length=self.max_length, padding=True, return_tensors="pt",
                ).to(device)
                out.append(torch.softmax(self.model_(**batch).logits, dim=-1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes_)))

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def save(self, model_dir: Path) -> None:
        self.model_.save_pretrained(model_dir, safe_serialization=True)
        self.tokenizer_.save_pretrained(model_dir)

    @classmethod
    def load(cls, model_dir: Path) -> TransformerTextClassifier:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = cls(checkpoint=str(model_dir))
        model.tokenizer_ = AutoTokenizer.from_pretrained(model_dir)
        model.model_ = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
        labels = model.model_.config.id2label
        model.classes_ = np.array([labels[i] for i in range(len(labels))])
        return model
