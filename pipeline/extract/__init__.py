"""Extraction of quantities, doses, purity, prices in EUR and shipping (SPEC section 4)."""

from pipeline.extract.core import EXTRACTORS, FIELDS, ListingExtractor, extract_listings

__all__ = ["EXTRACTORS", "FIELDS", "ListingExtractor", "extract_listings"]
