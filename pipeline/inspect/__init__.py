"""`cryptodrug inspect`: the researchers' browser over coded answers (local, 127.0.0.1 only)."""
