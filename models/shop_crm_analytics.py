"""Customer analytics: RFM scores and classes, segments, lifecycle stages, churn warnings, lifetime value.

Everything is computed per company in set-based SQL: one statement of aggregates and window functions
fills a temporary table with every customer's values; the lifetime-value models are fitted on the
customers' (frequency, recency, age) profiles with numpy/scipy (``lib/clv.py``); then the changes are
recorded (``shop.crm.segment.change``), new churn warnings get one follow-up activity, and only the
customers whose values changed are written. The definitions are in ``lib/rfm.py``.

From a shell: ``env["shop.crm.analytics"].run(as_of=date(2026, 11, 1))``.
"""

import logging
import math
import time
from datetime import timedelta

import numpy as np

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..lib import clv, rfm

_logger = logging.getLogger(__name__)

TMP = SQL.identifier("shop_crm_analytics_tmp")
CLV_TMP = SQL.identifier("shop_crm_analytics_clv")
# Written from the lifetime-value predictions (CLV_TMP) rather than from TMP.
CLV_COLUMNS = ("clv_predicted_12m", "probability_alive", "clv_method")
# Columns written back to res_partner, in the temporary table under the same names.
PARTNER_COLUMNS = (
    "rfm_recency_days",
    "rfm_frequency",
    "rfm_monetary",
    "rfm_r_score",
    "rfm_f_score",
    "rfm_m_score",
    "rfm_class",
    "rfm_segment",
    "lifecycle_stage",
    "churn_warning",
    "churn_typical_gap",
    "clv_historical",
    "clv_predicted_12m",
    "probability_alive",
    "clv_method",
)
TRACKED = ("rfm_class", "rfm_segment", "lifecycle_stage")
CLV_HORIZON_MONTHS = 12
WORK_MEM = "256MB"
DAYS_PER_WEEK = 7.0


class ShopCrmAnalytics(models.AbstractModel):
    _name = "shop.crm.analytics"
    _description = "Shop CRM customer analytics"

    @api.model
    def run(self, as_of=None, company=None):
        """Recompute the analytics of ``company`` (default: the current one) as of ``as_of`` (default:
        today). Returns a summary dict. Shop CRM managers only."""
        if not (self.env.su or self.env.user.has_group("shop_crm.group_shop_crm_manager")):
            raise AccessError(self.env._("Only Shop CRM managers can recompute the customer analytics."))
        as_of = fields.Date.to_date(as_of) if as_of else fields.Date.context_today(self)
        company = company or self.env.company
        return self.sudo()._run_company(company.sudo(), as_of)

    @api.model
    def _cron_recompute(self):
        companies = self.env["res.company"].search([("active", "=", True)])
        for done, company in enumerate(companies):
            self.with_company(company).sudo()._run_company(company, fields.Date.context_today(self))
            self.env["ir.cron"]._notify_progress(done=done + 1, remaining=len(companies) - done - 1)

    # ---- the computation ----------------------------------------------------------------------------

    def _run_company(self, company, as_of):
        started = time.monotonic()
        settings = company._shop_crm_rfm_settings()
        settings.validate()
        previous_run = company.shop_crm_analytics_date
        self.env.flush_all()
        cr = self.env.cr
        orders = self._orders_fingerprint(company)  # the run changes no order: read once
        transaction, _sep, inputs = self._fingerprint(company, as_of, settings, orders).partition(":")
        last_transaction, _sep, last_inputs = (company.shop_crm_analytics_fingerprint or "").partition(":")
        if inputs == last_inputs and transaction != last_transaction:
            # Same date and settings, no order or customer created or changed since the last run, which
            # was committed by another transaction: the result would be identical.
            return {"company": company.id, "as_of": as_of, "customers": 0, "changed": 0, "segment_changes": 0,
                    "churn_activities": 0, "clv_method": company.shop_crm_clv_method, "unchanged": True,
                    "seconds": round(time.monotonic() - started, 3)}  # fmt: skip
        # Sorting and hashing a chain's orders in memory instead of on disk; no JIT compilation (it costs
        # seconds on these statements and saves nothing); for this transaction only.
        cr.execute(SQL("SET LOCAL work_mem = %s", WORK_MEM))
        cr.execute(SQL("SET LOCAL jit = off"))
        cr.execute(SQL("DROP TABLE IF EXISTS %s, %s", TMP, CLV_TMP))
        cr.execute(self._customer_values_query(company, as_of, settings))
        customers = cr.rowcount
        cr.execute(SQL("CREATE UNIQUE INDEX ON %s (partner_id)", TMP))
        clv_result = self._lifetime_value(company, as_of)
        recorded = self._record_changes(company, as_of) if previous_run else 0
        activities = self._create_churn_activities(company, as_of)
        changed = self._write_back()
        cr.execute(SQL("DROP TABLE %s, %s", TMP, CLV_TMP))
        company.write(
            {
                "shop_crm_analytics_date": as_of,
                "shop_crm_clv_method": clv_result["method"],
                "shop_crm_clv_summary": clv_result["summary"],
            }
        )
        self.env.flush_all()
        company.shop_crm_analytics_fingerprint = self._fingerprint(company, as_of, settings, orders)
        self.env["res.partner"].invalidate_model(list(PARTNER_COLUMNS))
        summary = {
            "company": company.id,
            "as_of": as_of,
            "customers": customers,
            "changed": changed,
            "segment_changes": recorded,
            "churn_activities": activities,
            "clv_method": clv_result["method"],
            "seconds": round(time.monotonic() - started, 3),
        }
        _logger.info("Shop CRM analytics: %s", summary)
        return summary

    def _orders_fingerprint(self, company):
        """The company's orders as rows: their count and the newest transaction id that wrote one
        (``xmin``: any committed insert or update raises it, unlike write_date, which is the start of a
        possibly long transaction)."""
        self.env.cr.execute(
            SQL(
                """
                SELECT (SELECT COUNT(*) || '/' || COALESCE(MAX(xmin::text::bigint), 0)
                          FROM pos_order WHERE company_id = %(company)s),
                       (SELECT COUNT(*) || '/' || COALESCE(MAX(xmin::text::bigint), 0)
                          FROM sale_order WHERE company_id = %(company)s)
                """,
                company=company.id,
            )
        )
        return "|".join(self.env.cr.fetchone())

    def _fingerprint(self, company, as_of, settings, orders):
        """What the result depends on: the date, the settings, the orders (see _orders_fingerprint) and
        the customers (likewise, count and newest xmin). It starts with the current transaction id, so a
        run never trusts a fingerprint of its own transaction (whose later writes carry the same xmin).
        Taken after the write-back, which changes customers."""
        self.env.cr.execute(
            SQL(
                """
                SELECT txid_current()::text,
                       (SELECT COUNT(*) || '/' || COALESCE(MAX(xmin::text::bigint), 0) FROM res_partner)
                """
            )
        )
        transaction, customers = self.env.cr.fetchone()
        inputs = "|".join(
            [str(as_of), repr(settings), str(company.shop_crm_clv_min_customers),
             str(company.shop_crm_clv_min_repeat), orders, customers]
        )  # fmt: skip
        return f"{transaction}:{inputs}"

    def _customer_values_query(self, company, as_of, settings):
        window_start = as_of - timedelta(days=settings.window_days - 1)
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
WITH orders AS (
    SELECT o.partner_id, o.date_order::date AS day,
           o.amount_total::float8 / COALESCE(NULLIF(o.currency_rate, 0), 1)::float8 AS amount
      FROM pos_order o
     WHERE o.company_id = %(company)s AND o.partner_id IS NOT NULL
       AND o.state IN ('paid', 'done', 'invoiced') AND o.date_order < %(day_after)s
    UNION ALL
    SELECT o.partner_id, o.date_order::date,
           o.amount_total::float8 / COALESCE(NULLIF(o.currency_rate, 0), 1)::float8
      FROM sale_order o
     WHERE o.company_id = %(company)s AND o.state = 'sale' AND o.date_order < %(day_after)s
),
days AS (  -- one row per customer and day with orders
    SELECT partner_id, day,
           COUNT(*) FILTER (WHERE amount > 0) AS purchases,
           COALESCE(SUM(amount) FILTER (WHERE amount > 0), 0) AS purchase_amount,
           SUM(amount) AS net_amount
      FROM orders
     GROUP BY partner_id, day
),
gaps AS (  -- days since the customer's previous purchase day, on purchase days
    SELECT days.*,
           CASE WHEN purchases > 0
                THEN day - LAG(day) OVER (PARTITION BY partner_id, purchases > 0 ORDER BY day) END AS gap
      FROM days
),
per_customer AS (
    SELECT partner_id,
           MIN(day) FILTER (WHERE purchases > 0) AS first_day,
           MAX(day) FILTER (WHERE purchases > 0) AS last_day,
           COUNT(*) FILTER (WHERE purchases > 0) AS purchase_days,
           COALESCE(SUM(purchases) FILTER (WHERE day >= %(window_start)s), 0) AS frequency,
           -- per-order arithmetic in float8 (fast), each customer's sums rounded to cents (exact ties)
           ROUND(COALESCE(SUM(net_amount) FILTER (WHERE day >= %(window_start)s), 0)::numeric, 2) AS monetary,
           ROUND(SUM(net_amount)::numeric, 2) AS net_spend,
           PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY gap) AS median_gap,
           ROUND(COALESCE(SUM(purchase_amount) FILTER (WHERE gap IS NOT NULL), 0)::numeric, 2)
               AS repeat_amount
      FROM gaps
     GROUP BY partner_id
),
universe AS (  -- the company's customers, with or without purchases
    SELECT p.id AS partner_id
      FROM res_partner p
     WHERE p.active AND p.partner_share AND (p.company_id = %(company)s OR p.company_id IS NULL)
       AND NOT EXISTS (SELECT 1 FROM res_company c WHERE c.partner_id = p.id)
     UNION
    SELECT partner_id FROM per_customer
),
scored AS (
    SELECT u.partner_id, c.first_day, c.last_day,
           COALESCE(c.purchase_days, 0) AS purchase_days,
           COALESCE(c.frequency, 0) AS frequency,
           COALESCE(c.monetary, 0) AS monetary,
           COALESCE(c.net_spend, 0) AS net_spend,
           c.median_gap, COALESCE(c.repeat_amount, 0) AS repeat_amount,
           %(as_of)s - c.last_day AS recency_days,
           CASE WHEN c.frequency > 0 THEN CEIL(5 * CUME_DIST() OVER (
                PARTITION BY c.frequency > 0 ORDER BY -(%(as_of)s - c.last_day)))::int ELSE 0 END AS r_score,
           CASE WHEN c.frequency > 0 THEN CEIL(5 * CUME_DIST() OVER (
                PARTITION BY c.frequency > 0 ORDER BY c.frequency))::int ELSE 0 END AS f_score,
           CASE WHEN c.frequency > 0 THEN CEIL(5 * CUME_DIST() OVER (
                PARTITION BY c.frequency > 0 ORDER BY c.monetary))::int ELSE 0 END AS m_score
      FROM universe u
      LEFT JOIN per_customer c USING (partner_id)
),
shop AS (
    SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY median_gap) AS median_gap
      FROM per_customer WHERE purchase_days >= 2
),
staged AS (
    SELECT scored.*,
           CASE WHEN first_day IS NULL THEN 'potential'
                WHEN %(as_of)s - first_day <= %(new_days)s THEN 'new'
                WHEN recency_days > %(lost_days)s THEN 'lost'
                ELSE 'returning' END AS lifecycle_stage,
           CASE WHEN purchase_days >= 2 THEN scored.median_gap ELSE shop.median_gap END AS typical_gap
      FROM scored CROSS JOIN shop
)
SELECT partner_id, first_day, last_day, purchase_days, repeat_amount,
       recency_days AS rfm_recency_days,
       frequency::int AS rfm_frequency,
       ROUND(monetary, 2) AS rfm_monetary,
       r_score AS rfm_r_score, f_score AS rfm_f_score, m_score AS rfm_m_score,
       CASE WHEN first_day IS NULL THEN NULL
            WHEN r_score + f_score + m_score >= %(class_a)s THEN 'A'
            WHEN r_score + f_score + m_score >= %(class_b)s THEN 'B'
            WHEN r_score + f_score + m_score >= %(class_c)s THEN 'C'
            ELSE 'D' END::varchar AS rfm_class,
       CASE WHEN first_day IS NULL THEN NULL ELSE CASE %(segment_cases)s END END::varchar AS rfm_segment,
       lifecycle_stage::varchar AS lifecycle_stage,
       (first_day IS NOT NULL AND lifecycle_stage <> 'lost'
        AND recency_days > GREATEST(%(gap_factor)s * typical_gap, %(min_days)s)) AS churn_warning,
       CASE WHEN first_day IS NULL THEN NULL ELSE ROUND(typical_gap::numeric, 1) END AS churn_typical_gap,
       ROUND(net_spend, 2) AS clv_historical
  FROM staged
            """,
            tmp=TMP,
            company=company.id,
            day_after=as_of + timedelta(days=1),
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
        )

    def _lifetime_value(self, company, as_of):
        """Fit BG/NBD + Gamma-Gamma (time in weeks) on the customers' profiles and store the predictions."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                -- the aggregates of one query level see the rows in the same order: arrays stay aligned
                SELECT array_agg(partner_id),
                       array_agg(purchase_days - 1),
                       array_agg(last_day - first_day),
                       array_agg(%(as_of)s - first_day),
                       array_agg(CASE WHEN purchase_days > 1
                                      THEN repeat_amount / (purchase_days - 1) ELSE 0 END)
                  FROM %(tmp)s
                 WHERE first_day IS NOT NULL
                """,
                as_of=as_of,
                tmp=TMP,
            )
        )
        partner_ids, repeat, recency, age, spend = cr.fetchone()
        if not partner_ids:
            cr.execute(SQL("CREATE TEMP TABLE %s (partner_id int, clv_predicted_12m numeric, "
                           "probability_alive float8, clv_method varchar)", CLV_TMP))  # fmt: skip
            return {"method": False, "summary": self.env._("No purchases yet.")}
        frequency = np.asarray(repeat, dtype=float)
        spend = np.asarray([float(value) for value in spend], dtype=float)
        result = clv.fit_or_fallback(
            frequency,
            np.asarray(recency, dtype=float) / DAYS_PER_WEEK,
            np.asarray(age, dtype=float) / DAYS_PER_WEEK,
            np.where(frequency > 0, spend, 0.0),
            horizon=CLV_HORIZON_MONTHS * clv.WEEKS_PER_MONTH,
            min_customers=company.shop_crm_clv_min_customers,
            min_repeat_buyers=company.shop_crm_clv_min_repeat,
        )
        alive = result.probability_alive
        cr.execute(
            SQL(
                """
                CREATE TEMP TABLE %(clv_tmp)s AS
                SELECT v.partner_id, ROUND(v.clv::numeric, 2) AS clv_predicted_12m,
                       ROUND(v.alive::numeric, 4)::float8 AS probability_alive,
                       %(method)s::varchar AS clv_method
                  FROM unnest(%(ids)s::int[], %(clv)s::float8[], %(alive)s::float8[])
                       AS v(partner_id, clv, alive)
                """,
                clv_tmp=CLV_TMP,
                method=result.method,
                ids="{" + ",".join(map(str, partner_ids)) + "}",
                clv=_array_literal(np.round(result.clv, 4)),
                alive=_array_literal(np.round(alive, 6)) if alive is not None else None,
            )
        )
        if result.method == clv.METHOD_MODEL:
            bg, gg = result.bgnbd, result.gamma_gamma
            summary = self.env._(
                "BG/NBD r=%(r).3f α=%(alpha).3f a=%(a).3f b=%(b).3f; "
                "Gamma-Gamma p=%(p).3f q=%(q).3f γ=%(gamma).3f (%(customers)s customers, as of %(date)s)",
                r=bg.r, alpha=bg.alpha, a=bg.a, b=bg.b, p=gg.p, q=gg.q, gamma=gg.gamma,
                customers=len(partner_ids), date=as_of,
            )  # fmt: skip
        else:
            summary = self.env._(
                "Simple estimate (purchase rate × average spend), because: %(reason)s", reason=result.reason
            )
        return {"method": result.method, "summary": summary}

    def _record_changes(self, company, as_of):
        """Keep every change of class, segment or stage in shop.crm.segment.change."""
        cr = self.env.cr
        recorded = 0
        for column in TRACKED:
            cr.execute(
                SQL(
                    """
                    INSERT INTO shop_crm_segment_change
                           (partner_id, company_id, date, what, old_value, new_value,
                            create_uid, create_date, write_uid, write_date)
                    SELECT t.partner_id, %(company)s, %(as_of)s, %(what)s, p.%(column)s, t.%(column)s,
                           %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                      FROM %(tmp)s t
                      JOIN res_partner p ON p.id = t.partner_id
                     WHERE p.%(column)s IS DISTINCT FROM t.%(column)s
                    """,
                    company=company.id,
                    as_of=as_of,
                    what=column,
                    column=SQL.identifier(column),
                    uid=self.env.uid,
                    tmp=TMP,
                )
            )
            recorded += cr.rowcount
        return recorded

    def _create_churn_activities(self, company, as_of):
        """One follow-up activity for the staff member of each customer whose churn warning is new."""
        activity_type = self.env.ref("shop_crm.mail_activity_type_churn_warning", raise_if_not_found=False)
        if not activity_type:
            return 0
        summary = self.env._("Churn warning: win the customer back")
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                INSERT INTO mail_activity
                       (res_model_id, res_model, res_id, res_name, activity_type_id, user_id, summary, note,
                        date_deadline, automated, active, create_uid, create_date, write_uid, write_date)
                SELECT %(model_id)s, 'res.partner', t.partner_id, p.complete_name, %(type)s, p.user_id,
                       %(summary)s, NULL, %(deadline)s, TRUE, TRUE,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM %(tmp)s t
                  JOIN res_partner p ON p.id = t.partner_id
                  JOIN res_users u ON u.id = p.user_id AND u.active
                 WHERE t.churn_warning AND p.churn_warning IS NOT TRUE
                   AND NOT EXISTS (SELECT 1 FROM mail_activity a
                                    WHERE a.res_model = 'res.partner' AND a.res_id = t.partner_id
                                      AND a.activity_type_id = %(type)s AND a.active)
                """,
                model_id=self.env["ir.model"]._get_id("res.partner"),
                type=activity_type.id,
                summary=summary,
                deadline=as_of + timedelta(days=activity_type.delay_count or 0),
                uid=self.env.uid,
                tmp=TMP,
            )
        )
        created = cr.rowcount
        if created:
            self.env["mail.activity"].invalidate_model()
            self.env["res.partner"].invalidate_model(["activity_ids"])
        return created

    def _write_back(self):
        """Write the new values on the customers whose values changed; return how many."""
        columns = [SQL.identifier(column) for column in PARTNER_COLUMNS]
        new = [SQL("c.%s" if name in CLV_COLUMNS else "t.%s", column) for name, column in zip(
            PARTNER_COLUMNS, columns, strict=True)]  # fmt: skip
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner p
                   SET %(assignments)s, write_date = NOW() AT TIME ZONE 'UTC', write_uid = %(uid)s
                  FROM %(tmp)s t
                  LEFT JOIN %(clv_tmp)s c ON c.partner_id = t.partner_id
                 WHERE p.id = t.partner_id
                   AND (%(old)s) IS DISTINCT FROM (%(new)s)
                """,
                assignments=SQL(", ").join(
                    SQL("%s = %s", column, value) for column, value in zip(columns, new, strict=True)
                ),  # fmt: skip
                uid=self.env.uid,
                tmp=TMP,
                clv_tmp=CLV_TMP,
                old=SQL(", ").join(SQL("p.%s", column) for column in columns),
                new=SQL(", ").join(new),
            )
        )
        return self.env.cr.rowcount


def _array_literal(values):
    """A PostgreSQL array literal ('{1,2,3}') for a sequence of numbers: fast to send and to parse."""
    return "{" + ",".join("NULL" if v is None or math.isnan(v) else repr(float(v)) for v in values) + "}"
