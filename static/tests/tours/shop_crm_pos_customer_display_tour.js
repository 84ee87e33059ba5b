import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import { registry } from "@web/core/registry";

// The customer display after the sale shows the member's name, tier and points. The display is Odoo's
// own page (/pos_customer_display/<config>/<token>, "local" type), opened in a frame of the till's
// window: the till sends it the order through Odoo's channel, as it does to a second screen.
registry.category("web_tour.tours").add("shop_crm_pos_customer_display_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            {
                content: "open the customer display next to the till",
                trigger: ".pos .product-screen",
                run: () => {
                    const config = window.posmodel.config;
                    const frame = document.createElement("iframe");
                    frame.src = `/pos_customer_display/${config.id}/${config.access_token}`;
                    frame.className = "o_shop_crm_test_customer_display";
                    frame.style.cssText =
                        "position: fixed; right: 0; bottom: 0; width: 800px; height: 600px; z-index: 10000; pointer-events: none;";
                    document.body.appendChild(frame);
                },
            },
            {
                content: "the customer display is ready",
                trigger: ":iframe .o_customer_display h1:contains(Welcome.)",
                timeout: 30000,
            },
            ProductScreen.addOrderline("Whiteboard Pen", "3"),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Sun Display"),
            {
                content: "no member block on the display before the sale",
                trigger: ":iframe .o_customer_display_main:not(:has(.o_shop_crm_customer_display))",
            },
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickNumpad("3 0"),
            PaymentScreen.clickValidate(),
            { content: "the order is paid", trigger: ".receipt-screen", timeout: 30000 },
            {
                content: "the display thanks the customer and shows the member's name",
                trigger: ":iframe .o_customer_display_main:has(h1:contains(Thank you.)) .o_shop_crm_customer_display .fw-bold:contains(Sun Display)",
                timeout: 20000,
            },
            { trigger: ":iframe .o_shop_crm_customer_display .badge:contains(Gold)" },
            {
                content: "the new balance and the points of this sale",
                trigger: ":iframe .o_shop_crm_customer_display:contains(Points):contains(150):contains((+30))",
            },
            ReceiptScreen.clickNextOrder(),
            {
                content: "the next customer's display has no member block",
                trigger: ":iframe .o_customer_display h1:contains(Welcome.)",
            },
            { trigger: ":iframe .o_customer_display:not(:has(.o_shop_crm_customer_display))" },
        ].flat(),
});
