"""The member points ledger: awards for paid orders (idempotent), refunds, cancellations, referral
rewards, manual adjustments and FIFO expiry.

Every change of a member card's balance goes through :meth:`ShopCrmPoints._post`: one INSERT of
``loyalty.history`` lines that skips lines already posted (the ``shop_crm_award_unique`` constraint:
card, order, kind, round) and adds exactly the inserted amounts to the cards, in the same statement. So
the stored balance always equals the sum of the ledger, and a replayed POS sync or sale confirmation
pays nothing twice.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, float_compare, float_round

from ..lib import membership
from .res_company import POS_PAID_STATES

# Award kinds whose sum is what an order earned (taken back by refunds and cancellations); member days:
# models/shop_crm_member_day.py.
EARNING_KINDS = ("earn", "bonus", "member_day")


class ShopCrmPoints(models.AbstractModel):
    _name = "shop.crm.points"
    _description = "Shop CRM member points ledger"

    # ---- posting ------------------------------------------------------------------------------------

    @api.model
    def _post(self, entries):
        """Post ledger lines; returns {card id: points actually added (negative for uses)}.

        ``entries``: dicts with card_id, kind, description, issued, used and optionally order_model,
        order_id, round, date. Lines that were already posted (same card, order, kind, round) are
        skipped, and so is their amount.
        """
        entries = [entry for entry in entries if entry.get("issued") or entry.get("used")]
        if not entries:
            return {}
        today = self.env.company._shop_crm_today()

        def column(key, default=None):
            return [entry.get(key, default) for entry in entries]

        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH new AS (
                    INSERT INTO loyalty_history
                        (card_id, description, issued, used, order_model, order_id, shop_crm_kind,
                         shop_crm_round, shop_crm_date, create_uid, create_date, write_uid, write_date)
                    SELECT v.card_id, v.description, v.issued, v.used, v.order_model, v.order_id, v.kind,
                           v.round, v.day,
                           %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                      FROM unnest(%(cards)s::int[], %(descriptions)s::text[], %(issued)s::float8[],
                                  %(used)s::float8[], %(models)s::varchar[], %(orders)s::int[],
                                  %(kinds)s::varchar[], %(rounds)s::int[], %(days)s::date[])
                           AS v(card_id, description, issued, used, order_model, order_id, kind, round, day)
                    ON CONFLICT ON CONSTRAINT loyalty_history_shop_crm_award_unique DO NOTHING
                    RETURNING card_id, issued - used AS delta
                ), per_card AS (
                    SELECT card_id, SUM(delta) AS delta FROM new GROUP BY card_id
                )
                UPDATE loyalty_card c
                   SET points = c.points + per_card.delta,
                       write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                  FROM per_card
                 WHERE c.id = per_card.card_id
             RETURNING c.id, per_card.delta
                """,
                uid=self.env.uid,
                cards=column("card_id"),
                descriptions=column("description"),
                issued=[float(value or 0.0) for value in column("issued")],
                used=[float(value or 0.0) for value in column("used")],
                models=column("order_model"),
                orders=column("order_id"),
                kinds=column("kind"),
                rounds=column("round", 0),
                days=[value or today for value in column("date")],
            )
        )
        posted = dict(self.env.cr.fetchall())
        self.env["loyalty.card"].invalidate_model(["points", "history_ids"])
        self.env["loyalty.history"].invalidate_model()
        self.env["res.partner"].invalidate_model(["member_card_id", "points_balance", "points_history_ids"])
        return posted

    # ---- member cards -------------------------------------------------------------------------------

    @api.model
    def _member_cards(self, partners, company, create=True):
        """{partner id: loyalty.card} of ``company``'s member program (cards created when missing)."""
        program = company._shop_crm_member_program()
        Card = self.env["loyalty.card"].sudo()
        cards = Card.search([("program_id", "=", program.id), ("partner_id", "in", partners.ids)], order="id")
        by_partner = {}
        for card in cards:
            by_partner.setdefault(card.partner_id.id, card)
        missing = partners.filtered(lambda partner: partner.id not in by_partner)
        if create and missing:
            new_cards = Card.with_context(action_no_send_mail=True).create(
                [{"program_id": program.id, "partner_id": partner.id, "points": 0} for partner in missing]
            )
            by_partner.update({card.partner_id.id: card for card in new_cards})
        return by_partner

    # ---- earning rules ------------------------------------------------------------------------------

    @api.model
    def _rule_points(self, program, lines):
        """Points that ``lines`` earn under ``program``'s rules.

        ``lines``: (product, quantity, amount with taxes, amount without taxes) tuples in the company
        currency, reward lines excluded. Modes as in Odoo's loyalty rules: per order, per unit, per
        currency unit spent; each rule's minimum quantity and amount apply to the lines it covers.
        """
        total = 0.0
        for rule in program.rule_ids.filtered("active"):
            restricted = (
                rule.product_ids
                or rule.product_category_id
                or rule.product_tag_id
                or (rule.product_domain and rule.product_domain != "[]")
            )
            covered = lines
            if restricted:
                products = self.env["product.product"].union(*(line[0] for line in lines))
                valid = products.filtered_domain(rule._get_valid_product_domain())
                covered = [line for line in lines if line[0] in valid]
            if not covered:
                continue
            quantity = sum(line[1] for line in covered)
            amount_incl = sum(line[2] for line in covered)
            amount_excl = sum(line[3] for line in covered)
            minimum_base = amount_incl if rule.minimum_amount_tax_mode == "incl" else amount_excl
            if quantity < rule.minimum_qty or minimum_base < rule.minimum_amount:
                continue
            if rule.reward_point_mode == "order":
                total += rule.reward_point_amount
            elif rule.reward_point_mode == "unit":
                total += rule.reward_point_amount * quantity
            else:  # money
                total += rule.reward_point_amount * amount_incl
        return float_round(max(total, 0.0), precision_digits=2)

    @api.model
    def _pos_lines(self, order):
        rate = order.currency_rate or 1.0
        return [
            (line.product_id, line.qty, line.price_subtotal_incl / rate, line.price_subtotal / rate)
            for line in order.lines
            if not line.is_reward_line and line.qty > 0
        ]

    @api.model
    def _sale_lines(self, order):
        rate = order.currency_rate or 1.0
        return [
            (line.product_id, line.product_uom_qty, line.price_total / rate, line.price_subtotal / rate)
            for line in order.order_line
            if line.product_id and not line.display_type and not line.is_reward_line
        ]

    # ---- awards -------------------------------------------------------------------------------------

    @api.model
    def _award_orders(self, orders):
        """Award the member points of paid POS orders or confirmed sale orders (idempotent), take points
        back for POS refunds, reward referrers, then re-evaluate the members' tiers."""
        orders = orders.sudo()
        for order in orders:
            if not order.partner_id:
                continue
            if order._name == "pos.order":
                if order.state not in POS_PAID_STATES:
                    continue
            elif order.state != "sale":
                continue
            company = order.company_id
            partner = order.partner_id
            partner._shop_crm_enroll(company)
            card = self._member_cards(partner, company)[partner.id]
            entries = []
            if order._name == "pos.order" and order.amount_total < 0:
                entries += self._refund_entries(order, card)
            else:
                entries += self._earn_entries(order, card, company)
                entries += self._referral_entries(order, partner, company)
            self._post(entries)
            partner._shop_crm_evaluate_tiers(company, order=order)

    def _order_date(self, order):
        return order.company_id._shop_crm_day_of(order.date_order)

    def _earn_entries(self, order, card, company):
        posted = self._order_lines(order, card)
        award_round = self._award_round(posted)
        already = posted.filtered(
            lambda line: line.shop_crm_kind in ("earn", "redeem") and line.shop_crm_round == award_round
        )
        if already:
            # Replayed: the award was decided when the order was paid (with the tier of that moment); the
            # constraint also stops concurrent replays.
            return []
        program = card.program_id
        lines = self._pos_lines(order) if order._name == "pos.order" else self._sale_lines(order)
        base = self._rule_points(program, lines)
        common = {
            "card_id": card.id,
            "order_model": order._name,
            "order_id": order.id,
            "round": award_round,
            "date": self._order_date(order),
        }
        entries = [
            {
                **common,
                "kind": "earn",
                "issued": base,
                "description": self.env._("Order %s", order.display_name),
            }
        ]
        tier = order.partner_id.tier_id
        if tier and tier.company_id == company and tier.points_multiplier > 1 and base:
            bonus = float_round(base * (tier.points_multiplier - 1), precision_digits=2)
            entries.append(
                {
                    **common,
                    "kind": "bonus",
                    "issued": bonus,
                    "description": self.env._(
                        "%(tier)s bonus ×%(multiplier)s on %(order)s",
                        tier=tier.name,
                        multiplier=tier.points_multiplier,
                        order=order.display_name,
                    ),
                }
            )
        entries += self.env["shop.crm.member.day"]._points_entries(order, company, entries, common)
        if order._name == "pos.order":
            earned = sum(entry["issued"] for entry in entries)
            entries += self._redeem_entries(order, card, common, earned)
        return entries

    # ---- redemptions (no double spend) --------------------------------------------------------------

    def _lock_cards(self, card_ids):
        """Lock member cards for a redemption decision and return {card id: points}.

        The rows are updated (their write_date), not only locked: Odoo runs transactions in REPEATABLE
        READ, so a concurrent transaction that decides on the same card afterwards fails with a
        serialization error and Odoo retries it on fresh data, instead of deciding on a snapshot that
        misses this transaction's reservation or redemption."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH locked AS (
                    SELECT id FROM loyalty_card WHERE id = ANY(%(ids)s) ORDER BY id FOR NO KEY UPDATE
                )
                UPDATE loyalty_card c
                   SET write_date = NOW() AT TIME ZONE 'UTC'
                  FROM locked
                 WHERE c.id = locked.id
             RETURNING c.id, c.points
                """,
                ids=sorted(card_ids),
            )
        )
        points = dict(self.env.cr.fetchall())
        self.env["loyalty.card"].invalidate_model(["points", "write_date"])
        return points

    def _reserved_by_others(self, card_ids, order_uuid):
        """{card id: points} reserved on ``card_ids`` by open orders other than ``order_uuid``."""
        self.env.cr.execute(
            SQL(
                """
                SELECT card_id, SUM(points)
                  FROM shop_crm_points_reservation
                 WHERE card_id = ANY(%(ids)s)
                   AND state = 'reserved'
                   AND reserved_until > %(now)s
                   AND order_uuid IS DISTINCT FROM %(uuid)s
                 GROUP BY card_id
                """,
                ids=list(card_ids),
                now=fields.Datetime.now(),
                uuid=order_uuid,
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _reserve(self, order_uuid, point_changes):
        """Reserve member points for the till's order ``order_uuid`` when the till validates it.

        ``point_changes``: {card id: points the order changes the card by} as the till computes them
        (earned minus redeemed; only negative changes draw on the balance). In one transaction holding
        the cards' row locks, each card must cover its draw with its balance minus what other open orders
        reserved (``membership.redeemable``); then the draws are reserved for ``RESERVATION_MINUTES``
        (a new validation of the same order replaces its reservation). Cards of other programs are
        ignored (Odoo's validation checks them). Returns {card id: points available to this order} of
        the cards that cannot cover their draw; nothing is reserved then."""
        programs = self.env["res.company"]._shop_crm_member_programs()
        draws = {card_id: -change for card_id, change in point_changes.items() if change < 0}
        if not draws:
            return {}
        member_cards = (
            self.env["loyalty.card"]
            .sudo()
            .search([("id", "in", list(draws)), ("program_id", "in", programs.ids)])
        )
        draws = {card_id: draws[card_id] for card_id in member_cards.ids}
        if not draws:
            return {}
        balances = self._lock_cards(draws)
        others = self._reserved_by_others(draws, order_uuid)
        short = {}
        for card_id, draw in draws.items():
            balance = balances.get(card_id, 0.0)
            allowed = membership.redeemable(draw, balance, others.get(card_id, 0.0))
            if float_compare(allowed, draw, precision_digits=2) < 0:
                short[card_id] = max(0.0, round(balance - others.get(card_id, 0.0), 2))
        if short:
            return short
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO shop_crm_points_reservation
                    (card_id, order_uuid, points, state, reserved_until,
                     create_uid, create_date, write_uid, write_date)
                SELECT v.card_id, %(uuid)s, v.points, 'reserved', %(until)s,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM unnest(%(cards)s::int[], %(points)s::float8[]) AS v(card_id, points)
                    ON CONFLICT (card_id, order_uuid) DO UPDATE
                   SET points = EXCLUDED.points, state = 'reserved', reserved_until = EXCLUDED.reserved_until,
                       write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                 WHERE shop_crm_points_reservation.state = 'reserved'
                """,
                uuid=order_uuid,
                until=fields.Datetime.now() + timedelta(minutes=membership.RESERVATION_MINUTES),
                uid=self.env.uid,
                cards=list(draws),
                points=[float(points) for points in draws.values()],
            )
        )
        self.env["shop.crm.points.reservation"].invalidate_model()
        return {}

    def _redeem_entries(self, order, card, common, earned):
        """The redemption line of a paid POS order: the points of its reward lines on ``card``, at most
        what the card holds (plus what this order ``earned``) minus what other open orders reserved.
        Decided under the card's row lock; confirms the order's reservation. What the card cannot cover
        is recorded on the order as its shortfall (the balance never goes negative)."""
        requested = float_round(
            sum(order.lines.filtered(lambda line: line.coupon_id == card).mapped("points_cost")),
            precision_digits=2,
        )
        if requested <= 0:
            return []
        balance = self._lock_cards([card.id]).get(card.id, 0.0)
        others = self._reserved_by_others([card.id], order.uuid).get(card.id, 0.0)
        allowed = membership.redeemable(requested, balance, others, earned)
        self.env.cr.execute(
            SQL(
                """
                UPDATE shop_crm_points_reservation
                   SET state = 'confirmed', pos_order_id = %(order)s,
                       write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                 WHERE card_id = %(card)s AND order_uuid = %(uuid)s AND state = 'reserved'
                """,
                order=order.id,
                uid=self.env.uid,
                card=card.id,
                uuid=order.uuid,
            )
        )
        self.env["shop.crm.points.reservation"].invalidate_model()
        if float_compare(allowed, requested, precision_digits=2) < 0:
            order._shop_crm_record_shortfall(float_round(requested - allowed, precision_digits=2))
        if allowed <= 0:
            return []
        return [
            {
                **common,
                "kind": "redeem",
                "used": allowed,
                "description": self.env._("Redeemed on %s", order.display_name),
            }
        ]

    def _order_lines(self, orders, card):
        """The ledger lines of ``card`` posted for ``orders``."""
        return (
            self.env["loyalty.history"]
            .sudo()
            .search(
                [
                    ("card_id", "=", card.id),
                    ("order_model", "=", orders._name),
                    ("order_id", "in", orders.ids),
                ]
            )
        )

    @staticmethod
    def _award_round(lines):
        """How many times an order's award was already cancelled, from its ledger ``lines``
        (``_order_lines``): a re-confirmed sale order earns again, once per confirmation."""
        return len(lines.filtered(lambda line: line.shop_crm_kind == "cancel"))

    def _earned_on(self, orders, card):
        """Points ``card`` earned on ``orders`` (earn + tier bonus, all rounds), minus what was already
        taken back by cancellations."""
        return self._earned(self._order_lines(orders, card))

    @staticmethod
    def _earned(lines):
        """What ledger ``lines`` earned (earn + tier bonus) minus what their cancellations took back."""
        earned = sum(line.issued for line in lines if line.shop_crm_kind in EARNING_KINDS)
        cancelled = sum(line.used for line in lines if line.shop_crm_kind == "cancel")
        return earned - cancelled

    def _refund_entries(self, refund, card):
        """A POS refund takes back the points its original orders earned, in proportion to the refunded
        amount (never more than earned, never below a zero balance)."""
        originals = refund.lines.refunded_orderline_id.order_id
        if not originals:
            return []
        earned = self._earned_on(originals, card)
        original_total = sum(originals.mapped("amount_total"))
        if earned <= 0 or original_total <= 0:
            return []
        share = min(1.0, -refund.amount_total / original_total)
        take_back = min(float_round(earned * share, precision_digits=2), max(card.points, 0.0))
        return [
            {
                "card_id": card.id,
                "kind": "refund",
                "used": take_back,
                "order_model": refund._name,
                "order_id": refund.id,
                "date": self._order_date(refund),
                "description": self.env._("Refund %s", refund.display_name),
            }
        ]

    def _referral_entries(self, order, partner, company):
        """The referrer's reward, when this is the referred customer's first paid order."""
        referrer = partner.referred_by_id
        points = company.shop_crm_referral_points
        if not referrer or not points or partner._shop_crm_paid_order_count(company) > 1:
            return []
        referrer._shop_crm_enroll(company)
        card = self._member_cards(referrer, company)[referrer.id]
        return [
            {
                "card_id": card.id,
                "kind": "referral",
                "issued": points,
                "order_model": "res.partner",
                "order_id": partner.id,
                "description": self.env._("Referral reward: %s", partner.display_name),
            }
        ]

    @api.model
    def _cancel_sale_orders(self, orders):
        """Take back what cancelled sale orders earned (once per confirmation)."""
        for order in orders.sudo().filtered("partner_id"):
            company = order.company_id
            card = self._member_cards(order.partner_id, company, create=False).get(order.partner_id.id)
            if not card:
                continue
            posted = self._order_lines(order, card)
            earned = self._earned(posted)
            if earned <= 0:
                continue
            self._post(
                [
                    {
                        "card_id": card.id,
                        "kind": "cancel",
                        "used": min(earned, max(card.points, 0.0)),
                        "order_model": order._name,
                        "order_id": order.id,
                        "round": self._award_round(posted),
                        "description": self.env._("Cancelled %s", order.display_name),
                    }
                ]
            )
            order.partner_id._shop_crm_evaluate_tiers(company, order=order)

    # ---- expiry -------------------------------------------------------------------------------------

    def _expiry_rows(self, company, as_of, cards=None):
        """(card id, points expired by ``as_of``) of the company's member cards (or only ``cards``), FIFO
        (lib/membership)."""
        program = company.shop_crm_program_id
        months = company.shop_crm_points_expiry_months
        if not program or months <= 0 or (cards is not None and not cards):
            return []
        only = SQL("AND c.id = ANY(%s)", cards.ids) if cards is not None else SQL()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT c.id,
                       LEAST(c.points, GREATEST(0,
                           COALESCE(SUM(h.issued) FILTER (
                               WHERE h.issued > 0
                                 AND (h.shop_crm_date + make_interval(months => %(months)s))::date
                                     <= %(as_of)s
                           ), 0) - COALESCE(SUM(h.used), 0)))::numeric(16, 2)::float8
                  FROM loyalty_card c
                  JOIN loyalty_history h ON h.card_id = c.id
                 WHERE c.program_id = %(program)s %(only)s
                 GROUP BY c.id, c.points
                HAVING LEAST(c.points, COALESCE(SUM(h.issued) FILTER (
                           WHERE h.issued > 0
                             AND (h.shop_crm_date + make_interval(months => %(months)s))::date
                                 <= %(as_of)s
                       ), 0) - COALESCE(SUM(h.used), 0)) >= 0.005
                """,
                months=months,
                as_of=as_of,
                program=program.id,
                only=only,
            )
        )
        return self.env.cr.fetchall()

    @api.model
    def _expire_points(self, company, as_of=None):
        """Post the 'expired' lines of every member card of ``company`` due by ``as_of`` (default today).
        Running it twice changes nothing the second time. Returns the number of cards touched."""
        as_of = as_of or company._shop_crm_today()
        rows = self._expiry_rows(company, as_of)
        description = self.with_context(lang=company.partner_id.lang or "en_US").env._("Points expired")
        posted = self._post(
            [
                {
                    "card_id": card_id,
                    "kind": "expire",
                    "used": amount,
                    "date": as_of,
                    "description": description,
                }
                for card_id, amount in rows
            ]
        )
        return len(posted)

    @api.model
    def _notify_expiring(self, company, as_of=None):
        """Email members whose points expire within the notice period (consent to email required), at
        most once per notice period. Returns the cards notified."""
        days = company.shop_crm_expiry_notice_days
        if days <= 0:
            return self.env["loyalty.card"]
        as_of = as_of or company._shop_crm_today()
        soon = dict(self._expiry_rows(company, as_of + timedelta(days=days)))
        cards = self.env["loyalty.card"].sudo().browse(list(soon))
        consented = self.env["shop.crm.consent"].sudo()._consented_partners(cards.partner_id, "email")
        cards = cards.filtered(
            lambda card: card.partner_id in consented
            and card.partner_id.email
            and (
                not card.shop_crm_expiry_notified
                or card.shop_crm_expiry_notified <= as_of - timedelta(days=days)
            )
        )
        if not cards:
            return cards
        self.env.cr.execute(
            SQL(
                """
                UPDATE loyalty_card c
                   SET shop_crm_expiring_points = v.points, shop_crm_expiry_notified = %s
                  FROM unnest(%s::int[], %s::float8[]) AS v(id, points)
                 WHERE c.id = v.id
                """,
                as_of,
                cards.ids,
                [soon[card_id] for card_id in cards.ids],
            )
        )
        cards.invalidate_recordset(["shop_crm_expiring_points", "shop_crm_expiry_notified"])
        self.env.ref("shop_crm.mail_template_points_expiring").send_mail_batch(cards.ids)
        return cards

    @api.model
    def _cron_expire_points(self):
        companies = self.env["res.company"].search([("shop_crm_program_id", "!=", False)])
        for done, company in enumerate(companies):
            self.with_company(company)._expire_points(company)
            self.with_company(company)._notify_expiring(company)
            self.env["ir.cron"]._notify_progress(done=done + 1, remaining=len(companies) - done - 1)

    # ---- reference (used by tests and the explanation) ------------------------------------------------

    @api.model
    def _ledger_lines(self, card):
        return [
            membership.Line(line.shop_crm_date, line.issued, line.used) for line in card.sudo().history_ids
        ]
