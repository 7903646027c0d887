"""`python eval/predict.py`: predictions on the prepared benchmarks, append-only and resumable.

One JSONL per (model, benchmark, seed) under OUT/MODEL_NAME/; each row is one sample. A rerun
skips the (id, sample) pairs already written, and rows are appended and flushed per chunk, so a
killed run loses at most the chunk in flight. Data-parallel replicas: run one process per replica
with --num_shards N --shard_index i (each writes its own file); calc_metric_lc reads them all.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from long1k.configs import parse_config
from long1k.environment import library_versions
from long1k.errors import Long1kError
from long1k.generation.backends import EngineSettings, Sampling, make_backend
from long1k.generation.prompts import AUTO, load_template, resolve_template_name
from long1k.jsonl import iter_jsonl
from long1k.tasks import default_benchmarks, get_task

PRESETS = {
    # The original Long1K evaluation: one sample at temperature 0.95, top_p 1, seed 42.
    "original": {"temperature": 0.95, "top_p": 1.0, "n_samples": 1},
    # The peers' setting (s1, LIMO, SkyThought): temperature 0.6, top_p 0.95, several samples.
    "peers": {"temperature": 0.6, "top_p": 0.95, "n_samples": 8},
}
NATIVE_CONTEXT_FALLBACK = 32768


@dataclass
class PredictConfig:
    model: str = field(default="outputs/sft/long1k_launch/final", metadata={"help": "model folder or hub id"})
    model_name: str | None = field(default=None, metadata={"help": "name in the results (default: folder name)"})
    tokenizer: str | None = field(default=None, metadata={"help": "tokenizer (default: the model's)"})
    benchmarks_dir: str = field(default="outputs/benchmarks", metadata={"help": "data/prepare_benchmarks.py output"})
    benchmarks: list[str] = field(default_factory=default_benchmarks, metadata={
        "help": "which benchmarks (default: the paper's four)"})
    out: str = field(default="outputs/predictions", metadata={"help": "output folder"})
    backend: str = field(default="vllm", metadata={"help": "vllm, hf or openai"})
    template: str = field(default=AUTO, metadata={
        "help": "auto (the reasoning format the model was trained on; else deepseek-qwen, the original's), "
                "chat, qwen, deepseek-qwen, s1, think, or a YAML template file"})
    preset: str | None = field(default=None, metadata={"help": "original or peers: sets temperature/top_p/n"})
    temperature: float = field(default=0.95, metadata={"help": "sampling temperature (original: 0.95)"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling (original: 1.0)"})
    max_tokens: int = field(default=30000, metadata={"help": "generation budget per sample"})
    n_samples: int = field(default=1, metadata={"help": "samples per problem and seed"})
    seeds: list[int] = field(default_factory=lambda: [42], metadata={"help": "one run per seed"})
    limit: int | None = field(default=None, metadata={"help": "first N problems per benchmark (smoke tests)"})
    chunk: int = field(default=64, metadata={"help": "problems per generation call (rows are flushed after each)"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "vllm: GPUs per replica"})
    gpu_memory_utilization: float = field(default=0.9, metadata={"help": "vllm: share of GPU memory"})
    max_model_len: int | None = field(default=None, metadata={"help": "context length (default: the model's)"})
    rope_scaling: str | None = field(default=None, metadata={
        "help": 'JSON, e.g. {"rope_type":"yarn","factor":4.0,"original_max_position_embeddings":32768}: '
                "required to go beyond the native context"})
    base_urls: list[str] = field(default_factory=list, metadata={"help": "openai: one or more .../v1 URLs"})
    num_shards: int = field(default=1, metadata={"help": "data-parallel replicas in all"})
    shard_index: int = field(default=0, metadata={"help": "this replica's index"})

    def apply_preset(self) -> None:
        if self.preset is None:
            return
        if self.preset not in PRESETS:
            raise Long1kError(f"unknown --preset {self.preset!r}; choose one of {sorted(PRESETS)}")
        for key, value in PRESETS[self.preset].items():
            setattr(self, key, value)


def native_context(model: str) -> int:
    from transformers import AutoConfig

    try:
        return int(AutoConfig.from_pretrained(model).max_position_embeddings)
    except (OSError, ValueError, AttributeError):
        return NATIVE_CONTEXT_FALLBACK


def check_context(config: PredictConfig, longest_prompt: int, native: int) -> int:
    """The context length to run with; beyond the native window only with explicit rope scaling."""
    needed = longest_prompt + config.max_tokens
    length = config.max_model_len or native
    if length > native and not config.rope_scaling:
        raise Long1kError(
            f"--max_model_len {length} exceeds the model's native context {native}; the original evaluation's "
            f"40960 on a 32768 model ran past the trained positions (risking NaNs and degraded output). Name "
            "the extension explicitly with --rope_scaling, or lower --max_tokens")
    if needed > length:
        raise Long1kError(f"the longest prompt ({longest_prompt} tokens) + --max_tokens {config.max_tokens} = "
                          f"{needed} exceeds the context {length}; lower --max_tokens or pass --rope_scaling")
    return length


def load_benchmark(config: PredictConfig, name: str) -> list[dict]:
    """The prepared rows of one benchmark (this replica's share), each with its answer kind."""
    path = Path(config.benchmarks_dir) / f"{name}.jsonl"
    task = get_task(name)
    if not path.is_file():
        raise Long1kError(f"{path}: not found; run `python -m long1k prepare-benchmarks --out {config.benchmarks_dir}`")
    items = [row for _, row in iter_jsonl(path)]
    for item in items:  # files prepared before rows carried their kind
        item.setdefault("answer_kind", task.answer_kind)
    items = items[: config.limit] if config.limit else items
    return [item for index, item in enumerate(items) if index % config.num_shards == config.shard_index]


def output_path(config: PredictConfig, model_name: str, benchmark: str, seed: int) -> Path:
    shard = f".shard{config.shard_index}of{config.num_shards}" if config.num_shards > 1 else ""
    return Path(config.out) / model_name / f"{benchmark}_seed{seed}{shard}.jsonl"


def done_keys(path: Path) -> set[tuple[str, int]]:
    """(id, sample) pairs already written; a torn last line (killed mid-write) is ignored."""
    keys = set()
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            keys.add((str(row["id"]), int(row["sample"])))
    return keys


def drop_torn_tail(path: Path) -> None:
    """Cut a last line left half-written by a killed run, so that appended rows start on a new line."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def predict(config: PredictConfig) -> list[Path]:
    from long1k.tokenizer import load_tokenizer

    config.apply_preset()
    if config.num_shards < 1 or not 0 <= config.shard_index < config.num_shards:
        raise Long1kError("--shard_index must lie in [0, --num_shards)")
    template = load_template(resolve_template_name(config.template, config.model))
    print(f"prompt template: {template.name}")
    benchmarks = {name: load_benchmark(config, name) for name in config.benchmarks}
    tokenizer = load_tokenizer(config.tokenizer or config.model)
    instructions = {name: get_task(name).instruction for name in benchmarks}
    prompts = {name: [template.render(tokenizer, item["problem"], item["answer_kind"], instructions[name])
                      for item in items] for name, items in benchmarks.items()}
    longest = max((len(tokenizer(p, add_special_tokens=False)["input_ids"]) for ps in prompts.values() for p in ps),
                  default=0)
    context = check_context(config, longest, native_context(config.model))
    model_name = config.model_name or Path(config.model.rstrip("/")).name
    settings = EngineSettings(model=config.model, tokenizer=config.tokenizer,
                              tensor_parallel_size=config.tensor_parallel_size,
                              gpu_memory_utilization=config.gpu_memory_utilization, max_model_len=context,
                              rope_scaling=json.loads(config.rope_scaling) if config.rope_scaling else None,
                              base_urls=tuple(config.base_urls))
    manifest = {"model": config.model, "model_name": model_name, "template": asdict(template),
                "config": asdict(config), "context": context, "versions": library_versions()}
    folder = Path(config.out) / model_name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"run_manifest.shard{config.shard_index}.json").write_text(json.dumps(manifest, indent=2) + "\n")

    written = []
    backend = None
    for seed in config.seeds:
        for name, items in benchmarks.items():
            path = output_path(config, model_name, name, seed)
            drop_torn_tail(path)
            done = done_keys(path)
            todo = [(item, prompt) for item, prompt in zip(items, prompts[name], strict=True)
                    if any((str(item["id"]), s) not in done for s in range(config.n_samples))]
            print(f"{name} seed {seed}: {len(items) - len(todo)} of {len(items)} problems already done -> {path}")
            if todo and backend is None:
                backend = make_backend(config.backend, settings, seed)
            generate_into(path, todo, done, backend, config, seed, name)
            written.append(path)
    return written


def generate_into(path: Path, todo: list[tuple[dict, str]], done: set[tuple[str, int]], backend,
                  config: PredictConfig, seed: int, benchmark: str) -> None:
    from tqdm import tqdm

    sampling = Sampling(config.temperature, config.top_p, config.max_tokens, config.n_samples, seed)
    with path.open("a", encoding="utf-8") as handle, tqdm(total=len(todo), desc=f"{benchmark} seed {seed}",
                                                          unit="problem") as bar:
        for start in range(0, len(todo), config.chunk):
            chunk = todo[start : start + config.chunk]
            started = time.perf_counter()
            generations = backend.generate([prompt for _, prompt in chunk], sampling)
            seconds = time.perf_counter() - started
            for (item, prompt), samples in zip(chunk, generations, strict=True):
                for sample, generation in enumerate(samples):
                    if (str(item["id"]), sample) in done:
                        continue
                    handle.write(json.dumps({
                        "model": config.model_name or Path(config.model.rstrip("/")).name,
                        "benchmark": benchmark, "id": item["id"], "sample": sample, "seed": seed,
                        "problem": item["problem"], "prompt": prompt, "response": generation.text,
                        "answer": item["answer"], "answer_kind": item["answer_kind"],
                        **({"choices": item["choices"]} if item.get("choices") else {}),
                        "finish_reason": generation.finish_reason, "response_tokens": generation.tokens,
                        "seconds": round(seconds / len(chunk), 3),
                    }, ensure_ascii=False) + "\n")
            handle.flush()
            bar.update(len(chunk))


def main(argv: list[str] | None = None) -> None:
    predict(parse_config(PredictConfig, argv, description=__doc__))
