"""Language per segment. lingua restricted to the configured languages is the default;
langdetect is the alternative the evaluation reports beside it (STACK.md: it often reads
short Dutch as af/no/de). Answers are short, and two-word answers ("Sur Reddit.") are
easily mistaken for Italian, so a segment is only flagged as another language when it has
enough words and a detector over the configured plus the flag languages says so. A short
answer from a respondent who gave other answers takes the language of all their answers
together ("Ja." in a Dutch interview is Dutch), still restricted to the study languages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache

from pipeline.core.registry import Registry

UNDETERMINED = "und"

Detector = Callable[[Sequence[str], tuple[str, ...]], list[str]]
detectors: Registry[Detector] = Registry("language detector")


@lru_cache(maxsize=8)
def _lingua(languages: tuple[str, ...]):
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in languages]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


@detectors.register("lingua")
def detect_lingua(texts: Sequence[str], languages: tuple[str, ...]) -> list[str]:
    found = _lingua(tuple(sorted(languages))).detect_languages_in_parallel_of(list(texts))
    return [lang.iso_code_639_1.name.lower() if lang else UNDETERMINED for lang in found]


@detectors.register("langdetect")
def detect_langdetect(texts: Sequence[str], languages: tuple[str, ...]) -> list[str]:
    """langdetect's most probable language among `languages` (seeded: unseeded it changes
    answers between calls); its overall best guess when none of them is in its list."""
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    DetectorFactory.seed = 0
    out = []
    for text in texts:
        try:
            guesses = detect_langs(text)
        except LangDetectException:
            out.append(UNDETERMINED)
            continue
        allowed = [g.lang for g in guesses if g.lang in languages]
        out.append(allowed[0] if allowed else guesses[0].lang)
    return out


def detect_languages(
    texts: Sequence[str],
    languages: Sequence[str],
    flag_languages: Sequence[str] = (),
    method: str = "lingua",
    min_words_to_flag: int = 4,
    groups: Sequence[str] | None = None,
) -> list[str]:
    """ISO 639-1 code per text; a code outside `languages` means the segment is flagged.
    `groups` (respondent ids, '' for none) let short texts fall back to their respondent's
    answers read together."""
    if not texts:
        return []
    detector = detectors.get(method)
    found = detector(texts, tuple(languages))
    if groups is not None:
        found = _respondent_fallback(texts, found, groups, languages, detector, min_words_to_flag)
    long_enough = [i for i, t in enumerate(texts) if len(str(t).split()) >= min_words_to_flag]
    if flag_languages and long_enough:
        wide = detector([texts[i] for i in long_enough], (*languages, *flag_languages))
        for i, lang in zip(long_enough, wide, strict=True):
            if lang not in languages:
                found[i] = lang
    return found


def _respondent_fallback(
    texts: Sequence[str],
    found: list[str],
    groups: Sequence[str],
    languages: Sequence[str],
    detector: Detector,
    min_words: int,
) -> list[str]:
    """Texts under `min_words` words take the language detected for all the answers of
    their group (respondent) joined, where the group has more than one answer."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, group in enumerate(groups):
        if str(group).strip():
            members[str(group)].append(i)
    short = [
        i for i, t in enumerate(texts)
        if len(str(t).split()) < min_words and len(members.get(str(groups[i]), [])) > 1
    ]
    wanted = sorted({str(groups[i]) for i in short})
    if not wanted:
        return found
    joined = [" ".join(str(texts[k]) for k in members[g]) for g in wanted]
    by_group = dict(zip(wanted, detector(joined, tuple(languages)), strict=True))
    out = list(found)
    for i in short:
        out[i] = by_group[str(groups[i])]
    return out
