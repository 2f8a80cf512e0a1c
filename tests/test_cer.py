from __future__ import annotations

import pytest

from trainer.text.cer import cer, char_errors, corpus_cer, normalize_for_cer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("您好，请坐！", "您好请坐"),
        ("  您 好 ", "您好"),
        ("這傢公司宣佈", "这家公司宣布"),  # traditional -> simplified
        ("設定29度", "设定二十九度"),  # a number is read as a number
        ("要走到1.5倍", "要走到一点五倍"),
        ("2016年", "二零一六年"),  # years digit by digit (cn2an)
        ("至少15万个", "至少十五万个"),
        ("请拨打95598。", "请拨打九五五九八"),  # 5+ digits: a digit string
        ("13253263647", "一三二五三二六三六四七"),
        ("分机0571", "分机零五七一"),  # leading zero: a digit string
        ("３Ｄ打印", "三d打印"),  # full-width -> half-width
        ("SAMSUNG PAY", "samsungpay"),
        ("三八九九四五二幺", "三八九九四五二一"),  # telephone 幺 = 一
        ("二〇一四年", "二零一四年"),
        ("百分之50", "百分之五十"),
        ("“好的”——谢谢……", "好的谢谢"),
        ("", ""),
    ],
)
def test_normalize_for_cer(text: str, expected: str) -> None:
    assert normalize_for_cer(text) == expected


def test_cer_counts_edits_over_reference_length() -> None:
    assert cer("设定二十九度", "設定29度。") == 0.0
    assert cer("您好请坐", "您好请") == pytest.approx(0.25)
    assert cer("您好请坐", "你好请坐") == pytest.approx(0.25)
    assert cer("您好", "您好请坐") == pytest.approx(1.0)  # insertions count
    assert cer("abc", "ABC", normalize=False) == pytest.approx(1.0)
    assert char_errors("您好请坐", "您请坐呀") == (2, 4)


def test_empty_reference() -> None:
    assert cer("", "") == 0.0
    assert cer("，", "您好") == 1.0


def test_corpus_cer_weights_by_length() -> None:
    pairs = [("您好请坐", "您好请坐"), ("再见", "再")]
    assert corpus_cer(pairs) == pytest.approx(1 / 6)
    with pytest.raises(ValueError):
        corpus_cer([("。", "")])
