"""Sort-of-CLEVR as batches (the recipe: sources/test_sort_of_clevr.py): answers agree with
the pixels, splits hold whole images, the cache and the config are checked."""

from pathlib import Path

import numpy as np
import pytest
import torch
from tests.fast_step import fast_step

from plait.data import CacheError, DataError, SortOfClevrDataModule
from plait.data.sources.sort_of_clevr import (
    ANSWERS,
    KINDS,
    RGB,
    SHAPES,
)

SIZE, HALF = 75, 5


@pytest.fixture(scope="module")
def clevr(tmp_path_factory: pytest.TempPathFactory) -> SortOfClevrDataModule:
    data = SortOfClevrDataModule(cache_dir=str(tmp_path_factory.mktemp("clevr")), num_images=60,
                                 batch_size=16)
    data.prepare_data()
    data.setup()
    return data


def test_batches_are_keyed_typed_and_shaped(clevr: SortOfClevrDataModule):
    batch = next(iter(clevr.train_dataloader()))
    assert set(batch) == clevr.provides == {"image", "objects", "question", "answer", "kind", "relational"}
    assert batch["image"].dtype == torch.float32 and batch["image"].shape == (16, 3, 75, 75)
    assert batch["image"].min() >= 0 and batch["image"].max() == 1  # white background
    assert batch["question"].dtype == torch.float32 and batch["question"].shape == (16, 11)
    for key in ("answer", "kind", "relational"):
        assert batch[key].dtype == torch.int64 and batch[key].shape == (16,)
    assert torch.equal(batch["relational"], (batch["kind"] >= 3).long())
    assert batch["objects"].dtype == torch.float32 and batch["objects"].shape == (16, 6, 10)


def test_objects_describe_the_pixels(clevr: SortOfClevrDataModule):
    """Each row of `objects` is one object of the image: its colour, centre and shape."""
    batch = next(iter(clevr.val_dataloader()))
    for image, objects in zip(batch["image"].numpy(), batch["objects"].numpy()):
        measured = _measured(np.round(image * 255).astype(np.uint8))
        assert np.array_equal(objects[:, :6], np.eye(6))  # row c is colour c
        assert np.allclose((objects[:, 6:8] + 1) / 2 * (SIZE - 1), measured[:, :2])
        assert np.array_equal(objects[:, 8:].argmax(-1), measured[:, 2])


def test_sizes_and_splits_hold_whole_images(clevr: SortOfClevrDataModule):
    splits = {name: clevr.splits[name] for name in ("train", "val", "test")}
    assert [len(s) for s in splits.values()] == [48 * 20, 6 * 20, 6 * 20]
    images = {name: set(s.ids.tolist()) for name, s in splits.items()}
    assert not images["train"] & images["val"] and not images["train"] & images["test"]
    assert not images["val"] & images["test"]
    for split in splits.values():  # every question of an image, half of them relational
        assert np.all(np.bincount(split.ids)[sorted(set(split.ids))] == 20)
        assert split.columns["relational"].mean() == 0.5


def test_generation_is_deterministic_by_generator_seed(tmp_path: Path, clevr: SortOfClevrDataModule):
    again = SortOfClevrDataModule(cache_dir=str(tmp_path), num_images=60)
    other = SortOfClevrDataModule(cache_dir=str(tmp_path), num_images=60, generator_seed=1)
    for data in (again, other):
        data.prepare_data()
    same, different = (np.load(d.data_dir / "images.npy") for d in (again, other))
    assert np.array_equal(same, np.load(clevr.data_dir / "images.npy"))
    assert not np.array_equal(same, different)


def _measured(image: np.ndarray) -> np.ndarray:
    """Each colour's centre and shape, read back from the pixels: rows (x, y, shape)."""
    pixels = image.transpose(1, 2, 0)
    rows = []
    for rgb in RGB:
        ys, xs = np.nonzero((pixels == rgb).all(-1))
        square = len(xs) == (2 * HALF + 1) ** 2
        rows.append((round(xs.mean()), round(ys.mean()), SHAPES.index("square" if square else "circle")))
    return np.array(rows)


def _expected(objects: np.ndarray, colour: int, kind: str) -> str:
    """The answer in words, computed by plain loops from the measured objects."""
    x, y, shape = objects[colour]
    others = [o for o in range(6) if o != colour]
    far = {o: (objects[o, 0] - x) ** 2 + (objects[o, 1] - y) ** 2 for o in others}
    return {"shape": SHAPES[shape], "horizontal": "yes" if x < 37 else "no",
            "vertical": "yes" if y < 37 else "no",
            "closest": SHAPES[objects[min(far, key=far.get), 2]],
            "furthest": SHAPES[objects[max(far, key=far.get), 2]],
            "count": str(sum(objects[o, 2] == shape for o in range(6)))}[kind]


def test_answers_agree_with_the_pixels(clevr: SortOfClevrDataModule):
    folder = clevr.data_dir
    images, scenes = np.load(folder / "images.npy"), np.load(folder / "scenes.npy")
    colours, kinds, answers = (np.load(folder / f"{n}.npy") for n in ("colours", "kinds", "answers"))
    for image, scene, cs, ks, ans in zip(images, scenes, colours, kinds, answers):
        objects = _measured(image)
        assert np.array_equal(objects, scene)
        assert [ANSWERS[a] for a in ans] == [_expected(objects, c, KINDS[k]) for c, k in zip(cs, ks)]


def test_limit(tmp_path: Path):
    data = SortOfClevrDataModule(cache_dir=str(tmp_path), num_images=30, limit=7, batch_size=4)
    data.prepare_data()
    data.setup()
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [7, 7, 7]


def test_a_missing_cache_is_named_and_a_corrupt_one_rebuilt(tmp_path: Path):
    data = SortOfClevrDataModule(cache_dir=str(tmp_path), num_images=10)
    with pytest.raises(CacheError, match=r"sort_of_clevr.*Call prepare_data\(\) first"):
        data.setup()
    data.prepare_data()
    images = data.data_dir / "images.npy"
    images.write_bytes(images.read_bytes()[:100])
    data.prepare_data()
    data.setup()
    assert len(data.splits["train"]) == 8 * 20


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_images": 2}, r"data\.num_images must be at least 3 \(one per split\), got 2"),
    ({"questions_per_image": 7}, r"data\.questions_per_image must be even and at least 2 "
                                 r"\(half relational\), got 7"),
])
def test_bad_arguments_fail_at_construction(kwargs: dict, message: str):
    with pytest.raises(DataError, match=message):
        SortOfClevrDataModule(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_answers": 8}, r"the data has 10 answers, but data\.num_answers is 8\. Set "
                         r"data\.num_answers to at least 10"),
    ({"question_dim": 12}, r"11-bit vectors, but data\.question_dim is 12\. Set data\.question_dim=11"),
])
def test_sizes_are_checked_in_setup(tmp_path: Path, kwargs: dict, message: str):
    data = SortOfClevrDataModule(cache_dir=str(tmp_path), num_images=10, **kwargs)
    data.prepare_data()
    with pytest.raises(DataError, match=message):
        data.setup()


def test_objects_that_cannot_fit_are_named(tmp_path: Path):
    data = SortOfClevrDataModule(cache_dir=str(tmp_path), num_images=10, image_size=24)
    with pytest.raises(DataError, match=r"six objects of half-size data\.object_size=5 do not fit "
                                        r"apart in a 24x24 image \(data\.image_size\)"):
        data.prepare_data()


@pytest.mark.parametrize("merged", ["relation(objects, question)", "concat(objects_flat, question)"])
def test_the_objects_model_trains_with_either_fusion(tmp_path: Path, merged: str):
    """conf/model/vqa_relational_objects.yaml: a real step of each fusion on state descriptions."""
    metrics = fast_step("vqa_relational", tmp_path / "data", tmp_path, "model=vqa_relational_objects",
                        "data.num_images=60", f'model.nodes.merged="{merged}"')
    assert metrics["train/answer/loss"].notna().any() and metrics["val/answer/acc"].notna().any()
    summary = (tmp_path / "graph.txt").read_text()
    assert ("relation (RelationNetwork)" in summary) == merged.startswith("relation")
    assert "image" not in summary  # no pixels, no CNN
