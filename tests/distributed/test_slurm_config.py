"""The SLURM launcher config: one task per device, one node per trainer node."""

from hydra import compose, initialize_config_dir
from tests.distributed.conftest import ROOT


def test_slurm_launcher_follows_the_trainer():
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=digits", "trainer=multinode", "trainer.devices=4",
                                          "trainer.num_nodes=3", "hydra/launcher=slurm"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert (launcher.tasks_per_node, launcher.nodes, launcher.gpus_per_node) == (4, 3, 4)
    assert launcher.additional_parameters.signal == "USR1@90"
