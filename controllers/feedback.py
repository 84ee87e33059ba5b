from odoo import http
from odoo.http import request


class ShopCrmFeedbackPage(http.Controller):
    """The public feedback page: a customer rates a ticket through its tokenised link, without logging in."""

    @http.route(
        "/shop_crm/feedback/<int:ticket_id>/<string:token>", type="http", auth="public", methods=["GET"]
    )
    def feedback_form(self, ticket_id, token, **kwargs):
        ticket = request.env["shop.crm.feedback"]._public_ticket(ticket_id, token)
        if not ticket:
            return request.not_found()
        return request.render("shop_crm.feedback_page", {"ticket": ticket, "token": token, "error": False})

    @http.route(
        "/shop_crm/feedback/<int:ticket_id>/<string:token>", type="http", auth="public", methods=["POST"]
    )
    def feedback_submit(self, ticket_id, token, satisfaction=None, nps=None, comment=None, **kwargs):
        ticket = request.env["shop.crm.feedback"]._public_ticket(ticket_id, token)
        if not ticket:
            return request.not_found()
        try:
            satisfaction = int(satisfaction)
            nps = int(nps)
        except (TypeError, ValueError):
            satisfaction = nps = None
        if satisfaction not in range(1, 6) or nps not in range(0, 11):
            values = {"ticket": ticket, "token": token, "error": True}
            return request.render("shop_crm.feedback_page", values, status=400)
        ticket._public_answer(satisfaction, nps, (comment or "").strip()[:2000])
        return request.render("shop_crm.feedback_thanks", {"ticket": ticket})
