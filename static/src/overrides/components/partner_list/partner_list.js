import { patch } from "@web/core/utils/patch";
import { PartnerList } from "@point_of_sale/app/screens/partner_list/partner_list";
import { makeAwaitable } from "@point_of_sale/app/store/make_awaitable_dialog";
import { MemberSignupPopup } from "@shop_crm/app/customer_card/member_signup_popup";

patch(PartnerList.prototype, {
    // the server search also finds the customer whose normalised mobile is the typed number
    getPhoneSearchTerms() {
        return [...super.getPhoneSearchTerms(), "shop_crm_mobile_search"];
    },
    async shopCrmNewMember() {
        const query = (this.state.query || "").trim();
        const partner = await makeAwaitable(this.dialog, MemberSignupPopup, {
            mobile: /^[+\d\s()-]+$/.test(query) ? query : "",
        });
        if (partner) {
            this.clickPartner(partner);
        }
    },
});
