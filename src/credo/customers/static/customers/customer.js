// Customer 360 page: open the tab named in the URL hash, draw the related-party graph.
(function () {
  "use strict";

  function openTabFromHash() {
    var hash = window.location.hash;
    if (!hash || !window.bootstrap) return;
    var link = document.querySelector('.nav-tabs a[href="' + hash + '"]');
    if (link) window.bootstrap.Tab.getOrCreateInstance(link).show();
  }

  var chart = null;
  function drawGraph() {
    var el = document.getElementById("relation-graph");
    var dataEl = document.getElementById("relation-graph-data");
    if (!el || !dataEl || !window.echarts || el.offsetWidth === 0) return;
    var data = JSON.parse(dataEl.textContent);
    if (chart) { chart.resize(); return; }
    var esc = window.echarts.format.encodeHTML;
    chart = window.echarts.init(el);
    chart.setOption({
      // A tooltip formatter's string is inserted as HTML: customer names are data (markup in a
      // name must show as text), so encode them. Labels drawn on the canvas need no escaping.
      tooltip: {
        formatter: function (p) {
          return esc(p.dataType === "edge" ? p.data.label : p.data.name);
        }
      },
      legend: [{ data: ["本客户", "关联方", "有风险的关联方"], bottom: 0 }],
      series: [{
        type: "graph", layout: "force", roam: true, draggable: true,
        force: { repulsion: 260, edgeLength: 120 },
        categories: [{ name: "本客户" }, { name: "关联方" }, { name: "有风险的关联方" }],
        label: { show: true, position: "right" },
        edgeSymbol: ["none", "arrow"],
        edgeLabel: { show: true, formatter: function (p) { return p.data.label; }, fontSize: 11 },
        symbolSize: function (v, p) { return p.data.category === 0 ? 46 : 30; },
        data: data.nodes,
        links: data.links,
        color: ["#206bc4", "#74b816", "#d63939"]
      }]
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    openTabFromHash();
    document.querySelectorAll('.nav-tabs a[data-bs-toggle="tab"]').forEach(function (a) {
      a.addEventListener("shown.bs.tab", function () {
        history.replaceState(null, "", a.getAttribute("href"));
        if (a.getAttribute("href") === "#relations") drawGraph();
      });
    });
    drawGraph();
    window.addEventListener("resize", function () { if (chart) chart.resize(); });
  });
})();
