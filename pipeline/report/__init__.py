"""`cryptodrug report`: the offline HTML page over every stage's outputs and metrics."""
