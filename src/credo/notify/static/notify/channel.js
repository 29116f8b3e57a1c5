// Channel form: show only the settings of the selected channel type.
(function () {
  "use strict";
  function sync() {
    var select = document.getElementById("id_engine");
    if (!select) return;
    var engine = select.value;
    document.querySelectorAll("#channel-form [data-engines]").forEach(function (el) {
      var engines = el.getAttribute("data-engines").split(" ");
      el.hidden = engines.indexOf(engine) === -1;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_engine");
    if (!select) return;
    select.addEventListener("change", sync);
    sync();
  });
})();
