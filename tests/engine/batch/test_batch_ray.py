"""``orchestrate batch --backend ray`` on a REAL local Ray cluster (``ray.init(num_cpus=2)``, one per module: Ray
takes seconds to start): the same six tasks give the same results and the same patches as the local backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.batch.conftest import MODEL_ARGS, ROOT, comparable, run_batch, six_tasks

ray: Any = pytest.importorskip("ray", reason="the [ray] extra is not installed: pip install 'orchestrate[ray]'")


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    # Ray's workers inherit this environment when the cluster starts: the sessions they run import the fake models,
    # and never call a real model.
    keys = ("PYTHONPATH", "ORCHESTRATE_FORBID_MODEL_REQUESTS", "RAY_USAGE_STATS_ENABLED")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(PYTHONPATH=str(ROOT), ORCHESTRATE_FORBID_MODEL_REQUESTS="1", RAY_USAGE_STATS_ENABLED="0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.mark.usefixtures("cluster", "fake_models_importable")
def test_ray_and_local_give_identical_results_and_patches(tmp_path: Path) -> None:
    tasks = six_tasks(tmp_path)
    local = run_batch([str(tasks), "--out", "local", "--max-concurrency", "2", *MODEL_ARGS], cwd=tmp_path)
    on_ray = run_batch([str(tasks), "--out", "ray", "--backend", "ray", "--max-concurrency", "2", *MODEL_ARGS],
                       cwd=tmp_path)
    assert local[0] == on_ray[0] == 1, (local[2], on_ray[2])
    expected = comparable(tmp_path / "local")
    assert comparable(tmp_path / "ray") == expected
    assert expected["results"]["a1"]["status"] == "succeeded" and expected["patches"]["a1.patch"]
    # the Ray run's sessions ran on the cluster's workers, in their own clones under its own --out
    assert (tmp_path / "ray" / "work" / "a1" / "repo" / "hello.py").exists()
