"""`MultiOutputLoss`: Keras's loss/loss_weights forms, the total, and every error it explains."""

import functools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from plait.losses import GradNorm, LossError, LossSpec, MultiOutputLoss, UncertaintyWeighting

NAMES = ["age", "sex", "income"]
B = 8


@pytest.fixture
def batch() -> tuple[dict, dict]:
    outputs = {"age": torch.randn(B, 1), "sex": torch.randn(B, 1), "income": torch.randn(B, 3)}
    targets = {"age": torch.randn(B), "sex": torch.randint(0, 2, (B,)).float(),
               "income": torch.randint(0, 3, (B,))}
    return outputs, targets


def _reference(outputs: dict, targets: dict, weights: list[float]) -> torch.Tensor:
    losses = [F.mse_loss(outputs["age"][:, 0], targets["age"]),
              F.binary_cross_entropy_with_logits(outputs["sex"][:, 0], targets["sex"]),
              F.cross_entropy(outputs["income"], targets["income"])]
    return sum(w * loss for w, loss in zip(weights, losses))


def test_the_seeds_two_compile_forms_give_the_same_total(batch) -> None:
    outputs, targets = batch
    as_list = MultiOutputLoss(NAMES, ["mse", "binary_crossentropy", "categorical_crossentropy"],
                              [0.25, 10.0, 1.0])
    as_dict = MultiOutputLoss(NAMES, loss={"age": "mse", "sex": "binary_crossentropy",
                                           "income": "categorical_crossentropy"},
                              loss_weights={"age": 0.25, "sex": 10.0, "income": 1.0})
    expected = _reference(outputs, targets, [0.25, 10.0, 1.0])
    torch.testing.assert_close(as_list(outputs, targets)[0], expected)
    torch.testing.assert_close(as_dict(outputs, targets)[0], expected)


def test_one_loss_and_one_weight_for_all_equal_the_dict_and_list_forms() -> None:
    outputs = {n: torch.randn(B, 2) for n in NAMES}
    targets = {n: torch.randn(B, 2) for n in NAMES}
    forms = [("mse", 0.5), ({n: "mse" for n in NAMES}, {n: 0.5 for n in NAMES}),
             (["mse"] * 3, [0.5] * 3)]
    totals = [MultiOutputLoss(NAMES, loss, weights=w)(outputs, targets)[0] for loss, w in forms]
    expected = sum(0.5 * F.mse_loss(outputs[n], targets[n]) for n in NAMES)
    for total in totals:
        torch.testing.assert_close(total, expected)


def test_per_output_losses_are_unweighted_and_weights_default_to_one(batch) -> None:
    outputs, targets = batch
    loss = MultiOutputLoss(NAMES, ["mse", "binary_cross_entropy", "cross_entropy"], {"sex": 4.0})
    total, per_output = loss(outputs, targets)
    assert list(per_output) == NAMES
    torch.testing.assert_close(per_output["sex"], F.binary_cross_entropy_with_logits(
        outputs["sex"][:, 0], targets["sex"]))
    torch.testing.assert_close(total, _reference(outputs, targets, [1.0, 4.0, 1.0]))
    assert loss.current_weights() == {"age": 1.0, "sex": 4.0, "income": 1.0}


def test_a_whole_batch_with_inputs_serves_as_targets(batch) -> None:
    outputs, targets = batch
    loss = MultiOutputLoss(NAMES, ["mse", "binary_cross_entropy", "cross_entropy"])
    whole = {"posts": torch.zeros(B, 5, dtype=torch.long), **targets}
    torch.testing.assert_close(loss(outputs, whole)[0], loss(outputs, targets)[0])


def test_outputs_and_targets_as_lists_or_one_tensor() -> None:
    logits, target = torch.randn(B, 1), torch.randn(B, 1)
    single = MultiOutputLoss(["y"], "mse")
    torch.testing.assert_close(single(logits, target)[0], F.mse_loss(logits, target))
    pair = MultiOutputLoss(["a", "b"], "mse")
    torch.testing.assert_close(pair([logits, logits], [target, target])[0],
                               2 * F.mse_loss(logits, target))


def test_a_module_loss_is_registered_and_moves_with_the_model() -> None:
    loss = MultiOutputLoss(["answer"], nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 3.0])))
    assert "loss_modules.answer.weight" in loss.state_dict()
    loss.double()
    assert loss.loss_modules["answer"].weight.dtype == torch.float64
    logits, target = torch.randn(B, 3, dtype=torch.float64), torch.randint(0, 3, (B,))
    torch.testing.assert_close(loss(logits, target)[0], F.cross_entropy(
        logits, target, weight=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)))


def test_predict_applies_each_outputs_activation(batch) -> None:
    outputs, _ = batch
    loss = MultiOutputLoss(NAMES, ["mse", "binary_cross_entropy", "cross_entropy"],
                           activations={"age": "sigmoid"})
    assert loss.activations == {"age": "sigmoid", "sex": "sigmoid", "income": "softmax"}
    predicted = loss.predict(outputs)
    torch.testing.assert_close(predicted["age"], torch.sigmoid(outputs["age"]))
    torch.testing.assert_close(predicted["income"], torch.softmax(outputs["income"], -1))


def test_a_loss_spec_states_its_own_activation() -> None:
    focal = LossSpec("focal", F.binary_cross_entropy_with_logits, "sigmoid")
    assert MultiOutputLoss(["tags"], focal).activations == {"tags": "sigmoid"}


def test_balancer_from_a_name_a_factory_or_an_instance() -> None:
    by_name = MultiOutputLoss(NAMES, "mse", balancer="gradnorm")
    by_factory = MultiOutputLoss(NAMES, "mse", [1.0, 2.0, 3.0],
                                 balancer=functools.partial(GradNorm, alpha=0.5))
    built = MultiOutputLoss(NAMES, "mse", balancer=UncertaintyWeighting(NAMES))
    assert isinstance(by_name.balancer, GradNorm) and by_factory.balancer.alpha == 0.5
    assert by_factory.current_weights() == pytest.approx({"age": 0.5, "sex": 1.0, "income": 1.5})
    assert isinstance(built.balancer, UncertaintyWeighting)


# --- every error names the key and says what was expected and received -------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"loss": "mse", "loss_weights": {"agee": 1.0}},
     r"^loss_weights has 'agee', which names no output; outputs are \['age', 'sex'\]$"),
    ({"loss": {"age": "mse", "sexx": "mse"}},
     r"^loss has 'sexx', which names no output; outputs are \['age', 'sex'\]$"),
    ({"loss": {"age": "mse"}},
     r"^loss has no entry for output 'sex': expected one for every output \['age', 'sex'\], "
     r"received \['age'\]$"),
    ({"loss": {"age": "mse", "sex": None}},
     r"^output 'sex' has no loss: expected a loss name, a LossSpec or a callable"),
    ({"loss": ["mse"]},
     r"^loss has 1 entries for 2 outputs \['age', 'sex'\]: expected one per output, "
     "in that order$"),
    ({"loss": "mse", "weights": [1.0, 2.0, 3.0]},
     r"^weights has 3 entries for 2 outputs \['age', 'sex'\]: expected one per output"),
    ({"loss": ["mse", "msee"]}, r"^output 'sex': unknown loss 'msee': expected one of \[.*'mse'"),
    ({"loss": "mse", "loss_weights": {"sex": -0.5}},
     r"^loss_weights\['sex'\] must be positive, received -0.5; .*negative one would train it "
     "backwards$"),
    ({"loss": "mse", "weights": [1.0, 0]},
     r"^weights\['sex'\] must be positive, received 0.0; a zero weight would stop training "
     r"the output \(remove the output instead\)"),
    ({"loss": "mse", "loss_weights": {"age": "high"}},
     r"^loss_weights\['age'\] must be a positive number, received 'high' \(str\)$"),
    ({"loss": "mse", "loss_weights": True},
     r"^loss_weights\['age'\] must be a positive number, received True \(bool\)$"),
    ({"loss": "mse", "loss_weights": float("nan")},
     r"^loss_weights\['age'\] must be a positive finite number, received nan$"),
    ({"loss": "mse", "loss_weights": [1.0, float("inf")]},
     r"^loss_weights\['sex'\] must be a positive finite number, received inf$"),
    ({"loss": "mse", "balancer": "pcgrad"},
     r"^unknown balancer 'pcgrad': expected one of \['fixed', 'uncertainty', 'dwa', 'gradnorm'\]"),
    ({"loss": "mse", "weights": 2.0, "balancer": UncertaintyWeighting(["age", "sex"])},
     r"^weights given beside a built UncertaintyWeighting: expected the weights in one place"),
    ({"loss": "mse", "balancer": UncertaintyWeighting(["sex", "age"])},
     r"^balancer is for outputs \['sex', 'age'\], expected \['age', 'sex'\]$"),
    ({"loss": "mse", "weights": {"agee": 1.0}},
     r"^weights has 'agee', which names no output; outputs are \['age', 'sex'\]$"),
    ({"loss": "mse", "weights": 1.0, "loss_weights": 1.0},
     r"^weights and loss_weights both given: expected one of them"),
    ({"loss": "mse", "activations": {"age": "relu"}},
     r"^unknown activation 'relu': expected one of"),
])
def test_configuration_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(LossError, match=message):
        MultiOutputLoss(["age", "sex"], **kwargs)


def test_output_names_must_be_unique_and_present() -> None:
    with pytest.raises(LossError, match=r"^output name 'age' is given more than once in "
                                        r"\['age', 'age'\]$"):
        MultiOutputLoss(["age", "age"], "mse")
    with pytest.raises(LossError, match="^output_names is empty"):
        MultiOutputLoss([], "mse")


def test_a_target_missing_from_the_batch_is_named() -> None:
    loss = MultiOutputLoss(["age", "sex"], "mse")
    with pytest.raises(LossError, match=r"^output 'sex' has no target in the batch; the batch "
                                        r"has \['posts', 'age'\]$"):
        loss({"age": torch.randn(B), "sex": torch.randn(B)},
             {"posts": torch.zeros(B), "age": torch.randn(B)})


def test_an_output_missing_from_the_model_is_named() -> None:
    loss = MultiOutputLoss(["age", "sex"], "mse")
    with pytest.raises(LossError, match=r"^output 'sex' is not among the model's outputs "
                                        r"\['age'\]$"):
        loss({"age": torch.randn(B)}, {"age": torch.randn(B), "sex": torch.randn(B)})


def test_a_wrong_target_shape_names_the_output() -> None:
    loss = MultiOutputLoss(["age", "sex"], "mse")
    with pytest.raises(LossError, match=r"^output 'age': loss mse expects target shape \(B,\) or "
                                        r"\(B, 1\) matching logits \(B, 1\), received \(B, 3\)$"):
        loss({"age": torch.randn(B, 1), "sex": torch.randn(B)},
             {"age": torch.randn(B, 3), "sex": torch.randn(B)})


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_crossentropy", "multilabel"])
def test_a_binary_target_outside_0_to_1_is_named_with_its_values(name) -> None:
    """torch's binary cross-entropy takes any number: 2 or -1 would train, silently."""
    loss = MultiOutputLoss(["odd", "age"], {"odd": name, "age": "mse"})
    loss.check_targets({"odd": torch.tensor([0.0, 0.25, 1.0]), "age": torch.tensor([31.0, -2.0, 7.0])})
    loss.check_targets({"odd": torch.tensor([0, 1, 1])})  # int labels, as a CSV gives them
    loss.check_targets({"age": torch.tensor([5.0])})  # no target (predict's batches): nothing to check
    with pytest.raises(LossError, match=rf"^output 'odd': loss {name} takes targets from 0 to 1 \(a label or a "
                       r"probability\), received -1, 2, 3, 4, 5, \.\.\. \(7 of 9 values\)\. Classes numbered "
                       r"0, 1, 2, \.\.\. take cross_entropy, with one head unit per class$"):
        loss.check_targets({"odd": torch.tensor([0, 1, 2, 3, 4, 5, 6, 2, -1])})
    assert LossSpec("own", nn.BCEWithLogitsLoss(), "sigmoid").check_target is None  # a loss of one's own: any


def test_a_class_index_outside_the_head_is_named_with_its_values() -> None:
    """torch meets an index past the last class in a device-side assert on a GPU, naming
    neither the output nor the value; `ignore_index` (-100 unless given) is let through."""
    loss = MultiOutputLoss(["word", "tag"], {"word": "cross_entropy",
                                             "tag": {"name": "cross_entropy", "ignore_index": 0}})
    loss.check_targets({"word": torch.tensor([[0, 4, -100]]), "tag": torch.tensor([0, 3])}, {"word": 5, "tag": 4})
    loss.check_targets({"word": torch.eye(5)}, {"word": 5})  # one-hot: the loss checks its shape
    with pytest.raises(LossError, match=r"^output 'word': loss cross_entropy takes class indices 0 to 4 \(its "
                                        r"head has 5 units\), received -1, 5, 7 \(3 of 6 values\)$"):
        loss.check_targets({"word": torch.tensor([[0, 5, -1], [7, 4, -100]])}, {"word": 5})
    with pytest.raises(LossError, match=r"^output 'tag': loss cross_entropy takes class indices 0 to 3 \(its head "
                                        r"has 4 units\) or ignore_index 0, received -100 \(1 of 2 values\)$"):
        loss.check_targets({"tag": torch.tensor([-100, 2])}, {"tag": 4})
    with pytest.raises(LossError, match=r"^output 'tag': loss cross_entropy takes class indices from 0 or "
                                        r"ignore_index 0, received -3"):
        loss.check_targets({"tag": torch.tensor([-3, 2])})  # the head's width not given: negatives only


@pytest.mark.filterwarnings("ignore:Using a target size")
def test_a_failing_torch_loss_names_the_output_and_the_shapes() -> None:
    loss = MultiOutputLoss(["answer"], nn.MSELoss())
    with pytest.raises(LossError, match=r"^output 'answer': loss MSELoss failed on logits "
                                        r"\(B, 3\) and target torch.float32 \(B, 4\): "):
        loss({"answer": torch.randn(B, 3)}, {"answer": torch.randn(B, 4)})


def test_outputs_of_the_wrong_kind_say_what_is_accepted() -> None:
    loss = MultiOutputLoss(["age", "sex"], "mse")
    with pytest.raises(LossError, match=r"^outputs: expected a dict keyed by output name "
                                        r"\['age', 'sex'\], a list in that order or, for one "
                                        "output, a tensor; received Tensor$"):
        loss(torch.randn(B), {"age": torch.randn(B), "sex": torch.randn(B)})
    with pytest.raises(LossError, match="^targets: expected .*; received a list of 3$"):
        loss({"age": torch.randn(B), "sex": torch.randn(B)}, [torch.randn(B)] * 3)
