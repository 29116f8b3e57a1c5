/* Approval-flow designer: show the picker that fits each approver type, enhance person pickers
   with Tom Select, and put the keyboard focus back where the administrator was after an htmx
   re-render (add / remove / move / preview). Every operation also works without this script:
   the buttons are plain form submits handled on the server. */
(function () {
  "use strict";

  function toggle(root) {
    root.querySelectorAll(".designer-when").forEach(function (box) {
      var select = document.getElementById(box.getAttribute("data-for"));
      if (!select) return;
      var show = (box.getAttribute("data-show") || "").split(" ");
      var visible = show.indexOf(select.value) !== -1;
      box.hidden = !visible;
      var hint = box.querySelector(".designer-manager-hint");
      if (hint) hint.hidden = select.value !== "manager";
    });
  }

  function pickers(root) {
    if (typeof window.TomSelect !== "function") return;
    root.querySelectorAll('select[data-picker="user"]').forEach(function (select) {
      if (select.tomselect || select.disabled || select.closest("fieldset[disabled]")) return;
      // eslint-disable-next-line no-new
      new window.TomSelect(select, { maxOptions: 200, create: false });
      // Tom Select points the <label> at its own input; the hidden original keeps its name
      var label = document.getElementById(select.id + "-ts-label");
      if (label) select.setAttribute("aria-labelledby", label.id);
    });
  }

  function focusAfterSwap(root) {
    var target = root.getAttribute("data-focus");
    if (!target) return;
    var el = document.getElementById(target);
    if (!el) return;
    if (el.tomselect) el = el.tomselect.control_input;
    el.focus();
  }

  function init(root, swapped) {
    if (!root) return;
    toggle(root);
    pickers(root);
    if (swapped) focusAfterSwap(root);
  }

  // unsaved designer changes (not the preview sample) ask before the page is left
  var dirty = false;
  function designerField(el) {
    return Boolean(el && el.form && el.form.id === "designer-form" && el.name &&
      el.name.indexOf("pv-") !== 0);
  }
  document.addEventListener("input", function (event) {
    if (designerField(event.target)) dirty = true;
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (designerField(target)) dirty = true;
    if (target && target.classList && target.classList.contains("designer-type")) {
      toggle(document.getElementById("designer") || document);
    }
  });
  // a form submit (保存草稿, 发布 — which confirms on its own) leaves the page on purpose;
  // app.js's capture-phase listener stops the event when a confirmation is declined
  var leaving = false;
  document.addEventListener("submit", function () {
    leaving = true;
  });
  window.addEventListener("beforeunload", function (event) {
    if (leaving || (!dirty && !document.getElementById("designer-dirty"))) return;
    event.preventDefault();
    event.returnValue = "";
  });
  document.addEventListener("htmx:afterSwap", function () {
    init(document.getElementById("designer"), true);
  });
  function start() {
    var root = document.getElementById("designer");
    // a full-page render after 保存草稿 with errors: focus the error summary
    init(root, Boolean(root && root.getAttribute("data-focus") === "designer-errors"));
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
