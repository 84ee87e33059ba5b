"""The owner's KPIs (published definitions, see README "Dashboard and KPIs"): set-based SQL over the shared
purchases definition (``res.company._shop_crm_purchases``), the segment change history, the points ledger,
follow-up activities, visits and feedback tickets, each dated by its day in the shop's timezone."""

from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_round

from ..lib import kpi

FOLLOW_UP_TYPES = ("shop_crm.mail_activity_type_follow_up", "shop_crm.mail_activity_type_churn_warning")
# The dashboard's festival demand: festivals in the next FESTIVAL_DAYS days, their top products.
FESTIVAL_DAYS = 60
TOP_FESTIVAL_PRODUCTS = 10
TOP_CATEGORIES = 5  # product categories shown per RFM segment
TOP_MOVERS = 5  # customers up, customers down and segments in the monthly report's top movers


class ShopCrmKpi(models.AbstractModel):
    _name = "shop.crm.kpi"
    _description = "Shop CRM KPIs"

    # ---- access -------------------------------------------------------------------------------------

    @api.model
    def _kpi_scope(self, company=None, user=None):
        """``(company, user)`` as records after the access check: Shop CRM staff compute only their own
        scorecard (``user`` = themselves), managers any scorecard and the whole shop; only for a company
        they work in."""
        if not company:
            company = self.env.company
        elif not isinstance(company, models.BaseModel):
            company = self.env["res.company"].browse(int(company))
        company.ensure_one()
        if not user:
            user = self.env["res.users"]
        elif not isinstance(user, models.BaseModel):
            user = self.env["res.users"].browse(int(user))
        if self.env.su:
            return company, user
        me = self.env.user
        if not me.has_group("shop_crm.group_shop_crm_user"):
            raise AccessError(self.env._("Only Shop CRM users can see the shop's KPIs."))
        if company not in me.company_ids:
            raise AccessError(self.env._("You cannot see the KPIs of %s.", company.name))
        if not me.has_group("shop_crm.group_shop_crm_manager") and user != me:
            raise AccessError(self.env._("Staff can only see their own scorecard."))
        return company, user

    @api.model
    def _kpi_period(self, date_from, date_to):
        date_from, date_to = fields.Date.to_date(date_from), fields.Date.to_date(date_to)
        if not date_from or not date_to:
            raise UserError(self.env._("Choose the first and the last day of the period."))
        if date_from > date_to:
            raise UserError(self.env._("The period cannot end before it starts."))
        return date_from, date_to

    # ---- the published KPIs -------------------------------------------------------------------------

    @api.model
    def compute(self, date_from, date_to, company=None, user=None):
        """The KPIs of ``[date_from, date_to]`` (inclusive shop days) for ``company`` (default: the
        current company), restricted to the customers of staff member ``user`` when given. Keys:
        ``lib.kpi.KEYS``; money in the company currency rounded to its precision, rates as fractions."""
        date_from, date_to = self._kpi_period(date_from, date_to)
        company, user = self._kpi_scope(company, user)
        self.env.flush_all()
        result = {}
        result.update(self._kpi_purchases(company, user, date_from, date_to))
        result.update(self._kpi_segments(company, user, date_from, date_to))
        result.update(self._kpi_points(company, user, date_from, date_to))
        result.update(self._kpi_care(company, user, date_from, date_to))
        result.update(self._kpi_tickets(company, user, date_from, date_to))
        return {key: result[key] for key in kpi.KEYS}

    @api.model
    def _kpi_customer_filter(self, column, user):
        """SQL condition: the customer ``column`` is one of ``user``'s customers (TRUE without user)."""
        if not user:
            return SQL("TRUE")
        return SQL(
            "EXISTS (SELECT 1 FROM res_partner kp WHERE kp.id = %s AND kp.user_id = %s)", column, user.id
        )

    @api.model
    def _kpi_money(self, company, value):
        return float_round(float(value or 0), precision_rounding=company.currency_id.rounding)

    @api.model
    def _kpi_purchases(self, company, user, date_from, date_to):
        prev_from, _prev_to = kpi.previous_period(date_from, date_to)
        before = date_from - timedelta(days=1)
        self.env.cr.execute(
            SQL(
                """
                WITH pur AS (
                    SELECT x.partner_id, x.day, x.amount FROM (%(purchases)s) x WHERE %(mine)s
                ), cur AS (
                    SELECT * FROM pur WHERE day >= %(date_from)s
                ), act AS (
                    SELECT partner_id, COUNT(DISTINCT day) AS days FROM cur
                     WHERE amount > 0 GROUP BY partner_id
                ), prev AS (
                    SELECT DISTINCT partner_id FROM pur WHERE day < %(date_from)s AND amount > 0
                ), earlier AS (
                    -- the active customers who bought before P: index probes by customer (LATERAL ... LIMIT
                    -- 1: the planner would otherwise hash the whole history), not a scan of every order
                    SELECT a.partner_id FROM act a, LATERAL (
                        SELECT 1 FROM (%(earlier)s) e WHERE e.partner_id = a.partner_id LIMIT 1
                    ) bought
                )
                SELECT (SELECT COUNT(*) FROM act),
                       (SELECT COUNT(*) FROM act WHERE partner_id NOT IN (SELECT partner_id FROM earlier)),
                       (SELECT COUNT(*) FROM act WHERE days >= 2),
                       (SELECT COUNT(*) FROM prev),
                       (SELECT COUNT(*) FROM prev WHERE partner_id IN (SELECT partner_id FROM act)),
                       (SELECT COALESCE(SUM(amount), 0) FROM cur),
                       (SELECT COUNT(*) FROM cur WHERE amount > 0),
                       (SELECT COALESCE(SUM(cur.amount), 0)
                          FROM cur JOIN res_partner m ON m.id = cur.partner_id
                         WHERE m.member_since <= cur.day
                           AND COALESCE(m.member_company_id, %(company)s) = %(company)s)
                """,
                purchases=company._shop_crm_purchases(until=date_to, since=prev_from),
                earlier=company._shop_crm_purchases(until=before, positive=True),
                mine=self._kpi_customer_filter(SQL("x.partner_id"), user),
                date_from=date_from,
                company=company.id,
            )
        )
        active, new, repeat, prev, retained, sales, purchases, member_sales = self.env.cr.fetchone()
        sales = self._kpi_money(company, sales)
        return {
            "active_customers": active,
            "new_customers": new,
            "returning_customers": active - new,
            "repeat_rate": kpi.share(repeat, active),
            "retention_rate": kpi.share(retained, prev),
            "sales": sales,
            "purchases": purchases,
            "average_ticket": self._kpi_money(company, kpi.share(sales, purchases)),
            "member_sales_share": kpi.share(member_sales, sales),
        }

    @api.model
    def _kpi_segments(self, company, user, date_from, date_to):
        self.env.cr.execute(
            SQL(
                """
                SELECT COUNT(DISTINCT partner_id) FILTER (WHERE new_value = 'lost'),
                       COUNT(DISTINCT partner_id) FILTER (
                           WHERE old_value = 'lost' AND new_value IN ('returning', 'new'))
                  FROM shop_crm_segment_change c
                 WHERE c.company_id = %s AND c.what = 'lifecycle_stage'
                   AND c.date BETWEEN %s AND %s AND %s
                """,
                company.id,
                date_from,
                date_to,
                self._kpi_customer_filter(SQL("c.partner_id"), user),
            )
        )
        lost, won_back = self.env.cr.fetchone()
        return {"lost_customers": lost, "won_back_customers": won_back}

    @api.model
    def _kpi_point_value(self, company, program, day):
        """The currency value of one point in the company currency: the discount of the program's
        cheapest fixed-amount discount reward divided by its points (100 points = 10 → 0.1)."""
        rewards = program.sudo().reward_ids.filtered(
            lambda reward: reward.reward_type == "discount"
            and reward.discount_mode in ("per_order", "per_point")
            and reward.required_points > 0
        )
        if not rewards:
            return 0.0
        reward = rewards.sorted(lambda reward: (reward.required_points, reward.id))[0]
        if reward.discount_mode == "per_point":
            value = reward.discount
        else:
            value = reward.discount / reward.required_points
        currency = program.sudo().currency_id or company.currency_id
        if currency != company.currency_id:
            value = currency._convert(value, company.currency_id, company, day, round=False)
        return value

    @api.model
    def _kpi_points(self, company, user, date_from, date_to):
        program = company._shop_crm_member_program()
        day = SQL("COALESCE(h.shop_crm_date, %s)", company._shop_crm_local_day(SQL("h.create_date")))
        self.env.cr.execute(
            SQL(
                """
                SELECT COALESCE(SUM(h.issued) FILTER (WHERE (h.shop_crm_kind IN %(issued)s
                                                              OR h.shop_crm_kind = 'adjust')
                                                         AND %(day)s >= %(date_from)s), 0),
                       COALESCE(SUM(h.used) FILTER (WHERE h.shop_crm_kind = 'redeem'
                                                       AND %(day)s >= %(date_from)s), 0),
                       COALESCE(SUM(h.used) FILTER (WHERE h.shop_crm_kind = 'expire'
                                                       AND %(day)s >= %(date_from)s), 0),
                       COALESCE(SUM(h.issued - h.used), 0)
                  FROM loyalty_history h
                  JOIN loyalty_card card ON card.id = h.card_id
                 WHERE card.program_id = %(program)s AND %(day)s <= %(date_to)s AND %(mine)s
                """,
                issued=kpi.ISSUED_KINDS,
                day=day,
                date_from=date_from,
                date_to=date_to,
                program=program.id,
                mine=self._kpi_customer_filter(SQL("card.partner_id"), user),
            )
        )
        issued, redeemed, expired, outstanding = self.env.cr.fetchone()
        value = self._kpi_point_value(company, program, date_to)
        return {
            "points_issued": issued,
            "points_redeemed": redeemed,
            "points_expired": expired,
            "points_liability": self._kpi_money(company, max(outstanding, 0.0) * value),
        }

    @api.model
    def _kpi_followup_types(self):
        return [
            record.id
            for xmlid in FOLLOW_UP_TYPES
            if (record := self.env.ref(xmlid, raise_if_not_found=False))
        ] or [0]

    @api.model
    def _kpi_care(self, company, user, date_from, date_to):
        # Follow-up and win-back activities keep their done rows (keep_done): archived with date_done,
        # the shop's day they were done on (mail.activity._compute_date_done).
        self.env.cr.execute(
            SQL(
                """
                SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT a.active AND a.date_done <= a.date_deadline)
                  FROM mail_activity a
                  JOIN res_partner p ON p.id = a.res_id
                 WHERE a.res_model = 'res.partner' AND a.activity_type_id IN %s
                   AND a.date_deadline BETWEEN %s AND %s
                   AND (p.company_id IS NULL OR p.company_id = %s) AND %s
                """,
                tuple(self._kpi_followup_types()),
                date_from,
                date_to,
                company.id,
                SQL("p.user_id = %s", user.id) if user else SQL("TRUE"),
            )
        )
        due, on_time = self.env.cr.fetchone()
        self.env.cr.execute(
            SQL(
                "SELECT COUNT(*) FROM shop_crm_visit v "
                "WHERE v.company_id = %s AND %s BETWEEN %s AND %s AND %s",
                company.id,
                company._shop_crm_local_day(SQL("v.date")),
                date_from,
                date_to,
                self._kpi_customer_filter(SQL("v.partner_id"), user),
            )
        )
        (visits,) = self.env.cr.fetchone()
        return {"followups_due": due, "followups_on_time": kpi.share(on_time, due), "visits": visits}

    @api.model
    def _kpi_tickets(self, company, user, date_from, date_to):
        received = company._shop_crm_local_day(SQL("t.received_date"))
        resolved = company._shop_crm_local_day(SQL("t.resolved_date"))
        # an answer given in the backend without the public page has no answer date: the resolution's
        answered = company._shop_crm_local_day(
            SQL("COALESCE(t.answered_date, t.resolved_date, t.received_date)")
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT COUNT(*) FILTER (WHERE %(received)s BETWEEN %(date_from)s AND %(date_to)s),
                       COUNT(*) FILTER (WHERE %(received)s BETWEEN %(date_from)s AND %(date_to)s
                                          AND t.feedback_type = 'complaint'),
                       AVG(EXTRACT(EPOCH FROM t.resolved_date - t.received_date) / 3600.0)
                           FILTER (WHERE t.resolved_date IS NOT NULL
                                     AND %(resolved)s BETWEEN %(date_from)s AND %(date_to)s),
                       AVG(t.satisfaction::int) FILTER (WHERE t.satisfaction IS NOT NULL
                                     AND %(answered)s BETWEEN %(date_from)s AND %(date_to)s),
                       COUNT(*) FILTER (WHERE t.nps >= 0 AND %(in_p)s),
                       COUNT(*) FILTER (WHERE t.nps >= 9 AND %(in_p)s),
                       COUNT(*) FILTER (WHERE t.nps BETWEEN 0 AND 6 AND %(in_p)s)
                  FROM shop_crm_feedback t
                 WHERE t.company_id = %(company)s AND %(mine)s
                """,
                received=received,
                resolved=resolved,
                answered=answered,
                in_p=SQL("%s BETWEEN %s AND %s", answered, date_from, date_to),
                date_from=date_from,
                date_to=date_to,
                company=company.id,
                mine=self._kpi_customer_filter(SQL("t.partner_id"), user),
            )
        )
        tickets, complaints, hours, satisfaction, answers, promoters, detractors = self.env.cr.fetchone()
        return {
            "tickets": tickets,
            "complaints": complaints,
            "avg_resolution_hours": float(hours or 0.0),
            "satisfaction_avg": float(satisfaction or 0.0),
            "nps": kpi.net_promoter_score(promoters, detractors, answers),
        }

    # ---- the dashboard: one RPC for the tiles, charts, scorecards and neglected customers ------------

    @api.model
    def _kpi_labels(self):
        return {
            "active_customers": self.env._("Active customers"),
            "new_customers": self.env._("New customers"),
            "returning_customers": self.env._("Returning customers"),
            "repeat_rate": self.env._("Repeat rate"),
            "retention_rate": self.env._("Retention rate"),
            "lost_customers": self.env._("Lost customers"),
            "won_back_customers": self.env._("Won back"),
            "sales": self.env._("Sales"),
            "purchases": self.env._("Purchases"),
            "average_ticket": self.env._("Average ticket"),
            "member_sales_share": self.env._("Member sales share"),
            "points_issued": self.env._("Points issued"),
            "points_redeemed": self.env._("Points redeemed"),
            "points_expired": self.env._("Points expired"),
            "points_liability": self.env._("Points liability"),
            "followups_due": self.env._("Follow-ups due"),
            "followups_on_time": self.env._("Follow-ups on time"),
            "visits": self.env._("Visits"),
            "tickets": self.env._("Tickets"),
            "complaints": self.env._("Complaints"),
            "avg_resolution_hours": self.env._("Resolution time (hours)"),
            "satisfaction_avg": self.env._("Satisfaction (1-5)"),
            "nps": self.env._("NPS"),
        }

    @api.model
    def _kpi_dashboard_scope(self, user=None):
        """Staff see their own scorecard only; managers the whole shop or one staff member."""
        if not self.env.su and not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            return self.env.user
        if not user:
            return self.env["res.users"]
        return user if isinstance(user, models.BaseModel) else self.env["res.users"].browse(int(user))

    @api.model
    def dashboard_data(self, period="this_month", date_from=None, date_to=None, user=None):
        """Everything the dashboard shows, in one call: ``period`` is this_month, last_month,
        this_quarter or custom (then ``date_from``/``date_to``)."""
        company = self.env.company
        user = self._kpi_dashboard_scope(user)
        if period == "custom":
            date_from, date_to = self._kpi_period(date_from, date_to)
        else:
            try:
                date_from, date_to = kpi.preset(period, company._shop_crm_today())
            except ValueError as error:
                raise UserError(self.env._("Unknown period: %s", period)) from error
        prev_from, prev_to = kpi.previous_period(date_from, date_to)
        current = self.compute(date_from, date_to, user=user)
        previous = self.compute(prev_from, prev_to, user=user)
        labels = self._kpi_labels()
        neglected = self.neglected_customers(user=user)
        tiles = []
        for key in kpi.KEYS:
            direction, percent = kpi.change(current[key], previous[key])
            tiles.append(
                {
                    "key": key,
                    "label": labels[key],
                    "value": current[key],
                    "previous": previous[key],
                    "direction": direction,
                    "percent": percent,
                    "good": direction == "same" or ((direction == "down") == (key in kpi.LOWER_IS_BETTER)),
                }
            )
        return {
            "date_from": fields.Date.to_string(date_from),
            "date_to": fields.Date.to_string(date_to),
            "previous_from": fields.Date.to_string(prev_from),
            "previous_to": fields.Date.to_string(prev_to),
            "user": user and {"id": user.id, "name": user.name},
            "is_manager": self.env.user.has_group("shop_crm.group_shop_crm_manager"),
            "company_id": company.id,
            "currency": {
                "symbol": company.currency_id.symbol,
                "position": company.currency_id.position,
                "digits": company.currency_id.decimal_places,
            },
            "tiles": tiles,
            "charts": {
                "monthly": self._chart_monthly(company, user, date_to),
                "cohorts": self._chart_cohorts(company, user, date_to),
                "rfm": self._chart_rfm(company, user),
                "movement": self._chart_movement(company, user, date_from, date_to),
                "hours": self._chart_hours(company, user, date_from, date_to),
                "segment_categories": self._chart_segment_categories(company, user, date_from, date_to),
                "festivals": self._chart_festivals(company, user),
            },
            "top_movers": self._top_movers(company, user, date_from, date_to),
            "scorecards": self._scorecards(company, user, date_from, date_to, neglected),
            "neglected": neglected,
        }

    @api.model
    def _chart_monthly(self, company, user, date_to):
        """Active, new and returning customers per month over the 12 months ending with ``date_to``'s."""
        last = kpi.month_start(date_to)
        first = kpi.add_months(last, -11)
        self.env.cr.execute(
            SQL(
                """
                WITH pur AS (
                    SELECT x.partner_id, x.day FROM (%(purchases)s) x WHERE %(mine)s
                ), first_day AS (
                    SELECT partner_id, MIN(day) AS day FROM pur GROUP BY partner_id
                ), monthly AS (
                    SELECT DISTINCT partner_id, date_trunc('month', day)::date AS month
                      FROM pur WHERE day >= %(first)s
                )
                SELECT m.month, COUNT(*),
                       COUNT(*) FILTER (WHERE date_trunc('month', f.day)::date = m.month)
                  FROM monthly m JOIN first_day f ON f.partner_id = m.partner_id
                 GROUP BY m.month
                """,
                purchases=company._shop_crm_purchases(until=kpi.month_end(date_to), positive=True),
                mine=self._kpi_customer_filter(SQL("x.partner_id"), user),
                first=first,
            )
        )
        rows = {month: (active, new) for month, active, new in self.env.cr.fetchall()}
        months = [kpi.add_months(first, index) for index in range(12)]
        return {
            "labels": [month.strftime("%Y-%m") for month in months],
            "months": [fields.Date.to_string(month) for month in months],
            "active": [rows.get(month, (0, 0))[0] for month in months],
            "new": [rows.get(month, (0, 0))[1] for month in months],
            "returning": [rows.get(month, (0, 0))[0] - rows.get(month, (0, 0))[1] for month in months],
        }

    @api.model
    def _chart_cohorts(self, company, user, date_to):
        """Retention cohorts: for each month of first purchase of the 12 months ending with ``date_to``'s,
        the customers of the cohort and the share of them buying in each month since (0 = that month)."""
        first = kpi.add_months(kpi.month_start(date_to), -11)
        self.env.cr.execute(
            SQL(
                """
                WITH pur AS (
                    SELECT x.partner_id, date_trunc('month', x.day)::date AS month
                      FROM (%(purchases)s) x WHERE %(mine)s
                ), cohort AS (
                    SELECT partner_id, MIN(month) AS month FROM pur GROUP BY partner_id
                ), bought AS (
                    SELECT DISTINCT partner_id, month FROM pur WHERE month >= %(first)s
                )
                SELECT c.month,
                       ((EXTRACT(YEAR FROM b.month) - EXTRACT(YEAR FROM c.month)) * 12
                        + EXTRACT(MONTH FROM b.month) - EXTRACT(MONTH FROM c.month))::int,
                       COUNT(*)
                  FROM cohort c JOIN bought b ON b.partner_id = c.partner_id
                 WHERE c.month >= %(first)s
                 GROUP BY 1, 2
                """,
                purchases=company._shop_crm_purchases(until=kpi.month_end(date_to), positive=True),
                mine=self._kpi_customer_filter(SQL("x.partner_id"), user),
                first=first,
            )
        )
        counts = {(month, since): count for month, since, count in self.env.cr.fetchall()}
        cohorts = []
        for index in range(12):
            month = kpi.add_months(first, index)
            size = counts.get((month, 0), 0)
            cohorts.append(
                {
                    "month": month.strftime("%Y-%m"),
                    "size": size,
                    "shares": [kpi.share(counts.get((month, since), 0), size) for since in range(12 - index)],
                }
            )
        return cohorts

    @api.model
    def _chart_rfm(self, company, user):
        """The RFM matrix of the last analytics run: customers and sales per R score x F score."""
        self.env.cr.execute(
            SQL(
                """
                SELECT v.rfm_r_score, v.rfm_f_score, COUNT(*), COALESCE(SUM(v.rfm_monetary), 0)
                  FROM shop_crm_customer_value v
                 WHERE v.company_id = %s AND v.rfm_r_score > 0 AND v.rfm_f_score > 0 AND %s
                 GROUP BY 1, 2
                """,
                company.id,
                self._kpi_customer_filter(SQL("v.partner_id"), user),
            )
        )
        return [
            {"r": r, "f": f, "customers": count, "sales": self._kpi_money(company, sales)}
            for r, f, count, sales in self.env.cr.fetchall()
        ]

    @api.model
    def _chart_movement(self, company, user, date_from, date_to):
        """Lifecycle stage moves in the period (from -> to, customers), from the change history."""
        self.env.cr.execute(
            SQL(
                """
                SELECT c.old_value, c.new_value, COUNT(DISTINCT c.partner_id)
                  FROM shop_crm_segment_change c
                 WHERE c.company_id = %s AND c.what = 'lifecycle_stage' AND c.date BETWEEN %s AND %s AND %s
                 GROUP BY 1, 2
                """,
                company.id,
                date_from,
                date_to,
                self._kpi_customer_filter(SQL("c.partner_id"), user),
            )
        )
        stages = dict(self.env["res.partner"]._fields["lifecycle_stage"]._description_selection(self.env))
        return {
            "stages": [{"value": value, "label": label} for value, label in stages.items()],
            "cells": [
                {"from": old or "", "to": new or "", "customers": count}
                for old, new, count in self.env.cr.fetchall()
            ],
        }

    @api.model
    def _chart_hours(self, company, user, date_from, date_to):
        """Purchases in the period by weekday (1 = Monday) and hour, in the shop's timezone."""
        self.env.cr.execute(
            SQL(
                """
                SELECT EXTRACT(ISODOW FROM x.local)::int, EXTRACT(HOUR FROM x.local)::int, COUNT(*)
                  FROM (SELECT timezone(%s, timezone('UTC', y.date_order)) AS local
                          FROM (%s) y WHERE %s) x
                 GROUP BY 1, 2
                """,
                company._shop_crm_timezone(),
                company._shop_crm_purchases(until=date_to, since=date_from, positive=True),
                self._kpi_customer_filter(SQL("y.partner_id"), user),
            )
        )
        return [{"weekday": day, "hour": hour, "purchases": n} for day, hour, n in self.env.cr.fetchall()]

    @api.model
    def _chart_segment_categories(self, company, user, date_from, date_to, limit=TOP_CATEGORIES):
        """Top product categories per RFM segment: for each segment of the last analytics run, the ``limit``
        product categories its customers spent most on in the period (order lines of the purchases, net of
        refund lines, in the company currency), with the quantity and the customers who bought them."""
        self.env.cr.execute(
            SQL(
                """
                WITH totals AS (
                    SELECT v.rfm_segment AS segment, t.categ_id, SUM(x.amount) AS amount, SUM(x.qty) AS qty,
                           COUNT(DISTINCT x.partner_id) FILTER (WHERE x.qty > 0) AS customers
                      FROM (%(lines)s) x
                      JOIN shop_crm_customer_value v
                        ON v.partner_id = x.partner_id AND v.company_id = %(company)s
                      JOIN product_product pp ON pp.id = x.product_id
                      JOIN product_template t ON t.id = pp.product_tmpl_id
                     WHERE v.rfm_segment IS NOT NULL AND %(mine)s
                     GROUP BY 1, 2
                ), ranked AS (
                    SELECT totals.*,
                           ROW_NUMBER() OVER (PARTITION BY segment ORDER BY amount DESC, categ_id) AS rank
                      FROM totals WHERE amount > 0
                )
                SELECT r.segment, r.categ_id, c.complete_name, r.amount, r.qty, r.customers
                  FROM ranked r JOIN product_category c ON c.id = r.categ_id
                 WHERE r.rank <= %(limit)s
                 ORDER BY r.segment, r.rank
                """,
                lines=company._shop_crm_purchase_lines(until=date_to, since=date_from),
                company=company.id,
                mine=self._kpi_customer_filter(SQL("x.partner_id"), user),
                limit=limit,
            )
        )
        rows = {}
        for segment, categ_id, name, amount, qty, customers in self.env.cr.fetchall():
            rows.setdefault(segment, []).append(
                {
                    "category_id": categ_id,
                    "name": name,
                    "sales": self._kpi_money(company, amount),
                    "qty": float(qty or 0),
                    "customers": customers,
                }
            )
        segments = self.env["res.partner"]._fields["rfm_segment"]._description_selection(self.env)
        return [
            {"segment": value, "label": label, "categories": rows[value]}
            for value, label in segments
            if value in rows
        ]

    @api.model
    def _upcoming_festivals(self, company, days=FESTIVAL_DAYS):
        """``[(festival, next date, first day, last day of last year's buying window)]`` for the festivals of
        the company's calendar falling in the next ``days`` days (today included), soonest first."""
        today = company._shop_crm_today()
        festivals = (
            self.env["shop.crm.festival"]
            .sudo()
            .with_context(shop_crm_as_of=today)
            .search([("company_id", "in", [company.id, False])])
        )
        upcoming = []
        for festival in festivals:  # the calendar's festivals: dates from the calendar library, no query
            day = festival.next_date
            if day and day <= today + timedelta(days=days):
                upcoming.append((festival, day, *festival._buying_window(day.year - 1)))
        return sorted(upcoming, key=lambda item: (item[1], item[0].sequence, item[0].id))

    @api.model
    def _chart_festivals(self, company, user, days=FESTIVAL_DAYS, limit=TOP_FESTIVAL_PRODUCTS):
        """Festival demand: for each festival in the next ``days`` days, last year's buyers (a purchase in
        its buying window, ``shop.crm.festival._buying_window``), how many of them are still active (a
        purchase in the last "lost after" days), and the ``limit`` products they bought most in the window
        (net quantities of the order lines; the imported history has no lines)."""
        upcoming = self._upcoming_festivals(company, days)
        if not upcoming:
            return []
        today = company._shop_crm_today()
        windows = SQL(
            "SELECT * FROM unnest(%s::int[], %s::date[], %s::date[]) AS w(festival_id, first_day, last_day)",
            [festival.id for festival, *_rest in upcoming],
            [first for *_rest, first, _last in upcoming],
            [last for *_rest, last in upcoming],
        )
        since = min(first for *_rest, first, _last in upcoming)
        until = max(last for *_rest, last in upcoming)
        mine = self._kpi_customer_filter(SQL("x.partner_id"), user)
        self.env.cr.execute(
            SQL(
                """
                WITH w AS (%(windows)s), buyers AS (
                    SELECT DISTINCT w.festival_id, x.partner_id
                      FROM w JOIN (%(purchases)s) x ON x.day BETWEEN w.first_day AND w.last_day
                     WHERE %(mine)s
                ), recent AS (
                    SELECT DISTINCT r.partner_id FROM (%(recent)s) r
                     WHERE r.partner_id IN (SELECT partner_id FROM buyers)
                )
                SELECT b.festival_id, COUNT(*), COUNT(recent.partner_id)
                  FROM buyers b LEFT JOIN recent ON recent.partner_id = b.partner_id
                 GROUP BY 1
                """,
                windows=windows,
                purchases=company._shop_crm_purchases(positive=True, since=since, until=until),
                recent=company._shop_crm_purchases(
                    positive=True, since=today - timedelta(days=company.shop_crm_lost_days), until=today
                ),
                mine=mine,
            )
        )
        buyers = {festival_id: (count, active) for festival_id, count, active in self.env.cr.fetchall()}
        self.env.cr.execute(
            SQL(
                """
                WITH w AS (%(windows)s), totals AS (
                    SELECT w.festival_id, x.product_id, SUM(x.qty) AS qty,
                           COUNT(DISTINCT x.partner_id) FILTER (WHERE x.qty > 0) AS customers
                      FROM w JOIN (%(lines)s) x ON x.day BETWEEN w.first_day AND w.last_day
                     WHERE %(mine)s
                     GROUP BY 1, 2
                ), ranked AS (
                    SELECT totals.*,
                           ROW_NUMBER() OVER (PARTITION BY festival_id ORDER BY qty DESC, product_id) AS rank
                      FROM totals WHERE qty > 0
                )
                SELECT festival_id, product_id, qty, customers FROM ranked WHERE rank <= %(limit)s
                 ORDER BY festival_id, rank
                """,
                windows=windows,
                lines=company._shop_crm_purchase_lines(since=since, until=until),
                mine=mine,
                limit=limit,
            )
        )
        products = {}
        for festival_id, product_id, qty, customers in self.env.cr.fetchall():
            products.setdefault(festival_id, []).append((product_id, float(qty), customers))
        names = {
            product.id: product.display_name
            for product in self.env["product.product"]
            .sudo()
            .with_context(active_test=False)
            .browse({row[0] for rows in products.values() for row in rows})
        }
        return [
            {
                "festival_id": festival.id,
                "name": festival.name,
                "date": fields.Date.to_string(day),
                "window_from": fields.Date.to_string(first),
                "window_to": fields.Date.to_string(last),
                "buyers": buyers.get(festival.id, (0, 0))[0],
                "still_active": buyers.get(festival.id, (0, 0))[1],
                "products": [
                    {"product_id": product_id, "name": names[product_id], "qty": qty, "customers": customers}
                    for product_id, qty, customers in products.get(festival.id, [])
                ],
            }
            for festival, day, first, last in upcoming
        ]

    @api.model
    def _top_movers(self, company, user, date_from, date_to, limit=TOP_MOVERS):
        """What moved most from P' to P: the ``limit`` customers whose net purchases rose most and the
        ``limit`` whose net purchases fell most (``customers_up``/``customers_down``: id, name, previous,
        current, change), and the RFM segments that gained or lost the most customers in P (``segments``:
        segment, label, entered, left, net; from the change history, largest net move first)."""
        prev_from, _prev_to = kpi.previous_period(date_from, date_to)
        self.env.cr.execute(
            SQL(
                """
                WITH spend AS (
                    SELECT x.partner_id,
                           COALESCE(SUM(x.amount) FILTER (WHERE x.day >= %(date_from)s), 0) AS cur,
                           COALESCE(SUM(x.amount) FILTER (WHERE x.day < %(date_from)s), 0) AS prev
                      FROM (%(purchases)s) x WHERE %(mine)s
                     GROUP BY x.partner_id
                ), up AS (
                    SELECT 'up' AS way, * FROM spend WHERE cur > prev
                     ORDER BY cur - prev DESC, partner_id LIMIT %(limit)s
                ), down AS (
                    SELECT 'down' AS way, * FROM spend WHERE cur < prev
                     ORDER BY cur - prev, partner_id LIMIT %(limit)s
                )
                SELECT m.way, m.partner_id, p.name, m.prev, m.cur
                  FROM (SELECT * FROM up UNION ALL SELECT * FROM down) m
                  JOIN res_partner p ON p.id = m.partner_id
                 ORDER BY m.way DESC, ABS(m.cur - m.prev) DESC, m.partner_id
                """,
                purchases=company._shop_crm_purchases(until=date_to, since=prev_from),
                mine=self._kpi_customer_filter(SQL("x.partner_id"), user),
                date_from=date_from,
                limit=limit,
            )
        )
        movers = {"up": [], "down": []}
        for way, partner_id, name, previous_amount, current_amount in self.env.cr.fetchall():
            previous = self._kpi_money(company, previous_amount)
            current = self._kpi_money(company, current_amount)
            movers[way].append(
                {
                    "id": partner_id,
                    "name": name,
                    "previous": previous,
                    "current": current,
                    "change": self._kpi_money(company, current - previous),
                }
            )
        self.env.cr.execute(
            SQL(
                """
                SELECT s.segment, SUM(s.entered), SUM(s.left_)
                  FROM (SELECT c.new_value AS segment, 1 AS entered, 0 AS left_
                          FROM shop_crm_segment_change c
                         WHERE c.company_id = %(company)s AND c.what = 'rfm_segment'
                           AND c.date BETWEEN %(date_from)s AND %(date_to)s AND %(mine)s
                         UNION ALL
                        SELECT c.old_value, 0, 1
                          FROM shop_crm_segment_change c
                         WHERE c.company_id = %(company)s AND c.what = 'rfm_segment'
                           AND c.date BETWEEN %(date_from)s AND %(date_to)s AND %(mine)s) s
                 WHERE s.segment IS NOT NULL
                 GROUP BY 1
                 ORDER BY ABS(SUM(s.entered) - SUM(s.left_)) DESC, SUM(s.entered) + SUM(s.left_) DESC, 1
                 LIMIT %(limit)s
                """,
                company=company.id,
                date_from=date_from,
                date_to=date_to,
                mine=self._kpi_customer_filter(SQL("c.partner_id"), user),
                limit=limit,
            )
        )
        labels = dict(self.env["res.partner"]._fields["rfm_segment"]._description_selection(self.env))
        segments = [
            {
                "segment": segment,
                "label": labels.get(segment, segment),
                "entered": entered,
                "left": left,
                "net": entered - left,
            }
            for segment, entered, left in self.env.cr.fetchall()
        ]
        return {"customers_up": movers["up"], "customers_down": movers["down"], "segments": segments}

    @api.model
    def _scorecards(self, company, user, date_from, date_to, neglected=None):
        """Per staff member: assigned customers, active, follow-ups on time, visits, won back, complaints,
        satisfaction and neglected customers (one row per staff member with customers); ``neglected``: the
        result of ``neglected_customers(user=user)`` when the caller has it already."""
        if user:
            staff = user
        else:
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT p.user_id FROM res_partner p JOIN res_users u ON u.id = p.user_id "
                    "WHERE p.active AND u.active AND NOT u.share"
                )
            )
            staff = self.env["res.users"].browse([row[0] for row in self.env.cr.fetchall()])
        self.env.cr.execute(
            SQL(
                "SELECT user_id, COUNT(*) FROM res_partner WHERE active AND user_id IN %s GROUP BY user_id",
                tuple(staff.ids) or (0,),
            )
        )
        assigned = dict(self.env.cr.fetchall())
        neglected = (neglected or self.neglected_customers(user=user))["by_staff"]
        cards = []
        for member in staff.sorted("name"):
            figures = self.compute(date_from, date_to, company=company, user=member)
            cards.append(
                {
                    "user_id": member.id,
                    "name": member.name,
                    "assigned": assigned.get(member.id, 0),
                    "active": figures["active_customers"],
                    "followups_on_time": figures["followups_on_time"],
                    "visits": figures["visits"],
                    "won_back": figures["won_back_customers"],
                    "complaints": figures["complaints"],
                    "satisfaction": figures["satisfaction_avg"],
                    "neglected": neglected.get(member.id, 0),
                }
            )
        return cards

    @api.model
    def neglected_customers(self, user=None, company=None, limit=100):
        """A/B-class customers of a staff member (``user``'s only when given) with no visit and no purchase
        for more than the company's "neglected after" days: ``{count, by_staff: {user id: count},
        customers: [{id, name, user_id, user, last_day}]}`` (the first ``limit``, longest neglected
        first)."""
        company, user = self._kpi_scope(company, user)
        self.env.flush_all()
        today = company._shop_crm_today()
        cutoff = today - timedelta(days=company.shop_crm_neglected_days)
        self.env.cr.execute(
            SQL(
                """
                WITH last_purchase AS (
                    SELECT x.partner_id, MAX(x.day) AS day FROM (%(purchases)s) x GROUP BY x.partner_id
                ), last_visit AS (
                    SELECT v.partner_id, MAX(%(visit_day)s) AS day FROM shop_crm_visit v
                     WHERE v.company_id = %(company)s GROUP BY v.partner_id
                )
                SELECT p.id, p.name, p.user_id, GREATEST(lp.day, lv.day) AS last_day
                  FROM res_partner p
                  JOIN shop_crm_customer_value cv ON cv.partner_id = p.id AND cv.company_id = %(company)s
                  LEFT JOIN last_purchase lp ON lp.partner_id = p.id
                  LEFT JOIN last_visit lv ON lv.partner_id = p.id
                 WHERE p.active AND p.user_id IS NOT NULL AND cv.rfm_class IN ('A', 'B') AND %(mine)s
                   AND COALESCE(GREATEST(lp.day, lv.day), '1900-01-01') < %(cutoff)s
                 ORDER BY last_day NULLS FIRST, p.id
                """,
                purchases=company._shop_crm_purchases(until=today, positive=True),
                visit_day=company._shop_crm_local_day(SQL("v.date")),
                company=company.id,
                mine=SQL("p.user_id = %s", user.id) if user else SQL("TRUE"),
                cutoff=cutoff,
            )
        )
        rows = self.env.cr.fetchall()
        by_staff = {}
        for _id, _name, user_id, _day in rows:
            by_staff[user_id] = by_staff.get(user_id, 0) + 1
        names = dict(self.env["res.users"].browse(list(by_staff)).sudo().mapped(lambda u: (u.id, u.name)))
        return {
            "count": len(rows),
            "days": company.shop_crm_neglected_days,
            "by_staff": by_staff,
            "customers": [
                {
                    "id": partner_id,
                    "name": name,
                    "user_id": user_id,
                    "user": names.get(user_id, ""),
                    "last_day": fields.Date.to_string(day) if day else False,
                }
                for partner_id, name, user_id, day in rows[:limit]
            ],
        }

    # ---- the monthly report by email ------------------------------------------------------------------

    @api.model
    def _monthly_report_recipients(self, company):
        """The users who get the monthly report of ``company``: active internal Shop CRM managers of that
        company with an email address."""
        managers = self.env.ref("shop_crm.group_shop_crm_manager").sudo().users
        return managers.filtered(
            lambda manager: manager.active
            and not manager.share
            and manager.email
            and company in manager.company_ids
        )

    @api.model
    def _cron_send_monthly_report(self):
        """A nightly step: on the 1st of the month in each shop's timezone, email last month's customer
        report (PDF) to the managers of every company whose setting is on, once per month (a second run
        on the same day sends nothing). Returns the mails queued (mail.mail, sent by the mail queue)."""
        template = self.env.ref("shop_crm.mail_template_monthly_report").sudo()
        mails = self.env["mail.mail"].sudo()
        companies = self.env["res.company"].sudo().search([("shop_crm_monthly_report_email", "=", True)])
        for company in companies:  # the companies: a handful, one report each
            today = company._shop_crm_today()
            sent = company.shop_crm_monthly_report_sent
            if today.day != 1 or (sent and sent >= today):
                continue
            company.shop_crm_monthly_report_sent = today
            recipients = self._monthly_report_recipients(company)
            if not recipients:
                continue
            mails |= mails.browse(
                template.with_company(company).send_mail(
                    company.id, email_values={"recipient_ids": [Command.set(recipients.partner_id.ids)]}
                )
            )
        return mails

    # ---- tiles and charts open the matching records ---------------------------------------------------

    @api.model
    def _kpi_customer_ids(self, key, company, user, date_from, date_to):
        """The customers behind a customer KPI of the period (active, new, returning, repeat, retained)."""
        prev_from, _prev_to = kpi.previous_period(date_from, date_to)
        condition = {
            "new_customers": SQL("a.partner_id NOT IN (SELECT partner_id FROM earlier)"),
            "returning_customers": SQL("a.partner_id IN (SELECT partner_id FROM earlier)"),
            "repeat_rate": SQL("a.days >= 2"),
            "retention_rate": SQL("a.partner_id IN (SELECT partner_id FROM prev)"),
        }.get(key, SQL("TRUE"))
        self.env.cr.execute(
            SQL(
                """
                WITH pur AS (
                    SELECT x.partner_id, x.day FROM (%(purchases)s) x WHERE %(mine)s
                ), a AS (
                    SELECT partner_id, COUNT(DISTINCT day) AS days FROM pur
                     WHERE day >= %(date_from)s GROUP BY partner_id
                ), prev AS (
                    SELECT DISTINCT partner_id FROM pur WHERE day < %(date_from)s
                ), earlier AS (
                    SELECT b.partner_id FROM a b, LATERAL (
                        SELECT 1 FROM (%(earlier)s) e WHERE e.partner_id = b.partner_id LIMIT 1
                    ) bought
                )
                SELECT a.partner_id FROM a WHERE %(condition)s
                """,
                purchases=company._shop_crm_purchases(until=date_to, since=prev_from, positive=True),
                earlier=company._shop_crm_purchases(until=date_from - timedelta(days=1), positive=True),
                mine=self._kpi_customer_filter(SQL("x.partner_id"), user),
                date_from=date_from,
                condition=condition,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _chart_customer_ids(
        self, key, company, user, date_from, date_to, segment=None, category_id=None, festival_id=None
    ):
        """The customers behind a cell of a chart: ``segment_category`` (the customers of RFM ``segment``
        who bought a product of category ``category_id`` in the period) or ``festival_buyers`` (last year's
        buyers for ``festival_id``, one of the upcoming festivals)."""
        mine = self._kpi_customer_filter(SQL("x.partner_id"), user)
        if key == "segment_category":
            query = SQL(
                """SELECT DISTINCT x.partner_id FROM (%s) x
                     JOIN shop_crm_customer_value v ON v.partner_id = x.partner_id AND v.company_id = %s
                     JOIN product_product pp ON pp.id = x.product_id
                     JOIN product_template t ON t.id = pp.product_tmpl_id
                    WHERE v.rfm_segment = %s AND t.categ_id = %s AND x.qty > 0 AND %s""",
                company._shop_crm_purchase_lines(until=date_to, since=date_from),
                company.id,
                segment,
                int(category_id or 0),
                mine,
            )
        else:
            windows = [
                item for item in self._upcoming_festivals(company) if item[0].id == int(festival_id or 0)
            ]
            if not windows:
                raise UserError(self.env._("This festival is not in the next %s days.", FESTIVAL_DAYS))
            _festival, _day, first, last = windows[0]
            query = SQL(
                "SELECT DISTINCT x.partner_id FROM (%s) x WHERE %s",
                company._shop_crm_purchases(positive=True, since=first, until=last),
                mine,
            )
        self.env.cr.execute(query)
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def kpi_action(
        self, key, date_from, date_to, user=None, segment=None, category_id=None, festival_id=None
    ):
        """The window action listing the records behind the KPI ``key`` (a tile of the dashboard),
        "neglected" (the neglected customers), or a chart's cell: "segment_category" (with ``segment`` and
        ``category_id``) or "festival_buyers" (with ``festival_id``)."""
        date_from, date_to = self._kpi_period(date_from, date_to)
        company, user = self._kpi_scope(None, self._kpi_dashboard_scope(user))
        self.env.flush_all()
        labels = self._kpi_labels()
        if key in ("segment_category", "festival_buyers"):
            ids = self._chart_customer_ids(
                key, company, user, date_from, date_to, segment, category_id, festival_id
            )
            name = (
                self.env._("Customers of the segment who bought the category")
                if key == "segment_category"
                else self.env._("Last year's festival buyers")
            )
            return self._kpi_window(name, "res.partner", [("id", "in", ids)])
        start = company._shop_crm_day_start(date_from)
        end = company._shop_crm_day_start(date_to + timedelta(days=1))
        mine = [("partner_id.user_id", "=", user.id)] if user else []
        if key == "neglected":
            data = self.neglected_customers(user=user, limit=None)
            return self._kpi_window(
                self.env._("Neglected customers"),
                "res.partner",
                [("id", "in", [row["id"] for row in data["customers"]])],
            )
        if key in ("lost_customers", "won_back_customers"):
            domain = [("what", "=", "lifecycle_stage"), ("date", ">=", date_from), ("date", "<=", date_to)]
            domain += (
                [("new_value", "=", "lost")]
                if key == "lost_customers"
                else [
                    ("old_value", "=", "lost"),
                    ("new_value", "in", ["returning", "new"]),
                ]
            )
            return self._kpi_window(labels[key], "shop.crm.segment.change", domain + mine)
        if key.startswith("points_"):
            program = company._shop_crm_member_program()
            domain = [("card_id.program_id", "=", program.id), ("shop_crm_date", "<=", date_to)]
            kinds = {
                "points_issued": [*kpi.ISSUED_KINDS, "adjust"],
                "points_redeemed": ["redeem"],
                "points_expired": ["expire"],
            }
            if key in kinds:
                domain += [("shop_crm_kind", "in", kinds[key]), ("shop_crm_date", ">=", date_from)]
            mine = [("card_id.partner_id.user_id", "=", user.id)] if user else []
            return self._kpi_window(labels[key], "loyalty.history", domain + mine)
        if key in ("followups_due", "followups_on_time"):
            domain = [
                ("res_model", "=", "res.partner"),
                ("activity_type_id", "in", self._kpi_followup_types()),
                ("date_deadline", ">=", date_from),
                ("date_deadline", "<=", date_to),
            ]
            # the customers' staff member, as the KPI counts them (not the activity's assignee)
            customers = [("company_id", "in", [company.id, False])] + (
                [("user_id", "=", user.id)] if user else []
            )
            partners = self.env["res.partner"].with_context(active_test=False).search(customers)
            domain.append(("res_id", "in", partners.ids))
            return self._kpi_window(labels[key], "mail.activity", domain, {"active_test": False})
        if key == "visits":
            domain = [("company_id", "=", company.id), ("date", ">=", start), ("date", "<", end)]
            return self._kpi_window(labels[key], "shop.crm.visit", domain + mine)
        if key in ("tickets", "complaints", "avg_resolution_hours", "satisfaction_avg", "nps"):
            date_field = {"avg_resolution_hours": "resolved_date", "satisfaction_avg": "answered_date"}.get(
                key, "answered_date" if key == "nps" else "received_date"
            )
            domain = [("company_id", "=", company.id), (date_field, ">=", start), (date_field, "<", end)]
            if key == "complaints":
                domain.append(("feedback_type", "=", "complaint"))
            return self._kpi_window(labels[key], "shop.crm.feedback", domain + mine)
        if key not in kpi.KEYS:
            raise UserError(self.env._("Unknown figure: %s", key))
        ids = self._kpi_customer_ids(key, company, user, date_from, date_to)
        return self._kpi_window(labels[key], "res.partner", [("id", "in", ids)])

    @api.model
    def _kpi_window(self, name, model, domain, context=None):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "views": [(False, "list"), (False, "form")],
            "domain": domain,
            "context": context or {},
            "target": "current",
        }
