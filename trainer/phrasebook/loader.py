"""Load the phrase library from phrasebook folders (YAML), reporting bad files instead of failing.

Folders are read in the given order (the shipped `phrasebooks/` first, then a training
centre's own folders from config); inside a folder, `*.yaml`/`*.yml` files in name order.
A file with any problem is skipped as a whole and listed in `Library.problems`; the
rest loads. Across files:
- a scenario id or forbidden-entry id already loaded from an earlier file is a problem of
  the later file (a later folder may ADD scenarios, not silently replace shipped ones);
- a shared forbidden entry's `scenarios:` must name loaded scenarios (checked last);
- `lexicon:` values of later files override earlier ones, field by field.

`library_from_settings` then merges the centre's overlay (`trainer.phrasebook.overlay`):
every approved phrasing becomes an extra variant of its step, the version changes with the
merged set, and malformed overlay files are listed in `Library.problems` and skipped.
"""

from __future__ import annotations

import dataclasses
import itertools
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from trainer.config import Settings
from trainer.phrasebook.model import CUE_SEPARATOR, Lexicon, Library, PhrasebookProblem, Scenario
from trainer.phrasebook.overlay import Overlay, merge_approved
from trainer.phrasebook.parse import ParsedFile, parse_file
from trainer.phrasebook.placeholders import DEFAULT_PLACEHOLDERS

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 1024 * 1024  # 12x the largest shipped file; 1 MB of YAML takes seconds to parse


def load_library(dirs: Sequence[Path], placeholders: Mapping[str, str]) -> Library:
    """Load every phrasebook file under `dirs` (folders or single files), in order."""
    parsed, problems = _parse_all(dirs, placeholders)
    accepted, cross_problems = _cross_check(parsed)
    problems += cross_problems
    return _build(accepted, problems)


def library_from_settings(settings: Settings) -> Library:
    """The shipped phrasebooks plus the configured extra folders, with the configured placeholders,
    plus the phrasings approved in the centre's overlay (`settings.overlay_dir`)."""
    from trainer.storage.factory import overlay_for  # the storage layer sits above the phrasebook

    overlay = overlay_for(settings)
    return merge_approved(load_library(settings.all_phrasebook_dirs, settings.placeholders), overlay.read(), overlay.root)


def apply_overlay(library: Library, overlay_dir: Path | None) -> Library:
    """`library` with the approved phrasings of the overlay folder merged in (None: unchanged)."""
    if overlay_dir is None:
        return library
    overlay = Overlay(overlay_dir)
    return merge_approved(library, overlay.read(), overlay.root)


def library_cache_key(settings: Settings) -> tuple:
    """Changes whenever `library_from_settings(settings)` may load something else: the folders,
    the placeholders, and the name, time and size of every phrasebook and overlay file."""
    files = phrasebook_files(list(settings.all_phrasebook_dirs))
    stamp = []
    for file in files:
        try:
            info = file.stat()
        except OSError:
            continue
        stamp.append((str(file), info.st_mtime_ns, info.st_size))
    from trainer.storage.factory import overlay_for

    overlay = overlay_for(settings).stamp()
    return (
        tuple(str(d) for d in settings.all_phrasebook_dirs),
        tuple(sorted(settings.placeholders.items())),
        tuple(stamp),
        str(settings.overlay_dir),
        overlay,
    )


def check_paths(paths: Sequence[Path], placeholders: Mapping[str, str], context: Sequence[Path] = ()) -> list[PhrasebookProblem]:
    """Validate the files under `paths`; return their problems (empty list: all fine).

    `context` folders (e.g. the shipped phrasebooks) are loaded first so that duplicates
    of, and references to, their scenarios are judged; their own problems are not reported
    unless they are also under `paths`.
    """
    missing: list[PhrasebookProblem] = []
    checked = {f.resolve() for f in _files(paths, missing)}
    library = load_library([*context, *paths], placeholders)
    reported = [p for p in library.problems if p.path.resolve() in checked]
    return _sorted(missing + reported)


def phrasebook_files(paths: Sequence[Path]) -> list[Path]:
    """The phrasebook files that `load_library(paths, …)` reads, in load order (missing paths left out)."""
    return _files(paths, [])


# -- internals -----------------------------------------------------------------------------------


def _files(paths: Iterable[Path], problems: list[PhrasebookProblem]) -> list[Path]:
    files: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
        elif path.is_file():
            found = [path]
        else:
            problems.append(PhrasebookProblem(path, 0, "", "找不到这个词库目录或文件。请检查路径（配置项 phrasebook_dirs 或环境变量 TRAINER_PHRASEBOOK_DIRS）"))
            continue
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


def _parse_all(dirs: Sequence[Path], placeholders: Mapping[str, str]) -> tuple[list[ParsedFile], list[PhrasebookProblem]]:
    problems: list[PhrasebookProblem] = []
    values = {**DEFAULT_PLACEHOLDERS, **{str(k): str(v) for k, v in placeholders.items()}}
    parsed: list[ParsedFile] = []
    for file in _files(dirs, problems):
        try:
            size = file.stat().st_size
            if size > MAX_FILE_BYTES:
                problems.append(PhrasebookProblem(file, 0, "", f"文件过大（{size // 1024} KB，上限 {MAX_FILE_BYTES // 1024} KB）。请拆分成多个文件"))
                continue
            data = file.read_bytes()
        except OSError as exc:
            problems.append(PhrasebookProblem(file, 0, "", f"无法读取文件：{exc.strerror or exc}"))
            continue
        try:
            parsed.append(parse_file(file, data, values))
        except Exception as exc:  # one file must never take the whole library (and every page) down
            log.exception("unexpected error parsing phrasebook %s", file)
            problems.append(PhrasebookProblem(file, 0, "", f"无法读取此文件（{type(exc).__name__}），已跳过。请检查文件内容，或把它发给管理员"))
    return parsed, problems


def _cross_check(parsed: list[ParsedFile]) -> tuple[list[ParsedFile], list[PhrasebookProblem]]:
    problems: list[PhrasebookProblem] = []
    accepted: list[ParsedFile] = []
    scenario_owner: dict[str, tuple[Path, int]] = {}
    forbidden_owner: dict[str, tuple[Path, int]] = {}
    for pf in parsed:
        if pf.problems:
            problems += _sorted(pf.problems)
            continue
        duplicates: list[PhrasebookProblem] = []
        for scenario in pf.scenarios:
            if scenario.id in scenario_owner:
                where = _where(*scenario_owner[scenario.id])
                duplicates.append(PhrasebookProblem(pf.path, scenario.line, f"scenarios[{scenario.id}].id", f"场景 id“{scenario.id}”已在 {where} 定义。请换一个 id，或删除其中一个（本文件已跳过）"))
        for entry in pf.all_forbidden:
            if entry.id in forbidden_owner:
                where = _where(*forbidden_owner[entry.id])
                duplicates.append(PhrasebookProblem(pf.path, entry.line, f"forbidden[{entry.id}].id", f"忌语 id“{entry.id}”已在 {where} 定义。请换一个 id，或删除其中一个（本文件已跳过）"))
        if duplicates:
            problems += duplicates
            continue
        scenario_owner.update({s.id: (pf.path, s.line) for s in pf.scenarios})
        forbidden_owner.update({e.id: (pf.path, e.line) for e in pf.all_forbidden})
        accepted.append(pf)

    # Shared forbidden entries may name scenarios and steps of any file; dropping a file can orphan others.
    changed = True
    while changed:
        changed = False
        known = {s.id for pf in accepted for s in pf.scenarios}
        step_ids = {step.id for pf in accepted for s in pf.scenarios for step in s.steps}
        for pf in list(accepted):
            bad = [r for r in pf.refs if r.scenario_id not in known]
            if bad:
                listed = "、".join(sorted(known)) or "（无）"
                for ref in bad:
                    problems.append(PhrasebookProblem(pf.path, ref.line, f"forbidden[{ref.entry_id}].scenarios", f"引用了不存在的场景“{ref.scenario_id}”。可用的场景：{listed}（本文件已跳过）"))
                accepted.remove(pf)
                changed = True
                continue
            bad_steps = [r for r in pf.step_refs if r.step_id not in step_ids]
            if bad_steps:
                for step_ref in bad_steps:
                    problems.append(PhrasebookProblem(pf.path, step_ref.line, f"forbidden[{step_ref.entry_id}].performs", f"引用了不存在的步骤“{step_ref.step_id}”。performs 应写某个场景里的步骤 id，例如 ask_wait、farewell（本文件已跳过）"))
                accepted.remove(pf)
                changed = True
    return accepted, problems


def _build(accepted: list[ParsedFile], problems: list[PhrasebookProblem]) -> Library:
    lexicon_values: dict[str, Any] = {}
    digest = hashlib.sha256()
    for pf in accepted:
        lexicon_values.update(pf.lexicon)
        digest.update(len(pf.data).to_bytes(8, "big"))
        digest.update(pf.data)
    lexicon = dataclasses.replace(Lexicon(), **lexicon_values)
    return Library(
        scenarios={s.id: expand_synonyms(s, lexicon.synonyms) for pf in accepted for s in pf.scenarios},
        forbidden=tuple(e for pf in accepted for e in pf.forbidden),
        lexicon=lexicon,
        version=digest.hexdigest()[:12] if accepted else "",
        problems=tuple(problems),
    )


MAX_CUE_VARIANTS = 64  # per cue, so that a long cue of common words cannot explode


def expand_synonyms(scenario: Scenario, synonyms: Sequence[tuple[str, ...]]) -> Scenario:
    """`scenario` with each step's key-word groups and cue parts widened by the lexicon's synonyms.

    A group holding 抱歉 also accepts 对不起/不好意思 when the lexicon lists them together; a cue
    暂时+无法 also matches 暂时+没办法. Only whole words are replaced; phrasings are untouched.
    """
    if not synonyms:
        return scenario
    of: dict[str, tuple[str, ...]] = {}
    for group in synonyms:
        for word in group:
            of[word] = tuple(dict.fromkeys([*of.get(word, ()), *group]))

    def widen(words: Sequence[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for word in words for w in (word, *of.get(word, ()))))

    steps = []
    for step in scenario.steps:
        keywords = tuple(widen(group) for group in step.keywords)
        cues: list[str] = []
        for cue in step.cues:
            parts = [(part, *of.get(part, ())) for part in cue.split(CUE_SEPARATOR)]
            for combo in itertools.islice(itertools.product(*parts), MAX_CUE_VARIANTS):
                cues.append(CUE_SEPARATOR.join(combo))
        steps.append(dataclasses.replace(step, keywords=keywords, cues=tuple(dict.fromkeys(cues))))
    return dataclasses.replace(scenario, steps=tuple(steps))


def _where(path: Path, line: int) -> str:
    return f"{path.name}:{line}"


def _sorted(problems: Iterable[PhrasebookProblem]) -> list[PhrasebookProblem]:
    return sorted(problems, key=lambda p: (str(p.path), p.line))
