"""Birthday, important-date and festival care (关怀): every day, N days ahead, give the staff member an
activity, send a greeting to customers who consented to email, and optionally gift member points or a
loyalty coupon — once per customer, occasion and year (``shop.crm.care.log`` is unique on those)."""

from datetime import timedelta

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .res_company import LEGACY_PURCHASES
from .shop_crm_festival import FESTIVAL_BUYING_DAYS

TRIGGERS = [("birthday", "Birthday"), ("occasion", "Important Date"), ("festival", "Festival")]
AUDIENCES = [("members", "All Members"), ("festival_buyers", "Who Bought for It Last Year")]


class ShopCrmCareRule(models.Model):
    _name = "shop.crm.care.rule"
    _description = "Care Rule"
    _order = "company_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    trigger = fields.Selection(TRIGGERS, required=True, default="birthday")
    festival_id = fields.Many2one("shop.crm.festival")
    audience = fields.Selection(AUDIENCES, default="members", help="For festivals: who is cared for.")
    tier_id = fields.Many2one("shop.crm.tier", "Only Tier", domain="[('company_id', '=', company_id)]")
    days_before = fields.Integer(
        default=3,
        help="How many days before the birthday or festival. Important dates are remembered each with its "
        "own days of notice (set on the date).",
    )
    create_activity = fields.Boolean("Activity for the Staff Member", default=True)
    mail_template_id = fields.Many2one(
        "mail.template",
        "Email Greeting",
        domain=[("model", "=", "res.partner")],
        help="Sent only to customers who consented to email marketing.",
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        "SMS Greeting",
        domain=[("model", "=", "res.partner")],
        help="Sent only to customers who consented to SMS marketing and have a mobile number.",
    )
    sms_gateway_template = fields.Char(
        "SMS Provider Template",
        help="With an Aliyun or Tencent Cloud SMS gateway: the provider's approved template (code or id) of "
        "this greeting. Its parameters, in this order: name, occasion.",
    )
    gift_points = fields.Float(help="Member points given once per customer, occasion and year.")
    coupon_program_id = fields.Many2one(
        "loyalty.program",
        "Gift Coupon",
        domain="[('program_type', 'in', ('coupons', 'gift_card')), "
        "('company_id', 'in', [company_id, False])]",
        help="A coupon of this program is generated for the customer, once per occasion and year.",
    )
    log_ids = fields.One2many("shop.crm.care.log", "rule_id", "Care Given")

    @api.constrains(
        "trigger",
        "festival_id",
        "days_before",
        "create_activity",
        "mail_template_id",
        "sms_template_id",
        "gift_points",
        "coupon_program_id",
    )
    def _check_rule(self):
        for rule in self:
            if rule.trigger == "festival" and not rule.festival_id:
                raise ValidationError(self.env._("Care rule %(name)s: choose the festival.", name=rule.name))
            if rule.days_before < 0 or rule.gift_points < 0:
                raise ValidationError(
                    self.env._(
                        "Care rule %(name)s: the days before and the gift points cannot be negative.",
                        name=rule.name,
                    )
                )
            if not (
                rule.create_activity
                or rule.mail_template_id
                or rule.sms_template_id
                or rule.gift_points
                or rule.coupon_program_id
            ):
                raise ValidationError(
                    self.env._(
                        "Care rule %(name)s: choose what to do "
                        "(an activity, an email, an SMS, gift points or a coupon).",
                        name=rule.name,
                    )
                )

    # ---- who is due ---------------------------------------------------------------------------------

    def _base_partners(self):
        """Customers this rule may care for: shop customers who did not ask not to be contacted."""
        domain = [
            ("is_shop_customer", "=", True),
            ("do_not_contact", "=", False),
            "|",
            ("company_id", "=", False),
            ("company_id", "=", self.company_id.id),
        ]
        if self.tier_id:
            domain.append(("tier_id", "=", self.tier_id.id))
        return self.env["res.partner"].sudo()._search(domain)

    def _due(self, as_of):
        """[(partner id, key, occasion date, label)] of the care due on ``as_of``: birthdays and festivals
        falling ``days_before`` days later, important dates falling their own ``remind_days`` later."""
        self.env.flush_all()  # the queries below read the tables
        partners = self._base_partners()
        cr = self.env.cr
        if self.trigger == "occasion":
            return self._due_occasions(partners, as_of)
        target = as_of + timedelta(days=self.days_before)
        if self.trigger == "birthday":
            days = [(target.month, target.day)]
            if target.month == 2 and target.day == 28 and not _is_leap(target.year):
                days.append((2, 29))  # Feb 29 birthdays are celebrated on Feb 28 in common years
            cr.execute(
                SQL(
                    """SELECT p.id FROM res_partner p
                        WHERE p.id IN %s AND p.birthday IS NOT NULL
                          AND (EXTRACT(MONTH FROM p.birthday)::int, EXTRACT(DAY FROM p.birthday)::int)
                              IN %s""",
                    partners.subselect(),
                    tuple(days),
                )
            )
            label = self.env._("Birthday")
            return [(partner_id, "birthday", target, label) for (partner_id,) in cr.fetchall()]
        festival_day = self.festival_id._date_in(target.year)
        if festival_day != target:
            return []
        label = self.festival_id.name
        key = f"festival:{self.festival_id.id}"
        if self.audience == "festival_buyers":
            ids = self._buyers(partners, *self.festival_id._buying_window(target.year - 1))
        else:
            cr.execute(
                SQL(
                    "SELECT p.id FROM res_partner p WHERE p.id IN %s AND p.member_code IS NOT NULL",
                    partners.subselect(),
                )
            )
            ids = [partner_id for (partner_id,) in cr.fetchall()]
        return [(partner_id, key, target, label) for partner_id in ids]

    def _due_occasions(self, partners, as_of):
        """Important dates falling their days of notice (``remind_days``) after ``as_of``: each distinct
        (date definition, notice) is checked once with the lunar calendar library, then the occasions with
        a matching one are fetched."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT DISTINCT o.calendar_type, o.recurrence, o.date, o.lunar_year, o.lunar_month,
                          o.lunar_day,
                          COALESCE(o.lunar_leap, FALSE), COALESCE(o.remind_days, 0)
                     FROM shop_crm_occasion o WHERE o.partner_id IN %s""",
                partners.subselect(),
            )
        )
        Occasion = self.env["shop.crm.occasion"]
        matching = []
        for calendar_type, recurrence, day, lunar_year, month, lunar_day, leap, notice in cr.fetchall():
            target = as_of + timedelta(days=notice)
            probe = Occasion.new(
                {
                    "calendar_type": calendar_type,
                    "recurrence": recurrence,
                    "date": day,
                    "lunar_year": lunar_year,
                    "lunar_month": month,
                    "lunar_day": lunar_day,
                    "lunar_leap": leap,
                }
            )
            try:
                falls = probe._next_occurrence(target) == target
            except ValueError:
                falls = False
            if falls:
                matching.append(
                    (
                        calendar_type,
                        recurrence,
                        day,
                        lunar_year or 0,
                        month or 0,
                        lunar_day or 0,
                        leap,
                        notice,
                    )
                )
        if not matching:
            return []
        cr.execute(
            SQL(
                """SELECT o.partner_id, o.id, o.name, COALESCE(o.remind_days, 0) FROM shop_crm_occasion o
                    WHERE o.partner_id IN %s
                      AND (o.calendar_type, o.recurrence, COALESCE(o.date, '0001-01-01'::date),
                           COALESCE(o.lunar_year, 0), COALESCE(o.lunar_month, 0), COALESCE(o.lunar_day, 0),
                           COALESCE(o.lunar_leap, FALSE), COALESCE(o.remind_days, 0)) IN %s""",
                partners.subselect(),
                tuple((c, r, d or "0001-01-01", y, m, dd, lp, n) for c, r, d, y, m, dd, lp, n in matching),
            )
        )
        return [
            (partner_id, f"occasion:{occasion_id}", as_of + timedelta(days=notice), name)
            for partner_id, occasion_id, name, notice in cr.fetchall()
        ]

    def _buyers(self, partners, first_day, last_day):
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT partner_id FROM (%(purchases)s) o
                   WHERE o.partner_id IN %(partners)s""",
                purchases=self.company_id.sudo()._shop_crm_purchases(
                    positive=True, since=first_day, until=last_day
                ),
                partners=partners.subselect(),
            )
        )
        return [partner_id for (partner_id,) in self.env.cr.fetchall()]

    def _previous_date(self, log):
        """When the occasion of ``log`` fell the year before."""
        if log.key.startswith("festival:"):
            return self.festival_id._date_in(log.date.year - 1)
        if log.key.startswith("occasion:"):
            occasion = self.env["shop.crm.occasion"].sudo().browse(int(log.key.split(":")[1]))
            if occasion.exists() and occasion.recurrence == "yearly":
                return occasion._next_occurrence(log.date - timedelta(days=400))
            return None
        day = min(log.date.day, 28) if log.date.month == 2 else log.date.day
        return log.date.replace(year=log.date.year - 1, day=day)

    def _last_year_purchases(self, logs):
        """{log id: "11.0 × Red roses, 1.0 × Card"}: what each customer bought at the Point of Sale, in
        sales orders or in the imported purchase history (its items text) in the days before the same
        occasion last year (gifting shops remind them of it)."""
        windows = [(log, self._previous_date(log)) for log in logs]
        windows = [(log, last) for log, last in windows if last]
        if not windows:
            return {}
        lang = self.company_id.partner_id.lang or "en_US"
        company = self.company_id.sudo()
        purchases = company._shop_crm_purchase_sources()
        self.env.cr.execute(
            SQL(
                """SELECT w.log_id, string_agg(b.label, ', ' ORDER BY b.day, b.source, b.line_id)
                     FROM unnest(%(logs)s::int[], %(partners)s::int[], %(lasts)s::date[])
                          AS w(log_id, partner_id, last)
                     JOIN (
                         SELECT o.partner_id, %(day)s AS day, 0 AS source, l.id AS line_id,
                                l.qty::float8::text || ' × ' || COALESCE(t.name->>%(lang)s, t.name->>'en_US')
                                    AS label
                           FROM pos_order o JOIN pos_order_line l ON l.order_id = o.id
                           JOIN product_product pp ON pp.id = l.product_id
                           JOIN product_template t ON t.id = pp.product_tmpl_id
                          WHERE %(pos_paid)s AND l.qty > 0
                          UNION ALL
                         SELECT o.partner_id, %(day)s, 1, l.id,
                                l.product_uom_qty::float8::text || ' × '
                                || COALESCE(t.name->>%(lang)s, t.name->>'en_US')
                           FROM sale_order o JOIN sale_order_line l ON l.order_id = o.id
                           JOIN product_product pp ON pp.id = l.product_id
                           JOIN product_template t ON t.id = pp.product_tmpl_id
                          WHERE %(sale_confirmed)s AND l.product_uom_qty > 0 AND l.display_type IS NULL
                          UNION ALL
                         -- imported purchase history: what was bought is the file's text
                         SELECT o.partner_id, %(legacy_day)s, 2, o.id, o.items
                           FROM shop_crm_legacy_purchase o
                          WHERE %(legacy)s AND o.amount > 0 AND o.items IS NOT NULL
                     ) b ON b.partner_id = w.partner_id AND b.day BETWEEN w.last - %(days)s AND w.last
                    GROUP BY w.log_id""",
                lang=lang,
                logs=[log.id for log, _last in windows],
                partners=[log.partner_id.id for log, _last in windows],
                lasts=[last for _log, last in windows],
                day=company._shop_crm_order_day(),
                legacy_day=company._shop_crm_purchase_day(LEGACY_PURCHASES),
                pos_paid=purchases["pos_order"],
                sale_confirmed=purchases["sale_order"],
                legacy=purchases[LEGACY_PURCHASES],
                days=FESTIVAL_BUYING_DAYS,
            )
        )
        return dict(self.env.cr.fetchall())

    # ---- giving care --------------------------------------------------------------------------------

    @api.model
    def _cron_care(self, as_of=None):
        """Give the care due for every active rule; returns the number of (customer, occasion) cared for.
        A second run on the same day gives nothing twice."""
        rules = self.sudo().search([("active", "=", True)])
        total = 0
        for done, rule in enumerate(rules):
            total += len(rule._give_care(as_of or rule.company_id._shop_crm_today()))
            self.env["ir.cron"]._notify_progress(done=done + 1, remaining=len(rules) - done - 1)
        return total

    def _give_care(self, as_of):
        self.ensure_one()
        due = self._due(as_of)
        if not due:
            return self.env["shop.crm.care.log"]
        # Claim each (rule, customer, occasion, year) once: the unique constraint makes replays no-ops.
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """INSERT INTO shop_crm_care_log (rule_id, partner_id, key, year, date, label,
                                                create_uid, create_date, write_uid, write_date)
                   SELECT %(rule)s, v.partner_id, v.key, EXTRACT(YEAR FROM v.day)::int, v.day, v.label,
                          %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                     FROM unnest(%(partners)s::int[], %(keys)s::varchar[], %(days)s::date[],
                                 %(labels)s::varchar[])
                          AS v(partner_id, key, day, label)
                   ON CONFLICT (rule_id, partner_id, key, year) DO NOTHING
                   RETURNING id""",
                rule=self.id,
                uid=self.env.uid,
                partners=[row[0] for row in due],
                keys=[row[1] for row in due],
                days=[row[2] for row in due],
                labels=[row[3] for row in due],
            )
        )
        logs = self.env["shop.crm.care.log"].sudo().browse([log_id for (log_id,) in self.env.cr.fetchall()])
        if not logs:
            return logs
        partners = logs.partner_id
        bought = self._last_year_purchases(logs)
        if self.create_activity:
            self._care_activities(logs, bought)
        if self.mail_template_id:
            consented = self.env["shop.crm.consent"].sudo()._consented_partners(partners, "email")
            to_mail = logs.filtered(lambda log: log.partner_id in consented and log.partner_id.email)
            if to_mail:
                self.mail_template_id.sudo().send_mail_batch(to_mail.partner_id.ids)
                to_mail.write({"mailed": True})
        if self.sms_template_id:
            consented = self.env["shop.crm.consent"].sudo()._consented_partners(partners, "sms")
            to_text = logs.filtered(
                lambda log: log.partner_id in consented and (log.partner_id.mobile or log.partner_id.phone)
            )
            if to_text:
                sms = to_text.partner_id.sudo()._message_sms_schedule_mass(
                    template=self.sms_template_id.sudo()
                )
                to_text.write({"texted": True})
                self._route_sms(to_text, sms)
        if self.gift_points:
            self._care_points(logs)
        if self.coupon_program_id:
            coupons = (
                self.env["loyalty.card"]
                .sudo()
                .create(
                    [
                        {
                            "program_id": self.coupon_program_id.id,
                            "partner_id": log.partner_id.id,
                            "points": 1,
                        }
                        for log in logs
                    ]
                )
            )
            for log, coupon in zip(logs, coupons, strict=True):
                log.coupon_id = coupon
        return logs

    def _route_sms(self, logs, sms):
        """Mark the greetings for the shop's SMS gateway (template parameters: name, occasion) and link
        each care given to its SMS (the provider's answer is recorded on it)."""
        sms = sms.filtered(lambda text: text.state == "outgoing")
        log_by_partner = {}
        for log in logs:
            log_by_partner.setdefault(log.partner_id.id, log)
        params = {
            text.id: {
                "name": text.partner_id.name or "",
                "occasion": log_by_partner[text.partner_id.id].label or "",
            }
            for text in sms
            if text.partner_id.id in log_by_partner
        }
        self.env["sms.sms"]._shop_crm_mark(sms, self.company_id, self.sms_gateway_template, params)
        linked = sms.filtered(lambda text: text.partner_id.id in log_by_partner)
        logs_linked = self.env["shop.crm.care.log"].browse(
            [log_by_partner[text.partner_id.id].id for text in linked]
        )
        logs_linked._shop_crm_link_sms(linked)

    def _care_activities(self, logs, bought):
        activity_type = self.env.ref("shop_crm.mail_activity_type_care")
        vals_list = []
        for log in logs.filtered(lambda log: log.partner_id.user_id):
            summary = self.env._("%(occasion)s on %(date)s", occasion=log.label, date=log.date)
            note = ""
            if log.id in bought:
                note = self.env._("Last year for this occasion: %(items)s", items=bought[log.id])
            vals_list.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": log.partner_id.id,
                    "activity_type_id": activity_type.id,
                    "user_id": log.partner_id.user_id.id,
                    "summary": summary,
                    "note": escape(note) if note else False,
                    "date_deadline": min(log.date, self.company_id._shop_crm_today() + timedelta(days=1)),
                }
            )
        activities = self.env["mail.activity"].sudo()._shop_crm_create_batch(vals_list)
        by_partner = {activity.res_id: activity for activity in activities}
        for log in logs:
            if log.partner_id.id in by_partner:
                log.activity_id = by_partner[log.partner_id.id]

    def _care_points(self, logs):
        ledger = self.env["shop.crm.points"].sudo()
        partners = logs.partner_id
        partners._shop_crm_enroll(self.company_id)
        cards = ledger._member_cards(partners, self.company_id)
        ledger._post(
            [
                {
                    "card_id": cards[log.partner_id.id].id,
                    "kind": "gift",
                    "issued": self.gift_points,
                    "order_model": log._name,
                    "order_id": log.id,
                    "description": self.env._(
                        "Gift: %(occasion)s %(year)s", occasion=log.label, year=log.year
                    ),
                }
                for log in logs
            ]
        )
        logs.write({"points": self.gift_points})


def _is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


class ShopCrmCareLog(models.Model):
    _name = "shop.crm.care.log"
    _description = "Care Given"
    _inherit = ["shop.crm.sms.answer.mixin"]
    _order = "date desc, id desc"

    rule_id = fields.Many2one(
        "shop.crm.care.rule", "Care Rule", required=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, ondelete="cascade")
    key = fields.Char(
        required=True, help="Technical: which occasion (birthday, occasion:<id>, festival:<id>)."
    )
    year = fields.Integer(required=True)
    date = fields.Date("Occasion Date", required=True)
    label = fields.Char("Occasion")
    activity_id = fields.Many2one("mail.activity", ondelete="set null")
    mailed = fields.Boolean("Email Sent")
    texted = fields.Boolean("SMS Sent")
    points = fields.Float("Gift Points")
    coupon_id = fields.Many2one("loyalty.card", ondelete="set null")

    _sql_constraints = [
        (
            "once_per_occasion_year",
            "UNIQUE(rule_id, partner_id, key, year)",
            "Care is given once per customer, occasion and year.",
        ),
    ]
