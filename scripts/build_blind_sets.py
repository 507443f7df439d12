"""Assemble the blind review, forum-post and listing sets from the annotators' files
(see data/blind/README.md).

    python scripts/build_blind_sets.py [--corpus data/interim/forum_posts.parquet]

Per language, annotator A1 wrote and labelled the texts (`written_<lang>.*`), annotator A2
labelled the same texts blind (`second_pass_<lang>.*`) and annotator A3 decided every label
where A1 and A2 differ (`resolved_<lang>.*`). The script writes, per set, the texts the
commands read and one label table with a row per item and coder (`A1`, `A2`, `gold`).
For the real English forum posts only keys are stored: `--corpus` (the forum corpus built
from ../shared/data) gives their text hashes, so the evaluation can check that the text it
scores is the text that was labelled.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

BLIND = Path(__file__).resolve().parent.parent / "data" / "blind"
LANGUAGES = ("en", "nl", "fr", "de")
LISTING_TEXT = ["listing_id", "lang", "scraped_at", "title", "description", "price_raw",
                "currency_raw", "ships_from_raw", "ships_to_raw", "category_raw"]
LISTING_LABELS = ["units", "dose_mg", "mass_g", "volume_ml", "purity_pct", "price_amount",
                  "price_currency", "ships_from", "ships_to", "ships_to_excluded",
                  "substances", "category"]


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def label_set(value: str) -> str:
    return ";".join(sorted({part.strip() for part in value.split(";") if part.strip()}))


def resolve_column(a1: pd.Series, a2: pd.Series, resolved: pd.Series, name: str) -> pd.Series:
    """Gold = the shared label where A1 and A2 agree, A3's decision where they differ."""
    differ = a1.index[a1.ne(a2)]
    missing = sorted(set(differ) - set(resolved.index))
    if missing:
        raise SystemExit(f"{name}: no resolution for {', '.join(missing[:10])}")
    gold = a1.copy()
    gold[differ] = resolved.reindex(differ)
    return gold


def label_rows(key: str, label: str, lang: str, coders: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({key: values.index, "lang": lang, "coder": coder,
                                    label: values.to_numpy()})
                      for coder, values in coders.items()])


def build_labelled_texts(folder: Path, key: str, label: str, normalise) -> None:
    """Reviews and written posts: one text table, one label table."""
    texts, labels = [], []
    for lang in LANGUAGES:
        if not (folder / f"written_{lang}.csv").exists():
            continue
        written = read_csv(folder / f"written_{lang}.csv")
        a1 = written.set_index(key)[label].map(normalise)
        a2 = read_csv(folder / f"second_pass_{lang}.csv").set_index(key)[label] \
            .reindex(a1.index).fillna("").map(normalise)
        resolved = read_csv(folder / f"resolved_{lang}.csv").set_index(key)[label].map(normalise)
        gold = resolve_column(a1, a2, resolved, f"{folder.name} {lang}")
        texts.append(written[[key, "lang", "text"]])
        labels.append(label_rows(key, label, lang, {"A1": a1, "A2": a2, "gold": gold}))
    name = "reviews.csv" if folder.name == "reviews" else "posts.csv"
    pd.concat(texts).to_csv(folder / name, index=False)
    pd.concat(labels).to_csv(folder / "labels.csv", index=False)
    print(f"{folder.name}: {sum(len(t) for t in texts)} texts")


def build_real_posts(folder: Path, corpus: Path) -> None:
    """Real English Reddit posts: keys and text hashes only, never the text."""
    hashes = pd.read_parquet(corpus, columns=["post_id", "text_sha"]).set_index("post_id")
    a1 = read_csv(folder / "real_en_A1.csv").set_index("post_id")["hr_labels"].map(label_set)
    a2 = read_csv(folder / "real_en_A2.csv").set_index("post_id")["hr_labels"] \
        .reindex(a1.index).fillna("").map(label_set)
    resolved = read_csv(folder / "real_en_resolved.csv").set_index("post_id")["hr_labels"] \
        .map(label_set)
    gold = resolve_column(a1, a2, resolved, "real English posts")
    unknown = sorted(set(a1.index) - set(hashes.index))
    if unknown:
        raise SystemExit(f"real English posts not in {corpus}: {', '.join(unknown[:5])}")
    rows = label_rows("post_id", "hr_labels", "en", {"A1": a1, "A2": a2, "gold": gold})
    rows.insert(1, "text_sha", rows["post_id"].map(hashes["text_sha"]))
    rows.drop(columns="lang").to_csv(folder / "real_en.csv", index=False)
    print(f"real English posts: {len(a1)}")


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def same_label(name: str, left: Any, right: Any) -> bool:
    """Two annotators' values of one listing field agree (numbers within 1 %, lists as sets)."""
    if name == "substances":
        def spans(items: Any) -> list[tuple[str, str]]:
            return sorted((s.get("field", ""), s.get("text", "")) for s in items or [])
        return spans(left) == spans(right)
    if isinstance(left, list) or isinstance(right, list):
        return sorted(left or []) == sorted(right or [])
    if _blank(left) or _blank(right):
        return _blank(left) and _blank(right)
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return math.isclose(float(left), float(right), rel_tol=0.01)
    return str(left).strip().upper() == str(right).strip().upper()


def build_listings(folder: Path) -> None:
    """Listings: texts in listings.jsonl, one label object per listing and coder in labels.jsonl."""
    texts, labels = [], []
    for lang in LANGUAGES:
        if not (folder / f"written_{lang}.jsonl").exists():
            continue
        written = read_jsonl(folder / f"written_{lang}.jsonl")
        second = {r["listing_id"]: r for r in read_jsonl(folder / f"second_pass_{lang}.jsonl")}
        resolved = {r["listing_id"]: r for r in read_jsonl(folder / f"resolved_{lang}.jsonl")}
        for row in written:
            lid = row["listing_id"]
            texts.append({k: row.get(k, "") for k in LISTING_TEXT})
            a1 = {k: row.get(k) for k in LISTING_LABELS}
            a2 = {k: second.get(lid, {}).get(k) for k in LISTING_LABELS}
            gold = dict(a1)
            for name in LISTING_LABELS:
                if not same_label(name, a1[name], a2[name]):
                    if name not in resolved.get(lid, {}):
                        raise SystemExit(f"listings {lang}: no resolution of {name} for {lid}")
                    gold[name] = resolved[lid][name]
            for coder, values in (("A1", a1), ("A2", a2), ("gold", gold)):
                labels.append({"listing_id": lid, "lang": lang, "coder": coder, **values})
    for name, rows in (("listings.jsonl", texts), ("labels.jsonl", labels)):
        (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                   encoding="utf-8")
    print(f"listings: {len(texts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/interim/forum_posts.parquet"),
                        help="forum corpus built from ../shared/data (for the real posts' hashes)")
    args = parser.parse_args()
    build_labelled_texts(BLIND / "reviews", "review_id", "sentiment", str.strip)
    build_labelled_texts(BLIND / "posts", "post_id", "hr_labels", label_set)
    build_real_posts(BLIND / "posts", args.corpus)
    build_listings(BLIND / "listings")


if __name__ == "__main__":
    main()
