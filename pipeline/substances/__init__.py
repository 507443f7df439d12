"""Substance recognition: which substances a listing, review or post names (issue 20)."""
