import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import { registry } from "@web/core/registry";

// The till in Simplified Chinese: the cashier picks a member with a churn warning and a birthday this
// week; the popup says what it is and what to offer, "Note it" records a visit, and the card stays in
// the order panel. Steps find elements by their classes and check the Chinese texts of Shop CRM.
registry.category("web_tour.tours").add("shop_crm_pos_customer_card_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm(),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("朱涛"),
            {
                content: "The popup tells the churn warning",
                trigger: ".o_shop_crm_alert_popup .o_shop_crm_alert_churn:contains(流失预警)",
            },
            {
                content: "...and the birthday with the care rule's offer",
                trigger: ".o_shop_crm_alert_popup .o_shop_crm_alert_date:contains(生日):contains(200)",
            },
            {
                content: "Note it",
                trigger: ".o_shop_crm_alert_popup .o_shop_crm_alert_note:contains(记下)",
                run: "click",
            },
            {
                content: "The popup is closed",
                trigger: "body:not(:has(.o_shop_crm_alert_popup))",
            },
            {
                content: "The card shows the tier",
                trigger: ".o_shop_crm_customer_card .o_shop_crm_card_tier:contains(Silver)",
            },
            {
                content: "...the progress to the next tier",
                trigger: ".o_shop_crm_customer_card .o_shop_crm_card_progress:contains(Gold)",
            },
            {
                content: "...the points expiring soon",
                trigger: ".o_shop_crm_customer_card .o_shop_crm_card_expiring:contains(40)",
            },
            {
                content: "...the churn warning and its reason",
                trigger: ".o_shop_crm_customer_card .o_shop_crm_flag_churn:contains(流失预警):contains(12)",
            },
            {
                content: "...the birthday",
                trigger: ".o_shop_crm_customer_card .o_shop_crm_flag_date:contains(生日)",
            },
            {
                content: "...today's member day of the tier and its offer (积分 ×2)",
                trigger: ".o_shop_crm_customer_card .o_shop_crm_card_member_day:contains(银卡会员日) .o_shop_crm_card_member_day_offer:contains(×2)",
            },
            {
                content: "...not another day's",
                trigger: ".o_shop_crm_customer_card:not(:has(.o_shop_crm_card_member_day:contains(明日会员日)))",
            },
            {
                content: "...the preferences",
                trigger: ".o_shop_crm_customer_card .o_shop_crm_card_preferences:contains(百合)",
            },
            {
                content: "The selected-customer button shows the tier and the flags",
                trigger: ".set-partner .o_shop_crm_partner_button_card .fa-exclamation-triangle",
            },
        ].flat(),
});
