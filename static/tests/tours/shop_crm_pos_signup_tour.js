import * as PosLoyalty from "@pos_loyalty/../tests/tours/utils/pos_loyalty_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import { registry } from "@web/core/registry";

function openSignUp() {
    return [
        ...ProductScreen.clickPartnerButton(),
        {
            content: "New member",
            trigger: ".modal .o_shop_crm_new_member",
            run: "click",
        },
    ];
}

function typeMobile(mobile) {
    return [
        {
            content: `type the mobile ${mobile}`,
            trigger: ".o_shop_crm_signup .o_shop_crm_signup_mobile",
            run: `edit ${mobile}`,
        },
        {
            content: "check it",
            trigger: ".o_shop_crm_signup .o_shop_crm_signup_check",
            run: "click",
        },
    ];
}

// A new member signs up at the till by mobile; a mobile typed another way that a customer already has is
// offered as that customer instead of a duplicate. The new member's first order earns points.
registry.category("web_tour.tours").add("shop_crm_pos_signup_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.addOrderline("Whiteboard Pen", "3"),
            openSignUp(),
            typeMobile("+86 138-0013-8000"),
            {
                content: "the existing customer is offered",
                trigger: ".o_shop_crm_signup_existing:contains(Ma Existing)",
            },
            {
                content: "use the existing customer",
                trigger: ".o_shop_crm_signup_use_existing",
                run: "click",
            },
            ProductScreen.customerIsSelected("Ma Existing"),
            {
                content: "the existing customer's card is on the order",
                trigger: ".o_shop_crm_customer_card .o_shop_crm_card_name:contains(Ma Existing)",
            },
            openSignUp(),
            typeMobile("139 1234 5678"),
            {
                content: "no customer has this mobile: the form is shown",
                trigger: ".o_shop_crm_signup .o_shop_crm_signup_name",
                run: "edit Li Newmember",
            },
            {
                content: "birthday",
                trigger: ".o_shop_crm_signup .o_shop_crm_signup_birthday",
                run() {
                    // a date input takes its value as YYYY-MM-DD
                    this.anchor.value = "1995-03-08";
                    this.anchor.dispatchEvent(new Event("input", { bubbles: true }));
                    this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
                },
            },
            {
                content: "gender",
                trigger: ".o_shop_crm_signup .o_shop_crm_signup_gender",
                run: "select female",
            },
            {
                content: "consent to SMS",
                trigger: ".o_shop_crm_signup input[name=consent_sms]",
                run: "check",
            },
            {
                content: "referred by Ma Existing's mobile",
                trigger: ".o_shop_crm_signup .o_shop_crm_signup_referrer_term",
                run: "edit 13800138000",
            },
            {
                content: "find the referrer",
                trigger: ".o_shop_crm_signup .o_shop_crm_signup_find_referrer",
                run: "click",
            },
            {
                content: "pick the referrer",
                trigger: ".o_shop_crm_signup .o_shop_crm_signup_referrer_option:contains(Ma Existing)",
                run: "click",
            },
            {
                content: "sign up",
                trigger: ".o_shop_crm_signup .o_shop_crm_signup_confirm",
                run: "click",
            },
            ProductScreen.customerIsSelected("Li Newmember"),
            {
                content: "the new member's card is on the order at once",
                trigger: ".o_shop_crm_customer_card .o_shop_crm_card_points",
            },
            PosLoyalty.orderTotalIs("30"),
            // the first sync of a session may take a while on a busy test machine
            PosLoyalty.finalizeOrder("Cash", "30")
                .flat()
                .map((step) =>
                    step.trigger?.includes(".receipt-screen") ? { ...step, timeout: 30000 } : step
                ),
        ].flat(),
});
