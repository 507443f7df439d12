"""What the report reads off the tables: pure selections of rows and the key sentences.

Each function takes the tables as the other stages wrote them (columns declared in
`pipeline.core.tables`) and returns a small frame or a list of sentences to show.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ALL = "all"


# --- the market analytics, for the focus country ----------------------------------------


def supply_shares(shares: pd.DataFrame, countries: list[str]) -> pd.DataFrame:
    """Whole-period shares of vendors, listings and revenue per market for the countries,
    each with its n and 95% interval."""
    rows = shares[(shares["period"] == ALL) & shares["origin"].isin(countries)]
    cols = ["market", "origin", "vendors", "listings", "sales", "revenue_eur",
            "vendors_known_total", "vendors_share_known", "vendors_share_known_low",
            "vendors_share_known_high", "listings_known_total", "listings_share_known",
            "listings_share_known_low", "listings_share_known_high", "sales_known_total",
            "revenue_eur_share_known", "revenue_eur_share_known_low",
            "revenue_eur_share_known_high"]
    return rows[cols].sort_values(["market", "origin"]).reset_index(drop=True)


def shares_over_time(shares: pd.DataFrame, countries: list[str]) -> pd.DataFrame:
    rows = shares[(shares["period"] != ALL) & shares["origin"].isin(countries)]
    return rows[["market", "month", "origin", "listings_share_known",
                 "listings_known_total"]].sort_values(["month", "market", "origin"]
                                                      ).reset_index(drop=True)


def focus_mix(mix: pd.DataFrame, focus: str) -> pd.DataFrame:
    rows = mix[(mix["market"] == ALL) & (mix["origin"] == focus)]
    return rows[["category", "listings", "origin_listings", "share", "share_low", "share_high",
                 "market_share", "over_representation"]].reset_index(drop=True)


def focus_destinations(dest: pd.DataFrame, focus: str, kind: str, top: int) -> pd.DataFrame:
    rows = dest[(dest["market"] == ALL) & (dest["origin"] == focus) & (dest["kind"] == kind)]
    return rows[["destination", "listings", "origin_listings", "share", "share_low",
                 "share_high"]].head(top).reset_index(drop=True)


def focus_pairs(multi: pd.DataFrame, focus: str) -> pd.DataFrame:
    """Country pairs including the focus country, per market and period."""
    rows = multi[multi["pair"].str.split("+").map(lambda p: focus in p)]
    return rows[["market", "period", "month", "pair", "vendors",
                 "vendors_with_country"]].reset_index(drop=True)


def multi_country_trend(multi: pd.DataFrame) -> pd.DataFrame:
    """Per market and month: the multi-country share of vendors, its n and interval."""
    base = multi[multi["period"] != ALL].drop_duplicates(["market", "month"])
    return base[["market", "month", "vendors_with_country", "multi_country_vendors",
                 "multi_country_share", "multi_country_share_low", "multi_country_share_high"]
                ].sort_values(["market", "month"]).reset_index(drop=True)


def focus_vendors(vendors: pd.DataFrame, focus: str, top: int) -> pd.DataFrame:
    rows = vendors[vendors["countries"].map(lambda c: focus in list(c))]
    rows = rows.sort_values(["listings", "vendor"], ascending=[False, True]).head(top)
    out = rows[["market", "vendor", "countries", "listings", "top_category", "first_seen",
                "last_seen", "sales", "revenue_eur"]].copy()
    out["first_seen"], out["last_seen"] = out["first_seen"].astype(str), out["last_seen"].astype(
        str)
    out["countries"] = out["countries"].map(lambda c: ", ".join(c))
    return out.reset_index(drop=True)


def focus_links(links: pd.DataFrame, focus: str, top: int) -> pd.DataFrame:
    rows = links[links["origins"].map(lambda o: focus in list(o) if o is not None else False)
                 .astype(bool)]
    out = rows[["shock", "market", "vendor", "last_seen", "market_to", "vendor_to",
                "first_seen_to", "gap_days", "score", "evidence"]].copy()
    out["last_seen"], out["first_seen_to"] = (out["last_seen"].astype(str),
                                              out["first_seen_to"].astype(str))
    out["evidence"] = out["evidence"].map(lambda e: ", ".join(e))
    return out.sort_values("score", ascending=False).head(top).reset_index(drop=True)


def top_substances(table: pd.DataFrame, origin: str, top: int) -> pd.DataFrame:
    """The `top` substances most listed from `origin` (`all`: every origin) over all markets
    and the whole period, with the n of each share and its 95% interval."""
    rows = table[(table["market"] == ALL) & (table["period"] == ALL)
                 & (table["origin"] == origin)]
    return rows[["origin", "substance", "category", "nps", "listings", "vendors",
                 "origin_listings", "share", "share_low", "share_high", "first_seen"]
                ].head(top).reset_index(drop=True)


def monthly_top_substances(table: pd.DataFrame, origins: list[str], per_month: int = 3
                           ) -> pd.DataFrame:
    """Per month and origin, its `per_month` most listed substances over all markets."""
    rows = table[(table["market"] == ALL) & (table["period"] != ALL)
                 & table["origin"].isin(origins)]
    rows = rows.groupby(["month", "origin"], sort=True).head(per_month)
    return rows[["month", "origin", "substance", "nps", "listings", "origin_listings", "share",
                 "share_low", "share_high"]].sort_values(
        ["month", "origin", "listings"], ascending=[True, True, False]).reset_index(drop=True)


def first_seen_substances(table: pd.DataFrame) -> pd.DataFrame:
    """Every substance with the day and market it was first listed, newest first: where a
    new psychoactive substance shows up."""
    whole = table[(table["period"] == ALL) & (table["origin"] == ALL)]
    overall = whole[whole["market"] == ALL].set_index("substance")
    per_market = whole[whole["market"] != ALL].sort_values(["first_seen", "market"])
    first_market = per_market.drop_duplicates("substance").set_index("substance")["market"]
    markets = per_market.groupby("substance")["market"].nunique()
    out = overall[["category", "nps", "first_seen", "listings", "vendors"]].assign(
        first_market=first_market, markets=markets).reset_index()
    return out[["substance", "category", "nps", "first_seen", "first_market", "markets",
                "listings", "vendors"]].sort_values(
        ["first_seen", "substance"], ascending=[False, True]).reset_index(drop=True)


def substance_key_figure(table: pd.DataFrame, focus: str) -> str:
    """One sentence: the focus country's most listed substances and the NPS on offer."""
    mine = top_substances(table, focus, 3)
    listed = "; ".join(f"{r['substance']} {cite(r, 'share', 'origin_listings')}"
                       for _, r in mine.iterrows()) or f"no substance named in {focus} listings"
    firsts = first_seen_substances(table)
    nps = firsts[firsts["nps"].astype(bool)]
    newest = (f", the newest {nps.iloc[0]['substance']} (first seen {nps.iloc[0]['first_seen']}"
              f" on {nps.iloc[0]['first_market']})" if len(nps) else "")
    return (f"Substances: most listed from {focus}: {listed}. {len(nps)} new psychoactive "
            f"substances listed on all markets{newest}.")


def with_interval(value: float, low: float, high: float, n: object, percent: bool = True
                  ) -> str:
    """A figure as researchers cite it: value, 95% interval and n; "no data" where n is 0."""
    if pd.isna(n) or int(n) == 0 or pd.isna(value):
        return f"no data (n={0 if pd.isna(n) else int(n):,})"
    fmt = (lambda v: f"{v:.1%}") if percent else (lambda v: f"€{v:,.0f}")
    interval = "" if pd.isna(low) or pd.isna(high) else f", 95% CI {fmt(low)}–{fmt(high)}"
    return f"{fmt(value)} ({f'n={int(n):,}'}{interval})"


def cite(row: pd.Series, column: str, n_column: str, percent: bool = True) -> str:
    """`with_interval` of a row's `column`, its `_low`/`_high` bounds and its n."""
    return with_interval(row[column], row[f"{column}_low"], row[f"{column}_high"],
                         row[n_column], percent)


def key_figures(shares: pd.DataFrame, mix: pd.DataFrame, ships_to: pd.DataFrame,
                excluded: pd.DataFrame, vendors: pd.DataFrame, tsum: pd.DataFrame,
                links: pd.DataFrame, focus: str) -> list[str]:
    """One sentence per CRYPTODRUG summary item, with the measured figures, each with its n
    and 95% interval."""
    mine = shares[shares["origin"] == focus]
    share = "; ".join(
        f"{r['market']} {cite(r, 'listings_share_known', 'listings_known_total')} of listings, "
        f"{cite(r, 'vendors_share_known', 'vendors_known_total')} of vendors"
        for _, r in mine.iterrows())
    over = mix[mix["over_representation"] > 1.2]
    tx = tsum[(tsum["market"] == ALL) & (tsum["origin"] == focus)]
    multi = vendors[vendors["countries"].map(lambda c: focus in list(c)) & vendors["multi_country"]]
    moved = links[links["origins"].map(lambda o: focus in list(o) if o is not None else False)]
    t = tx.iloc[0] if len(tx) else None
    sales = "no data (n=0)" if t is None or not t["sales"] else None
    return [
        f"Share of supply: {share or 'no listings from ' + focus}.",
        "Product mix: over-represented against all markets in "
        + (", ".join(f"{r.category} ({r.share:.0%} of {r.origin_listings:,} listings vs "
                     f"{r.market_share:.0%})" for r in over.itertuples()) or "no category")
        + ".",
        "Ships to: " + (", ".join(f"{r.destination} {r.share:.0%}" for r in ships_to.head(5)
                                  .itertuples()) or "none stated")
        + "; excluded: " + (", ".join(f"{r.destination} {r.share:.0%}"
                                      for r in excluded.head(5).itertuples()) or "none stated")
        + (f" (n={int(ships_to['origin_listings'].max()):,} listings)" if len(ships_to) else "")
        + ".",
        f"Multi-country vendors: {len(multi)} accounts ship from {focus} and another country.",
        "Transactions: " + (sales or (
            f"{t['sales']:,} sales, median {cite(t, 'median_eur', 'sales', percent=False)}, "
            f"{cite(t, 'share_sales_under_small', 'sales')} under the small-sale threshold, "
            f"{cite(t, 'share_revenue_wholesale', 'sales')} of revenue wholesale")) + ".",
        f"Migration: {len(moved)} {focus} vendor accounts linked to another market within a "
        "shock's window.",
    ]


# --- data coverage, model evaluations and model cards -------------------------------------

STEP_NAMES = {"lomo": "leave one market out", "in_market": "held-out split of the same markets",
              "heldout_sellers": "held-out sellers", "test": "test split",
              "model_vs_human": "model against human codes", "markets": "", "model": ""}
COUNT_KEYS = ("n", "segments", "reviews", "posts", "pairs", "verifiable_pairs", "listings")


def coverage_tables(ingest: dict[str, dict], coverage: dict[str, dict]
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per market: rows in, quarantined and out of ingest, the scrape dates, listings,
    vendors and sales analysed ("no data" where a market shows no sale); and the fill rate
    of each ingested field per market."""
    rows = []
    for market in sorted(set(ingest) | set(coverage)):
        got, used = ingest.get(market, {}), coverage.get(market, {})
        rows.append({
            "market": market, "files": got.get("files"), "rows in": got.get("rows_in"),
            "quarantined": got.get("rows_quarantined"), "rows out": got.get("rows_out"),
            "first scrape": used.get("first_scrape", ""),
            "last scrape": used.get("last_scrape", ""),
            "listings analysed": used.get("listings"), "vendors": used.get("vendors"),
            "sales": "no data" if used.get("sales") is None else f"{used['sales']:,}",
        })
    table = pd.DataFrame(rows)
    for column in ("files", "rows in", "quarantined", "rows out", "listings analysed",
                   "vendors"):
        if column in table:
            table[column] = table[column].astype("Int64")
    fill = pd.DataFrame({m: got.get("fill_rate", {}) for m, got in sorted(ingest.items())}).T
    # the market column's own fill rate says nothing and would clash with the row labels
    fill = fill.drop(columns=["market"], errors="ignore")
    return table, fill.rename_axis("market").reset_index() if len(fill) else fill


def _step(key: str) -> str:
    return STEP_NAMES.get(key, key)


def evaluation_table(metrics: dict, names: list[str]) -> pd.DataFrame:
    """One row per evaluation in a stage's metrics JSON (a dict holding headline figures):
    what it was measured on (the path, in words), its n and the figures; per-class detail
    stays in the file."""
    rows: list[dict[str, Any]] = []

    def walk(node: Any, path: list[str]) -> None:
        if not isinstance(node, dict) or any(p.startswith("per_") for p in path):
            return
        figures = {k: v for k, v in node.items() if k in names and k not in COUNT_KEYS
                   and isinstance(v, int | float) and not isinstance(v, bool)}
        if figures:
            n = next((node[k] for k in COUNT_KEYS if isinstance(node.get(k), int)), None)
            rows.append({"measured on": " › ".join(s for s in map(_step, path) if s)
                         or "whole evaluation", "n": n,
                         **{k: round(float(v), 4) for k, v in figures.items()}})
        for key, value in node.items():
            walk(value, [*path, str(key)])

    walk(metrics, [])
    table = pd.DataFrame(rows)
    if "n" in table:
        table["n"] = table["n"].astype("Int64")
    return table


def method_from_card(name: str, card: dict[str, Any]) -> str:
    """A method sentence written from a model card, so it names what was actually trained:
    the registered model, any encoder it cascades into, and the data it learnt from."""
    encoder = card.get("encoder")
    if isinstance(encoder, dict):
        encoder = encoder.get("checkpoint") or encoder.get("name") or "fine-tuned"
    parts = [f"{name}: model `{card.get('model', 'unnamed')}`"]
    if encoder:
        parts.append(f"cascaded into the fine-tuned encoder `{encoder}` (texts the n-gram "
                     "model is unsure of are decided by the encoder)")
    if card.get("components"):
        parts.append("components " + ", ".join(map(str, card["components"])))
    if card.get("combine"):
        parts.append(f"combined with the lexicon by `{card['combine']}`")
    trained = card.get("training_markets") or card.get("training") or {}
    if isinstance(trained, dict) and trained:
        parts.append("trained on " + ", ".join(
            f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
            for k, v in sorted(trained.items()) if isinstance(v, int | str)))
    if card.get("scraped_between"):
        parts.append("scraped " + " to ".join(map(str, card["scraped_between"])))
    if card.get("label_counts"):
        parts.append(f"{sum(card['label_counts'].values()):,} labelled examples in "
                     f"{len(card['label_counts'])} classes")
    return "; ".join(parts) + "."


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



# --- market monitoring (the tables of `cryptodrug monitor`) -----------------------------

CHANGE_KINDS = ("listing_new", "listing_gone", "price_changed", "vendor_new", "vendor_gone",
                "vendor_moved")


def entries_exits(series: pd.DataFrame, lifecycles: pd.DataFrame, vendors: pd.DataFrame
                  ) -> pd.DataFrame:
    """Per market and snapshot: listings and vendors, how many were first seen in it and
    how many were last seen in the snapshot before (gone for good); empty on the first."""
    rows = []
    for market, snaps in series.groupby("market", sort=True):
        life = lifecycles[lifecycles["market"] == market]
        vend = vendors[vendors["market"] == market]
        dates = list(snaps["snapshot_date"])
        for i, (date, listings, count) in enumerate(
                zip(dates, snaps["listings"], snaps["vendors"], strict=True)):
            later = i > 0
            rows.append({
                "market": market, "snapshot_date": date, "listings": listings,
                "listings_new": int((life["first_seen"] == date).sum()) if later else None,
                "listings_gone": int((life["last_seen"] == dates[i - 1]).sum()) if later
                else None,
                "vendors": count,
                "vendors_new": int((vend["first_seen"] == date).sum()) if later else None,
                "vendors_gone": int((vend["last_seen"] == dates[i - 1]).sum()) if later
                else None,
            })
    columns = ["market", "snapshot_date", "listings", "listings_new", "listings_gone",
               "vendors", "vendors_new", "vendors_gone"]
    return pd.DataFrame(rows, columns=columns).astype(
        {c: "Int64" for c in columns[2:]})


def change_counts(changes: pd.DataFrame) -> pd.DataFrame:
    """Changes between the last two snapshots, counted per market and kind."""
    counts = changes.groupby(["market", "change"]).size().unstack(fill_value=0)
    return (counts.reindex(columns=[k for k in CHANGE_KINDS if k in counts.columns])
            .rename_axis(columns=None).reset_index())


def monitoring_key_figures(series: pd.DataFrame, changes: pd.DataFrame) -> list[str]:
    """Per market: its snapshots, what the last one holds, and what changed since the one
    before, each count with what it rests on."""
    lines = []
    kinds = changes.groupby(["market", "change"]).size()
    for market, snaps in series.groupby("market", sort=True):
        last = snaps.iloc[-1]
        line = (f"{market}: {len(snaps)} snapshot{'s' if len(snaps) != 1 else ''} from "
                f"{snaps['snapshot_date'].iloc[0]} to {last['snapshot_date']}; the last holds "
                f"{int(last['listings']):,} listings of {int(last['vendors']):,} vendors, "
                f"{int(last['belgian_vendors']):,} of them shipping from Belgium")
        if len(snaps) > 1:
            got = {k: int(kinds.get((market, k), 0)) for k in CHANGE_KINDS}
            line += (f". Since {snaps['snapshot_date'].iloc[-2]}: {got['listing_new']} listings "
                     f"new, {got['listing_gone']} gone, {got['price_changed']} with a new "
                     f"price (of {int(snaps['listings'].iloc[-2]):,}); {got['vendor_new']} "
                     f"vendors new, {got['vendor_gone']} gone, {got['vendor_moved']} moved")
        lines.append(line + ".")
    return lines
