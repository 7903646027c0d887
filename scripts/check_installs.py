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
}
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


def resolve(args: list[str], python: str, platform: str) -> tuple[bool, str, float]:
    uv = shutil.which("uv") or sys.exit("uv not found: pip install -r requirements-dev.txt")
    command = [uv, "pip", "compile", "--quiet", "--no-header", "--python-version", python,
               "--python-platform", platform, "--output-file", "/dev/null", *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    return done.returncode == 0, done.stderr.strip(), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", nargs="+", help="Python versions (default: pyproject's classifiers)")
    parser.add_argument("--platform", default="x86_64-manylinux_2_28", help="uv's --python-platform")
    options = parser.parse_args(argv)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pythons = options.python or supported_pythons(project)
    failures = consistency_problems(project)
    for problem in failures:
        print(f"FAIL pins: {problem}")
    start = time.perf_counter()
    print(f"| install | {' | '.join('Python ' + p for p in pythons)} |")
    print(f"| --- |{' --- |' * len(pythons)}")
    reasons = []
    for name, args in INSTALLS.items():
        cells = []
        for python in pythons:
            ok, reason, seconds = resolve(args, python, options.platform)
            cells.append(f"{'ok' if ok else 'FAILS'} ({seconds:.1f} s)")
            if not ok:
                reasons.append(f"{name} on Python {python} ({options.platform}):\n{reason}")
        print(f"| {name} | {' | '.join(cells)} |", flush=True)
    for reason in reasons:
        print(f"\nFAIL {reason}")
    total = len(INSTALLS) * len(pythons)
    print(f"\n{total - len(reasons)} of {total} installs resolve on {options.platform}, "
          f"{len(failures)} pin problems, in {time.perf_counter() - start:.1f} s")
    return 1 if reasons or failures else 0


if __name__ == "__main__":
    sys.exit(main())
