"""Re-scoring comment dumps: streaming, resumable, spread over processes, threads or a Dask cluster.

:func:`rescore` reads a dump (JSONL, CSV, TSV or a WordPress WXR export; gzip undone), judges
every comment and writes one output record per input record: its id (or input position) and
the verdict (``spam``, ``score``, ``action``, ``source``, ``reasons``), plus the status the dump
recorded and whether the verdict changes it. Bad records go to a rejects file and the run goes
on. It returns a :class:`Summary`.

How it stays fast, flat and safe:

* The input is read as a stream and cut into chunks; at most a few chunks per worker are in
  flight, so memory does not grow with the input. For JSONL the workers parse the raw lines
  too, so the parent process only moves bytes.
* With the local model the chunks go to worker processes (joblib's loky; the model is loaded
  once per worker), or to a Dask cluster; remote backends use threads over one pooled HTTP
  session with a bounded number of calls in flight and an optional rate limit.
* Output goes to ``OUTPUT.partial`` with a checkpoint beside it (``OUTPUT.checkpoint``) that
  is advanced only after the output it covers is flushed and fsynced. A run stopped at any
  moment continues with ``resume=True``: the partial output is cut back to the checkpoint
  and the input read on from there, so every record ends up in the output exactly once. The
  finished output is renamed into place at the end, atomically.

Inside (private modules, imports running down the list): ``_run`` (the loop) uses
``_options`` (checked, typed options), ``_chunks`` (input to chunks), ``_executors`` (where
chunks are judged; ``_throttle``), ``_output`` (files, checkpoint, publish; ``_checkpoint``),
``_bar`` and ``_interrupt``; workers run ``_worker`` (scoring; ``_jsonl`` reads raw lines,
``_write`` encodes rows); ``_task`` and ``_summary`` hold what travels and what is counted.
"""

from ._options import BACKENDS, EXECUTORS
from ._run import rescore
from ._summary import Summary

__all__ = ["rescore", "Summary", "BACKENDS", "EXECUTORS"]
