"""Compose conf/ into params.yaml, as `dvc exp run` does (Hydra overrides as arguments).

    python scripts/compose_params.py                 # defaults
    python scripts/compose_params.py data=public     # what `dvc exp run -S data=public` composes
"""

import sys

from pipeline.core.config import compose_params, write_params

if __name__ == "__main__":
    write_params(compose_params(sys.argv[1:]))
