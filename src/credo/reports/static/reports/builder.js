/* Report builder: choosing a dataset reloads the form with that dataset's fields. */
(function () {
  "use strict";
  function init() {
    var select = document.querySelector("select[data-autosubmit]");
    if (!select) return;
    select.addEventListener("change", function () {
      var form = select.form;
      form.querySelectorAll("select[name=d], select[name=m], [name^=f]").forEach(function (el) { el.disabled = true; });
      form.submit();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
