#!/usr/bin/env bash
# The GPU checks, on a machine with one CUDA GPU, from the repository root:
#   bash scripts/gpu_check.sh
# The GPU-marked tests; experiment=vqa for one epoch in fp32, bf16-mixed and compiled, each
# with its epoch time and test accuracy; bench_train.py on CUDA. Every figure is printed.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ ! -d .venv ]; then
    python3 -m venv .venv && . .venv/bin/activate && pip install -q -e ".[dev]"
else
    . .venv/bin/activate
fi
python - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA GPU: scripts/gpu_check.sh needs one"
print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"bf16 {torch.cuda.is_bf16_supported()}")
PY
echo "== GPU tests"
pytest -q -m gpu tests/gpu
status=$?
LOGS=$(mktemp -d)
for run in "fp32|" "bf16-mixed|trainer.precision=bf16-mixed" "compile|model.compile=true"; do
    name=${run%%|*}; switch=${run#*|}
    echo "== experiment=vqa, one epoch, $name"
    start=$(date +%s)
    python train.py experiment=vqa trainer=gpu trainer.max_epochs=1 logger=csv $switch \
        hydra.run.dir="$LOGS/$name" > "$LOGS/$name.log" 2>&1 || { echo "failed: see $LOGS/$name.log"; status=1; }
    grep -E "^(epoch|test) " "$LOGS/$name.log"
    echo "$name: $(( $(date +%s) - start )) s in all, start-up and test included"
done
echo "== bench_train.py on CUDA"
python scripts/bench_train.py --device cuda --rounds 3 --epochs 2 2>/dev/null | grep -E "^(torch|W)" || status=1
exit $status
