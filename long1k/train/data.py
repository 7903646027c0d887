"""Training rows -> token ids and labels, with the loss on the tokens `--loss_on` names.

Rows are rendered with the tokenizer's own chat template (a row's `messages`; a pre-rendered `text`
only when the row has no messages), tokenized with character offsets, and a token carries loss when
it lies inside a chosen assistant turn: from the first token after the turn's opening through the
text that closes it (`<|im_end|>` in ChatML), so that the model learns to stop. The opening and the
closing are read off the chat template itself, so a model whose template is not ChatML trains too.
Rows longer than the block size are dropped and counted before training, never truncated.
The rows go to TRL's `SFTTrainer` already tokenized, with their labels: TRL pads or packs them and
computes the loss; which tokens carry it is decided here, for any chat template (TRL's own
`assistant_only_loss` needs generation markers in the template and has no `last_turn` or ablation).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from long1k.artifacts import DATASET_STATS, dataset_stats
from long1k.errors import Long1kError
from long1k.jsonl import iter_jsonl

IGNORE_INDEX = -100
LOSS_ON = ("assistant", "last_turn", "all", "assistant_without_end")
"""`assistant_without_end` is an ablation: the assistant turns without their closing marker, so the model never
learns to stop (the learning check shows what it breaks)."""
_SENTINEL = "LONG1KSENTINELTURN"


@dataclass(frozen=True)
class TurnMarkers:
    """What surrounds an assistant turn's content in rendered text."""

    open: str
    close: str


def assistant_markers(tokenizer) -> TurnMarkers:
    """The assistant turn's opening and closing, found by rendering a conversation through the chat template."""
    user = [{"role": "user", "content": "u"}]
    try:
        bare = tokenizer.apply_chat_template(user, tokenize=False)
        full = tokenizer.apply_chat_template(user + [{"role": "assistant", "content": _SENTINEL}], tokenize=False)
    except Exception as err:  # no template, or one that refuses this conversation
        raise Long1kError(f"the tokenizer's chat template cannot render a user/assistant exchange: {err}") from None
    start = full.find(_SENTINEL)
    if start < 0:
        raise Long1kError("the tokenizer's chat template drops the assistant's content; cannot find its turns")
    shared = len(bare) if full.startswith(bare) else 0
    opening = full[shared:start]
    closing = full[start + len(_SENTINEL):].strip() or (tokenizer.eos_token or "")
    if not opening.strip():
        raise Long1kError("the tokenizer's chat template marks no assistant turn; use --loss_on all")
    return TurnMarkers(opening, closing)


def assistant_spans(text: str, markers: TurnMarkers) -> list[tuple[int, int]]:
    """Character spans of assistant content, each ending just after its closing marker."""
    spans = []
    position = text.find(markers.open)
    while position >= 0:
        start = position + len(markers.open)
        end = text.find(markers.close, start) if markers.close else -1
        spans.append((start, len(text) if end < 0 else end + len(markers.close)))
        position = text.find(markers.open, spans[-1][1])
    return spans


def loss_spans(text: str, markers: TurnMarkers, loss_on: str) -> list[tuple[int, int]]:
    if loss_on == "all":
        return [(0, len(text))]
    spans = assistant_spans(text, markers)
    if loss_on == "assistant_without_end":
        return [(start, end - len(markers.close)) if text[start:end].endswith(markers.close) else (start, end)
                for start, end in spans]
    return spans[-1:] if loss_on == "last_turn" else spans


def tokenize_with_labels(tokenizer, text: str, markers: TurnMarkers | None = None,
                         loss_on: str = "assistant") -> tuple[list[int], list[int]]:
    """Token ids and labels (IGNORE_INDEX outside the chosen turns) of one chat-templated text."""
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    spans = loss_spans(text, markers or assistant_markers(tokenizer), loss_on)
    labels = []
    for token, (start, end) in zip(encoding["input_ids"], encoding["offset_mapping"], strict=True):
        inside = any(span_start <= start and end <= span_end for span_start, span_end in spans)
        labels.append(token if inside else IGNORE_INDEX)
    return encoding["input_ids"], labels


@dataclass
class TokenizedData:
    input_ids: list[list[int]]
    labels: list[list[int]]
    source: str
    rows_read: int
    dropped_over_block_size: int
    dropped_without_assistant: int
    manifest_sha256: str | None = None
    lengths: list[int] = field(default_factory=list)

    def digests(self) -> dict[str, str]:
        """What makes two runs train on the same thing: the token ids and the loss mask."""
        return {"token_ids_sha256": _sha256(self.input_ids),
                "labels_sha256": _sha256([[label != IGNORE_INDEX for label in row] for row in self.labels])}


def _sha256(value) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()  # json's default separators, as runs recorded


def tokenizer_sha256(tokenizer) -> str:
    """The tokenizer's vocabulary, merges, special tokens and chat template."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    described = backend.to_str() if backend is not None else json.dumps(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256((described + (tokenizer.chat_template or "")).encode()).hexdigest()


def _data_files(path: Path) -> list[str]:
    if path.is_file():
        return [str(path)]
    folder = path / "data" if (path / "data").is_dir() else path
    files = sorted(str(p) for p in folder.glob("*.json*") if p.suffix in (".json", ".jsonl"))
    files += sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        raise Long1kError(f"{path}: no json / jsonl / parquet training files (expected the --out of "
                          "data/synthesize.py, holding data/*.jsonl)")
    return files


def check_digest(folder: Path, files: list[str]) -> None:
    """A dataset folder's stats.json must describe the shards beside it (same sha256)."""
    stats_path = folder / DATASET_STATS
    if not folder.is_dir() or not stats_path.is_file():
        return
    recorded = dataset_stats(folder).get("data_sha256")
    if recorded is None:
        return
    sha = hashlib.sha256()
    for file in files:
        sha.update(Path(file).read_bytes())
    if sha.hexdigest() != recorded:
        raise Long1kError(f"{stats_path}: does not describe {folder / 'data'} (sha256 of the shards differs from "
                          "its data_sha256): the data was changed or half-written; rebuild the dataset")


def check_jsonl_lines(files: list[str]) -> None:
    for file in files:
        if file.endswith(".jsonl"):
            for _ in iter_jsonl(Path(file)):
                pass


def load_rows(dataset: str, split: str = "train"):
    """A `datasets.Dataset` from a synthesis folder, a file, or a hub id; errors before any model load."""
    import datasets

    path = Path(dataset).expanduser()
    if path.exists():
        files = _data_files(path)
        check_digest(path, files)
        builder = "parquet" if files[0].endswith(".parquet") else "json"
        try:
            rows = datasets.load_dataset(builder, data_files=files, split="train")
        except Exception as err:
            check_jsonl_lines(files)  # datasets names neither file nor line: this raises with both
            raise Long1kError(f"{dataset}: cannot read training data: {str(err).strip().splitlines()[-1]}") from None
    elif dataset.startswith((".", "/", "~")):
        raise Long1kError(f"{dataset}: training data folder not found")
    else:
        try:
            rows = datasets.load_dataset(dataset, split=split)
        except Exception as err:
            raise Long1kError(f"cannot load training data {dataset!r} from the hub: "
                              f"{str(err).strip().splitlines()[-1]}") from None
    if "text" not in rows.column_names and "messages" not in rows.column_names:
        raise Long1kError(f"{dataset}: training data needs a 'text' or 'messages' column; found {rows.column_names}")
    return rows


def manifest_hash(dataset: str) -> str | None:
    manifest = Path(dataset) / "manifest.jsonl"
    return hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else None


def render(tokenizer, row: dict) -> str:
    """The row through the model's own chat template; a pre-rendered `text` only without `messages`."""
    if row.get("messages"):
        return tokenizer.apply_chat_template(row["messages"], tokenize=False)
    return row["text"]


def tokenize_dataset(rows, tokenizer, block_size: int, source: str, loss_on: str = "assistant") -> TokenizedData:
    """Tokenize every row; drop (and count) rows over the block size or without a turn carrying loss."""
    from tqdm import tqdm

    markers = assistant_markers(tokenizer) if loss_on != "all" else TurnMarkers("", "")
    data = TokenizedData([], [], source, len(rows), 0, 0, manifest_hash(source))
    for row in tqdm(rows, desc="tokenize", unit="row", disable=len(rows) < 200):
        ids, labels = tokenize_with_labels(tokenizer, render(tokenizer, row), markers, loss_on)
        if all(label == IGNORE_INDEX for label in labels):
            data.dropped_without_assistant += 1
        elif len(ids) > block_size:
            data.dropped_over_block_size += 1
        else:
            data.input_ids.append(ids)
            data.labels.append(labels)
            data.lengths.append(len(ids))
    if not data.input_ids:
        raise Long1kError(
            f"{source}: no row fits the block size {block_size} ({data.dropped_over_block_size} longer, "
            f"{data.dropped_without_assistant} without an assistant turn); raise --block_size"
        )
    return data
