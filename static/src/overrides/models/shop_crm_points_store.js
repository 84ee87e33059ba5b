import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/store/pos_store";
import { _t } from "@web/core/l10n/translation";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { ConnectionLostError } from "@web/core/network/rpc";

/**
 * A discount of the member points program (Shop CRM's) on the whole order, worth a fixed amount per step
 * of points (per order or per point, not clearing the wallet): the cashier may redeem any number of its
 * steps. Rewards of other loyalty programs are claimed as in Odoo.
 */
export function isPartialReward(reward) {
    return (
        reward.reward_type === "discount" &&
        reward.program_id.program_type === "loyalty" &&
        reward.program_id.shop_crm_member_program &&
        ["per_order", "per_point"].includes(reward.discount_mode) &&
        reward.discount_applicability === "order" &&
        !reward.clear_wallet &&
        reward.required_points > 0 &&
        reward.discount > 0
    );
}

/** The amount one step of ``reward`` takes off the order. */
export function stepValue(reward) {
    return reward.discount_mode === "per_point"
        ? reward.discount * reward.required_points
        : reward.discount;
}

/**
 * The steps of ``reward`` the order can use from ``couponId``: limited by the points left on the card
 * for this order and by what the order costs before this reward (no step that takes off nothing).
 */
export function maxSteps(order, reward, couponId) {
    const points = order._getRealCouponPoints(couponId);
    const byPoints = Math.floor(points / reward.required_points + 1e-9);
    const value = stepValue(reward);
    const total = order.get_total_with_tax();
    const byTotal = Math.ceil(total / value - 1e-9);
    const byMax = reward.discount_max_amount
        ? Math.ceil(reward.discount_max_amount / value - 1e-9)
        : Infinity;
    return Math.max(0, Math.min(byPoints, byTotal, byMax));
}

/**
 * Member points at the till: which rewards can be redeemed in part (in the reward's steps), and the
 * server reservation of the points an order redeems, made when the cashier validates the order.
 */
patch(PosStore.prototype, {
    /**
     * The net change the order makes on each existing member points card, as Odoo's validation computes
     * it (points won minus points spent by its reward lines). Cards of other programs are Odoo's business.
     */
    shopCrmPointChanges(order) {
        const changes = {};
        const isMemberProgram = (programId) =>
            Boolean(this.models["loyalty.program"].get(programId)?.shop_crm_member_program);
        for (const change of Object.values(order.uiState.couponPointChanges)) {
            if (change.coupon_id > 0 && isMemberProgram(change.program_id)) {
                changes[change.coupon_id] = (changes[change.coupon_id] || 0) + change.points;
            }
        }
        for (const line of order._get_reward_lines()) {
            const couponId = line.coupon_id?.id;
            if (couponId > 0 && line.reward_id?.program_id?.shop_crm_member_program) {
                changes[couponId] = (changes[couponId] || 0) - line.points_cost;
            }
        }
        return changes;
    },
    /**
     * Ask the server to reserve the points ``order`` redeems (it refuses when another till or an earlier
     * order has used them). Returns true when the order may be validated; otherwise the cashier was told
     * why, the till's balance was corrected and the order's rewards were recomputed.
     */
    async shopCrmReservePoints(order) {
        const changes = this.shopCrmPointChanges(order);
        if (!Object.values(changes).some((change) => change < 0)) {
            return true;
        }
        let answer;
        try {
            answer = await this.data.call("pos.order", "shop_crm_reserve_points", [
                order.uuid,
                changes,
            ]);
        } catch (error) {
            if (error instanceof ConnectionLostError) {
                this.dialog.add(AlertDialog, {
                    title: _t("Points cannot be checked offline"),
                    body: _t(
                        "Member points can only be redeemed while the till is connected: another till may have used them. Remove the points reward from the order, or validate again when the connection is back."
                    ),
                });
                return false;
            }
            throw error;
        }
        if (answer.successful) {
            return true;
        }
        for (const [couponId, points] of Object.entries(answer.payload.updated_points || {})) {
            const coupon = this.models["loyalty.card"].get(parseInt(couponId));
            if (coupon) {
                coupon.points = points;
            }
        }
        this.updateRewards();
        this.dialog.add(AlertDialog, {
            title: _t("Points no longer available"),
            body: answer.payload.message,
        });
        return false;
    },
});
