"""The malformed-input corpus (tests/corpus/bad_inputs): each input is refused or skipped with a
Chinese message naming it, never a traceback, and the good data around it keeps working."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.cli import main
from trainer.config import Settings
from trainer.exam.paper import SHIPPED_PAPERS, load_papers
from trainer.phrasebook.loader import MAX_FILE_BYTES, load_library

CORPUS = Path(__file__).parent / "corpus" / "bad_inputs"
BAD_PHRASEBOOKS = sorted((CORPUS / "phrasebooks").glob("*.yaml"))
BAD_PAPERS = sorted((CORPUS / "exam_papers").glob("*.yaml"))
SHIPPED = Settings().all_phrasebook_dirs


@pytest.fixture(scope="module")
def shipped_ids() -> set[str]:
    return set(load_library(SHIPPED, {}).scenarios)


def test_the_corpus_is_there() -> None:
    assert len(BAD_PHRASEBOOKS) >= 15 and len(BAD_PAPERS) >= 3


@pytest.mark.parametrize("path", BAD_PHRASEBOOKS, ids=lambda p: p.name)
def test_bad_phrasebook_is_skipped_and_named_and_the_shipped_scenarios_stay(path: Path, shipped_ids: set[str]) -> None:
    library = load_library([*SHIPPED, path], {})
    assert shipped_ids <= set(library.scenarios)
    named = [p for p in library.problems if p.path == path]
    assert named, library.problems
    assert all(p.message and not p.message.isascii() for p in named)  # a Chinese message, not a bare exception


@pytest.mark.parametrize("name", ["deep_flow_sequence.yaml", "deep_flow_mapping.yaml", "deep_flow_unclosed.yaml"])
def test_deep_nesting_says_so_with_its_line(name: str) -> None:
    path = CORPUS / "phrasebooks" / name
    library = load_library([path], {})
    (problem,) = library.problems
    assert "嵌套层数" in problem.message and problem.line == 1


def test_alias_bomb_is_refused_before_it_expands() -> None:
    path = CORPUS / "phrasebooks" / "billion_laughs.yaml"
    (problem,) = load_library([path], {}).problems
    assert "展开后超过" in problem.message


def test_phrasebook_over_the_size_cap_is_refused_unread(tmp_path: Path, shipped_ids: set[str]) -> None:
    big = tmp_path / "huge.yaml"
    big.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    library = load_library([*SHIPPED, big], {})
    assert shipped_ids <= set(library.scenarios)
    (problem,) = [p for p in library.problems if p.path == big]
    assert "文件过大" in problem.message


def test_size_cap_leaves_room_for_the_largest_shipped_phrasebook() -> None:
    largest = max(f.stat().st_size for d in SHIPPED for f in Path(d).glob("*.yaml"))
    assert largest * 5 < MAX_FILE_BYTES < 2 * 1024 * 1024


def test_the_issue_reproduction_check_and_score(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`phrasebook check x.yaml` names the problem; with the folder configured, `score` still works."""
    folder = tmp_path / "pb"
    folder.mkdir()
    (folder / "x.yaml").write_text("scenarios: " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("TRAINER_CONFIG")
    monkeypatch.setenv("TRAINER_PHRASEBOOK_DIRS", str(folder))
    assert main(["phrasebook", "check", str(folder / "x.yaml")]) == 1
    out = capsys.readouterr().out
    assert "x.yaml:1" in out and "嵌套层数" in out
    assert main(["score", "--text", "您好", "--scenario", "payment", "--json"]) == 0
    captured = capsys.readouterr()
    assert '"scenario": "payment"' in captured.out
    assert "词库文件有错误" in captured.err


@pytest.mark.parametrize("path", BAD_PAPERS, ids=lambda p: p.name)
def test_bad_exam_paper_is_skipped_and_named(path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / path.name).write_bytes(path.read_bytes())
    papers = load_papers([SHIPPED_PAPERS, folder])
    assert papers.papers  # the shipped papers still load
    named = [p for p in papers.problems if p.path is not None and p.path.name == path.name]
    assert named and all(not p.message.isascii() for p in named)


BAD_OVERLAY = CORPUS / "overlay"


def test_bad_overlay_files_are_skipped_and_named(tmp_path: Path, shipped_ids: set[str]) -> None:
    """The centre's overlay (approved phrasings, JSON): a nested or malformed file is a problem, not a crash."""
    from trainer.phrasebook.loader import apply_overlay

    files = sorted(BAD_OVERLAY.glob("*.json"))
    assert len(files) >= 8
    library = apply_overlay(load_library(SHIPPED, {}), BAD_OVERLAY)
    assert shipped_ids <= set(library.scenarios)
    named = {p.path.name for p in library.problems}
    assert named == {f.name for f in files}


def test_exam_paper_over_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    from trainer.exam.paper import MAX_PAPER_BYTES

    (tmp_path / "huge.yaml").write_bytes(b"# " + b"x" * MAX_PAPER_BYTES + b"\n")
    papers = load_papers([SHIPPED_PAPERS, tmp_path])
    (problem,) = papers.problems
    assert papers.papers and "文件过大" in problem.message
