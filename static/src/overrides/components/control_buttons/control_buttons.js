import { ControlButtons } from "@point_of_sale/app/screens/product_screen/control_buttons/control_buttons";
import { makeAwaitable } from "@point_of_sale/app/store/make_awaitable_dialog";
import { patch } from "@web/core/utils/patch";
import { RedeemPointsPopup } from "@shop_crm/app/redeem_points_popup/redeem_points_popup";
import { isPartialReward, maxSteps, stepValue } from "@shop_crm/overrides/models/shop_crm_points_store";

/** Claiming a points discount asks how many points to redeem, when more than one step is possible. */
patch(ControlButtons.prototype, {
    async _applyReward(reward, coupon_id, potentialQty) {
        const order = this.pos.get_order();
        if (!isPartialReward(reward)) {
            return super._applyReward(...arguments);
        }
        const steps = maxSteps(order, reward, coupon_id);
        if (steps <= 1) {
            return super._applyReward(...arguments);
        }
        const points = await makeAwaitable(this.dialog, RedeemPointsPopup, {
            balance: this.pos.models["loyalty.card"].get(coupon_id)?.points ?? 0,
            usable: order._getRealCouponPoints(coupon_id),
            step: reward.required_points,
            stepValue: stepValue(reward),
            maxSteps: steps,
        });
        if (!points) {
            return false;
        }
        order.uiState.disabledRewards.delete(reward.id);
        const result = order._applyReward(reward, coupon_id, { cost: points });
        if (result !== true) {
            this.notification.add(result);
        }
        this.pos.updateRewards();
        return result;
    },
});
