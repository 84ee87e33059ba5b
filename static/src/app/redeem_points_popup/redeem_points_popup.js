import { Component, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";
import { usePos } from "@point_of_sale/app/store/pos_hook";

/**
 * How many of the member's points to redeem on this order: in points or as an amount off, always in
 * the reward's steps (e.g. 100 points = 10.00 off), at most what the card and the order allow.
 */
export class RedeemPointsPopup extends Component {
    static template = "shop_crm.RedeemPointsPopup";
    static components = { Dialog };
    static props = {
        balance: Number,
        usable: Number,
        step: Number,
        stepValue: Number,
        maxSteps: Number,
        getPayload: Function,
        close: Function,
    };

    setup() {
        this.pos = usePos();
        this.state = useState({ points: String(this.props.maxSteps * this.props.step), amount: "" });
        this.state.amount = this.format(this.props.maxSteps * this.props.stepValue);
    }
    format(amount) {
        return amount.toFixed(this.pos.currency.decimal_places);
    }
    get steps() {
        const points = Number(this.state.points);
        return Number.isFinite(points) ? points / this.props.step : NaN;
    }
    get error() {
        const steps = this.steps;
        if (!Number.isInteger(steps) || steps <= 0) {
            return _t("Redeem a multiple of %s points.", this.props.step);
        }
        if (steps > this.props.maxSteps) {
            return _t("At most %s points can be redeemed on this order.", this.props.maxSteps * this.props.step);
        }
        return "";
    }
    onPoints(ev) {
        this.state.points = ev.target.value;
        const steps = this.steps;
        this.state.amount = Number.isFinite(steps) ? this.format(steps * this.props.stepValue) : "";
    }
    onAmount(ev) {
        // An amount becomes the steps that cover it (rounded up).
        this.state.amount = ev.target.value;
        const amount = Number(ev.target.value);
        if (Number.isFinite(amount) && amount > 0) {
            this.state.points = String(Math.ceil(amount / this.props.stepValue - 1e-9) * this.props.step);
        }
    }
    setMax() {
        this.state.points = String(this.props.maxSteps * this.props.step);
        this.state.amount = this.format(this.props.maxSteps * this.props.stepValue);
    }
    confirm() {
        if (this.error) {
            return;
        }
        this.props.getPayload(this.steps * this.props.step);
        this.props.close();
    }
}
