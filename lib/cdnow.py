"""Load the CDNOW sample and build calibration-period RFM summaries (pure Python + numpy).

The CDNOW data set (customers of the online CD retailer CDNOW who made their first purchase in
the first quarter of 1997, followed until the end of June 1998) is the reference data of
Fader, Hardie & Lee, "Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD
Model" (Marketing Science, 2005) and of Fader & Hardie, "The Gamma-Gamma Model of Monetary Value"
(2013). A 1/10th sample of 2,357 customers is the one the papers fit their models on.

The raw transaction files are not vendored in this repository: they ship inside the ``lifetimes``
wheel on PyPI (``lifetimes/datasets/CDNOW_sample.txt`` and ``CDNOW_master.txt``), which
``scripts/setup.sh`` installs with ``pip install --no-deps lifetimes==0.11.3``. Only the data
files are used: no code of that package is imported. The files are located through the installed
distribution's metadata (:func:`importlib.metadata.distribution`), which does not import it.

``CDNOW_sample.txt`` is whitespace separated, one transaction a line::

    <customer id in master> <customer id in sample> <date YYYYMMDD> <number of CDs> <dollar value>

``CDNOW_master.txt`` has a header line and no sample id::

    <customer id> <date YYYYMMDD> <number of CDs> <dollar value>

RFM conventions that reproduce the published summaries (time in weeks, days / 7):

* several transactions of one customer on the same day are one purchase, their values summed;
* ``frequency`` (x) = number of *repeat* purchase days in the calibration period (first purchase
  day excluded);
* ``recency`` (t_x) = weeks from the first purchase to the last calibration-period purchase
  (0 when x = 0);
* ``T`` = weeks from the first purchase to the end of the calibration period, 1997-09-30
  (a customer whose first purchase was on 1997-01-01 has T = 272 / 7 = 38.86 weeks);
* ``monetary_value`` = mean value of the repeat purchases in the calibration period (0 when
  x = 0): the first purchase is excluded, as in the Gamma-Gamma paper.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DISTRIBUTION = "lifetimes"
SAMPLE_FILE = "lifetimes/datasets/CDNOW_sample.txt"
MASTER_FILE = "lifetimes/datasets/CDNOW_master.txt"

#: Calibration period used by the papers: 39 weeks of 1997.
CALIBRATION_START = dt.date(1997, 1, 1)
CALIBRATION_END = dt.date(1997, 9, 30)
#: End of the observation (holdout) period of the data set.
OBSERVATION_END = dt.date(1998, 6, 30)

SETUP_HINT = (
    "The CDNOW data set is missing: it ships inside the 'lifetimes' wheel, installed by "
    "scripts/setup.sh (pip install --no-deps lifetimes==0.11.3). Run scripts/setup.sh."
)


class CdnowDataMissingError(FileNotFoundError):
    """The CDNOW data files are not installed (the ``lifetimes`` distribution is absent)."""


@dataclass(frozen=True)
class Transactions:
    """Raw transactions, one entry per line of the data file, as parallel numpy arrays.

    ``customer`` holds customer ids (the sample id for the sample file, the master id for the
    master file), ``day`` the purchase date as days since :data:`CALIBRATION_START`, ``cds`` the
    number of CDs and ``value`` the dollar value.
    """

    customer: np.ndarray
    day: np.ndarray
    cds: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return int(self.customer.shape[0])


@dataclass(frozen=True)
class Rfm:
    """Per-customer calibration-period summary, as parallel numpy arrays (one entry per customer).

    ``customer`` is sorted ascending. ``frequency``, ``recency`` and ``T`` follow the BG/NBD
    conventions (time in weeks); ``monetary_value`` is the mean repeat purchase value (0 for
    customers without repeat purchase). ``holdout_frequency`` counts purchase days after the
    calibration period, up to the end of the data.
    """

    customer: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary_value: np.ndarray
    holdout_frequency: np.ndarray

    def __len__(self) -> int:
        return int(self.customer.shape[0])


def data_path(which: str = "sample") -> Path:
    """Return the path of an installed CDNOW data file (``which`` is 'sample' or 'master').

    Raises :class:`CdnowDataMissingError`, whose message says to run ``scripts/setup.sh``, when the
    ``lifetimes`` distribution or the file is not installed.
    """
    if which not in ("sample", "master"):
        raise ValueError(f"which must be 'sample' or 'master', not {which!r}")
    relative = SAMPLE_FILE if which == "sample" else MASTER_FILE
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise CdnowDataMissingError(SETUP_HINT) from exc
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise CdnowDataMissingError(f"{SETUP_HINT} (expected file not found: {path})")
    return path


def _day_numbers(dates: np.ndarray) -> np.ndarray:
    """Convert integer YYYYMMDD dates into days since :data:`CALIBRATION_START`."""
    years, rest = np.divmod(dates.astype(np.int64), 10000)
    months, days = np.divmod(rest, 100)
    if np.any((months < 1) | (months > 12) | (days < 1) | (days > 31)):
        raise ValueError("invalid YYYYMMDD date in CDNOW data")
    month_start = ((years - 1970) * 12 + (months - 1)).astype("datetime64[M]").astype("datetime64[D]")
    epoch = np.datetime64(CALIBRATION_START.isoformat(), "D")
    return (month_start - epoch).astype(np.int64) + (days - 1)


def load_transactions(which: str = "sample", path: str | Path | None = None) -> Transactions:
    """Parse the raw CDNOW transactions of the sample (default) or of the master file.

    ``path`` overrides the installed file (its format must match ``which``).
    """
    path = Path(path) if path is not None else data_path(which)
    with path.open(encoding="ascii") as handle:
        first = handle.readline().split()
    skip = 1 if first and not first[0].isdigit() else 0  # the master file has a header line
    width = 5 if which == "sample" else 4
    try:
        table = np.loadtxt(path, skiprows=skip, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{path}: cannot parse CDNOW transactions: {exc}") from exc
    if table.shape[1] != width:
        raise ValueError(f"{path}: expected {width} columns, found {table.shape[1]}")
    offset = 1 if which == "sample" else 0  # the sample file's first column is the master id
    customer = table[:, offset].astype(np.int64)
    day = _day_numbers(table[:, offset + 1])
    cds = table[:, offset + 2].astype(np.int64)
    value = table[:, offset + 3]
    return Transactions(customer=customer, day=day, cds=cds, value=value)


def build_rfm(
    transactions: Transactions,
    calibration_end: dt.date = CALIBRATION_END,
    period_days: float = 7.0,
) -> Rfm:
    """Summarise transactions into calibration-period RFM arrays (see the module docstring).

    ``period_days`` is the length of one time unit in days (7 for weeks). Customers whose first
    purchase falls after ``calibration_end`` are left out. Vectorised: no loop over customers.
    """
    end_day = (calibration_end - CALIBRATION_START).days
    # One purchase per (customer, day): merge same-day transactions, summing their value.
    keys = np.stack([transactions.customer, transactions.day], axis=1)
    (purchase_keys, inverse) = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    purchase_value = np.bincount(inverse, weights=transactions.value, minlength=len(purchase_keys))
    cust, day = purchase_keys[:, 0], purchase_keys[:, 1]  # sorted by customer, then day

    customers, first_index, n_purchases = np.unique(cust, return_index=True, return_counts=True)
    first_day = day[first_index]
    keep = first_day <= end_day
    owner = np.repeat(np.arange(len(customers)), n_purchases)  # customer index of each purchase
    in_calibration = day <= end_day
    is_repeat = np.ones(len(day), dtype=bool)
    is_repeat[first_index] = False

    cal_repeat = in_calibration & is_repeat
    n = len(customers)
    frequency = np.bincount(owner[cal_repeat], minlength=n)
    repeat_value = np.bincount(owner[cal_repeat], weights=purchase_value[cal_repeat], minlength=n)
    last_cal_day = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_cal_day, owner[in_calibration], day[in_calibration])
    holdout = np.bincount(owner[~in_calibration], minlength=n)

    recency_days = np.where(frequency > 0, last_cal_day - first_day, 0)
    monetary = np.divide(repeat_value, frequency, out=np.zeros(n), where=frequency > 0)
    return Rfm(
        customer=customers[keep],
        frequency=frequency[keep].astype(np.float64),
        recency=recency_days[keep] / period_days,
        T=(end_day - first_day[keep]) / period_days,
        monetary_value=monetary[keep],
        holdout_frequency=holdout[keep].astype(np.float64),
    )


def load_sample_rfm(path: str | Path | None = None) -> Rfm:
    """Calibration-period RFM (weeks) of the 2,357-customer CDNOW sample used by the papers."""
    return build_rfm(load_transactions("sample", path))
