import { ReceiptScreen } from "@point_of_sale/app/screens/receipt_screen/receipt_screen";
import { TillFeedback } from "@shop_crm/app/till_feedback/till_feedback";

ReceiptScreen.components = { ...ReceiptScreen.components, TillFeedback };
