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
METHOD_CONSTANT_DROPOUT = "bgnbd_constant_dropout"
METHOD_SIMPLE = "simple"

#: Default L2 penalty on the logarithms of the parameters, added to the *total* negative log-likelihood
#: (a Gaussian prior on each log-parameter, of variance 1 / (2 x penalizer)): its weight against the data
#: falls as 1 / customers, so it steadies a few hundred customers' flat likelihood and vanishes on a chain's
#: data. (``lifetimes``' ``penalizer_coef`` is added to the mean per customer instead, so it never fades;
#: 0.03 in total is what 0.0001 per customer was for a shop of 300 customers.)
DEFAULT_PENALIZER = 0.03
#: The full BG/NBD is kept over its constant-dropout limit only when its extra parameter buys more log-
#: likelihood than this (Akaike's criterion: one parameter is worth 1).
FULL_MODEL_MIN_GAIN = 1.0
#: Below this probability of still being active a customer gets no expected next visit.
MIN_ALIVE_FOR_NEXT_VISIT = 0.05

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
    penalizer: float = 0.0

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
    penalizer: float = 0.0

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
class ConstantDropoutParams:
    """Fitted parameters of the BG/NBD's limit model with one dropout probability for everybody.

    When a, b -> infinity with a / (a + b) -> p, the Beta distribution of the dropout probability
    becomes a point mass at p: every customer drops out after a purchase with the same probability.
    This is what the BG/NBD likelihood runs off to when the data show little spread in how customers
    drop out (a small shop's usual case): the likelihood is then flat along a / b and a, b grow
    without bound. ``r``/``alpha`` as in :class:`BgNbdParams`. Other fields as there.
    """

    r: float
    alpha: float
    p: float
    log_likelihood: float
    converged: bool
    n_customers: float = 0.0
    message: str = ""
    penalizer: float = 0.0

    def is_usable(self) -> bool:
        """True when the fit converged to finite, positive r and alpha and 0 < p < 1."""
        values = (self.r, self.alpha, self.p, self.log_likelihood)
        return bool(
            self.converged and all(math.isfinite(v) for v in values) and min(values[:3]) > 0 and self.p < 1.0
        )


PurchaseParams = BgNbdParams | ConstantDropoutParams


@dataclass(frozen=True)
class ClvResult:
    """Per-customer CLV predictions, with the method that produced them.

    ``method`` is ``'bgnbd_gamma_gamma'`` when both models were fitted and used,
    ``'bgnbd_constant_dropout'`` when the BG/NBD's limit model with one dropout probability
    (:class:`ConstantDropoutParams`, in ``constant_dropout``) was used with Gamma-Gamma, ``'simple'``
    for the fallback estimate (see :func:`simple_estimate`); ``reason`` says why the fallback was
    used ('' otherwise), ``note`` which purchase model was chosen and why. ``probability_alive``
    is None for the simple estimate, which has no notion of it. ``horizon`` is in the time unit of
    the inputs; ``clv`` is undiscounted unless a ``discount_rate`` was given.
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
    constant_dropout: ConstantDropoutParams | None = None
    note: str = ""
    reason_code: str = ""
    #: log-likelihood gained by the full BG/NBD over the constant-dropout model (nan when not compared)
    full_model_gain: float = math.nan

    @property
    def purchase_params(self) -> PurchaseParams | None:
        """The purchase model the predictions come from (None for the simple estimate)."""
        if self.method == METHOD_MODEL:
            return self.bgnbd
        if self.method == METHOD_CONSTANT_DROPOUT:
            return self.constant_dropout
        return None


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


class _GroupedProfiles:
    """Profiles (x, t_x, T) with weights ``scale`` (summing to 1), grouped for the mean log-likelihoods
    below: the special functions, which depend on the frequency alone, are computed once per distinct
    frequency (and summed with the weight of its customers), and the logarithms of alpha + T and
    alpha + t_x once per distinct T and t_x: a chain's hundreds of thousands of profiles share a few
    hundred frequencies and ages."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, scale: np.ndarray) -> None:
        self.frequencies, self.frequency_index = np.unique(x, return_inverse=True)
        self.frequency_weight = np.bincount(
            self.frequency_index, weights=scale, minlength=len(self.frequencies)
        )
        self.ages, self.age_index = np.unique(big_t, return_inverse=True)
        self.recencies, self.recency_index = np.unique(t_x, return_inverse=True)
        self.repeat = x > 0
        self.scale = scale


class _BgNbdMeanLogLikelihood(_GroupedProfiles):
    """The weighted mean of :func:`_bgnbd_terms` over fixed data and its gradient, fast: the same value
    and gradient as ``scale @ ll, scale @ grad``, computed per group (:class:`_GroupedProfiles`)."""

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
    values = _bgnbd_tuple(params)
    if len(values) != 4:
        raise ValueError("bgnbd_log_likelihood takes the (r, alpha, a, b) of a BG/NBD")
    r, alpha, a, b = values
    ll, _, _ = _bgnbd_terms(np.log([r, alpha, a, b]), x, t_x, big_t)
    return float(np.dot(w, ll))


def _bgnbd_tuple(params: PurchaseParams | tuple[float, ...]) -> tuple[float, ...]:
    """(r, alpha, a, b) of a BG/NBD, or (r, alpha, p) of its constant-dropout limit."""
    if isinstance(params, BgNbdParams):
        return params.r, params.alpha, params.a, params.b
    if isinstance(params, ConstantDropoutParams):
        return params.r, params.alpha, params.p
    values = tuple(float(v) for v in params)
    if len(values) not in (3, 4):
        raise ValueError("purchase model parameters are (r, alpha, a, b) or (r, alpha, p)")
    return values


def _check_penalizer(penalizer: float) -> float:
    penalizer = float(penalizer)
    if not math.isfinite(penalizer) or penalizer < 0:
        raise ValueError(f"penalizer must be finite and >= 0, got {penalizer!r}")
    return penalizer


def _penalised_objective(
    mean_log_likelihood: Callable[[np.ndarray], tuple[float, np.ndarray]], penalties: np.ndarray, total: float
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """The penalised negative log-likelihood over the (log-)parameters theta, per customer: the negative
    mean log-likelihood plus ``sum(penalties * theta^2) / total`` (the penalty is on the total
    log-likelihood of ``total`` customers, so its share falls as the data grow), with its gradient; 1e300
    where the likelihood is not finite (the optimiser backs off)."""
    penalties = np.asarray(penalties, dtype=np.float64) / total

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, grad = mean_log_likelihood(theta)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros_like(theta)
        return -value + float(penalties @ (theta * theta)), -grad + 2.0 * penalties * theta

    return objective


def _unpenalised(mean_log_likelihood: Callable[[np.ndarray], tuple[float, np.ndarray]], theta) -> float:
    """The mean log-likelihood at ``theta`` (nan where it is not finite)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value, _ = mean_log_likelihood(theta)
    return float(value) if np.isfinite(value) else math.nan


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


def _fit_data(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None):
    """The validated profiles a purchase model is fitted on: ``(x, t_x, T, scale, total)`` without the
    zero-weight rows, t_x = 0 for customers without a repeat purchase, ``scale`` the weights over their
    ``total`` (an average log-likelihood is well-scaled for the optimiser)."""
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    w = _validate_weights(weights, len(x))
    if len(x) == 0:
        raise ValueError("cannot fit the BG/NBD model on no customers")
    keep = w > 0
    x, t_x, big_t, w = x[keep], t_x[keep], big_t[keep], w[keep]
    t_x = np.where(x > 0, t_x, 0.0)
    total = float(np.sum(w))
    return x, t_x, big_t, w / total, total


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    initial: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
    penalizer: float = 0.0,
) -> BgNbdParams:
    """Fit the BG/NBD model by maximum likelihood.

    ``frequency``, ``recency`` and ``T`` are per-customer arrays (or the unique rows returned by
    :func:`summarise`, with their counts as ``weights``: both give the same fit). ``weights``
    (non-negative, default 1) multiply each row's log-likelihood. ``initial`` is the starting
    point (r, alpha, a, b). ``penalizer`` (>= 0) adds ``penalizer * sum(log(params)^2)`` to the
    total negative log-likelihood (a Gaussian prior on the log-parameters): an L2 penalty that keeps
    the parameters finite where a few hundred customers give a flat likelihood and whose pull fades as
    1 / customers on more data (0: plain maximum likelihood). The result's ``log_likelihood`` is the
    unpenalised one. The result's ``converged`` flag is False when the optimiser failed;
    it never raises for a failed optimisation, only for invalid input (ValueError).
    """
    penalizer = _check_penalizer(penalizer)
    x, t_x, big_t, scale, total = _fit_data(frequency, recency, T, weights)
    mean_log_likelihood = _BgNbdMeanLogLikelihood(x, t_x, big_t, scale)
    objective = _penalised_objective(mean_log_likelihood, np.full(4, penalizer), total)
    start = np.log(np.asarray(initial, dtype=np.float64))
    log_params, converged, message = _maximise(objective, start)
    r, alpha, a, b = (float(v) for v in np.exp(log_params))
    return BgNbdParams(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=_unpenalised(mean_log_likelihood, log_params) * total,
        converged=converged,
        n_customers=total,
        message=message,
        penalizer=penalizer,
    )


class _ConstantDropoutMeanLogLikelihood(_GroupedProfiles):
    """Weighted mean log-likelihood of the constant-dropout limit of the BG/NBD and its gradient with
    respect to (log r, log alpha, logit p), computed as :class:`_BgNbdMeanLogLikelihood` does.

    Per customer: Gamma(r+x) alpha^r / Gamma(r) * [(1-p)^x (alpha+T)^-(r+x)
    + [x > 0] p (1-p)^(x-1) (alpha+t_x)^-(r+x)] (the BG/NBD likelihood as a, b -> infinity with
    a / (a+b) -> p: B(a, b+x) / B(a, b) -> (1-p)^x and a / (b+x-1) -> p / (1-p)).
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, scale: np.ndarray) -> None:
        super().__init__(x, t_x, big_t, scale)
        self.mean_frequency = float(self.frequency_weight @ self.frequencies)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha = np.exp(theta[:2])
        p = float(expit(theta[2]))
        log_p, log_q = -math.log1p(math.exp(-theta[2])), -math.log1p(math.exp(theta[2]))  # log p, log(1-p)
        u = self.frequencies
        u_weight = self.frequency_weight
        u_a1 = gammaln(r + u) - gammaln(r) + r * np.log(alpha)
        rx = r + u[self.frequency_index]
        log_alpha_t = np.log(alpha + self.ages)[self.age_index]
        log_alpha_tx = np.log(alpha + self.recencies)[self.recency_index]
        a3 = -rx * log_alpha_t
        a4 = np.where(self.repeat, log_p - log_q - rx * log_alpha_tx, -np.inf)
        tail = np.logaddexp(a3, a4)
        value = float(u_weight @ u_a1 + self.mean_frequency * log_q + self.scale @ tail)
        s4 = self.scale * np.exp(a4 - tail)
        s3 = self.scale - s4
        d_r = u_weight @ (digamma(r + u) - digamma(r) + np.log(alpha)) - s3 @ log_alpha_t - s4 @ log_alpha_tx
        d_alpha = (
            r / alpha
            - (s3 * rx) @ (1.0 / (alpha + self.ages))[self.age_index]
            - (s4 * rx) @ (1.0 / (alpha + self.recencies))[self.recency_index]
        )
        d_logit = -p * self.mean_frequency + float(np.sum(s4))
        return value, np.array([r * d_r, alpha * d_alpha, d_logit])


def fit_constant_dropout(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    initial: tuple[float, float, float] = (1.0, 1.0, 0.5),
    penalizer: float = 0.0,
) -> ConstantDropoutParams:
    """Fit the constant-dropout limit of the BG/NBD (see :class:`ConstantDropoutParams`).

    Arguments as :func:`fit_bgnbd`, ``initial`` being (r, alpha, p); the penalty applies to log r
    and log alpha (p is fitted on the logit scale, unpenalised). ``converged`` is False when the
    optimiser failed or p ran to 0 or 1 (no dropout, or everybody dropping out, in the data).
    """
    penalizer = _check_penalizer(penalizer)
    x, t_x, big_t, scale, total = _fit_data(frequency, recency, T, weights)
    r0, alpha0, p0 = (float(v) for v in initial)
    if not (r0 > 0 and alpha0 > 0 and 0 < p0 < 1):
        raise ValueError("initial must be (r > 0, alpha > 0, 0 < p < 1)")
    mean_log_likelihood = _ConstantDropoutMeanLogLikelihood(x, t_x, big_t, scale)
    objective = _penalised_objective(mean_log_likelihood, np.array([penalizer, penalizer, 0.0]), total)
    start = np.array([math.log(r0), math.log(alpha0), math.log(p0 / (1.0 - p0))])
    theta, converged, message = _maximise(objective, start)
    return ConstantDropoutParams(
        r=float(math.exp(theta[0])),
        alpha=float(math.exp(theta[1])),
        p=float(expit(theta[2])),
        log_likelihood=_unpenalised(mean_log_likelihood, theta) * total,
        converged=converged,
        n_customers=total,
        message=message,
        penalizer=penalizer,
    )


def probability_alive(
    params: PurchaseParams | tuple[float, ...],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> np.ndarray:
    """P(customer still alive at T | x, t_x, T) under the BG/NBD model.

    1 / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)), computed in log
    space. It is exactly 1 for customers with no repeat purchase (in the BG/NBD a customer can
    only drop out right after a purchase) and decreases with T for fixed x > 0 and t_x. For the
    constant-dropout model (r, alpha, p), a / (b + x - 1) is p / (1 - p).
    """
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    return _probability_alive_validated(_bgnbd_tuple(params), x, t_x, big_t)


def _probability_alive_validated(
    params: tuple[float, ...], x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    repeat = x > 0
    if len(params) == 3:  # constant dropout p: a / (b + x - 1) -> p / (1 - p)
        r, alpha, p = params
        log_odds = math.log(p) - math.log1p(-p)
    else:
        r, alpha, a, b = params
        log_odds = math.log(a) - np.log(np.where(repeat, b + x - 1.0, 1.0))
    log_odds_dead = log_odds + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
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
    params: tuple[float, ...], t: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    return _purchases_if_alive(params, t, x, big_t) * _probability_alive_validated(params, x, t_x, big_t)


def _purchases_if_alive(params: tuple[float, ...], t: float, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    """Expected purchases in the next ``t`` of a customer known to be still active, E[Y(t) | alive, x, T]:
    equation (10) of the paper without its P(alive) factor. It depends on x and T only (not on t_x).

    Constant dropout p (the limit a, b -> infinity, a / (a+b) -> p, in which (a+b+x-1) / (a-1) -> 1/p
    and 2F1(r+x, b+x; a+b+x-1; z) -> (1 - (1-p) z)^-(r+x)): (1 - ((alpha+T) / (alpha+T+p t))^(r+x)) / p.
    """
    if t == 0:
        return np.zeros(len(x))
    if len(params) == 3:
        r, alpha, p = params
        return -np.expm1(-(r + x) * np.log1p(p * t / (alpha + big_t))) / p
    r, alpha, a, b = params
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
    return c / (a - 1.0) * (1.0 - hyp)


def expected_purchases(
    params: PurchaseParams | tuple[float, ...],
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


def expected_repeat_purchases(params: PurchaseParams | tuple[float, ...], t: ArrayLike) -> np.ndarray:
    """E[X(t)]: a new customer's expected repeat purchases in the ``t`` after his first purchase
    (equation (9) of the paper, unconditional), for each entry of ``t``. It is E[Y(t) | alive, x = 0,
    T = 0] (a customer who has just made his first purchase is active), computed as
    :func:`purchases_if_alive` does. Summed over a cohort with ``t`` = time since each customer's first
    purchase, it is the papers' tracking chart of cumulative repeat purchases."""
    horizons = _as_vector("t", t)
    values = _bgnbd_tuple(params)
    distinct, index = np.unique(horizons, return_inverse=True)
    zero = np.zeros(1)
    with np.errstate(over="ignore", invalid="ignore"):
        each = np.array([_purchases_if_alive(values, float(h), zero, zero)[0] for h in distinct])
    return each[index] if len(horizons) else np.zeros(0)


def _by_pairs(
    func: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """``func(x, T)`` evaluated once per distinct (x, T) pair and spread back over the customers."""
    if len(x) == 0:
        return np.zeros(0)
    pairs, _counts, inverse = unique_rows(np.stack([x, big_t], axis=1), return_inverse=True)
    return func(pairs[:, 0], pairs[:, 1])[inverse]


def purchases_if_alive(
    params: PurchaseParams | tuple[float, ...], t: float, frequency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """E[Y(t) | alive, x, T]: the expected purchases in the next ``t`` of a customer still active
    (:func:`expected_purchases` divided by :func:`probability_alive`)."""
    t = float(t)
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"t must be a finite non-negative horizon, got {t!r}")
    x, _, big_t = validate_rfm(frequency, np.zeros(np.size(frequency)), T)
    values = _bgnbd_tuple(params)
    return _by_pairs(lambda u, age: _purchases_if_alive(values, t, u, age), x, big_t)


def _steps_to_one_purchase(
    params: tuple[float, ...], x: np.ndarray, big_t: np.ndarray, step: float, max_steps: int
) -> np.ndarray:
    """Per (x, T): the smallest k in 1..max_steps with E[Y(k step) | alive, x, T] >= 1, else nan."""
    if len(params) == 3:  # closed form: (alpha + T) ((1-p)^(-1/(r+x)) - 1) / p
        r, alpha, p = params
        t = (alpha + big_t) * np.expm1(-math.log1p(-p) / (r + x)) / p
        k = np.maximum(np.ceil(t / step - 1e-9), 1.0)
        # the closed form's rounding: step to the first k at which the expectation really reaches 1
        below = _purchases_if_alive_at(params, k * step, x, big_t) < 1.0
        k = np.where(below, k + 1, k)
        return np.where(k <= max_steps, k, np.nan)
    low = np.zeros(len(x))  # E = 0 < 1 at k = 0
    high = np.full(len(x), float(max_steps))
    reachable = _purchases_if_alive_at(params, high * step, x, big_t) >= 1.0
    while np.any(high - low > 1):
        middle = np.floor((low + high) / 2)
        reached = _purchases_if_alive_at(params, middle * step, x, big_t) >= 1.0
        high = np.where(reached, middle, high)
        low = np.where(reached, low, middle)
    return np.where(reachable, high, np.nan)


def _purchases_if_alive_at(
    params: tuple[float, ...], t: np.ndarray, x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """:func:`_purchases_if_alive` with a horizon per row (rows grouped by horizon)."""
    result = np.empty(len(x))
    horizons, index = np.unique(t, return_inverse=True)
    for position, horizon in enumerate(horizons):  # a loop over distinct horizons, vectorised over rows
        rows = index == position
        result[rows] = _purchases_if_alive(params, float(horizon), x[rows], big_t[rows])
    return result


@dataclass(frozen=True)
class VisitForecast:
    """Each customer's expected next visit (arrays, one entry per customer, time in the caller's unit).

    ``probability_alive``: P(still active) (None for the simple estimate); ``purchases_short`` /
    ``purchases_long``: expected purchases in the next ``short`` / ``long`` time units;
    ``next_visit``: time from now by which the expected purchases *if still active* reach one, a
    whole number of ``step`` (nan when P(alive) < ``min_alive``, when it is not reached within
    ``max_steps`` steps, and for the simple estimate); ``overdue``: time since the day by which,
    seen on the day of the last purchase, that expectation reached one (negative: not yet due; nan
    when it never does, and for the simple estimate).
    """

    probability_alive: np.ndarray | None
    purchases_short: np.ndarray
    purchases_long: np.ndarray
    next_visit: np.ndarray
    overdue: np.ndarray


def forecast_visits(
    result: ClvResult,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    short: float,
    long: float,
    step: float,
    max_steps: int,
    min_alive: float = MIN_ALIVE_FOR_NEXT_VISIT,
) -> VisitForecast:
    """Expected next visit of each customer under the purchase model of ``result`` (see
    :class:`VisitForecast`). With the simple estimate (no model) the expected purchases are the
    historical repeat purchase rate x the horizon and there is no date."""
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    for name, value in (("short", short), ("long", long), ("step", step)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite positive duration, got {value!r}")
    if int(max_steps) < 1:
        raise ValueError("max_steps must be at least 1")
    params = result.purchase_params
    nothing = np.full(len(x), np.nan)
    if params is None:
        rate = np.divide(x, big_t, out=np.zeros(len(x)), where=big_t > 0)
        return VisitForecast(None, rate * short, rate * long, nothing, nothing.copy())
    values = _bgnbd_tuple(params)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        alive = _probability_alive_validated(values, x, t_x, big_t)
        # everything but P(alive) depends on (x, T) only: computed once per distinct pair
        now, _counts, now_index = unique_rows(np.stack([x, big_t], axis=1), return_inverse=True)
        u, age = now[:, 0], now[:, 1]
        if_alive_short = _purchases_if_alive(values, short, u, age)[now_index]
        if_alive_long = _purchases_if_alive(values, long, u, age)[now_index]
        steps = _steps_to_one_purchase(values, u, age, step, max_steps)[now_index]
        # seen on the day of the last purchase: age t_x, same purchases
        steps_then = _by_pairs(lambda u, age: _steps_to_one_purchase(values, u, age, step, max_steps), x, t_x)
    next_visit = np.where(alive >= min_alive, steps * step, np.nan)
    overdue = (big_t - t_x) - steps_then * step
    return VisitForecast(alive, if_alive_short * alive, if_alive_long * alive, next_visit, overdue)


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
    penalizer: float = 0.0,
) -> GammaGammaParams:
    """Fit the Gamma-Gamma spend model by maximum likelihood.

    Only repeat buyers can be fitted on: every ``frequency`` must be > 0 and every
    ``monetary_value`` (mean value of the customer's repeat transactions) > 0; the caller filters,
    and a ValueError says so otherwise. ``weights`` and ``penalizer`` as in :func:`fit_bgnbd`.
    """
    penalizer = _check_penalizer(penalizer)
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
    objective = _penalised_objective(mean_log_likelihood, np.full(3, penalizer), total)
    log_params, converged, message = _maximise(objective, np.log(np.asarray(initial, dtype=np.float64)))
    p, q, gamma = (float(v) for v in np.exp(log_params))
    return GammaGammaParams(
        p=p,
        q=q,
        gamma=gamma,
        log_likelihood=_unpenalised(mean_log_likelihood, log_params) * total,
        converged=converged,
        n_customers=total,
        message=message,
        penalizer=penalizer,
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
    penalizer: float = DEFAULT_PENALIZER,
) -> ClvResult:
    """Fit the purchase and spend models and predict, or fall back to :func:`simple_estimate`.

    With at least ``min_customers`` customers and ``min_repeat_buyers`` repeat buyers with a
    positive mean spend, both the BG/NBD and its constant-dropout limit are fitted (with the L2
    ``penalizer`` on the log-parameters, see :func:`fit_bgnbd`), and Gamma-Gamma on the repeat
    buyers. The full BG/NBD is used (method 'bgnbd_gamma_gamma') when its extra parameter gains more
    than :data:`FULL_MODEL_MIN_GAIN` in (unpenalised) log-likelihood over the limit model, or the
    limit model failed; otherwise the limit model (method 'bgnbd_constant_dropout'): that is the
    case when the data show little spread in how customers drop out and the BG/NBD's a, b run off to
    infinity along a flat likelihood. A model counts only when it converged to finite parameters
    within :data:`PLAUSIBLE_PARAMETER_RANGE` (Gamma-Gamma with q > 1) and every prediction is finite.
    Otherwise the result is the simple estimate (method 'simple'), its ``reason`` (and
    ``reason_code``: 'customers', 'repeat_buyers', 'identical', 'no_dropout', 'purchase_model',
    'spend_model', 'predictions') saying why. Fits run on unique customer profiles (see
    :func:`summarise`). Invalid input raises ValueError in both cases.
    """
    horizon = _check_horizon(horizon, discount_rate, periods_per_month)
    penalizer = _check_penalizer(penalizer)
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    _, m = _validate_spend(x, monetary_value)
    _same_length(frequency=x, monetary_value=m)

    def fallback(code: str, reason: str, **params: object) -> ClvResult:
        return replace(simple_estimate(x, t_x, big_t, m, horizon, reason=reason), reason_code=code, **params)

    spenders = (x > 0) & (m > 0)
    n_spenders = int(np.count_nonzero(spenders))
    if len(x) < min_customers:
        return fallback("customers", f"too little data: {len(x)} customers (< {min_customers})")
    if n_spenders < min_repeat_buyers:
        reason = f"too little data: {n_spenders} repeat buyers (< {min_repeat_buyers})"
        return fallback("repeat_buyers", reason)

    rows, counts = summarise(x, t_x, big_t)
    if len(rows) == 1:
        return fallback("identical", "every customer has the same history: nothing tells them apart")
    low, high = PLAUSIBLE_PARAMETER_RANGE

    def plausible(*values: float) -> bool:
        return all(low <= v <= high for v in values)

    limit = fit_constant_dropout(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts, penalizer=penalizer)
    if math.isfinite(limit.p) and limit.p < low:
        return fallback(
            "no_dropout",
            "no customer appears to have stopped buying (everyone still buys at their usual pace): "
            "how long customers stay cannot be estimated yet",
            constant_dropout=limit,
        )
    bg = fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts, penalizer=penalizer)
    full_ok = bg.is_usable() and plausible(bg.r, bg.alpha, bg.a, bg.b)
    limit_ok = limit.is_usable() and plausible(limit.r, limit.alpha, limit.p)
    gain = bg.log_likelihood - limit.log_likelihood if (full_ok and limit_ok) else math.nan
    if full_ok and not (limit_ok and gain <= FULL_MODEL_MIN_GAIN):
        method, purchase = METHOD_MODEL, bg
        note = "BG/NBD" if not limit_ok else f"BG/NBD (gains {gain:.1f} log-likelihood over constant dropout)"
    elif limit_ok:
        method, purchase = METHOD_CONSTANT_DROPOUT, limit
        note = (
            f"constant dropout p={limit.p:.3g}: the full BG/NBD gains only {gain:.2f} in log-likelihood"
            if full_ok
            else f"constant dropout p={limit.p:.3g}: the full BG/NBD fit failed ({bg.message})"
        )
    else:
        if not bg.is_usable():
            reason = f"BG/NBD fit failed: {bg.message or 'non-finite parameters'}"
        else:
            reason = f"BG/NBD fit degenerate: parameters outside [{low:g}, {high:g}]"
        return fallback("purchase_model", reason, bgnbd=bg, constant_dropout=limit)
    if penalizer:
        note += f", L2 penalty {penalizer:g}"
    spend_rows, spend_counts = unique_rows(np.stack([x[spenders], m[spenders]], axis=1))
    gg = fit_gamma_gamma(spend_rows[:, 0], spend_rows[:, 1], weights=spend_counts, penalizer=penalizer)
    models = {"bgnbd": bg, "constant_dropout": limit, "gamma_gamma": gg, "full_model_gain": gain}
    if not gg.is_usable():
        reason = "Gamma-Gamma fit failed: " + (gg.message if not gg.converged else f"q={gg.q:.3g} <= 1")
        return fallback("spend_model", reason, **models)
    if not plausible(gg.p, gg.q, gg.gamma):
        reason = f"Gamma-Gamma fit degenerate: parameters outside [{low:g}, {high:g}]"
        return fallback("spend_model", reason, **models)

    with np.errstate(over="ignore", invalid="ignore"):
        values = _bgnbd_tuple(purchase)
        purchases = _discounted_purchases(values, x, t_x, big_t, horizon, discount_rate, periods_per_month)
        spend = expected_average_spend(gg, x, m)
        alive = _probability_alive_validated(values, x, t_x, big_t)
        clv = purchases * spend
    if not (np.all(np.isfinite(clv)) and np.all(np.isfinite(alive)) and np.all(purchases >= -1e-9)):
        return fallback("predictions", "model predictions are not finite", **models)
    return ClvResult(
        method=method,
        reason="",
        horizon=horizon,
        expected_purchases=purchases,
        expected_average_spend=spend,
        clv=clv,
        probability_alive=alive,
        note=note,
        **models,
    )


# ---------------------------------------------------------------------------------------------
# Holdout validation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldoutValidation:
    """How well the models fitted on a calibration period predict the purchases of the holdout period.

    ``result``: the fit on the calibration period (:func:`fit_or_fallback`); ``customers``: the
    customers who had bought by the calibration date; ``predicted`` / ``actual``: their repeat
    purchases in the holdout period, expected and seen; ``aggregate_error_pct``: (predicted - actual)
    / actual x 100 (nan when nobody bought in the holdout); ``mean_absolute_error``: mean over the
    customers of |expected - seen| purchases; ``tracking``: (end of period, predicted cumulative,
    actual cumulative) for each period of the holdout, as in the tracking charts of Fader, Hardie &
    Lee (2005).
    """

    result: ClvResult
    customers: int
    holdout_periods: float
    predicted: float
    actual: float
    aggregate_error_pct: float
    mean_absolute_error: float
    tracking: tuple[tuple[float, float, float], ...]


def holdout_validation(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    holdout_frequency: ArrayLike,
    holdout_periods: float,
    actual_by_period: ArrayLike,
    *,
    period: float = 1.0,
    **fit_options: object,
) -> HoldoutValidation:
    """Fit on the calibration profiles (frequency, recency, T, monetary_value as of the calibration
    date), predict each customer's purchases over the next ``holdout_periods`` and compare them with
    ``holdout_frequency`` (the purchases each customer really made then). ``actual_by_period`` holds
    the repeat purchases of these customers in each ``period`` of the holdout (the last one may be
    shorter): ceil(holdout_periods / period) numbers summing to holdout_frequency's sum.
    ``fit_options`` go to :func:`fit_or_fallback` (min_customers, min_repeat_buyers, penalizer).
    """
    x, t_x, big_t = validate_rfm(frequency, recency, T)
    actual_each = _as_vector("holdout_frequency", holdout_frequency)
    by_period = _as_vector("actual_by_period", actual_by_period)
    _same_length(frequency=x, holdout_frequency=actual_each)
    holdout_periods = float(holdout_periods)
    if not (math.isfinite(holdout_periods) and holdout_periods > 0):
        raise ValueError(f"holdout_periods must be finite and > 0, got {holdout_periods!r}")
    if not (math.isfinite(period) and period > 0):
        raise ValueError(f"period must be finite and > 0, got {period!r}")
    ends = np.minimum(np.arange(1, math.ceil(holdout_periods / period - 1e-9) + 1) * period, holdout_periods)
    if len(by_period) != len(ends):
        raise ValueError(f"actual_by_period has {len(by_period)} periods, expected {len(ends)}")
    if abs(float(by_period.sum()) - float(actual_each.sum())) > 1e-6 * max(1.0, float(actual_each.sum())):
        raise ValueError("actual_by_period does not add up to holdout_frequency")
    result = fit_or_fallback(x, t_x, big_t, monetary_value, holdout_periods, **fit_options)
    params = result.purchase_params
    if params is None:
        rate = np.divide(x, big_t, out=np.zeros(len(x)), where=big_t > 0)
        cumulative = float(rate.sum()) * ends
        predicted_each = rate * holdout_periods
    else:
        values = _bgnbd_tuple(params)
        with np.errstate(over="ignore", invalid="ignore"):
            alive = _probability_alive_validated(values, x, t_x, big_t)
            pairs, _counts, inverse = unique_rows(np.stack([x, big_t], axis=1), return_inverse=True)
            alive_by_pair = np.bincount(inverse, weights=alive, minlength=len(pairs))
            cumulative = np.array(
                [float(alive_by_pair @ _purchases_if_alive(values, float(end), pairs[:, 0], pairs[:, 1]))
                 for end in ends]
            )  # fmt: skip
            predicted_each = (
                _purchases_if_alive(values, holdout_periods, pairs[:, 0], pairs[:, 1])[inverse] * alive
            )
    actual = float(actual_each.sum())
    predicted = float(predicted_each.sum())
    return HoldoutValidation(
        result=result,
        customers=len(x),
        holdout_periods=holdout_periods,
        predicted=predicted,
        actual=actual,
        aggregate_error_pct=(predicted - actual) / actual * 100.0 if actual > 0 else math.nan,
        mean_absolute_error=float(np.mean(np.abs(predicted_each - actual_each))) if len(x) else math.nan,
        tracking=tuple(
            (float(end), float(p), float(a))
            for end, p, a in zip(ends, cumulative, np.cumsum(by_period), strict=True)
        ),
    )


# ---------------------------------------------------------------------------------------------
# Simulated cohorts (checking the prediction check)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedCohort:
    """Customers drawn from a purchase model, summarised as :func:`holdout_validation` takes them.

    ``frequency`` / ``recency`` / ``T``: the calibration profiles (repeat purchases up to the
    calibration end, time from the first purchase to the last one and to the calibration end);
    ``holdout_frequency``: each customer's purchases in the holdout; ``actual_by_period``: all
    customers' holdout purchases in each ``period`` of it.
    """

    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    holdout_frequency: np.ndarray
    actual_by_period: np.ndarray


def simulate_cohort(
    params: PurchaseParams | tuple[float, ...],
    first_purchase: ArrayLike,
    calibration_end: float,
    holdout_periods: float,
    seed: int,
    period: float = 1.0,
) -> SimulatedCohort:
    """Draw one customer per entry of ``first_purchase`` (the time of each first purchase) from the
    BG/NBD (r, alpha, a, b) or its constant-dropout limit (r, alpha, p), and follow them up to
    ``calibration_end`` + ``holdout_periods``: each buys at his Poisson rate lambda ~ Gamma(r, alpha)
    and drops out after each repeat purchase with his probability p ~ Beta(a, b) (or the fixed p).
    Times in the unit of the parameters. Vectorised over customers (one step per purchase); a fixed
    ``seed`` gives the same cohort. This is what the model assumes: the prediction check on such a
    cohort measures the check's own sampling error and bias, free of any misfit of the model.
    """
    values = _bgnbd_tuple(params)
    births = _as_vector("first_purchase", first_purchase)
    calibration_end, holdout_periods, period = float(calibration_end), float(holdout_periods), float(period)
    if not (math.isfinite(holdout_periods) and holdout_periods > 0 and math.isfinite(period) and period > 0):
        raise ValueError("holdout_periods and period must be finite and > 0")
    if not math.isfinite(calibration_end) or np.any(births > calibration_end):
        raise ValueError("every first purchase must fall on or before the calibration end")
    if min(values) <= 0 or (len(values) == 3 and values[2] >= 1):
        raise ValueError("purchase model parameters must be positive (and the dropout probability below 1)")
    rng = np.random.default_rng(seed)
    n = len(births)
    rates = rng.gamma(values[0], 1.0 / values[1], n)
    dropout = np.full(n, values[2]) if len(values) == 3 else rng.beta(values[2], values[3], n)
    end = calibration_end + holdout_periods
    periods = math.ceil(holdout_periods / period - 1e-9)
    now = births.copy()
    last = births.copy()
    frequency = np.zeros(n)
    holdout = np.zeros(n)
    by_period = np.zeros(periods)
    active = np.flatnonzero(rates > 0)
    while len(active):  # one step per purchase, vectorised over the customers still buying
        now[active] += rng.exponential(1.0, len(active)) / rates[active]
        active = active[now[active] <= end]
        in_calibration = now[active] <= calibration_end
        early, late = active[in_calibration], active[~in_calibration]
        frequency[early] += 1
        last[early] = now[early]
        holdout[late] += 1
        slot = np.minimum((now[late] - calibration_end) // period, periods - 1).astype(np.int64)
        by_period += np.bincount(slot, minlength=periods)
        active = active[rng.random(len(active)) >= dropout[active]]
    return SimulatedCohort(
        frequency=frequency,
        recency=np.where(frequency > 0, last - births, 0.0),
        T=calibration_end - births,
        holdout_frequency=holdout,
        actual_by_period=by_period,
    )
