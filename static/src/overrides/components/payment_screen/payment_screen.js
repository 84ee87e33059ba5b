import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";
import { patch } from "@web/core/utils/patch";

/**
 * Before Odoo validates the order's rewards, the server reserves the member points it redeems; when
 * they are no longer there the cashier is told and corrects the order before it is paid.
 */
patch(PaymentScreen.prototype, {
    async validateOrder(isForceValidate) {
        if (!(await this.pos.shopCrmReservePoints(this.currentOrder))) {
            return;
        }
        return super.validateOrder(...arguments);
    },
});
