"""Prediction checks: how well the lifetime-value models predicted what really happened (holdout validation).

The history of a company is split at a calibration date (setting; default 26 weeks before the analysis
date): the models are fitted on the purchases up to that date exactly as the nightly analytics fit them
(``lib/clv.py``), each customer's purchases in the weeks after it are predicted and compared with the
purchases really made, as in Fader, Hardie & Lee (2005). One record per check, kept so the owner sees the
accuracy over time; the analytics create one after each run, the settings page on demand.
"""

import math
from datetime import timedelta

import numpy as np

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, html_escape

from ..lib import clv
from .shop_crm_analytics import DAYS_PER_WEEK, _binary_layout, _binary_rows, _copy
from .shop_crm_customer_value import CLV_METHODS

DAYS_TMP = SQL.identifier("shop_crm_clv_validation_tmp")


class ShopCrmClvValidation(models.Model):
    _name = "shop.crm.clv.validation"
    _description = "Prediction Check"
    _order = "date desc, id desc"
    _rec_name = "date"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    date = fields.Date(
        "Checked On", required=True, readonly=True, help="The analysis date: the end of the check."
    )
    calibration_date = fields.Date(
        required=True, readonly=True, help="The models were fitted on the purchases up to this day."
    )
    holdout_weeks = fields.Float("Weeks Predicted", digits=(16, 1), readonly=True)
    method = fields.Selection(CLV_METHODS, "Lifetime Value Method", readonly=True)
    model_summary = fields.Char("Model Fitted", readonly=True)
    customers = fields.Integer(
        "Customers Checked", readonly=True, help="Customers who had bought by the calibration date."
    )
    predicted = fields.Float("Predicted Repeat Purchases", digits=(16, 1), readonly=True, aggregator="avg")
    actual = fields.Integer("Actual Repeat Purchases", readonly=True, aggregator="avg")
    aggregate_error_pct = fields.Float(
        "Aggregate Error (%)",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="(predicted − actual repeat purchases) in % of the actual ones: negative means the model "
        "predicted too few.",
    )
    mean_absolute_error = fields.Float(
        "Mean Absolute Error per Customer",
        digits=(16, 3),
        readonly=True,
        aggregator="avg",
        help="On average, by how many purchases each customer's prediction was off.",
    )
    tracking = fields.Json(
        "Tracking Chart Data",
        readonly=True,
        help="Week by week: [end of the week (weeks after the calibration date), predicted cumulative repeat "
        "purchases, actual cumulative repeat purchases].",
    )
    tracking_html = fields.Html("Tracking Chart", compute="_compute_tracking_html", sanitize=False)
    summary = fields.Text(compute="_compute_summary")

    @api.depends("tracking")
    def _compute_tracking_html(self):
        head = "".join(
            f"<th class='text-end'>{html_escape(label)}</th>"
            for label in (
                self.env._("Week"),
                self.env._("Predicted (cumulative)"),
                self.env._("Actual (cumulative)"),
            )
        )
        for check in self:
            rows = "".join(
                f"<tr><td class='text-end'>{week:g}</td><td class='text-end'>{predicted:.1f}</td>"
                f"<td class='text-end'>{actual:g}</td></tr>"
                for week, predicted, actual in check.tracking or []
            )
            check.tracking_html = f"<table class='table table-sm'><tr>{head}</tr>{rows}</table>"

    @api.depends("aggregate_error_pct", "mean_absolute_error", "predicted", "actual", "calibration_date")
    def _compute_summary(self):
        for check in self:
            error = format(check.aggregate_error_pct, "+.1f") + " %" if check.actual else None
            method = dict(self._fields["method"]._description_selection(self.env)).get(check.method, "")
            check.summary = self.env._(
                "Fitted on the purchases up to %(calibration)s, the %(method)s predicted %(predicted).0f "
                "repeat purchases by %(customers)s customers in the %(weeks).1f weeks after it; they made "
                "%(actual)s (aggregate error %(error)s, mean absolute error %(mae).2f purchases per "
                "customer).",
                calibration=check.calibration_date,
                method=method,
                predicted=check.predicted,
                customers=check.customers,
                weeks=check.holdout_weeks,
                actual=check.actual,
                error=error or self.env._("none: no purchase to compare"),
                mae=check.mean_absolute_error,
            )

    # ---- actions --------------------------------------------------------------------------------------

    @api.model
    def validate(self, company=None, as_of=None):
        """Check the predictions of ``company`` (default: the current one) now; returns the new check.
        Shop CRM managers only."""
        if not (self.env.su or self.env.user.has_group("shop_crm.group_shop_crm_manager")):
            raise AccessError(self.env._("Only Shop CRM managers can check the predictions."))
        company = (company or self.env.company).sudo()
        as_of = fields.Date.to_date(as_of) if as_of else company._shop_crm_today()
        check = self.sudo()._validate_company(company, as_of)
        if not check:
            raise UserError(
                self.env._(
                    "Nothing to check yet: no customer had bought by the calibration date %(date)s, or the "
                    "calibration date is not before %(today)s.",
                    date=company._shop_crm_calibration_date(as_of),
                    today=as_of,
                )
            )
        return check.with_env(self.env)

    def action_open(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    # ---- the check ------------------------------------------------------------------------------------

    def _summary_figures(self):
        """The check's figures for the analytics run's summary ({} without a check)."""
        if not self:
            return {}
        self.ensure_one()
        return {
            "holdout_weeks": self.holdout_weeks,
            "holdout_predicted": round(self.predicted, 1),
            "holdout_actual": self.actual,
            "holdout_error_pct": round(self.aggregate_error_pct, 1) if self.actual else None,
            "holdout_mean_absolute_error": round(self.mean_absolute_error, 3),
        }

    def _validate_company(self, company, as_of, analytics_table=None):
        """Fit on the purchases up to the calibration date, compare with the purchases after it up to
        ``as_of`` and store the check (also as the company's last one). An empty recordset when there is
        nothing to check (calibration date not before ``as_of``, nobody bought by then). During an
        analytics run, ``analytics_table`` (an SQL identifier) is its table of customer values, which
        holds the calibration profiles already; otherwise they are read from the purchases."""
        calibration = company._shop_crm_calibration_date(as_of)
        if calibration >= as_of:
            return self.browse()
        if analytics_table is None:
            profiles, by_week = self._holdout_profiles(company, calibration, as_of)
        else:
            profiles, by_week = self._holdout_profiles_from_analytics(
                company, calibration, as_of, analytics_table
            )
        if not len(profiles["partner_id"]):
            return self.browse()
        holdout_weeks = (as_of - calibration).days / DAYS_PER_WEEK
        frequency = profiles["repeat"].astype(float)
        check = clv.holdout_validation(
            frequency,
            profiles["recency"] / DAYS_PER_WEEK,
            profiles["age"] / DAYS_PER_WEEK,
            np.where(frequency > 0, profiles["spend"], 0.0),
            profiles["holdout"].astype(float),
            holdout_weeks,
            by_week,
            min_customers=company.shop_crm_clv_min_customers,
            min_repeat_buyers=company.shop_crm_clv_min_repeat,
            penalizer=company.shop_crm_clv_penalizer,
        )
        error = check.aggregate_error_pct if math.isfinite(check.aggregate_error_pct) else 0.0
        tracking = [[round(end, 3), round(predicted, 2), actual] for end, predicted, actual in check.tracking]
        analytics = self.env["shop.crm.analytics"].with_context(lang=company.partner_id.lang or self.env.lang)
        record = self.create(
            {
                "company_id": company.id,
                "date": as_of,
                "calibration_date": calibration,
                "holdout_weeks": holdout_weeks,
                "method": check.result.method,
                "model_summary": analytics._clv_summary(check.result, check.customers, calibration),
                "customers": check.customers,
                "predicted": check.predicted,
                "actual": int(round(check.actual)),
                "aggregate_error_pct": error,
                "mean_absolute_error": check.mean_absolute_error,
                "tracking": tracking,
            }
        )
        company.shop_crm_clv_validation_id = record
        return record

    def _holdout_profiles_from_analytics(self, company, calibration, as_of, table):
        """As :meth:`_holdout_profiles`, from the analytics run's table of customer values (its
        ``cal_*`` columns, computed with the same definitions for the calibration date); only the purchase
        days after the calibration date are read again, for the weekly counts."""
        cr = self.env.cr
        scale = 10**company.currency_id.decimal_places
        layout = _binary_layout(
            partner_id=">i4", repeat=">i4", recency=">i4", age=">i4", spend=">f8", holdout=">i4"
        )
        query = SQL(
            """
            COPY (SELECT partner_id, (cal_purchase_days - 1)::int4, (cal_last_day - first_day)::int4,
                         (%(cal)s::date - first_day)::int4,
                         CASE WHEN cal_purchase_days > 1
                              THEN cal_repeat_units::float8 / (%(scale)s * (cal_purchase_days - 1))
                              ELSE 0 END::float8,
                         (purchase_days - cal_purchase_days)::int4
                    FROM %(table)s
                   WHERE first_day <= %(cal)s ORDER BY partner_id) TO STDOUT WITH (FORMAT binary)
            """,
            cal=calibration,
            scale=scale,
            table=table,
        )
        rows = _binary_rows(_copy(cr, query), layout)
        cr.execute(
            SQL(
                """
                SELECT (d.day - %(cal)s::date - 1) / 7, COUNT(*)
                  FROM (SELECT DISTINCT o.partner_id, o.day FROM (%(purchases)s) o) d
                  JOIN %(table)s t ON t.partner_id = d.partner_id AND t.first_day <= %(cal)s
                 GROUP BY 1
                """,
                cal=calibration,
                purchases=company._shop_crm_purchases(
                    until=as_of, positive=True, since=calibration + timedelta(days=1)
                ),
                table=table,
            )
        )
        by_week = np.zeros(math.ceil((as_of - calibration).days / DAYS_PER_WEEK))
        for week, count in cr.fetchall():
            by_week[week] = count
        profiles = {
            name: rows[name].astype(float if name == "spend" else np.int64)
            for name in ("partner_id", "repeat", "recency", "age", "spend", "holdout")
        }
        return profiles, by_week

    def _holdout_profiles(self, company, calibration, as_of):
        """Profiles as of the calibration date of the customers who had bought by then (partner_id, repeat
        purchase days, recency, age in days, average repeat spend, purchase days after the calibration date),
        read by binary COPY, and their purchase days after it per week (the last week may be shorter)."""
        cr = self.env.cr
        cr.execute(SQL("DROP TABLE IF EXISTS %s", DAYS_TMP))
        cr.execute(
            SQL(
                """
                CREATE TEMP TABLE %(tmp)s AS
                SELECT partner_id, day, SUM(amount)::float8 AS amount,
                       MIN(day) OVER (PARTITION BY partner_id) AS first_day
                  FROM (%(purchases)s) o
                 WHERE o.partner_id IS NOT NULL
                 GROUP BY partner_id, day
                """,
                tmp=DAYS_TMP,
                purchases=company._shop_crm_purchases(until=as_of, positive=True),
            )
        )
        layout = _binary_layout(
            partner_id=">i4", repeat=">i4", recency=">i4", age=">i4", spend=">f8", holdout=">i4"
        )
        query = SQL(
            """
            COPY (SELECT partner_id,
                         (COUNT(*) FILTER (WHERE day <= %(cal)s) - 1)::int4,
                         (MAX(day) FILTER (WHERE day <= %(cal)s) - MIN(first_day))::int4,
                         (%(cal)s::date - MIN(first_day))::int4,
                         CASE WHEN COUNT(*) FILTER (WHERE day <= %(cal)s) > 1
                              THEN SUM(amount) FILTER (WHERE day <= %(cal)s AND day > first_day)
                                   / (COUNT(*) FILTER (WHERE day <= %(cal)s) - 1)
                              ELSE 0 END::float8,
                         COUNT(*) FILTER (WHERE day > %(cal)s)::int4
                    FROM %(tmp)s
                   WHERE first_day <= %(cal)s
                   GROUP BY partner_id) TO STDOUT WITH (FORMAT binary)
            """,
            cal=calibration,
            tmp=DAYS_TMP,
        )
        rows = _binary_rows(_copy(cr, query), layout)
        weeks = math.ceil((as_of - calibration).days / DAYS_PER_WEEK)
        cr.execute(
            SQL(
                """
                SELECT (day - %(cal)s::date - 1) / 7, COUNT(*) FROM %(tmp)s
                 WHERE first_day <= %(cal)s AND day > %(cal)s GROUP BY 1
                """,
                cal=calibration,
                tmp=DAYS_TMP,
            )
        )
        by_week = np.zeros(weeks)
        for week, count in cr.fetchall():
            by_week[week] = count
        cr.execute(SQL("DROP TABLE %s", DAYS_TMP))
        profiles = {
            name: rows[name].astype(float if name == "spend" else np.int64)
            for name in ("partner_id", "repeat", "recency", "age", "spend", "holdout")
        }
        return profiles, by_week
