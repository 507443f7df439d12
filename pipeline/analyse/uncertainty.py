"""95% intervals for the shares and medians the analytics publish: Wilson intervals for
proportions of counted things (listings, vendors, sales) and a seeded bootstrap over sales
for medians and revenue shares, whose sampling distribution has no closed form."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Z95 = 1.959963984540054
BATCH = 100  # bootstrap replicates drawn at once: bounds memory on markets with many listings


def wilson(k: np.ndarray | float, n: np.ndarray | float, z: float = Z95
           ) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of k successes in n trials; NaN where n is 0 (no data)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    empty = ~(n > 0)
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def bootstrap(weights: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], reps: int,
              seed: int) -> np.ndarray:
    """2.5th and 97.5th percentiles of `statistic` over `reps` resamples of the sales: each
    resample draws as many sales as there are, from the items in proportion to `weights`
    (sales per item). `statistic` maps a (batch, items) matrix of counts to (batch, ...)
    values. Returns an array of shape (2, ...); NaN where there is no sale."""
    return bootstrap_all(weights, [statistic], reps, seed)[0]


def bootstrap_all(weights: np.ndarray, statistics: Sequence[Callable[[np.ndarray], np.ndarray]],
                  reps: int, seed: int) -> list[np.ndarray]:
    """`bootstrap` of several statistics on the same resamples: drawing them is the cost
    (a multinomial over every item), so each resample is drawn once. Each statistic's
    interval equals its own `bootstrap` with the same seed."""
    weights = np.asarray(weights, dtype=float)
    total = int(round(weights.sum()))
    if total == 0 or reps <= 0:
        return [np.full((2, *f(np.zeros((1, len(weights)))).shape[1:]), np.nan)
                for f in statistics]
    rng = np.random.default_rng(seed)
    p = weights / weights.sum()
    draws: list[list[np.ndarray]] = [[] for _ in statistics]
    for start in range(0, reps, BATCH):
        counts = rng.multinomial(total, p, size=min(BATCH, reps - start)).astype(float)
        for values, statistic in zip(draws, statistics, strict=True):
            values.append(statistic(counts))
    with np.errstate(invalid="ignore"):
        return [np.nanpercentile(np.concatenate(values), [2.5, 97.5], axis=0)
                for values in draws]


def median_statistic(values: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The weighted median of `values` for each row of counts (a bootstrap statistic)."""
    order = np.argsort(values, kind="stable")
    ordered = np.asarray(values, dtype=float)[order]

    def median(counts: np.ndarray) -> np.ndarray:
        cum = counts[:, order].cumsum(axis=1)
        at = (cum >= cum[:, -1:] / 2).argmax(axis=1)
        return np.where(cum[:, -1] > 0, ordered[at], np.nan)

    return median


def share_statistic(amounts: np.ndarray, groups: np.ndarray, eligible: np.ndarray
                    ) -> Callable[[np.ndarray], np.ndarray]:
    """Share of the resampled amount (e.g. revenue) falling in each group (columns of the
    boolean matrix `groups`, items x groups) among `eligible` items (a bootstrap statistic)."""
    amounts = np.asarray(amounts, dtype=float)
    in_groups = np.asarray(groups, dtype=float) * amounts[:, None]
    base = np.where(eligible, amounts, 0.0)

    def share(counts: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (counts @ in_groups) / (counts @ base)[:, None]

    return share
