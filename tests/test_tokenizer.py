import json
import subprocess
import sys

import pytest
from conftest import REPO, SHARED

from long1k.tokenizer import FIRST_SPECIAL_ID, QWEN25_SPECIAL_TOKENS, count_tokens

VECTORS = SHARED / "tokenizer" / "qwen2_tokenizer_vectors.jsonl"


@pytest.mark.skipif(not VECTORS.is_file(), reason="reference vectors (../shared/tokenizer) not present")
def test_reproduces_the_real_qwen2_tokenizer_ids(tokenizer):
    rows = [json.loads(line) for line in VECTORS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 47
    mismatches = [r["text"] for r in rows if tokenizer.encode(r["text"], add_special_tokens=False) != r["ids"]]
    assert mismatches == []


def test_special_tokens_sit_at_the_qwen25_ids(tokenizer):
    ids = tokenizer.convert_tokens_to_ids(list(QWEN25_SPECIAL_TOKENS))
    assert ids == list(range(FIRST_SPECIAL_ID, FIRST_SPECIAL_ID + 22))
    assert tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_pad|>"]) == [
        151643, 151644, 151645, 151662]
    assert len(tokenizer) == 151665
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token != tokenizer.eos_token
    # Special tokens in text are parsed as single ids, never split into bytes.
    assert tokenizer.encode("<|im_start|>user\nhi<|im_end|>", add_special_tokens=False)[0] == 151644


def test_chat_template_is_the_qwen25_layout(tokenizer):
    messages = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]
    assert tokenizer.apply_chat_template(messages, tokenize=False) == (
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
    )
    prompt = tokenizer.apply_chat_template([{"role": "system", "content": "S"}, messages[0]], tokenize=False,
                                           add_generation_prompt=True)
    assert prompt == ("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                      "<|im_start|>assistant\n")


def test_decode_round_trips_unicode_and_latex(tokenizer):
    text = "Führer 🦙 $\\frac{1}{2}$ — 数学\n\n\tdone"
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text


def test_count_tokens_matches_encode(tokenizer):
    texts = ["Hello world", "", "<|im_start|>x", "a " * 100]
    assert count_tokens(tokenizer, texts) == [len(tokenizer.encode(t, add_special_tokens=False)) for t in texts]


def test_offline_tokenizer_script_writes_a_loadable_folder(tmp_path):
    out = tmp_path / "tok"
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "offline_tokenizer.py"), "--out", str(out)],
                            capture_output=True, text=True, check=True)
    assert "151665 tokens" in result.stdout
    from transformers import AutoTokenizer

    loaded = AutoTokenizer.from_pretrained(out)
    assert loaded.encode("Hello world", add_special_tokens=False) == loaded.encode("Hello world")
    assert loaded.convert_tokens_to_ids("<|file_sep|>") == 151664
