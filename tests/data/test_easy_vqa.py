"""easy-VQA from the pinned `easy-vqa` wheel: real data, fetched once into a shared cache."""

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from plait.data import CacheError, DataError, EasyVQADataModule
from plait.data.text import tokenize


def test_batches_are_keyed_typed_and_shaped(vqa: EasyVQADataModule):
    assert vqa.provides == {"image", "question", "answer"}
    batch = next(iter(vqa.train_dataloader()))
    assert set(batch) == vqa.provides
    assert batch["image"].dtype == torch.float32 and batch["image"].shape == (32, 3, 64, 64)
    assert batch["image"].min() >= 0 and batch["image"].max() <= 1
    assert batch["question"].dtype == torch.int64 and batch["question"].shape[0] == 32
    assert (batch["question"][:, -1] != 0).any()  # padded to the batch's longest, no further
    assert batch["answer"].dtype == torch.int64 and batch["answer"].shape == (32,)
    assert int(batch["answer"].max()) < vqa.num_answers


def test_sizes_fit_the_config(vqa: EasyVQADataModule):
    assert len(vqa.answers) == 13 and vqa.answers[:3] == ["circle", "green", "red"]
    assert len(vqa.vocab) + 2 == 28 <= vqa.vocab_size
    assert {len(vqa.splits[s]) for s in ("train", "val")} == {34676, 3899}
    assert len(vqa.splits["test"]) == 9673
    for split in ("train", "val", "test"):
        assert int(vqa.splits[split].questions.max()) < vqa.vocab_size
        assert int(vqa.splits[split].lengths.max()) == 9


def test_val_images_are_held_out_of_training(vqa: EasyVQADataModule):
    train, val = vqa.splits["train"], vqa.splits["val"]
    assert not set(train.image_ids.tolist()) & set(val.image_ids.tolist())
    assert len(set(val.image_ids.tolist())) == 400  # 10% of 4,000 images


def test_vocabulary_is_built_from_the_train_part(vqa: EasyVQADataModule):
    questions = vqa.splits["train"]
    words = {vqa.vocab[w] for w in tokenize("what is the blue shape?")}
    assert words <= set(questions.questions.flatten().tolist())
    assert list(vqa.vocab.values()) == list(range(2, len(vqa.vocab) + 2))


def test_split_is_deterministic_by_seed(plait_cache: Path, vqa: EasyVQADataModule):
    again = EasyVQADataModule(cache_dir=str(plait_cache), seed=vqa.seed)
    other = EasyVQADataModule(cache_dir=str(plait_cache), seed=1)
    again.setup()
    other.setup()
    assert np.array_equal(again.splits["val"].image_ids, vqa.splits["val"].image_ids)
    assert not np.array_equal(other.splits["val"].image_ids, vqa.splits["val"].image_ids)
    assert again.vocab == vqa.vocab


def test_limit_and_fixed_length(plait_cache: Path):
    data = EasyVQADataModule(cache_dir=str(plait_cache), limit=50, batch_size=64,
                             fixed_length=True, max_question_len=12)
    start = time.perf_counter()
    data.setup()
    assert time.perf_counter() - start < 10  # cached: no PNG decoding
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [50, 50, 50]
    batch = next(iter(data.val_dataloader()))
    assert batch["question"].shape == (50, 12) and batch["image"].shape == (50, 3, 64, 64)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"vocab_size": 20}, r"data\.vocab_size >= 28.*data\.vocab_size is 20"),
    ({"num_answers": 10}, r"13 answers, but data\.num_answers is 10"),
    ({"max_question_len": 5}, r"9 words in the longest question, but data\.max_question_len is 5"),
])
def test_config_too_small_names_the_key(plait_cache: Path, kwargs, message):
    with pytest.raises(DataError, match=message):
        EasyVQADataModule(cache_dir=str(plait_cache), **kwargs).setup()


def test_capped_vocabulary_maps_rare_words_to_oov(plait_cache: Path):
    data = EasyVQADataModule(cache_dir=str(plait_cache), vocab_size=10, cap_vocab=True)
    data.setup()
    assert len(data.vocab) == 8 and int(data.splits["train"].questions.max()) == 9


def test_broken_decoded_cache_is_refused_then_rebuilt(plait_cache: Path, tmp_path: Path):
    shutil.copytree(plait_cache / "wheels", tmp_path / "wheels")  # no download needed
    shutil.copytree(plait_cache / "easy_vqa-1.0", tmp_path / "easy_vqa-1.0")
    images = tmp_path / "easy_vqa-1.0" / "test_images.npy"
    images.write_bytes(images.read_bytes()[:5000])
    data = EasyVQADataModule(cache_dir=str(tmp_path), limit=10)
    with pytest.raises(CacheError, match=r"test_images\.npy has 5000 bytes.*prepare_data"):
        data.setup()
    data.prepare_data()
    data.setup()
    assert images.stat().st_size == 1000 * 3 * 64 * 64 + 128
    assert len(data.splits["test"]) == 10
