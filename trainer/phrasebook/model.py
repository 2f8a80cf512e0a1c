"""Domain objects of the phrase library. Pure data: loading and validation live in `loader.py`.

Phrase texts may hold placeholders in braces. Config placeholders (`{company}`,
`{hotline}`…) are filled in when the library is loaded; slot placeholders
(`{received}`, `{change}`…) name a `Slot` of the step and stay in the text: the
matcher treats them as "a value of this kind goes here".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trainer.errors import ScenarioNotFoundError

ROLES = ("counter", "hotline", "guide", "field")
SEVERITIES = ("minor", "major", "critical")
# The one Chinese word for each severity on every screen (web, terminal, feedback, exports).
SEVERITY_LABELS = {"minor": "轻微", "major": "严重", "critical": "极严重"}
SLOT_KINDS = ("amount", "number", "digits", "name", "days", "time", "text")
CUE_SEPARATOR = "+"  # joins the words of one cue: "办+什么"
CUE_EXACT = "="  # before a cue word: its exact characters only, no homophones ("=再会" is not 再回)
CUE_GAP = 12  # max characters between the end of one cue word and the start of the next
CUE_ADDRESS = "…"  # "…好": the performance opens with an address (a name or kin term, 1-3 characters) and the word
CUE_WORD_MAX = 8  # a cue word is a short word, not a phrasing


@dataclass(frozen=True)
class Slot:
    """A value the trainee must say inside a phrase, e.g. the amount received (kind "amount")."""

    name: str
    kind: str
    description: str = ""


REACTION_KINDS = ("forbidden", "missed", "well")  # in the order they are checked: a 忌语 outweighs everything
REACTION_LABELS = {"forbidden": "说了忌语", "missed": "漏了这一步", "well": "做得好"}


@dataclass(frozen=True)
class Reaction:
    """What the simulated customer does after a turn: a line said before the next step's own line,
    and/or an extra step (`Step.extra`) the trainee must perform before the dialogue goes on."""

    line: str = ""  # "" = no line of its own
    insert: str = ""  # id of an extra step of the same scenario, "" = none
    file_line: int = 0  # where it is written (phrasebook file line), for validation messages


@dataclass(frozen=True)
class Reactions:
    """A step's optional reactions: after a 忌语 in the answer, a missed step, a step done well."""

    forbidden: Reaction | None = None
    missed: Reaction | None = None
    well: Reaction | None = None

    def get(self, kind: str) -> Reaction | None:
        return getattr(self, kind) if kind in REACTION_KINDS else None

    def items(self) -> tuple[tuple[str, Reaction], ...]:
        return tuple((kind, r) for kind in REACTION_KINDS if (r := getattr(self, kind)) is not None)

    def __bool__(self) -> bool:
        return bool(self.items())


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    phrases: tuple[str, ...]  # standard phrasings (文明服务用语); phrases[0] is the one shown as "expected"
    required: bool = True
    weight: float = 1.0
    variants: tuple[str, ...] = ()  # further accepted wordings
    keywords: tuple[tuple[str, ...], ...] = ()  # every group must be present; any word of a group satisfies it
    slots: tuple[Slot, ...] = ()
    customer: str = ""  # what the simulated customer says before this step ("" = nothing)
    tip: str = ""  # coaching tip shown when the step is missed
    file: Path | None = None  # the phrasebook file the step was read from
    line: int = 0
    cues: tuple[str, ...] = ()
    """Short word sequences that alone prove the step was performed, e.g. "办+什么" or "请+坐".

    One cue is one or more words joined by "+" (config placeholders already filled, no
    slot placeholders). It is found when all its words are said in one turn, in that
    order, each starting within `CUE_GAP` characters after the end of the previous one
    (so "办+什么" matches 想办点什么 and 今天过来办理什么手续). A cue found is sufficient
    for status "hit", independent of `phrases` and `keywords`, which keep their role
    for similarity matches. Words are compared after transcript normalisation; words of
    two or more characters tolerate homophones like phrasings do, 1-character words
    must match exactly, and so must a word written with `CUE_EXACT` before it ("=再会":
    再会 said alone, never 再回来). A cue written with `CUE_ADDRESS` ("…好") is the opening
    clause of the performance: an address of 1-3 characters, any name or kin term
    (张叔好, 刘姐好, 大家好), then the word, exactly.
    """
    source: str = ""
    """Where the service norms require (or, for an optional step, recommend) this step, in Chinese:
    the document and its clause, e.g. 供电营业厅窗口服务礼仪实训·收费六步“二问”：问明客户要办理的业务.
    Every required step of the shipped library has one (tests/test_phrasebook_sources.py). Not to be
    confused with `Scenario.source`/`ForbiddenEntry.source`, the file path; a step's file is `file`."""
    reactions: Reactions = field(default_factory=Reactions)
    restates: bool = False
    """A 复述确认 step: also performed by saying the customer's facts back and asking whether they
    are right ("上周五多收二十，是吧？"), whatever the words (trainer/scoring/restate.py)."""
    restates_numbers: bool = False
    """For a 复述确认重要内容 step: a number the customer gave (户号, 电话, at least 4 digits) read back
    with a question to confirm it ("幺二零八五五六三，对吧？") is also a restatement. Not for
    复述确认事实: a phone number read back confirms the contact, not the complaint."""
    on_handover: tuple[str, ...] = ()
    """Words that perform this step when said in answer to a customer who hands something over
    (`Lexicon.handover_words` in the customer's line: 给你。（递上资料）): 谢谢 for 双手接收资料并致谢.
    Said anywhere else, they are only courtesy."""
    extra: bool = False
    """An extra step is not part of the script: it is asked only when a reaction inserts it (e.g. a
    second apology after a 忌语 made the customer angry). It lives in `Scenario.extra_steps`."""

    @property
    def expected(self) -> str:
        return self.phrases[0]

    @property
    def all_phrasings(self) -> tuple[str, ...]:
        return self.phrases + self.variants

    @property
    def cue_words(self) -> tuple[tuple[str, ...], ...]:
        """Each cue split into its words: "办+什么" → ("办", "什么")."""
        return tuple(tuple(cue.split(CUE_SEPARATOR)) for cue in self.cues)


@dataclass(frozen=True)
class ForbiddenEntry:
    """A 服务忌语: what must never be said, why, and what to say instead."""

    id: str
    phrase: str  # canonical text
    severity: str  # one of SEVERITIES
    reason: str  # why it is wrong
    replacement: str  # the standard phrase to say instead
    variants: tuple[str, ...] = ()
    # polite phrases that contain the text and are fine, e.g. "不知道您"; "…" marks a short gap:
    # "不知道…也没关系" = the text, then within a few characters (same turn) 也没关系
    exceptions: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()  # empty: applies to every scenario
    source: Path | None = None
    line: int = 0
    performs: tuple[str, ...] = ()
    """Step ids whose purpose this brush-off still meets (等着 asks the customer to wait, 走吧 ends the
    contact): said, the step counts as performed, in the wrong manner, and the 忌语 as said."""

    @property
    def all_phrasings(self) -> tuple[str, ...]:
        return (self.phrase, *self.variants)


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    role: str  # one of ROLES
    brief: str  # what the trainee reads before starting
    steps: tuple[Step, ...]
    domain: str = "general"  # power | gas | water | general
    difficulty: int = 1  # 1 (basic) .. 3 (hard)
    forbidden: tuple[ForbiddenEntry, ...] = ()  # scenario-specific entries
    source: Path | None = None
    line: int = 0
    extra_steps: tuple[Step, ...] = ()  # asked only when a reaction inserts them (Step.extra)

    def step(self, step_id: str) -> Step:
        """A step of the script or an extra step, by id (KeyError when unknown)."""
        for step in self.steps + self.extra_steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    @property
    def reacts(self) -> bool:
        """The customer's next line depends on the answers (some step has reactions)."""
        return any(step.reactions for step in self.steps + self.extra_steps)

    @property
    def slot_names(self) -> frozenset[str]:
        return frozenset(slot.name for step in self.steps for slot in step.slots)

    @property
    def checks_amounts(self) -> bool:
        """唱收唱付 applies when the scenario asks for the bill, the amount received and the change."""
        return {"bill", "received", "change"} <= self.slot_names


@dataclass(frozen=True)
class Lexicon:
    """Word lists and bands used by scoring, kept as data (`phrasebooks/lexicon.yaml`)."""

    politeness_words: tuple[str, ...] = ("您好", "请", "谢谢", "对不起", "再见")
    fillers: tuple[str, ...] = ("嗯", "啊", "呃", "那个", "就是说", "然后呢")
    rate_min: float = 150.0  # 字/分钟
    rate_max: float = 220.0
    long_pause_seconds: float = 3.0
    # Words that say the same thing in a step's key words and cues (对不起/抱歉/不好意思): a key-word
    # group or a cue part holding one of them accepts them all (loader.expand_synonyms).
    synonyms: tuple[tuple[str, ...], ...] = ()
    # Words by which a customer hands something over (给你、递上、都在这): the clerk's answer to such a
    # line may perform a step whose `on_handover` words it holds (谢谢 for 接收资料并致谢).
    handover_words: tuple[str, ...] = ()
    # Words by which a customer asks when (几点、多久、什么时候): a time said in answer performs a step that
    # promises one (回复时限, 到达时间, 恢复时间).
    when_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class PhrasebookProblem:
    """One validation error, precise enough to fix the file: where, which field, what is wrong (Chinese)."""

    path: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass(frozen=True)
class Library:
    """Everything loaded from the phrasebook folders. Files with errors are skipped and listed in `problems`."""

    scenarios: dict[str, Scenario]
    forbidden: tuple[ForbiddenEntry, ...]
    lexicon: Lexicon = field(default_factory=Lexicon)
    version: str = ""  # short content hash of the loaded files, stored with every session
    problems: tuple[PhrasebookProblem, ...] = ()

    def scenario(self, scenario_id: str) -> Scenario:
        try:
            return self.scenarios[scenario_id]
        except KeyError:
            known = "、".join(sorted(self.scenarios)) or "（无）"
            raise ScenarioNotFoundError(
                f"未知的场景“{scenario_id}”。可用的场景：{known}。",
                f"unknown scenario {scenario_id!r}",
            ) from None

    def forbidden_for(self, scenario_id: str) -> tuple[ForbiddenEntry, ...]:
        """Shared entries that apply to this scenario, plus the scenario's own."""
        shared = tuple(e for e in self.forbidden if not e.scenarios or scenario_id in e.scenarios)
        own = self.scenarios[scenario_id].forbidden if scenario_id in self.scenarios else ()
        return shared + own
