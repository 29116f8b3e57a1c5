/* 训练新版本: show the fields of the chosen data source only. */
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("train-form");
    if (!form) return;
    function sync() {
      var checked = form.querySelector("input[name=source]:checked");
      var source = checked ? checked.value : "book";
      form.querySelectorAll("[data-source-panel]").forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-source-panel") !== source;
      });
    }
    form.querySelectorAll("input[name=source]").forEach(function (radio) {
      radio.addEventListener("change", sync);
    });
    sync();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
