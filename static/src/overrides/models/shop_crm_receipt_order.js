import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { patch } from "@web/core/utils/patch";
import { qrCodeSrc } from "@point_of_sale/utils";
import { formatFloat } from "@web/core/utils/numbers";

// Points as people read them: at most two decimals, none when whole (a sum may be 3023.2000000000003).
function formatPoints(points) {
    return formatFloat(points || 0, { digits: [69, 2], trailingZeros: false });
}

/**
 * The member part of the printed receipt and of the customer display after the sale: values computed by
 * the server for the paid order (read back when it syncs), the feedback link as a QR code.
 */
patch(PosOrder.prototype, {
    shopCrmMemberData() {
        const partner = this.get_partner();
        if (!this.finalized || !partner || typeof this.id !== "number") {
            return false;
        }
        return {
            name: partner.name,
            tier: this.shop_crm_receipt_tier || "",
            earned: this.shop_crm_points_earned ? formatPoints(this.shop_crm_points_earned) : "",
            balance: formatPoints(this.shop_crm_points_balance),
            expiring: this.shop_crm_points_expiring ? formatPoints(this.shop_crm_points_expiring) : "",
        };
    },
    export_for_printing(baseUrl, headerData) {
        const result = super.export_for_printing(...arguments);
        result.shopCrmMember = this.shopCrmMemberData();
        result.shopCrmFeedbackQr =
            this.finalized && this.shop_crm_feedback_url ? qrCodeSrc(this.shop_crm_feedback_url) : false;
        return result;
    },
    getCustomerDisplayData() {
        return { ...super.getCustomerDisplayData(...arguments), shopCrmMember: this.shopCrmMemberData() };
    },
});
