"""What the SMS provider answered, on the Shop CRM record an SMS was sent for (a campaign recipient, a care
given). ``sms.sms`` rows are deleted once sent; these fields stay."""

from odoo import api, fields, models
from odoo.tools import SQL

GATEWAY_STATES = [("accepted", "Accepted by the Provider"), ("refused", "Refused by the Provider")]


class ShopCrmSmsAnswerMixin(models.AbstractModel):
    _name = "shop.crm.sms.answer.mixin"
    _description = "SMS Provider Answer"

    sms_uuid = fields.Char("SMS UUID", readonly=True, copy=False, index="btree_not_null")
    sms_gateway_state = fields.Selection(GATEWAY_STATES, "SMS Provider", readonly=True, copy=False)
    sms_request_id = fields.Char("SMS Request ID", readonly=True, copy=False)
    sms_answer_code = fields.Char("SMS Answer Code", readonly=True, copy=False)
    sms_answer_message = fields.Char("SMS Answer", readonly=True, copy=False)

    def _shop_crm_link_sms(self, sms):
        """These rows sent ``sms`` (one SMS per row, in the same order), in one statement."""
        self.flush_recordset(["sms_uuid"])
        self.env.cr.execute(
            SQL(
                """UPDATE %(table)s t SET sms_uuid = v.uuid
                     FROM unnest(%(ids)s::int[], %(uuids)s::varchar[]) AS v(id, uuid)
                    WHERE t.id = v.id""",
                table=SQL.identifier(self._table),
                ids=self.ids,
                uuids=sms.mapped("uuid"),
            )
        )
        self.invalidate_recordset(["sms_uuid"])

    @api.model
    def _shop_crm_sms_answered(self, answers):
        """Record the answers (lib/sms_gateway.Answer, keyed by the SMS uuid) on the rows of this model
        that sent those SMS, in one statement. Returns the ids of the rows updated."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """UPDATE %(table)s t
                      SET sms_gateway_state = CASE WHEN v.ok THEN 'accepted' ELSE 'refused' END,
                          sms_request_id = v.request_id, sms_answer_code = v.code,
                          sms_answer_message = v.message
                     FROM unnest(%(keys)s::varchar[], %(ok)s::bool[], %(requests)s::varchar[],
                                 %(codes)s::varchar[], %(messages)s::varchar[])
                          AS v(uuid, ok, request_id, code, message)
                    WHERE t.sms_uuid = v.uuid
                RETURNING t.id""",
                table=SQL.identifier(self._table),
                keys=[answer.key for answer in answers],
                ok=[answer.ok for answer in answers],
                requests=[answer.request_id for answer in answers],
                codes=[answer.code for answer in answers],
                messages=[(answer.message or "")[:500] for answer in answers],
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        self.browse(ids).invalidate_recordset(
            ["sms_gateway_state", "sms_request_id", "sms_answer_code", "sms_answer_message"]
        )
        return ids
