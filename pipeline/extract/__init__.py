"""Extraction of quantities, doses, purity, prices in EUR and shipping (docs/contracts.md)."""

from pipeline.extract.core import EXTRACTORS, FIELDS, ListingExtractor, extract_listings

__all__ = ["EXTRACTORS", "FIELDS", "ListingExtractor", "extract_listings"]
