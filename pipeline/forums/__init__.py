"""Harm-reduction stage (issue 6). Pure modules: `sources` (posts -> corpus), `lexicon`,
`model` (HarmReductionModel and the combination rules), `gold` (the labelled set),
`evaluate`, `score`; `stage` is the IO entry the CLI calls."""
