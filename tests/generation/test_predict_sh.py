"""eval/predict.sh: replicas take the GPUs already visible (Slurm, containers), DP x TP is checked."""

import os
import shutil
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
    environment = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "LONG1K_VLLM_VENV")}
    environment.update({"PATH": path, "DRY_RUN": "1", "MODEL": "m", **env})
    return subprocess.run([shutil.which("bash"), str(REPO / "eval" / "predict.sh"), "--limit", "3"], env=environment,
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


def test_help_prints_the_usage_without_a_model(tmp_path):
    done = subprocess.run(["bash", str(REPO / "eval" / "predict.sh"), "--help"], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "MODEL"})
    assert done.returncode == 0 and "MODEL=outputs/sft/long1k_launch/final bash eval/predict.sh" in done.stdout
    for variable in ("BENCHMARKS_DIR", "SEEDS", "PRESET", "TP", "DP", "DEVICE", "MEMORY", "DRY_RUN"):
        assert f"{variable} (" in done.stdout or f"{variable}=1 (" in done.stdout, variable
    assert "set -euo" not in done.stdout and not done.stdout.startswith("#")


def without_nvidia_smi(tmp_path) -> dict:
    """A PATH with only what predict.sh runs: no nvidia-smi, whatever the machine has."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("dirname", "sed", "seq"):
        (tools / tool).symlink_to(shutil.which(tool))
    return {"PATH": str(tools)}


def test_a_dry_run_prints_the_commands_on_a_machine_without_gpus(tmp_path):
    environment = without_nvidia_smi(tmp_path)
    done = predict_sh(tmp_path, **environment, TP="2", DP="2")
    lines = sorted(done.stdout.splitlines())
    assert done.returncode == 0, done.stderr
    assert lines[0].startswith("CUDA_VISIBLE_DEVICES=0,1 python -m long1k predict")
    assert lines[1].startswith("CUDA_VISIBLE_DEVICES=2,3 ") and "as on a node with GPUs 0 1 2 3" in done.stderr
    done = predict_sh(tmp_path, **environment, DRY_RUN="")
    assert done.returncode == 2 and "DEVICE=cpu for vLLM's CPU build" in done.stderr


def test_device_cpu_runs_vllm_from_its_own_environment(tmp_path):
    done = predict_sh(tmp_path, DEVICE="cpu")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{REPO}/.venv-vllm/bin/python -m long1k predict --model m --backend vllm")
    assert "--tensor_parallel_size 1" in done.stdout and "--gpu_memory_utilization 0.3 --limit 3" in done.stdout
    assert "CUDA_VISIBLE_DEVICES" not in done.stdout
    done = predict_sh(tmp_path, DEVICE="cpu", MEMORY="0.05", LONG1K_VLLM_VENV=str(tmp_path / "v"))
    assert done.stdout.startswith(f"{tmp_path}/v/bin/python") and "--gpu_memory_utilization 0.05" in done.stdout
    done = predict_sh(tmp_path, DEVICE="cpu", TP="2")
    assert done.returncode == 2 and "TP=1 and DP=1, not TP=2 DP=1" in done.stderr
    done = predict_sh(tmp_path, DEVICE="cpu", DRY_RUN="", LONG1K_VLLM_VENV=str(tmp_path / "none"))
    assert done.returncode == 2 and "run bash scripts/setup_vllm.sh" in done.stderr
    done = predict_sh(tmp_path, DEVICE="tpu")
    assert done.returncode == 2 and "DEVICE must be gpu or cpu, not 'tpu'" in done.stderr
    done = predict_sh(tmp_path, DEVICE="cpu", TP="one")
    assert done.returncode == 2 and "TP and DP must be whole numbers, not TP='one'" in done.stderr
    done = predict_sh(tmp_path, DEVICE="cpu", CUDA_VISIBLE_DEVICES="3")
    assert "CUDA_VISIBLE_DEVICES" not in done.stdout  # it means nothing to the CPU build
