"""Builds the demo flower shop through Odoo's own models: tooling, not part of the addon.

The plan (customers, products, orders) comes from ``lib/demo_plan.py``; this builder turns it into real
records: staff users, customers, a POS shop whose monthly sessions hold really paid orders (created with
``pos.order.sync_from_ui``, the same entry point the POS uses) and closed like a cashier would, and
confirmed sales orders for business customers. It loads a chart of accounts and sets the company currency
to CNY, so it is NOT a model of ``shop_crm``: nothing registers it in a database. ``make demo`` runs it in
``scripts/odoo shell`` (``scripts/demo_generate.py``)::

    from odoo.addons.shop_crm.scripts.demo_shop import DemoShop
    DemoShop(env).generate(anchor=date.today())
"""

import logging
import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytz

from odoo import Command
from odoo.addons.shop_crm.lib import demo_plan
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

SHOP_TZ = "Asia/Shanghai"
STAFF = (
    # login suffix, name, is manager
    ("manager", "周店长 Zhou (manager)", True),
    ("staff1", "李晓花 Li Xiaohua", False),
    ("staff2", "王芳 Wang Fang", False),
    ("staff3", "陈静 Chen Jing", False),
)
PAYMENT_METHOD_NAMES = {
    "cash": "现金 Cash",
    "wechat": "微信支付 WeChat Pay",
    "alipay": "支付宝 Alipay",
}
ORDER_BATCH = 200


class DemoShop:
    """The demo shop builder, on an Odoo environment (an administrator's: ``env`` of ``odoo shell``)."""

    def __init__(self, env):
        self.env = env

    def generate(
        self,
        seed=2024,
        anchor=None,
        customers=300,
        days=730,
        company=None,
        login_prefix="shop.",
        password=None,
    ):
        """Create the demo shop in ``company`` (default: the current one) and return a summary dict.

        Deterministic: the same seed, anchor and sizes give the same customers and orders.
        """
        if not self.env.is_superuser():
            raise UserError(self.env._("Only an administrator can generate the demo shop."))
        anchor = anchor or date.today()
        company = company or self.env.company
        env = self.env(
            context=dict(
                self.env.context,
                tracking_disable=True,
                mail_create_nolog=True,
                mail_notrack=True,
                tz=SHOP_TZ,
                allowed_company_ids=[company.id],
            )
        )
        demo = DemoShop(env)
        plan = demo_plan.build_plan(
            seed=seed, anchor=anchor, customers=customers, days=days, staff_count=len(STAFF) - 1
        )
        company = company.with_env(env)
        demo._setup_company(company)
        staff = demo._create_staff(company, login_prefix, password)
        products = demo._create_products(company)
        partners = demo._create_customers(company, plan, staff[1:])
        members = demo._create_members(company, plan, partners)
        config = demo._create_pos_shop(company)
        pos_orders = demo._create_pos_orders(config, plan, partners, products, staff[0])
        sale_orders = demo._create_sale_orders(company, plan, partners, products)
        # the nightly jobs, as of the anchor day: points expiry and tier evaluation
        demo.env["shop.crm.points"]._expire_points(company, anchor)
        demo.env["shop.crm.tier"]._evaluate(company, as_of=anchor)
        visits = demo._create_visits(company, plan, partners, anchor)
        tickets = demo._create_feedback(company, plan, partners, anchor)
        improvements = demo._create_improvements(company, tickets, staff, anchor)
        answers = demo._create_survey_answers(company, plan, pos_orders)
        demo._create_care_rules(company)
        campaign = demo._create_campaign(company, anchor)
        demo._create_member_days(company)
        return {
            "campaign": campaign.name,
            "feedback": len(tickets),
            "improvements": len(improvements),
            "survey_answers": len(answers),
            "visits": len(visits),
            "members": len(members),
            "company": company.name,
            "customers": len(partners),
            "pos_orders": len(pos_orders),
            "sale_orders": len(sale_orders),
            "staff_logins": staff.mapped("login"),
            "first_day": plan.start,
            "last_day": plan.anchor,
        }

    # ---- setup ------------------------------------------------------------------------------------------

    def _setup_company(self, company):
        if not company.chart_template:
            self.env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        cny = self.env.ref("base.CNY")
        cny.active = True
        vals = {"country_id": self.env.ref("base.cn").id, "point_of_sale_update_stock_quantities": "closing"}
        if company.currency_id != cny:
            if self.env["account.move.line"].search_count([("company_id", "=", company.id)], limit=1):
                raise UserError(
                    self.env._(
                        "The demo shop needs a company without accounting entries, "
                        "so that its currency can be set to CNY."
                    )
                )
            vals["currency_id"] = cny.id
        company.write(vals)

    def _create_staff(self, company, login_prefix, password):
        Users = self.env["res.users"].with_context(no_reset_password=True)
        user_group = self.env.ref("shop_crm.group_shop_crm_user")
        manager_group = self.env.ref("shop_crm.group_shop_crm_manager")
        staff = Users.browse()
        for suffix, name, is_manager in STAFF:
            login = f"{login_prefix}{suffix}"
            user = Users.search([("login", "=", login)], limit=1)
            if not user:
                groups = [
                    manager_group if is_manager else user_group,
                    self.env.ref(
                        "point_of_sale.group_pos_manager" if is_manager else "point_of_sale.group_pos_user"
                    ),
                    self.env.ref(
                        "sales_team.group_sale_manager" if is_manager else "sales_team.group_sale_salesman"
                    ),
                ]
                user = Users.create(
                    {
                        "name": name,
                        "login": login,
                        "email": f"{login}@huayu-flowers.example",
                        "password": password or login,
                        "company_id": company.id,
                        "company_ids": [Command.set(company.ids)],
                        "tz": SHOP_TZ,
                        "lang": self._demo_lang(),
                        "groups_id": [Command.set([group.id for group in groups])],
                    }
                )
            staff |= user
        return staff

    def _create_products(self, company):
        PosCategory = self.env["pos.category"]
        categories = {}
        for code, name in demo_plan.CATEGORIES.items():
            categories[code] = PosCategory.search([("name", "=", name)], limit=1) or PosCategory.create(
                {"name": name}
            )
        existing = self.env["product.product"].search(
            [
                ("default_code", "in", [code for code, *_rest in demo_plan.PRODUCTS]),
                ("company_id", "=", company.id),
            ]
        )
        by_code = {product.default_code: product for product in existing}
        missing = [p for p in demo_plan.PRODUCTS if p[0] not in by_code]
        created = self.env["product.product"].create(
            [
                {
                    "name": name,
                    "default_code": code,
                    "list_price": price,
                    "standard_price": round(price * 0.4, 2),
                    "type": "consu",
                    "available_in_pos": True,
                    "sale_ok": True,
                    "pos_categ_ids": [Command.set(categories[category].ids)],
                    "taxes_id": [Command.clear()],
                    "company_id": company.id,
                }
                for code, name, category, price, _qty in missing
            ]
        )
        by_code.update({product.default_code: product for product in created})
        return by_code

    def _create_customers(self, company, plan, staff):
        Category = self.env["res.partner.category"]
        tags = {}
        for name in demo_plan.TAGS:
            tags[name] = Category.search([("name", "=", name)], limit=1) or Category.create({"name": name})
        partners = self.env["res.partner"].create(
            [self._demo_partner_vals(company, customer, staff, tags) for customer in plan.customers]
        )
        return dict(zip([customer.key for customer in plan.customers], partners, strict=True))

    def _demo_partner_vals(self, company, customer, staff, tags):
        """Values of the partner for one planned customer (extended by later features)."""
        return {
            "name": customer.name,
            "is_company": customer.is_company,
            "phone": customer.phone,
            "mobile": None if customer.is_company else customer.phone,
            "city": "杭州",
            "country_id": self.env.ref("base.cn").id,
            "company_id": company.id,
            "birthday": customer.birthday,
            "user_id": staff[customer.staff_index].id,
            "category_id": [Command.set([tags[tag].id for tag in customer.tags])],
            "lang": self._demo_lang(),
            "tz": SHOP_TZ,
        }

    def _create_members(self, company, plan, partners):
        """Tiers, settings and member data (profile, referrals, consent, important dates) of the demo
        shop, before its orders: the orders then earn points and move customers up the tiers."""
        company.write(
            {
                "shop_crm_tz": SHOP_TZ,
                "shop_crm_points_expiry_months": 12,
                "shop_crm_expiry_notice_days": 30,
                "shop_crm_tier_grace_days": 30,
                "shop_crm_referral_points": 200,
            }
        )
        company._shop_crm_member_program()
        gold_prices = self.env["product.pricelist"].create(
            {
                "name": "金卡会员价",
                "company_id": company.id,
                "currency_id": company.currency_id.id,
                "item_ids": [Command.create({"compute_price": "percentage", "percent_price": 5})],
            }
        )
        self.env["shop.crm.tier"].create(
            [
                {
                    "name": "普通会员",
                    "sequence": 10,
                    "min_spend": 0,
                    "color": 0,
                    "company_id": company.id,
                    "benefits": "积分 1 元 1 分",
                },
                {
                    "name": "银卡",
                    "sequence": 20,
                    "min_spend": 1000,
                    "points_multiplier": 1.2,
                    "color": 8,
                    "company_id": company.id,
                    "benefits": "积分 1.2 倍；生日赠花一支",
                },
                {
                    "name": "金卡",
                    "sequence": 30,
                    "min_spend": 3000,
                    "points_multiplier": 1.5,
                    "color": 3,
                    "pricelist_id": gold_prices.id,
                    "company_id": company.id,
                    "benefits": "积分 1.5 倍；会员价 95 折；免费配送",
                },
                {
                    "name": "钻石",
                    "sequence": 40,
                    "min_spend": 8000,
                    "use_points": True,
                    "min_points": 10000,
                    "points_multiplier": 2,
                    "color": 4,
                    "company_id": company.id,
                    "benefits": "积分 2 倍；专属花艺师；节日优先预订",
                },
            ]
        )
        extras = demo_plan.member_extras(plan)
        people = {key: partner for key, partner in partners.items() if not partner.is_company}
        by_values = {}
        for customer in plan.customers:
            if customer.key not in people:
                continue
            values = (
                customer.gender,
                demo_plan.SOURCE_CHANNEL.get(customer.source, customer.source),
                extras.channels[customer.key],
                extras.referrals.get(customer.key) and partners[extras.referrals[customer.key]].id,
            )
            by_values.setdefault(values, []).append(people[customer.key].id)
        Partner = self.env["res.partner"]
        for (gender, source, channel, referrer), ids in by_values.items():
            Partner.browse(ids).write(
                {
                    "gender": gender,
                    "source_channel": "referral" if referrer else source,
                    "preferred_channel": channel,
                    "referred_by_id": referrer or False,
                }
            )
        members = Partner.browse([partner.id for partner in partners.values()])
        members._shop_crm_enroll(company)
        consents = self.env["shop.crm.consent"].create(
            [
                {"partner_id": people[key].id, "channel": channel, "note": "门店登记"}
                for key, channel, _withdrawn in extras.consents
            ]
        )
        withdrawn = {(people[key].id, channel) for key, channel, gone in extras.consents if gone}
        consents.filtered(
            lambda consent: (consent.partner_id.id, consent.channel) in withdrawn
        ).action_withdraw()
        self.env["shop.crm.occasion"].create(
            [
                {
                    "partner_id": people[occasion.customer_key].id,
                    "name": occasion.name,
                    "calendar_type": occasion.calendar,
                    "date": date(2000, occasion.month, occasion.day)
                    if occasion.calendar == "solar"
                    else False,
                    "lunar_month": occasion.month if occasion.calendar == "lunar" else 0,
                    "lunar_day": occasion.day if occasion.calendar == "lunar" else 0,
                    "remind_days": occasion.remind_days,
                }
                for occasion in extras.occasions
            ]
        )
        return members

    def _create_visits(self, company, plan, partners, anchor):
        """Past contacts (回访) of the demo shop, by each customer's staff member, with follow-ups planned
        for the coming days."""
        visits = demo_plan.planned_visits(plan)
        records = self.env["shop.crm.visit"].create(
            [
                {
                    "partner_id": partners[visit.customer_key].id,
                    "user_id": partners[visit.customer_key].user_id.id,
                    "company_id": company.id,
                    "date": self._to_utc(visit.when),
                    "channel": visit.channel,
                    "purpose": visit.purpose,
                    "outcome": visit.outcome,
                    "notes": visit.notes,
                    "next_date": anchor + timedelta(days=visit.next_in_days)
                    if visit.next_in_days is not None
                    else False,
                }
                for visit in visits
            ]
        )
        gold = self.env["shop.crm.tier"].search(
            [("company_id", "=", company.id), ("name", "=", "金卡")], limit=1
        )
        self.env["shop.crm.followup.rule"].create(
            [
                {
                    "name": "金卡会员每月关怀",
                    "tier_id": gold.id,
                    "interval_days": 30,
                    "purpose": "care",
                    "company_id": company.id,
                    "sequence": 10,
                },
                {
                    "name": "A类客户每月回访",
                    "rfm_class": "A",
                    "interval_days": 30,
                    "purpose": "routine",
                    "company_id": company.id,
                    "sequence": 20,
                },
                {
                    "name": "新客首购7天回访",
                    "lifecycle_stage": "new",
                    "timing": "after_first_purchase",
                    "interval_days": 7,
                    "purpose": "after_sales",
                    "company_id": company.id,
                    "sequence": 30,
                },
                {
                    "name": "流失客户挽回电话",
                    "lifecycle_stage": "lost",
                    "timing": "once",
                    "interval_days": 0,
                    "purpose": "win_back",
                    "company_id": company.id,
                    "sequence": 40,
                },
            ]
        )
        return records

    def _create_feedback(self, company, plan, partners, anchor):
        """Feedback and complaint tickets in every stage, some answered by the customers, one
        compensated with member points."""
        Feedback = self.env["shop.crm.feedback"]
        tickets = Feedback
        for planned in demo_plan.planned_feedback(plan):
            partner = partners[planned.customer_key]
            received = self._to_utc(datetime.combine(anchor - timedelta(days=planned.days_ago), time(11)))
            ticket = Feedback.create(
                {
                    "partner_id": partner.id,
                    "feedback_type": planned.feedback_type,
                    "channel": "wechat",
                    "description": planned.description,
                    "priority": planned.priority,
                    "user_id": partner.user_id.id,
                    "company_id": company.id,
                    "received_date": received,
                    "category_id": planned.category and self.env.ref(f"shop_crm.{planned.category}").id,
                    "root_cause": planned.root_cause or False,
                }
            )
            if planned.stage in ("in_progress", "resolved", "closed"):
                ticket.action_start()
            if planned.stage in ("resolved", "closed"):
                ticket.write({"resolution": planned.resolution, "stage": "resolved"})
                ticket.resolved_date = received + timedelta(hours=6 + int(planned.priority) * 10)
            if planned.compensation:
                ticket.action_compensate(planned.compensation, planned.resolution)
            if planned.satisfaction:
                ticket._public_answer(planned.satisfaction, planned.nps, "")
            if planned.stage == "closed":
                ticket.action_close()
            if planned.stage == "cancelled":
                ticket.action_cancel()
            tickets |= ticket
        return tickets

    def _create_survey_answers(self, company, plan, pos_orders):
        """Answers to the satisfaction questionnaire from receipts' links across the months, answered
        the day after each order; the unhappy ones open complaints, as a customer's answer does."""
        Answer = self.env["survey.user_input"]
        survey = company.shop_crm_survey_id
        if not survey:
            return Answer
        orders = pos_orders.filtered("partner_id").sorted(lambda order: (order.date_order, order.id))
        questions = {question.shop_crm_measure: question for question in survey.question_ids}
        scored = survey.question_ids.filtered(lambda question: question.shop_crm_measure == "score")
        answers = Answer
        for planned in demo_plan.planned_survey_answers(len(orders), plan.seed):
            order = orders[planned.order_index]
            answer = Answer._shop_crm_link_answer(order)
            for question, score in zip(scored, planned.scores, strict=True):
                answer._save_lines(question, str(score))
            answer._save_lines(questions["nps"], str(planned.nps))
            if planned.comment:
                answer._save_lines(questions["comment"], planned.comment)
            answer._mark_done()
            answered = order.date_order + timedelta(days=1)
            answer.write(
                {"end_datetime": answered, "shop_crm_answer_day": company._shop_crm_day_of(answered)}
            )
            if answer.shop_crm_complaint_id:
                answer.shop_crm_complaint_id.received_date = answered
            answers |= answer
        return answers

    def _create_improvements(self, company, tickets, staff, anchor):
        """Two improvement actions answering the demo's complaints: the freshness one done and verified,
        the delivery one planned and past its deadline (its owner gets the overdue activity at night)."""
        Improvement = self.env["shop.crm.improvement"]
        complaints = tickets.filtered(lambda t: t.feedback_type == "complaint")
        freshness = self.env.ref("shop_crm.feedback_category_freshness")
        delivery = self.env.ref("shop_crm.feedback_category_delivery")
        cold_room = Improvement.create(
            {
                "name": "冷库每天早晚两次测温并记录",
                "category_id": freshness.id,
                "user_id": staff[0].id,
                "deadline": anchor - timedelta(days=20),
                "company_id": company.id,
                "feedback_ids": [Command.set(complaints.filtered(lambda t: t.category_id == freshness).ids)],
            }
        )
        cold_room.action_done()
        cold_room.write({"verification_note": "连续两周测温记录均在 2-5 °C，未再收到花材不新鲜的投诉"})
        cold_room.action_verify()
        riders = Improvement.create(
            {
                "name": "节日高峰前与第二家配送公司签约",
                "category_id": delivery.id,
                "user_id": staff[-1].id,
                "deadline": anchor - timedelta(days=3),
                "company_id": company.id,
                "feedback_ids": [Command.set(complaints.filtered(lambda t: t.category_id == delivery).ids)],
            }
        )
        return cold_room | riders

    def _create_care_rules(self, company):
        """Birthday, important date and festival care of the demo shop (run by the nightly job)."""
        greeting = self.env.ref("shop_crm.mail_template_care_greeting")
        self.env["shop.crm.care.rule"].create(
            [
                {
                    "name": "生日关怀",
                    "trigger": "birthday",
                    "days_before": 3,
                    "mail_template_id": greeting.id,
                    "gift_points": 50,
                    "company_id": company.id,
                },
                {"name": "重要日子提醒", "trigger": "occasion", "days_before": 7, "company_id": company.id},
                {
                    "name": "七夕老客提醒",
                    "trigger": "festival",
                    "festival_id": self.env.ref("shop_crm.festival_qixi").id,
                    "audience": "festival_buyers",
                    "days_before": 10,
                    "company_id": company.id,
                },
                {
                    "name": "母亲节老客提醒",
                    "trigger": "festival",
                    "festival_id": self.env.ref("shop_crm.festival_mothers_day").id,
                    "audience": "festival_buyers",
                    "days_before": 10,
                    "company_id": company.id,
                },
                {
                    "name": "春节会员问候",
                    "trigger": "festival",
                    "festival_id": self.env.ref("shop_crm.festival_spring_festival").id,
                    "audience": "members",
                    "days_before": 5,
                    "mail_template_id": greeting.id,
                    "company_id": company.id,
                },
            ]
        )

    def _create_campaign(self, company, anchor):
        """A finished campaign: a return coupon for the members, started 40 days before the anchor day
        with a 30-day results window and a 10 % control group, so its results come from the demo's real
        orders. Coupon only (no message is queued in the demo database)."""
        segment = self.env["shop.crm.segment"].create(
            {"name": "全部会员", "domain": repr([("member_code", "!=", False)]), "company_id": company.id}
        )
        program = self.env["loyalty.program"].create(
            {
                "name": "会员回归券 9折",
                "program_type": "coupons",
                "trigger": "with_code",
                "applies_on": "current",
                "company_id": company.id,
                "pos_ok": True,
                "sale_ok": True,
                "rule_ids": [Command.clear()],
                "reward_ids": [
                    Command.clear(),
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount_mode": "percent",
                            "discount": 10,
                            "discount_applicability": "order",
                            "required_points": 1,
                        }
                    ),
                ],
            }
        )
        campaign = self.env["shop.crm.campaign"].create(
            {
                "name": "会员回归活动",
                "company_id": company.id,
                "segment_id": segment.id,
                "seed": 20240601,
                "offer": "coupon",
                "coupon_program_id": program.id,
                "channel": "none",
            }
        )
        campaign.action_schedule()
        # as if started 40 days ago: the results window (30 days) is over, its purchases are the demo's
        start_day = anchor - timedelta(days=40)
        campaign.write(
            {
                "state": "done",
                "start_day": start_day,
                "started_at": company._shop_crm_day_start(start_day) + timedelta(hours=10),
            }
        )
        campaign.recipient_ids.coupon_id.write({"expiration_date": start_day + timedelta(days=30)})
        return campaign

    def _create_member_days(self, company):
        """每周三会员日: 金卡 95折 (Odoo promotion on the 金卡 member prices) and double points for 银卡 and
        above."""
        tiers = self.env["shop.crm.tier"].search([("company_id", "=", company.id)])
        gold = tiers.filtered(lambda tier: tier.name == "金卡")
        self.env["shop.crm.member.day"].create(
            [
                {
                    "name": "每周三会员日: 金卡 95折",
                    "company_id": company.id,
                    "tier_ids": [Command.set(gold.ids)],
                    "recurrence": "weekly",
                    "weekday": "2",
                    "discount_percent": 5,
                },
                {
                    "name": "每周三会员日: 银卡及以上双倍积分",
                    "company_id": company.id,
                    "tier_ids": [Command.set(tiers.filtered(lambda tier: tier.sequence >= 20).ids)],
                    "recurrence": "weekly",
                    "weekday": "2",
                    "points_multiplier": 2,
                },
            ]
        )

    def _create_pos_shop(self, company):
        config = self.env["pos.config"].create(
            {"name": "花语花店 收银台 Front counter", "company_id": company.id}
        )
        cash = config.payment_method_ids.filtered("is_cash_count")[:1]
        cash.name = PAYMENT_METHOD_NAMES["cash"]
        bank_journal = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
        )
        methods = self.env["pos.payment.method"].create(
            [
                {"name": PAYMENT_METHOD_NAMES[code], "journal_id": bank_journal.id, "company_id": company.id}
                for code in ("wechat", "alipay")
            ]
        )
        config.payment_method_ids = [Command.set((cash | methods).ids)]
        return config

    # ---- orders -------------------------------------------------------------------------------------------

    def _demo_lang(self):
        """Chinese when it is installed (``DEMO_LANG=zh_CN make demo``), else the current language."""
        return "zh_CN" if self.env["res.lang"]._lang_get("zh_CN") else self.env.lang

    @staticmethod
    def _to_utc(local_dt):
        return pytz.timezone(SHOP_TZ).localize(local_dt).astimezone(pytz.UTC).replace(tzinfo=None)

    def _create_pos_orders(self, config, plan, partners, products, cashier):
        """One session a quarter (few sessions keep ``make demo`` fast), opened by the shop manager,
        filled through ``sync_from_ui`` and closed with the counted cash like at the counter."""
        config = config.with_user(cashier)
        methods = {
            code: config.payment_method_ids.filtered(lambda m, name=name: m.name == name)
            for code, name in PAYMENT_METHOD_NAMES.items()
        }
        by_quarter = defaultdict(list)
        for order in plan.orders:
            if order.channel == "pos":
                by_quarter[(order.when.year, (order.when.month - 1) // 3)].append(order)
        all_orders = self.env["pos.order"]
        for quarter_orders in (by_quarter[quarter] for quarter in sorted(by_quarter)):
            config.open_ui()
            session = config.current_session_id
            session.set_opening_control(0, None)
            for start in range(0, len(quarter_orders), ORDER_BATCH):
                batch = quarter_orders[start : start + ORDER_BATCH]
                payload = [
                    self._pos_order_payload(session, planned, partners, products, methods, start + index)
                    for index, planned in enumerate(batch)
                ]
                result = self.env["pos.order"].sync_from_ui(payload)
                all_orders |= self.env["pos.order"].browse([values["id"] for values in result["pos.order"]])
            cash_total = sum(
                session.order_ids.payment_ids.filtered(lambda p: p.payment_method_id.is_cash_count).mapped(
                    "amount"
                )
            )
            session.post_closing_cash_details(cash_total)
            session.close_session_from_ui()
            first, last = quarter_orders[0].when, quarter_orders[-1].when
            session.sudo().write(
                {
                    "start_at": self._to_utc(first.replace(hour=8, minute=30, second=0)),
                    "stop_at": self._to_utc(last.replace(hour=21, minute=30, second=0)),
                }
            )
        return all_orders

    def _pos_order_payload(self, session, planned, partners, products, methods, sequence):
        when = self._to_utc(planned.when)
        lines = []
        total = 0.0
        for code, qty in planned.lines:
            product = products[code]
            amount = round(product.list_price * qty, 2)
            total += amount
            lines.append(
                Command.create(
                    {
                        "product_id": product.id,
                        "qty": qty,
                        "price_unit": product.list_price,
                        "price_subtotal": amount,
                        "price_subtotal_incl": amount,
                        "discount": 0.0,
                        "tax_ids": [Command.clear()],
                    }
                )
            )
        total = round(total, 2)
        return {
            "uuid": str(
                uuid.uuid5(
                    uuid.NAMESPACE_OID, f"shop_crm-demo-{session.id}-{planned.customer_key}-{planned.when}"
                )
            ),
            "name": f"Order {session.id:05d}-001-{sequence + 1:04d}",
            "session_id": session.id,
            "partner_id": partners[planned.customer_key].id,
            "user_id": session.user_id.id,
            "date_order": when.strftime("%Y-%m-%d %H:%M:%S"),
            "pricelist_id": session.config_id.pricelist_id.id,
            "fiscal_position_id": False,
            "sequence_number": sequence + 1,
            "amount_tax": 0.0,
            "amount_total": total,
            "amount_paid": total,
            "amount_return": 0.0,
            "to_invoice": False,
            "state": "paid",
            "lines": lines,
            "payment_ids": [
                Command.create(
                    {
                        "amount": total,
                        "payment_method_id": methods[planned.payment].id,
                        "payment_date": when.strftime("%Y-%m-%d %H:%M:%S"),
                    }
                )
            ],
        }

    def _create_sale_orders(self, company, plan, partners, products):
        planned = [order for order in plan.orders if order.channel == "sale"]
        if not planned:
            return self.env["sale.order"]
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": partners[order.customer_key].id,
                    "company_id": company.id,
                    "user_id": partners[order.customer_key].user_id.id,
                    "date_order": self._to_utc(order.when),
                    "order_line": [
                        Command.create(
                            {
                                "product_id": products[code].id,
                                "product_uom_qty": qty,
                                "tax_id": [Command.clear()],
                            }
                        )
                        for code, qty in order.lines
                    ],
                }
                for order in planned
            ]
        )
        orders.action_confirm()
        # Confirmation stamps "now" as the order date; put back when the customer really ordered.
        for order, when in zip(orders, planned, strict=True):
            order.date_order = self._to_utc(when.when)
        return orders

    def summary_lines(self):
        """Counts of what Shop CRM holds and has computed, printed at the end of ``make demo``."""
        partners = self.env["res.partner"]
        customers = [("is_shop_customer", "=", True)]
        paid = self.env["pos.order"].search_count([("state", "in", ("paid", "done", "invoiced"))])
        lines = [
            f"customers_with_birthday {partners.search_count([*customers, ('birthday', '!=', False)])}",
            f"paid_pos_orders {paid}",
            f"confirmed_sale_orders {self.env['sale.order'].search_count([('state', '=', 'sale')])}",
        ]
        for field in ("rfm_class", "lifecycle_stage", "rfm_segment"):
            groups = partners._read_group(customers, [field], ["__count"])
            counts = " ".join(f"{value or 'none'}={count}" for value, count in sorted(groups, key=str))
            lines.append(f"{field} {counts}")
        lines.append(f"churn_warnings {partners.search_count([*customers, ('churn_warning', '=', True)])}")
        lines.append(f"lifetime_value {self.env.company.shop_crm_clv_method or 'none'}")
        members = [("member_code", "!=", False)]
        groups = partners._read_group(members, ["tier_id"], ["__count"])
        lines.append("members " + " ".join(f"{tier.name or 'none'}={count}" for tier, count in groups))
        history = self.env["loyalty.history"]._read_group(
            [("shop_crm_kind", "!=", False)], ["shop_crm_kind"], ["__count", "issued:sum", "used:sum"]
        )
        lines.append(
            "points "
            + " ".join(f"{kind}={count}/+{issued:.0f}/-{used:.0f}" for kind, count, issued, used in history)
        )
        lines.append(f"referrals {partners.search_count([('referred_by_id', '!=', False)])}")
        lines.append(f"visits {self.env['shop.crm.visit'].search_count([])}")
        follow_up = self.env.ref("shop_crm.mail_activity_type_follow_up")
        open_follow_ups = self.env["mail.activity"].search_count([("activity_type_id", "=", follow_up.id)])
        lines.append(f"open_follow_ups {open_follow_ups}")
        groups = self.env["shop.crm.feedback"]._read_group([], ["stage"], ["__count"])
        lines.append("feedback " + " ".join(f"{stage}={count}" for stage, count in sorted(groups)))
        lines.append(f"care_given {self.env['shop.crm.care.log'].search_count([])}")
        lines.append(f"important_dates {self.env['shop.crm.occasion'].search_count([])}")
        lines.append(f"consents {self.env['shop.crm.consent'].search_count([('granted', '=', True)])}")
        for campaign in self.env["shop.crm.campaign"].search([("state", "=", "done")]):
            lines.append(f"campaign {campaign.name}: {campaign.results_summary}")
        return lines
