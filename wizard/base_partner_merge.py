"""Merging duplicate customers with Odoo's own contact merge wizard keeps one member: the member card whose
balance is the sum and whose ledger holds every line, the higher tier and every tier change, the member
code, consents (the latest answer per channel wins); visits, tickets, important dates, referrals, care and
imported purchases follow the kept customer through core's foreign-key update. The analytics values of
the merged customers are recomputed for the kept one at the next run."""

from odoo import models
from odoo.tools import SQL


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge_loyalty_cards(self, src_partners, dst_partner):
        """Member cards: every ledger line moves to one card (the kept customer's, else the first merged
        one's), whose balance becomes the sum of its ledger; the other cards are emptied and archived.
        Core merges the cards of other programs."""
        programs = self.env["res.company"]._shop_crm_member_programs()
        Card = self.env["loyalty.card"].sudo()
        for program in programs:
            cards = Card.search(
                [("program_id", "=", program.id), ("partner_id", "in", (src_partners | dst_partner).ids)],
                order="id",
            )
            if not cards:
                continue
            final = cards.filtered(lambda card: card.partner_id == dst_partner)[:1] or cards[:1]
            others = cards - final
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    "UPDATE loyalty_history SET card_id = %s WHERE card_id = ANY(%s)",
                    final.id,
                    others.ids,
                )
            )
            self.env.cr.execute(
                SQL(
                    """UPDATE loyalty_card c
                          SET partner_id = %(partner)s,
                              points = (SELECT COALESCE(SUM(h.issued - h.used), 0) FROM loyalty_history h
                                         WHERE h.card_id = c.id)
                        WHERE c.id = %(card)s""",
                    partner=dst_partner.id,
                    card=final.id,
                )
            )
            if others:
                self.env.cr.execute(
                    SQL("UPDATE loyalty_card SET points = 0, active = FALSE WHERE id = ANY(%s)", others.ids)
                )
            self.env["loyalty.card"].invalidate_model()
            self.env["loyalty.history"].invalidate_model()
        return super()._merge_loyalty_cards(src_partners, dst_partner)

    def _update_foreign_keys(self, src_partners, dst_partner):
        self._shop_crm_merge_consents(src_partners, dst_partner)
        self._shop_crm_merge_care_logs(src_partners, dst_partner)
        self._shop_crm_merge_member(src_partners, dst_partner)
        # the merged customers' orders move to the kept one by SQL: recompute its aggregates
        self.env["shop.crm.analytics"]._mark_partners_dirty(dst_partner.ids)
        return super()._update_foreign_keys(src_partners, dst_partner)

    def _shop_crm_merge_consents(self, src_partners, dst_partner):
        """One consent line per channel: the latest answer (given or withdrawn) among the merged customers
        wins and is the kept customer's; the other lines go (core would drop them all on the unique
        constraint)."""
        self.env.flush_all()
        ranked = SQL(
            """SELECT id, ROW_NUMBER() OVER (
                          PARTITION BY channel
                          ORDER BY GREATEST(granted_date, withdrawn_date) DESC NULLS LAST, write_date DESC,
                                   id DESC)
                          AS rank
                 FROM shop_crm_consent WHERE partner_id = ANY(%s)""",
            (src_partners | dst_partner).ids,
        )
        self.env.cr.execute(
            SQL("DELETE FROM shop_crm_consent WHERE id IN (SELECT id FROM (%s) r WHERE r.rank > 1)", ranked)
        )
        self.env.cr.execute(
            SQL(
                "UPDATE shop_crm_consent SET partner_id = %s WHERE partner_id = ANY(%s)",
                dst_partner.id,
                src_partners.ids,
            )
        )
        self.env["shop.crm.consent"].invalidate_model()

    def _shop_crm_merge_care_logs(self, src_partners, dst_partner):
        """Care already given to the kept customer for an occasion and year stays given once."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """DELETE FROM shop_crm_care_log s
                    WHERE s.partner_id = ANY(%(src)s)
                      AND (EXISTS (SELECT 1 FROM shop_crm_care_log d
                                    WHERE d.partner_id = %(dst)s AND d.rule_id = s.rule_id AND d.key = s.key
                                      AND d.year = s.year)
                           OR EXISTS (SELECT 1 FROM shop_crm_care_log o
                                       WHERE o.partner_id = ANY(%(src)s) AND o.id < s.id
                                         AND o.rule_id = s.rule_id
                                         AND o.key = s.key AND o.year = s.year))""",
                src=src_partners.ids,
                dst=dst_partner.id,
            )
        )
        self.env["shop.crm.care.log"].invalidate_model()

    def _shop_crm_merge_member(self, src_partners, dst_partner):
        """The kept customer keeps (or takes over) a member code and its barcode, and the higher tier."""
        everyone = (src_partners | dst_partner).sudo()
        members = everyone.filtered("member_code")
        if members and not dst_partner.member_code:
            donor = members.sorted(
                lambda partner: (partner.member_since or partner.create_date.date(), partner.id)
            )[0]
            company = donor.member_company_id
            code, since = donor.member_code, donor.member_since
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET member_code = NULL, member_company_id = NULL WHERE id = %s",
                    donor.id,
                )
            )
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET member_code = %s, member_since = %s, member_company_id = %s "
                    "WHERE id = %s",
                    code,
                    since,
                    company.id,
                    dst_partner.id,
                )
            )
            everyone.invalidate_recordset(["member_code", "member_since", "member_company_id"])
            if donor.with_company(company).barcode == code:
                donor.with_company(company).barcode = False
                if not dst_partner.with_company(company).barcode:
                    dst_partner.sudo().with_company(company).barcode = code
        tiers = everyone.tier_id
        best = max(tiers, key=lambda tier: (tier.sequence, tier.id)) if tiers else tiers
        if best and best != dst_partner.tier_id:
            old = dst_partner.tier_id
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET tier_id = %s, tier_below_since = NULL WHERE id = %s",
                    best.id,
                    dst_partner.id,
                )
            )
            dst_partner.invalidate_recordset(["tier_id", "tier_below_since"])
            company = best.company_id
            self.env["shop.crm.tier"].sudo()._record_changes(
                company,
                [(dst_partner.id, old.id, best.id, "manual")],
                company._shop_crm_today(),
                note=self.env._("Merged duplicate customers"),
            )

    def _update_values(self, src_partners, dst_partner):
        # the kept customer's member fields were settled above: core copies the other fields
        return super(
            BasePartnerMergeAutomaticWizard, self.with_context(shop_crm_tier_engine=True)
        )._update_values(src_partners, dst_partner)
