"""Migration after market shocks, and the linker's evaluation on verifiable pairs."""

from __future__ import annotations

import random
from dataclasses import replace

import pandas as pd

from pipeline.analyse.linker import EVIDENCE, VendorLinker, link_handle

_LEET = str.maketrans({"o": "0", "e": "3", "a": "4", "i": "1", "s": "5"})
LINK_COLUMNS = ["shock", "shock_date", "market", "vendor", "origins", "market_to", "vendor_to",
                "origins_to", "first_seen_to", "score", "handle_exact", *EVIDENCE, "evidence"]


def migration_links(accounts: pd.DataFrame, shocks: list[dict], linker: VendorLinker
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For each shock, accounts active on its market before the date linked to accounts on
    other markets active after it. Returns (links, summary per shock and destination)."""
    links, summary = [], []
    for shock in shocks:
        date = str(shock["date"])
        left = accounts[(accounts["market"] == shock["market"]) & (accounts["first_seen"] < date)]
        right = accounts[(accounts["market"] != shock["market"]) & (accounts["last_seen"] >= date)]
        found = linker.predict(left, right) if len(left) and len(right) else pd.DataFrame(
            columns=[c for c in LINK_COLUMNS if c not in ("shock", "shock_date")])
        if len(found):
            side = accounts.set_index(["market", "vendor"])
            found["origins"] = side.loc[list(zip(found["market"], found["vendor"],
                                                 strict=True)), "origins"].to_list()
            to = side.loc[list(zip(found["market_to"], found["vendor_to"], strict=True))]
            found["origins_to"] = to["origins"].to_list()
            found["first_seen_to"] = to["first_seen"].to_list()
        found = found.assign(shock=shock["name"], shock_date=date)
        links.append(found.reindex(columns=LINK_COLUMNS))
        for market_to in sorted(set(right["market"])) or [""]:
            hit = found[found["market_to"] == market_to]
            summary.append({
                "shock": shock["name"], "shock_date": date, "market": shock["market"],
                "accounts_before": len(left), "market_to": market_to,
                "accounts_after": int((right["market"] == market_to).sum()),
                "linked": len(hit), "linked_exact_handle": int(hit["handle_exact"].sum()),
            })
    return (pd.concat(links, ignore_index=True) if links else pd.DataFrame(columns=LINK_COLUMNS),
            pd.DataFrame(summary))


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
