import * as PosLoyalty from "@pos_loyalty/../tests/tours/utils/pos_loyalty_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import { registry } from "@web/core/registry";

// The cashier redeems part of a member's points (200 of 350, in steps of 100 points = 10 off); then a
// second member's points turn out to be partly reserved by another till: the server refuses, the till
// corrects the reward to what is left and the cashier takes the difference before the order is paid.
registry.category("web_tour.tours").add("shop_crm_pos_points_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.addOrderline("Whiteboard Pen", "10"),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Li Partial"),
            PosLoyalty.claimReward("Member Points"),
            {
                content: "the cashier chooses how many points: 350 on the card, 450 with this order's",
                trigger: ".o_shop_crm_redeem_popup .o_shop_crm_redeem_balance:contains(350)",
            },
            { trigger: ".o_shop_crm_redeem_usable:contains(450)" },
            { trigger: ".o_shop_crm_redeem_points", run: "edit 350" },
            { trigger: ".o_shop_crm_redeem_error:contains(multiple of 100)" },
            { trigger: ".o_shop_crm_redeem_points", run: "edit 500" },
            { trigger: ".o_shop_crm_redeem_error:contains(At most 400)" },
            {
                content: "an amount becomes the steps that cover it",
                trigger: ".o_shop_crm_redeem_amount",
                run: "edit 15",
            },
            {
                trigger: ".o_shop_crm_redeem_popup:not(:has(.o_shop_crm_redeem_error))",
                run: () => {
                    const points = document.querySelector(".o_shop_crm_redeem_points").value;
                    if (points !== "200") {
                        throw new Error(`15.00 off should need 200 points, got ${points}`);
                    }
                },
            },
            { trigger: ".o_shop_crm_redeem_confirm", run: "click" },
            PosLoyalty.orderTotalIs("80.00"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickNumpad("8 0"),
            PaymentScreen.clickValidate(),
            // the first sync of a session can be slow on a busy machine
            { content: "the order is paid", trigger: ".receipt-screen", timeout: 30000 },
            ReceiptScreen.clickNextOrder(),

            ProductScreen.addOrderline("Whiteboard Pen", "5"),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Zhao Busy"),
            PosLoyalty.claimReward("Member Points"),
            {
                content: "150 on the till's card + 50 earned: all usable is 200 points",
                trigger: ".o_shop_crm_redeem_popup .o_shop_crm_redeem_usable:contains(200)",
            },
            { trigger: ".o_shop_crm_redeem_confirm", run: "click" },
            PosLoyalty.orderTotalIs("30.00"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickNumpad("3 0"),
            PaymentScreen.clickValidate(),
            Dialog.is({ title: "Points no longer available" }),
            {
                content: "the server says what is left",
                trigger: ".modal-body:contains(50.0 points available)",
            },
            Dialog.confirm(),
            PaymentScreen.remainingIs("10.00"),
            PaymentScreen.clickNumpad("+10"),
            PaymentScreen.remainingIs("0.00"),
            PaymentScreen.clickValidate(),
            { content: "the order is paid", trigger: ".receipt-screen", timeout: 30000 },
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});
