"""bAbI tasks 1 and 2, generated: deterministic, and answerable only from the story."""

import re
from collections import Counter

import pytest

from plait.data import DataError
from plait.data.sources.babi import LOCATIONS, Example, generate

_MOVE = re.compile(r"(\w+) (?:moved|went|journeyed|travelled|went back) to the (\w+)\.")


_GET = re.compile(r"(\w+) (?:picked up|got|grabbed|took) the (\w+)\.")


_DROP = re.compile(r"(\w+) (?:dropped|discarded|put down|left) the (\w+)\.")


def read_story(example: Example) -> str:
    """An independent reader: replay the sentences and answer the question from them alone."""
    person_at, thing_with, thing_at = {}, {}, {}
    for sentence in example.story:
        if m := _MOVE.fullmatch(sentence):
            person_at[m[1]] = m[2]
        elif m := _GET.fullmatch(sentence):
            thing_with[m[2]] = m[1]
        elif m := _DROP.fullmatch(sentence):
            thing_at[m[2]] = person_at[m[1]]
            thing_with.pop(m[2], None)
        else:
            raise AssertionError(f"cannot read {sentence!r}")
    asked = re.fullmatch(r"Where is (?:the )?(\w+)\?", example.question)[1]
    if asked in thing_with:
        return person_at[thing_with[asked]]
    return thing_at.get(asked) or person_at[asked]


@pytest.fixture(scope="module", params=[1, 2])
def examples(request: pytest.FixtureRequest) -> list[Example]:
    return generate(request.param, 2000, [7, request.param, 0])


def test_the_answer_is_determined_by_the_story(examples: list[Example]):
    assert all(read_story(e) == e.answer for e in examples)


def test_the_supporting_facts_alone_decide_the_answer(examples: list[Example]):
    for e in examples:
        supported = Example(tuple(e.story[i] for i in e.support), e.question, e.answer, e.support)
        assert read_story(supported) == e.answer


def test_the_last_relevant_fact_decides(examples: list[Example]):
    """Changing the location of the supporting move changes the answer to that location."""
    changed = 0
    for e in examples:
        move = next((i for i in e.support if _MOVE.fullmatch(e.story[i])), None)
        old = _MOVE.fullmatch(e.story[move])[2]
        new = next(p for p in LOCATIONS if p != old)
        story = (*e.story[:move], e.story[move].replace(f"the {old}.", f"the {new}."),
                 *e.story[move + 1:])
        assert read_story(Example(story, e.question, e.answer, e.support)) == new
        changed += 1
    assert changed == len(examples)


def test_the_question_matters(examples: list[Example]):
    """Neither the question alone nor the last sentence alone gives the answer."""
    by_question = Counter((e.question, e.answer) for e in examples)
    best = Counter()
    for (question, _), count in by_question.items():
        best[question] = max(best[question], count)
    assert sum(best.values()) / len(examples) < 1 / len(LOCATIONS) + 0.05
    last_location = sum(e.story[-1].endswith(f"the {e.answer}.") for e in examples)
    assert last_location / len(examples) < 0.5
    assert len({e.answer for e in examples}) == len(LOCATIONS)


def test_task_two_needs_two_facts(examples: list[Example]):
    needed = {len(e.support) for e in examples}
    assert needed == ({1} if "the" not in examples[0].question else {2})


def test_generation_is_deterministic_by_seed():
    assert generate(2, 50, [0, 2, 0]) == generate(2, 50, [0, 2, 0])
    assert generate(2, 50, [0, 2, 0]) != generate(2, 50, [1, 2, 0])


def test_generate_refuses_an_unknown_task():
    with pytest.raises(DataError, match=r"bAbI: data\.task must be one of \[1, 2\], got 5"):
        generate(5, 10, 0)

