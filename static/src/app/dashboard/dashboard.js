import { Component, onMounted, onWillStart, onWillUnmount, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

const MONEY = new Set(["sales", "average_ticket", "points_liability"]);
const RATES = new Set(["repeat_rate", "retention_rate", "member_sales_share", "followups_on_time"]);
const DECIMALS = new Set(["avg_resolution_hours", "satisfaction_avg", "nps"]);

/**
 * The owner's dashboard (Shop CRM → Reporting → Dashboard): the published KPIs of a period compared with the
 * previous period of the same length, charts (Odoo's Chart.js), staff scorecards and neglected customers.
 * Everything comes from one call to shop.crm.kpi.dashboard_data; tiles and charts open the matching records
 * (shop.crm.kpi.kpi_action).
 */
export class ShopCrmDashboard extends Component {
    static template = "shop_crm.Dashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.monthlyCanvas = useRef("monthly");
        this.charts = [];
        this.state = useState({
            period: "this_month",
            dateFrom: "",
            dateTo: "",
            data: null,
        });
        this.periods = [
            ["this_month", _t("This month")],
            ["last_month", _t("Last month")],
            ["this_quarter", _t("This quarter")],
            ["custom", _t("Custom")],
        ];
        this.weekdays = [_t("Mon"), _t("Tue"), _t("Wed"), _t("Thu"), _t("Fri"), _t("Sat"), _t("Sun")];
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            await this.load();
        });
        onMounted(() => this.renderCharts());
        onWillUnmount(() => this.destroyCharts());
    }

    async load() {
        const { period, dateFrom, dateTo } = this.state;
        const data = await this.orm.call("shop.crm.kpi", "dashboard_data", [], {
            period,
            date_from: period === "custom" ? dateFrom : null,
            date_to: period === "custom" ? dateTo : null,
        });
        this.state.data = data;
        this.state.dateFrom = data.date_from;
        this.state.dateTo = data.date_to;
    }

    async onPeriod(period) {
        this.state.period = period;
        if (period !== "custom") {
            await this.reload();
        }
    }

    async reload() {
        await this.load();
        this.renderCharts();
    }

    format(key, value) {
        if (value === null || value === undefined) {
            return "";
        }
        if (RATES.has(key)) {
            return `${(value * 100).toFixed(1)} %`;
        }
        if (MONEY.has(key)) {
            const { symbol, position, digits } = this.state.data.currency;
            const amount = value.toLocaleString(undefined, {
                minimumFractionDigits: digits,
                maximumFractionDigits: digits,
            });
            return position === "before" ? `${symbol} ${amount}` : `${amount} ${symbol}`;
        }
        if (DECIMALS.has(key)) {
            return value.toFixed(1);
        }
        return value.toLocaleString();
    }

    arrow(tile) {
        return { up: "fa-arrow-up", down: "fa-arrow-down", same: "fa-minus" }[tile.direction];
    }

    percent(tile) {
        return tile.percent === null ? _t("new") : `${tile.percent.toFixed(1)} %`;
    }

    async open(key, userId) {
        const { dateFrom, dateTo } = this.state;
        const action = await this.orm.call("shop.crm.kpi", "kpi_action", [key, dateFrom, dateTo], {
            user: userId || (this.state.data.user && this.state.data.user.id) || null,
        });
        await this.action.doAction(action);
    }

    async openChart(key, params) {
        const { dateFrom, dateTo } = this.state;
        const action = await this.orm.call("shop.crm.kpi", "kpi_action", [key, dateFrom, dateTo], {
            user: (this.state.data.user && this.state.data.user.id) || null,
            ...params,
        });
        await this.action.doAction(action);
    }

    categoryAlpha(category) {
        const sales = this.state.data.charts.segment_categories.flatMap((segment) =>
            segment.categories.map((item) => item.sales)
        );
        return (category.sales / Math.max(1, ...sales)).toFixed(2);
    }

    productWidth(festival, product) {
        const max = Math.max(1, ...festival.products.map((item) => item.qty));
        return Math.round((100 * product.qty) / max);
    }

    get topMovers() {
        const { customers_up, customers_down } = this.state.data.top_movers;
        return [...customers_up, ...customers_down];
    }

    printMonthly() {
        this.action.doAction("shop_crm.action_report_monthly", {
            additionalContext: {
                active_model: "res.company",
                active_ids: [this.state.data.company_id],
                active_id: this.state.data.company_id,
            },
        });
    }

    openCustomer(id) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "res.partner",
            res_id: id,
            views: [[false, "form"]],
        });
    }

    // ---- charts ---------------------------------------------------------------------------------------

    destroyCharts() {
        for (const chart of this.charts) {
            chart.destroy();
        }
        this.charts = [];
    }

    renderCharts() {
        this.destroyCharts();
        const monthly = this.state.data && this.state.data.charts.monthly;
        if (!monthly || !this.monthlyCanvas.el) {
            return;
        }
        this.charts.push(
            new window.Chart(this.monthlyCanvas.el, {
                type: "bar",
                data: {
                    labels: monthly.labels,
                    datasets: [
                        { label: _t("New"), data: monthly.new, backgroundColor: "#4e9a06", stack: "a" },
                        {
                            label: _t("Returning"),
                            data: monthly.returning,
                            backgroundColor: "#3465a4",
                            stack: "a",
                        },
                    ],
                },
                options: {
                    responsive: true,
                    maintainAspectRatio: false,
                    scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
                },
            })
        );
    }

    get rfmGrid() {
        const cells = {};
        for (const cell of this.state.data.charts.rfm) {
            cells[`${cell.r}-${cell.f}`] = cell;
        }
        const max = Math.max(1, ...this.state.data.charts.rfm.map((cell) => cell.customers));
        const rows = [];
        for (let f = 5; f >= 1; f--) {
            rows.push({
                f,
                cells: [1, 2, 3, 4, 5].map((r) => {
                    const cell = cells[`${r}-${f}`] || { customers: 0, sales: 0 };
                    return { r, ...cell, alpha: (cell.customers / max).toFixed(2) };
                }),
            });
        }
        return rows;
    }

    get movementGrid() {
        const { stages, cells } = this.state.data.charts.movement;
        const counts = {};
        for (const cell of cells) {
            counts[`${cell.from}>${cell.to}`] = cell.customers;
        }
        return stages.map((from) => ({
            label: from.label,
            cells: stages.map((to) => counts[`${from.value}>${to.value}`] || 0),
        }));
    }

    get hourGrid() {
        const counts = {};
        let max = 1;
        for (const cell of this.state.data.charts.hours) {
            counts[`${cell.weekday}-${cell.hour}`] = cell.purchases;
            max = Math.max(max, cell.purchases);
        }
        return this.weekdays.map((label, index) => ({
            label,
            cells: [...Array(24).keys()].map((hour) => {
                const value = counts[`${index + 1}-${hour}`] || 0;
                return { hour, value, alpha: (value / max).toFixed(2) };
            }),
        }));
    }
}

registry.category("actions").add("shop_crm.dashboard", ShopCrmDashboard);
