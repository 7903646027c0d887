"""`python eval/predict.py`: predictions on the prepared benchmarks, append-only and resumable.

One JSONL per (model, benchmark, seed) under OUT/MODEL_NAME/; each row is one sample, written and
flushed as soon as it is generated. A rerun skips the (id, sample) pairs already written, so a killed
run loses at most the samples in flight; a rerun with other settings into the same folder is refused
(long1k/generation/run_settings.py). Data-parallel replicas: one process per replica with
--num_shards N --shard_index i (each writes its own file); calc_metric_lc reads them all.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from long1k.configs import one_of, parse_config, raise_problems
from long1k.environment import library_versions
from long1k.errors import Long1kError
from long1k.faults import kill_point
from long1k.formats import get_format
from long1k.generation.backends import (
    DTYPES,
    BackendName,
    EngineSettings,
    make_backend,
    output_engine_args,
    parse_engine_args,
    resolve_dtype,
)
from long1k.generation.budget import BudgetForcing, force_budget
from long1k.generation.long_context import (
    NATIVE_CONTEXT_FALLBACK,
    check_context,
    load_model_config,
    native_context,
    parse_rope_scaling,
    rope_overrides,
)
from long1k.generation.prompts import AUTO, PromptTemplate, load_template, resolve_template_name
from long1k.generation.run_settings import fingerprint, recorded_settings, refuse_other_settings
from long1k.generation.sampling import SEED_STRIDE, Request, Sampling, sample_seed
from long1k.generation.server import ClientOptions, served_model_card
from long1k.jsonl import iter_jsonl
from long1k.tasks import default_benchmarks, get_task

if TYPE_CHECKING:
    from transformers import PretrainedConfig

ORIGINAL = {"temperature": 0.95, "top_p": 1.0, "n_samples": 1}
PRESETS = {
    # The original Long1K evaluation: one sample at temperature 0.95, top_p 1, seed 42 (also the defaults).
    "original": ORIGINAL,
    # The peers' setting (s1, LIMO, SkyThought): temperature 0.6, top_p 0.95, several samples.
    "peers": {"temperature": 0.6, "top_p": 0.95, "n_samples": 8},
}


@dataclass
class PredictConfig:
    model: str = field(default="outputs/sft/long1k_launch/final", metadata={
        "help": "model folder or hub id (openai backend: the served model name)"})
    model_name: str | None = field(default=None, metadata={
        "help": "name in the results (default: the folder's; a training run's final/ or checkpoint-N/: the run's)"})
    tokenizer: str | None = field(default=None, metadata={
        "help": "tokenizer (default: the model's; openai: the served model's weights folder, from the server)"})
    benchmarks_dir: str = field(default="outputs/benchmarks", metadata={"help": "data/prepare_benchmarks.py output"})
    benchmarks: list[str] = field(default_factory=default_benchmarks, metadata={
        "help": "which benchmarks (default: the paper's four)"})
    out: str = field(default="outputs/predictions", metadata={"help": "output folder"})
    backend: str = field(default="vllm", metadata={"help": "vllm, hf or openai"})
    template: str = field(default=AUTO, metadata={
        "help": "auto (the reasoning format the model was trained on; else deepseek-qwen, the original's), "
                "chat, qwen, deepseek-qwen, s1, think, or a YAML template file"})
    preset: str | None = field(default=None, metadata={
        "help": "original or peers: the temperature, top_p and n_samples that no flag gives"})
    temperature: float | None = field(default=None, metadata={
        "help": "sampling temperature (default: the preset's, else the original's 0.95)"})
    top_p: float | None = field(default=None, metadata={
        "help": "nucleus sampling (default: the preset's, else the original's 1.0)"})
    top_k: int = field(default=0, metadata={"help": "top-k sampling, 0 = off (sent explicitly to every backend)"})
    min_p: float = field(default=0.0, metadata={"help": "min-p sampling, 0 = off"})
    repetition_penalty: float = field(default=1.0, metadata={"help": "1.0 = off (a server would otherwise apply "
                                                                     "the model's generation_config.json)"})
    stop: list[str] = field(default_factory=list, metadata={"help": "extra stop strings"})
    max_tokens: int = field(default=30000, metadata={"help": "generation budget per sample"})
    n_samples: int | None = field(default=None, metadata={
        "help": "samples per problem and seed (default: the preset's, else 1)"})
    seeds: list[int] = field(default_factory=lambda: [42], metadata={
        "help": "one run per seed; sample i of seed s has the seed s * 1000000 + i"})
    limit: int | None = field(default=None, metadata={"help": "first N problems per benchmark (smoke tests)"})
    chunk: int = field(default=256, metadata={"help": "vllm, hf: samples per generation call"})
    thinking_budget: int | None = field(default=None, metadata={
        "help": "budget forcing: at most N thinking tokens, then the thinking is closed and the model answers"})
    extend: int = field(default=0, metadata={
        "help": "budget forcing: suppress the end of thinking K times, appending --extend_word (s1)"})
    extend_word: str = field(default="Wait", metadata={"help": "budget forcing: the word appended on extension"})
    dtype: str = field(default="auto", metadata={
        "help": "vllm, hf: float32, bfloat16 or float16; auto = the dtype the model was saved in (vLLM's own auto "
                "would run a float32 model in bfloat16)"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "vllm: GPUs per replica"})
    gpu_memory_utilization: float = field(default=0.9, metadata={
        "help": "vllm: the share of memory the engine reserves (of each GPU; on vLLM's CPU build, of the RAM)"})
    engine_args: str | None = field(default=None, metadata={
        "help": 'vllm: further vllm.LLM arguments as JSON, e.g. {"enforce_eager": true} (recorded in the manifest)'})
    max_model_len: int | None = field(default=None, metadata={"help": "context length (default: the model's)"})
    rope_scaling: str | None = field(default=None, metadata={
        "help": 'JSON, e.g. {"rope_type":"yarn","factor":4.0,"original_max_position_embeddings":32768}: '
                "required to go beyond the native context"})
    base_urls: list[str] = field(default_factory=list, metadata={"help": "openai: one or more .../v1 URLs"})
    api_key: str | None = field(default=None, metadata={"help": "openai: bearer token (default: $OPENAI_API_KEY)"})
    request_timeout: float = field(default=3600.0, metadata={"help": "openai: seconds to wait for one sample"})
    max_retries: int = field(default=5, metadata={"help": "openai: retries of one request (5xx, dropped, malformed)"})
    retry_backoff: float = field(default=2.0, metadata={"help": "openai: first wait before a retry, doubled each time"})
    server_concurrency: int = field(default=64, metadata={"help": "openai: requests in flight per server"})
    num_shards: int = field(default=1, metadata={"help": "data-parallel replicas in all"})
    shard_index: int = field(default=0, metadata={"help": "this replica's index"})

    def apply_preset(self) -> None:
        """Fill the sampling options that no flag (or recipe) gave: from the preset, else the original's. An
        explicit value always wins."""
        if self.preset is not None and self.preset not in PRESETS:
            raise Long1kError(f"unknown --preset {self.preset!r}; choose one of {sorted(PRESETS)}")
        for key, value in PRESETS[self.preset or "original"].items():
            if getattr(self, key) is None:
                setattr(self, key, value)

    def validate(self) -> None:
        """Every counting option checked before any work, as one message."""
        problems = []
        problems += one_of("backend", self.backend, [b.value for b in BackendName])
        problems += one_of("dtype", self.dtype, DTYPES)
        try:
            parse_engine_args(self.engine_args)
        except Long1kError as err:
            problems.append(str(err))
        if self.engine_args and self.backend != BackendName.VLLM.value:
            problems.append("--engine_args applies to the vllm backend only")
        if self.backend == BackendName.VLLM.value and self.temperature > 2:
            problems.append(f"--temperature {self.temperature:g}: vLLM accepts temperatures in [0, 2]")
        if self.backend == BackendName.OPENAI.value and self.dtype != "auto":
            problems.append("--dtype applies to engines long1k starts; a server runs the dtype it was started with "
                            "(vllm serve MODEL --dtype ...)")
        if self.n_samples < 1 or self.n_samples >= SEED_STRIDE:
            problems.append(f"--n_samples must lie in [1, {SEED_STRIDE})")
        if self.chunk < 1:
            problems.append("--chunk must be >= 1")
        if self.limit is not None and self.limit < 1:
            problems.append("--limit must be >= 1 (leave it out for every problem)")
        if not self.seeds or any(s < 0 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            problems.append("--seeds must be one or more distinct integers >= 0")
        if self.num_shards < 1 or not 0 <= self.shard_index < self.num_shards:
            problems.append("--shard_index must lie in [0, --num_shards)")
        if self.tensor_parallel_size < 1 or not 0 < self.gpu_memory_utilization <= 1:
            problems.append("--tensor_parallel_size must be >= 1 and --gpu_memory_utilization in (0, 1]")
        if self.extend and self.thinking_budget is None:
            problems.append("--extend needs --thinking_budget (the cap the extensions stay under)")
        if self.thinking_budget is not None and not 1 <= self.thinking_budget < self.max_tokens:
            problems.append("--thinking_budget must lie in [1, --max_tokens): the answer needs tokens too")
        if not self.benchmarks:
            problems.append("--benchmarks names no benchmark")
        raise_problems(problems)

    def sampling(self) -> Sampling:
        return Sampling(self.temperature, self.top_p, self.top_k, self.min_p, self.repetition_penalty,
                        self.max_tokens, tuple(self.stop))


def budget_forcing(config: PredictConfig, template: PromptTemplate) -> BudgetForcing | None:
    if config.thinking_budget is None:
        return None
    if template.reasoning_format is None:
        raise Long1kError(f"--thinking_budget needs a template with a reasoning section (deepseek-qwen, s1, think, "
                          f"or a YAML template naming its reasoning_format); {template.name!r} has none")
    return BudgetForcing.for_format(get_format(template.reasoning_format), config.thinking_budget, config.extend,
                                    config.extend_word)


def load_benchmark(config: PredictConfig, name: str) -> list[dict]:
    """The prepared rows of one benchmark (this replica's share), each with its answer kind."""
    path = Path(config.benchmarks_dir) / f"{name}.jsonl"
    task = get_task(name)
    if not path.is_file():
        raise Long1kError(f"{path}: not found; run `python -m long1k prepare-benchmarks --out {config.benchmarks_dir}`")
    from long1k.tasks.prepare import check_prepared_file

    check_prepared_file(path.parent, name)
    items = [row for _, row in iter_jsonl(path)]
    for item in items:  # files prepared before rows carried their kind
        item.setdefault("answer_kind", task.answer_kind)
    items = items[: config.limit] if config.limit else items
    return [item for index, item in enumerate(items) if index % config.num_shards == config.shard_index]


def default_model_name(model: str) -> str:
    """A model's name in the results: its folder's, or its training run's for a run's `final` or `checkpoint-N`
    (outputs/sft/long1k_launch/final -> long1k_launch, .../checkpoint-62 -> long1k_launch-checkpoint-62)."""
    path = Path(model.rstrip("/"))
    if path.name == "final" and path.parent.name:
        return path.parent.name
    if path.name.startswith("checkpoint-") and path.parent.name:
        return f"{path.parent.name}-{path.name}"
    return path.name


def output_path(config: PredictConfig, model_name: str, benchmark: str, seed: int) -> Path:
    shard = f".shard{config.shard_index}of{config.num_shards}" if config.num_shards > 1 else ""
    return Path(config.out) / model_name / f"{benchmark}_seed{seed}{shard}.jsonl"


def written_rows(path: Path) -> tuple[set[tuple[str, int]], set[str | None]]:
    """(id, sample) pairs already written and the settings fingerprints they carry; a torn last line
    (killed mid-write) is ignored."""
    keys, prints = set(), set()
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            keys.add((str(row["id"]), int(row["sample"])))
            prints.add(row.get("settings"))
    return keys, prints


def drop_torn_tail(path: Path) -> None:
    """Cut a last line left half-written by a killed run, so that appended rows start on a new line."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def served_tokenizer(config: PredictConfig) -> str:
    """The tokenizer of a served model: --tokenizer, else the model name if it loads, else the weights
    folder the server reports (vLLM's /models `root`)."""
    from long1k.tokenizer import load_tokenizer

    if config.tokenizer:
        return config.tokenizer
    try:
        load_tokenizer(config.model)
        return config.model
    except Long1kError:
        pass
    card = served_model_card(config.base_urls, config.model, api_key_of(config))
    root = (card or {}).get("root")
    if root and root != config.model:
        try:
            load_tokenizer(root)
            return root
        except Long1kError:
            pass
    raise Long1kError(f"--model {config.model!r} is a served model name, and neither it nor the server's weights "
                      f"folder ({root or 'not reported'}) gives a tokenizer here: pass --tokenizer (the model's folder "
                      "or hub id), which renders the prompts with the model's chat template")


def api_key_of(config: PredictConfig) -> str:
    return config.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"


def engine_context(config: PredictConfig, model_config: PretrainedConfig | None,
                   rope: dict | None) -> tuple[int, dict | None]:
    """The model's native context and the config override that extends it (engines long1k starts, from the
    model's config, None when unreadable); for a server, the context it was started with."""
    if config.backend == BackendName.OPENAI.value:
        card = served_model_card(config.base_urls, config.model, api_key_of(config)) or {}
        if rope:
            raise Long1kError("--rope_scaling applies to engines long1k starts; a server's context is set when it "
                              "starts: vllm serve MODEL --max-model-len N --hf-overrides JSON, with the JSON that "
                              "`python -m long1k predict --backend hf --rope_scaling ...` writes to its manifest")
        return int(card.get("max_model_len") or NATIVE_CONTEXT_FALLBACK), None
    if model_config is None:
        if rope:
            raise Long1kError(f"cannot read the config of {config.model!r}, which --rope_scaling needs (its rope_theta "
                              "and positions)")
        return NATIVE_CONTEXT_FALLBACK, None
    return native_context(model_config), rope_overrides(model_config, rope) if rope else None


def predict(config: PredictConfig) -> list[Path]:
    from long1k.tokenizer import load_tokenizer

    config.apply_preset()
    config.validate()
    sampling = config.sampling()
    benchmarks = {name: load_benchmark(config, name) for name in config.benchmarks}
    serving = config.backend == BackendName.OPENAI.value
    tokenizer_name = served_tokenizer(config) if serving else config.tokenizer or config.model
    # A served model's name is no folder: its training record lies with its weights (the tokenizer found).
    template = load_template(resolve_template_name(config.template, tokenizer_name if serving else config.model))
    budget = budget_forcing(config, template)
    print(f"prompt template: {template.name}")
    tokenizer = load_tokenizer(tokenizer_name)
    instructions = {name: get_task(name).instruction for name in benchmarks}
    prompts = {name: [template.render(tokenizer, item["problem"], item["answer_kind"], instructions[name])
                      for item in items] for name, items in benchmarks.items()}
    prompt_tokens = {name: [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in ps]
                     for name, ps in prompts.items()}
    for name, items in benchmarks.items():
        for item, tokens in zip(items, prompt_tokens[name], strict=True):
            item["prompt_tokens"] = tokens
    longest = max((n for counts in prompt_tokens.values() for n in counts), default=0)
    rope = parse_rope_scaling(config.rope_scaling)
    model_config = None if serving else load_model_config(config.model)
    native, overrides = engine_context(config, model_config, rope)
    dtype = None if serving else resolve_dtype(config.dtype, model_config)  # a server's: its own
    context = check_context(longest, config.max_tokens, native, config.max_model_len, rope)
    model_name = config.model_name or default_model_name(config.model)
    settings = {"model": config.model, "tokenizer": tokenizer_name, "template": asdict(template),
                "sampling": sampling.as_dict(), "budget_forcing": budget.as_dict() if budget else None,
                "config_overrides": overrides, "dtype": dtype}
    engine_args = parse_engine_args(config.engine_args)
    if output_args := output_engine_args(engine_args):  # only then: without any, one fingerprint on every backend
        settings["engine_args"] = output_args
    folder = Path(config.out) / model_name
    if any(p.stat().st_size for p in folder.glob("*.jsonl")):
        refuse_other_settings(folder, settings, set(recorded_settings(folder)))
    client = ClientOptions(config.request_timeout, config.max_retries, config.retry_backoff, config.server_concurrency)
    engine = EngineSettings(model=config.model, tokenizer=tokenizer_name,
                            tensor_parallel_size=config.tensor_parallel_size,
                            gpu_memory_utilization=config.gpu_memory_utilization, max_model_len=context,
                            config_overrides=overrides, dtype=dtype or "auto",
                            engine_args=engine_args, base_urls=tuple(config.base_urls),
                            api_key=api_key_of(config), client=client)
    manifest = {"model": config.model, "model_name": model_name, "fingerprint": fingerprint(settings),
                "settings": settings, "config": {**asdict(config), "api_key": None}, "context": context,
                "client": asdict(client) if serving else None, "versions": library_versions()}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"run_manifest.shard{config.shard_index}.json").write_text(json.dumps(manifest, indent=2) + "\n")

    run = Run(config, model_name, settings, budget, engine, template.assistant_prefix)
    written = []
    for seed in config.seeds:
        for name, items in benchmarks.items():
            path = output_path(config, model_name, name, seed)
            written.append(path)
            drop_torn_tail(path)
            done, prints = written_rows(path)
            refuse_other_settings(folder, settings, prints, where=path)
            jobs = [(item, prompt, sample) for item, prompt in zip(items, prompts[name], strict=True)
                    for sample in range(config.n_samples) if (str(item["id"]), sample) not in done]
            print(f"{name} seed {seed}: {len(items) * config.n_samples - len(jobs)} of "
                  f"{len(items) * config.n_samples} samples already done -> {path}")
            if jobs:
                run.generate_into(path, jobs, seed, name, sampling)
    return written


class Run:
    """Generation of the missing samples, row by row, with the settings of one configuration."""

    def __init__(self, config: PredictConfig, model_name: str, settings: dict, budget: BudgetForcing | None,
                 engine: EngineSettings, prefill: str = ""):
        self.config, self.model_name, self.budget, self.engine_settings = config, model_name, budget, engine
        self.prefill = prefill  # the template's start of the response: graded with it
        self.fingerprint = fingerprint(settings)
        self.backend = None

    def engine(self, seed: int):
        """The backend, started on first use (not at all when every sample is already written)."""
        if self.backend is None:
            self.backend = make_backend(self.config.backend, self.engine_settings, seed)
        return self.backend

    def completions(self, backend, requests: list[Request]):
        """(index, generation, extra row fields) as samples finish."""
        if self.budget is None:
            for index, generation in backend.generate(requests):
                yield index, generation, {}
        else:
            for index, forced in force_budget(backend, requests, self.budget):
                yield index, forced.generation, forced.fields()

    def generate_into(self, path: Path, jobs: list[tuple[dict, str, int]], seed: int, benchmark: str,
                      sampling: Sampling) -> None:
        from tqdm import tqdm

        backend = self.engine(seed)
        size = len(jobs) if getattr(backend, "streams", False) else self.config.chunk
        with path.open("a", encoding="utf-8") as handle, tqdm(total=len(jobs), desc=f"{benchmark} seed {seed}",
                                                              unit="sample") as bar:
            for start in range(0, len(jobs), size):
                chunk = jobs[start : start + size]
                requests = [Request(prompt, sample_seed(seed, sample), sampling) for _, prompt, sample in chunk]
                for index, generation, extra in self.completions(backend, requests):
                    item, prompt, sample = chunk[index]
                    handle.write(json.dumps(self.row(item, prompt, sample, seed, benchmark, generation, extra),
                                            ensure_ascii=False) + "\n")
                    handle.flush()
                    kill_point("prediction-row-written")
                    bar.update(1)

    def row(self, item: dict, prompt: str, sample: int, seed: int, benchmark: str, generation, extra: dict) -> dict:
        return {
            "model": self.model_name, "benchmark": benchmark, "id": item["id"], "sample": sample, "seed": seed,
            "sample_seed": sample_seed(seed, sample), "settings": self.fingerprint,
            "problem": item["problem"], "prompt": prompt, "prefill": self.prefill, "response": generation.text,
            "answer": item["answer"], "answer_kind": item["answer_kind"],
            **{key: item[key] for key in ("choices", "parts") if item.get(key)},
            "prompt_tokens": item["prompt_tokens"], "finish_reason": generation.finish_reason,
            "response_tokens": generation.tokens, **extra,
        }


def main(argv: list[str] | None = None) -> None:
    predict(parse_config(PredictConfig, argv, description=__doc__))
