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
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import numpy as np
import psycopg2.extensions

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..lib import clv, rfm
from .shop_crm_customer_value import VALUE_FIELDS

_logger = logging.getLogger(__name__)

TMP = SQL.identifier("shop_crm_analytics_tmp")
CLV_TMP = SQL.identifier("shop_crm_analytics_clv_tmp")
VALUES = SQL.identifier("shop_crm_customer_value")
# Computed by the lifetime-value models ...
CLV_COLUMNS = ("clv_predicted_12m", "probability_alive", "clv_method")
# ... and by the statement of aggregates (in TMP under the same names).
STATS_COLUMNS = tuple(column for column in VALUE_FIELDS if column not in CLV_COLUMNS)
TRACKED = ("rfm_class", "rfm_segment", "lifecycle_stage")
CLV_HORIZON_MONTHS = 12
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

    @api.model
    def run(self, as_of=None, company=None):
        """Recompute the analytics of ``company`` (default: the current one) as of ``as_of`` (default:
        today). Returns a summary dict. Shop CRM managers only."""
        if not (self.env.su or self.env.user.has_group("shop_crm.group_shop_crm_manager")):
            raise AccessError(self.env._("Only Shop CRM managers can recompute the customer analytics."))
        company = company or self.env.company
        as_of = fields.Date.to_date(as_of) if as_of else company._shop_crm_today()
        return self.sudo()._run_company(company.sudo(), as_of)

    @api.model
    def _cron_recompute(self):
        companies = self.env["res.company"].search([("active", "=", True)])
        for done, company in enumerate(companies):
            self.with_company(company).sudo()._run_company(company, company._shop_crm_today())
            self.env["ir.cron"]._notify_progress(done=done + 1, remaining=len(companies) - done - 1)

    # ---- the computation ----------------------------------------------------------------------------

    def _run_company(self, company, as_of):
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
        if self._unchanged_since_last_run(company, as_of, key):
            return {"company": company.id, "as_of": as_of, "customers": 0, "changed": 0, "segment_changes": 0,
                    "churn_activities": 0, "clv_method": company.shop_crm_clv_method, "unchanged": True,
                    "seconds": round(time.monotonic() - started, 3)}  # fmt: skip
        cr.execute(SQL("SET LOCAL work_mem = %s", WORK_MEM))
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
                company.shop_crm_clv_min_repeat,
            )  # fmt: skip
            recorded = self._record_changes(company, as_of) if previous_run else 0
            activities_started = time.monotonic()
            activities = self._create_churn_activities(company, as_of)
            activity_seconds = time.monotonic() - activities_started
            fitted = fitting.result()
        clv_result = self._lifetime_value(company, as_of, profiles, fitted)
        changed = self._write_back(company, clv_result)
        fingerprint = self._fingerprint(company, key)
        cr.execute(SQL("DROP TABLE %s, %s", TMP, CLV_TMP))
        company.write(
            {
                "shop_crm_analytics_date": as_of,
                "shop_crm_clv_method": clv_result["method"],
                "shop_crm_clv_summary": clv_result["summary"],
                "shop_crm_analytics_fingerprint": fingerprint,
            }
        )
        self.env["shop.crm.customer.value"].invalidate_model()
        self.env["res.partner"].invalidate_model([*VALUE_FIELDS, "churn_reason", "rfm_explanation"])
        summary = {
            "company": company.id,
            "as_of": as_of,
            "customers": customers,
            "changed": changed,
            "segment_changes": recorded,
            "churn_activities": activities,
            "churn_activity_seconds": round(activity_seconds, 3),
            "clv_method": clv_result["method"],
            "seconds": round(time.monotonic() - started, 3),
        }
        _logger.info("Shop CRM analytics: %s", summary)
        return summary

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
             str(self._currency_units(company)[0])]
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

    def _customer_values_query(self, company, as_of, settings):
        window_start = as_of - timedelta(days=settings.window_days - 1)
        scale, unit = self._currency_units(company)
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
        # Each order's total in the company currency, in whole smallest units of that currency (cents),
        # rounded half away from zero by the cast: integer sums are exact (and cheaper to compute than a
        # numeric -> float8 conversion, which goes through text).
        amount = SQL(
            "CASE WHEN o.currency_rate IS NULL OR o.currency_rate IN (0, 1) "
            "THEN (o.amount_total * %s)::bigint ELSE (o.amount_total * %s / o.currency_rate)::bigint END",
            scale,
            scale,
        )

        return SQL(
            """
CREATE TEMP TABLE %(tmp)s AS
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
),
per_customer AS (
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
               AS repeat_units
      FROM marked
     GROUP BY partner_id
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
           CASE WHEN c.purchase_days >= 2 THEN c.median_gap ELSE shop.median_gap END AS typical_gap
      FROM per_customer c
      LEFT JOIN scores s USING (partner_id)
     CROSS JOIN shop
     UNION ALL
    -- the company's customers who never bought
    SELECT p.id, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 'potential', NULL
      FROM res_partner p
     WHERE p.active AND p.partner_share AND (p.company_id = %(company)s OR p.company_id IS NULL)
       AND NOT EXISTS (SELECT 1 FROM res_company c WHERE c.partner_id = p.id)
       AND NOT EXISTS (SELECT 1 FROM per_customer c WHERE c.partner_id = p.id)
)
SELECT partner_id, first_day, last_day, purchase_days, repeat_units, orders,
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
            orders=SQL(" UNION ALL ").join(
                SQL(
                    "SELECT o.partner_id, %s AS day, %s AS amount FROM %s o WHERE %s",
                    company._shop_crm_order_day(),
                    amount,
                    SQL.identifier(table),
                    condition,
                )
                for table, condition in company._shop_crm_purchase_sources(as_of).items()
            ),
            unit=unit,
            tmp=TMP,
            company=company.id,
            day_after=company._shop_crm_day_start(as_of + timedelta(days=1)),
            window_start=window_start,
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
                   WHERE first_day IS NOT NULL) TO STDOUT WITH (FORMAT binary)
            """,
            as_of=as_of,
            scale=scale,
            tmp=TMP,
        )
        rows = _binary_rows(_copy(self.env.cr, query), layout)
        return {name: rows[name].astype(float if name == "spend" else np.int64) for name in
                ("partner_id", "repeat", "recency", "age", "spend")}  # fmt: skip

    @staticmethod
    def _fit_lifetime_value(profiles, min_customers, min_repeat_buyers):
        """Fit BG/NBD + Gamma-Gamma (time in weeks) on the profiles and predict (no database access: run in
        a thread of its own). None when nobody bought."""
        if not len(profiles["partner_id"]):
            return None
        frequency = profiles["repeat"].astype(float)
        return clv.fit_or_fallback(
            frequency,
            profiles["recency"] / DAYS_PER_WEEK,
            profiles["age"] / DAYS_PER_WEEK,
            np.where(frequency > 0, profiles["spend"], 0.0),
            horizon=CLV_HORIZON_MONTHS * clv.WEEKS_PER_MONTH,
            min_customers=min_customers,
            min_repeat_buyers=min_repeat_buyers,
        )

    def _lifetime_value(self, company, as_of, profiles, result):
        """Describe the fitted lifetime-value models and put their predictions in CLV_TMP (partner_id,
        clv_units, alive_e4: whole smallest units of the company currency and ten-thousandths, sent in
        binary: no decimal text per customer). Returns the method and its summary."""
        cr = self.env.cr
        cr.execute(SQL("DROP TABLE IF EXISTS %s", CLV_TMP))
        cr.execute(SQL("CREATE TEMP TABLE %s (partner_id int4, clv_units int8, alive_e4 int8)", CLV_TMP))
        if result is None:
            return {"method": False, "summary": self.env._("No purchases yet.")}
        alive = result.probability_alive
        layout = _binary_layout(partner_id=">i4", clv=">i8", alive=">i8")
        rows = _binary_fill(np.empty(len(profiles["partner_id"]), dtype=layout))
        rows["partner_id"] = profiles["partner_id"]
        rows["clv"] = _scaled(result.clv, self._currency_units(company)[0])
        rows["alive"] = NULL_SCALED if alive is None else _scaled(alive, 10_000)
        data = COPY_HEADER + rows.tobytes() + COPY_TRAILER
        _copy(cr, SQL("COPY %s FROM STDIN WITH (FORMAT binary)", CLV_TMP), data)
        cr.execute(SQL("ANALYZE %s", CLV_TMP))  # the join of the write-back hashes this narrow table
        if result.method == clv.METHOD_MODEL:
            bg, gg = result.bgnbd, result.gamma_gamma
            summary = self.env._(
                "BG/NBD r=%(r).3f α=%(alpha).3f a=%(a).3f b=%(b).3f; "
                "Gamma-Gamma p=%(p).3f q=%(q).3f γ=%(gamma).3f (%(customers)s customers, as of %(date)s)",
                r=bg.r, alpha=bg.alpha, a=bg.a, b=bg.b, p=gg.p, q=gg.q, gamma=gg.gamma,
                customers=len(rows), date=as_of,
            )  # fmt: skip
        else:
            summary = self.env._(
                "Simple estimate (purchase rate × average spend), because: %(reason)s", reason=result.reason
            )
        return {"method": result.method, "summary": summary}

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
                   CASE WHEN c.partner_id IS NOT NULL THEN %(method)s END::varchar AS clv_method
              FROM %(tmp)s t
              LEFT JOIN %(clv)s c ON c.partner_id = t.partner_id
            """,
            stats=SQL(", ").join(SQL("t.%s", SQL.identifier(column)) for column in STATS_COLUMNS),
            null=int(NULL_SCALED),
            unit=self._currency_units(company)[1],
            method=clv_result["method"] or None,
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
