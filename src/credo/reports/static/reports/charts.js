/* Renders every .credo-chart from the JSON it names (data-chart-source → <script type="application/json" id=…>).
   Data shape: {chart: bar|line|pie|funnel, labels: [...], series: [{name, fmt: money|pct|int, data: [...]}]} */
(function () {
  "use strict";
  function fmt(kind, v) {
    if (v === null || v === undefined) return "—";
    if (kind === "pct") return (v * 100).toFixed(2) + "%";
    if (kind === "money") return Number(v).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return Number(v).toLocaleString("zh-CN");
  }
  function render(box) {
    var source = document.getElementById(box.getAttribute("data-chart-source"));
    if (!source || !window.echarts) return;
    var d = JSON.parse(source.textContent);
    var chart = window.echarts.init(box);
    var option;
    if (d.chart === "pie" || d.chart === "funnel") {
      var s0 = d.series[0];
      option = {
        tooltip: { trigger: "item", valueFormatter: function (v) { return fmt(s0.fmt, v); } },
        legend: { type: "scroll", bottom: 0 },
        series: [{
          name: s0.name, type: d.chart, radius: d.chart === "pie" ? ["35%", "65%"] : undefined,
          data: d.labels.map(function (l, i) { return { name: l, value: s0.data[i] }; })
        }]
      };
    } else {
      var axes = {};
      d.series.forEach(function (s) { axes[s.fmt === "pct" ? "pct" : "val"] = true; });
      var yAxis = [{ type: "value", axisLabel: { formatter: function (v) { return fmt(axes.val ? "int" : "pct", v); } } }];
      if (axes.val && axes.pct) yAxis.push({ type: "value", axisLabel: { formatter: function (v) { return fmt("pct", v); } } });
      option = {
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", top: 0 },
        grid: { left: 60, right: 60, top: 40, bottom: 40 },
        xAxis: { type: "category", data: d.labels, axisLabel: { interval: 0, rotate: d.labels.length > 8 ? 30 : 0 } },
        yAxis: yAxis,
        series: d.series.map(function (s) {
          return {
            name: s.name, type: d.chart === "line" ? "line" : "bar", data: s.data, connectNulls: false,
            yAxisIndex: axes.val && axes.pct && s.fmt === "pct" ? 1 : 0,
            tooltip: { valueFormatter: function (v) { return fmt(s.fmt, v); } }
          };
        })
      };
    }
    chart.setOption(option);
    box.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function init() { document.querySelectorAll(".credo-chart").forEach(render); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
