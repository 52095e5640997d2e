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


def test_an_unreachable_scheduler_is_one_clear_error_and_leaves_nothing(tmp_path):
    """Nothing listens at the address: a ConfigurationError naming it, within the connect timeout; no file left."""
    import socket

    import dask

    from spamguard import ConfigurationError

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "content": f"comment {i}"}) + "\n" for i in range(10)))
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), pytest.raises(
        ConfigurationError, match=f"cannot reach the Dask scheduler at '{address}' .*check the address"
    ):
        rescore(src, tmp_path / "out.jsonl", dask_scheduler=address, chunk_size=2, rejects=tmp_path / "r.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
