"""A sweep folder as a table (weights -> each output's metrics and the objective) and plots.

    python scripts/sweep_report.py logs/posts/multiruns/2026-01-31_12-00-00-000000
    python scripts/sweep_report.py logs/adult_multitask/optuna/loss_weights --pair age,income

See `plait.sweeps.report`.
"""

import sys

from plait.sweeps.report import main

if __name__ == "__main__":
    sys.exit(main())
