import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { formatFloat } from "@web/core/utils/numbers";

/**
 * The customer card at checkout: tier and progress, points, value, stage, staff member, preferences and
 * flags, from the card the server computed for the customer when the till loaded it (no request here).
 */
export class CustomerCard extends Component {
    static template = "shop_crm.CustomerCard";
    static props = { partner: Object };

    get card() {
        return this.props.partner.shop_crm_pos_card || false;
    }
    formatPoints(points) {
        return formatFloat(points || 0, { digits: [69, 0] });
    }
    get pointsText() {
        return _t("%s points", this.formatPoints(this.card.points));
    }
    get expiringText() {
        return _t("%s expire within 30 days", this.formatPoints(this.card.points_expiring));
    }
    get valueText() {
        return _t("Class %s", this.card.value_class);
    }
}
