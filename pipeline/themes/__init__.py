"""Theme coding of survey and interview answers (SPEC section 6): importers, a deductive
multi-label coder, agreement figures, inductive themes, REFI-QDA export and a browser."""
