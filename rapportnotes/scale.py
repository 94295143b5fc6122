"""Scale-out: the batch's jobs over ``dask.bag`` on a ``distributed`` cluster (extra [dask]).

The unit of work is a *client group* (all of one client's sessions in the input, in order),
so a history never crosses workers; each worker builds its extractor once (the module-level
cache in :mod:`rapportnotes.batch`) and reuses it for every task it runs. Results travel
back to the submitting process, which writes them exactly as a local run does, so the output
is byte-identical to ``rapportnotes batch`` without Dask.

For Spark, the same function is the body of a ``mapInPandas`` UDF: group the input by
client id, and in each partition call :func:`rapportnotes.batch.run_jobs` on that client's
jobs, returning (name, bytes) rows (see docs/batch.md) — a recipe, not a dependency.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .batch import Executor, Job, Outcome, Settings, by_client, run_jobs
from .errors import RapportNotesError

HINT = "Dask is not installed; pip install rapportnotes[dask]"


def _require() -> tuple[Any, Any]:
    try:
        import dask.bag as db
        import distributed
    except ImportError:
        raise RapportNotesError(HINT) from None
    return db, distributed


def dask_executor(client: Any) -> Executor:
    """An executor that runs client groups as tasks of a ``dask.bag`` on ``client`` (a
    ``distributed.Client``)."""
    db, _ = _require()

    def run(todo: Sequence[Job], settings: Settings) -> Iterator[Outcome]:
        groups = by_client(todo)
        if not groups:
            return
        bag = db.from_sequence(groups, npartitions=min(len(groups), 64))
        results = bag.map(run_jobs, settings).compute(scheduler=client)
        for outcomes in results:
            yield from outcomes
    return run


def connect(address: str | None = None, *, local_workers: int = 2) -> Any:
    """A ``distributed.Client`` on ``address`` (``tcp://host:8786``), or on a new
    ``LocalCluster`` of ``local_workers`` single-threaded worker processes."""
    _, distributed = _require()
    if address:
        try:
            return distributed.Client(address, timeout="20s")
        except OSError as exc:
            raise RapportNotesError(f"cannot reach the Dask scheduler ({type(exc).__name__})"
                                    ) from None
    cluster = distributed.LocalCluster(n_workers=local_workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
    return distributed.Client(cluster)


__all__ = ["HINT", "connect", "dask_executor"]
