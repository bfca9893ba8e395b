"""Moving MNIST 5k digits: deterministic videos whose direction only frame order tells."""

from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from sklearn.linear_model import LogisticRegression

from plait.data import DataError, MovingDigitsDataModule
from plait.data.sources.mnist import load_mnist
from plait.spec import build_graph
from plait.train.build import graph_spec

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture(scope="module")
def videos(plait_cache: Path) -> MovingDigitsDataModule:
    data = MovingDigitsDataModule(cache_dir=str(plait_cache), batch_size=16)
    data.prepare_data()
    data.setup("fit")
    return data


def _columns(data: MovingDigitsDataModule, split: str) -> np.ndarray:
    """Where the digit is, left to right, in each rendered frame: `(N, T)` centres of ink."""
    dataset, centres = data.splits[split], []
    for start in range(0, len(dataset), 500):
        frames = dataset.__getitems__(range(start, min(start + 500, len(dataset))))["video"]
        ink = frames[:, :, 0].sum(dim=2).numpy()  # (B, T, canvas): ink per column
        centres.append((ink * np.arange(ink.shape[-1])).sum(-1) / ink.sum(-1))
    return np.concatenate(centres)


def test_batches_are_keyed_typed_and_shaped(videos: MovingDigitsDataModule):
    assert videos.provides == {"video", "digit", "direction"}
    batch = next(iter(videos.train_dataloader()))
    assert batch["video"].shape == (16, 8, 1, 36, 36) and batch["video"].dtype == torch.float32
    assert batch["video"].min() >= 0 and batch["video"].max() <= 1
    assert batch["digit"].dtype == torch.int64 and batch["direction"].dtype == torch.float32
    assert [len(videos.splits[s]) for s in ("train", "val", "test")] == [3500, 500, 1000]


def test_every_frame_shows_the_whole_digit(videos: MovingDigitsDataModule):
    dataset = videos.splits["val"]
    batch = dataset.__getitems__(list(range(50)))
    ink = batch["video"].sum(dim=(2, 3, 4))  # (B, T): nothing is clipped at the walls
    expected = torch.from_numpy(dataset.digits[dataset.rows[:50]].sum(axis=(1, 2)))
    assert torch.allclose(ink, expected[:, None].expand_as(ink), rtol=1e-5)


def test_videos_show_their_own_splits_digits(plait_cache: Path, videos: MovingDigitsDataModule):
    _, labels = load_mnist(plait_cache, "test")
    for split in ("train", "val", "test"):
        dataset = videos.splits[split]
        assert np.array_equal(labels[videos.image_ids[split][dataset.rows]], dataset.labels)
        assert len(np.unique(dataset.rows)) == len(videos.image_ids[split])  # each image once


def test_direction_is_balanced_and_matches_the_motion(videos: MovingDigitsDataModule):
    for split in ("train", "test"):
        dataset = videos.splits[split]
        shift = dataset.corners[:, -1, 1] - dataset.corners[:, 0, 1]
        assert (np.abs(shift) >= 4).all()
        assert np.array_equal(dataset.direction == 1, shift > 0)
        assert abs(dataset.direction.mean() - 0.5) < 0.04


def test_only_frame_order_tells_the_direction(videos: MovingDigitsDataModule):
    """A linear model on the frames as a set is at chance; on their order it is near perfect."""
    train, test = _columns(videos, "train"), _columns(videos, "test")
    y_train, y_test = videos.splits["train"].direction, videos.splits["test"].direction

    def accuracy(features) -> float:
        model = LogisticRegression(max_iter=1000).fit(features(train) / 36, y_train)
        return model.score(features(test) / 36, y_test)

    as_a_set = accuracy(lambda x: np.sort(x, axis=1))  # every position, but not their order
    ordered = accuracy(lambda x: x)
    print(f"direction from the frames as a set: {as_a_set:.3f}, in order: {ordered:.3f}")
    assert 0.45 < as_a_set < 0.55
    assert ordered > 0.9


def test_shuffled_frames_keep_the_frames_and_targets_but_not_the_order(
        plait_cache: Path, videos: MovingDigitsDataModule):
    shuffled = MovingDigitsDataModule(cache_dir=str(plait_cache), shuffle_frames=True)
    shuffled.setup()
    mine, theirs = videos.splits["val"], shuffled.splits["val"]
    assert np.array_equal(mine.rows, theirs.rows) and np.array_equal(mine.direction, theirs.direction)
    assert np.array_equal(np.sort(mine.corners[..., 1], 1), np.sort(theirs.corners[..., 1], 1))
    assert (mine.corners != theirs.corners).any(axis=(1, 2)).mean() > 0.99


def test_videos_are_deterministic_by_seed(plait_cache: Path, videos: MovingDigitsDataModule):
    again = MovingDigitsDataModule(cache_dir=str(plait_cache), seed=videos.seed, limit=20)
    other = MovingDigitsDataModule(cache_dir=str(plait_cache), seed=1)
    again.setup()
    other.setup()
    assert np.array_equal(again.splits["test"].dataset.corners, videos.splits["test"].corners)
    assert not np.array_equal(other.splits["test"].corners, videos.splits["test"].corners)
    assert len(again.splits["train"]) == 20


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"steps": 1}, r"data\.steps must be at least 2.*got 1"),
    ({"canvas": 28}, r"data\.canvas must exceed the digit's 28 pixels.*got 28"),
    ({"min_speed": 3.0, "max_speed": 2.0}, r"0 < min_speed <= max_speed, got 3\.0 and 2\.0"),
    ({"min_shift": 8.0}, r"data\.min_shift must lie in \[0, canvas - 28\) = \[0, 8\), got 8"),
    ({"videos_per_image": 0}, r"data\.videos_per_image must be above 0, got 0"),
    ({"direction_key": "digit"}, r"batch keys must differ.*data\.direction_key='digit'"),
])
def test_bad_settings_name_the_key(plait_cache: Path, kwargs, message):
    with pytest.raises(DataError, match=message):
        MovingDigitsDataModule(cache_dir=str(plait_cache), **kwargs)


def _graph(experiment: str, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={experiment}", *overrides])
    return build_graph(graph_spec(cfg))


def test_the_video_model_starts_its_vision_from_a_siamese_checkpoint(tmp_path: Path):
    siamese = _graph("siamese_digits")
    torch.save(siamese.state_dict(), tmp_path / "siamese.pt")
    video = _graph("video_digits", f"model.blocks.vision._checkpoint_={tmp_path / 'siamese.pt'}",
                   "model.blocks.vision._freeze_=true")
    fresh = _graph("video_digits")
    vision, trained = video.blocks["frames"].module, siamese.blocks["vision"]
    assert vision.state_dict().keys() == trained.state_dict().keys()
    for key, value in trained.state_dict().items():
        assert torch.equal(vision.state_dict()[key], value)
    assert not any(p.requires_grad for p in vision.parameters())
    first = next(iter(trained.parameters()))
    assert not torch.equal(next(iter(fresh.blocks["frames"].module.parameters())), first)
