from odoo import http
from odoo.http import request


class ShopCrmFeedbackPage(http.Controller):
    """The public feedback page: a customer rates a ticket, or a paid POS order (a QR code on the
    receipt), through a tokenised link, without logging in. Rating an order creates its ticket."""

    def _render_form(self, record, token, error=False, status=200):
        values = {
            "company": record.company_id,
            "reference": record.name
            if record._name == "shop.crm.feedback"
            else record.pos_reference or record.name,
            "error": error,
        }
        return request.render("shop_crm.feedback_page", values, status=status)

    @staticmethod
    def _answer(satisfaction, nps, comment):
        try:
            satisfaction, nps = int(satisfaction), int(nps)
        except (TypeError, ValueError):
            return None
        if satisfaction not in range(1, 6) or nps not in range(0, 11):
            return None
        return satisfaction, nps, (comment or "").strip()[:2000]

    @http.route(
        "/shop_crm/feedback/<int:ticket_id>/<string:token>", type="http", auth="public", methods=["GET"]
    )
    def feedback_form(self, ticket_id, token, **kwargs):
        ticket = request.env["shop.crm.feedback"]._public_ticket(ticket_id, token)
        if not ticket:
            return request.not_found()
        return self._render_form(ticket, token)

    @http.route(
        "/shop_crm/feedback/<int:ticket_id>/<string:token>", type="http", auth="public", methods=["POST"]
    )
    def feedback_submit(self, ticket_id, token, satisfaction=None, nps=None, comment=None, **kwargs):
        ticket = request.env["shop.crm.feedback"]._public_ticket(ticket_id, token)
        if not ticket:
            return request.not_found()
        answer = self._answer(satisfaction, nps, comment)
        if not answer:
            return self._render_form(ticket, token, error=True, status=400)
        ticket._public_answer(*answer)
        return request.render("shop_crm.feedback_thanks", {"company": ticket.company_id})

    @http.route(
        "/shop_crm/feedback/order/<int:order_id>/<string:token>", type="http", auth="public", methods=["GET"]
    )
    def order_feedback_form(self, order_id, token, **kwargs):
        order = request.env["shop.crm.feedback"]._public_order(order_id, token)
        if not order:
            return request.not_found()
        return self._render_form(order, token)

    @http.route(
        "/shop_crm/feedback/order/<int:order_id>/<string:token>", type="http", auth="public", methods=["POST"]
    )
    def order_feedback_submit(self, order_id, token, satisfaction=None, nps=None, comment=None, **kwargs):
        order = request.env["shop.crm.feedback"]._public_order(order_id, token)
        if not order:
            return request.not_found()
        answer = self._answer(satisfaction, nps, comment)
        if not answer:
            return self._render_form(order, token, error=True, status=400)
        request.env["shop.crm.feedback"]._public_order_answer(order, *answer)
        return request.render("shop_crm.feedback_thanks", {"company": order.company_id})
