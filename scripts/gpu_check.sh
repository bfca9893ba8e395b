#!/usr/bin/env bash
# The GPU checks, on a machine with one CUDA GPU, from the repository root:
#   bash scripts/gpu_check.sh
# The GPU-marked tests; experiment=vqa for one epoch in fp32, bf16-mixed and compiled, each
# with its epoch time and test accuracy; bench_train.py on CUDA. Every figure is printed.
#
# On a machine with no package registry whose python3 already holds CUDA torch, bring a folder
# of wheels for what it lacks and name it: PLAIT_WHEELS=folder bash scripts/gpu_check.sh.
# plait then runs from src/. Filled on a machine with a registry, for the GPU machine's Python
# (3.12 here): plait's pins without their dependencies (torch's would pull a CUDA build),
# wandb with its own, and antlr4 (hydra-core's parser, a source package) built into a wheel:
#   pip download -d folder --no-deps hydra-core==1.3.8 omegaconf==2.3.1 lightning==2.6.6 torchmetrics==1.9.0
#   pip download -d folder --python-version 3.12 --only-binary=:all: \
#       --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 wandb==0.31.0
#   pip wheel -w folder --no-deps antlr4-python3-runtime==4.9.3
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "${PLAIT_WHEELS:-}" ]; then
    python3 -m pip install -q --no-index --find-links "$PLAIT_WHEELS" \
        hydra-core==1.3.8 lightning==2.6.6 torchmetrics==1.9.0 wandb==0.31.0 || exit 1
    export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
elif [ ! -d .venv ]; then
    python3 -m venv .venv && . .venv/bin/activate && pip install -q -e ".[dev]"
else
    . .venv/bin/activate
fi
python3 - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA GPU: scripts/gpu_check.sh needs one"
print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"bf16 {torch.cuda.is_bf16_supported()}")
import lightning, torchmetrics, hydra
print(f"lightning {lightning.__version__}, torchmetrics {torchmetrics.__version__}, hydra {hydra.__version__}")
PY
echo "== GPU tests"
python3 -m pytest -q -m gpu tests/gpu
status=$?
LOGS=${PLAIT_GPU_LOGS:-$(mktemp -d)}
mkdir -p "$LOGS"
for run in "fp32|" "bf16-mixed|trainer.precision=bf16-mixed" "compile|model.compile=true"; do
    name=${run%%|*}; switch=${run#*|}
    echo "== experiment=vqa, one epoch, $name"
    start=$(date +%s)
    python3 train.py experiment=vqa trainer=gpu trainer.max_epochs=1 logger=csv $switch \
        hydra.run.dir="$LOGS/$name" > "$LOGS/$name.log" 2>&1 || { tail -30 "$LOGS/$name.log"; status=1; }
    grep -E "^(epoch|test) " "$LOGS/$name.log"
    echo "$name: $(( $(date +%s) - start )) s in all, start-up and test included"
done
echo "== bench_train.py on CUDA"
python3 scripts/bench_train.py --device cuda --rounds 3 --epochs 2 > "$LOGS/bench.log" 2>&1 \
    || { tail -20 "$LOGS/bench.log"; status=1; }
grep -E "^(torch|W)" "$LOGS/bench.log"
echo "== bench_train.py on CUDA, plait compiled and the hand-written loop compiled"
timeout 300 python3 scripts/bench_train.py --device cuda --compile --rounds 1 --epochs 3 --workloads w3 \
    > "$LOGS/bench_compile.log" 2>&1 || { tail -20 "$LOGS/bench_compile.log"; status=1; }
grep -E "^(torch|W)" "$LOGS/bench_compile.log"
echo "logs: $LOGS"
exit $status
