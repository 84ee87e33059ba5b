import { patch } from "@web/core/utils/patch";
import { _t } from "@web/core/l10n/translation";
import { effect } from "@web/core/utils/reactive";
import { batched } from "@web/core/utils/timing";
import { ConnectionLostError, RPCError } from "@web/core/network/rpc";
import { PosStore } from "@point_of_sale/app/store/pos_store";
import { CustomerAlertPopup } from "@shop_crm/app/customer_card/customer_alert_popup";

// The customer card at the till: the once-per-order popup about the picked customer, the visit the
// cashier notes from it, and sign-up of new members (Shop CRM). The points of the sale are another
// patch's business.
patch(PosStore.prototype, {
    async setup() {
        this.shopCrmAlertsShown = new Set(); // "order uuid/partner id" whose popup was shown
        await super.setup(...arguments);
        effect(
            batched((orders) => {
                const order = Array.from(orders.values()).find(
                    (order) => order.uuid === this.selectedOrderUuid
                );
                // read to be called again when the order's customer changes
                const partner = order?.partner_id;
                if (order && partner && !order.finalized) {
                    this.shopCrmShowAlerts(order, partner);
                }
            }),
            [this.data.records["pos.order"]]
        );
    },
    shopCrmShowAlerts(order, partner) {
        const alerts = partner.shop_crm_pos_card?.alerts || [];
        const key = `${order.uuid}/${partner.id}`;
        if (!alerts.length || this.shopCrmAlertsShown.has(key)) {
            return;
        }
        this.shopCrmAlertsShown.add(key);
        this.dialog.add(CustomerAlertPopup, {
            partner,
            alerts,
            noteIt: () => this.shopCrmNoteVisit(partner, alerts),
        });
    },
    async shopCrmNoteVisit(partner, alerts) {
        const kinds = [...new Set(alerts.map((alert) => alert.kind))];
        try {
            await this.data.call("res.partner", "shop_crm_pos_note_visit", [[partner.id], kinds]);
            this.notification.add(_t("Visit noted for %s.", partner.name), { type: "success" });
        } catch (error) {
            if (error instanceof ConnectionLostError) {
                this.notification.add(
                    _t("The till is offline: the visit could not be noted."),
                    { type: "warning" }
                );
                return;
            }
            if (error instanceof RPCError) {
                this.notification.add(error.data?.message || error.message, { type: "danger" });
                return;
            }
            throw error;
        }
    },
    async shopCrmCheckMobile(mobile) {
        return await this.data.call("res.partner", "shop_crm_pos_check_mobile", [mobile]);
    },
    async shopCrmFindReferrer(term) {
        return await this.data.call("res.partner", "shop_crm_pos_find_referrer", [term]);
    },
    async shopCrmLoadPartner(partnerId) {
        const partners = await this.data.read("res.partner", [partnerId]);
        return partners[0];
    },
    async shopCrmSignUp(values) {
        const partnerId = await this.data.call("res.partner", "shop_crm_pos_sign_up", [
            values,
            this.config.id,
        ]);
        return await this.shopCrmLoadPartner(partnerId);
    },
});
