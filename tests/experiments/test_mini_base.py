"""The mini base model: what it is pretrained on (the world's text in every style as instruct exchanges,
nothing of the fine-tuning formats, no held-out problem), and that its build is deterministic and resumable from the
cache. The full build takes minutes; here a few steps of it."""

from __future__ import annotations

import json

import pytest

from long1k.experiments import mini_base
from long1k.fixtures.minichain import TRAINING_OPERATIONS
from long1k.formats import FORMATS
from long1k.links import DEFAULT_LINKS
from long1k.miniworld import STYLES, chains, take
from long1k.tokenizer import load_tokenizer

SMALL = mini_base.BaseRecipe(problems=64, steps=8, batch=4, warmup=2, probe=4)


def user_turn(document: str) -> str:
    return document.split("<|im_start|>user\n", 1)[1].split("<|im_end|>", 1)[0]


def test_the_corpus_is_the_world_in_every_style_as_exchanges_and_nothing_of_the_fine_tuning():
    tokenizer = load_tokenizer("mini")
    documents = mini_base.corpus(SMALL, tokenizer)
    assert set(documents) == set(STYLES)
    firsts = {style: [user_turn(d) for d in texts] for style, texts in documents.items()}
    assert len({tuple(f) for f in firsts.values()}) == 1, "every style writes the same problems"
    assert documents["full"][0].count("<|im_start|>assistant\n") == 1 and documents["full"][0].endswith("<|im_end|>\n")
    held_out = {c.problem for c in take(chains("benchmark:minichain:0", TRAINING_OPERATIONS, held_out=True), 100)}
    text = "\n".join(d for texts in documents.values() for d in texts)
    assert not held_out & set(firsts["full"])
    for marker in {m for fmt in FORMATS.values() for m in fmt.markers}:
        assert marker not in text
    for phrases in DEFAULT_LINKS.values():
        for phrase in phrases:
            assert phrase.split("{")[0].strip() not in text or not phrase.split("{")[0].strip()


def test_the_learning_rate_warms_up_holds_and_decays_to_zero():
    recipe = mini_base.BaseRecipe(steps=100, warmup=10, decay_share=0.2)
    rates = [mini_base.learning_rate(step, recipe) for step in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == rates[79] == 1.0
    assert rates[99] < 0.01 and all(a >= b for a, b in zip(rates[80:], rates[81:], strict=False))


def test_drift_over_the_last_tenth_is_zero_for_a_flat_loss_and_negative_for_a_falling_one():
    flat = [(STYLES[i % 4], 0.5) for i in range(400)]
    falling = [(STYLES[i % 4], 1.0 - i / 1000) for i in range(400)]
    assert all(v == pytest.approx(0.0) for v in mini_base.last_tenth_drift(flat).values())
    assert all(v < 0 for v in mini_base.last_tenth_drift(falling).values())
    assert mini_base.style_means(mini_base.last_tenth(flat)[1]) == dict.fromkeys(STYLES, 0.5)


def test_the_build_is_deterministic_and_cached(tmp_path, monkeypatch):
    first = mini_base.build_base(tmp_path / "a", SMALL)
    second = mini_base.build_base(tmp_path / "b", SMALL)
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
    record = json.loads((first / mini_base.RECORD).read_text())
    assert record["recipe"]["steps"] == 8 and len(record["loss_history"]) == 8
    assert 0.0 <= record["copy_probe_full_style"] <= 100.0
    last_four = mini_base.style_means([(style, loss) for _, style, loss in record["loss_history"]][-4:])
    assert set(record["final_loss"]) == set(STYLES) and record["final_loss"] == pytest.approx(last_four, abs=1e-4)
    built, build = [], mini_base.build_base
    monkeypatch.setenv("LONG1K_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(mini_base, "build_base", lambda out, recipe: built.append(out) or build(out, recipe))
    folder = mini_base.mini_base_dir(SMALL)
    assert mini_base.mini_base_dir(SMALL) == folder and len(built) == 1
    assert folder.parent == tmp_path / "cache" / "models" and (folder / mini_base.RECORD).is_file()


def test_the_probe_asks_held_out_problems_the_corpus_never_holds():
    probe = mini_base.probe_chains(20)
    documents = mini_base.corpus(mini_base.BaseRecipe(problems=2000), load_tokenizer("mini"))["full"]
    corpus = {user_turn(d) for d in documents}
    assert all(c.held_out for c in probe) and not {c.problem for c in probe} & corpus
