"""cryptodrug: a reproducible pipeline for research on darknet drug markets."""

import os

# No model or dataset is ever fetched from a hub: set before transformers is imported,
# since it reads these once at import (STACK.md: later settings cost ~47 s of retries).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
