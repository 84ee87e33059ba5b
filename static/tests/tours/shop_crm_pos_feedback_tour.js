import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import { registry } from "@web/core/registry";

// After payment the receipt shows the member's tier, points and the feedback QR code; the cashier records
// the customer's satisfaction and a comment in two taps.
registry.category("web_tour.tours").add("shop_crm_pos_feedback_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.addOrderline("Whiteboard Pen", "3"),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Qian Feedback"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickNumpad("3 0"),
            PaymentScreen.clickValidate(),
            { content: "the order is paid", trigger: ".receipt-screen", timeout: 30000 },
            {
                content: "the receipt has the tier, the points of the order and the new balance",
                trigger: ".pos-receipt .o_shop_crm_receipt_tier:contains(Gold)",
                timeout: 20000,
            },
            { trigger: ".pos-receipt .o_shop_crm_receipt_earned:contains(30)" },
            { trigger: ".pos-receipt .o_shop_crm_receipt_balance:contains(150)" },
            { trigger: ".pos-receipt .o_shop_crm_receipt_expiring:contains(120)" },
            { trigger: ".pos-receipt .o_shop_crm_receipt_feedback:contains(扫码评价) img.o_shop_crm_feedback_qr[src*='/report/barcode/QR/']" },
            { content: "tap 1: the score", trigger: ".o_shop_crm_score[data-score='2']", run: "click" },
            { trigger: ".o_shop_crm_feedback_saved" },
            { trigger: ".o_shop_crm_feedback_comment", run: "edit 包装破了" },
            { content: "tap 2: save the comment", trigger: ".o_shop_crm_feedback_save", run: "click" },
            { trigger: ".o_shop_crm_score.btn-primary[data-score='2']" },
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});
