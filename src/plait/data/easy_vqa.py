"""easy-VQA (read by `plait.data.sources.easy_vqa`) as image/question batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from plait.data.base import DictDataModule, split_indices
from plait.data.checks import room
from plait.data.columns import ColumnDataset, shared_rows, trimmed
from plait.data.fetch import require_cached_dir
from plait.data.sources import easy_vqa
from plait.data.sources.easy_vqa import Questions, read_answers, read_questions
from plait.data.text import build_vocab, encode


class EasyVQADataModule(DictDataModule):
    """easy-VQA batches: an `image` in [0, 1], `question` token ids right-padded with 0,
    and the `answer`'s class index.

    The package's train images are split into train and val by `seed` (whole images, so no
    val image is seen in training); its test split is the test set. The vocabulary comes
    from the train part only; answers keep the package's order (`answers.txt`).

    Args:
        vocab_size: token ids the embedding holds, padding and OOV included (`build_vocab`);
            the data needs 28.
        num_answers: answer classes the head predicts; the data has 13.
        max_question_len: the longest question allowed, in words; the data's longest has 9.
        fixed_length: pad every question to `max_question_len`, not to the batch's longest.
        cap_vocab: map the rarest words to OOV rather than raise when they need more ids.
        **common: as `DictDataModule`; `val_fraction` is a share of the train images
            (`test_fraction` is unused: the package has its own test split).

    Shape:
        image `(B, 3, 64, 64)` float32, question `(B, T)` int64 with `T <= max_question_len`,
        answer `(B,)` int64.
    """

    keys = ("image", "question", "answer")
    source = easy_vqa

    def __init__(self, *, vocab_size: int = 32, num_answers: int = 13,
                 max_question_len: int = 12, fixed_length: bool = False,
                 cap_vocab: bool = False, **common: Any) -> None:
        super().__init__(**common)
        self.vocab_size = vocab_size
        self.num_answers = num_answers
        self.max_question_len = max_question_len
        self.fixed_length = fixed_length
        self.cap_vocab = cap_vocab
        self.vocab: dict[str, int] = {}
        self.answers: list[str] = []

    def build_splits(self) -> dict[str, ColumnDataset]:
        folder = self.cached_dir()
        self.answers = read_answers(folder)
        train, test = (read_questions(folder, split, self.answers) for split in ("train", "test"))
        longest = max(len(t) for t in train.tokens + test.tokens)
        self.check(room("num_answers", self.num_answers, len(self.answers),
                        f"the data has {len(self.answers)} answers"),
                   room("max_question_len", self.max_question_len, longest,
                        f"the data has {longest} words in the longest question"))
        images = {s: np.load(folder / f"{s}_images.npy") for s in ("train", "test")}
        rows = train_val_rows(train, len(images["train"]), val_fraction=self.val_fraction,
                              seed=self.seed, owner=self.owner)
        self.vocab = build_vocab([train.tokens[i] for i in rows["train"]],
                                 vocab_size=self.vocab_size, cap=self.cap_vocab, owner=self.owner)
        return {"train": self._dataset(images["train"], train.select(rows["train"])),
                "val": self._dataset(images["train"], train.select(rows["val"])),
                "test": self._dataset(images["test"], test)}

    def _dataset(self, images: np.ndarray, questions: Questions) -> ColumnDataset:
        ids, lengths = encode(questions.tokens, self.vocab, width=self.max_question_len)
        pad_to = self.max_question_len if self.fixed_length else None
        return ColumnDataset({"image": shared_rows(images, questions.image_ids, scale=True),
                              "question": trimmed(ids, lengths, pad_to=pad_to),  # (B, T)
                              "answer": questions.answers},  # (B,)
                             questions=ids, lengths=lengths, image_ids=questions.image_ids)


def train_val_rows(train: Questions, num_images: int, *, val_fraction: float, seed: int,
                   owner: str) -> dict[str, np.ndarray]:
    """The package's train questions cut into train and val rows by whole images."""
    held_out = split_indices(num_images, val_fraction=val_fraction, test_fraction=0.0,
                             seed=seed, owner=owner)["val"]
    is_val = np.isin(train.image_ids, held_out)
    return {"train": np.flatnonzero(~is_val), "val": np.flatnonzero(is_val)}


def easy_vqa_vocab(cache_dir: Path, *, seed: int, owner: str, val_fraction: float = 0.1,
                   vocab_size: int = 32) -> dict[str, int]:
    """The question vocabulary an `EasyVQADataModule` of `seed` and default settings builds
    (the `vqa` experiment's), for data sets whose questions its encoder is to read.

    Raises:
        CacheError: easy-VQA's cache is missing; `EasyVQADataModule.prepare_data` builds it.
    """
    folder = require_cached_dir(easy_vqa.cache_folder(cache_dir), owner)
    train = read_questions(folder, "train", read_answers(folder))
    num_images = len(np.load(folder / "train_images.npy", mmap_mode="r"))
    rows = train_val_rows(train, num_images, val_fraction=val_fraction, seed=seed, owner=owner)
    return build_vocab([train.tokens[i] for i in rows["train"]], vocab_size=vocab_size,
                       owner=owner)
