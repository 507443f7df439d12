"""Where per-partition work runs: in this process (`engine: local`) or as Dask tasks on a
cluster (`engine: dask`, conf/engine/). Stages hand `map_partitions` one function and the
list of partitions; nothing else in the project knows Dask, and the local engine never
imports it.

Every task writes its own output partition (atomically, `core.io.write_partition`) and
returns its counts, so a task that Dask re-runs after losing a worker leaves the same bytes.
Models are loaded once per process (`load_once`), keyed by folder and model-card hash.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from pipeline.core.io import (
    InputError,
    check_accounting,
    clear_dataset,
    console,
    dataset_partitions,
    quarantine_path,
    read_partition,
    side_output_path,
    write_partition,
)

T = TypeVar("T")
R = TypeVar("R")
ENGINES = ("local", "dask")

_CACHE: dict[Hashable, Any] = {}
_CACHE_LOCK = threading.Lock()


def engine_name(engine: dict[str, Any] | None) -> str:
    """The configured engine's name (`local` when no engine section is given)."""
    name = (engine or {}).get("name", "local")
    if name not in ENGINES:
        raise InputError(f"unknown engine {name!r} (use {' or '.join(ENGINES)})")
    return name


def map_partitions(fn: Callable[[T], R], items: Sequence[T],
                   engine: dict[str, Any] | None = None, desc: str = "partitions") -> list[R]:
    """`[fn(item) for item in items]`, run by the configured engine; results in item order."""
    if engine_name(engine) == "local":
        from tqdm import tqdm

        return [fn(item) for item in tqdm(items, desc=desc, unit="partition", leave=False)]
    with dask_client(engine or {}) as client:
        console.print(f"{desc}: {len(items)} tasks on {len(client.scheduler_info()['workers'])} "
                      f"Dask workers ({client.scheduler.address})")
        futures = client.map(fn, list(items), pure=False,
                             retries=int((engine or {}).get("retries", 0)))
        return client.gather(futures)


@contextmanager
def dask_client(engine: dict[str, Any]) -> Iterator[Any]:
    """A client of the scheduler at `engine.scheduler`, or of a LocalCluster on 127.0.0.1
    (`n_workers` processes of `threads_per_worker` threads) when no address is given."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("engine dask needs dask[distributed] (pip install "
                         "'dask[distributed]')") from None
    address = engine.get("scheduler")
    if address:
        try:
            client = Client(address, timeout=engine.get("connect_timeout", "30s"))
        except OSError as err:
            raise InputError(f"cannot reach Dask scheduler {address}: {err}") from None
        with client:
            yield client
        return
    cluster = LocalCluster(n_workers=int(engine.get("n_workers", 2)),
                           threads_per_worker=int(engine.get("threads_per_worker", 1)),
                           host="127.0.0.1", dashboard_address=None, processes=True,
                           memory_limit=engine.get("memory_limit", "auto"))
    with cluster, Client(cluster) as client:
        yield client


def once(key: Hashable, factory: Callable[[], T]) -> T:
    """`factory()`, made once per process for `key` (a Dask worker keeps it between tasks):
    a model or a fitted extractor is loaded once per worker, not once per partition."""
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = factory()
        return _CACHE[key]


def load_once(loader: Callable[[Path], T], model_dir: str | Path) -> T:
    """`loader(model_dir)` once per process, keyed by the loader, the folder and the sha256
    of its model card: a retrained model in the same folder is loaded afresh."""
    folder = Path(model_dir).resolve()
    card = folder / "model_card.json"
    digest = hashlib.sha256(card.read_bytes()).hexdigest() if card.is_file() else ""
    key = (f"{loader.__module__}.{loader.__qualname__}", str(folder), digest)
    return once(key, lambda: loader(folder))

Transform = Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]]


@dataclass(frozen=True)
class PartitionTask:
    """One partition of a per-row stage: read it from `inp`, `transform` it into (kept,
    quarantined, companion tables), write each to the same partition of `out`, its
    quarantine dataset and its companion datasets; return the counts. `transform` must be
    picklable (a module-level function or a `functools.partial` of one) for Dask."""

    inp: str
    out: str
    transform: Transform
    sort_key: tuple[str, ...] = ("listing_id",)

    def __call__(self, partition: str) -> dict[str, int]:
        frame = read_partition(self.inp, partition)
        kept, quarantined, companions = self.transform(frame)
        check_accounting(len(frame), kept, quarantined)
        write_partition(kept, self.out, partition, sort_key=self.sort_key)
        write_partition(quarantined, quarantine_path(self.out), partition, sort_key=self.sort_key)
        for name, table in companions.items():
            write_partition(table, side_output_path(self.out, name), partition,
                            sort_key=self.sort_key)
        return {"rows_in": len(frame), "rows_out": len(kept), "rows_quarantined": len(quarantined),
                **{name: len(table) for name, table in companions.items()}}


def run_partitioned(inp: str | Path, out: str | Path, transform: Transform,
                    engine: dict[str, Any] | None, label: str,
                    companions: Sequence[str] = ()) -> dict[str, int]:
    """A per-row stage over a partitioned dataset, partition by partition on the configured
    engine: `out`, its quarantine and its `companions` datasets are rewritten whole; the
    summed counts are printed and checked (in = out + quarantined)."""
    partitions = dataset_partitions(inp)
    for target in (out, quarantine_path(out), *(side_output_path(out, n) for n in companions)):
        clear_dataset(target)
    task = PartitionTask(str(inp), str(out), transform)
    results = map_partitions(task, partitions, engine, desc=label)
    counts = {key: sum(r.get(key, 0) for r in results) for key in results[0]}
    counts["partitions"] = len(partitions)
    check_accounting(counts["rows_in"], counts["rows_out"], counts["rows_quarantined"])
    console.print(f"{label}: {counts['rows_in']} in, {counts['rows_out']} out, "
                  f"{counts['rows_quarantined']} quarantined, {len(partitions)} partitions "
                  f"-> {out}")
    return counts

