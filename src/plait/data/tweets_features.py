"""What a tweet's metadata and counts become: a feature vector and the targets to predict.

Times are read in US Eastern time, where the account was run from. Popularity grew ten-
thousandfold over the years (a median of 5 favorites in 2010, 76,178 in 2017), so
the `popular` target compares a tweet only with the training tweets of its own month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plait.data.checks import DataError
from plait.data.sources.tweets import ANDROID, IPHONE, TweetTable

WEB_CLIENT = "Twitter Web Client"
ZONE = "America/New_York"
META_FEATURES = ("hour_sin", "hour_cos", "weekday_sin", "weekday_cos", "year", "log_chars",
                 "is_reply", "has_url", "mention", "android", "iphone", "web_client")
TARGET_KINDS = ("popular", "log_favorites", "log_retweets", "android", "hour")


def local_times(table: TweetTable) -> pd.DatetimeIndex:
    """When each tweet was sent, in US Eastern time."""
    return pd.to_datetime(table.created, unit="s", utc=True).tz_convert(ZONE)


def meta_features(table: TweetTable) -> np.ndarray:
    """`(N, 12)` float64 metadata, in the order of `META_FEATURES` (not yet standardised).

    Hour and weekday are placed on a circle (sin, cos) so 23:00 lies next to 00:00; `year`
    is fractional; `mention` marks a tweet that names another account (`@...`).
    """
    times = local_times(table)
    hour = (times.hour + times.minute / 60).to_numpy() * (2 * np.pi / 24)
    weekday = times.weekday.to_numpy() * (2 * np.pi / 7)
    year = (times.year + (times.dayofyear - 1) / 366).to_numpy()
    text = pd.Series(table.text)
    columns = [np.sin(hour), np.cos(hour), np.sin(weekday), np.cos(weekday), year,
               np.log1p(text.str.len().to_numpy()), table.is_reply,
               text.str.contains("http").to_numpy(), text.str.contains("@").to_numpy(),
               table.source == ANDROID, table.source == IPHONE, table.source == WEB_CLIENT]
    return np.stack(columns, axis=1).astype(np.float64)


def check_targets(targets: dict[str, str], num_hour_buckets: int, owner: str) -> None:
    """Raise a `DataError` for an unknown target kind or an `hour` bucket count not dividing 24."""
    for key, kind in targets.items():
        if kind not in TARGET_KINDS:
            raise DataError(f"{owner}: data.targets.{key} is {kind!r}; expected one of "
                            f"{list(TARGET_KINDS)}.")
    if "hour" in targets.values() and (num_hour_buckets < 2 or 24 % num_hour_buckets):
        raise DataError(f"{owner}: data.num_hour_buckets must divide 24 into at least 2 "
                        f"buckets (2, 3, 4, 6, 8, 12, 24), got {num_hour_buckets}.")


def make_target(kind: str, table: TweetTable, *, train: TweetTable, buckets: int, key: str,
                owner: str) -> np.ndarray:
    """One target column for `table`; thresholds come from the `train` tweets only.

    Returns:
        `(N,)` float32 for `popular`, `android` (0/1) and the `log_*` counts; int64 hour
        buckets for `hour`.

    Raises:
        DataError: `android` asked of tweets from other sources than Android and iPhone.
    """
    if kind == "popular":
        return (table.favorites > month_medians(table, train)).astype(np.float32)
    if kind == "log_favorites":
        return np.log1p(table.favorites).astype(np.float32)
    if kind == "log_retweets":
        return np.log1p(table.retweets).astype(np.float32)
    if kind == "android":
        others = sorted(set(table.source.tolist()) - {ANDROID, IPHONE})
        if others:
            raise DataError(f"{owner}: data.targets.{key} is 'android' (Android 1, iPhone 0), "
                            f"but tweets also come from {others}. Set data.sources to "
                            f"['{ANDROID}', '{IPHONE}'].")
        return (table.source == ANDROID).astype(np.float32)
    if kind == "hour":
        return (local_times(table).hour.to_numpy() // (24 // buckets)).astype(np.int64)
    raise DataError(f"{owner}: data.targets.{key} is {kind!r}; expected one of {list(TARGET_KINDS)}.")


def month_medians(table: TweetTable, train: TweetTable) -> np.ndarray:
    """For each tweet of `table`, the median favorites of the training tweets of its month.

    A month without training tweets (possible only in 2009-2010, with a handful of tweets
    a month) takes its year's median.
    """
    train_times, times = local_times(train), local_times(table)
    favorites = pd.Series(train.favorites, dtype=np.float64)
    by_month = favorites.groupby(train_times.strftime("%Y-%m").to_numpy()).median()
    by_year = favorites.groupby(train_times.year.to_numpy()).median()
    month = pd.Series(times.strftime("%Y-%m")).map(by_month)
    year = pd.Series(times.year).map(by_year).fillna(float(favorites.median()))
    return month.fillna(year).to_numpy()
