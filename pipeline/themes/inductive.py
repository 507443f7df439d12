"""Candidate new themes among the segments no code fits: TF-IDF vectors clustered with
k-means, each cluster shown with its top terms and example segments. Works down to a
handful of segments (N=99 respondents): k shrinks with the corpus, and with fewer than
`min_segments` there is nothing to propose rather than a crash."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer

# a few function words per language, so clusters are named by content words
_FUNCTION_WORDS = (
    "de het een en ik je is dat die van op te niet in "  # nl
    "le la les un une et est que qui pas des du "  # fr
    "the a an and i it to of that not my me"  # en
)
STOP_WORDS = sorted(set(_FUNCTION_WORDS.split()))


def propose_themes(
    texts: Sequence[str],
    ids: Sequence[str],
    max_clusters: int = 6,
    top_terms: int = 8,
    examples: int = 3,
    min_segments: int = 4,
    seed: int = 42,
) -> list[dict]:
    """Clusters of unfitting segments: `{theme, size, top_terms, examples: [segment ids]}`."""
    texts = [str(t) for t in texts]
    if len(texts) < min_segments:
        return []
    vectorizer = TfidfVectorizer(stop_words=STOP_WORDS, ngram_range=(1, 2), sublinear_tf=True)
    try:
        X = vectorizer.fit_transform(texts)
    except ValueError:  # only stop words: no vocabulary
        return []
    k = max(1, min(max_clusters, len(texts) // 3, X.shape[1]))
    labels = (
        KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(X)
        if k > 1
        else (np.zeros(len(texts), dtype=int))
    )
    terms = np.array(vectorizer.get_feature_names_out())
    themes = []
    for cluster in range(k):
        members = np.flatnonzero(labels == cluster)
        if not len(members):
            continue
        centroid = np.asarray(X[members].mean(axis=0)).ravel()
        closest = members[np.argsort(-(X[members] @ centroid))][:examples]
        themes.append(
            {
                "theme": f"candidate_{cluster + 1}",
                "size": int(len(members)),
                "top_terms": [str(t) for t in terms[np.argsort(-centroid)[:top_terms]] if t],
                "examples": [str(ids[i]) for i in closest],
            }
        )
    return sorted(themes, key=lambda t: -t["size"])
