"""The Optuna search space from Hydra override syntax, and the bad input it refuses."""

from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from plait.sweeps.space import build_space, override_value
from plait.sweeps.study import check_objective, direction, enqueue, open_study
from plait.train.errors import ConfigError

OUTPUTS = ["age", "income"]
WEIGHTS = {"low": 0.1, "high": 10.0}


def test_weights_come_from_the_model_outputs() -> None:
    space = build_space(["experiment=adult_multitask"], {}, WEIGHTS, OUTPUTS)
    assert space.distributions == {
        f"model.outputs.{o}.weight": FloatDistribution(0.1, 10.0, log=True) for o in OUTPUTS}
    assert space.fixed == ["experiment=adult_multitask"]


def test_a_range_on_the_command_line_replaces_the_default_range() -> None:
    space = build_space(["model.outputs.age.weight=tag(log,interval(0.5,2))"], {}, WEIGHTS, OUTPUTS)
    assert space.distributions["model.outputs.age.weight"] == FloatDistribution(0.5, 2.0, log=True)
    assert space.distributions["model.outputs.income.weight"].high == 10.0


def test_a_fixed_weight_is_not_searched() -> None:
    space = build_space(["model.outputs.age.weight=2"], {}, WEIGHTS, OUTPUTS)
    assert list(space.distributions) == ["model.outputs.income.weight"]
    assert space.fixed == ["model.outputs.age.weight=2"]


def test_a_key_both_searched_and_fixed_is_refused() -> None:
    """The sampled value would win, and the report would call the key fixed."""
    with pytest.raises(ConfigError, match=r"^model.outputs.age.weight: both searched .* and fixed "
                                          r"\(model.outputs.age.weight=1\); the sampled value would win"):
        build_space(["model.outputs.age.weight=1"], {"model.outputs.age.weight": "tag(log,interval(0.1,10))"},
                    WEIGHTS, OUTPUTS)


def test_params_take_nested_or_dotted_keys_and_every_sweep_kind() -> None:
    params = {"model": {"optimizer": {"lr": "tag(log, interval(1e-4, 1e-2))"}},
              "trainer.max_epochs": "choice(2, 4)", "data.batch_size": "range(32, 97, 32)",
              "model.blocks.trunk.width": "tag(int, interval(8, 64))"}
    space = build_space(["+foo=a,b"], params, None, OUTPUTS)
    assert space.distributions == {
        "model.optimizer.lr": FloatDistribution(1e-4, 1e-2, log=True),
        "trainer.max_epochs": CategoricalDistribution([2, 4]),
        "data.batch_size": CategoricalDistribution([32, 64, 96]),
        "model.blocks.trunk.width": IntDistribution(8, 64),
        "foo": CategoricalDistribution(["a", "b"]),
    }
    overrides = space.overrides({"foo": "a", "model.optimizer.lr": 0.001})
    assert overrides == ["+foo=a", "model.optimizer.lr=0.001"]


def test_a_choice_of_lists_and_a_choice_of_presets_reach_the_trial_as_written() -> None:
    space = build_space(["model.blocks.trunk.hidden=choice([128,64],[32])",
                         "fusion@model.blocks.merge=choice(concat,multiply)"], {}, None, OUTPUTS)
    assert space.distributions == {
        "model.blocks.trunk.hidden": CategoricalDistribution(["[128,64]", "[32]"]),
        "fusion@model.blocks.merge": CategoricalDistribution(["concat", "multiply"])}
    assert space.overrides({"model.blocks.trunk.hidden": "[128,64]", "fusion@model.blocks.merge": "multiply"}) == [
        "model.blocks.trunk.hidden=[128,64]", "fusion@model.blocks.merge=multiply"]


def test_override_values_are_valid_override_text() -> None:
    assert override_value(0.25) == "0.25" and override_value(True) == "true"
    assert override_value(None) == "null" and override_value("gradnorm") == "gradnorm"
    assert override_value("a b'c") == "'a b\\'c'"


@pytest.mark.parametrize(("arguments", "params", "key"), [
    (["model.outputs.agee.weight=tag(log,interval(0.1,1))"], {}, "model.outputs.agee.weight"),
    ([], {"model.outputs.agee.weight": "interval(0.1, 1)"},
     "hydra.sweeper.params.model.outputs.agee.weight"),
    (["model.outputs.agee.weight=2"], {}, "model.outputs.agee.weight"),
])
def test_a_weight_that_names_no_output_is_refused(arguments, params, key) -> None:
    with pytest.raises(ConfigError, match=rf"^{key}: 'agee' names no output.*\['age', 'income'\]"):
        build_space(arguments, params, WEIGHTS, OUTPUTS)


@pytest.mark.parametrize(("argument", "shown"), [
    ("model.outputs.age.weight=interval(0,1)", "0.0"),
    ("model.outputs.age.weight=-1,1", "-1"),
    ("model.outputs.age.weight=0", "0"),
    ("model.outputs.age.weight=-0.5", "-0.5"),
])
def test_a_zero_or_negative_weight_or_range_is_refused(argument, shown) -> None:
    with pytest.raises(ConfigError, match=rf"^model.outputs.age.weight: a loss weight must be "
                                          rf"a positive number, received {shown}"):
        build_space([argument], {}, None, OUTPUTS)


@pytest.mark.parametrize(("weights", "key"), [
    ({"low": 0.0, "high": 1.0}, "hydra.sweeper.weights.low"),
    ({"low": 0.1, "high": -1.0}, "hydra.sweeper.weights.high"),
    ({"low": 2.0, "high": 1.0}, "hydra.sweeper.weights"),
    ({"low": 0.1, "high": 1.0, "log": True}, "hydra.sweeper.weights.log"),
])
def test_a_bad_weight_range_is_refused(weights, key) -> None:
    with pytest.raises(ConfigError, match=rf"^{key}:"):
        build_space([], {}, weights, OUTPUTS)


def test_a_range_optuna_cannot_sample_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^model.optimizer.lr: .*no range Optuna can sample"):
        build_space(["model.optimizer.lr=tag(log,interval(0,1))"], {}, None, OUTPUTS)


def test_the_weighted_total_is_no_objective_for_a_weight_search() -> None:
    space = build_space([], {}, WEIGHTS, OUTPUTS)
    with pytest.raises(ConfigError, match=r"^optimized_metric: val/loss is the weighted sum"):
        check_objective("val/loss", space)
    with pytest.raises(ConfigError, match=r"^optimized_metric: null"):
        check_objective(None, space)
    check_objective("val/income/auroc", space)
    check_objective("val/loss", build_space(["model.optimizer.lr=interval(0.001,0.01)"], {},
                                            None, OUTPUTS))  # no weights searched: fine


def test_direction_follows_optimized_mode() -> None:
    assert direction("max") == "maximize" and direction("min") == "minimize"
    with pytest.raises(ConfigError, match=r"^hydra.sweeper.direction: expected min or max"):
        direction("up")


def test_enqueued_points_run_first_and_must_be_searched(tmp_path) -> None:
    settings = {"study_name": "s", "sampler": {"_target_": "optuna.samplers.RandomSampler",
                                               "seed": 0}, "pruner": None}
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    space = build_space([], {}, WEIGHTS, OUTPUTS)
    study = open_study(settings, storage, "maximize", "val/income/auroc")
    enqueue(study, [{"model.outputs.age.weight": 2.0}], space)
    first = study.ask(space.distributions)
    assert first.params["model.outputs.age.weight"] == 2.0
    study.tell(first, 0.5)
    with pytest.raises(ConfigError, match=r"^hydra.sweeper.enqueue\[0\]: 'lr' is not searched"):
        enqueue(study, [{"lr": 0.1}], space)
    resumed = open_study(settings, storage, "maximize", "val/income/auroc")  # the seed moves on: no repeated draw
    assert resumed.ask(space.distributions).params != study.ask(space.distributions).params
    with pytest.raises(ConfigError, match=r"^hydra.sweeper.direction: study 's' .* maximize"):
        open_study(settings, storage, "minimize", "val/income/auroc")
    with pytest.raises(ConfigError, match=r"^optimized_metric: study 's' in .* optimises 'val/income/auroc', this "
                                          r"sweep would optimise 'val/age/loss', and the values of the two cannot "
                                          r"be ranked together; choose another hydra.sweeper.study_name$"):
        open_study(settings, storage, "maximize", "val/age/loss")
