"""Unit tests of the CLV statistics library (lib/clv.py, lib/cdnow.py); no database used.

The reference results are those of Fader, Hardie & Lee (2005) on the 2,357-customer CDNOW
sample (time in weeks, calibration period 1997-01-01 .. 1997-09-30):
BG/NBD r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 (log-likelihood -9582.4), and
Gamma-Gamma p = 6.25, q = 3.74, gamma = 15.44 on the 946 repeat buyers.

The CDNOW data files come from the 'lifetimes' wheel installed by scripts/setup.sh; when they
are missing the CDNOW tests FAIL (they are not skipped) and say so.
"""

import importlib.metadata
import math
from unittest import mock

import numpy as np

from odoo.tests import BaseCase, tagged

from ..lib import cdnow, clv

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CDNOW_PARAMS = (0.243, 4.414, 0.793, 2.426)
RELATIVE_TOLERANCE = 0.01


def simulate_bgnbd(n, r, alpha, a, b, seed, max_weeks=39):
    """Simulate BG/NBD customers observed for a whole number of weeks (loops: test data only).

    Times are rounded to whole weeks so that many customers share a profile.
    """
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1.0 / alpha, n)
    dropouts = rng.beta(a, b, n)
    big_t = rng.integers(max_weeks // 2, max_weeks + 1, n).astype(float)
    frequency = np.zeros(n)
    recency = np.zeros(n)
    for i in range(n):
        now = 0.0
        while True:
            now += rng.exponential(1.0 / rates[i]) if rates[i] > 0 else math.inf
            if now > big_t[i]:
                break
            frequency[i] += 1
            recency[i] = now
            if rng.random() < dropouts[i]:
                break
    return frequency, np.floor(recency), big_t


def hyp2f1_series(a, b, c, z, terms=2000):
    """Gauss hypergeometric series summed term by term (|z| < 1), for hand-checked values."""
    total, term = 1.0, 1.0
    for k in range(terms):
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
        if abs(term) < 1e-17 * abs(total):
            break
    return total


class _CdnowMixin:
    """Loads the CDNOW sample once per class; fails (never skips) when it is not installed."""

    _rfm = None

    def cdnow_rfm(self):
        if _CdnowMixin._rfm is None:
            try:
                _CdnowMixin._rfm = cdnow.load_sample_rfm()
            except cdnow.CdnowDataMissingError as exc:
                self.fail(f"CDNOW reference data not installed: {exc}")
        return _CdnowMixin._rfm

    def assert_close(self, got, expected, name, tolerance=RELATIVE_TOLERANCE):
        error = abs(got - expected) / abs(expected)
        self.assertLessEqual(
            error, tolerance, f"{name}: fitted {got:.5g}, published {expected}, error {error:.2%}"
        )


@tagged("post_install", "-at_install", "shop_crm_unit")
class TestClvCdnow(_CdnowMixin, BaseCase):
    """Reproduce the published CDNOW results from the raw transactions."""

    def test_cdnow_rfm_matches_the_papers_data(self):
        rfm = self.cdnow_rfm()
        self.assertEqual(len(rfm), 2357)
        self.assertEqual(int(np.count_nonzero(rfm.frequency)), 946)
        # First customer of the sample: purchases on 1997-01-01, 01-18, 08-02 (and 12-12, holdout).
        self.assertEqual(rfm.frequency[0], 2)
        self.assertAlmostEqual(rfm.recency[0], 213 / 7)
        self.assertAlmostEqual(rfm.T[0], 272 / 7)
        self.assertAlmostEqual(rfm.monetary_value[0], (29.73 + 14.96) / 2)
        self.assertEqual(rfm.holdout_frequency[0], 1)
        # First purchases in Q1 1997 only: T between 26.14 (1997-03-31) and 38.86 weeks (01-01).
        self.assertAlmostEqual(rfm.T.max(), 272 / 7)
        self.assertGreaterEqual(rfm.T.min(), 183 / 7)
        self.assertTrue(np.all(rfm.recency <= rfm.T))

    def test_bgnbd_reproduces_published_parameters(self):
        rfm = self.cdnow_rfm()
        rows, weights = clv.summarise(rfm.frequency, rfm.recency, rfm.T)
        params = clv.fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2], weights=weights)
        self.assertTrue(params.converged, params.message)
        for name, published in PUBLISHED_BGNBD.items():
            self.assert_close(getattr(params, name), published, name)
        self.assertAlmostEqual(params.log_likelihood, -9582.4, delta=0.1)

    def test_gamma_gamma_reproduces_published_parameters(self):
        rfm = self.cdnow_rfm()
        repeat = rfm.frequency > 0
        params = clv.fit_gamma_gamma(rfm.frequency[repeat], rfm.monetary_value[repeat])
        self.assertTrue(params.converged, params.message)
        self.assertEqual(params.n_customers, 946)
        for name, published in PUBLISHED_GAMMA_GAMMA.items():
            self.assert_close(getattr(params, name), published, name)

    def test_fit_or_fallback_uses_the_models_on_cdnow(self):
        rfm = self.cdnow_rfm()
        result = clv.fit_or_fallback(rfm.frequency, rfm.recency, rfm.T, rfm.monetary_value, horizon=52)
        self.assertEqual(result.method, "bgnbd_gamma_gamma", result.reason)
        self.assertEqual(result.reason, "")
        self.assert_close(result.bgnbd.r, PUBLISHED_BGNBD["r"], "r")
        self.assert_close(result.gamma_gamma.q, PUBLISHED_GAMMA_GAMMA["q"], "q")
        self.assertEqual(result.clv.shape, (2357,))
        self.assertTrue(np.all(np.isfinite(result.clv)) and np.all(result.clv > 0))
        self.assertTrue(np.all((result.probability_alive > 0) & (result.probability_alive <= 1)))

    def test_holdout_purchases_are_predicted_in_aggregate(self):
        # Conditional expectations summed over the cohort come close to the purchase days actually
        # seen in the 39-week holdout period (1997-10-01 .. 1998-06-30): 1,653 vs 1,882.
        rfm = self.cdnow_rfm()
        rows, weights = clv.summarise(rfm.frequency, rfm.recency, rfm.T)
        params = clv.fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2], weights=weights)
        predicted = clv.expected_purchases(params, 39, rfm.frequency, rfm.recency, rfm.T).sum()
        actual = rfm.holdout_frequency.sum()
        self.assertLess(
            abs(predicted - actual) / actual, 0.15, f"predicted {predicted:.0f}, actual {actual:.0f}"
        )

    def test_missing_data_says_to_run_setup(self):
        not_found = importlib.metadata.PackageNotFoundError("lifetimes")
        with (
            mock.patch.object(cdnow.importlib.metadata, "distribution", side_effect=not_found),
            self.assertRaises(cdnow.CdnowDataMissingError) as caught,
        ):
            cdnow.load_sample_rfm()
        self.assertIn("scripts/setup.sh", str(caught.exception))


@tagged("post_install", "-at_install", "shop_crm_unit")
class TestClvMath(_CdnowMixin, BaseCase):
    """Properties of the formulas, fitting with weights, fallback and input validation."""

    def test_summarise_collapses_profiles(self):
        frequency = [0, 0, 2, 2, 2, 1]
        recency = [0, 3, 5, 5, 5, 1]  # recency of x = 0 customers is ignored
        big_t = [10, 10, 20, 20, 20, 20]
        rows, weights = clv.summarise(frequency, recency, big_t)
        np.testing.assert_array_equal(rows, [[0, 0, 10], [1, 1, 20], [2, 5, 20]])
        np.testing.assert_array_equal(weights, [2, 1, 3])

    def test_unique_rows_matches_numpy_unique(self):
        rng = np.random.default_rng(7)
        data = rng.integers(0, 4, size=(5000, 3)).astype(float) / 2
        rows, counts, inverse = clv.unique_rows(data, return_inverse=True)
        expected_rows, expected_inverse, expected_counts = np.unique(
            data, axis=0, return_inverse=True, return_counts=True
        )
        np.testing.assert_array_equal(rows, expected_rows)
        np.testing.assert_array_equal(counts, expected_counts)
        np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))
        np.testing.assert_array_equal(rows[inverse], data)

    def test_weighted_fit_equals_unexpanded_fit(self):
        frequency, recency, big_t = simulate_bgnbd(3000, *CDNOW_PARAMS, seed=1)
        full = clv.fit_bgnbd(frequency, recency, big_t)
        rows, weights = clv.summarise(frequency, recency, big_t)
        self.assertLess(len(rows), 1000)  # the summary really is smaller
        weighted = clv.fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2], weights=weights)
        self.assertTrue(full.converged and weighted.converged)
        for name in ("r", "alpha", "a", "b", "log_likelihood"):
            self.assertAlmostEqual(
                getattr(weighted, name), getattr(full, name), delta=1e-5 * abs(getattr(full, name))
            )
        self.assertEqual(weighted.n_customers, 3000)
        # Same for the Gamma-Gamma model, with duplicated spend profiles.
        rng = np.random.default_rng(2)
        x = rng.integers(1, 6, 600).astype(float)
        m = rng.choice([10.0, 20.0, 35.0, 50.0], 600) * rng.choice([1.0, 1.5], 600)
        gg_full = clv.fit_gamma_gamma(x, m)
        spend_rows, spend_weights = clv.unique_rows(np.stack([x, m], axis=1))
        gg_weighted = clv.fit_gamma_gamma(spend_rows[:, 0], spend_rows[:, 1], weights=spend_weights)
        for name in ("p", "q", "gamma", "log_likelihood"):
            self.assertAlmostEqual(
                getattr(gg_weighted, name), getattr(gg_full, name), delta=1e-4 * abs(getattr(gg_full, name))
            )

    def test_fit_recovers_simulated_parameters(self):
        frequency, recency, big_t = simulate_bgnbd(4000, 0.5, 5.0, 0.8, 2.5, seed=3, max_weeks=78)
        params = clv.fit_bgnbd(frequency, recency, big_t)
        self.assertTrue(params.converged)
        # Weekly rounding and sampling noise: the mean purchase rate r/alpha is what matters most.
        self.assertAlmostEqual(params.r / params.alpha, 0.1, delta=0.02)
        self.assertAlmostEqual(params.a / (params.a + params.b), 0.8 / 3.3, delta=0.08)

    def test_log_likelihood_matches_the_closed_form(self):
        r, alpha, a, b = CDNOW_PARAMS
        x, t_x, big_t = 3, 20.0, 35.0

        def lbeta(u, v):
            return math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)

        by_hand = math.log(
            math.exp(math.lgamma(r + x) - math.lgamma(r))
            * alpha**r
            * (
                math.exp(lbeta(a, b + x) - lbeta(a, b)) / (alpha + big_t) ** (r + x)
                + math.exp(lbeta(a + 1, b + x - 1) - lbeta(a, b)) / (alpha + t_x) ** (r + x)
            )
        )
        zero = r * math.log(alpha) - r * math.log(alpha + big_t)  # x = 0: only the "still alive" term
        got = clv.bgnbd_log_likelihood(CDNOW_PARAMS, [x, 0], [t_x, 0], [big_t, big_t])
        self.assertAlmostEqual(got, by_hand + zero, places=10)

    def test_probability_alive(self):
        # No repeat purchase: alive with certainty in the BG/NBD (dropout follows a purchase).
        alive = clv.probability_alive(CDNOW_PARAMS, [0, 0, 0], [0, 0, 0], [1, 39, 1000])
        np.testing.assert_array_equal(alive, [1.0, 1.0, 1.0])
        # Fixed x > 0 and t_x: the longer the silence since the last purchase, the less alive.
        big_t = np.linspace(10, 400, 50)
        alive = clv.probability_alive(CDNOW_PARAMS, np.full(50, 3), np.full(50, 10.0), big_t)
        self.assertTrue(np.all(np.diff(alive) < 0))
        self.assertTrue(np.all((alive > 0) & (alive <= 1)))
        # Hand-computed value for one customer.
        r, alpha, a, b = CDNOW_PARAMS
        x, t_x, obs_t = 2, 30.43, 38.86
        expected = 1 / (1 + a / (b + x - 1) * ((alpha + obs_t) / (alpha + t_x)) ** (r + x))
        self.assertAlmostEqual(
            clv.probability_alive(CDNOW_PARAMS, [x], [t_x], [obs_t])[0], expected, places=12
        )
        # Huge values do not overflow.
        alive = clv.probability_alive(CDNOW_PARAMS, [1e6, 5e3], [1e7, 1.0], [1e7, 1e5])
        self.assertTrue(np.all(np.isfinite(alive)))
        self.assertAlmostEqual(alive[0], 1.0, delta=1e-5)  # a / (b + x - 1) is ~1e-6
        self.assertAlmostEqual(alive[1], 0.0)

    def test_expected_purchases_hand_computed(self):
        r, alpha, a, b = CDNOW_PARAMS
        x, t_x, obs_t, t = 2, 30.43, 38.86, 39.0
        # Equation (10) of the paper, with the hypergeometric series summed by hand.
        z = t / (alpha + obs_t + t)
        hyp = hyp2f1_series(r + x, b + x, a + b + x - 1, z)
        numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + obs_t) / (alpha + obs_t + t)) ** (r + x) * hyp)
        denominator = 1 + a / (b + x - 1) * ((alpha + obs_t) / (alpha + t_x)) ** (r + x)
        expected = numerator / denominator
        got = clv.expected_purchases(CDNOW_PARAMS, t, [x], [t_x], [obs_t])[0]
        self.assertAlmostEqual(got, expected, places=10)
        # ... which is the 1.226 the authors report for this customer in their BG/NBD notes.
        self.assertAlmostEqual(got, 1.226, delta=0.0005)

    def test_expected_purchases_properties(self):
        frequency = np.array([0, 0, 1, 5, 20])
        recency = np.array([0, 0, 5.0, 30.0, 38.0])
        big_t = np.array([5.0, 39.0, 39.0, 39.0, 39.0])
        previous = np.zeros(5)
        np.testing.assert_array_equal(
            clv.expected_purchases(CDNOW_PARAMS, 0, frequency, recency, big_t), previous
        )
        for horizon in (1, 4, 13, 52, 520):
            current = clv.expected_purchases(CDNOW_PARAMS, horizon, frequency, recency, big_t)
            self.assertTrue(np.all(current > previous), f"not increasing at t={horizon}")
            previous = current
        one_year = clv.expected_purchases(CDNOW_PARAMS, 52, frequency, recency, big_t)
        # More past purchases (recent ones) -> more future purchases; a longer silence -> fewer.
        self.assertTrue(one_year[4] > one_year[3] > one_year[2] > one_year[1])
        self.assertGreater(one_year[0], one_year[1])
        # Huge histories and horizons stay finite and non-negative (no hyp2f1 overflow).
        huge = clv.expected_purchases(CDNOW_PARAMS, 1e7, [1e5, 1000, 0], [1e6 - 1, 38, 0], [1e6, 39, 39])
        self.assertTrue(np.all(np.isfinite(huge)) and np.all(huge >= 0))
        # At most the observed rate (0.1 a week) over the horizon; dropouts make it less.
        self.assertTrue(1e5 < huge[0] < 0.1 * 1e7)
        # A customer silent since his first purchase buys less than the prior mean rate r / alpha.
        self.assertLess(clv.expected_purchases(CDNOW_PARAMS, 1, [0], [0], [39])[0], 0.243 / 4.414)

    def test_expected_purchases_at_awkward_parameters(self):
        # Reference values computed with mpmath at 30 digits from equation (10).
        cases = [
            # c - a - b of the transformed 2F1 is exactly an integer, z close to 1.
            ((2.0, 10.0, 5.0, 0.5), 1000.0, 100, 0.0, 0.0, 24.8749997362769),
            # x = 0 and a + b = 1: removable pole of 2F1(...; a+b+x-1; z).
            ((0.5, 20.0, 0.5, 0.5), 52.0, 0, 0.0, 10.0, 0.581208219817282),
        ]
        for params, horizon, x, t_x, obs_t, expected in cases:
            with self.subTest(params=params):
                got = clv.expected_purchases(params, horizon, [x], [t_x], [obs_t])[0]
                self.assertAlmostEqual(got, expected, delta=1e-6 * expected)

    def test_expected_average_spend_and_clv(self):
        p, q, gamma = 6.25, 3.74, 15.44
        spend = clv.expected_average_spend((p, q, gamma), [0, 2, 10], [0, 22.345, 40.0])
        self.assertAlmostEqual(spend[0], p * gamma / (q - 1))
        self.assertAlmostEqual(spend[1], p * (gamma + 2 * 22.345) / (p * 2 + q - 1))
        self.assertTrue(spend[2] < 40.0)  # shrunk towards the population mean of ~35.2
        clv_values = clv.predict_clv(
            CDNOW_PARAMS,
            (p, q, gamma),
            [0, 2, 10],
            [0, 30.43, 38],
            [39, 38.86, 39],
            [0, 22.345, 40.0],
            horizon=52,
        )
        purchases = clv.expected_purchases(CDNOW_PARAMS, 52, [0, 2, 10], [0, 30.43, 38], [39, 38.86, 39])
        np.testing.assert_allclose(clv_values, purchases * spend, rtol=1e-12)
        discounted = clv.predict_clv(
            CDNOW_PARAMS,
            (p, q, gamma),
            [0, 2, 10],
            [0, 30.43, 38],
            [39, 38.86, 39],
            [0, 22.345, 40.0],
            horizon=52,
            discount_rate=0.01,
        )
        self.assertTrue(np.all(discounted < clv_values) and np.all(discounted > clv_values / 1.01**13))
        tiny = clv.predict_clv(
            CDNOW_PARAMS, (p, q, gamma), [2], [30.43], [38.86], [22.345], horizon=52, discount_rate=1e-12
        )
        self.assertAlmostEqual(tiny[0], clv_values[1], places=8)

    def test_fallback_on_tiny_data(self):
        frequency = [0, 1, 3, 2, 0]
        recency = [0, 4.0, 10.0, 8.0, 0]
        big_t = [5.0, 8.0, 20.0, 10.0, 0.0]
        monetary = [0, 30.0, 20.0, 10.0, 0]
        result = clv.fit_or_fallback(frequency, recency, big_t, monetary, horizon=10)
        self.assertEqual(result.method, "simple")
        self.assertIn("too little data", result.reason)
        self.assertIsNone(result.probability_alive)
        self.assertIsNone(result.bgnbd)
        pooled = (30 + 60 + 20) / 6
        np.testing.assert_allclose(result.expected_purchases, [0, 10 / 8, 30 / 20, 2.0, 0])
        np.testing.assert_allclose(result.expected_average_spend, [pooled, 30, 20, 10, pooled])
        np.testing.assert_allclose(result.clv, [0, 37.5, 30, 20, 0])

    def test_fallback_thresholds_are_parameters(self):
        frequency, recency, big_t = simulate_bgnbd(200, *CDNOW_PARAMS, seed=4)
        monetary = np.where(frequency > 0, 25.0 + frequency, 0.0)
        result = clv.fit_or_fallback(frequency, recency, big_t, monetary, horizon=52, min_customers=500)
        self.assertEqual(result.method, "simple")
        self.assertIn("200 customers", result.reason)
        repeaters = int(np.count_nonzero(frequency))
        result = clv.fit_or_fallback(
            frequency, recency, big_t, monetary, horizon=52, min_repeat_buyers=repeaters + 1
        )
        self.assertEqual(result.method, "simple")
        self.assertIn("repeat buyers", result.reason)

    def test_fallback_when_the_optimiser_fails(self):
        frequency, recency, big_t = simulate_bgnbd(300, *CDNOW_PARAMS, seed=5)
        monetary = np.where(frequency > 0, np.random.default_rng(5).gamma(6.0, 5.0, 300), 0.0)
        failed = clv.BgNbdParams(
            r=math.nan,
            alpha=1.0,
            a=1.0,
            b=1.0,
            log_likelihood=math.nan,
            converged=False,
            message="ABNORMAL_TERMINATION_IN_LNSRCH",
        )
        failed_limit = clv.ConstantDropoutParams(
            r=math.nan, alpha=1.0, p=0.5, log_likelihood=math.nan, converged=False, message="failed"
        )
        # The full BG/NBD failing alone: its constant-dropout limit takes over.
        with mock.patch.object(clv, "fit_bgnbd", return_value=failed):
            result = clv.fit_or_fallback(frequency, recency, big_t, monetary, horizon=52)
        self.assertEqual(result.method, clv.METHOD_CONSTANT_DROPOUT)
        self.assertIn("full BG/NBD fit failed (ABNORMAL_TERMINATION_IN_LNSRCH)", result.note)
        # Both failing: the simple estimate, saying why.
        with (
            mock.patch.object(clv, "fit_bgnbd", return_value=failed),
            mock.patch.object(clv, "fit_constant_dropout", return_value=failed_limit),
        ):
            result = clv.fit_or_fallback(frequency, recency, big_t, monetary, horizon=52)
        self.assertEqual(result.method, "simple")
        self.assertEqual(result.reason_code, "purchase_model")
        self.assertIn("BG/NBD fit failed", result.reason)
        self.assertIsNone(result.probability_alive)
        # Identical customers: nothing to tell them apart -> fallback.
        result = clv.fit_or_fallback([1] * 50, [5] * 50, [10] * 50, np.linspace(5, 50, 50), horizon=10)
        self.assertEqual(result.method, "simple")
        self.assertEqual(result.reason_code, "identical")
        self.assertIn("same history", result.reason)
        # Non-finite parameters count as a failure even if the optimiser claims success.
        self.assertFalse(clv.BgNbdParams(math.inf, 1, 1, 1, -1.0, True).is_usable())
        self.assertFalse(clv.GammaGammaParams(2.0, 0.9, 1.0, -1.0, True).is_usable())  # q <= 1: infinite mean

    def test_bad_input_raises_value_error(self):
        bad_rfm = {
            "negative": ([1, -1], [1, 1], [2, 2]),
            "NaN": ([1, math.nan], [1, 1], [2, 2]),
            "recency must not exceed T": ([1, 1], [1, 3], [2, 2]),
            "different lengths": ([1, 1], [1], [2, 2]),
            "whole numbers": ([1.5], [1], [2]),
            "infinite": ([1], [1], [math.inf]),
        }
        for label, (frequency, recency, big_t) in bad_rfm.items():
            with self.subTest(label):
                with self.assertRaises(ValueError):
                    clv.fit_bgnbd(frequency, recency, big_t)
                with self.assertRaises(ValueError):
                    clv.probability_alive(CDNOW_PARAMS, frequency, recency, big_t)
                with self.assertRaises(ValueError):
                    clv.expected_purchases(CDNOW_PARAMS, 10, frequency, recency, big_t)
                with self.assertRaises(ValueError):
                    clv.fit_or_fallback(frequency, recency, big_t, [1.0] * len(frequency), horizon=10)
        with self.assertRaisesRegex(ValueError, "recency must not exceed T"):
            clv.summarise([1], [3], [2])
        with self.assertRaisesRegex(ValueError, "repeat buyers only"):
            clv.fit_gamma_gamma([0, 1], [0, 10.0])
        with self.assertRaisesRegex(ValueError, "> 0"):
            clv.fit_gamma_gamma([1, 1], [0.0, 10.0])
        with self.assertRaisesRegex(ValueError, "different lengths"):
            clv.expected_average_spend((6.25, 3.74, 15.44), [1, 2], [10.0])
        with self.assertRaisesRegex(ValueError, "weights"):
            clv.fit_bgnbd([1, 1], [1, 1], [2, 2], weights=[1])
        with self.assertRaisesRegex(ValueError, "horizon"):
            clv.fit_or_fallback([1], [1], [2], [10.0], horizon=-1)
        with self.assertRaisesRegex(ValueError, "no customers"):
            clv.fit_bgnbd([], [], [])
