import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { patch } from "@web/core/utils/patch";
import { isPartialReward, maxSteps, stepValue } from "./shop_crm_points_store";

/**
 * A partial redemption: a loyalty discount on the order applied for ``args.cost`` points, i.e. that many
 * steps of the reward (Odoo applies one step per claim, or the whole balance for per-point rewards).
 * Recomputed like Odoo's own reward lines whenever the order changes, never for more steps than the
 * card still has or the order can use.
 */
patch(PosOrder.prototype, {
    _getRewardLineValuesDiscount(args) {
        const reward = args.reward;
        if (!args.cost || !isPartialReward(reward)) {
            return super._getRewardLineValuesDiscount(...arguments);
        }
        const steps = Math.min(
            Math.floor(args.cost / reward.required_points + 1e-9),
            maxSteps(this, reward, args.coupon_id)
        );
        if (steps <= 0) {
            return [];
        }
        const { discountable, discountablePerTax } = this._getDiscountableOnOrder(reward);
        const base = Math.min(this.get_total_with_tax(), discountable);
        if (!base) {
            return [];
        }
        const amount = Math.min(
            steps * stepValue(reward),
            reward.discount_max_amount || Infinity,
            base
        );
        const factor = amount / base;
        const rewardCode = Math.random().toString(36).slice(2, 12);
        const lines = [];
        for (const [taxKey, value] of Object.entries(discountablePerTax)) {
            if (!value) {
                continue;
            }
            const taxIds = taxKey === "" ? [] : taxKey.split(",").map((id) => parseInt(id));
            lines.push({
                product_id: reward.discount_line_product_id,
                price_unit: -(Math.min(this.get_total_with_tax(), value) * factor),
                qty: 1,
                reward_id: reward,
                is_reward_line: true,
                coupon_id: args.coupon_id,
                points_cost: 0,
                reward_identifier_code: rewardCode,
                tax_ids: this.models["account.tax"].filter((tax) => taxIds.includes(tax.id)),
            });
        }
        if (lines.length) {
            lines[0].points_cost = steps * reward.required_points;
        }
        return lines;
    },
});
