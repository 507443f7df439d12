"""Review sentiment stage (issue 6). Pure modules: `sources` (rated reviews -> labelled
corpus), `labels` (rating scales, text normalisation), `ngram` and `encoder` (the two
halves of the model), `model` (SentimentModel), `gold` (human labels), `evaluate`, `score`;
`stage` is the IO entry the CLI calls."""
