"""Moving-shapes video QA: frame order decides direction answers, frames follow the tracks."""

from pathlib import Path

import numpy as np
import pytest
import torch

from plait.data import DataError, EasyVQADataModule, MovingShapesDataModule
from plait.data.sources.moving_shapes import (
    ANSWERS,
    DIRECTIONS,
    KINDS,
    OPPOSITE,
    RGB,
    direction_of,
    render,
)

DIRECTION = KINDS.index("direction")


def module(cache: Path, **kwargs) -> MovingShapesDataModule:
    kwargs = {"num_clips": 40, "batch_size": 12, "question_vocab": "own", **kwargs}
    data = MovingShapesDataModule(cache_dir=str(cache), **kwargs)
    data.prepare_data()
    data.setup()
    return data


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> MovingShapesDataModule:
    return module(tmp_path_factory.mktemp("shapes"))


def test_batches_are_keyed_typed_and_shaped(shapes: MovingShapesDataModule):
    batch = next(iter(shapes.train_dataloader()))
    assert set(batch) == shapes.provides == {"frames", "question", "answer", "kind"}
    assert batch["frames"].dtype == torch.float32 and batch["frames"].shape == (12, 8, 3, 64, 64)
    assert batch["frames"].min() >= 0 and batch["frames"].max() <= 1
    assert batch["question"].dtype == torch.int64 and batch["question"].shape == (12, 12)
    assert int(batch["question"].max()) < shapes.vocab_size
    assert int(batch["answer"].max()) < len(ANSWERS) == shapes.num_answers == 15
    assert set(batch["kind"].tolist()) <= {0, 1, 2}


def test_splits_hold_whole_clips_and_every_kind(shapes: MovingShapesDataModule):
    clips = {name: set(shapes.splits[name].ids.tolist()) for name in ("train", "val", "test")}
    assert [len(c) for c in clips.values()] == [32, 4, 4]
    assert not clips["train"] & (clips["val"] | clips["test"]) and not clips["val"] & clips["test"]
    kinds = shapes.splits["train"].columns["kind"]
    assert np.bincount(kinds).tolist() == [32, 32, 32]


def test_frame_order_options(tmp_path: Path, shapes: MovingShapesDataModule):
    reversed_ = module(tmp_path, frame_order="reversed")
    shuffled = module(tmp_path, frame_order="shuffled")
    rows = list(range(12))
    forward = shapes.splits["test"].__getitems__(rows)
    backward = reversed_.splits["test"].__getitems__(rows)
    assert torch.equal(backward["frames"], forward["frames"].flip(1))
    is_direction = forward["kind"] == DIRECTION
    assert torch.equal(backward["answer"][is_direction],
                       torch.from_numpy(OPPOSITE)[forward["answer"][is_direction]])
    assert torch.equal(backward["answer"][~is_direction], forward["answer"][~is_direction])
    mixed = shuffled.splits["test"].__getitems__(rows)["frames"]
    assert torch.allclose(mixed.sum(1), forward["frames"].sum(1), atol=1e-4)  # same frames
    assert not torch.equal(mixed, forward["frames"])


def test_frames_follow_the_tracks(tmp_path: Path):
    data = module(tmp_path, max_shapes=1)
    clips = data.splits["train"].shared["frames"].clips
    for clip, video in enumerate(render(clips, np.arange(10), 64)):  # (T, 3, S, S) each
        paint = RGB[clips["colours"][clip, 0]]
        for t, frame in enumerate(video):
            ys, xs = np.nonzero((frame != frame[:, :1, :1]).any(0))  # not background
            centre = ((xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2)
            assert np.allclose(centre, clips["tracks"][clip, 0, t], atol=1.0)
            assert np.allclose(frame[:, ys, xs], paint[:, None])


def test_answers_follow_the_tracks(shapes: MovingShapesDataModule):
    folder = shapes.data_dir
    tracks, colours = np.load(folder / "tracks.npy"), np.load(folder / "colours.npy")
    answers, kinds = np.load(folder / "answers.npy"), np.load(folder / "kinds.npy")
    lines = (folder / "questions.txt").read_text().splitlines()
    for row, text in enumerate(lines):
        clip, q = divmod(row, 3)
        if kinds[clip, q] == DIRECTION:
            colour_words = [w for w in text.split() if w in ANSWERS]
            assert ANSWERS[answers[clip, q]] in DIRECTIONS
            slots = [k for k in range(2) if colours[clip, k] >= 0
                     and ANSWERS[4 + colours[clip, k]] in colour_words]
            for k in slots:
                assert direction_of(tracks[clip, k]) == answers[clip, q]


def test_generation_is_deterministic_by_generator_seed(tmp_path: Path, shapes: MovingShapesDataModule):
    again, other = module(tmp_path), module(tmp_path, generator_seed=1)
    assert np.array_equal(np.load(again.data_dir / "tracks.npy"), np.load(shapes.data_dir / "tracks.npy"))
    assert not np.array_equal(np.load(other.data_dir / "tracks.npy"), np.load(shapes.data_dir / "tracks.npy"))
    assert again.vocab == shapes.vocab


def test_easy_vqa_vocabulary_keeps_its_ids(tmp_path: Path, vqa: EasyVQADataModule):
    data = module(Path(vqa.cache_dir), question_vocab="easy_vqa", easy_vqa_seed=vqa.seed)
    assert {w: data.vocab[w] for w in vqa.vocab} == vqa.vocab
    assert sorted(set(data.vocab) - set(vqa.vocab)) == ["direction", "move"]
    assert max(data.vocab.values()) == len(vqa.vocab) + 3 < data.vocab_size == 32


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"frame_order": "random"}, r"data\.frame_order must be one of \['forward', 'shuffled', "
                                r"'reversed'\], got 'random'"),
    ({"question_vocab": "glove"}, r"data\.question_vocab must be one of \['easy_vqa', 'own'\]"),
    ({"frames": 1}, r"data\.frames must be at least 2, got 1"),
    ({"max_shapes": 4}, r"data\.max_shapes must be at most 3 \(one per shape"),
])
def test_bad_arguments_fail_at_construction(kwargs: dict, message: str):
    with pytest.raises(DataError, match=message):
        MovingShapesDataModule(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_answers": 13}, r"the data has 15 answers, but data\.num_answers is 13"),
    ({"max_question_len": 5}, r"7 words in the longest question, but data\.max_question_len is 5"),
    ({"vocab_size": 10}, r"need data\.vocab_size >= 21 .* but data\.vocab_size is 10"),
])
def test_sizes_are_checked_in_setup(tmp_path: Path, kwargs: dict, message: str):
    with pytest.raises(DataError, match=message):
        module(tmp_path, **kwargs)


def test_unreachable_travel_is_named(tmp_path: Path):
    with pytest.raises(DataError, match=r"data\.min_travel=40 cannot be reached in a 64-pixel frame"):
        module(tmp_path, min_travel=40)
