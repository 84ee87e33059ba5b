"""Benchmark of the CLV library (lib/clv.py): fitting and predicting at scale.

Usage::

    python bench/clv.py [--customers N] [--repeat K] [--seed S] [--output PATH] [--check]

1. Fits BG/NBD + Gamma-Gamma on the 2,357-customer CDNOW sample (target <= 0.2 s).
2. Builds N customers (default 1,000,000) *resampled with replacement from the CDNOW sample*
   (fixed seed), fits both models on them (target <= 3 s, summarising into unique profiles
   included) and predicts P(alive) and the 12-month CLV of every customer (target <= 2 s).
3. Writes the timings, the parameters fitted on the CDNOW sample and which targets were met to
   bench/results/clv.json.

Each timing is the best of ``--repeat`` runs (all runs are recorded too). Needs only numpy, scipy
and the CDNOW data file of the 'lifetimes' wheel (installed by scripts/setup.sh). ``--check``
makes the exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy

ROOT = Path(__file__).resolve().parent.parent  # the addon folder, which holds lib/
sys.path.insert(0, str(ROOT))

from lib import cdnow, clv  # noqa: E402  (after the sys.path change)

TARGETS = {"cdnow_sample_fit_seconds": 0.2, "fit_seconds": 3.0, "predict_seconds": 2.0}
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "gamma": 15.44}
HORIZON_WEEKS = 365.25 / 7.0  # 12 months, in the weeks the CDNOW data is expressed in
DATA_LABEL = (
    "CDNOW sample (2,357 customers, Fader-Hardie-Lee 2005), calibration 1997-01-01..1997-09-30, weeks"
)


def say(text: str = "") -> None:
    """Write one line of the report to standard output."""
    sys.stdout.write(text + "\n")


def fit_models(
    frequency: np.ndarray, recency: np.ndarray, big_t: np.ndarray, monetary: np.ndarray
) -> tuple[clv.BgNbdParams, clv.GammaGammaParams, dict]:
    """Fit both models the way production code does: on unique profiles with counts."""
    rows, weights = clv.summarise(frequency, recency, big_t)
    bg = clv.fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2], weights=weights)
    repeat = frequency > 0
    spend_rows, spend_weights = clv.unique_rows(np.stack([frequency[repeat], monetary[repeat]], axis=1))
    gg = clv.fit_gamma_gamma(spend_rows[:, 0], spend_rows[:, 1], weights=spend_weights)
    return bg, gg, {"unique_rfm_profiles": int(len(rows)), "unique_spend_profiles": int(len(spend_rows))}


def predict(
    bg: clv.BgNbdParams,
    gg: clv.GammaGammaParams,
    frequency: np.ndarray,
    recency: np.ndarray,
    big_t: np.ndarray,
    monetary: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """P(alive) and undiscounted 12-month CLV for every customer."""
    alive = clv.probability_alive(bg, frequency, recency, big_t)
    value = clv.predict_clv(bg, gg, frequency, recency, big_t, monetary, horizon=HORIZON_WEEKS)
    return alive, value


def best_of(repeat: int, func, *args):
    """Run ``func(*args)`` ``repeat`` times; return (last result, best seconds, all seconds)."""
    runs = []
    result = None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = func(*args)
        runs.append(time.perf_counter() - start)
    return result, min(runs), runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="resampled customers (default 1e6)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing, best kept (default 3)")
    parser.add_argument("--seed", type=int, default=20050101, help="resampling seed")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "clv.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.customers < 100:
        parser.error("--customers must be >= 100 (enough repeat buyers to fit the spend model)")

    try:
        sample = cdnow.load_sample_rfm()
    except cdnow.CdnowDataMissingError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    x, t_x, big_t, m = sample.frequency, sample.recency, sample.T, sample.monetary_value

    # 1. The CDNOW sample itself.
    (bg, gg, sample_info), sample_fit, sample_runs = best_of(args.repeat, fit_models, x, t_x, big_t, m)
    fitted = {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "p": gg.p, "q": gg.q, "gamma": gg.gamma}
    errors = {name: (fitted[name] - PUBLISHED[name]) / PUBLISHED[name] * 100 for name in fitted}
    say(f"CDNOW sample: {len(sample)} customers, {sample_info['unique_rfm_profiles']} unique profiles")
    say(f"  fit BG/NBD + Gamma-Gamma: {sample_fit:.4f} s (target <= {TARGETS['cdnow_sample_fit_seconds']} s)")
    for name, value in fitted.items():
        say(f"  {name:>5} = {value:8.4f}   published {PUBLISHED[name]:<6}  error {errors[name]:+.3f} %")

    # 2. N customers resampled with replacement from the CDNOW sample.
    rng = np.random.default_rng(args.seed)
    pick = rng.integers(0, len(sample), args.customers)
    big = (x[pick], t_x[pick], big_t[pick], m[pick])
    label = f"{args.customers:,} customers resampled with replacement from CDNOW (seed {args.seed})"
    say(f"\n{label}")
    (bg_big, gg_big, big_info), fit_seconds, fit_runs = best_of(args.repeat, fit_models, *big)
    converged = bg_big.converged and gg_big.converged
    say(
        f"  fit: {fit_seconds:.3f} s (target <= {TARGETS['fit_seconds']} s), "
        f"{big_info['unique_rfm_profiles']} unique RFM profiles, converged={converged}"
    )
    (alive, value), predict_seconds, predict_runs = best_of(args.repeat, predict, bg_big, gg_big, *big)
    say(
        f"  predict P(alive) + 12-month CLV: {predict_seconds:.3f} s "
        f"(target <= {TARGETS['predict_seconds']} s); mean P(alive) {alive.mean():.3f}, "
        f"mean CLV {value.mean():.2f} (undiscounted)"
    )

    timings = {
        "cdnow_sample_fit_seconds": sample_fit,
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
    }
    targets_met = {name: bool(timings[name] <= limit) for name, limit in TARGETS.items()}
    targets_met["cdnow_params_within_1pct"] = bool(all(abs(e) <= 1.0 for e in errors.values()))
    report = {
        "customers": args.customers,
        "data_label": f"resampled from CDNOW: {label}",
        "reference_data": DATA_LABEL,
        "fit_seconds": round(fit_seconds, 4),
        "predict_seconds": round(predict_seconds, 4),
        "cdnow_sample_fit_seconds": round(sample_fit, 4),
        "cdnow_sample_params": {name: round(value, 6) for name, value in fitted.items()},
        "published_params": PUBLISHED,
        "cdnow_sample_param_error_pct": {name: round(e, 4) for name, e in errors.items()},
        "cdnow_sample_log_likelihood": {
            "bgnbd": round(bg.log_likelihood, 3),
            "gamma_gamma": round(gg.log_likelihood, 3),
        },
        "resampled_params": {
            "r": bg_big.r,
            "alpha": bg_big.alpha,
            "a": bg_big.a,
            "b": bg_big.b,
            "p": gg_big.p,
            "q": gg_big.q,
            "gamma": gg_big.gamma,
        },
        "resampled_converged": bool(converged),
        "unique_rfm_profiles": big_info["unique_rfm_profiles"],
        "unique_spend_profiles": big_info["unique_spend_profiles"],
        "horizon_weeks": HORIZON_WEEKS,
        "mean_probability_alive": float(alive.mean()),
        "mean_clv_12_months": float(value.mean()),
        "targets": TARGETS,
        "targets_met": targets_met,
        "runs_seconds": {"cdnow_sample_fit": sample_runs, "fit": fit_runs, "predict": predict_runs},
        "repeat": args.repeat,
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, args.output)
    say(f"\ntargets met: {targets_met}\nwrote {args.output}")
    return 0 if (all(targets_met.values()) or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
