"""Sentences of token ids, padded with id 0 in every way a batch may hold them."""

import torch

# (extra steps beyond the longest sentence, where each sentence's padding goes)
PADDINGS = {"right": (0, "right"), "left": (0, "left"), "longer": (6, "right"),
            "longer_left": (6, "left"), "mixed": (3, "mixed")}
TIGHT = {"atol": 1e-6, "rtol": 1e-5}


def sentences(lengths: list[int], vocab: int = 50, seed: int = 0) -> list[torch.Tensor]:
    """Token ids in [1, vocab): one sentence per length, none of them padding."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(1, vocab, (n,), generator=generator) for n in lengths]


def pad(sequences: list[torch.Tensor], padding: str) -> torch.Tensor:
    """Token ids (B, T), each sentence padded with id 0 as `PADDINGS[padding]` says;
    "mixed" pads every other sentence on the left."""
    extra, side = PADDINGS[padding]
    steps = max(len(s) for s in sequences) + extra
    batch = torch.zeros(len(sequences), steps, dtype=torch.long)
    for i, seq in enumerate(sequences):
        left = side == "left" or (side == "mixed" and i % 2 == 1)
        start = steps - len(seq) if left else 0
        batch[i, start:start + len(seq)] = seq
    return batch
