"""What the report reads off the tables: pure selections of rows and the key sentences.

Each function takes the tables as the other stages wrote them (columns declared in
`pipeline.core.tables`) and returns a small frame or a list of sentences to show.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ALL = "all"


def headline_leaves(metrics: dict, names: list[str], limit: int = 16) -> list[tuple[str, Any]]:
    """Flattened `a.b.c -> value` leaves whose last key is a headline figure."""
    found: list[tuple[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif (isinstance(node, int | float) and path.rsplit(".", 1)[-1] in names
              and "per_" not in path):  # per-class figures stay in the file
            found.append((path, round(node, 4) if isinstance(node, float) else node))

    walk(metrics, "")
    return found[:limit]



# --- the market analytics, for the focus country ----------------------------------------


def supply_shares(shares: pd.DataFrame, countries: list[str]) -> pd.DataFrame:
    """Whole-period shares of vendors, listings and revenue per market for the countries."""
    rows = shares[(shares["month"] == ALL) & shares["origin"].isin(countries)]
    cols = ["market", "origin", "vendors", "listings", "revenue_eur", "vendors_share_known",
            "listings_share_known", "revenue_eur_share_known", "listings_share"]
    return rows[cols].sort_values(["market", "origin"]).reset_index(drop=True)


def shares_over_time(shares: pd.DataFrame, countries: list[str]) -> pd.DataFrame:
    rows = shares[(shares["month"] != ALL) & shares["origin"].isin(countries)]
    return rows[["market", "month", "origin", "listings_share_known"]].sort_values(
        ["month", "market", "origin"]).reset_index(drop=True)


def focus_mix(mix: pd.DataFrame, focus: str) -> pd.DataFrame:
    rows = mix[(mix["market"] == ALL) & (mix["origin"] == focus)]
    return rows[["category", "listings", "share", "market_share", "index"]].reset_index(drop=True)


def focus_destinations(dest: pd.DataFrame, focus: str, kind: str, top: int) -> pd.DataFrame:
    rows = dest[(dest["market"] == ALL) & (dest["origin"] == focus) & (dest["kind"] == kind)]
    return rows[["destination", "listings", "share"]].head(top).reset_index(drop=True)


def focus_pairs(multi: pd.DataFrame, focus: str) -> pd.DataFrame:
    """Country pairs including the focus country, per market and month."""
    rows = multi[multi["pair"].str.split("+").map(lambda p: focus in p)]
    return rows[["market", "month", "pair", "vendors", "vendors_with_country"]].reset_index(
        drop=True)


def multi_country_trend(multi: pd.DataFrame) -> pd.DataFrame:
    base = multi.drop_duplicates(["market", "month"])
    out = base[["market", "month", "vendors_with_country", "multi_country_vendors"]].copy()
    out["share"] = out["multi_country_vendors"] / out["vendors_with_country"].replace(0, np.nan)
    return out.sort_values(["market", "month"]).reset_index(drop=True)


def focus_vendors(vendors: pd.DataFrame, focus: str, top: int) -> pd.DataFrame:
    rows = vendors[vendors["countries"].map(lambda c: focus in list(c))]
    rows = rows.sort_values(["listings", "vendor"], ascending=[False, True]).head(top)
    out = rows[["market", "vendor", "countries", "listings", "top_category", "first_seen",
                "last_seen", "sales", "revenue_eur"]].copy()
    out["countries"] = out["countries"].map(lambda c: ", ".join(c))
    return out.reset_index(drop=True)


def focus_links(links: pd.DataFrame, focus: str, top: int) -> pd.DataFrame:
    rows = links[links["origins"].map(lambda o: focus in list(o) if o is not None else False)]
    out = rows[["shock", "market", "vendor", "market_to", "vendor_to", "score", "evidence"]].copy()
    out["evidence"] = out["evidence"].map(lambda e: ", ".join(e))
    return out.sort_values("score", ascending=False).head(top).reset_index(drop=True)


def key_figures(shares: pd.DataFrame, mix: pd.DataFrame, ships_to: pd.DataFrame,
                excluded: pd.DataFrame, vendors: pd.DataFrame, tsum: pd.DataFrame,
                links: pd.DataFrame, focus: str) -> list[str]:
    """One sentence per CRYPTODRUG summary item, with the measured figures."""
    mine = shares[shares["origin"] == focus]
    share = "; ".join(f"{r.market} {r.listings_share_known:.1%} of listings, "
                      f"{r.vendors_share_known:.1%} of vendors" for r in mine.itertuples())
    over = mix[mix["index"] > 1.2]
    tx = tsum[(tsum["market"] == ALL) & (tsum["origin"] == focus)]
    multi = vendors[vendors["countries"].map(lambda c: focus in list(c)) & vendors["multi_country"]]
    moved = links[links["origins"].map(lambda o: focus in list(o) if o is not None else False)]
    return [
        f"Share of supply: {share or 'no listings from ' + focus}.",
        "Product mix: over-represented against all markets in "
        + (", ".join(f"{r.category} ({r.share:.0%} vs {r.market_share:.0%})"
                     for r in over.itertuples()) or "no category") + ".",
        "Ships to: " + (", ".join(f"{r.destination} {r.share:.0%}" for r in ships_to.head(5)
                                  .itertuples()) or "none stated")
        + "; excluded: " + (", ".join(f"{r.destination} {r.share:.0%}"
                                      for r in excluded.head(5).itertuples()) or "none stated")
        + ".",
        f"Multi-country vendors: {len(multi)} accounts ship from {focus} and another country.",
        "Transactions: " + (
            f"{tx.iloc[0].sales:,.0f} sales, median €{tx.iloc[0].median_eur:,.0f}, "
            f"{tx.iloc[0].share_sales_under_small:.0%} under the small threshold, "
            f"{tx.iloc[0].share_revenue_wholesale:.0%} of revenue wholesale"
            if len(tx) else "none estimated") + ".",
        f"Migration: {len(moved)} {focus} vendor accounts linked to another market after a shock.",
    ]


# --- reviews and theme coding ---------------------------------------------------------


def sentiment_rows(table: pd.DataFrame, key: str, top: int, keep: str | None = None
                   ) -> pd.DataFrame:
    """The `top` rows with most reviews (plus `keep`, e.g. the focus country, if further down),
    with the neutral share the summary leaves implicit."""
    ranked = table.sort_values(["reviews", key], ascending=[False, True])
    rows = ranked.head(top)
    if keep is not None and keep not in set(rows[key]):
        rows = pd.concat([rows, ranked[ranked[key] == keep]])
    rows = rows.assign(share_neutral=(1 - rows["share_negative"] - rows["share_positive"])
                       .clip(lower=0).round(4))
    cols = [key, "reviews", "share_negative", "share_neutral", "share_positive"]
    return rows[cols + (["mean_score"] if "mean_score" in rows else [])].reset_index(drop=True)


def review_key_figures(by_country: pd.DataFrame | None, risks: pd.DataFrame | None,
                       focus: str) -> list[str]:
    """The buyers' main perceived risk, and how reviews of focus-country vendors compare."""
    lines = []
    overall = risks[risks["market"] == ALL] if risks is not None else None
    if overall is not None and len(overall):
        r = overall.iloc[0]
        lines.append(f"{r.share_non_delivery_or_scam:.0%} of {r.negative_reviews:,} negative "
                     f"reviews mention non-delivery or a scam (non-delivery "
                     f"{r.share_non_delivery:.0%}, scam {r.share_scam:.0%}).")
    if by_country is not None and len(by_country):
        mine = by_country[by_country["ships_from"] == focus]
        overall_neg = float(np.average(by_country["share_negative"],
                                       weights=by_country["reviews"]))
        lines.append(
            f"Reviews of listings shipping from {focus}: " + (
                f"{mine.iloc[0].reviews:,} reviews, {mine.iloc[0].share_negative:.0%} negative"
                if len(mine) else "none")
            + f" (all countries: {overall_neg:.0%} negative).")
    return lines


def code_counts(themes: pd.DataFrame, by: str, order: list[str] | None = None) -> pd.DataFrame:
    """Segments coded with each code, one column per value of `by` (language or source),
    codes in `order` (the codebook's, as the agreement figures list them) then by name."""
    counts = (themes.drop_duplicates(["segment_id", "code"])
              .pivot_table(index="code", columns=by, values="segment_id", aggfunc="count")
              .fillna(0).astype(int).rename_axis(columns=None))
    known = [c for c in order or [] if c in counts.index]
    return counts.reindex(known + sorted(set(counts.index) - set(known)))


def agreement_table(metrics: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """κ per code and language (model vs human codes, held out), and the overall figures."""
    by_lang = metrics.get("model_vs_human", {})
    langs = [ALL, *sorted(k for k in by_lang if k != ALL)] if ALL in by_lang else sorted(by_lang)
    per_code = pd.DataFrame({f"κ {lang}": by_lang[lang].get("kappa_per_code", {})
                             for lang in langs})
    per_code = per_code.apply(pd.to_numeric, errors="coerce")
    if ALL in by_lang and by_lang[ALL].get("support"):
        per_code["human-coded segments"] = pd.Series(by_lang[ALL]["support"])
    per_code = per_code.rename_axis("code").reset_index()
    overall = pd.DataFrame([
        {"language": lang, "segments": by_lang[lang].get("segments"),
         "κ macro": by_lang[lang].get("kappa_macro"),
         "Krippendorff α": by_lang[lang].get("krippendorff_alpha"),
         "micro-F1": by_lang[lang].get("micro_f1")} for lang in langs])
    return per_code, overall


def inductive_rows(inductive: dict, segments: pd.DataFrame | None, chars: int = 160
                   ) -> list[dict[str, Any]]:
    """Candidate themes with their top terms and the text of their example segments."""
    text = (dict(zip(segments["segment_id"], segments["text"], strict=True))
            if segments is not None else {})
    out = []
    for theme in inductive.get("themes", []):
        examples = [str(text.get(sid, sid)) for sid in theme.get("examples", [])]
        out.append({"theme": theme.get("theme"), "size": theme.get("size"),
                    "top_terms": ", ".join(theme.get("top_terms", [])),
                    "examples": [e if len(e) <= chars else e[:chars - 1] + "…"
                                 for e in examples]})
    return out

