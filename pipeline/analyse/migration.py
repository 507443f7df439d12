"""Migration after market shocks, and the linker's evaluation on verifiable pairs."""

from __future__ import annotations

import datetime
import random
from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline.analyse.common import as_day
from pipeline.analyse.linker import EVIDENCE, LINKER_COLUMNS, VendorLinker, link_handle
from pipeline.core.io import InputError

_LEET = str.maketrans({"o": "0", "e": "3", "a": "4", "i": "1", "s": "5"})
LINK_COLUMNS = ["shock", "shock_date", "window_start", "window_end", "market", "vendor",
                "origins", "last_seen", "market_to", "vendor_to", "origins_to", "first_seen_to",
                "gap_days", "days_after_shock", "score", "handle_exact", *EVIDENCE, "evidence"]
DEFAULT_WINDOW = {"days_before": 180, "days_after": 180}


def shock_window(shock: dict, default: dict) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """(date, window start, window end) of a shock: `days_before` and `days_after` its date,
    from the shock itself or else the configured default (`analyse.migration_window`)."""
    try:
        date = pd.Timestamp(datetime.date.fromisoformat(str(shock["date"])))
        days = {k: int(shock.get(k, default.get(k, d))) for k, d in DEFAULT_WINDOW.items()}
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"shock {shock.get('name', shock)!r}: needs an ISO `date` and whole "
                         f"numbers of days_before/days_after ({err})") from err
    if min(days.values()) < 0:
        raise InputError(f"shock {shock.get('name')!r}: window days must not be negative")
    return (date, date - pd.Timedelta(days=days["days_before"]),
            date + pd.Timedelta(days=days["days_after"]))


def migration_links(accounts: pd.DataFrame, shocks: list[dict], linker: VendorLinker,
                    window: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For each shock, accounts whose last activity on its market falls in the shock's
    window linked to accounts on other markets whose first activity falls in it (a vendor
    seen on the closed market years before, or elsewhere years after, is no migration).
    Returns (links with their evidence and time gaps, summary per shock and destination)."""
    links, summary = [], []
    first, last = as_day(accounts["first_seen"]), as_day(accounts["last_seen"])
    side = accounts.assign(first_day=first, last_day=last).set_index(["market", "vendor"])
    for shock in shocks:
        date, start, end = shock_window(shock, window or {})
        left = accounts[(accounts["market"] == shock["market"]) & last.between(start, end)]
        right = accounts[(accounts["market"] != shock["market"]) & first.between(start, end)]
        found = linker.predict(left, right) if len(left) and len(right) else pd.DataFrame(
            columns=[c for c in LINK_COLUMNS if c in LINKER_COLUMNS])
        came = side.loc[list(zip(found["market"], found["vendor"], strict=True))]
        went = side.loc[list(zip(found["market_to"], found["vendor_to"], strict=True))]
        found["origins"], found["origins_to"] = came["origins"].to_list(), went["origins"].to_list()
        found["last_seen"] = came["last_day"].dt.date.to_list()
        found["first_seen_to"] = went["first_day"].dt.date.to_list()
        to_day = went["first_day"].reset_index(drop=True)
        found["gap_days"] = (to_day - came["last_day"].reset_index(drop=True)).dt.days
        found["days_after_shock"] = (to_day - date).dt.days
        found = found.assign(shock=shock["name"], shock_date=date.date(),
                             window_start=start.date(), window_end=end.date())
        links.append(found.reindex(columns=LINK_COLUMNS))
        for market_to in sorted(set(right["market"])) or [""]:
            hit = found[found["market_to"] == market_to]
            summary.append({
                "shock": shock["name"], "shock_date": date.date(), "window_start": start.date(),
                "window_end": end.date(), "market": shock["market"],
                "accounts_before": len(left), "market_to": market_to,
                "accounts_after": int((right["market"] == market_to).sum()),
                "linked": len(hit), "linked_exact_handle": int(hit["handle_exact"].sum()),
                "median_gap_days": float(hit["gap_days"].median()) if len(hit) else np.nan,
            })
    out = pd.concat(links, ignore_index=True) if links else pd.DataFrame(columns=LINK_COLUMNS)
    for column in ("gap_days", "days_after_shock"):
        out[column] = out[column].astype("Int64")
    return out, pd.DataFrame(summary, columns=SUMMARY_COLUMNS)


SUMMARY_COLUMNS = ["shock", "shock_date", "window_start", "window_end", "market",
                   "accounts_before", "market_to", "accounts_after", "linked",
                   "linked_exact_handle", "median_gap_days"]


def perturb_handle(handle: str, rng: random.Random) -> str:
    """A plausible re-registration of the same vendor under a changed handle."""
    kind = rng.choice(["suffix", "prefix", "drop", "swap", "leet", "separator"])
    if kind == "suffix":
        return handle + rng.choice(["2", "_official", "shop", "NL", "_v2", "x"])
    if kind == "prefix":
        return rng.choice(["the", "real", "original_", "new"]) + handle
    if kind == "drop" and len(handle) > 3:
        i = rng.randrange(len(handle))
        return handle[:i] + handle[i + 1:]
    if kind == "swap" and len(handle) > 3:
        i = rng.randrange(len(handle) - 1)
        return handle[:i] + handle[i + 1] + handle[i] + handle[i + 2:]
    if kind == "leet" and handle.lower().translate(_LEET) != handle.lower():
        return handle.lower().translate(_LEET)
    return "_".join(handle.upper())  # only case and separators change: normalisation's job


def evaluate_linker(accounts: pd.DataFrame, market_a: str, market_b: str, linker: VendorLinker,
                    perturb_share: float, seed: int) -> dict:
    """Precision and recall on pairs that can be checked: accounts with the same normalised
    handle on two markets are taken as one vendor; market_b's handles are then perturbed and
    the linker must find the pairs again from what is left. Evidence kinds are switched on
    one at a time, so the report shows how many links each adds."""
    a = accounts[accounts["market"] == market_a].reset_index(drop=True)
    b = accounts[accounts["market"] == market_b].reset_index(drop=True)
    truth = set(a[a["handle"] != ""].merge(b, on="handle")[["vendor_x", "vendor_y"]]
                .itertuples(index=False, name=None))
    rng = random.Random(seed)
    b = b.copy()
    perturbed = [rng.random() < perturb_share for _ in range(len(b))]
    b["handle"] = [link_handle(perturb_handle(v, rng)) if p else h
                   for v, h, p in zip(b["vendor"], b["handle"], perturbed, strict=True)]
    linker = replace(linker).fit(pd.concat([a, b], ignore_index=True))
    steps = []
    for k in range(len(EVIDENCE) + 1):
        step = replace(linker, evidence=EVIDENCE[:k])
        step.handle_vec_, step.style_vec_ = linker.handle_vec_, linker.style_vec_
        links = step.predict(a, b)
        found = set(zip(links["vendor"], links["vendor_to"], strict=True))
        tp = len(found & truth)
        steps.append({
            "evidence": "handle_exact" + "".join(f"+{e}" for e in EVIDENCE[:k]),
            "links": len(found), "true_links": tp,
            "precision": round(tp / len(found), 4) if found else None,
            "recall": round(tp / len(truth), 4) if truth else None,
        })
    for prev, cur in zip([None, *steps[:-1]], steps, strict=True):
        cur["links_added"] = cur["links"] - (prev["links"] if prev else 0)
    final = steps[-1]
    p, r = final["precision"] or 0.0, final["recall"] or 0.0
    return {
        "markets": [market_a, market_b], "accounts": [len(a), len(b)],
        "verifiable_pairs": len(truth), "perturbed_share": perturb_share,
        "precision": final["precision"], "recall": final["recall"],
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "steps": steps,
    }
