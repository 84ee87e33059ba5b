import { Component } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";

/**
 * Once per order: what to know about the picked customer (churn warning, birthday or occasion this week,
 * open complaint) and what to say or offer. "Note it" records an in-store visit; closing records nothing.
 */
export class CustomerAlertPopup extends Component {
    static template = "shop_crm.CustomerAlertPopup";
    static components = { Dialog };
    static props = {
        partner: Object,
        alerts: Array,
        noteIt: Function,
        close: Function,
    };

    async noteIt() {
        await this.props.noteIt();
        this.props.close();
    }
}
