import { Component, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";
import { ConnectionLostError, RPCError } from "@web/core/network/rpc";
import { usePos } from "@point_of_sale/app/store/pos_hook";

/**
 * Sign-up at the till: mobile first (an existing customer with the same normalised mobile is offered
 * instead), then name, birthday, gender, consent per channel and who referred them. The server
 * normalises, refuses duplicates and enrols the new member at once (member code and card).
 */
export class MemberSignupPopup extends Component {
    static template = "shop_crm.MemberSignupPopup";
    static components = { Dialog };
    static props = {
        mobile: { type: String, optional: true },
        getPayload: Function,
        close: Function,
    };

    setup() {
        this.pos = usePos();
        this.state = useState({
            mobile: this.props.mobile || "",
            name: "",
            birthday: "",
            gender: "",
            consents: {},
            referrerTerm: "",
            referrers: [],
            referrer: null,
            existing: null,
            checkedMobile: "",
            error: "",
            busy: false,
        });
    }
    get channels() {
        return [
            { key: "phone", label: _t("Phone") },
            { key: "wechat", label: _t("WeChat") },
            { key: "sms", label: _t("SMS") },
            { key: "email", label: _t("Email") },
            { key: "in_store", label: _t("In Store") },
        ];
    }
    get genders() {
        return [
            ["female", _t("Female")],
            ["male", _t("Male")],
            ["other", _t("Other")],
        ];
    }
    errorMessage(error) {
        if (error instanceof ConnectionLostError) {
            return _t("The till is offline: signing up a member needs the connection to the server.");
        }
        if (error instanceof RPCError) {
            return error.data?.message || error.message;
        }
        throw error;
    }
    async run(callback) {
        this.state.error = "";
        this.state.busy = true;
        try {
            return await callback();
        } catch (error) {
            this.state.error = this.errorMessage(error);
        } finally {
            this.state.busy = false;
        }
    }
    async checkMobile() {
        if (!this.state.mobile.trim() || this.state.checkedMobile === this.state.mobile) {
            return;
        }
        this.state.existing = null;
        await this.run(async () => {
            const result = await this.pos.shopCrmCheckMobile(this.state.mobile);
            this.state.checkedMobile = this.state.mobile;
            this.state.existing = result.partner_name ? result : null;
        });
    }
    async useExisting() {
        await this.run(async () => {
            const partner = await this.pos.shopCrmLoadPartner(this.state.existing.partner_id);
            this.props.getPayload(partner);
            this.props.close();
        });
    }
    async findReferrer() {
        if (!this.state.referrerTerm.trim()) {
            return;
        }
        await this.run(async () => {
            this.state.referrers = await this.pos.shopCrmFindReferrer(this.state.referrerTerm);
            if (!this.state.referrers.length) {
                this.state.error = _t("No customer has this member code or mobile.");
            }
        });
    }
    pickReferrer(referrer) {
        this.state.referrer = referrer;
        this.state.referrers = [];
    }
    async signUp() {
        await this.run(async () => {
            const partner = await this.pos.shopCrmSignUp({
                mobile: this.state.mobile,
                name: this.state.name,
                birthday: this.state.birthday || false,
                gender: this.state.gender || false,
                consents: Object.keys(this.state.consents).filter((key) => this.state.consents[key]),
                referred_by_id: this.state.referrer?.id || false,
            });
            this.props.getPayload(partner);
            this.props.close();
        });
    }
}
