"""Compare listing classifiers on identical splits: `cryptodrug compare-classifiers`, kept
under its old path for existing DVC stages and notes.

    python scripts/compare_classifiers.py data/interim/listings \
        -o reports/metrics/classifier_comparison.json --models linear,sentence_embedding
"""

import sys

from pipeline.cli import app

if __name__ == "__main__":
    app(["compare-classifiers", *sys.argv[1:]])
