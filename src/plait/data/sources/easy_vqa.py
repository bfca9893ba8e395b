"""easy-VQA: 64x64 shape images, templated questions about them, 13 one-word answers.

The data ships inside the `easy-vqa` 1.0 wheel (MIT): 4,000 train and 1,000 test PNGs,
38,575 and 9,673 questions. `extract` fetches the pinned wheel and decodes every PNG once
into a uint8 array in the cache folder; after that, loading is a `np.load`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from plait.data.checks import DataError
from plait.data.fetch import CacheError, PinnedWheel, fetch_wheel, read_member
from plait.data.text import tokenize

WHEEL = PinnedWheel("easy-vqa", "1.0",
                    "fcb51b309b78c7b00f97b64cdbcbcf5c105f94da1b39c0796cee5a787c4f650f")
_ROOT = "easy_vqa/data"
_SIZE = 64


def cache_folder(cache_dir: Path) -> Path:
    """The cache folder with the decoded images, questions and answers."""
    return cache_dir / f"easy_vqa-{WHEEL.version}"


@dataclass
class Questions:
    """One split's questions: tokenized, with answer indices and the image each asks about."""

    tokens: list[list[str]]
    answers: np.ndarray  # (N,) int64
    image_ids: np.ndarray  # (N,) int64

    def select(self, rows: np.ndarray) -> Questions:
        return Questions([self.tokens[i] for i in rows], self.answers[rows], self.image_ids[rows])


def read_answers(folder: Path) -> list[str]:
    """The answers in the package's order (`answers.txt`)."""
    return (folder / "answers.txt").read_text().split()


def read_questions(folder: Path, split: str, answers: list[str]) -> Questions:
    """The package's `[[question, answer, image_id], ...]` of `split`, tokenized and indexed."""
    path = folder / f"{split}_questions.json"
    rows = json.loads(path.read_text())
    index = {answer: i for i, answer in enumerate(answers)}
    unknown = sorted({answer for _, answer, _ in rows} - index.keys())
    if unknown:
        raise DataError(f"{path}: answers {unknown} are not in answers.txt {answers}")
    return Questions(tokens=[tokenize(q) for q, _, _ in rows],
                      answers=np.array([index[a] for _, a, _ in rows], dtype=np.int64),
                      image_ids=np.array([i for _, _, i in rows], dtype=np.int64))


def extract(cache_dir: Path, dest: Path) -> None:
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
