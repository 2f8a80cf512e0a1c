"""Labelled performances for evaluation (format: ../shared/audio/README.md).

One folder per performance with `turn01.wav`…, `full.wav` and `labels.json`:
{"id", "scenario", "amounts": {"bill", "received", "change"}?, "expect": {"passed"?,
"amounts_consistent"?, "forbidden_any"?}, "turns": [{"file", "text", "steps": [...],
"forbidden": [...]}]}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.errors import TrainerError


class DatasetError(TrainerError):
    """An evaluation folder or its labels.json is unusable."""


@dataclass(frozen=True)
class LabelledTurn:
    file: str
    text: str
    steps: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    customer: str = ""  # the customer's line this turn answers ("" when the labels have none)


@dataclass(frozen=True)
class Performance:
    id: str
    scenario: str
    folder: Path
    turns: tuple[LabelledTurn, ...]
    amounts: dict[str, float] | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    snr_db: float | None = None

    @property
    def full_path(self) -> Path:
        return self.folder / "full.wav"

    def turn_paths(self) -> list[Path]:
        return [self.folder / t.file for t in self.turns]


def _load_one(labels_path: Path) -> Performance:
    try:
        data = json.loads(labels_path.read_text(encoding="utf-8"))
        turns = tuple(
            LabelledTurn(
                file=str(t["file"]),
                text=str(t.get("text", "")),
                steps=tuple(t.get("steps", ())),
                forbidden=tuple(t.get("forbidden", ())),
                customer=str(t.get("customer", "")),
            )
            for t in data["turns"]
        )
        return Performance(
            id=str(data.get("id", labels_path.parent.name)),
            scenario=str(data["scenario"]),
            folder=labels_path.parent,
            turns=turns,
            amounts={k: float(v) for k, v in data["amounts"].items()} if data.get("amounts") else None,
            expect=dict(data.get("expect", {})),
            snr_db=float(data["snr_db"]) if data.get("snr_db") is not None else None,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DatasetError(
            f"评测标注文件 {labels_path} 无法使用：{exc}。格式见 ../shared/audio/README.md。",
            f"bad labels file {labels_path}: {exc!r}",
        ) from exc


def load_dataset(directory: Path) -> list[Performance]:
    """Every performance folder (holding labels.json) under `directory`, by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"找不到评测文件夹 {directory}。", f"evaluation directory {directory} does not exist")
    labels = sorted(directory.glob("*/labels.json"))
    if (directory / "labels.json").is_file():
        labels.insert(0, directory / "labels.json")
    if not labels:
        raise DatasetError(
            f"{directory} 里没有带 labels.json 的表演文件夹。格式见 ../shared/audio/README.md。",
            f"no */labels.json under {directory}",
        )
    return [_load_one(path) for path in labels]
