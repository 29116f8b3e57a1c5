/* Custom records (表单引擎): the designer's add / remove / reorder rows and type-specific
   inputs; the record form's sub-table rows and photo previews. No inline script (CSP). */
(function () {
  "use strict";

  // --- designer ---------------------------------------------------------------------------
  var rowsBox = document.getElementById("designer-rows");
  function renumber() {
    if (!rowsBox) return;
    rowsBox.querySelectorAll(".credo-designer-row").forEach(function (row, i) {
      var order = row.querySelector("[data-designer-order]");
      if (order) order.value = String(i + 1);
    });
  }
  function applyType(row) {
    var select = row.querySelector("[data-designer-type]");
    if (!select) return;
    var t = select.value;
    row.querySelectorAll("[data-show]").forEach(function (el) {
      el.classList.toggle("d-none", el.getAttribute("data-show").split(" ").indexOf(t) < 0);
    });
    row.querySelectorAll("[data-hide]").forEach(function (el) {
      el.classList.toggle("d-none", el.getAttribute("data-hide").split(" ").indexOf(t) >= 0);
    });
  }
  if (rowsBox) {
    rowsBox.querySelectorAll(".credo-designer-row").forEach(applyType);
    rowsBox.addEventListener("change", function (ev) {
      var row = ev.target.closest(".credo-designer-row");
      if (!row) return;
      if (ev.target.matches("[data-designer-type]")) applyType(row);
      if (ev.target.matches("[data-designer-delete]")) {
        row.classList.toggle("opacity-50", ev.target.checked);
      }
    });
    rowsBox.addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-designer-up],[data-designer-down]");
      if (!btn) return;
      var row = btn.closest(".credo-designer-row");
      if (btn.hasAttribute("data-designer-up") && row.previousElementSibling) {
        rowsBox.insertBefore(row, row.previousElementSibling);
      } else if (btn.hasAttribute("data-designer-down") && row.nextElementSibling) {
        rowsBox.insertBefore(row.nextElementSibling, row);
      }
      renumber();
      btn.focus();
    });
    var add = document.getElementById("add-field");
    var tpl = document.getElementById("designer-row-template");
    if (add && tpl) {
      add.addEventListener("click", function () {
        var next = 1;
        rowsBox.querySelectorAll(".credo-designer-row").forEach(function (r) {
          next = Math.max(next, parseInt(r.getAttribute("data-row"), 10) + 1 || next);
        });
        var html = tpl.innerHTML.replace(/__i__/g, String(next));
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var row = holder.firstElementChild;
        rowsBox.appendChild(row);
        applyType(row);
        renumber();
        var first = row.querySelector("input");
        if (first) first.focus();
      });
    }
    renumber();
  }

  // --- record form --------------------------------------------------------------------------
  document.querySelectorAll("[data-subrow-add]").forEach(function (btn) {
    var key = btn.getAttribute("data-subrow-add");
    var box = document.querySelector('[data-subtable="' + key + '"]');
    var tpl = document.querySelector('template[data-subrow-template="' + key + '"]');
    if (!box || !tpl) return;
    btn.addEventListener("click", function () {
      var next = parseInt(box.getAttribute("data-next"), 10) || 0;
      box.setAttribute("data-next", String(next + 1));
      var holder = document.createElement("div");
      holder.innerHTML = tpl.innerHTML.replace(/__r__/g, String(next));
      var row = holder.firstElementChild;
      box.appendChild(row);
      var first = row.querySelector("input,select,textarea");
      if (first) first.focus();
    });
  });
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-subrow-remove]");
    if (!btn) return;
    var row = btn.closest(".credo-subrow");
    var box = row && row.parentElement;
    if (!row || !box) return;
    if (box.querySelectorAll(".credo-subrow").length > 1) {
      row.remove();
    } else {
      row.querySelectorAll("input,select,textarea").forEach(function (el) {
        if (el.type === "checkbox") el.checked = false; else el.value = "";
      });
    }
  });
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    var box = document.querySelector('[data-preview-for="' + input.id + '"]');
    input.addEventListener("change", function () {
      if (!box) return;
      box.textContent = "";
      Array.prototype.forEach.call(input.files || [], function (file) {
        if (!/^image\//.test(file.type)) return;
        // a data: URL, not blob: (the Content-Security-Policy allows img-src 'self' data:)
        var reader = new FileReader();
        reader.onload = function () {
          var img = document.createElement("img");
          img.alt = file.name;
          img.src = String(reader.result);
          box.appendChild(img);
        };
        reader.readAsDataURL(file);
      });
    });
  });
})();
