"""Bags of words from token ids: the IDF of the training texts and TF-IDF rows."""

from __future__ import annotations

import numpy as np
import pytest

from plait.data.text import OOV, PAD, inverse_document_frequency, tf_idf


def test_idf_counts_texts_not_occurrences_and_leaves_out_padding_and_oov() -> None:
    ids = np.array([[2, 2, 3, 0], [2, 4, OOV, 0], [5, 0, 0, 0]])  # three texts, padded
    idf = inverse_document_frequency(ids, vocab_size=7)
    # id 2 in two texts of three, ids 3, 4, 5 in one, id 6 in none: ln((1 + 3) / (1 + df)) + 1
    expected = [0, 0, np.log(4 / 3) + 1, np.log(2) + 1, np.log(2) + 1, np.log(2) + 1, np.log(4) + 1]
    np.testing.assert_allclose(idf, expected, rtol=1e-6)
    assert idf[PAD] == idf[OOV] == 0


def test_tf_idf_rows_are_counts_times_idf_at_unit_length() -> None:
    idf = np.array([0, 0, 1.0, 2.0, 3.0], dtype=np.float32)
    bags = tf_idf(np.array([[2, 2, 3, 0], [OOV, 0, 0, 0], [4, 0, 0, 0]]), idf)
    np.testing.assert_allclose(bags[0], np.array([0, 0, 2, 2, 0]) / np.sqrt(8), rtol=1e-6)
    assert not bags[1].any()  # no known word: zeros, not NaN
    assert bags[2].tolist() == pytest.approx([0, 0, 0, 0, 1])
    assert bags.dtype == np.float32
