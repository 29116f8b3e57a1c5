/* Scorecard charts: every .scorecard-chart renders the JSON its data-chart-source names.
   histogram: {labels: [...], series: [{name, data: [counts]}]} → shares per score band;
   iv: {labels: [...], values: [...], name} → horizontal bars, highest first. */
(function () {
  "use strict";
  function pct(v) { return (v * 100).toFixed(1) + "%"; }
  function histogram(d) {
    return {
      tooltip: { trigger: "axis", valueFormatter: pct },
      legend: { top: 0 },
      grid: { left: 50, right: 20, top: 36, bottom: 60 },
      xAxis: { type: "category", data: d.labels, axisLabel: { rotate: 40 } },
      yAxis: { type: "value", axisLabel: { formatter: pct } },
      series: d.series.map(function (s) {
        var total = s.data.reduce(function (a, b) { return a + b; }, 0) || 1;
        return {
          name: s.name, type: "bar", barGap: "5%",
          data: s.data.map(function (v) { return Math.round(v / total * 10000) / 10000; })
        };
      })
    };
  }
  function iv(d) {
    var labels = d.labels.slice().reverse();
    var values = d.values.slice().reverse();
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 10, right: 40, top: 10, bottom: 20, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: labels },
      series: [{
        name: d.name, type: "bar", data: values.map(function (v) {
          var color = v >= 0.3 ? "#2fb344" : v >= 0.1 ? "#206bc4" : v >= 0.02 ? "#f59f00" : "#adb5bd";
          return { value: v, itemStyle: { color: color } };
        }),
        label: { show: true, position: "right", formatter: function (p) { return p.value.toFixed(3); } }
      }]
    };
  }
  function render(box) {
    var source = document.getElementById(box.getAttribute("data-chart-source"));
    if (!source || !window.echarts) return;
    var d = JSON.parse(source.textContent);
    var kind = box.getAttribute("data-chart-kind");
    var chart = window.echarts.init(box);
    chart.setOption(kind === "iv" ? iv(d) : histogram(d));
    box.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function init() { document.querySelectorAll(".scorecard-chart").forEach(render); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
