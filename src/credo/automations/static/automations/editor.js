// 自动化编辑器: show only the fields that apply to the chosen trigger type, condition kind and
// each action's type (fields carry data-when="<select name>:<value,value>").
(function () {
  function refresh(form) {
    form.querySelectorAll("[data-when]").forEach(function (el) {
      var spec = el.getAttribute("data-when").split(":");
      var select = form.querySelector('[name="' + spec[0] + '"]');
      var show = select && spec[1].split(",").indexOf(select.value) >= 0;
      el.hidden = !show;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("automation-form");
    if (!form) return;
    form.addEventListener("change", function () { refresh(form); });
    refresh(form);
  });
})();
