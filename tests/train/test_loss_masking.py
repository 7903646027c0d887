"""Loss masking from the tokenizer's own chat template: ChatML and a non-ChatML template, and the
three --loss_on choices."""

import copy

import pytest

from long1k.errors import Long1kError
from long1k.train.data import IGNORE_INDEX, TurnMarkers, assistant_markers, tokenize_dataset, tokenize_with_labels

# A Llama-3-style template: no <|im_start|> anywhere, so ChatML literals would find no assistant turn.
HEADER_TEMPLATE = (
    "{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>"
    "{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
MESSAGES = [{"role": "system", "content": "Be exact."}, {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "It is 4."}, {"role": "user", "content": "And 3+3?"},
            {"role": "assistant", "content": "It is 6."}]


@pytest.fixture(scope="module")
def header_tokenizer(tokenizer):
    other = copy.deepcopy(tokenizer)
    other.chat_template = HEADER_TEMPLATE
    # As in the real models that use such headers, the markers are special tokens.
    other.add_special_tokens({"additional_special_tokens": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]})
    return other


def learned(tokenizer, text: str, loss_on: str) -> str:
    _, labels = tokenize_with_labels(tokenizer, text, assistant_markers(tokenizer), loss_on)
    return tokenizer.decode([t for t in labels if t != IGNORE_INDEX])


def test_markers_are_read_off_the_chat_template(tokenizer, header_tokenizer):
    assert assistant_markers(tokenizer) == TurnMarkers("<|im_start|>assistant\n", "<|im_end|>")
    assert assistant_markers(header_tokenizer) == TurnMarkers(
        "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>")


@pytest.mark.parametrize("which", ["chatml", "header"])
def test_loss_on_choices(which, tokenizer, header_tokenizer):
    tok = tokenizer if which == "chatml" else header_tokenizer
    close = assistant_markers(tok).close
    text = tok.apply_chat_template(MESSAGES, tokenize=False)
    assert learned(tok, text, "assistant") == f"It is 4.{close}It is 6.{close}"
    assert learned(tok, text, "last_turn") == f"It is 6.{close}"
    assert learned(tok, text, "all") == text
    assert learned(tok, text, "assistant_without_end") == "It is 4.It is 6."  # the ablation: never learns to stop


def test_a_non_chatml_model_keeps_its_rows(header_tokenizer):
    rows = [{"messages": MESSAGES}, {"messages": MESSAGES[:3]}]
    data = tokenize_dataset(rows, header_tokenizer, block_size=4096, source="memory")
    assert len(data.input_ids) == 2 and data.dropped_without_assistant == 0


def test_a_template_without_assistant_turns_is_a_clear_error(tokenizer):
    other = copy.deepcopy(tokenizer)
    other.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    with pytest.raises(Long1kError, match="marks no assistant turn; use --loss_on all"):
        assistant_markers(other)
