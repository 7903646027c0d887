"""The README is a front page whose links resolve, and the commands in it and in docs/ are ones the
stages accept: every flag a documented command shows is a flag of that stage's --help."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from functools import cache
from pathlib import Path

import pytest
from conftest import REPO

from long1k.cli import STAGES

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Shell entry points that are not one-stage Python aliases: where their flags go.
SHELL_ENTRIES = {"train/sft.sh": "train", "eval/predict.sh": "predict"}


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def links(page: Path) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))


def test_the_readme_is_a_front_page_that_links_every_docs_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for page in (REPO / "docs").glob("*.md"):
        assert f"docs/{page.name}" in links(REPO / "README.md") or page.name == "README.md", page.name


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    for target in links(page):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", resolved.read_text(encoding="utf-8"), flags=re.MULTILINE)
            assert anchor in {slug(h) for h in headings}, f"{page.name}: no heading for #{anchor} in {path}"


def stage_of(script: str) -> str | None:
    """The stage a documented entry point runs: `-m long1k STAGE`, a one-line alias, or a shell entry."""
    if script in SHELL_ENTRIES:
        return SHELL_ENTRIES[script]
    path = REPO / script
    if path.suffix == ".py" and path.is_file():
        match = re.search(r'run_stage\("([\w-]+)"\)', path.read_text(encoding="utf-8"))
        return match.group(1) if match else None
    return None


def documented_commands() -> list[tuple[str, str, list[str]]]:
    """(page, stage, flags) for each command line in the pages' code blocks."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", text, flags=re.DOTALL)
        blocks += [" ".join(span.split()) for span in  # commands in the prose, maybe wrapped over lines
                   re.findall(r"`((?:[A-Z_]+=\S+\s+)*(?:python|bash)\s+[^`]+)`",
                              re.sub(r"```.*?```", "", text, flags=re.DOTALL))]
        for block in blocks:
            for line in block.replace("\\\n", " ").splitlines():
                command = line.split(" #")[0].strip()
                try:
                    words = shlex.split(command)
                except ValueError:
                    continue
                stage = None
                for i, word in enumerate(words):
                    if words[i - 1:i + 1] == ["-m", "long1k"] and i + 1 < len(words):
                        stage = words[i + 1]
                    elif words[i - 1:i] in (["python"], ["bash"]) and stage_of(word):
                        stage = stage_of(word)
                if stage and stage.isupper():  # `python -m long1k STAGE`: a placeholder
                    continue
                if stage:
                    flags = [w.split("=")[0] for w in words if w.startswith("--")]
                    found.append((page.name, stage, flags))
    return found


@cache
def stage_help(stage: str) -> str:
    module = __import__(STAGES[stage][0], fromlist=["main"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        module.main(["--help"])
    return out.getvalue()


def test_documented_commands_use_flags_their_stage_accepts():
    commands = documented_commands()
    assert len(commands) > 50  # the pages are full of commands: finding few means the scan broke
    unknown = []
    for page, stage, flags in commands:
        assert stage in STAGES, f"{page}: unknown stage {stage}"
        accepted = set(re.findall(r"--[\w-]+", stage_help(stage)))
        unknown += [f"{page}: {stage} {flag}" for flag in flags if flag not in accepted]
    assert unknown == []


def test_every_module_path_the_docs_name_exists():
    """A doc that sends a reader to long1k/x.py for something must name a file that exists."""
    missing = [(page.name, path) for page in PAGES
               for path in re.findall(r"`(long1k/[\w/]+\.py)`", page.read_text(encoding="utf-8"))
               if not (REPO / path).is_file() and "| `" + path not in page.read_text(encoding="utf-8")]
    assert missing == []


def test_the_linking_phrase_defaults_are_documented_where_they_live():
    from long1k import links
    from long1k.synthesis.config import SynthesisConfig

    text = (REPO / "docs" / "data.md").read_text(encoding="utf-8")
    assert "defaults in `long1k/links.py`" in text
    assert SynthesisConfig().question_links == links.DEFAULT_QUESTION_LINKS


def test_the_results_csv_columns_are_the_documented_ones():
    from long1k.scoring.report import CSV_HEADER

    text = (REPO / "docs" / "evaluation.md").read_text(encoding="utf-8")
    assert "columns `" + ", ".join(CSV_HEADER) + "`" in re.sub(r"\s+", " ", text)
    assert "one column per benchmark: mean pass@1" not in text.replace("\n", " ").split("results.csv")[1][:200]


def test_the_budget_forcing_the_docs_give_is_the_one_the_miniature_runs():
    from long1k.experiments.mini_runs import BUDGET

    text = re.sub(r"\s+", " ", (REPO / "docs" / "experiments.md").read_text(encoding="utf-8"))
    given = set(re.findall(r"at most (\d+) thinking tokens", text)) | set(re.findall(r"--thinking_budget (\d+)", text))
    assert given == {str(BUDGET["thinking_budget"])}


def test_every_stage_takes_a_recipe_with_config():
    """The README says every stage reads its options from --config: env included."""
    for stage in ("env", "train", "predict", "score", "synthesize", "prepare-benchmarks"):
        assert "--config" in stage_help(stage), stage
