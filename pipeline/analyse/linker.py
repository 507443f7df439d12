"""Linking vendor accounts across markets, for migration after market shocks.

Evidence, in order: the normalised handle matches exactly; else the handles are similar,
the product mixes are alike, the ships-from countries overlap and the listing titles are
written alike (character n-grams: spelling, emoji, capitals, punctuation). Each pair gets a
score (the weighted mean of the evidence available for it) and the list of evidence that
fired; links are one-to-one (best score first). Handles are compared before pseudonymisation.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.analyse.common import UNKNOWN
from pipeline.core.text import normalise_handle

EVIDENCE = ("handle_similarity", "product_mix", "ships_from", "style")
LINKER_COLUMNS = ["market", "vendor", "market_to", "vendor_to", "score", "handle_exact",
                  *EVIDENCE, "evidence"]
MAX_TITLES = 30  # titles per account used for its writing style


def link_handle(handle: str) -> str:
    """Handle as compared across markets: lowercase, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", normalise_handle(str(handle)))


def vendor_accounts(listings: pd.DataFrame) -> pd.DataFrame:
    """One row per (market, vendor) with what the linker compares: normalised handle,
    product mix (shares over one category order), declared origins, titles and the active period."""
    lst = listings[listings["vendor"] != ""]
    keys = ["market", "vendor"]
    grouped = lst.groupby(keys)
    acc = pd.DataFrame({
        "first_seen": grouped["scraped_at"].min(),
        "last_seen": grouped["scraped_at"].max(),
        "origins": grouped["origin"].agg(lambda s: sorted(set(s) - {UNKNOWN})),
        "style_text": grouped["title"].agg(lambda s: " \n ".join(sorted(set(s))[:MAX_TITLES])),
    })
    mix = lst.groupby([*keys, "category"]).size().unstack(fill_value=0)
    # one category order for all accounts, so any two mixes compare
    acc["product_mix_vec"] = list(mix.div(mix.sum(axis=1), axis=0).reindex(acc.index).to_numpy())
    acc = acc.reset_index()
    acc["handle"] = acc["vendor"].map(link_handle)
    return acc


def _jaccard(a: list[str], b: list[str]) -> float:
    if not a or not b:
        return np.nan
    return len(set(a) & set(b)) / len(set(a) | set(b))


@dataclass
class VendorLinker:
    """Scores candidate pairs of accounts (left market(s) x right market(s)) and keeps the
    one-to-one links scoring at least `threshold`. `evidence` restricts which similarity
    kinds score (to measure how many links each kind adds); exact handles always link."""

    candidates: int = 5
    threshold: float = 0.62
    weights: dict[str, float] = field(default_factory=lambda: {
        "handle_similarity": 0.5, "product_mix": 0.2, "ships_from": 0.1, "style": 0.2})
    evidence_min: dict[str, float] = field(default_factory=lambda: {
        "handle_similarity": 0.75, "product_mix": 0.8, "ships_from": 0.5, "style": 0.5})
    evidence: tuple[str, ...] = EVIDENCE

    def fit(self, accounts: pd.DataFrame) -> VendorLinker:
        """Learn the character n-gram vocabularies of handles and titles."""
        self.handle_vec_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).fit(
            accounts["handle"].replace("", "_"))
        self.style_vec_ = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), lowercase=False,
                                          sublinear_tf=True, min_df=2, max_features=50_000,
                                          dtype=np.float32).fit(accounts["style_text"])
        return self

    def _top_k(self, sim: np.ndarray) -> pd.DataFrame:
        k = min(self.candidates, sim.shape[1])
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        return pd.DataFrame({"i": np.repeat(np.arange(sim.shape[0]), k), "j": top.ravel()})

    def score_pairs(self, left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
        """Candidate pairs (exact handles, top handle and top style neighbours) with each
        similarity, the score and the evidence that reached its minimum."""
        left, right = left.reset_index(drop=True), right.reset_index(drop=True)
        if left.empty or right.empty:
            return pd.DataFrame()
        exact = left.reset_index().merge(right.reset_index(), on="handle", suffixes=("_l", "_r"))
        exact = exact[exact["handle"] != ""][["index_l", "index_r"]].set_axis(["i", "j"], axis=1)
        handles_l = self.handle_vec_.transform(left["handle"].replace("", "_"))
        handles_r = self.handle_vec_.transform(right["handle"].replace("", "_"))
        style_l = self.style_vec_.transform(left["style_text"])
        style_r = self.style_vec_.transform(right["style_text"])
        cand = pd.concat([
            exact,
            self._top_k((handles_l @ handles_r.T).toarray()),
            self._top_k((style_l @ style_r.T).toarray()),
        ]).drop_duplicates()
        i, j = cand["i"].to_numpy(int), cand["j"].to_numpy(int)
        hl, hr = left["handle"].to_numpy()[i], right["handle"].to_numpy()[j]
        mix_l = np.vstack(left["product_mix_vec"].to_numpy())[i]
        mix_r = np.vstack(right["product_mix_vec"].to_numpy())[j]
        norms = np.linalg.norm(mix_l, axis=1) * np.linalg.norm(mix_r, axis=1)
        rows = pd.DataFrame({
            "i": i, "j": j,
            "handle_exact": (hl != "") & (hl == hr),
            "handle_similarity": [difflib.SequenceMatcher(None, a, b).ratio()
                                  for a, b in zip(hl, hr, strict=True)],
            "product_mix": np.where(norms > 0, (mix_l * mix_r).sum(axis=1) / np.where(
                norms > 0, norms, 1.0), np.nan),
            "ships_from": [_jaccard(a, b) for a, b in zip(
                left["origins"].to_numpy()[i], right["origins"].to_numpy()[j], strict=True)],
            "style": np.asarray(style_l[i].multiply(style_r[j]).sum(axis=1)).ravel(),
        })
        used = [e for e in EVIDENCE if e in self.evidence]
        values = rows[used].to_numpy(float)
        weights = np.array([self.weights[e] for e in used])
        present = ~np.isnan(values)
        weighted = np.where(present, values, 0.0) @ weights
        total = present.astype(float) @ weights
        rows["score"] = np.where(total > 0, weighted / np.where(total > 0, total, 1), 0.0)
        rows.loc[rows["handle_exact"], "score"] = 1.0
        fired = present & (values >= np.array([self.evidence_min[e] for e in used]))
        rows["evidence"] = [
            (["handle_exact"] if ex else []) + [e for e, f in zip(used, row, strict=True) if f]
            for ex, row in zip(rows["handle_exact"], fired, strict=True)
        ]
        return rows

    def predict(self, left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
        """One-to-one links scoring at least `threshold`: market/vendor of both sides,
        score, each similarity and the evidence list."""
        pairs = self.score_pairs(left, right)
        if pairs.empty:
            return pd.DataFrame(columns=LINKER_COLUMNS)
        pairs = pairs[pairs["score"] >= self.threshold].sort_values(
            ["score", "i", "j"], ascending=[False, True, True])
        chosen, used_l, used_r = [], set(), set()
        for row in pairs.itertuples(index=False):
            if row.i not in used_l and row.j not in used_r:
                chosen.append(row)
                used_l.add(row.i)
                used_r.add(row.j)
        links = pd.DataFrame(chosen, columns=pairs.columns)
        left, right = left.reset_index(drop=True), right.reset_index(drop=True)
        links["market"] = left["market"].to_numpy()[links["i"].to_numpy(int)]
        links["vendor"] = left["vendor"].to_numpy()[links["i"].to_numpy(int)]
        links["market_to"] = right["market"].to_numpy()[links["j"].to_numpy(int)]
        links["vendor_to"] = right["vendor"].to_numpy()[links["j"].to_numpy(int)]
        return links[LINKER_COLUMNS].reset_index(drop=True)

