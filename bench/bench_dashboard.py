"""Time the evaluation dashboard's data for a 10,000-case cohort (issue 7: <= 0.5 s of server time).

Generates predictions for three classes over three splits (the paper's 54/24/22% split sizes and
44/38/18% class mix), then builds the whole payload (ROC per split and class, AUC with DeLong CI,
sensitivity/specificity/accuracy with Wilson CIs, confusion matrices), serialises it to JSON, and does the
version-vs-version DeLong tests for a second, noisier model. Prints the median and worst of several runs.

    .venv/bin/python bench/bench_dashboard.py [--cases 10000] [--repeats 7]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inference.ml import evaluation  # noqa: E402

# The paper's proportions (method.md, Cohort): splits 248/107/101 of 456, classes 202/175/79 of 456.
SPLIT_SHARES = (248 / 456, 107 / 456, 101 / 456)
CLASS_SHARES = (202 / 456, 175 / 456, 79 / 456)
BUDGET_S = 0.5


def generated_predictions(n_cases: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    truth = rng.choice(3, n_cases, p=CLASS_SHARES)
    logits = rng.normal(size=(n_cases, 3)) + 2.0 * np.eye(3)[truth]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    noisier = probabilities + rng.normal(0, 0.15, probabilities.shape)
    split = rng.choice(np.array(evaluation.SPLITS), n_cases, p=SPLIT_SHARES)
    return truth, probabilities, noisier, split


def timed(function, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    truth, probabilities, noisier, split = generated_predictions(args.cases)

    def dashboard() -> str:
        payload = evaluation.dashboard_payload(true_class=truth, probabilities=probabilities, split=split)
        return json.dumps(payload, allow_nan=False)

    def comparison() -> str:
        return json.dumps(evaluation.version_comparison_payload(
            true_class=truth, probabilities_a=probabilities, probabilities_b=noisier, split=split))

    size_kb = len(dashboard()) / 1024
    for name, function in (("dashboard payload + JSON", dashboard), ("version vs version DeLong", comparison)):
        seconds = timed(function, args.repeats)
        verdict = "within" if max(seconds) <= BUDGET_S else "OVER"
        print(f"{name}: {args.cases} cases, 3 splits x 3 classes: median {statistics.median(seconds) * 1000:.1f} ms,"
              f" worst {max(seconds) * 1000:.1f} ms of {args.repeats} runs ({verdict} the {BUDGET_S} s budget)")
    print(f"payload size: {size_kb:.0f} KiB of JSON")


if __name__ == "__main__":
    main()
