"""Words to token ids: a tokenizer, a vocabulary built from training text, padding."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from plait.data.checks import DataError

PAD, OOV = 0, 1
_WORD = re.compile(r"[a-z0-9']+")


def tokenize(text: str) -> list[str]:
    """Lower-cased words: `"What color is the shape?"` -> `["what", "color", "is", ...]`."""
    return _WORD.findall(text.lower())


def build_vocab(texts: Iterable[Sequence[str]], *, vocab_size: int, cap: bool = False,
                owner: str, key: str = "data.vocab_size") -> dict[str, int]:
    """A word -> id table from tokenized training texts, at most `vocab_size` ids in all:
    0 is padding, 1 out-of-vocabulary, words follow from 2, most frequent first (ties
    alphabetical), so the same training text always gives the same ids.

    Args:
        texts: tokenized texts of the training split only.
        vocab_size: the size of the embedding table the ids index, padding and OOV included.
        cap: keep only the `vocab_size - 2` most frequent words (the rest become OOV)
            instead of raising when there are more.
        owner, key: the DataModule and the config key of `vocab_size`, for error messages.

    Raises:
        DataError: the words need more than `vocab_size` ids and `cap` is False.
    """
    counts = Counter(word for text in texts for word in text)
    needed = len(counts) + 2
    if needed > vocab_size and not cap:
        raise DataError(
            f"{owner}: the training text has {len(counts)} distinct words, which need "
            f"{key} >= {needed} (padding and out-of-vocabulary included), but {key} is "
            f"{vocab_size}. Raise {key} to {needed}, or set data.cap_vocab=true to map the "
            "rarest words to out-of-vocabulary.")
    words = sorted(counts, key=lambda w: (-counts[w], w))[:max(vocab_size - 2, 0)]
    return {word: i + 2 for i, word in enumerate(words)}


def encode(texts: Sequence[Sequence[str]], vocab: dict[str, int], *,
           width: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids right-padded to `width`, and each text's length (cut at `width`).

    Returns:
        ids `(N, width)` int64, lengths `(N,)` int64.
    """
    ids = np.full((len(texts), width), PAD, dtype=np.int64)
    lengths = np.empty(len(texts), dtype=np.int64)
    for row, text in enumerate(texts):
        tokens = [vocab.get(word, OOV) for word in text[:width]]
        ids[row, :len(tokens)] = tokens
        lengths[row] = len(tokens)
    return ids, lengths


def extend_vocab(base: dict[str, int], texts: Iterable[Sequence[str]], *, vocab_size: int,
                 owner: str, base_name: str) -> dict[str, int]:
    """`base`'s ids kept, and the words of `texts` it lacks given the ids after them, so an
    embedding trained on `base`'s data reads the new data's known words.

    Args:
        base: the vocabulary to keep, e.g. easy-VQA's.
        texts: tokenized texts of the training split only.
        vocab_size: the size of the embedding table, padding and OOV included.
        owner, base_name: the DataModule and `base`'s data set, for error messages.

    Raises:
        DataError: the ids need more than `vocab_size`.
    """
    new = [[w for w in text if w not in base] for text in texts]
    start, words = len(base) + 2, {w for text in new for w in text}
    if start + len(words) > vocab_size:
        raise DataError(f"{owner}: {base_name}'s {len(base)} words and {len(words)} new "
                        f"words need data.vocab_size >= {start + len(words)} (padding and "
                        f"out-of-vocabulary included), but data.vocab_size is {vocab_size}.")
    added = build_vocab(new, vocab_size=vocab_size - start + 2, owner=owner)
    return base | {w: i + start - 2 for w, i in added.items()}


def inverse_document_frequency(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """Each id's IDF over the training texts, as scikit-learn's `TfidfVectorizer` smooths it:
    `ln((1 + N) / (1 + df)) + 1` for a text count N and `df` texts holding the id; 0 for
    padding and out-of-vocabulary, which a bag of words leaves out.

    Args:
        ids: `(N, T)` token ids of the training split, padded with `PAD`.
        vocab_size: the number of ids.

    Returns:
        `(vocab_size,)` float32.
    """
    held = np.unique(np.arange(len(ids))[:, None] * vocab_size + ids)  # (text, id) pairs, once each
    df = np.bincount(held % vocab_size, minlength=vocab_size)  # (V,) texts holding each id
    idf = np.log((1 + len(ids)) / (1 + df)) + 1
    idf[[PAD, OOV]] = 0
    return idf.astype(np.float32)


def tf_idf(ids: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """Bags of words weighted as scikit-learn's `TfidfVectorizer` weights them (its defaults:
    `smooth_idf`, `norm="l2"`): each id's count in a text times its IDF, the row scaled to
    unit length. Keras's `TextVectorization(output_mode="tf_idf")` is the same idea with
    another IDF (`ln(1 + N / (1 + df))`, OOV given the mean IDF) and no row scaling.

    Args:
        ids: `(B, T)` token ids, padded with `PAD`.
        idf: `(V,)` from `inverse_document_frequency` on the training split.

    Returns:
        `(B, V)` float32; a text without known words gives zeros.
    """
    cells = (np.arange(len(ids))[:, None] * len(idf) + ids).reshape(-1)  # (B * T,) row-major (text, id)
    counts = np.bincount(cells, minlength=len(ids) * len(idf)).reshape(len(ids), len(idf))  # (B, V)
    weighted = counts.astype(np.float32) * idf
    norms = np.linalg.norm(weighted, axis=1, keepdims=True)  # (B, 1)
    return weighted / np.where(norms > 0, norms, 1.0)
