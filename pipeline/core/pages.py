"""Which kind of market page a document is, by the `page_types` rules of a market's YAML.

Shared by the stages that meet market pages: ingest reads saved pages with these rules, the
crawler uses the same rules to choose which links to follow and to spot login, captcha and
ban pages, so that one YAML describes a market for both. Rules of a page type's `match`
(all must hold): `path` (glob on the file path or URL path), `title` (regex on the page
title), `css` (a selector present; with `text`, one of its nodes' text matches the regex),
`not_css` (a selector absent).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from selectolax.lexbor import LexborHTMLParser


def collapse_space(text: str) -> str:
    return " ".join(text.split())


def detect_page_type(
    tree: LexborHTMLParser,
    path: PurePosixPath,
    cfg: dict[str, Any],
    clean: Callable[[str], str] = collapse_space,
) -> dict[str, Any] | None:
    """The first configured page type whose `match` rules all hold, or None. `clean`
    normalises text before the `title` and `text` patterns see it."""
    title_node = tree.css_first("title")
    title = clean(title_node.text()) if title_node else ""
    for page_cfg in cfg.get("page_types", []):
        rules = page_cfg.get("match", {})
        if "path" in rules and not path_matches(path, rules["path"]):
            continue
        if "title" in rules and not re.search(rules["title"], title):
            continue
        if "css" in rules and not css_matches(tree, rules["css"], rules.get("text"), clean):
            continue
        if "not_css" in rules and tree.css_first(rules["not_css"]) is not None:
            continue
        return page_cfg
    return None


def is_data_page(page_cfg: dict[str, Any] | None) -> bool:
    """A page type that yields market data (not a `skip` page such as login or captcha)."""
    return page_cfg is not None and page_cfg.get("parser", page_cfg["name"]) != "skip"


def incomplete(tree: LexborHTMLParser, page_cfg: dict[str, Any] | None,
               cfg: dict[str, Any]) -> str:
    """The first `complete_when` selector (of the page type, else of the market) that a
    data page lacks, or ''. A page cut off in transfer would otherwise give a listing with
    price 0, or one cut before its title an 'unknown page type'."""
    if page_cfg is not None and not is_data_page(page_cfg):
        return ""
    rules = (page_cfg or {}).get("complete_when", cfg.get("complete_when", []))
    rules = [rules] if isinstance(rules, str) else list(rules)
    return next((css for css in rules if tree.css_first(css) is None), "")


def path_matches(path: PurePosixPath, patterns: str | list[str]) -> bool:
    patterns = [patterns] if isinstance(patterns, str) else patterns
    posix = path.as_posix()
    return any(fnmatch.fnmatch(posix, f"*{p}") or fnmatch.fnmatch(path.name, p) for p in patterns)


def css_matches(tree: LexborHTMLParser, selector: str, text_pattern: str | None,
                clean: Callable[[str], str] = collapse_space) -> bool:
    nodes = tree.css(selector)
    if text_pattern is None:
        return bool(nodes)
    return any(re.search(text_pattern, clean(n.text())) for n in nodes)
