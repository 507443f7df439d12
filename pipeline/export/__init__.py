"""The export stage: output tables for R and Stata, and the data dictionary generated from
the declarations in `pipeline.core.tables`."""
