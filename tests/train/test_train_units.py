"""Training pieces that run in-process: labels, packing, preflight, and errors before any model load."""

import json

import pytest
import torch

from long1k.errors import Long1kError
from long1k.train import run as train_run
from long1k.train.config import SFTConfig, deepspeed_config_path
from long1k.train.data import IGNORE_INDEX, PaddingCollator, TokenizedData, pack, tokenize_with_labels
from long1k.train.model import SHAPES, build_random_model
from long1k.train.preflight import plan_memory

MESSAGES = [
    {"role": "system", "content": "S"},
    {"role": "user", "content": "What is 2+3?"},
    {"role": "assistant", "content": "<|begin_of_thought|>\n\n2+3=5\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
                                     "\\boxed{5}\n\n<|end_of_solution|>"},
]


def test_loss_positions_token_by_token(tokenizer):
    text = tokenizer.apply_chat_template(MESSAGES, tokenize=False)
    ids, labels = tokenize_with_labels(tokenizer, text)
    pieces = [(tokenizer.decode([i]), label != IGNORE_INDEX) for i, label in zip(ids, labels, strict=True)]
    trained = "".join(piece for piece, carries in pieces if carries)
    untrained = "".join(piece for piece, carries in pieces if not carries)
    # Exactly the assistant content and its <|im_end|> carry loss; the prompt, the role header and the
    # newline after <|im_end|> do not.
    assert trained == MESSAGES[2]["content"] + "<|im_end|>"
    assert untrained == text.replace(MESSAGES[2]["content"] + "<|im_end|>", "")
    first = next(k for k, (_, carries) in enumerate(pieces) if carries)
    assert [p for p, _ in pieces[first - 3 : first]] == ["<|im_start|>", "assistant", "\n"]
    assert pieces[-2] == ("<|im_end|>", True) and pieces[-1] == ("\n", False)
    assert all(label in (IGNORE_INDEX, token) for token, label in zip(ids, labels, strict=True))


def test_pad_token_is_never_im_end(tokenizer):
    config = SFTConfig(output_dir="unused", model_name_or_path="tiny-qwen2", deepspeed="", bf16=False)
    loaded = train_run.load_tokenizer_for(config)
    assert loaded.pad_token_id != loaded.convert_tokens_to_ids("<|im_end|>")
    batch = PaddingCollator(loaded.pad_token_id)([{"input_ids": [5, 6, 7], "labels": [5, 6, 7]},
                                                   {"input_ids": [8], "labels": [IGNORE_INDEX]}])
    assert batch["input_ids"][1].tolist() == [8, loaded.pad_token_id, loaded.pad_token_id]
    assert batch["labels"][1].tolist() == [IGNORE_INDEX] * 3
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def test_packed_rows_give_the_same_loss_as_separate_rows(tokenizer):
    model = build_random_model("tiny-qwen2", seed=1, attn_implementation="sdpa").eval()
    rows = []
    for question, answer in (("1+1?", "2"), ("Name a colour.", "Blue, like the sky."), ("3*3?", "9")):
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        rows.append(tokenize_with_labels(tokenizer, tokenizer.apply_chat_template(messages, tokenize=False)))
    data = TokenizedData([r[0] for r in rows], [r[1] for r in rows], "test", 3, 0, 0)
    (ids,), (labels,), (positions,) = pack(data, block_size=10_000)

    def summed_loss(input_ids, target, position_ids=None) -> float:
        with torch.no_grad():
            # use_cache=False as in training: with a cache the packed rows would not be told apart
            logits = model(input_ids=torch.tensor([input_ids]), use_cache=False,
                           position_ids=None if position_ids is None else torch.tensor([position_ids])).logits
        shifted = torch.tensor(target[1:])
        return torch.nn.functional.cross_entropy(logits[0, :-1], shifted, ignore_index=IGNORE_INDEX,
                                                 reduction="sum").item()

    separate = sum(summed_loss(i, t) for i, t in rows)
    packed = summed_loss(ids, labels, positions)
    leaking = summed_loss(ids, labels)  # without position ids the rows attend to each other
    assert abs(packed - separate) < 1e-3
    assert abs(leaking - separate) > 1e-2  # small for a random tiny model, but far above float noise


def test_pack_respects_the_block_size():
    data = TokenizedData([[1] * 5, [2] * 4, [3] * 6, [4] * 2], [[1] * 5, [2] * 4, [3] * 6, [4] * 2], "t", 4, 0, 0)
    ids, labels, positions = pack(data, block_size=10)
    assert [len(x) for x in ids] == [9, 8]
    assert positions[0] == list(range(5)) + list(range(4))
    assert labels[0][5] == IGNORE_INDEX and labels[0][0] == IGNORE_INDEX


def test_preflight_matches_the_reference_arithmetic():
    shape = SHAPES["qwen2.5-32b"]
    assert shape.num_parameters() == pytest.approx(32.76e9, rel=1e-3)
    plain = plan_memory(shape, 8, 8, 32768, str(deepspeed_config_path("z3")))
    assert plain.gpu_states_gb * 1024**3 / 1e9 == pytest.approx(65.5, rel=0.01)  # 16 bytes x 32.76B / 8
    assert plain.gpu_logits_gb * 1024**3 / 1e9 == pytest.approx(2 * 19.9, rel=0.01)  # fp32 logits + gradient
    assert plain.host_pinned_per_node_gb == 0
    offload = plan_memory(shape, 8, 8, 32768, str(deepspeed_config_path("z3_offload")), liger=True)
    # Offloaded: bf16 gradient shard (2 x 32.76B / 8) + at most 5e8 live bf16 weights stay on the GPU.
    assert offload.gpu_states_gb * 1024**3 / 1e9 == pytest.approx(8.19 + 1.0, rel=0.01)
    assert offload.gpu_logits_gb == 0
    # Pinned host memory per node: bf16 weights 2 + fp32 master and moments 12 + fp32 gradients 4 bytes/param.
    assert offload.host_pinned_per_node_gb * 1024**3 / 1e9 == pytest.approx(32.76 * (2 + 12 + 4), rel=0.01)


# ------------------------------------------------------------------ errors before any model is loaded

@pytest.fixture
def no_model_load(monkeypatch):
    def fail(config):
        raise AssertionError("the model was loaded before the input was checked")

    monkeypatch.setattr(train_run, "load_model", fail)


def make_config(tmp_path, **overrides) -> SFTConfig:
    options = {"output_dir": str(tmp_path / "run"), "model_name_or_path": "tiny-qwen2", "deepspeed": "",
               "bf16": False, "preflight": "off"}
    options.update(overrides)
    return SFTConfig(**options)


def test_missing_data_folder(tmp_path, no_model_load):
    with pytest.raises(Long1kError, match="nowhere.*not found"):
        train_run.train(make_config(tmp_path, dataset=str(tmp_path / "nowhere")))


def test_dataset_without_text_or_messages(tmp_path, no_model_load):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "rows.jsonl").write_text(json.dumps({"prompt": "x", "completion": "y"}) + "\n")
    with pytest.raises(Long1kError, match=r"needs a 'text' or 'messages' column; found \['prompt', 'completion'\]"):
        train_run.train(make_config(tmp_path, dataset=str(tmp_path / "d")))


def test_block_size_smaller_than_every_row(tmp_path, tokenizer, no_model_load):
    (tmp_path / "d").mkdir()
    row = {"messages": MESSAGES}
    (tmp_path / "d" / "rows.jsonl").write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(Long1kError, match=r"no row fits the block size 8 \(2 longer"):
        train_run.train(make_config(tmp_path, dataset=str(tmp_path / "d"), block_size=8))


def test_unknown_deepspeed_config(tmp_path):
    with pytest.raises(Long1kError, match="missing.json: DeepSpeed config not found"):
        make_config(tmp_path, deepspeed=str(tmp_path / "missing.json"))


def test_output_folder_holding_another_run(tmp_path, no_model_load):
    (tmp_path / "run" / "checkpoint-5").mkdir(parents=True)
    with pytest.raises(Long1kError, match="holds another run; pass --resume"):
        train_run.train(make_config(tmp_path, dataset=str(tmp_path)))
    (tmp_path / "run" / "run_config.json").write_text(json.dumps({"arguments": {
        "model_name_or_path": "qwen2.5-0.5b", "dataset": str(tmp_path), "block_size": 32768, "packing": False,
        "seed": 42}}))
    with pytest.raises(Long1kError, match=r"different \['model_name_or_path'\]"):
        train_run.train(make_config(tmp_path, dataset=str(tmp_path), resume=True))
