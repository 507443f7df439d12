"""Theme coding of survey and interview answers (SPEC section 6): importers, a deductive
multi-label coder, agreement figures, inductive themes and REFI-QDA export. The researchers'
browser over its output is the `inspect` stage."""
