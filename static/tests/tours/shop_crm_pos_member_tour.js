import * as PosLoyalty from "@pos_loyalty/../tests/tours/utils/pos_loyalty_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import { registry } from "@web/core/registry";

// A cashier sells to a member at the Point of Sale; the server awards the member points once.
registry.category("web_tour.tours").add("shop_crm_pos_member_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.addOrderline("Whiteboard Pen", "3"),
            ProductScreen.clickPartnerButton(),
            {
                content: "The cashier sees the member's tier",
                trigger: ".partner-line:contains(Wang Member) .o_shop_crm_tier_badge:contains(Silver)",
            },
            ProductScreen.clickCustomer("Wang Member"),
            PosLoyalty.orderTotalIs("30"),
            PosLoyalty.finalizeOrder("Cash", "30"),
        ].flat(),
});
