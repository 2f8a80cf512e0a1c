"""Held-out text performances (tests/data/heldout): the matcher's generalisation, measured with `--oracle`.

Set A was written independently of the phrasebook and matcher; since this session it is the
development set for general mechanisms (never sentence-specific rules) — set B
(tests/data/heldout_b) is the measurement set and has no test. This test only keeps the
measured figures from sliding back. Floors = figure measured at the time of
writing − 0.05:

| figure (36 performances, turns) | before cues (b5e8fda) | cues + forbidden rules (07be16a) | candidate pruning, read-backs counted once, pass rule, keyword reach | major 忌语 fails | floor |
| --- | --- | --- | --- | --- | --- |
| step recall | 0.591 | 0.827 | 0.927 | 0.927 | 0.87 |
| step precision | 0.993 | 0.989 | 0.995 | 0.995 | 0.94 |
| forbidden recall | 1.0 | 1.0 | 1.0 | 1.0 | 0.95 |
| forbidden precision | 0.696 (6 hits on clean turns) | 1.0 (0) | 1.0 (0) | 1.0 (0) | 0.95 |
| pass/fail agreement | 0.722 | 0.889 | 0.972 | 1.0 | 0.95 |

Measured with `trainer eval DIR --oracle --mode turns` (the label texts as transcripts).

Set C (tests/data/heldout_c, 48 performances) was measured once independently (its README),
then used for development in the same session (disclosed there); it gets the same kind of
floors from the figures after that development (step R 0.898, P 0.990, forbidden R 1.0, P 0.875,
pass/fail 43/48).

Set D (tests/data/heldout_d, 54 performances with customer lines) was measured once independently
(its README) and gets floors from that first use (step R 0.899, P 0.966, forbidden R 0.75, P 0.56,
pass/fail 44/54); from then on it is a development set too.

Set E (tests/data/heldout_e, 60 performances over 16 scenarios, written from the seeds and step ids
only) was measured once independently (its README: step R 0.883, P 0.953, forbidden R 1.0, P 0.778,
pass/fail 49/60) and gets floors from that first use.

Set F (tests/data/heldout_f, 64 performances over all 20 scenarios, written the same way) was measured
once independently (its README: step R 0.914, P 0.962, forbidden R 1.0, P 0.737, pass/fail 49/64) and
gets floors from that first use.

Sets G and H (tests/data/heldout_g, heldout_h, 64 performances each, written the same way) were
measured once independently (their READMEs: G step R 0.950, P 0.955, forbidden R 1.0, P 0.737,
pass/fail 55/64; H step R 0.912, P 0.939, forbidden R 1.0, P 0.70, pass/fail 58/64) and get floors
from those first uses.

Set I (tests/data/heldout_i, 64 performances, written the same way) was measured once independently
(its README: step R 0.923, P 0.956, forbidden R 1.0, P 0.737, pass/fail 52/64) and gets floors from
that first use.

Set J (tests/data/heldout_j, 64 performances, written the same way) was measured once independently
at the end of the session that used set I (its README: step R 0.924, P 0.966, forbidden R 0.929,
P 0.722, pass/fail 60/64) and gets floors from that first use.

Set K (tests/data/heldout_k, 64 performances, written the same way) was measured once independently
at the end of the session that used set J's floors (its README: step R 0.947, P 0.965, forbidden R 1.0,
P 0.737, pass/fail 61/64) and gets floors from that first use.

Set L (tests/data/heldout_l, 64 performances, written the same way after K's first use) was measured once
independently (its README: step R 0.922, P 0.975, forbidden R 1.0, P 0.667, pass/fail 62/64) and gets
floors from that first use.

Set M (tests/data/heldout_m, 64 performances, written the same way after this session's verdict changes) was
measured once independently (its README: step R 0.928, P 0.965, forbidden R 0.929, P 0.765, pass/fail 63/64)
and gets floors from that first use.

Set N (tests/data/heldout_n, 64 performances, written the same way at the start of the next session) was measured
once independently (its README: step R 0.910, P 0.952, forbidden R 0.857, P 0.750, pass/fail 55/64) and gets floors
from that first use.

Set O (tests/data/heldout_o, 64 performances, written the same way at the end of that session, after set N's
first use and the fixes that followed it) was measured once independently (its README: step R 0.898, P 0.968,
forbidden R 1.0, P 0.824, pass/fail 60/64) and gets floors from that first use.

Set P (tests/data/heldout_p, 64 performances, written the same way at the start of the next session) was measured
once independently (its README: step R 0.933, P 0.972, forbidden R 1.0, P 0.737, pass/fail 62/64) and gets floors
from that first use.

Set R (tests/data/heldout_r, 67 performances, written the same way at the start of the next session) was measured
once independently before that session's changes (its README: step R 0.946, P 0.976, forbidden R 0.929, P 0.765,
pass/fail 60/67) and gets floors from that first use.

Brush-offs (2026-12-05): 等着、自己看、走吧、干什么 and their kin joined the 忌语 list, each performing the step whose
purpose it still meets, and so did the reproach 别嚷嚷/别催/别再来闹了. Over sets A-R all 59 new hits lie in
performances the writers fail (rude or curt), but the writers label only the seed's 14 entries, so forbidden
precision against the labels fell in most sets; the floors of sets E, F, G, H, I, K, L, M, N, O and Q were
lowered to the new figure - 0.05 (the old floor is noted beside each). What would hurt a good trainee is a 忌语 found in a performance the writer passes: that count
(`passing_false_hits`) may not rise above today's (PASSING_FALSE_HITS).

Set Q (tests/data/heldout_q, 64 performances, written the same way in the middle of that session, after set P's
first use) was measured once independently (its README: step R 0.920, P 0.973, forbidden R 1.0, P 0.737,
pass/fail 55/64) and gets floors from that first use.

Set S (tests/data/heldout_s, 65 performances, written the same way at the start of the session of 2026-12-06)
was measured once independently before any change made on it (its README: step R 0.957, P 0.995, forbidden
R 0.786, P 0.579, pass/fail 62/65) and gets floors from that first use.

Set T (tests/data/heldout_t, 64 performances, written the same way at the end of that session, after set S's first
use and the fixes that followed) was measured once independently (its README: step R 0.956, P 0.971, forbidden
R 1.0, P 0.600, pass/fail 61/64) and gets floors from that first use.

Set U (tests/data/heldout_u, 65 performances, written the same way at the start of the next session) was measured
once independently before any change made on it (its README: step R 0.942, P 0.976, forbidden R 0.929, P 0.650,
pass/fail 59/65) and gets floors from that first use.

Set V (tests/data/heldout_v, 67 performances, written the same way at the start of that session and kept unopened
until its end) was measured once independently at the end, after the session's changes (its README: step R 0.955,
P 0.977, forbidden R 0.867, P 0.565, pass/fail 60/67) and gets floors from that first use.

Set W (tests/data/heldout_w, 66 performances, written the same way at the start of the session of 2026-12-06
(third)) was measured once independently before any change made on it (its README: step R 0.966, P 0.984,
forbidden R 1.0, P 0.667, pass/fail 64/66) and gets floors from that first use.

Set X (tests/data/heldout_x, 66 performances, written the same way at the start of that session and kept unopened
until its end) was measured once independently at the end, after the session's changes (its README: step R 0.951,
P 0.976, forbidden R 0.875, P 0.700, pass/fail 63/66) and gets floors from that first use.

Set Y (tests/data/heldout_y, 65 performances, written the same way at the start of the session of 2026-12-06
(fourth)) was measured once independently before any change made on it (its README: step R 0.912, P 0.983,
forbidden R 1.0, P 0.583, pass/fail 60/65) and gets floors from that first use.

Set Z (tests/data/heldout_z, 64 performances, written the same way at the start of that session and kept unopened
until near its end) was measured once independently after the session's changes (its README: step R 0.957,
P 0.973, forbidden R 0.933, P 0.667, pass/fail 59/64) and gets floors from that first use.

Set AA (tests/data/heldout_aa, 68 performances, written the same way at the start of the session of 2026-12-06
(fifth)) was measured once independently before any change made on it (its README: step R 0.928, P 0.959,
forbidden R 0.824, P 0.700, pass/fail 62/68) and gets floors from that first use.

Set AB (tests/data/heldout_ab, 67 performances, written the same way at the start of that session and kept unopened
until near its end) was measured once independently after the session's changes (its README: step R 0.948,
P 0.976, forbidden R 0.714, P 0.476, pass/fail 61/67) and gets floors from that first use.

Set AC (tests/data/heldout_ac, 67 performances, written the same way at the start of the session of 2026-12-06
(sixth)) was measured once independently, with the session's first change only (the manner review retired), before
any change made on it (its README: step R 0.938, P 0.961, forbidden R 0.786, P 0.550, pass/fail 60/67) and gets
floors from that first use.

Set AD (tests/data/heldout_ad, 65 performances, written the same way at the start of that session and kept unopened
until the changes found on set AC were made) was measured once independently after them (its README: step R 0.960,
P 0.978, forbidden R 0.938, P 0.577, pass/fail 62/65) and gets floors from that first use.

Sets AE (tests/data/heldout_ae, 64 performances) and AF (tests/data/heldout_af, 65 performances), written the same
way near the end of that session, were measured once independently with the session's final scoring (their
READMEs: AE step R 0.929, P 0.974, forbidden R 1.0, P 0.636, pass/fail 58/64; AF step R 0.941, P 0.964, forbidden
R 0.929, P 0.591, pass/fail 60/65) and get floors from those first uses.

Sets AG (tests/data/heldout_ag, 65 performances; its writer put most clerk turns in written Cantonese) and AH
(tests/data/heldout_ah, 67 performances), written the same way at the start of the next session, were measured once
independently at 1cab64c, before any change (their READMEs: AG step R 0.888, P 0.955, forbidden R 0.867, P 1.0,
pass/fail 51/65; AH step R 0.948, P 0.990, forbidden R 1.0, P 0.583, pass/fail 61/67) and get floors from those first
uses.

Sets AI (tests/data/heldout_ai, 72 performances) and AJ (tests/data/heldout_aj, 72 performances), written the same way
at the start of the session after that, were measured once independently at 70cadc5, before any change (their
READMEs: AI step R 0.979, P 0.970, forbidden R 1.0, P 0.700, pass/fail 64/72; AJ step R 0.972, P 0.988, forbidden
R 1.0, P 0.737, pass/fail 66/72) and get floors from those first uses.

Sets AK (tests/data/heldout_ak, 72 performances) and AL (tests/data/heldout_al, 68 performances), written the same way
at the start of the session after that, were measured once independently at 93f8d7e, before any change (their
READMEs: AK step R 0.961, P 0.970, forbidden R 1.0, P 0.667, pass/fail 66/72; AL step R 0.958, P 0.977, forbidden
R 1.0, P 0.700, pass/fail 62/68) and get floors from those first uses.

Sets AM (tests/data/heldout_am, 74 performances) and AN (tests/data/heldout_an, 72 performances), written the same way
at the start of the session after that, were measured once independently at 9f42a79, before any change (their
READMEs: AM step R 0.960, P 0.975, forbidden R 1.0, P 0.636, pass/fail 68/74; AN step R 0.972, P 0.968, forbidden
R 1.0, P 0.778, pass/fail 66/72) and get floors from those first uses.

Sets AO (tests/data/heldout_ao, 66 performances) and AP (tests/data/heldout_ap, 68 performances), written the same way
at the start of the session after that, were measured once independently at 5b3f65c, before any change (their
READMEs: AO step R 0.974, P 0.987, forbidden R 0.867, P 0.684, pass/fail 64/66; AP step R 0.957, P 0.982, forbidden
R 1.0, P 0.778, pass/fail 62/68) and get floors from those first uses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.cli import main

DATA = Path(__file__).parent / "data"

FLOORS = {
    "heldout": {
        "step_recall": 0.87,
        "step_precision": 0.94,
        "forbidden_recall": 0.95,
        # 0.95 until 2026-12-05: the brush-offs added then (等着。干啥的？) are said in two performances the
        # writer labelled curt and failing, but the labels name only the seed's 14 entries (16/18 = 0.889)
        "forbidden_precision": 0.82,  # 0.85 before the manner entries of 2026-12-07 (hits in rude performances)
        "passed_agreement": 0.95,
    },
    "heldout_c": {
        "step_recall": 0.85,
        "step_precision": 0.94,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.82,
        "passed_agreement": 0.85,
    },
    # sets G and H: floors from their first (independent) uses (their READMEs)
    "heldout_g": {
        "step_recall": 0.90,
        "step_precision": 0.90,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.58,  # 0.61 before the manner entries of 2026-12-07 (hits in rude performances); 0.68 before the brush-offs of 2026-12-05
        "passed_agreement": 0.80,
    },
    "heldout_h": {
        "step_recall": 0.86,
        "step_precision": 0.88,
        "forbidden_recall": 0.95,
        # 0.65 before the brush-offs of 2026-12-05; 0.55 before the rhetorical 不知道 of 2026-12-07 (我咋晓得, said by a
        # rude clerk blaming the customer)
        "forbidden_precision": 0.53,
        "passed_agreement": 0.85,
    },
    # sets AI and AJ: floors from their first (independent) uses (their READMEs)
    "heldout_ai": {
        "step_recall": 0.93,
        "step_precision": 0.92,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.65,
        "passed_agreement": 0.84,
    },
    "heldout_aj": {
        "step_recall": 0.92,
        "step_precision": 0.94,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.64,  # 0.69 before the manner entries of 2026-12-07 (hits in rude performances)
        "passed_agreement": 0.87,
    },
    # sets AO and AP: floors from their first (independent) uses (their READMEs)
    "heldout_ao": {
        "step_recall": 0.92,
        "step_precision": 0.93,
        "forbidden_recall": 0.81,
        "forbidden_precision": 0.63,
        "passed_agreement": 0.91,
    },
    "heldout_ap": {
        "step_recall": 0.90,
        "step_precision": 0.93,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.72,
        "passed_agreement": 0.86,
    },
    # sets AM and AN: floors from their first (independent) uses (their READMEs)
    "heldout_am": {
        "step_recall": 0.91,
        "step_precision": 0.92,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.58,
        "passed_agreement": 0.87,
    },
    "heldout_an": {
        "step_recall": 0.92,
        "step_precision": 0.92,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.72,
        "passed_agreement": 0.87,
    },
    # sets AK and AL: floors from their first (independent) uses (their READMEs)
    "heldout_ak": {
        "step_recall": 0.91,
        "step_precision": 0.92,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.61,
        "passed_agreement": 0.87,
    },
    "heldout_al": {
        "step_recall": 0.90,
        "step_precision": 0.92,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.65,
        "passed_agreement": 0.86,
    },
    # sets AG and AH: floors from their first (independent) uses (their READMEs)
    "heldout_ag": {
        "step_recall": 0.85,
        "step_precision": 0.92,
        "forbidden_recall": 0.83,
        "forbidden_precision": 0.75,  # 0.93 before the manner entries of 2026-12-07 (hits in rude performances)
        "passed_agreement": 0.75,
    },
    "heldout_ah": {
        "step_recall": 0.92,
        "step_precision": 0.95,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.53,
        "passed_agreement": 0.87,
    },
    # sets AE and AF: floors from their first (independent) uses (their READMEs)
    "heldout_ae": {
        "step_recall": 0.90,
        "step_precision": 0.94,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.58,
        "passed_agreement": 0.87,
    },
    "heldout_af": {
        "step_recall": 0.91,
        "step_precision": 0.93,
        "forbidden_recall": 0.88,
        "forbidden_precision": 0.48,  # 0.54 before the manner entries of 2026-12-07 (hits in rude performances)
        "passed_agreement": 0.89,
    },
    # sets AC and AD: floors from their first (independent) uses (their READMEs)
    "heldout_ac": {
        "step_recall": 0.91,
        "step_precision": 0.93,
        "forbidden_recall": 0.74,
        "forbidden_precision": 0.50,
        "passed_agreement": 0.86,
    },
    "heldout_ad": {
        "step_recall": 0.93,
        "step_precision": 0.95,
        "forbidden_recall": 0.90,
        "forbidden_precision": 0.52,
        "passed_agreement": 0.92,
    },
    # set AB: floors from its first (independent) use (its README)
    "heldout_ab": {
        "step_recall": 0.89,
        "step_precision": 0.92,
        "forbidden_recall": 0.66,
        "forbidden_precision": 0.42,
        "passed_agreement": 0.86,
    },
    # set AA: floors from its first (independent) use (its README)
    "heldout_aa": {
        "step_recall": 0.87,
        "step_precision": 0.90,
        "forbidden_recall": 0.77,
        "forbidden_precision": 0.62,  # 0.65 before the manner entries of 2026-12-07 (hits in rude performances)
        "passed_agreement": 0.86,
    },
    # set Z: floors from its first (independent) use (its README)
    "heldout_z": {
        "step_recall": 0.92,
        "step_precision": 0.93,
        "forbidden_recall": 0.88,
        "forbidden_precision": 0.53,  # 0.61 before the manner entries of 2026-12-07 (hits in rude performances)
        "passed_agreement": 0.87,
    },
    # set Y: floors from its first (independent) use (its README)
    "heldout_y": {
        "step_recall": 0.88,
        "step_precision": 0.93,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.53,
        "passed_agreement": 0.87,
    },
    # set X: floors from its first (independent) use (its README)
    "heldout_x": {
        "step_recall": 0.92,
        "step_precision": 0.94,
        "forbidden_recall": 0.85,
        "forbidden_precision": 0.65,
        "passed_agreement": 0.92,
    },
    # set W: floors from its first (independent) use (its README)
    "heldout_w": {
        "step_recall": 0.93,
        "step_precision": 0.95,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.60,
        "passed_agreement": 0.92,
    },
    # set V: floors from its first (independent) use (its README)
    "heldout_v": {
        "step_recall": 0.92,
        "step_precision": 0.94,
        "forbidden_recall": 0.80,
        "forbidden_precision": 0.51,
        "passed_agreement": 0.86,
    },
    # set U: floors from its first (independent) use (its README)
    "heldout_u": {
        "step_recall": 0.91,
        "step_precision": 0.94,
        "forbidden_recall": 0.90,
        "forbidden_precision": 0.60,
        "passed_agreement": 0.88,
    },
    # set T: floors from its first (independent) use (its README)
    "heldout_t": {
        "step_recall": 0.92,
        "step_precision": 0.94,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.57,
        "passed_agreement": 0.92,
    },
    # set S: floors from its first (independent) use (its README)
    "heldout_s": {
        "step_recall": 0.92,
        "step_precision": 0.96,
        "forbidden_recall": 0.75,
        "forbidden_precision": 0.51,  # 0.55 before the manner entries of 2026-12-07 (hits in rude performances)
        "passed_agreement": 0.92,
    },
    # set R: floors from its first (independent) use (its README), except forbidden precision: the brush-offs
    # added in the same session (等着, 走吧…) are said in its rude performances, labelled with no 忌语 (0.619)
    "heldout_r": {
        "step_recall": 0.89,
        "step_precision": 0.92,
        "forbidden_recall": 0.87,
        "forbidden_precision": 0.56,
        "passed_agreement": 0.84,
    },
    # set Q: floors from its first (independent) use (its README)
    "heldout_q": {
        "step_recall": 0.90,
        "step_precision": 0.95,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.61,  # 0.70 before the brush-offs of 2026-12-05
        "passed_agreement": 0.84,
    },
    # set P: floors from its first (independent) use (its README)
    "heldout_p": {
        "step_recall": 0.91,
        "step_precision": 0.95,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.64,  # 0.70 before the manner entries of 2026-12-07 (hits in rude performances)
        "passed_agreement": 0.94,
    },
    # set O: floors from its first (independent) use (its README)
    "heldout_o": {
        "step_recall": 0.87,
        "step_precision": 0.94,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.55,  # 0.78 before the brush-offs of 2026-12-05
        "passed_agreement": 0.92,
    },
    # set N: floors from its first (independent) use (its README)
    "heldout_n": {
        "step_recall": 0.88,
        "step_precision": 0.93,
        "forbidden_recall": 0.82,
        "forbidden_precision": 0.59,  # 0.63 before the manner entries of 2026-12-07 (hits in rude performances); 0.70 before the brush-offs of 2026-12-05
        "passed_agreement": 0.84,
    },
    # set M: floors from its first (independent) use (its README)
    "heldout_m": {
        "step_recall": 0.90,
        "step_precision": 0.94,
        "forbidden_recall": 0.90,
        "forbidden_precision": 0.59,  # 0.63 before the manner entries of 2026-12-07 (hits in rude performances); 0.72 before the brush-offs of 2026-12-05
        "passed_agreement": 0.95,
    },
    # set L: floors from its first (independent) use (its README)
    "heldout_l": {
        "step_recall": 0.89,
        "step_precision": 0.95,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.49,  # 0.53 before the manner entries of 2026-12-07 (hits in rude performances); 0.63 before the brush-offs of 2026-12-05
        "passed_agreement": 0.94,
    },
    # set K: floors from its first (independent) use (its README)
    "heldout_k": {
        "step_recall": 0.92,
        "step_precision": 0.94,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.54,  # 0.61 before the manner entries of 2026-12-07 (hits in rude performances); 0.70 before the brush-offs of 2026-12-05
        "passed_agreement": 0.92,
    },
    # set J: floors from its first (independent) use (its README)
    "heldout_j": {
        "step_recall": 0.89,
        "step_precision": 0.93,
        "forbidden_recall": 0.90,
        "forbidden_precision": 0.56,  # 0.64 before the manner entries of 2026-12-07 (hits in rude performances); 0.66 before 随你 (2026-12-06): 嫌我态度不好你去投诉吧，随你 is a 忌语 the labeller left as one entry
        "passed_agreement": 0.90,
    },
    # set I: floors from its first (independent) use (its README)
    "heldout_i": {
        "step_recall": 0.89,
        "step_precision": 0.92,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.55,  # 0.68 before the brush-offs of 2026-12-05
        "passed_agreement": 0.78,
    },
    # set F: floors from its first (independent) use (its README)
    "heldout_f": {
        "step_recall": 0.86,
        "step_precision": 0.91,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.55,  # 0.68 before the brush-offs of 2026-12-05
        "passed_agreement": 0.72,
    },
    # set E: floors from its first (independent) use (its README)
    "heldout_e": {
        "step_recall": 0.83,
        "step_precision": 0.90,
        "forbidden_recall": 0.95,
        "forbidden_precision": 0.48,  # 0.61 before the manner entries of 2026-12-07 (hits in rude performances); 0.72 before the brush-offs of 2026-12-05
        "passed_agreement": 0.76,
    },
    # set D: floors from its first (independent) use with the three-way verdict (its README)
    "heldout_d": {
        "step_recall": 0.85,
        "step_precision": 0.92,
        "forbidden_recall": 0.70,
        "forbidden_precision": 0.51,
        "passed_agreement": 0.76,
    },
}
# Clean-turn 忌语 hits in performances the writer passes, measured 2026-12-05 (each a 忌语 word meant
# otherwise: 领导专门定的便民措施, 先挂了啊，再见, 要是不清楚, 这不是难事; set W: 是该下班了，不过…, which since goes to an
# instructor; set Y: 甭管该下班了没有，进门就给您办, which goes to an instructor): never more.
# Sets AC and AD: 虽说五点该下班了，您人进来了…, 管它该下班了没有，… (each goes to an instructor); set AE: 唔系没有办法
# (a denial in Cantonese-flavoured Mandarin, which goes to an instructor). Set AH: 催过还不交，是可以停电的 and
# 不是说这事解决不了 (each words of a 忌语 reordered, which goes to an instructor). Set AI: 这事不是解决不了 (the words of
# 这不是我的事情 reordered, which goes to an instructor). Set AP: 逾期不交是可以停电的 (the words of 不交就停电 reordered in a
# rule explained, which goes to an instructor).
PASSING_FALSE_HITS = {"heldout_ap": 1, "heldout_ai": 1, "heldout_ah": 2, "heldout_c": 1, "heldout_h": 1, "heldout_k": 1, "heldout_l": 1, "heldout_t": 1, "heldout_w": 1, "heldout_y": 1, "heldout_ac": 1, "heldout_ad": 1, "heldout_ae": 1}
SIZES = {"heldout": 36, "heldout_c": 48, "heldout_d": 54, "heldout_e": 60, "heldout_f": 64, "heldout_g": 64, "heldout_h": 64, "heldout_i": 64, "heldout_j": 64, "heldout_k": 64, "heldout_l": 64, "heldout_m": 64, "heldout_n": 64, "heldout_o": 64, "heldout_p": 64, "heldout_q": 64, "heldout_r": 67, "heldout_s": 65, "heldout_t": 64, "heldout_u": 65, "heldout_v": 67, "heldout_w": 66, "heldout_x": 66, "heldout_y": 65, "heldout_z": 64, "heldout_aa": 68, "heldout_ab": 67, "heldout_ac": 67, "heldout_ad": 65, "heldout_ae": 64, "heldout_af": 65, "heldout_ag": 65, "heldout_ah": 67, "heldout_ai": 72, "heldout_aj": 72, "heldout_ak": 72, "heldout_al": 68, "heldout_am": 74, "heldout_an": 72, "heldout_ao": 66, "heldout_ap": 68}


def eval_folders(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A held-out set laid out as `trainer eval` folders (labels.json only)."""
    root = tmp_path_factory.mktemp(name)
    for performance in json.loads((DATA / name / "performances.json").read_text(encoding="utf-8")):
        folder = root / performance["id"]
        folder.mkdir()
        for number, turn in enumerate(performance["turns"], start=1):
            turn.setdefault("file", f"turn{number:02d}.wav")  # texts only: the files are never read with --oracle
        (folder / "labels.json").write_text(json.dumps(performance, ensure_ascii=False), encoding="utf-8")
    return root


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_heldout_oracle_figures_stay_above_their_floors(
    name: str, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["eval", str(eval_folders(tmp_path_factory, name)), "--oracle", "--mode", "turns", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    turns = json.loads(out)["modes"]["turns"]
    assert turns["performances"] == SIZES[name]
    got = {
        "step_recall": turns["steps"]["recall"],
        "step_precision": turns["steps"]["precision"],
        "forbidden_recall": turns["forbidden"]["recall"],
        "forbidden_precision": turns["forbidden"]["precision"],
        "passed_agreement": turns["passed"]["rate"],
    }
    low = {figure: value for figure, value in got.items() if value < FLOORS[name][figure]}
    assert not low, f"{name} below the floor: {low} (floors {FLOORS[name]}); disagreements: {turns['disagreements']}"
    assert turns["passing_false_hits"] <= PASSING_FALSE_HITS.get(name, 0), turns["disagreements"]
