"""Substance spans for any table with an id and a text column: one output row per
readable input row; rows with no id or a text that is not a string are set aside."""

from __future__ import annotations

import pandas as pd
from spacy.language import Language

from pipeline.core.io import InputError
from pipeline.core.substances import SubstanceVocabulary, find_substances
from pipeline.core.text import quarantinable

NO_ID_REASON = "no id"
NOT_TEXT_REASON = "text is missing or not a string"


def split_readable(rows: pd.DataFrame, id_column: str,
                   text_column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(readable, set aside with a reason): a row needs a non-empty id and a string text."""
    missing = [c for c in (id_column, text_column) if c not in rows.columns]
    if missing:
        raise InputError(f"input has no {', '.join(map(repr, missing))} column "
                         "(name others with --id-column / --text-column)")
    no_id = rows[id_column].isna() | rows[id_column].astype(str).str.strip().eq("")
    not_text = ~rows[text_column].map(lambda v: isinstance(v, str))
    reasons = pd.Series(None, index=rows.index, dtype=object)
    reasons[not_text] = NOT_TEXT_REASON
    reasons[no_id] = NO_ID_REASON
    bad = reasons.notna()
    quarantined = quarantinable(rows[bad], [id_column, text_column]).assign(reason=reasons[bad])
    return rows[~bad], quarantined


def spans_table(rows: pd.DataFrame, nlp: Language, vocabulary: SubstanceVocabulary,
                text_column: str = "text", batch_size: int = 256) -> pd.DataFrame:
    """`rows` plus `spans`: a list of `{start, end, text, name, category}` per row."""
    spans = find_substances(nlp, rows[text_column].tolist(), vocabulary, batch_size)
    return rows.assign(spans=pd.Series(spans, index=rows.index, dtype=object))
