"""`python -m long1k launch-train [TRAIN FLAGS]`: the SFT run under torchrun, on one node or several.

The environment says how to launch, the flags what to train (the `train` stage's flags, a recipe
with --config):

    NPROC_PER_NODE (8)  NNODES (1)  NODE_RANK (0)  MASTER_ADDR (127.0.0.1)
    MASTER_PORT (one node: a free port; several nodes: 29500, the same on every node)
    RECIPE, MODEL, DATA, OUTPUT_DIR, DEEPSPEED: shorthands for --config, --model_name_or_path,
    --dataset, --output_dir, --deepspeed (flags given win)
    LOG_FILE: the node's log (default OUTPUT_DIR/train-nodeN.log); everything is also printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ENV_FLAGS = {"RECIPE": "--config", "MODEL": "--model_name_or_path", "DATA": "--dataset",
             "OUTPUT_DIR": "--output_dir", "DEEPSPEED": "--deepspeed"}


def train_arguments(argv: list[str], env: dict[str, str]) -> list[str]:
    """The `train` stage's arguments: the environment's shorthands first, so that flags override them."""
    given = {a.replace("-", "_").split("=")[0] for a in argv if a.startswith("--")}
    args = []
    for name, flag in ENV_FLAGS.items():
        if env.get(name) and flag.replace("-", "_") not in given:
            args += [flag, env[name]]
    return args + argv


def output_dir(args: list[str]) -> str:
    """Where the run writes (the log goes beside the checkpoints), as the train stage reads its options."""
    from long1k.configs import parse_values
    from long1k.train.config import SFTConfig

    return parse_values(SFTConfig, args)["output_dir"]


def master_port(env: dict[str, str]) -> str:
    """MASTER_PORT, else on one node a port free now (a fixed one collides with any other run on the machine),
    else 29500: the nodes of a multi-node run must agree on it."""
    if env.get("MASTER_PORT"):
        return env["MASTER_PORT"]
    if env.get("NNODES", "1") != "1":
        return "29500"
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def torchrun_command(args: list[str], env: dict[str, str]) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nnodes", env.get("NNODES", "1"),
            "--node_rank", env.get("NODE_RANK", "0"), "--nproc_per_node", env.get("NPROC_PER_NODE", "8"),
            "--master_addr", env.get("MASTER_ADDR", "127.0.0.1"), "--master_port", master_port(env),
            "-m", "long1k", "train", *args]


def main(argv: list[str] | None = None) -> None:
    env = dict(os.environ)
    given = list(sys.argv[1:] if argv is None else argv)
    if "-h" in given or "--help" in given:  # the flags are the train stage's: show them, start nothing
        from long1k.train.run import main as train_main

        train_main(["--help"])
        return
    args = train_arguments(given, env)
    out = Path(output_dir(args))
    out.mkdir(parents=True, exist_ok=True)
    log_path = Path(env.get("LOG_FILE") or out / f"train-node{env.get('NODE_RANK', '0')}.log")
    env.update(PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    command = torchrun_command(args, env)
    print(f"sft: {env.get('NNODES', '1')} node(s) x {env.get('NPROC_PER_NODE', '8')} processes, log {log_path}",
          flush=True)
    error = None
    with log_path.open("a", encoding="utf-8") as log, subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as process:
        for line in process.stdout:
            log.write(line)
            if error is None:  # after a user error, torchrun's per-rank failure report is only logged
                sys.stdout.write(line)
                error = line.strip() if line.startswith("error: ") else None
        code = process.wait()
    if code and error:
        sys.stdout.flush()
        sys.exit(2)
    if code:
        sys.exit(code)
