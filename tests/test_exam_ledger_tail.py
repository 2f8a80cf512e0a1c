"""The end of the exam ledger: cut-off entries are caught by the anchored head (issue 13 item 5);
a line torn by a full disk or a crash is told apart from tampering and repaired (item 6)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from exam_support import KEY, FakeMarker, settings_for, small_library, wav_bytes
from trainer.errors import ExamError
from trainer.exam import seal as seal_module
from trainer.exam.anchor import LedgerHead, parse_head_ref, read_anchor
from trainer.exam.paper import parse_paper
from trainer.exam.records import load_result, roster
from trainer.exam.report import export_roster, render_report
from trainer.exam.runner import override_exam, run_exam
from trainer.exam.seal import LEDGER_NAME, Ledger, exam_key, fingerprint
from trainer.exam.verify import verify_all
from trainer.sessions.store import INDEX_FILE, SessionStore

REPO = Path(__file__).resolve().parent.parent
PAPER = """\
id: unit_tail
title: 单元测试账本末尾
questions: [payment]
attempts: 3
pass_mark: 80
feedback: end
"""


@pytest.fixture()
def env(tmp_path: Path):
    settings = settings_for(tmp_path / "sessions")
    return settings, SessionStore(settings.sessions_dir), small_library()


def run(env, candidate: str, score: float = 90.0, seed: int = 0):
    settings, store, library = env
    answers = [[wav_bytes(seed * 10 + t) for t in range(2)]]
    return run_exam(parse_paper(PAPER), candidate, f"考生{candidate}", answers, settings, library, FakeMarker(default=score), store)


def ledger_path(store: SessionStore) -> Path:
    return store.root / LEDGER_NAME


def cli(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRAINER_SESSIONS_DIR": str(settings.sessions_dir), "TRAINER_EXAM_KEY": KEY, "TRAINER_CONFIG": ""}
    return subprocess.run([sys.executable, "-m", "trainer", "exam", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)


# --- item 5: anchoring the head -----------------------------------------------------------------


def test_every_append_anchors_the_head_in_the_index(env):
    settings, store, _ = env
    run(env, "T100")
    entries = Ledger(store.root).entries()
    assert read_anchor(store.root) == LedgerHead(entries[-1]["seq"], entries[-1]["seal"])


def test_sed_deleting_the_last_line_is_reported(env):
    """The issue's reproduction: `sed -i '$d' exam_ledger.jsonl; trainer exam verify` passed."""
    settings, store, _ = env
    run(env, "T101")
    run(env, "T102", seed=1)
    subprocess.run(["sed", "-i", "$d", str(ledger_path(store))], check=True)
    report = verify_all(store, exam_key(settings))
    assert not report.ok
    truncated = [p for p in report.problems if p.kind == "truncated"]
    assert len(truncated) == 1 and "第 4 号" in truncated[0].message and "第 3 号" in truncated[0].message
    done = cli(settings, "verify")
    assert done.returncode == 1 and "第 4 号" in done.stdout


def test_removing_a_final_override_is_detected(env):
    settings, store, _ = env
    result = run(env, "T103", score=60.0)
    override_exam(settings, result.exam_id, "李考评", True, "设备故障，人工复核通过", total=85.0, store=store)
    assert load_result(store, result.exam_id).passed
    subprocess.run(["sed", "-i", "$d", str(ledger_path(store))], check=True)
    assert not load_result(store, result.exam_id).passed  # the verdict silently reverted ...
    report = verify_all(store, exam_key(settings))
    assert [p.kind for p in report.problems] == ["truncated"]  # ... and verify now says so
    assert "第 3 号" in report.problems[0].message


def test_verify_against_a_head_written_on_a_report_or_roster(env, tmp_path):
    settings, store, library = env
    result = run(env, "T104")
    head = Ledger(store.root).entries()[-1]
    html = render_report(load_result(store, result.exam_id), library, head=LedgerHead(head["seq"], head["seal"]))
    assert f"第 {head['seq']} 号" in html and fingerprint(head["seal"]) in html
    out = export_roster(roster(store.root), tmp_path / "r.csv", head=LedgerHead(head["seq"], head["seal"]))
    text = out.read_text(encoding="utf-8-sig")
    assert fingerprint(head["seal"]) in text and "账本末尾" in text
    # Whoever cuts the ledger also deletes the index (its anchor): the printed head still catches it.
    subprocess.run(["sed", "-i", "$d", str(ledger_path(store))], check=True)
    (store.root / INDEX_FILE).unlink()
    bare = verify_all(store, exam_key(settings))
    assert bare.notices and "--head" in bare.notices[0]
    for given in (str(head["seq"]), fingerprint(head["seal"]), head["seal"]):
        done = cli(settings, "verify", "--head", given)
        assert done.returncode == 1, (given, done.stdout, done.stderr)
        assert "截短" in done.stdout or "删除" in done.stdout
    still = json.loads(cli(settings, "verify", "--json", "--head", str(head["seq"] - 1)).stdout)
    assert "truncated" not in {p["kind"] for p in still["problems"]}  # the ledger does reach entry 1
    assert {p["kind"] for p in still["problems"]} == {"unsealed"}  # (the cut result's sessions)


def test_head_arguments_are_parsed_or_refused():
    assert parse_head_ref("12").seq == 12
    assert parse_head_ref("ABCD-EF01-2345-6789").seal_prefix == "abcdef0123456789"
    for bad in ("", "0", "-3", "xyz", "abc"):
        with pytest.raises(ExamError):
            parse_head_ref(bad)


def test_cli_roster_export_carries_the_head(env, tmp_path):
    settings, store, _ = env
    result = run(env, "T105")
    head = Ledger(store.root).entries()[-1]
    out = tmp_path / "名册.csv"
    done = cli(settings, "list", "--export", str(out))
    assert done.returncode == 0, done.stderr
    assert fingerprint(head["seal"]) in out.read_text(encoding="utf-8-sig")
    report = tmp_path / "r.html"
    assert cli(settings, "report", result.exam_id, "--out", str(report)).returncode == 0
    assert "账本末尾" in report.read_text(encoding="utf-8") and fingerprint(head["seal"]) in report.read_text(encoding="utf-8")


# --- item 6: torn lines ----------------------------------------------------------------------------


def test_torn_tail_is_reported_as_torn_not_tampering(env):
    settings, store, _ = env
    run(env, "T200")
    with open(ledger_path(store), "ab") as fh:
        fh.write(b'{"seq":3,"kind":"sta')  # the disk filled up in the middle of a line
    report = verify_all(store, exam_key(settings))
    assert report.ok and report.torn_tail is not None and report.torn_tail.line == 3
    assert "trainer exam repair" in report.torn_message


def test_repair_truncates_only_the_torn_tail_and_records_it(env):
    settings, store, _ = env
    run(env, "T201")
    before = ledger_path(store).read_bytes()
    with open(ledger_path(store), "ab") as fh:
        fh.write(b'{"seq":3,"kind":"sta')
    done = cli(settings, "repair")
    assert done.returncode == 0, done.stderr
    data = ledger_path(store).read_bytes()
    assert data.startswith(before) and data.endswith(b"\n")
    entries = Ledger(store.root).entries()
    assert entries[-1]["kind"] == "repair" and entries[-1]["body"]["removed_bytes"] == 20
    report = verify_all(store, exam_key(settings))
    assert report.ok and report.torn_tail is None
    assert cli(settings, "repair").returncode == 0  # nothing left to repair: says so, changes nothing
    assert Ledger(store.root).entries() == entries


def test_repair_keeps_a_complete_entry_that_only_lost_its_newline(env):
    settings, store, _ = env
    run(env, "T202")
    data = ledger_path(store).read_bytes()
    ledger_path(store).write_bytes(data[:-1])
    report = verify_all(store, exam_key(settings))
    assert report.ok and report.torn_tail is None
    assert Ledger(store.root).repair(exam_key(settings)).action == "newline"
    assert ledger_path(store).read_bytes() == data


def test_repair_refuses_when_a_sealed_entry_was_cut(env):
    settings, store, _ = env
    run(env, "T203")
    data = ledger_path(store).read_bytes()
    ledger_path(store).write_bytes(data[:-30])  # part of the anchored last entry is gone
    report = verify_all(store, exam_key(settings))
    assert "truncated" in {p.kind for p in report.problems}
    with pytest.raises(ExamError) as err:
        Ledger(store.root).repair(exam_key(settings))
    assert "不是写入中断" in err.value.user_message
    assert ledger_path(store).read_bytes() == data[:-30]


def test_next_exam_after_a_torn_tail_repairs_it_first(env):
    settings, store, _ = env
    run(env, "T204")
    with open(ledger_path(store), "ab") as fh:
        fh.write(b'{"seq":3,"kind":"sta')
    later = run(env, "T205", seed=1)
    kinds = [e["kind"] for e in Ledger(store.root).entries()]
    assert kinds == ["start", "result", "repair", "start", "result"]
    report = verify_all(store, exam_key(settings))
    assert report.ok and report.torn_tail is None and report.exams == 2
    assert load_result(store, later.exam_id).passed


def test_full_disk_during_an_append_leaves_no_torn_line(env, monkeypatch):
    settings, store, _ = env
    run(env, "T206")
    before = ledger_path(store).read_bytes()
    real = seal_module._locked_append

    class HalfWriter:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data: bytes) -> int:
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.fh, name)

    @contextmanager
    def full_disk(path):
        with real(path) as fh:
            yield HalfWriter(fh)

    monkeypatch.setattr(seal_module, "_locked_append", full_disk)
    with pytest.raises(ExamError) as err:
        run(env, "T207", seed=1)
    assert "磁盘" in err.value.user_message
    monkeypatch.setattr(seal_module, "_locked_append", real)
    assert ledger_path(store).read_bytes() == before
    assert verify_all(store, exam_key(settings)).torn_tail is None


def test_old_reader_sees_repair_entries_as_ordinary_sealed_entries(env):
    settings, store, _ = env
    run(env, "T208")
    with open(ledger_path(store), "ab") as fh:
        fh.write(b"garbage")
    Ledger(store.root).repair(exam_key(settings))
    entry = Ledger(store.root).entries()[-1]
    assert entry["kind"] == "repair" and set(json.loads(json.dumps(entry))) == {"seq", "kind", "time", "exam_id", "key_id", "body", "prev", "seal"}
