import { _t } from "@web/core/l10n/translation";
import { loadBundle } from "@web/core/assets";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

import { Component, onWillStart, useEffect, useRef } from "@odoo/owl";

const COLORS = { treated: "#1f77b4", control: "#aaaaaa" };

/** Cumulative responders per day of a campaign's results window, treated against the control group
 * (as a share of each group, so that a 90 % and a 10 % group can be compared; counts in the tooltip). */
export class CampaignChartField extends Component {
    static template = "shop_crm.CampaignChartField";
    static props = { ...standardFieldProps };

    setup() {
        this.chart = null;
        this.canvasRef = useRef("canvas");
        onWillStart(async () => await loadBundle("web.chartjs_lib"));
        useEffect(() => {
            this.renderChart();
            return () => this.chart?.destroy();
        });
    }

    get data() {
        return this.props.record.data[this.props.name];
    }

    renderChart() {
        const data = this.data;
        if (!data || !this.canvasRef.el) {
            return;
        }
        this.chart?.destroy();
        this.chart = new Chart(this.canvasRef.el, {
            type: "line",
            data: {
                labels: data.labels,
                datasets: data.datasets.map((dataset) => ({
                    label: dataset.label,
                    data: dataset.rates,
                    counts: dataset.counts,
                    borderColor: COLORS[dataset.group],
                    backgroundColor: COLORS[dataset.group],
                    stepped: true,
                    pointRadius: 0,
                })),
            },
            options: {
                responsive: true,
                maintainAspectRatio: false,
                scales: {
                    y: { beginAtZero: true, title: { display: true, text: _t("Came back (% of the group)") } },
                },
                plugins: {
                    title: { display: true, text: _t("Cumulative responders per day") },
                    tooltip: {
                        callbacks: {
                            label: (item) =>
                                _t("%(group)s: %(count)s customers (%(rate)s %)", {
                                    group: item.dataset.label,
                                    count: item.dataset.counts[item.dataIndex],
                                    rate: item.formattedValue,
                                }),
                        },
                    },
                },
            },
        });
    }
}

registry.category("fields").add("shop_crm_campaign_chart", {
    component: CampaignChartField,
    supportedTypes: ["json"],
});
