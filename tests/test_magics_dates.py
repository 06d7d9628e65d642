"""Date expressions of --since / --until, and the small parsers behind %kounta."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kounta_nb.callback import parse_redirect
from kounta_nb.dates import parse_moment
from kounta_nb.errors import ConfigError
from kounta_nb.magic_args import parse_pairs, strip_comment

SYD = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 5, 29, 14, 30, tzinfo=SYD)


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("30d", False, NOW - timedelta(days=30)),
        ("12h", False, NOW - timedelta(hours=12)),
        ("2w", False, NOW - timedelta(weeks=2)),
        ("90min", False, NOW - timedelta(minutes=90)),
        ("6m", False, datetime(2025, 11, 29, 14, 30, tzinfo=SYD)),
        ("3mo", False, datetime(2026, 2, 28, 14, 30, tzinfo=SYD)),
        ("1y", False, datetime(2025, 5, 29, 14, 30, tzinfo=SYD)),
        ("1.5d", False, NOW - timedelta(days=1.5)),
        ("today", False, datetime(2026, 5, 29, tzinfo=SYD)),
        ("today", True, NOW),
        ("yesterday", False, datetime(2026, 5, 28, tzinfo=SYD)),
        ("yesterday", True, datetime(2026, 5, 29, tzinfo=SYD)),
        ("now", False, NOW),
        ("2026-05-01", False, datetime(2026, 5, 1, tzinfo=SYD)),
        ("2026-05-01", True, datetime(2026, 5, 2, tzinfo=SYD)),
        ("2026-05-01T14:00", False, datetime(2026, 5, 1, 14, tzinfo=SYD)),
        ("2026-05-01T04:00:00Z", False, datetime(2026, 5, 1, 14, tzinfo=SYD)),
        (" TODAY ", False, datetime(2026, 5, 29, tzinfo=SYD)),
    ],
)
def test_parse_moment__forms(text, end, expected):
    moment = parse_moment(text, tz=SYD, now=NOW, end=end)
    assert moment == expected and moment.tzinfo is not None


def test_parse_moment__local_midnight_across_dst():
    # 5 April 2026: Sydney leaves daylight time; midnight keeps the right offset each side.
    before = parse_moment("2026-04-04", tz=SYD, now=NOW)
    after = parse_moment("2026-04-06", tz=SYD, now=NOW)
    assert before.utcoffset() == timedelta(hours=11) and after.utcoffset() == timedelta(hours=10)


@pytest.mark.parametrize("text", ["7x", "2026-13-01", "", "last", "soon", "30 days ago", "1.5m"])
def test_parse_moment__bad_input_is_one_sentence(text):
    with pytest.raises(ConfigError) as info:
        parse_moment(text, tz=SYD, now=NOW)
    assert "\n" not in str(info.value) and str(info.value).endswith(".")


def test_parse_pairs__numbers_booleans_text():
    assert parse_pairs(["value_gt=40", "x=1.5", "unprocessed=true", "email=a@b.c"], "filter") == {
        "value_gt": 40, "x": 1.5, "unprocessed": True, "email": "a@b.c"}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_pairs(["oops"], "filter")


def test_parse_redirect__code_state_or_error():
    assert parse_redirect("http://127.0.0.1:5/cb?code=abc&state=s1") == {"code": "abc", "state": "s1"}
    assert parse_redirect(" https://x/cb?error=access_denied&state=s ")["error"] == "access_denied"
    with pytest.raises(ConfigError, match=r"\?code="):
        parse_redirect("https://x/cb")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("orders --since 7d   # a week", "orders --since 7d"),
        ("# only a comment", ""),
        ('venue "My #1 Bar"  # quoted hash stays', 'venue "My #1 Bar"'),
        ("get orders/saleid/A#12", "get orders/saleid/A#12"),
        ("venue 'it''s #2' #x", "venue 'it''s #2'"),
        ("orders", "orders"),
    ],
)
def test_strip_comment__only_a_hash_that_starts_a_word_outside_quotes(line: str, expected: str) -> None:
    assert strip_comment(line) == expected
