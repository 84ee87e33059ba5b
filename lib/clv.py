"""Customer-lifetime-value statistics: BG/NBD purchase model and Gamma-Gamma spend model.

Pure numpy/scipy (no Odoo import), vectorised over customers.

Models
------
* **BG/NBD** (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way: An Alternative to
  the Pareto/NBD Model", Marketing Science 24(2)). While alive, a customer buys with a Poisson
  rate lambda ~ Gamma(r, alpha); after each purchase he drops out with probability
  p ~ Beta(a, b). A customer is summarised by ``frequency`` x (number of *repeat* purchases),
  ``recency`` t_x (time from the first to the last purchase; 0 when x = 0) and ``T`` (time from
  the first purchase to the end of the observation period), all in one time unit of the caller's
  choice (weeks for the CDNOW reference data).
* **Gamma-Gamma** (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer
  Base Analysis", Journal of Marketing Research 42(4); detailed in Fader & Hardie 2013, "The
  Gamma-Gamma Model of Monetary Value"). The value of each transaction is Gamma(p, nu) around a
  customer-specific nu ~ Gamma(q, gamma); a customer with x repeat purchases of mean value m_x
  has E[M] = (p (gamma + x m_x)) / (p x + q - 1). Fitted on repeat buyers only (x > 0), with
  ``monetary_value`` the mean value of the repeat transactions.

Both models are fitted by maximum likelihood with :func:`scipy.optimize.minimize` on the
logarithm of the parameters (so they stay positive), with analytic gradients. The likelihoods
are computed on the unique customer profiles weighted by how many customers share them
(:func:`summarise`), which makes a fit on millions of customers as fast as one on their few
thousand distinct (x, t_x, T) combinations.

Numerical stability: the BG/NBD likelihood is evaluated in log space as in the paper's appendix
(terms A_1 .. A_4, combined with logaddexp); the conditional expectation uses Euler's
transformation of the Gauss hypergeometric function,
(1 - z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1 - z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z),
with z = t / (alpha+T+t), whose series stays well-behaved for any x, T and horizon (the
untransformed 2F1 overflows for large x).

Bad input (negative, NaN or infinite values, recency > T, arrays of different lengths,
non-integer frequencies) raises :class:`ValueError` with a message naming the problem.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

ArrayLike = np.ndarray | list | tuple | float | int

METHOD_MODEL = "bgnbd_gamma_gamma"
METHOD_SIMPLE = "simple"

#: Average number of weeks in a month (365.25 / 7 / 12), the default time-unit conversion.
WEEKS_PER_MONTH = 365.25 / 7.0 / 12.0

# Bounds of the optimisation in log space: parameters stay within [e^-25, e^25].
_LOG_BOUND = 25.0
# BFGS stops when the gradient of the mean log-likelihood (per customer, in log-parameters) is below this.
# Rounding in the sums over a million customers puts a floor of about 1e-9 under that gradient: asking
# for less would only make the last line search fail after dozens of evaluations.
_GRADIENT_TOLERANCE = 1e-8
# fit_or_fallback treats fitted parameters outside this range as a degenerate fit.
PLAUSIBLE_PARAMETER_RANGE = (1e-6, 1e6)
# Relative tolerance when checking recency <= T (floating-point time differences).
_RECENCY_TOLERANCE = 1e-9


# ---------------------------------------------------------------------------------------------
# Parameter containers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters.

    ``r``/``alpha``: shape and rate of the Gamma distribution of purchase rates;
    ``a``/``b``: Beta distribution of the dropout probability. ``log_likelihood`` is the total
    (weighted) log-likelihood at the optimum; ``converged`` is True when the optimiser reported
    success and every value is finite. ``n_customers`` is the (weighted) number of customers
    fitted on.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool
    n_customers: float = 0.0
    message: str = ""

    def is_usable(self) -> bool:
        """True when the fit converged to finite, positive parameters."""
        values = (self.r, self.alpha, self.a, self.b, self.log_likelihood)
        return bool(self.converged and all(math.isfinite(v) for v in values) and min(values[:4]) > 0)


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters.

    ``p``: shape of the per-transaction value distribution; ``q``/``gamma``: shape and rate of the
    Gamma distribution of its scale across customers. The population mean spend per transaction
    is p * gamma / (q - 1), finite only when q > 1. Other fields as in :class:`BgNbdParams`.
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float
    converged: bool
    n_customers: float = 0.0
    message: str = ""

    @property
    def population_mean_spend(self) -> float:
        """Mean spend per transaction in the population, p * gamma / (q - 1) (inf when q <= 1)."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else math.inf

    def is_usable(self) -> bool:
        """True when the fit converged to finite, positive parameters with a finite mean (q > 1)."""
        values = (self.p, self.q, self.gamma, self.log_likelihood)
        return bool(
            self.converged and all(math.isfinite(v) for v in values) and min(values[:3]) > 0 and self.q > 1.0
        )


@dataclass(frozen=True)
class ClvResult:
    """Per-customer CLV predictions, with the method that produced them.

    ``method`` is ``'bgnbd_gamma_gamma'`` when both models were fitted and used, ``'simple'``
    for the fallback estimate (see :func:`simple_estimate`); ``reason`` says why the fallback was
    used ('' otherwise). ``probability_alive`` is None for the simple estimate, which has no
    notion of it. ``horizon`` is in the time unit of the inputs; ``clv`` is undiscounted unless a
    ``discount_rate`` was given.
    """

    method: str
    reason: str
    horizon: float
    expected_purchases: np.ndarray
    expected_average_spend: np.ndarray
    clv: np.ndarray
    probability_alive: np.ndarray | None
    bgnbd: BgNbdParams | None = None
    gamma_gamma: GammaGammaParams | None = None


# ---------------------------------------------------------------------------------------------
# Input validation and summarising
# ---------------------------------------------------------------------------------------------


def _as_vector(name: str, values: ArrayLike) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array, raising ValueError if not finite and >= 0."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from exc
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(array < 0):
        raise ValueError(f"{name} contains negative values (min {array.min()!r})")
    return array


def _same_length(**arrays: np.ndarray) -> int:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays have different lengths: {lengths}")
    return next(iter(lengths.values()))


def _check_frequency(frequency: np.ndarray) -> None:
    if np.any(frequency != np.round(frequency)):
        raise ValueError("frequency must hold whole numbers of repeat purchases")


def validate_rfm(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and convert (frequency, recency, T) into float64 arrays.

    Raises ValueError for negative, NaN or infinite values, non-integer frequencies,
    recency > T, or arrays of different lengths. ``recency`` is ignored by the model when
    frequency is 0.
    """
    x = _as_vector("frequency", frequency)
    t_x = _as_vector("recency", recency)
    big_t = _as_vector("T", T)
    _same_length(frequency=x, recency=t_x, T=big_t)
    _check_frequency(x)
    too_late = t_x > big_t * (1.0 + _RECENCY_TOLERANCE) + _RECENCY_TOLERANCE
    if np.any(too_late):
        first = int(np.flatnonzero(too_late)[0])
        raise ValueError(
            f"recency must not exceed T (customer #{first}: recency={t_x[first]!r} > T={big_t[first]!r})"
        )
    return x, t_x, big_t


def _validate_weights(weights: ArrayLike | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = _as_vector("weights", weights)
    if len(w) != n:
        raise ValueError(f"weights has length {len(w)}, expected {n}")
    if n and not np.sum(w) > 0:
        raise ValueError("weights must not all be zero")
    return w


def unique_rows(
    columns: np.ndarray, return_inverse: bool = False
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique rows of a 2-D array with their counts (and optionally the inverse mapping).

    Same result as ``np.unique(columns, axis=0, return_counts=True[, return_inverse=True])``
    (rows in lexicographic order), but several times faster on millions of rows: it sorts with
    :func:`numpy.lexsort` instead of comparing rows as opaque byte strings.
    """
    columns = np.asarray(columns)
    if columns.ndim != 2:
        raise ValueError("columns must be a 2-D array (one row per customer)")
    n = columns.shape[0]
    if n == 0:
        empty = (columns.copy(), np.zeros(0, dtype=np.int64))
        return (*empty, np.zeros(0, dtype=np.int64)) if return_inverse else empty
    order = np.lexsort(columns.T[::-1])  # last key is primary: first column sorts first
    ordered = columns[order]
    changes = np.any(ordered[1:] != ordered[:-1], axis=1)
    starts = np.flatnonzero(np.concatenate(([True], changes)))
    counts = np.diff(np.append(starts, n))
    uniques = ordered[starts]
    if not return_inverse:
        return uniques, counts
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(np.concatenate(([0], changes)))
    return uniques, counts, inverse


def summarise(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Collapse customers into their unique (frequency, recency, T) rows.

    Returns ``(rows, weights)``: ``rows`` is an (k, 3) float array of the distinct
    (frequency, recency, T) combinations in lexicographic order and ``weights`` the number of
    customers sharing each (int64). The recency of customers with frequency 0 is set to 0 first
    (the model ignores it), so they collapse on T alone. Pass ``rows[:, 0], rows[:, 1],
    rows[:, 2], weights`` to :func:`fit_bgnbd`.
    """
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    t_x = np.where(x > 0, t_x, 0.0)
    return unique_rows(np.stack([x, t_x, big_t], axis=1))


# ---------------------------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------------------------


def _bgnbd_terms(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row log-likelihood and its gradient with respect to the log-parameters.

    Returns (ll, grad, ok) with ll of shape (n,), grad of shape (n, 4).
    """
    r, alpha, a, b = np.exp(log_params)
    rx = r + x
    repeat = x > 0
    log_alpha_t = np.log(alpha + big_t)
    log_alpha_tx = np.log(alpha + t_x)
    # b + x - 1 only matters for repeat buyers (x >= 1, so it is >= b > 0); guard x = 0 rows.
    b_x1 = np.where(repeat, b + x - 1.0, 1.0)

    a1 = gammaln(rx) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -rx * log_alpha_t
    a4 = np.where(repeat, np.log(a) - np.log(b_x1) - rx * log_alpha_tx, -np.inf)
    tail = np.logaddexp(a3, a4)
    ll = a1 + a2 + tail

    w4 = np.exp(a4 - tail)  # share of the "dropped out right after the last purchase" term
    w3 = 1.0 - w4
    d_r = digamma(rx) - digamma(r) + np.log(alpha) - w3 * log_alpha_t - w4 * log_alpha_tx
    d_alpha = r / alpha - rx * (w3 / (alpha + big_t) + w4 / (alpha + t_x))
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + x)
    d_a = psi_ab - psi_abx + w4 / a
    d_b = psi_ab + digamma(b + x) - digamma(b) - psi_abx - w4 / b_x1
    grad = np.stack([r * d_r, alpha * d_alpha, a * d_a, b * d_b], axis=1)
    return ll, grad, np.isfinite(ll)


class _BgNbdMeanLogLikelihood:
    """The weighted mean of :func:`_bgnbd_terms` over fixed data and its gradient, fast.

    Same value and gradient as ``scale @ ll, scale @ grad``, but the special functions, which depend on
    the frequency alone, are computed once per distinct frequency (and summed with the weight of its
    customers), and the logarithms of alpha + T and alpha + t_x once per distinct T and t_x: a chain's
    hundreds of thousands of profiles share a few hundred frequencies and ages. ``scale`` sums to 1.
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, scale: np.ndarray) -> None:
        self.frequencies, self.frequency_index = np.unique(x, return_inverse=True)
        self.frequency_weight = np.bincount(
            self.frequency_index, weights=scale, minlength=len(self.frequencies)
        )
        self.ages, self.age_index = np.unique(big_t, return_inverse=True)
        self.recencies, self.recency_index = np.unique(t_x, return_inverse=True)
        self.repeat = x > 0
        self.scale = scale

    def __call__(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_params)
        u = self.frequencies
        u_weight = self.frequency_weight
        # per distinct frequency (A_1 + A_2 of the paper's appendix, b + x - 1 for repeat buyers)
        u_b_x1 = np.where(u > 0, b + u - 1.0, 1.0)
        u_a12 = gammaln(r + u) - gammaln(r) + r * np.log(alpha) + betaln(a, b + u) - betaln(a, b)
        # per profile: log(A_3 + A_4)
        rx = r + u[self.frequency_index]
        log_alpha_t = np.log(alpha + self.ages)[self.age_index]
        log_alpha_tx = np.log(alpha + self.recencies)[self.recency_index]
        a3 = -rx * log_alpha_t
        a4 = np.where(
            self.repeat, (np.log(a) - np.log(u_b_x1))[self.frequency_index] - rx * log_alpha_tx, -np.inf
        )
        tail = np.logaddexp(a3, a4)
        value = float(u_weight @ u_a12 + self.scale @ tail)

        s4 = self.scale * np.exp(a4 - tail)  # weight x share of the "dropped out" term
        s3 = self.scale - s4
        psi_ab = digamma(a + b)
        psi_abu = digamma(a + b + u)
        d_r = u_weight @ (digamma(r + u) - digamma(r) + np.log(alpha)) - s3 @ log_alpha_t - s4 @ log_alpha_tx
        d_alpha = (
            r / alpha
            - (s3 * rx) @ (1.0 / (alpha + self.ages))[self.age_index]
            - (s4 * rx) @ (1.0 / (alpha + self.recencies))[self.recency_index]
        )
        d_a = u_weight @ (psi_ab - psi_abu) + np.sum(s4) / a
        d_b = (
            u_weight @ (psi_ab + digamma(b + u) - digamma(b) - psi_abu)
            - s4 @ (1.0 / u_b_x1)[self.frequency_index]
        )
        return value, np.array([r * d_r, alpha * d_alpha, a * d_a, b * d_b])


def bgnbd_log_likelihood(
    params: BgNbdParams | tuple[float, float, float, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total (weighted) BG/NBD log-likelihood of the data under ``params`` (r, alpha, a, b)."""
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    w = _validate_weights(weights, len(x))
    r, alpha, a, b = _bgnbd_tuple(params)
    ll, _, _ = _bgnbd_terms(np.log([r, alpha, a, b]), x, t_x, big_t)
    return float(np.dot(w, ll))


def _bgnbd_tuple(
    params: BgNbdParams | tuple[float, float, float, float],
) -> tuple[float, float, float, float]:
    if isinstance(params, BgNbdParams):
        return params.r, params.alpha, params.a, params.b
    r, alpha, a, b = (float(v) for v in params)
    return r, alpha, a, b


def _maximise(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray
) -> tuple[np.ndarray, bool, str]:
    """Minimise a (value, gradient) objective over log-parameters kept within +-_LOG_BOUND.

    Uses BFGS (a handful of parameters: its dense updates are cheap and, unlike L-BFGS-B, it
    makes no multithreaded BLAS calls, whose start-up dominates such small fits on a busy
    machine). Outside the box the objective is evaluated at the nearest point inside it plus a
    quadratic penalty, so the optimiser is pushed back. The fit counts as converged when BFGS
    reports success, or stops on a precision-loss warning with a negligible gradient (common at
    the optimum of a flat likelihood), and the optimum is finite and not on the box.
    """

    def bounded(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        inside = np.clip(log_params, -_LOG_BOUND, _LOG_BOUND)
        value, grad = objective(inside)
        excess = log_params - inside
        return value + 0.5 * float(excess @ excess), grad + excess

    result = minimize(
        bounded, start, jac=True, method="BFGS", options={"maxiter": 1000, "gtol": _GRADIENT_TOLERANCE}
    )
    log_params = np.clip(result.x, -_LOG_BOUND, _LOG_BOUND)
    value, grad = objective(log_params)
    finite = bool(np.all(np.isfinite(log_params)) and np.isfinite(value) and value < 1e300)
    stationary = bool(result.success) or bool(finite and np.max(np.abs(grad)) < 1e-6)
    on_bound = bool(np.any(np.abs(log_params) >= _LOG_BOUND - 1e-6))
    message = str(result.message)
    if on_bound:
        message = f"{message} (a parameter reached the bound exp(+-{_LOG_BOUND:g}): degenerate data)"
    return log_params, finite and stationary and not on_bound, message


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    initial: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
) -> BgNbdParams:
    """Fit the BG/NBD model by maximum likelihood.

    ``frequency``, ``recency`` and ``T`` are per-customer arrays (or the unique rows returned by
    :func:`summarise`, with their counts as ``weights``: both give the same fit). ``weights``
    (non-negative, default 1) multiply each row's log-likelihood. ``initial`` is the starting
    point (r, alpha, a, b). The result's ``converged`` flag is False when the optimiser failed;
    it never raises for a failed optimisation, only for invalid input (ValueError).
    """
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    w = _validate_weights(weights, len(x))
    if len(x) == 0:
        raise ValueError("cannot fit the BG/NBD model on no customers")
    keep = w > 0
    x, t_x, big_t, w = x[keep], t_x[keep], big_t[keep], w[keep]
    t_x = np.where(x > 0, t_x, 0.0)
    total = float(np.sum(w))
    scale = w / total  # average log-likelihood: well-scaled for the optimiser
    mean_log_likelihood = _BgNbdMeanLogLikelihood(x, t_x, big_t, scale)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, grad = mean_log_likelihood(log_params)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros_like(log_params)
        return -value, -grad

    start = np.log(np.asarray(initial, dtype=np.float64))
    log_params, converged, message = _maximise(objective, start)
    r, alpha, a, b = (float(v) for v in np.exp(log_params))
    value, _ = objective(log_params)
    return BgNbdParams(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=-value * total,
        converged=converged,
        n_customers=total,
        message=message,
    )


def probability_alive(
    params: BgNbdParams | tuple[float, float, float, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> np.ndarray:
    """P(customer still alive at T | x, t_x, T) under the BG/NBD model.

    1 / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)), computed in log
    space. It is exactly 1 for customers with no repeat purchase (in the BG/NBD a customer can
    only drop out right after a purchase) and decreases with T for fixed x > 0 and t_x.
    """
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    r, alpha, a, b = _bgnbd_tuple(params)
    repeat = x > 0
    b_x1 = np.where(repeat, b + x - 1.0, 1.0)
    log_odds_dead = math.log(a) - np.log(b_x1) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
    return np.where(repeat, expit(-log_odds_dead), 1.0)


def _hyp2f1(a: float, b: float, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """scipy's hyp2f1, retried beside the parameters where it returns inf/NaN.

    For z close to 1 and an exactly integer c - a - b, scipy's special-case branch can return
    inf although the function is finite and smooth there (e.g. 2F1(2.5, 4; 104.5; 0.99)).
    Such points are recomputed with ``a`` moved by one part in 1e10, which changes the value
    by about as much (relative) and avoids the faulty branch.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        values = hyp2f1(a, b, c, z)
        bad = ~np.isfinite(values)
        if np.any(bad):
            nudged = a + 1e-10 * max(abs(a), 1.0)
            values = np.where(bad, hyp2f1(nudged, b, c, z), values)
    return values


def _expected_purchases_validated(
    params: tuple[float, float, float, float], t: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    r, alpha, a, b = params
    if t == 0:
        return np.zeros(len(x))
    if abs(a - 1.0) < 1e-7:  # removable singularity at a = 1: step just beside it
        a = 1.0 + 1e-7 if a >= 1.0 else 1.0 - 1e-7
    # c = a+b+x-1 is 0 only for x = 0 and a + b = 1, where c * 2F1(..; c; z) has a finite limit:
    # step beside that pole too (the error is of the order of the step).
    c = a + b + x - 1.0
    c = np.where(np.abs(c) < 1e-8, 1e-8, c)
    # (1 - z)^(r+x) 2F1(r+x, b+x; c; z) with z = t / (alpha+T+t), rewritten by Euler's
    # transformation as (1 + t/(alpha+T))^(1-a) 2F1(a+b-1-r, a-1; c; z): the upper parameters
    # do not grow with x and z < 1, so it stays accurate for any x, T and t (the original form
    # overflows for large x; the Pfaff form, with argument -t/(alpha+T), returns NaN for large
    # x and t).
    hyp = np.exp((1.0 - a) * np.log1p(t / (alpha + big_t))) * _hyp2f1(
        a + b - 1.0 - r, a - 1.0, c, t / (alpha + big_t + t)
    )
    core = c / (a - 1.0) * (1.0 - hyp)
    return core * probability_alive((r, alpha, a, b), x, t_x, big_t)


def expected_purchases(
    params: BgNbdParams | tuple[float, float, float, float],
    t: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> np.ndarray:
    """Conditional expected number of purchases in the next ``t`` time units, E[Y(t) | x, t_x, T].

    Equation (10) of Fader, Hardie & Lee (2005)::

        (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
        / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))

    evaluated through Euler's transformation of 2F1 (see the module docstring) for stability.
    ``t`` is in the same time unit as recency and T.
    """
    t = float(t)
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"t must be a finite non-negative horizon, got {t!r}")
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    return _expected_purchases_validated(_bgnbd_tuple(params), t, x, t_x, big_t)


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------------------------


def _validate_spend(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = _as_vector("frequency", frequency)
    m = _as_vector("monetary_value", monetary_value)
    _same_length(frequency=x, monetary_value=m)
    _check_frequency(x)
    return x, m


def _gamma_gamma_terms(log_params: np.ndarray, x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row Gamma-Gamma log-likelihood and gradient with respect to the log-parameters."""
    p, q, gamma = np.exp(log_params)
    px = p * x
    log_m = np.log(m)
    log_x = np.log(x)
    log_denominator = np.log(gamma + m * x)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * math.log(gamma)
        + (px - 1.0) * log_m
        + px * log_x
        - (px + q) * log_denominator
    )
    psi_pxq = digamma(px + q)
    d_p = x * (psi_pxq - digamma(px) + log_m + log_x - log_denominator)
    d_q = psi_pxq - digamma(q) + math.log(gamma) - log_denominator
    d_gamma = q / gamma - (px + q) / (gamma + m * x)
    grad = np.stack([p * d_p, q * d_q, gamma * d_gamma], axis=1)
    return ll, grad


class _GammaGammaMeanLogLikelihood:
    """The weighted mean of :func:`_gamma_gamma_terms` over fixed data and its gradient, fast.

    Same value and gradient as ``scale @ ll, scale @ grad``: the special functions are computed once per
    distinct frequency, the terms that do not depend on the parameters once per fit; only
    log(gamma + m x) is computed per profile. ``scale`` sums to 1.
    """

    def __init__(self, x: np.ndarray, m: np.ndarray, scale: np.ndarray) -> None:
        self.frequencies, index = np.unique(x, return_inverse=True)
        self.frequency_weight = np.bincount(index, weights=scale, minlength=len(self.frequencies))
        self.scale = scale
        self.scaled_x = scale * x
        self.spent = m * x
        log_m = np.log(m)
        self.constant_p = float(self.scaled_x @ (log_m + np.log(x)))  # coefficient of p
        self.constant = -float(scale @ log_m)

    def __call__(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, gamma = np.exp(log_params)
        u = self.frequencies
        pu = p * u
        psi_puq = digamma(pu + q)
        log_denominator = np.log(gamma + self.spent)
        inverse_denominator = 1.0 / (gamma + self.spent)
        weighted_log_denominator = float(self.scale @ log_denominator)
        x_weighted_log_denominator = float(self.scaled_x @ log_denominator)
        value = (
            self.frequency_weight @ (gammaln(pu + q) - gammaln(pu))
            - gammaln(q)
            + q * math.log(gamma)
            + p * self.constant_p
            + self.constant
            - p * x_weighted_log_denominator
            - q * weighted_log_denominator
        )
        d_p = (
            self.frequency_weight @ (u * (psi_puq - digamma(pu)))
            + self.constant_p
            - x_weighted_log_denominator
        )
        d_q = self.frequency_weight @ psi_puq - digamma(q) + math.log(gamma) - weighted_log_denominator
        d_gamma = (
            q / gamma - p * (self.scaled_x @ inverse_denominator) - q * (self.scale @ inverse_denominator)
        )
        return float(value), np.array([p * d_p, q * d_q, gamma * d_gamma])


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
    initial: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> GammaGammaParams:
    """Fit the Gamma-Gamma spend model by maximum likelihood.

    Only repeat buyers can be fitted on: every ``frequency`` must be > 0 and every
    ``monetary_value`` (mean value of the customer's repeat transactions) > 0; the caller filters,
    and a ValueError says so otherwise. ``weights`` as in :func:`fit_bgnbd`.
    """
    x, m = _validate_spend(frequency, monetary_value)
    w = _validate_weights(weights, len(x))
    if len(x) == 0:
        raise ValueError("cannot fit the Gamma-Gamma model on no customers")
    keep = w > 0
    x, m, w = x[keep], m[keep], w[keep]
    if np.any(x <= 0):
        raise ValueError("the Gamma-Gamma model is fitted on repeat buyers only: filter frequency > 0 first")
    if np.any(m <= 0):
        raise ValueError("monetary_value must be > 0 for the customers the Gamma-Gamma model is fitted on")
    total = float(np.sum(w))
    scale = w / total
    mean_log_likelihood = _GammaGammaMeanLogLikelihood(x, m, scale)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, grad = mean_log_likelihood(log_params)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros_like(log_params)
        return -value, -grad

    log_params, converged, message = _maximise(objective, np.log(np.asarray(initial, dtype=np.float64)))
    p, q, gamma = (float(v) for v in np.exp(log_params))
    value, _ = objective(log_params)
    return GammaGammaParams(
        p=p,
        q=q,
        gamma=gamma,
        log_likelihood=-value * total,
        converged=converged,
        n_customers=total,
        message=message,
    )


def _gamma_gamma_tuple(params: GammaGammaParams | tuple[float, float, float]) -> tuple[float, float, float]:
    if isinstance(params, GammaGammaParams):
        return params.p, params.q, params.gamma
    p, q, gamma = (float(v) for v in params)
    return p, q, gamma


def expected_average_spend(
    gg_params: GammaGammaParams | tuple[float, float, float],
    frequency: ArrayLike,
    monetary_value: ArrayLike,
) -> np.ndarray:
    """Conditional expected spend per transaction, E[M | p, q, gamma, m_x, x].

    p (gamma + x m_x) / (p x + q - 1): a weighted average of the population mean
    p gamma / (q - 1) and the customer's observed mean m_x. For x = 0 (monetary_value ignored)
    it is the population mean. NaN where undefined (p x + q <= 1, i.e. x = 0 with q <= 1).
    """
    x, m = _validate_spend(frequency, monetary_value)
    p, q, gamma = _gamma_gamma_tuple(gg_params)
    m = np.where(x > 0, m, 0.0)
    denominator = p * x + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, p * (gamma + x * m) / denominator, np.nan)


# ---------------------------------------------------------------------------------------------
# CLV
# ---------------------------------------------------------------------------------------------


def _discounted_purchases(
    params: tuple[float, float, float, float],
    x: np.ndarray,
    t_x: np.ndarray,
    big_t: np.ndarray,
    horizon: float,
    discount_rate: float,
    periods_per_month: float,
) -> np.ndarray:
    """Expected purchases over ``horizon``, each month's share discounted by (1 + rate)^-month."""
    if discount_rate == 0 or horizon == 0:
        return _expected_purchases_validated(params, horizon, x, t_x, big_t)
    months = math.ceil(horizon / periods_per_month - 1e-12)
    total = np.zeros(len(x))
    previous = np.zeros(len(x))
    for month in range(1, months + 1):  # a loop over months, vectorised over customers
        cumulative = _expected_purchases_validated(
            params, min(month * periods_per_month, horizon), x, t_x, big_t
        )
        total += (cumulative - previous) / (1.0 + discount_rate) ** month
        previous = cumulative
    return total


def _check_horizon(horizon: float, discount_rate: float, periods_per_month: float) -> float:
    horizon = float(horizon)
    if not math.isfinite(horizon) or horizon < 0:
        raise ValueError(f"horizon must be a finite non-negative duration, got {horizon!r}")
    if not math.isfinite(discount_rate) or discount_rate < 0:
        raise ValueError(f"discount_rate must be finite and >= 0, got {discount_rate!r}")
    if not math.isfinite(periods_per_month) or periods_per_month <= 0:
        raise ValueError(f"periods_per_month must be finite and > 0, got {periods_per_month!r}")
    return horizon


def predict_clv(
    bg: BgNbdParams | tuple[float, float, float, float],
    gg: GammaGammaParams | tuple[float, float, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizon: float,
    discount_rate: float = 0.0,
    periods_per_month: float = WEEKS_PER_MONTH,
) -> np.ndarray:
    """Expected customer value over the next ``horizon`` time units.

    expected_purchases(horizon) x expected_average_spend: by default **undiscounted** (a plain
    expected revenue over the horizon, no margin applied). With ``discount_rate`` d > 0 (per
    month) each month's expected purchases are discounted by (1 + d)^-month, months being
    ``periods_per_month`` time units long (default: weeks, 4.35 a month).
    """
    horizon = _check_horizon(horizon, discount_rate, periods_per_month)
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    _, m = _validate_spend(x, monetary_value)
    _same_length(frequency=x, monetary_value=m)
    purchases = _discounted_purchases(
        _bgnbd_tuple(bg), x, t_x, big_t, horizon, discount_rate, periods_per_month
    )
    return purchases * expected_average_spend(gg, x, m)


def simple_estimate(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizon: float,
    reason: str = "",
) -> ClvResult:
    """Model-free CLV estimate used when the models cannot be fitted (method 'simple').

    expected purchases = historical repeat purchase rate (frequency / T; 0 when T = 0) x horizon;
    expected spend = the customer's mean repeat spend, or for customers without repeat purchase
    the pooled mean over all repeat purchases (0 if there are none); CLV = their product,
    undiscounted. There is no probability of being alive (None).
    """
    horizon = _check_horizon(horizon, 0.0, 1.0)
    x, _, big_t = validate_rfm(frequency, recency, T)
    _, m = _validate_spend(x, monetary_value)
    _same_length(frequency=x, monetary_value=m)
    rate = np.divide(x, big_t, out=np.zeros(len(x)), where=big_t > 0)
    purchases = rate * horizon
    repeat_purchases = float(np.sum(x))
    pooled = float(np.dot(x, m)) / repeat_purchases if repeat_purchases > 0 else 0.0
    spend = np.where(x > 0, m, pooled)
    return ClvResult(
        method=METHOD_SIMPLE,
        reason=reason,
        horizon=horizon,
        expected_purchases=purchases,
        expected_average_spend=spend,
        clv=purchases * spend,
        probability_alive=None,
    )


def fit_or_fallback(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizon: float,
    *,
    min_customers: int = 30,
    min_repeat_buyers: int = 10,
    discount_rate: float = 0.0,
    periods_per_month: float = WEEKS_PER_MONTH,
) -> ClvResult:
    """Fit BG/NBD + Gamma-Gamma and predict, or fall back to :func:`simple_estimate`.

    The models are used (method 'bgnbd_gamma_gamma') when there are at least ``min_customers``
    customers and ``min_repeat_buyers`` repeat buyers with a positive mean spend, both fits
    converge to finite parameters within :data:`PLAUSIBLE_PARAMETER_RANGE` (Gamma-Gamma with
    q > 1, i.e. a finite mean spend) and every prediction is finite. Otherwise the result is
    the simple estimate (method 'simple'), its ``reason`` saying why. Fits run on unique
    customer profiles (see :func:`summarise`). Invalid input raises ValueError in both cases.
    """
    horizon = _check_horizon(horizon, discount_rate, periods_per_month)
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    _, m = _validate_spend(x, monetary_value)
    _same_length(frequency=x, monetary_value=m)

    def fallback(reason: str, **params: object) -> ClvResult:
        return replace(simple_estimate(x, t_x, big_t, m, horizon, reason=reason), **params)

    spenders = (x > 0) & (m > 0)
    n_spenders = int(np.count_nonzero(spenders))
    if len(x) < min_customers:
        return fallback(f"too little data: {len(x)} customers (< {min_customers})")
    if n_spenders < min_repeat_buyers:
        return fallback(f"too little data: {n_spenders} repeat buyers (< {min_repeat_buyers})")

    rows, counts = summarise(x, t_x, big_t)
    low, high = PLAUSIBLE_PARAMETER_RANGE
    bg = fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts)
    if not bg.is_usable():
        return fallback(f"BG/NBD fit failed: {bg.message or 'non-finite parameters'}", bgnbd=bg)
    if not all(low <= v <= high for v in (bg.r, bg.alpha, bg.a, bg.b)):
        return fallback(f"BG/NBD fit degenerate: parameters outside [{low:g}, {high:g}]", bgnbd=bg)
    spend_rows, spend_counts = unique_rows(np.stack([x[spenders], m[spenders]], axis=1))
    gg = fit_gamma_gamma(spend_rows[:, 0], spend_rows[:, 1], weights=spend_counts)
    if not gg.is_usable():
        reason = "Gamma-Gamma fit failed: " + (gg.message if not gg.converged else f"q={gg.q:.3g} <= 1")
        return fallback(reason, bgnbd=bg, gamma_gamma=gg)
    if not all(low <= v <= high for v in (gg.p, gg.q, gg.gamma)):
        reason = f"Gamma-Gamma fit degenerate: parameters outside [{low:g}, {high:g}]"
        return fallback(reason, bgnbd=bg, gamma_gamma=gg)

    with np.errstate(over="ignore", invalid="ignore"):
        bg_tuple = _bgnbd_tuple(bg)
        purchases = _discounted_purchases(bg_tuple, x, t_x, big_t, horizon, discount_rate, periods_per_month)
        spend = expected_average_spend(gg, x, m)
        alive = probability_alive(bg_tuple, x, t_x, big_t)
        clv = purchases * spend
    if not (np.all(np.isfinite(clv)) and np.all(np.isfinite(alive)) and np.all(purchases >= -1e-9)):
        return fallback("model predictions are not finite", bgnbd=bg, gamma_gamma=gg)
    return ClvResult(
        method=METHOD_MODEL,
        reason="",
        horizon=horizon,
        expected_purchases=purchases,
        expected_average_spend=spend,
        clv=clv,
        probability_alive=alive,
        bgnbd=bg,
        gamma_gamma=gg,
    )
