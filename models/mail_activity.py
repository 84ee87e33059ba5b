from odoo import models
from odoo.tools import html2plaintext


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _shop_crm_follow_ups(self):
        follow_up = self.env.ref("shop_crm.mail_activity_type_follow_up", raise_if_not_found=False)
        return self.filtered(lambda a: a.activity_type_id == follow_up and a.res_model == "res.partner")

    def _action_done(self, feedback=False, attachment_ids=None):
        """A follow-up done is a visit: it is recorded (by whoever did it, with the plan's purpose and the
        feedback as notes) before the activity disappears."""
        follow_ups = self._shop_crm_follow_ups()
        purposes = {}
        if follow_ups:
            history = (
                self.env["shop.crm.followup.history"].sudo().search([("activity_id", "in", follow_ups.ids)])
            )
            purposes = {line.activity_id.id: line.rule_id.purpose for line in history}
        vals_list = [
            {
                "partner_id": activity.res_id,
                "user_id": self.env.user.id,
                "purpose": purposes.get(activity.id, "routine"),
                "outcome": "reached",
                "notes": html2plaintext(feedback) if feedback else activity.summary or False,
            }
            for activity in follow_ups
        ]
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        visits = self.env["shop.crm.visit"].create(vals_list) if vals_list else self.env["shop.crm.visit"]
        self.env.context.get("shop_crm_visits", []).extend(visits.ids)
        return result

    def action_feedback_schedule_next(self, feedback=False, attachment_ids=None):
        """Done & schedule next on a follow-up opens the visit just recorded: the staff member corrects the
        outcome and sets the next follow-up date, which schedules the next activity."""
        if len(self) != 1 or not self._shop_crm_follow_ups():
            return super().action_feedback_schedule_next(feedback=feedback, attachment_ids=attachment_ids)
        created = []
        self.with_context(shop_crm_visits=created)._action_done(
            feedback=feedback, attachment_ids=attachment_ids
        )
        return {
            "name": self.env._("Record the Visit"),
            "type": "ir.actions.act_window",
            "res_model": "shop.crm.visit",
            "res_id": created[0],
            "views": [(False, "form")],
            "target": "new",
        }

    # ---- done date: the shop's day (the KPIs compare it with the deadline) ---------------------------

    def write(self, vals):
        """Core stores the UTC date of the moment an activity is done (archived); Shop CRM stores the
        shop's day, taken when it is done (an activity done at 01:00 in Shanghai is done that day, not the
        UTC day before), so "done on or before the deadline" compares two shop days."""
        if vals.get("active") is False and "date_done" not in vals:
            vals = {**vals, "date_done": self.env.company._shop_crm_today()}
        return super().write(vals)
