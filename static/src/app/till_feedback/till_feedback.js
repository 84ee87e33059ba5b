import { Component, useState } from "@odoo/owl";
import { usePos } from "@point_of_sale/app/store/pos_hook";

export const TILL_FEEDBACK_FIELDS = [
    "shop_crm_satisfaction",
    "shop_crm_feedback_comment",
    "shop_crm_complaint",
];

/**
 * On the receipt screen: the customer's satisfaction (1-5) or "complaint" in one tap, an optional short
 * comment with a second. The answer is stored on the order (fields of pos.order): written to the server
 * when the order has synced (queued by the till when offline), else sent with the order when it syncs.
 * The server makes the order's ticket once.
 */
export class TillFeedback extends Component {
    static template = "shop_crm.TillFeedback";
    static props = { order: Object };

    setup() {
        this.pos = usePos();
        const order = this.props.order;
        this.state = useState({
            satisfaction: order.shop_crm_satisfaction || "",
            complaint: Boolean(order.shop_crm_complaint),
            comment: order.shop_crm_feedback_comment || "",
            saved: Boolean(order.shop_crm_satisfaction || order.shop_crm_complaint),
        });
    }
    get scores() {
        return ["1", "2", "3", "4", "5"];
    }
    rate(score) {
        this.state.satisfaction = score;
        return this.save();
    }
    complain() {
        this.state.complaint = !this.state.complaint;
        return this.save();
    }
    async save() {
        const order = this.props.order;
        const values = {
            shop_crm_satisfaction: this.state.satisfaction || false,
            shop_crm_complaint: this.state.complaint,
            shop_crm_feedback_comment: this.state.comment.trim().slice(0, 500) || false,
        };
        order.update(values);
        if (typeof order.id === "number") {
            await this.pos.data.ormWrite("pos.order", [order.id], values);
        }
        this.state.saved = Boolean(values.shop_crm_satisfaction || values.shop_crm_complaint);
    }
}
