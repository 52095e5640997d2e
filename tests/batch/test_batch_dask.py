"""Re-scoring on a Dask distributed cluster gives the local run's output, record for record."""

from __future__ import annotations

import json

import pytest

from spamguard.batch import rescore

distributed = pytest.importorskip("distributed", reason="the Dask executor needs pip install 'spamguard[dask]'")


@pytest.mark.slow
def test_dask_cluster_output_equals_the_local_run(tmp_path):
    """Chunks sent to a LocalCluster (by scheduler address) come back as the local run wrote them."""
    src = tmp_path / "in.jsonl"
    with open(src, "w") as f:
        for i in range(1, 1201):
            text = f"Cheap pills http://pills.example/{i}" if i % 4 == 0 else f"Nice write-up on topic {i}"
            f.write(json.dumps({"id": i, "comment_content": text}) + "\n")
        f.write("{broken\n")
    rescore(src, tmp_path / "local.jsonl", executor="serial", chunk_size=100, rejects=tmp_path / "local-rej.jsonl")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        summary = rescore(src, tmp_path / "dask.jsonl", dask_scheduler=cluster.scheduler_address, chunk_size=100,
                          rejects=tmp_path / "dask-rej.jsonl")
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert (tmp_path / "dask-rej.jsonl").read_bytes() == (tmp_path / "local-rej.jsonl").read_bytes()
    assert (summary.records, summary.rejects) == (1200, 1)
