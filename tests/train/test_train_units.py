"""Training pieces that run in-process: labels, TRL's collator, packing and chunked loss, preflight, and errors
before any model load."""

import json

import pytest
import torch

from long1k.errors import Long1kError
from long1k.train import run as train_run
from long1k.train.config import SFTConfig, deepspeed_config_path
from long1k.train.data import IGNORE_INDEX, tokenize_with_labels
from long1k.train.model import SHAPES, build_random_model
from long1k.train.preflight import Setting, fitting_settings, gpu_refusal, plan_memory

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


def collate(examples, pad_token_id: int, padding_free: bool = False) -> dict:
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    return DataCollatorForLanguageModeling(pad_token_id=pad_token_id, padding_free=padding_free)(examples)


def test_pad_token_is_never_im_end(tokenizer):
    config = SFTConfig(output_dir="unused", model_name_or_path="tiny-qwen2", deepspeed="", bf16=False)
    loaded = train_run.load_tokenizer_for(config)
    assert loaded.pad_token_id != loaded.convert_tokens_to_ids("<|im_end|>")
    batch = collate([{"input_ids": [5, 6, 7], "labels": [5, 6, 7]}, {"input_ids": [8], "labels": [IGNORE_INDEX]}],
                    loaded.pad_token_id)
    assert batch["input_ids"][1].tolist() == [8, loaded.pad_token_id, loaded.pad_token_id]
    assert batch["labels"][1].tolist() == [IGNORE_INDEX] * 3
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def chat_rows(tokenizer) -> list[tuple[list[int], list[int]]]:
    rows = []
    for question, answer in (("1+1?", "2"), ("Name a colour.", "Blue, like the sky."), ("3*3?", "9")):
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        rows.append(tokenize_with_labels(tokenizer, tokenizer.apply_chat_template(messages, tokenize=False)))
    return rows


def test_packed_rows_give_the_same_loss_as_separate_rows(tokenizer):
    """TRL's padding-free batch (what --packing trains on) under SDPA: the rows do not see each other."""
    model = build_random_model("tiny-qwen2", seed=1, attn_implementation="sdpa").eval()
    rows = chat_rows(tokenizer)
    packed = collate([{"input_ids": i, "labels": t} for i, t in rows], 0, padding_free=True)

    def summed_loss(input_ids, target, **extra) -> float:
        with torch.no_grad():
            # use_cache=False as in training: with a cache the packed rows would not be told apart
            logits = model(input_ids=torch.as_tensor(input_ids).reshape(1, -1), use_cache=False, **extra).logits
        shifted = torch.as_tensor(target).reshape(-1)[1:]
        return torch.nn.functional.cross_entropy(logits[0, :-1], shifted, ignore_index=IGNORE_INDEX,
                                                 reduction="sum").item()

    separate = sum(summed_loss(i, t) for i, t in rows)
    together = summed_loss(packed["input_ids"], packed["labels"],
                           **{k: v for k, v in packed.items() if k not in ("input_ids", "labels")})
    leaking = summed_loss(packed["input_ids"], packed["labels"])  # without position ids the rows see each other
    assert packed["labels"][0, len(rows[0][0])] == IGNORE_INDEX  # a row's first token is not learned from the last
    assert abs(together - separate) < 1e-3
    assert abs(leaking - separate) > 1e-2  # small for a random tiny model, but far above float noise


def test_packing_keeps_every_row_whole_within_the_block():
    from datasets import Dataset
    from trl.data_utils import pack_dataset

    lengths = [5, 4, 6, 2]
    rows = Dataset.from_dict({"input_ids": [[n] * n for n in lengths], "labels": [[n] * n for n in lengths]})
    packed = pack_dataset(rows, 10, "bfd")
    assert all(sum(seq) <= 10 for seq in packed["seq_lengths"])
    assert sorted(n for seq in packed["seq_lengths"] for n in seq) == sorted(lengths)
    assert sum(len(ids) for ids in packed["input_ids"]) == sum(lengths)


def test_chunked_loss_and_gradients_equal_the_full_logits_loss(tokenizer):
    """TRL's fused LM head (the SFTTrainer's loss) against the model's own loss over the full logits."""
    from trl.trainer.utils import add_fused_lm_head

    rows = chat_rows(tokenizer)
    batch = collate([{"input_ids": i, "labels": t} for i, t in rows], tokenizer.pad_token_id or 0)
    full, fused = (build_random_model("tiny-qwen2", seed=3, attn_implementation="sdpa") for _ in range(2))
    add_fused_lm_head(fused)
    full_loss = full(**batch, use_cache=False).loss
    fused_loss = fused(**batch, use_cache=False, fused_lm_head=True).loss
    full_loss.backward()
    fused_loss.backward()
    assert fused_loss.item() == pytest.approx(full_loss.item(), rel=1e-5)
    for (name, a), (_, b) in zip(full.named_parameters(), fused.named_parameters(), strict=True):
        assert torch.allclose(a.grad, b.grad, rtol=1e-4, atol=1e-6), name


def test_preflight_matches_the_reference_arithmetic():
    shape = SHAPES["qwen2.5-32b"]
    assert shape.num_parameters() == pytest.approx(32.76e9, rel=1e-3)
    z3, offload = (str(deepspeed_config_path(name)) for name in ("z3", "z3_offload"))
    full = plan_memory(shape, Setting(8, 8, 32768, z3, loss="full"))
    assert full.gpu_states_gb * 1024**3 / 1e9 == pytest.approx(65.5, rel=0.01)  # 16 bytes x 32.76B / 8
    assert full.gpu_loss_gb * 1024**3 / 1e9 == pytest.approx(2 * 19.9, rel=0.01)  # fp32 logits + gradient
    assert full.host_pinned_per_node_gb == 0
    chunked = plan_memory(shape, Setting(8, 8, 32768, offload))
    # Offloaded: bf16 gradient shard (2 x 32.76B / 8) + the gathered bf16 weights: the live-parameter cap (5e8),
    # or the largest parameter when it is larger (the 152064 x 5120 embedding)
    head = 152064 * 5120
    assert chunked.gpu_states_gb * 1024**3 / 1e9 == pytest.approx(8.19 + 2 * head / 1e9, rel=0.01)
    # TRL's tile (4096 x 32768 bf16), the gathered bf16 head, its fp32 gradient and that gradient's bf16 copy,
    # the fp32 gradient and bf16 copy of the hidden states
    expected = 4096 * 32768 * 2 + head * 8 + 32768 * 5120 * 6
    assert chunked.gpu_loss_gb * 1024**3 == pytest.approx(expected)
    # Pinned host memory per node: bf16 weights 2 + fp32 master and moments 12 + fp32 gradients 4 bytes/param.
    assert chunked.host_pinned_per_node_gb * 1024**3 / 1e9 == pytest.approx(32.76 * (2 + 12 + 4), rel=0.01)


@pytest.mark.parametrize("recipe", ["long1k_launch", "long1k_released"])
def test_the_published_recipes_fit_8_gpus_of_80_gb(recipe):
    import yaml
    from conftest import REPO

    values = yaml.safe_load((REPO / "train" / "recipes" / f"{recipe}.yaml").read_text())
    setting = Setting(8, 8, values["block_size"] * values["per_device_train_batch_size"],
                      str(deepspeed_config_path(values["deepspeed"])), values["gradient_checkpointing"])
    assert plan_memory(SHAPES["qwen2.5-32b"], setting).gpu_total_gb <= 70
    assert plan_memory(SHAPES["qwen2.5-32b"], Setting(**{**vars(setting), "loss": "full"})).gpu_total_gb > 80


def test_packed_micro_batches_join_their_blocks_and_sdpa_adds_the_mask():
    from long1k.train.preflight import training_setting

    packed = training_setting(8, 8, 900, 4096, 2, True, "sdpa", None, True, "chunked")
    assert (packed.tokens, packed.mask_width) == (8192, 8192)  # TRL's padding-free collator: one row of 2 blocks
    flash = training_setting(8, 8, 900, 4096, 2, True, "flash_attention_2", None, True, "chunked")
    assert (flash.tokens, flash.mask_width) == (8192, 0)
    padded = training_setting(8, 8, 900, 4096, 2, False, "sdpa", None, True, "chunked")
    assert (padded.tokens, padded.mask_width) == (1800, 900)
    alone = training_setting(8, 8, 900, 4096, 1, False, "sdpa", None, True, "chunked")
    assert (alone.tokens, alone.mask_width) == (900, 0)
    shape = SHAPES["qwen2.5-0.5b"]
    assert (plan_memory(shape, packed).gpu_activations_gb - plan_memory(shape, flash).gpu_activations_gb
            == pytest.approx(8192 * 8192 / 1024**3))


def test_the_full_logits_loss_is_named_first_and_nodes_count_from_the_current_ones():
    shape, offload = SHAPES["qwen2.5-32b"], str(deepspeed_config_path("z3_offload"))
    assert fitting_settings(shape, Setting(8, 8, 32768, offload, loss="full"), 80.0, 1, offload)[0] == \
        "--lm_head_loss chunked"
    z3 = str(deepspeed_config_path("z3"))
    two_nodes = fitting_settings(shape, Setting(16, 8, 32768, z3), 60.0, 1, offload)
    assert "NNODES=4 (32 ranks)" in two_nodes


def test_a_plan_that_does_not_fit_names_what_would():
    shape, z3 = SHAPES["qwen2.5-32b"], str(deepspeed_config_path("z3"))
    setting = Setting(8, 8, 32768, z3)
    suggestions = fitting_settings(shape, setting, 80.0, 1, str(deepspeed_config_path("z3_offload")))
    assert suggestions[0] == "--deepspeed z3_offload" and any(s.startswith("NNODES=") for s in suggestions)
    line = gpu_refusal(plan_memory(shape, setting), ("NVIDIA H100 80GB HBM3", 80.0), suggestions)
    assert line.startswith("preflight: about ") and "NVIDIA H100" in line and line.endswith("--force to go on anyway")
    assert "\n" not in line
    assert gpu_refusal(plan_memory(shape, Setting(8, 8, 32768, str(deepspeed_config_path("z3_offload")))),
                       ("H100", 80.0), []) is None


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
        "model_name_or_path": "qwen2.5-0.5b", "tokenizer_name": None, "dataset": str(tmp_path), "block_size": 32768,
        "packing": False, "loss_on": "assistant", "seed": 42}}))
    with pytest.raises(Long1kError, match=r"different \['model_name_or_path'\]"):
        train_run.train(make_config(tmp_path, dataset=str(tmp_path), resume=True))


@pytest.fixture
def one_row_dataset(tmp_path) -> str:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "rows.jsonl").write_text(json.dumps({"messages": MESSAGES}) + "\n")
    return str(tmp_path / "d")


def test_resume_refuses_another_loss_mask_or_tokenizer(tmp_path, one_row_dataset, no_model_load):
    """The same arguments but other labels (a changed chat template or loss rule) or another tokenizer."""
    (tmp_path / "run" / "checkpoint-2").mkdir(parents=True)
    config = make_config(tmp_path, dataset=one_row_dataset, resume=True)
    arguments = {key: getattr(config, key) for key in train_run.IDENTITY_KEYS}
    tokenizer = train_run.load_tokenizer_for(config)
    data = train_run.tokenize_dataset(train_run.load_rows(one_row_dataset), tokenizer, 32768, one_row_dataset)
    identity = train_run.data_identity(data, tokenizer)
    for changed, named in (("labels_sha256", "labels"), ("tokenizer_sha256", "tokenizer")):
        record = {"arguments": arguments, "data": {**identity, changed: "0" * 64}}
        (tmp_path / "run" / "run_config.json").write_text(json.dumps(record))
        with pytest.raises(Long1kError, match=f"trained with other {named} "):
            train_run.train(make_config(tmp_path, dataset=one_row_dataset, resume=True))
    record = {"arguments": {**arguments, "loss_on": "all"}, "data": identity}
    (tmp_path / "run" / "run_config.json").write_text(json.dumps(record))
    with pytest.raises(Long1kError, match=r"different \['loss_on'\]"):
        train_run.train(make_config(tmp_path, dataset=one_row_dataset, resume=True))
    (tmp_path / "run" / "run_config.json").write_text(json.dumps({"arguments": arguments, "data": identity}))
    with pytest.raises(AssertionError, match="the model was loaded"):  # the same run: on to the model
        train_run.train(make_config(tmp_path, dataset=one_row_dataset, resume=True))


def test_the_loss_mask_digest_sees_the_loss_rule(tmp_path, one_row_dataset):
    tokenizer = train_run.load_tokenizer_for(make_config(tmp_path))
    rows = train_run.load_rows(one_row_dataset)
    digests = {rule: train_run.tokenize_dataset(rows, tokenizer, 32768, "d", rule).digests()
               for rule in ("assistant", "assistant_without_end", "all")}
    assert len({d["labels_sha256"] for d in digests.values()}) == 3
    assert len({d["token_ids_sha256"] for d in digests.values()}) == 1


def test_preflight_stops_before_the_model_loads_and_force_goes_on(tmp_path, one_row_dataset, no_model_load, capsys):
    with pytest.raises(Long1kError) as refused:
        train_run.train(make_config(tmp_path, dataset=one_row_dataset, preflight="refuse", gpu_memory_gb=0.5))
    line = str(refused.value)
    assert line.startswith("preflight: about ") and "0.5 GiB" in line and line.endswith("--force to go on anyway")
    assert "\n" not in line
    with pytest.raises(AssertionError, match="the model was loaded"):
        train_run.train(make_config(tmp_path, dataset=one_row_dataset, preflight="refuse", gpu_memory_gb=0.5,
                                    force=True, output_dir=str(tmp_path / "forced")))
    assert "going on (--force" in capsys.readouterr().out


def test_on_cpu_the_preflight_does_not_stop(tmp_path, one_row_dataset, no_model_load, monkeypatch):
    monkeypatch.setattr(train_run.preflight, "visible_gpu", lambda: None)
    with pytest.raises(AssertionError, match="the model was loaded"):
        train_run.train(make_config(tmp_path, dataset=one_row_dataset, preflight="refuse",
                                    model_name_or_path="qwen2.5-32b"))


def test_max_length_is_refused_for_block_size(tmp_path):
    with pytest.raises(Long1kError, match="--max_length truncates rows: use --block_size"):
        make_config(tmp_path, max_length=512)
    assert make_config(tmp_path, max_length=32768).max_length == 32768  # the same as --block_size: accepted


@pytest.mark.parametrize(("option", "message"), [
    ({"packing": True, "packing_strategy": "wrapped"}, "--packing_strategy wrapped cuts rows"),
    ({"padding_free": True}, "--padding_free without --packing"),
    ({"assistant_only_loss": True}, "chosen by --loss_on"),
    ({"completion_only_loss": True}, "chosen by --loss_on"),
    ({"chat_template_path": "t.jinja"}, "the labels are computed with the tokenizer's own template"),
    ({"loss_type": "dft", "lm_head_loss": "full"}, "--loss_type dft needs --lm_head_loss chunked"),
])
def test_trl_options_that_would_bypass_the_labels_are_refused(tmp_path, option, message):
    with pytest.raises(Long1kError, match=message):
        make_config(tmp_path, **option)


def test_resume_of_a_run_recorded_before_the_loss_mask_and_tokenizer_hashes(tmp_path, one_row_dataset, no_model_load,
                                                                            capsys):
    """An earlier version recorded fewer arguments and only the token ids' hash: the run resumes, with a note."""
    import hashlib

    (tmp_path / "run" / "checkpoint-2").mkdir(parents=True)
    config = make_config(tmp_path, dataset=one_row_dataset, resume=True)
    tokenizer = train_run.load_tokenizer_for(config)
    data = train_run.tokenize_dataset(train_run.load_rows(one_row_dataset), tokenizer, 32768, one_row_dataset)
    old_hash = hashlib.sha256(json.dumps(data.input_ids).encode()).hexdigest()  # as runs recorded it before
    earlier_keys = ("model_name_or_path", "dataset", "block_size", "packing", "seed")
    arguments = {key: getattr(config, key) for key in earlier_keys}
    (tmp_path / "run" / "run_config.json").write_text(json.dumps({"arguments": arguments,
                                                                  "data": {"token_ids_sha256": old_hash}}))
    with pytest.raises(AssertionError, match="the model was loaded"):
        train_run.train(config)
    assert "does not record the labels, tokenizer of its run; not compared" in capsys.readouterr().out


def test_one_node_launches_on_a_free_port_and_several_agree_on_one():
    from long1k.train.launch import master_port

    assert master_port({"MASTER_PORT": "29611"}) == "29611"
    assert master_port({"NNODES": "2"}) == "29500"
    ports = {master_port({}) for _ in range(3)}
    assert all(int(p) > 0 for p in ports) and "29500" not in ports


def test_the_launcher_reads_the_output_folder_as_the_train_stage_does(tmp_path):
    from conftest import REPO

    from long1k.train.launch import output_dir

    recipe = str(REPO / "train" / "recipes" / "tiny_cpu.yaml")
    assert output_dir(["--config", recipe]) == "outputs/demo/sft"
    assert output_dir(["--config", recipe, "--output_dir", str(tmp_path / "a")]) == str(tmp_path / "a")
    assert output_dir(["--config", recipe, f"--output_dir={tmp_path / 'b'}"]) == str(tmp_path / "b")
    assert output_dir([f"--output-dir={tmp_path / 'c'}"]) == str(tmp_path / "c")


def test_train_help_keeps_the_stages_description(capsys):
    with pytest.raises(SystemExit):
        train_run.main(["--help"])
    assert "`train/sft.py`: full SFT of a causal LM" in capsys.readouterr().out


def test_the_run_config_is_written_after_every_rank_has_judged_the_folder(tmp_path, one_row_dataset, no_model_load,
                                                                          monkeypatch):
    """Written before the ranks met, a slower rank found rank 0's run_config.json and refused the run alone."""
    run_config = tmp_path / "run" / "run_config.json"
    seen_at_the_barrier = []
    monkeypatch.setattr(train_run, "wait_for_every_rank", lambda: seen_at_the_barrier.append(run_config.exists()))
    with pytest.raises(AssertionError, match="the model was loaded"):
        train_run.train(make_config(tmp_path, dataset=one_row_dataset))
    assert seen_at_the_barrier == [False] and run_config.is_file()
