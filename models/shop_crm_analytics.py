"""Customer analytics: RFM scores and classes, segments, lifecycle stages, churn warnings, lifetime value.

Everything is computed per company in set-based SQL: one statement of aggregates and window functions
fills a temporary table with every customer's values; the lifetime-value models are fitted on the
customers' (frequency, recency, age) profiles with numpy/scipy (``lib/clv.py``, in a thread, read and
written by binary COPY) while the changes are recorded (``shop.crm.segment.change``) and new churn
warnings get one follow-up activity; then only the customers whose values changed are written, into
``shop.crm.customer.value`` (one narrow row per customer and company). The definitions are in
``lib/rfm.py``; the purchases are ``res.company._shop_crm_purchases``.

From a shell: ``env["shop.crm.analytics"].run(as_of=date(2026, 11, 1))``.
"""

import io
import logging
import math
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import numpy as np
import psycopg2.extensions

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..lib import clv, rfm
from .res_company import LEGACY_PURCHASES
from .shop_crm_customer_value import VALUE_FIELDS

_logger = logging.getLogger(__name__)

TMP = SQL.identifier("shop_crm_analytics_tmp")
CLV_TMP = SQL.identifier("shop_crm_analytics_clv_tmp")
VALUES = SQL.identifier("shop_crm_customer_value")
# The incremental state (see "incremental runs" below): one row per customer and company with the
# aggregates of the customer's purchases as of the last run, and the customers whose rows must be
# recomputed whatever their orders' write dates say (deleted orders, orders moved to another customer).
STATE = SQL.identifier("shop_crm_analytics_state")
DIRTY = SQL.identifier("shop_crm_analytics_dirty")
AFFECTED_TMP = SQL.identifier("shop_crm_analytics_affected_tmp")
# The per-customer aggregates kept in STATE (as the statement of aggregates names them)
STATE_COLUMNS = (
    "first_day",
    "last_day",
    "purchase_days",
    "frequency",
    "monetary_units",
    "net_units",
    "orders",
    "median_gap",
    "repeat_units",
    "cal_purchase_days",
    "cal_last_day",
    "cal_repeat_units",
)
# Orders written up to this long before the oldest transaction running at a run count as changed at the
# next run too: a transaction that started before the run and committed after it wrote its rows with its
# own start time (Odoo's write_date) but the run could not see them. Odoo stops requests after
# limit_time_real (120 s by default).
WATERMARK_MARGIN = timedelta(minutes=10)
# Computed by the lifetime-value models ...
CLV_COLUMNS = (
    "clv_predicted_12m",
    "probability_alive",
    "clv_method",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "next_visit_date",
    "next_visit_overdue_days",
)
# ... and by the statement of aggregates (in TMP under the same names).
STATS_COLUMNS = tuple(column for column in VALUE_FIELDS if column not in CLV_COLUMNS)
TRACKED = ("rfm_class", "rfm_segment", "lifecycle_stage")
CLV_HORIZON_MONTHS = 12
# The expected next visit is searched day by day up to this many days ahead (none beyond).
NEXT_VISIT_MAX_DAYS = 3650
# Sorting a chain's orders in memory rather than on disk (each of the 2 parallel workers and the leader
# may use this much for its share), for the run's transaction only.
WORK_MEM = "256MB"
DAYS_PER_WEEK = 7.0
# PostgreSQL's binary COPY format: signature, flags, header extension length ... rows ... -1.
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
COPY_HEADER = COPY_SIGNATURE + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)
NULL_SCALED = np.iinfo(np.int64).min  # a missing prediction, NULL in the database


class ShopCrmAnalytics(models.AbstractModel):
    _name = "shop.crm.analytics"
    _description = "Shop CRM customer analytics"

    def init(self):
        # Derived data, rebuilt by a full run whenever it cannot be trusted: not WAL-logged (a crash
        # empties it, which the next run notices by its row count and answers with a full run).
        self.env.cr.execute(
            SQL(
                """
                CREATE UNLOGGED TABLE IF NOT EXISTS %(state)s (
                    company_id int4 NOT NULL,
                    partner_id int4 NOT NULL,
                    first_day date, last_day date, purchase_days int8, frequency int8,
                    monetary_units int8, net_units int8, orders int8, median_gap float8,
                    repeat_units int8, cal_purchase_days int8, cal_last_day date, cal_repeat_units int8,
                    PRIMARY KEY (company_id, partner_id)
                );
                CREATE TABLE IF NOT EXISTS %(dirty)s (partner_id int4, company_id int4 NOT NULL);
                CREATE INDEX IF NOT EXISTS shop_crm_analytics_dirty_company_index ON %(dirty)s (company_id);
                """,
                state=STATE,
                dirty=DIRTY,
            )
        )

    @api.model
    def run(self, as_of=None, company=None, full=False):
        """Recompute the analytics of ``company`` (default: the current one) as of ``as_of`` (default:
        today): from the orders changed since the last run, or from all of them when ``full`` (chosen
        automatically when the state of the last run cannot be used). Returns a summary dict. Shop CRM
        managers only."""
        if not (self.env.su or self.env.user.has_group("shop_crm.group_shop_crm_manager")):
            raise AccessError(self.env._("Only Shop CRM managers can recompute the customer analytics."))
        company = company or self.env.company
        as_of = fields.Date.to_date(as_of) if as_of else company._shop_crm_today()
        return self.sudo()._run_company(company.sudo(), as_of, full=full)

    @api.model
    def _cron_recompute(self):
        companies = self.env["res.company"].search([("active", "=", True)])
        for done, company in enumerate(companies):
            self.with_company(company).sudo()._run_company(company, company._shop_crm_today())
            self.env["ir.cron"]._notify_progress(done=done + 1, remaining=len(companies) - done - 1)

    # ---- the computation ----------------------------------------------------------------------------

    def _run_company(self, company, as_of, full=False):
        started = time.monotonic()
        settings = company._shop_crm_rfm_settings()
        settings.validate()
        previous_run = company.shop_crm_analytics_date
        self.env.flush_all()
        cr = self.env.cr
        # No JIT compilation (it costs seconds on these statements and saves nothing), for this
        # transaction only.
        cr.execute(SQL("SET LOCAL jit = off"))
        key = self._inputs_key(company, as_of, settings)
        if not full and self._unchanged_since_last_run(company, as_of, key):
            return {"company": company.id, "as_of": as_of, "customers": 0, "changed": 0, "segment_changes": 0,
                    "churn_activities": 0, "clv_method": company.shop_crm_clv_method, "unchanged": True,
                    "seconds": round(time.monotonic() - started, 3)}  # fmt: skip
        cr.execute(SQL("SET LOCAL work_mem = %s", WORK_MEM))
        state_marker, state_mode, recomputed = self._update_state(company, as_of, settings, key, full)
        cr.execute(SQL("DROP TABLE IF EXISTS %s", TMP))
        cr.execute(self._customer_values_query(company, as_of, settings))
        customers = cr.rowcount
        cr.execute(SQL("ANALYZE %s", TMP))  # row counts for the joins below
        profiles = self._clv_profiles(company, as_of)
        # The lifetime-value models are fitted in a thread of their own (numpy/scipy, no database access)
        # while PostgreSQL records the changes and creates the activities.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shop_crm_clv") as executor:
            fitting = executor.submit(
                self._fit_lifetime_value, profiles, company.shop_crm_clv_min_customers,
                company.shop_crm_clv_min_repeat, company.shop_crm_clv_penalizer,
            )  # fmt: skip
            recorded = self._record_changes(company, as_of) if previous_run else 0
            activities_started = time.monotonic()
            activities = self._create_churn_activities(company, as_of)
            activity_seconds = time.monotonic() - activities_started
            fitted = fitting.result()
        clv_result = self._lifetime_value(company, as_of, profiles, fitted)
        changed = self._write_back(company, clv_result)
        fingerprint = self._fingerprint(company, key)
        # how well a fit on the calibration period predicted the weeks since (stored per run), from the
        # calibration profiles the statement of aggregates computed alongside
        validation = self.env["shop.crm.clv.validation"]._validate_company(company, as_of, TMP)
        cr.execute(SQL("DROP TABLE %s, %s", TMP, CLV_TMP))
        company.write(
            {
                "shop_crm_analytics_date": as_of,
                "shop_crm_clv_method": clv_result["method"],
                "shop_crm_clv_summary": clv_result["summary"],
                "shop_crm_analytics_fingerprint": fingerprint,
                "shop_crm_analytics_state": state_marker,
            }
        )
        self.env["shop.crm.customer.value"].invalidate_model()
        self.env["res.partner"].invalidate_model([*VALUE_FIELDS, "churn_reason", "rfm_explanation"])
        summary = {
            "company": company.id,
            "as_of": as_of,
            "customers": customers,
            "mode": "incremental" if state_mode == "incremental" else "full",
            "full_reason": False if state_mode == "incremental" else state_mode,
            "recomputed": recomputed,
            "changed": changed,
            "segment_changes": recorded,
            "churn_activities": activities,
            "churn_activity_seconds": round(activity_seconds, 3),
            "clv_method": clv_result["method"],
            **validation._summary_figures(),
            "seconds": round(time.monotonic() - started, 3),
        }
        _logger.info("Shop CRM analytics: %s", summary)
        return summary

    # ---- incremental runs ---------------------------------------------------------------------------
    #
    # STATE holds, per customer and company, the aggregates of the statement of aggregates
    # (STATE_COLUMNS) as of the last run; every score, class, segment, stage, warning and lifetime value
    # is recomputed from it at each run (a pass over one narrow row per customer). A customer's aggregates
    # depend on that customer's purchases and on three dates only (the analysis date, the start of the
    # RFM window, the calibration date), so a run recomputes them for the customers
    # - with an order written since the last run's watermark (new, paid, refunded, cancelled, changed:
    #   every ORM write sets write_date; indexed for this scan),
    # - recorded in DIRTY: the customer of a deleted order, the former customer or company of an order
    #   (ORM unlink/write of pos.order, sale.order), the customer kept by a contact merge (which moves
    #   orders with an SQL update),
    # - with a purchase on a day the analysis date, the window start or the calibration date moved over;
    # and keeps the others. The company's ``shop_crm_analytics_state`` says which run the state is of:
    # ``<as_of>|<watermark>|<rows>|<inputs key>``. A full run (every customer from all the orders) is made
    # when asked (``run(full=True)``), on the first run, when the inputs key changed (settings, timezone,
    # currency), for an earlier date than the last run's, or when STATE no longer holds the rows the last
    # run left there (e.g. emptied by a crash: it is an unlogged table). Orders written by SQL without
    # their write_date are not seen: such tools must run a full recompute (``run(full=True)``).

    def _state_marker(self, company):
        parts = (company.shop_crm_analytics_state or "").split("|", 3)
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        try:
            return (
                fields.Date.to_date(parts[0]),
                fields.Datetime.to_datetime(parts[1]),
                int(parts[2]),
                parts[3],
            )
        except ValueError:
            return None

    def _watermark(self):
        """The watermark of this run: orders written since (minus WATERMARK_MARGIN) count as changed at the
        next run; the start of the oldest transaction running now in this database (this one included)."""
        self.env.cr.execute(
            SQL(
                """
                SELECT timezone('UTC', LEAST(now(), MIN(xact_start)))
                  FROM pg_stat_activity WHERE datname = current_database()
                """
            )
        )
        return self.env.cr.fetchone()[0] - WATERMARK_MARGIN

    def _full_run_reason(self, company, as_of, key, full, marker):
        """Why this run must recompute every customer (a short code), None when it can be incremental."""
        if full:
            return "requested"
        if marker is None:
            return "first_run"
        last_as_of, _watermark, rows, last_key = marker
        if last_key != key.partition("|")[2]:
            return "inputs_changed"
        if as_of < last_as_of:
            return "earlier_date"
        self.env.cr.execute(SQL("SELECT COUNT(*) FROM %s WHERE company_id = %s", STATE, company.id))
        if self.env.cr.fetchone()[0] != rows:
            return "state_lost"
        return None

    def _update_state(self, company, as_of, settings, key, full):
        """Bring the company's rows of STATE to ``as_of``; returns (the new state marker, "incremental" or
        why the run was a full one (see _full_run_reason), how many customers' aggregates were
        recomputed)."""
        cr = self.env.cr
        marker = self._state_marker(company)
        watermark = self._watermark()
        reason = self._full_run_reason(company, as_of, key, full, marker)
        cr.execute(SQL("DROP TABLE IF EXISTS %s", AFFECTED_TMP))
        if reason:
            _logger.info("Shop CRM analytics: full run for company %s (%s)", company.id, reason)
            cr.execute(SQL("DELETE FROM %s WHERE company_id = %s", STATE, company.id))
            partners = None
        else:
            cr.execute(
                SQL(
                    "CREATE TEMP TABLE %s AS %s",
                    AFFECTED_TMP,
                    self._affected_customers_query(company, as_of, settings, marker),
                )
            )
            cr.execute(SQL("ANALYZE %s", AFFECTED_TMP))
            cr.execute(
                SQL(
                    "DELETE FROM %s s USING %s a WHERE s.company_id = %s AND s.partner_id = a.partner_id",
                    STATE,
                    AFFECTED_TMP,
                    company.id,
                )
            )
            partners = AFFECTED_TMP
        columns = SQL(", ").join(SQL.identifier(column) for column in STATE_COLUMNS)
        cr.execute(
            SQL(
                "INSERT INTO %s (company_id, partner_id, %s) SELECT %s, partner_id, %s FROM (%s) c",
                STATE,
                columns,
                company.id,
                columns,
                self._per_customer_query(company, as_of, settings, partners),
            )
        )
        recomputed = cr.rowcount
        if partners:
            cr.execute(SQL("SELECT COUNT(*) FROM %s", AFFECTED_TMP))
            recomputed = cr.fetchone()[0]
            cr.execute(SQL("DROP TABLE %s", AFFECTED_TMP))
        cr.execute(SQL("DELETE FROM %s WHERE company_id = %s", DIRTY, company.id))
        cr.execute(SQL("SELECT COUNT(*) FROM %s WHERE company_id = %s", STATE, company.id))
        rows = cr.fetchone()[0]
        state_marker = "|".join([str(as_of), fields.Datetime.to_string(watermark), str(rows),
                                 key.partition("|")[2]])  # fmt: skip
        return state_marker, reason or "incremental", recomputed

    def _affected_customers_query(self, company, as_of, settings, marker):
        """SQL: the customers whose aggregates may have changed since the run of ``marker`` (see above)."""
        last_as_of, watermark, _rows, _key = marker
        window = timedelta(days=settings.window_days - 1)
        calibration, last_calibration = (
            company._shop_crm_calibration_date(as_of), company._shop_crm_calibration_date(last_as_of),
        )  # fmt: skip
        # (since, until): the days on which a purchase changes sides of a date that moved
        crossed = [
            (last_as_of + timedelta(days=1), as_of),  # new days of the analysis
            (last_as_of - window, as_of - window - timedelta(days=1)),  # left the RFM window
            (min(calibration, last_calibration) + timedelta(days=1), max(calibration, last_calibration)),
        ]
        queries = [
            SQL(
                "SELECT o.partner_id FROM %s o WHERE o.write_date >= %s AND o.company_id = %s "
                "AND o.partner_id IS NOT NULL",
                SQL.identifier(table),
                watermark,
                company.id,
            )
            for table in company._shop_crm_purchase_sources()
        ]
        queries += [
            SQL("SELECT o.partner_id FROM (%s) o", company._shop_crm_purchases(until=until, since=since))
            for since, until in crossed
            if since <= until
        ]
        queries.append(
            SQL("SELECT d.partner_id FROM %s d WHERE d.company_id = %s AND d.partner_id IS NOT NULL",
                DIRTY, company.id)
        )  # fmt: skip
        return SQL(" UNION ").join(queries)

    @api.model
    def _mark_dirty(self, table, ids):
        """Record the customers (and companies) of the rows ``ids`` of ``table`` (pos_order, sale_order)
        as they are in the database, before they are deleted or given another customer or company: their
        aggregates are recomputed at the next run."""
        if not ids:
            return
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (partner_id, company_id) "
                "SELECT DISTINCT o.partner_id, o.company_id FROM %s o "
                "WHERE o.id = ANY(%s) AND o.partner_id IS NOT NULL AND o.company_id IS NOT NULL",
                DIRTY,
                SQL.identifier(table),
                list(ids),
            )
        )

    @api.model
    def _mark_partners_dirty(self, partner_ids):
        """Recompute these customers' aggregates in every company at the next run (their orders moved by
        other means than the ORM, e.g. the contact merge)."""
        if partner_ids:
            self.env.cr.execute(
                SQL(
                    "INSERT INTO %s (partner_id, company_id) SELECT p, c.id FROM unnest(%s) p, res_company c",
                    DIRTY,
                    list(partner_ids),
                )
            )

    @api.model
    def _forget_partners(self, partner_ids):
        """Customers being deleted: their orders lose their customer by the foreign key, without a write,
        and their rows of STATE go at the next run of each company."""
        if partner_ids:
            self.env.cr.execute(
                SQL(
                    "INSERT INTO %s (partner_id, company_id) SELECT partner_id, company_id FROM %s "
                    "WHERE partner_id = ANY(%s)",
                    DIRTY,
                    STATE,
                    list(partner_ids),
                )
            )

    # ---- skipping a run whose result would be the same ----------------------------------------------
    #
    # The fingerprint of a run is "<horizon>:<key>|<counts>": the key is the date and the settings; the
    # counts are the orders read (``res.company._shop_crm_purchase_sources``), the customers and the
    # company's feedback tickets; the horizon is the oldest transaction still running when the run's
    # snapshot was taken (``pg_snapshot_xmin``). A row written by a transaction whose id is at or after the
    # horizon may be unknown to the run (or be its own): it counts as a change. A later run with the same
    # key recomputes unless these tables still hold the same number of rows and none was written at or after
    # the horizon (``age(xmin)``: wraparound-safe). Rows only leave the orders read by an update (a new row
    # version: written after the horizon) or a deletion (fewer rows), so the orders, customers and tickets
    # are then exactly those of the last run.

    def _inputs_key(self, company, as_of, settings):
        return "|".join(
            [str(as_of), company._shop_crm_timezone(), repr(settings),
             str(company.shop_crm_clv_min_customers), str(company.shop_crm_clv_min_repeat),
             str(company.currency_id.id), str(self._currency_units(company)[0]),
             repr(company.shop_crm_clv_penalizer),
             str(company.shop_crm_clv_calibration_date)]
        )  # fmt: skip

    def _other_inputs(self, company):
        """The customers and the company's feedback tickets (complaints weigh on churn warnings)."""
        return [
            (SQL.identifier("res_partner"), SQL("TRUE")),
            (SQL.identifier("shop_crm_feedback"), SQL("o.company_id = %s", company.id)),
        ]

    def _unchanged_since_last_run(self, company, as_of, key):
        horizon, _sep, rest = (company.shop_crm_analytics_fingerprint or "").partition(":")
        last_key, _sep, last_counts = rest.rpartition("|")
        if last_key != key or not horizon.isdigit():
            return False
        purchases = company._shop_crm_purchase_sources(as_of)
        sources = [
            *((SQL.identifier(table), condition) for table, condition in purchases.items()),
            *self._other_inputs(company),
        ]
        # one scan per table: its row count and how many of its rows were written at or after the horizon
        self.env.cr.execute(
            SQL(
                "SELECT * FROM %s",
                SQL(" CROSS JOIN ").join(
                    SQL(
                        "(SELECT COUNT(*), COUNT(*) FILTER (WHERE age(o.xmin) <= age(%s::xid)) "
                        "FROM %s o WHERE %s) %s",
                        horizon,
                        table,
                        condition,
                        SQL.identifier(f"source_{index}"),
                    )
                    for index, (table, condition) in enumerate(sources)
                ),
            )
        )
        row = self.env.cr.fetchone()
        counts, written = row[0::2], sum(row[1::2])
        orders = sum(counts[: len(purchases)])
        return not written and last_counts == "/".join(map(str, [orders, *counts[len(purchases) :]]))

    def _fingerprint(self, company, key):
        """The fingerprint of this run (see above), once TMP holds its order counts."""
        self.env.cr.execute(
            SQL(
                """
                SELECT pg_snapshot_xmin(pg_current_snapshot())::xid::text,
                       (SELECT COALESCE(SUM(orders), 0)::bigint FROM %(tmp)s), %(counts)s
                """,
                tmp=TMP,
                counts=SQL(", ").join(
                    SQL("(SELECT COUNT(*) FROM %s o WHERE %s)", table, condition)
                    for table, condition in self._other_inputs(company)
                ),
            )
        )
        horizon, *counts = self.env.cr.fetchone()
        return f"{horizon}:{key}|{'/'.join(map(str, counts))}"

    @staticmethod
    def _currency_units(company):
        """How many of the smallest units of the company currency make one (100 for CNY), and one such
        unit as a Decimal (0.01): amounts are summed exactly in these units."""
        digits = company.currency_id.decimal_places
        return 10**digits, Decimal(1).scaleb(-digits)

    def _per_customer_query(self, company, as_of, settings, partners=None):
        """SQL: the aggregates of STATE_COLUMNS per customer who has orders in the company's purchases up
        to ``as_of``, for the customers in the table ``partners`` (an SQL identifier, column partner_id)
        when given (they depend on that customer's purchases only)."""
        window_start = as_of - timedelta(days=settings.window_days - 1)
        scale, _unit = self._currency_units(company)
        # Each order's total in the company currency, in whole smallest units of that currency (cents),
        # rounded half away from zero by the cast: integer sums are exact (and cheaper to compute than a
        # numeric -> float8 conversion, which goes through text).
        amount = SQL(
            "CASE WHEN o.currency_rate IS NULL OR o.currency_rate IN (0, 1) "
            "THEN (o.amount_total * %s)::bigint ELSE (o.amount_total * %s / o.currency_rate)::bigint END",
            scale,
            scale,
        )
        only = SQL(" AND o.partner_id IN (SELECT partner_id FROM %s)", partners) if partners else SQL()
        return SQL(
            """
WITH orders AS (
    %(orders)s
),
marked AS (  -- each order with the customer's last purchase day and first purchase day before it
    -- One sort of the orders by customer and day serves this window and the grouping below.
    SELECT partner_id, day, amount,
           MAX(day) FILTER (WHERE amount > 0) OVER earlier AS previous_day,
           MIN(day) FILTER (WHERE amount > 0) OVER earlier AS first_day_before
      FROM orders
    WINDOW earlier AS (PARTITION BY partner_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
    -- A purchase on a later day than the customer's previous purchase starts a new purchase day: its
    -- distance to the previous purchase day is one of the gaps between consecutive purchase days.
    SELECT partner_id,
           MIN(day) FILTER (WHERE amount > 0) AS first_day,
           MAX(day) FILTER (WHERE amount > 0) AS last_day,
           COUNT(*) FILTER (WHERE amount > 0 AND (previous_day IS NULL OR day > previous_day))
               AS purchase_days,
           COUNT(*) FILTER (WHERE amount > 0 AND day >= %(window_start)s) AS frequency,
           COALESCE(SUM(amount) FILTER (WHERE day >= %(window_start)s), 0)::bigint AS monetary_units,
           SUM(amount)::bigint AS net_units,
           COUNT(*) AS orders,  -- every order read, for the fingerprint
           PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY day - previous_day)
               FILTER (WHERE amount > 0 AND day > previous_day) AS median_gap,
           -- spent on the purchase days after the first one (for the lifetime-value models)
           COALESCE(SUM(amount) FILTER (WHERE amount > 0 AND day > first_day_before), 0)::bigint
               AS repeat_units,
           -- the same as of the calibration date of the prediction check (shop.crm.clv.validation)
           COUNT(*) FILTER (WHERE amount > 0 AND (previous_day IS NULL OR day > previous_day)
                              AND day <= %(calibration)s) AS cal_purchase_days,
           MAX(day) FILTER (WHERE amount > 0 AND day <= %(calibration)s) AS cal_last_day,
           COALESCE(SUM(amount) FILTER (WHERE amount > 0 AND day > first_day_before
                                          AND day <= %(calibration)s), 0)::bigint AS cal_repeat_units
          FROM marked
     GROUP BY partner_id
            """,
            orders=SQL(" UNION ALL ").join(
                SQL(
                    "SELECT o.partner_id, %s AS day, %s AS amount FROM %s o WHERE %s%s",
                    company._shop_crm_purchase_day(table),
                    # an imported purchase's amount already is in the company currency
                    SQL("(o.amount * %s)::bigint", scale) if table == LEGACY_PURCHASES else amount,
                    SQL.identifier(table),
                    condition,
                    only,
                )
                for table, condition in company._shop_crm_purchase_sources(as_of).items()
            ),
            window_start=window_start,
            calibration=company._shop_crm_calibration_date(as_of),
        )

    def _customer_values_query(self, company, as_of, settings):
        """SQL: create TMP, every customer's values as of ``as_of``, from the company's rows of STATE."""
        _scale, unit = self._currency_units(company)
        high = settings.high_score
        segment_cases = SQL(" ").join(
            SQL(
                "WHEN (r_score >= %s) = %s AND (f_score >= %s) = %s AND (m_score >= %s) = %s THEN %s",
                high,
                r_high,
                high,
                f_high,
                high,
                m_high,
                code,
            )  # fmt: skip
            for (r_high, f_high, m_high), code in rfm.SEGMENTS.items()
        )

        return SQL(
            """
CREATE TEMP TABLE %(tmp)s AS
WITH per_customer AS (
    SELECT partner_id, %(state_columns)s FROM %(state)s WHERE company_id = %(company)s
),
scores AS (  -- among the customers with a purchase in the window; most recent = latest last day
    SELECT partner_id,
           CEIL(5 * CUME_DIST() OVER (ORDER BY last_day))::int AS r_score,
           CEIL(5 * CUME_DIST() OVER (ORDER BY frequency))::int AS f_score,
           CEIL(5 * CUME_DIST() OVER (ORDER BY monetary_units))::int AS m_score
      FROM per_customer
     WHERE frequency > 0
),
shop AS (
    SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY median_gap) AS median_gap
      FROM per_customer WHERE purchase_days >= 2
),
staged AS (
    SELECT c.partner_id, c.first_day, c.last_day, c.purchase_days, c.frequency, c.monetary_units,
           c.net_units, c.orders, c.repeat_units, %(as_of)s - c.last_day AS recency_days,
           COALESCE(s.r_score, 0) AS r_score, COALESCE(s.f_score, 0) AS f_score,
           COALESCE(s.m_score, 0) AS m_score,
           CASE WHEN c.first_day IS NULL THEN 'potential'
                WHEN %(as_of)s - c.first_day <= %(new_days)s THEN 'new'
                WHEN %(as_of)s - c.last_day > %(lost_days)s THEN 'lost'
                ELSE 'returning' END AS lifecycle_stage,
           CASE WHEN c.purchase_days >= 2 THEN c.median_gap ELSE shop.median_gap END AS typical_gap,
           c.cal_purchase_days, c.cal_last_day, c.cal_repeat_units
      FROM per_customer c
      LEFT JOIN scores s USING (partner_id)
     CROSS JOIN shop
     UNION ALL
    -- the company's customers who never bought
    SELECT p.id, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 'potential', NULL, 0, NULL, 0
      FROM res_partner p
     WHERE p.active AND p.partner_share AND (p.company_id = %(company)s OR p.company_id IS NULL)
       AND NOT EXISTS (SELECT 1 FROM res_company c WHERE c.partner_id = p.id)
       AND NOT EXISTS (SELECT 1 FROM per_customer c WHERE c.partner_id = p.id)
)
SELECT partner_id, first_day, last_day, purchase_days, repeat_units, orders,
       cal_purchase_days, cal_last_day, cal_repeat_units,
       recency_days AS rfm_recency_days,
       frequency::int AS rfm_frequency,
       monetary_units * %(unit)s AS rfm_monetary,
       r_score AS rfm_r_score, f_score AS rfm_f_score, m_score AS rfm_m_score,
       CASE WHEN first_day IS NULL THEN NULL
            WHEN r_score + f_score + m_score >= %(class_a)s THEN 'A'
            WHEN r_score + f_score + m_score >= %(class_b)s THEN 'B'
            WHEN r_score + f_score + m_score >= %(class_c)s THEN 'C'
            ELSE 'D' END::varchar AS rfm_class,
       CASE WHEN first_day IS NULL THEN NULL ELSE CASE %(segment_cases)s END END::varchar AS rfm_segment,
       lifecycle_stage::varchar AS lifecycle_stage,
       (first_day IS NOT NULL AND lifecycle_stage <> 'lost'
        AND recency_days > GREATEST(%(gap_factor)s * CASE WHEN k.partner_id IS NULL THEN 1
                                                          ELSE %(complaint_factor)s END * typical_gap,
                                    %(min_days)s)) AS churn_warning,
       -- (a median of whole days: x.0, x.25, x.5 or x.75, exact in float8) rounded half up to 0.1
       CASE WHEN first_day IS NULL THEN NULL ELSE FLOOR(typical_gap * 10 + 0.5)::bigint * 0.1 END
           AS churn_typical_gap,
       net_units * %(unit)s AS clv_historical
  FROM staged
  -- complaint weight: open or unsatisfied complaints received in the last complaint_days days
  LEFT JOIN (SELECT DISTINCT f.partner_id FROM shop_crm_feedback f
              WHERE f.company_id = %(company)s AND f.feedback_type = 'complaint' AND f.partner_id IS NOT NULL
                AND f.received_date >= %(complaints_from)s AND f.received_date < %(day_after)s
                AND (f.stage IN ('new', 'in_progress') OR f.satisfaction IN ('1', '2'))) k USING (partner_id)
            """,
            state=STATE,
            state_columns=SQL(", ").join(SQL.identifier(column) for column in STATE_COLUMNS),
            unit=unit,
            tmp=TMP,
            company=company.id,
            day_after=company._shop_crm_day_start(as_of + timedelta(days=1)),
            as_of=as_of,
            new_days=settings.new_days,
            lost_days=settings.lost_days,
            class_a=settings.class_a_min,
            class_b=settings.class_b_min,
            class_c=settings.class_c_min,
            segment_cases=segment_cases,
            gap_factor=settings.gap_factor,
            min_days=settings.min_days,
            complaint_factor=settings.complaint_factor,
            complaints_from=company._shop_crm_day_start(as_of - timedelta(days=settings.complaint_days - 1)),
        )

    def _clv_profiles(self, company, as_of):
        """The customers' (id, repeat purchase days, recency, age in days, average repeat spend) profiles,
        as numpy arrays: read with a binary COPY straight into numpy, no Python object per customer."""
        scale, _unit = self._currency_units(company)
        layout = _binary_layout(partner_id=">i4", repeat=">i4", recency=">i4", age=">i4", spend=">f8")
        query = SQL(
            """
            COPY (SELECT partner_id, purchase_days::int - 1, last_day - first_day, %(as_of)s - first_day,
                         CASE WHEN purchase_days > 1
                              THEN repeat_units::float8 / (%(scale)s * (purchase_days - 1))
                              ELSE 0 END::float8
                    FROM %(tmp)s
                   WHERE first_day IS NOT NULL
                   -- in one order whatever the order of TMP: a full and an incremental run fit the
                   -- same sequence of profiles
                   ORDER BY partner_id) TO STDOUT WITH (FORMAT binary)
            """,
            as_of=as_of,
            scale=scale,
            tmp=TMP,
        )
        rows = _binary_rows(_copy(self.env.cr, query), layout)
        return {name: rows[name].astype(float if name == "spend" else np.int64) for name in
                ("partner_id", "repeat", "recency", "age", "spend")}  # fmt: skip

    @staticmethod
    def _fit_lifetime_value(profiles, min_customers, min_repeat_buyers, penalizer):
        """Fit the purchase and spend models (time in weeks) on the profiles and predict the lifetime values
        and the expected next visits (no database access: run in a thread of its own). Returns (ClvResult,
        VisitForecast), None when nobody bought."""
        if not len(profiles["partner_id"]):
            return None
        frequency = profiles["repeat"].astype(float)
        recency, age = profiles["recency"] / DAYS_PER_WEEK, profiles["age"] / DAYS_PER_WEEK
        result = clv.fit_or_fallback(
            frequency,
            recency,
            age,
            np.where(frequency > 0, profiles["spend"], 0.0),
            horizon=CLV_HORIZON_MONTHS * clv.WEEKS_PER_MONTH,
            min_customers=min_customers,
            min_repeat_buyers=min_repeat_buyers,
            penalizer=penalizer,
        )
        visits = clv.forecast_visits(
            result, frequency, recency, age, short=30 / DAYS_PER_WEEK, long=90 / DAYS_PER_WEEK,
            step=1 / DAYS_PER_WEEK, max_steps=NEXT_VISIT_MAX_DAYS,
        )  # fmt: skip
        return result, visits

    def _lifetime_value(self, company, as_of, profiles, fitted):
        """Describe the fitted lifetime-value models and put their predictions in CLV_TMP (partner_id,
        clv_units, alive_e4, p30_e4, p90_e4, next_days, overdue_days: whole smallest units of the company
        currency, ten-thousandths and days, sent in binary: no decimal text per customer). Returns the
        method and its summary."""
        cr = self.env.cr
        cr.execute(SQL("DROP TABLE IF EXISTS %s", CLV_TMP))
        cr.execute(
            SQL(
                "CREATE TEMP TABLE %s (partner_id int4, clv_units int8, alive_e4 int8, p30_e4 int8, "
                "p90_e4 int8, next_days int8, overdue_days int8)",
                CLV_TMP,
            )
        )
        if fitted is None:
            return {"method": False, "summary": self.env._("No purchases yet."), "as_of": as_of}
        result, visits = fitted
        alive = result.probability_alive
        layout = _binary_layout(
            partner_id=">i4", clv=">i8", alive=">i8", p30=">i8", p90=">i8", next_days=">i8", overdue=">i8"
        )
        rows = _binary_fill(np.empty(len(profiles["partner_id"]), dtype=layout))
        rows["partner_id"] = profiles["partner_id"]
        rows["clv"] = _scaled(result.clv, self._currency_units(company)[0])
        rows["alive"] = NULL_SCALED if alive is None else _scaled(alive, 10_000)
        rows["p30"] = _scaled(visits.purchases_short, 10_000)
        rows["p90"] = _scaled(visits.purchases_long, 10_000)
        rows["next_days"] = _scaled(visits.next_visit * DAYS_PER_WEEK, 1)
        rows["overdue"] = _scaled(visits.overdue * DAYS_PER_WEEK, 1)
        data = COPY_HEADER + rows.tobytes() + COPY_TRAILER
        _copy(cr, SQL("COPY %s FROM STDIN WITH (FORMAT binary)", CLV_TMP), data)
        cr.execute(SQL("ANALYZE %s", CLV_TMP))  # the join of the write-back hashes this narrow table
        summary = self._clv_summary(result, len(rows), as_of)
        return {"method": result.method, "summary": summary, "as_of": as_of}

    def _clv_summary(self, result, customers, as_of):
        """Which lifetime-value model was used and why, in the user's language."""
        gg = result.gamma_gamma
        coefficient = result.bgnbd.penalizer if result.bgnbd else 0.0
        penalty = (
            self.env._("L2 penalty %(penalty)s on the log-parameters", penalty=format(coefficient, "g"))
            if coefficient
            else self.env._("no penalty")
        )
        if result.method == clv.METHOD_MODEL:
            bg = result.bgnbd
            why = (
                self.env._(
                    "chosen because it fits %(gain).1f log-likelihood better than one dropout probability "
                    "for everybody",
                    gain=result.full_model_gain,
                )
                if math.isfinite(result.full_model_gain)
                else self.env._("the model with one dropout probability for everybody did not fit")
            )
            return self.env._(
                "BG/NBD r=%(r).3f α=%(alpha).3f a=%(a).3f b=%(b).3f (%(why)s); Gamma-Gamma p=%(p).3f "
                "q=%(q).3f γ=%(gamma).3f; %(penalty)s (%(customers)s customers, as of %(date)s)",
                r=bg.r, alpha=bg.alpha, a=bg.a, b=bg.b, why=why, p=gg.p, q=gg.q, gamma=gg.gamma,
                penalty=penalty, customers=customers, date=as_of,
            )  # fmt: skip
        if result.method == clv.METHOD_CONSTANT_DROPOUT:
            cd = result.constant_dropout
            if math.isfinite(result.full_model_gain):
                why = self.env._(
                    "the data show little spread in how customers drop out: the full BG/NBD's a and b grow "
                    "without bound and gain only %(gain).2f in log-likelihood",
                    gain=result.full_model_gain,
                )
            else:
                why = self.env._("the full BG/NBD fit did not converge")
            return self.env._(
                "BG/NBD with one dropout probability for everybody: r=%(r).3f α=%(alpha).3f, dropout after "
                "a purchase %(dropout).1f%% (%(why)s); Gamma-Gamma p=%(p).3f q=%(q).3f γ=%(gamma).3f; "
                "%(penalty)s (%(customers)s customers, as of %(date)s)",
                r=cd.r, alpha=cd.alpha, dropout=cd.p * 100, why=why, p=gg.p, q=gg.q, gamma=gg.gamma,
                penalty=penalty, customers=customers, date=as_of,
            )  # fmt: skip
        return self.env._(
            "Simple estimate (purchase rate × average spend), because: %(reason)s",
            reason=self._clv_fallback_reason(result),
        )

    def _clv_fallback_reason(self, result):
        reasons = {
            "identical": self.env._("every customer has the same purchase history: nothing tells them apart"),
            "no_dropout": self.env._(
                "no customer appears to have stopped buying (everyone still buys at their usual pace): how "
                "long customers stay cannot be estimated yet"
            ),
        }
        return reasons.get(result.reason_code, result.reason)

    def _record_changes(self, company, as_of):
        """Keep every change of class, segment or stage in shop.crm.segment.change."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                INSERT INTO shop_crm_segment_change
                       (partner_id, company_id, date, what, old_value, new_value,
                        create_uid, create_date, write_uid, write_date)
                SELECT t.partner_id, %(company)s, %(as_of)s, c.what, c.old_value, c.new_value,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM %(tmp)s t
                  LEFT JOIN %(values)s v ON v.partner_id = t.partner_id AND v.company_id = %(company)s
                 CROSS JOIN LATERAL (VALUES %(tracked)s) AS c(what, old_value, new_value)
                 WHERE c.old_value IS DISTINCT FROM c.new_value
                """,
                company=company.id,
                as_of=as_of,
                tracked=SQL(", ").join(
                    SQL("(%s, v.%s, t.%s)", column, SQL.identifier(column), SQL.identifier(column))
                    for column in TRACKED
                ),
                uid=self.env.uid,
                tmp=TMP,
                values=VALUES,
            )
        )
        return cr.rowcount

    def _create_churn_activities(self, company, as_of):
        """One win-back activity for the staff member of each customer whose churn warning is new: who gets
        one is decided in SQL, the activities are created in a batched ``mail.activity`` create, so the
        staff members are notified, follow the customers and see their activity counters move as for any
        activity assigned to them (``mail.activity._shop_crm_create_batch``)."""
        activity_type = self.env.ref("shop_crm.mail_activity_type_churn_warning", raise_if_not_found=False)
        if not activity_type:
            return 0
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                SELECT t.partner_id, p.user_id
                  FROM %(tmp)s t
                  JOIN res_partner p ON p.id = t.partner_id
                  JOIN res_users u ON u.id = p.user_id AND u.active AND NOT COALESCE(p.do_not_contact, FALSE)
                  LEFT JOIN %(values)s v ON v.partner_id = t.partner_id AND v.company_id = %(company)s
                 WHERE t.churn_warning AND v.churn_warning IS NOT TRUE
                   -- one hashed list of the open warning activities (res_id is never NULL)
                   AND t.partner_id NOT IN (SELECT a.res_id FROM mail_activity a
                                             WHERE a.res_model = 'res.partner'
                                               AND a.activity_type_id = %(type)s AND a.active)
                 ORDER BY t.partner_id
                """,
                type=activity_type.id,
                tmp=TMP,
                values=VALUES,
                company=company.id,
            )
        )
        due = cr.fetchall()
        if not due:
            return 0
        summary = self.env._("Churn warning: win the customer back")
        model_id = self.env["ir.model"]._get_id("res.partner")
        deadline = as_of + timedelta(days=activity_type.delay_count or 0)
        activities = self.env["mail.activity"]._shop_crm_create_batch(
            [
                {
                    "res_model_id": model_id,
                    "res_id": partner_id,
                    "activity_type_id": activity_type.id,
                    "user_id": user_id,
                    "summary": summary,
                    "date_deadline": deadline,
                    "automated": True,
                }
                for partner_id, user_id in due
            ]
        )
        return len(activities)

    def _write_back(self, company, clv_result):
        """Write the new values of the customers whose values changed (update their row of the company,
        or insert it); return how many."""
        cr = self.env.cr
        columns = [SQL.identifier(column) for column in VALUE_FIELDS]
        new_values = SQL(
            """
            SELECT t.partner_id, %(stats)s,
                   NULLIF(c.clv_units, %(null)s) * %(unit)s AS clv_predicted_12m,
                   NULLIF(c.alive_e4, %(null)s) * 0.0001 AS probability_alive,
                   CASE WHEN c.partner_id IS NOT NULL THEN %(method)s END::varchar AS clv_method,
                   NULLIF(c.p30_e4, %(null)s) * 0.0001 AS expected_purchases_30d,
                   NULLIF(c.p90_e4, %(null)s) * 0.0001 AS expected_purchases_90d,
                   %(as_of)s::date + NULLIF(c.next_days, %(null)s)::int AS next_visit_date,
                   NULLIF(c.overdue_days, %(null)s)::int AS next_visit_overdue_days
              FROM %(tmp)s t
              LEFT JOIN %(clv)s c ON c.partner_id = t.partner_id
            """,
            stats=SQL(", ").join(SQL("t.%s", SQL.identifier(column)) for column in STATS_COLUMNS),
            null=int(NULL_SCALED),
            unit=self._currency_units(company)[1],
            method=clv_result["method"] or None,
            as_of=clv_result["as_of"],
            tmp=TMP,
            clv=CLV_TMP,
        )
        cr.execute(SQL("SELECT 1 FROM %s WHERE company_id = %s LIMIT 1", VALUES, company.id))
        if not cr.rowcount:
            # The company's first run: every row is new.
            conflict = SQL()
        else:
            # Insert the new customers' rows, update the rows whose values changed, leave the others.
            conflict = SQL(
                """
                ON CONFLICT (partner_id, company_id) DO UPDATE
                   SET (%(columns)s) = (%(excluded)s)
                 WHERE (%(old)s) IS DISTINCT FROM (%(excluded)s)
                """,
                columns=SQL(", ").join(columns),
                excluded=SQL(", ").join(SQL("EXCLUDED.%s", column) for column in columns),
                old=SQL(", ").join(SQL("v.%s", column) for column in columns),
            )
        cr.execute(
            SQL(
                """
                INSERT INTO %(values)s AS v (partner_id, company_id, %(columns)s)
                SELECT n.partner_id, %(company)s, %(new)s
                  FROM (%(new_values)s) n
                %(conflict)s
                """,
                values=VALUES,
                columns=SQL(", ").join(columns),
                company=company.id,
                new=SQL(", ").join(SQL("n.%s", column) for column in columns),
                new_values=new_values,
                conflict=conflict,
            )
        )
        return cr.rowcount


def create_write_date_index(cr, table):
    """Index ``table`` (a purchase source) on write_date: each run reads the orders written since the last
    one (the ``init`` of each source model calls this)."""
    tools.create_index(cr, f"{table}_shop_crm_write_date_index", table, ["write_date"])


def _scaled(values, factor):
    """Whole multiples of 1/factor (int64) of a float array, NaN as NULL_SCALED."""
    scaled = np.round(np.asarray(values, dtype=float) * factor)
    missing = ~np.isfinite(scaled)
    scaled[missing] = 0
    result = scaled.astype(np.int64)
    result[missing] = NULL_SCALED
    return result


def _copy(cr, query, data=None):
    """Run a COPY statement (an SQL object) in binary: send ``data`` (COPY ... FROM STDIN) or return what
    it writes (COPY ... TO STDOUT), as bytes."""
    statement = cr.mogrify(query.code, query.params).decode()
    stream = io.BytesIO(data or b"")
    # As in core (ir.model.data): no asynchronous wait callback (gevent) during a COPY.
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        cr.copy_expert(statement, stream)
    finally:
        psycopg2.extensions.set_wait_callback(callback)
    return stream.getvalue() if data is None else None


def _binary_layout(**columns):
    """The numpy layout of a binary COPY row of these (fixed-size, big-endian) columns: the number of
    fields, then for each its length and value."""
    layout = [("fields", ">i2")]
    for name, dtype in columns.items():
        layout += [(f"{name}_length", ">i4"), (name, dtype)]
    return np.dtype(layout)


def _binary_fill(rows):
    """Set the field count and the field lengths of binary COPY rows."""
    names = rows.dtype.names[2::2]
    rows["fields"] = len(names)
    for name in names:
        rows[f"{name}_length"] = rows.dtype.fields[name][0].itemsize
    return rows


def _binary_rows(data, layout):
    """The rows of a binary COPY output as a numpy record array of ``layout`` (fixed-size rows: no NULL)."""
    if not data.startswith(COPY_SIGNATURE):
        raise ValueError("not a binary COPY stream")
    (extension,) = struct.unpack_from(">i", data, len(COPY_SIGNATURE) + 4)
    start = len(COPY_SIGNATURE) + 8 + extension
    body = len(data) - start - len(COPY_TRAILER)
    if not data.endswith(COPY_TRAILER) or body % layout.itemsize:
        raise ValueError("unexpected binary COPY row layout")
    rows = np.frombuffer(data, dtype=layout, offset=start, count=body // layout.itemsize)
    expected = _binary_fill(np.zeros(1, dtype=layout))
    if any((rows[name] != expected[name][0]).any() for name in layout.names[:1] + layout.names[1::2]):
        raise ValueError("unexpected binary COPY row layout")
    return rows
