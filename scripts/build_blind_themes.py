"""Assemble the blind theme-coding set from the annotators' files (see data/blind/themes/README.md).

    python scripts/build_blind_themes.py

Reads, per language, `written_<lang>.csv` (annotator A1 wrote the segments and coded them),
`second_pass_<lang>.csv` (annotator A2 coded the same texts blind) and `resolved_<lang>.csv`
(annotator A3's decision on every segment where A1 and A2 differ), and writes
`segments.csv` (what `cryptodrug code-themes` reads) and `codes.csv` (one row per segment and
coder: A1, A2 and the resolved `gold`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

BLIND = Path(__file__).resolve().parent.parent / "data" / "blind" / "themes"
LANGUAGES = ("nl", "fr", "en")


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(BLIND / name, dtype=str, keep_default_na=False)


def normalised(codes: str) -> str:
    return ";".join(sorted({c for c in codes.split(";") if c}))


def main() -> None:
    segments, codes = [], []
    for lang in LANGUAGES:
        written = read(f"written_{lang}.csv")
        second = read(f"second_pass_{lang}.csv").set_index("segment_id")["codes"]
        resolved = read(f"resolved_{lang}.csv").set_index("segment_id")["codes"]
        a1 = written.set_index("segment_id")["codes"].map(normalised)
        a2 = second.reindex(a1.index).map(normalised)
        differ = a1.index[a1.ne(a2)]
        missing = sorted(set(differ) - set(resolved.index))
        if missing:
            raise SystemExit(f"{lang}: no resolution for {', '.join(missing)}")
        gold = a1.copy()
        gold[differ] = resolved.reindex(differ).map(normalised)
        segments.append(pd.DataFrame({
            "segment_id": written["segment_id"], "respondent_id": written["segment_id"],
            "source": "blind", "question_id": written["question"], "lang": lang,
            "text": written["text"],
        }))
        for coder, values in (("A1", a1), ("A2", a2), ("gold", gold)):
            codes.append(pd.DataFrame({"segment_id": values.index, "lang": lang,
                                       "coder": coder, "codes": values.to_numpy()}))
    pd.concat(segments).to_csv(BLIND / "segments.csv", index=False)
    pd.concat(codes).to_csv(BLIND / "codes.csv", index=False)
    print(f"{sum(len(s) for s in segments)} segments -> {BLIND}")


if __name__ == "__main__":
    main()
