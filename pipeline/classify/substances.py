"""The SPEC rule that the substance decides, not the market's shelf (issue 20).

`SubstanceRule` wraps a fitted text model. Where the opening of a listing (`window`
characters: the title and the start of the description) names substances of the
vocabulary, their category replaces the model's choice:

- one category named: that category (oxycodone on a "Prescription" shelf -> `opioids`);
- several (kits, "MDMA + 2C-B", "cocaine, no levamisole"): the model's choice when it is one
  of them, otherwise the category named most often, the first named on a tie;
- a category listed in `defer_to_model` (by default none) never overrides the model.

Only vocabulary rule terms and class words ("benzos", "opiates") count (context-only words
such as "ice" never decide), so the rule fires on exact names. The overridden class takes
the model's top probability (the two swap), so confidence and the review queue keep their
meaning."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from pipeline.core.ml import TextModel
from pipeline.core.substances import SubstanceVocabulary, find_substances, rule_pipeline


def decide(categories: list[str], predicted: str) -> str | None:
    """The category the substances named decide, or None when none was named."""
    if not categories:
        return None
    counts = Counter(categories)
    if predicted in counts:
        return predicted
    top = max(counts.values())
    return next(c for c in categories if counts[c] == top)


class SubstanceRule:
    """A fitted text model whose prediction the named substances can override."""

    def __init__(self, model: TextModel, window: int = 150,
                 defer_to_model: tuple[str, ...] = ()) -> None:
        self.model = model
        self.window = window
        self.defer_to_model = tuple(defer_to_model)
        self.vocabulary_ = SubstanceVocabulary.load()
        self.nlp_ = rule_pipeline(self.vocabulary_, class_words=True)

    @property
    def classes_(self) -> np.ndarray:
        return self.model.classes_

    def fit(self, texts: list[str], labels: list[str]) -> SubstanceRule:
        self.model.fit(texts, labels)
        return self

    def named_categories(self, texts: list[str]) -> list[list[str]]:
        """Categories of the substances named in each text's opening, in text order."""
        openings = [t[: self.window] for t in texts]
        return [[s["category"] for s in spans if s["category"] not in self.defer_to_model]
                for spans in find_substances(self.nlp_, openings, self.vocabulary_)]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        proba = np.array(self.model.predict_proba(texts), dtype=float)
        classes = [str(c) for c in self.classes_]
        for i, named in enumerate(self.named_categories(texts)):
            best = int(proba[i].argmax())
            decided = decide(named, classes[best])
            if decided in classes and decided != classes[best]:
                j = classes.index(decided)
                proba[i, [best, j]] = proba[i, [j, best]]
        return proba

    def predict(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.classes_)[self.predict_proba(texts).argmax(axis=1)]

    def save(self, model_dir: Any) -> None:
        """The wrapped model only: the model card records the rule's config, and
        `run_classify` re-applies it from there."""
        self.model.save(model_dir)


def with_substance_rule(model: TextModel, rule_cfg: dict[str, Any] | None) -> Any:
    """`model` wrapped in the substance rule when the `model.substance_rule` config is
    given (`window`, `defer_to_model`); the model itself otherwise."""
    if not rule_cfg or not rule_cfg.get("enabled", True):
        return model
    return SubstanceRule(model, int(rule_cfg.get("window", 150)),
                         tuple(rule_cfg.get("defer_to_model", ())))
