"""eval/predict.sh: replicas take the GPUs already visible (Slurm, containers), DP x TP is checked."""

import os
import subprocess

from conftest import REPO


def predict_sh(tmp_path, gpus_on_node: int | None = None, **env) -> subprocess.CompletedProcess:
    path = os.environ["PATH"]
    if gpus_on_node is not None:  # a stand-in nvidia-smi listing the node's GPUs
        fake = tmp_path / "bin"
        fake.mkdir(exist_ok=True)
        (fake / "nvidia-smi").write_text("#!/bin/sh\n" + "".join(f"echo {i}\n" for i in range(gpus_on_node)))
        (fake / "nvidia-smi").chmod(0o755)
        path = f"{fake}:{path}"
    environment = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    environment.update({"PATH": path, "DRY_RUN": "1", "MODEL": "m", **env})
    return subprocess.run(["bash", str(REPO / "eval" / "predict.sh"), "--limit", "3"], env=environment,
                          capture_output=True, text=True)


def test_replicas_take_the_visible_gpus(tmp_path):
    done = predict_sh(tmp_path, CUDA_VISIBLE_DEVICES="4,5,6,7", TP="2", DP="2")
    lines = sorted(done.stdout.splitlines())  # the replicas start in the background, in any order
    assert done.returncode == 0 and len(lines) == 2
    assert lines[0].startswith("CUDA_VISIBLE_DEVICES=4,5 python -m long1k predict") and "--shard_index 0" in lines[0]
    assert lines[1].startswith("CUDA_VISIBLE_DEVICES=6,7 ") and "--num_shards 2 --shard_index 1" in lines[1]
    assert all(line.endswith("--limit 3") for line in lines)
    done = predict_sh(tmp_path, gpus_on_node=8, TP="4")  # nothing set: the node's GPUs
    assert done.stdout.startswith("CUDA_VISIBLE_DEVICES=0,1,2,3 python")


def test_dp_times_tp_is_checked(tmp_path):
    done = predict_sh(tmp_path, CUDA_VISIBLE_DEVICES="4,5,6,7", TP="2", DP="3")
    assert done.returncode == 2 and "DP x TP = 3 x 2 = 6 GPUs, but 4 are visible (4 5 6 7)" in done.stderr
    done = predict_sh(tmp_path, gpus_on_node=2, TP="4")
    assert done.returncode == 2 and "but 2 are visible" in done.stderr


def test_servers_need_no_gpu(tmp_path):
    done = predict_sh(tmp_path, BACKEND="openai", BASE_URLS="http://a:8000/v1 http://b:8000/v1")
    assert done.returncode == 0 and "--base_urls http://a:8000/v1 http://b:8000/v1 --limit 3" in done.stdout
