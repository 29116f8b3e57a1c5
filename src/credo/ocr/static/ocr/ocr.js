/* 识别证照 panel: upload → recognised fields with confidence → the person ticks, corrects and
   confirms → the values go into the form below. Nothing is saved until that form is submitted. */
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function targetForm(panel) {
    var el = panel.nextElementSibling;
    while (el) {
      if (el.tagName === "FORM") return el;
      el = el.nextElementSibling;
    }
    return document.querySelector("form[method=post]");
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function status(panel, text, kind) {
    var box = panel.querySelector("#ocr-status");
    box.className = "mt-2" + (kind ? " alert alert-" + kind : "");
    box.textContent = text || "";
  }

  function setValue(input, value) {
    if (input.tomselect) {
      input.tomselect.setValue(String(value));
    } else {
      input.value = value;
    }
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.classList.add("border-primary");
  }

  function render(panel, form, data) {
    var tbody = panel.querySelector("#ocr-fields tbody");
    tbody.textContent = "";
    data.fields.forEach(function (f) {
      var input = f.target ? form.querySelector('[name="' + f.target + '"]') : null;
      var fillable = input && !input.disabled && panel.dataset.purpose === "customer";
      var tr = el("tr", { "data-key": f.key, "data-target": fillable ? f.target : "" });
      if (f.low) tr.className = "table-warning";
      var tdBox = el("td");
      if (fillable) {
        var box = el("input", { type: "checkbox", "class": "form-check-input ocr-accept", "aria-label": f.label });
        box.checked = f.valid;
        tdBox.appendChild(box);
      } else {
        tdBox.appendChild(el("span", { "class": "text-secondary small" }, panel.dataset.msgInfo));
      }
      tr.appendChild(tdBox);
      tr.appendChild(el("td", {}, f.label));
      var tdValue = el("td");
      var value = el("input", { type: "text", "class": "form-control form-control-sm ocr-value", "aria-label": f.label });
      value.value = f.value;
      if (!fillable) value.readOnly = true;
      tdValue.appendChild(value);
      tr.appendChild(tdValue);
      var tdConf = el("td", { "class": "text-end ocr-confidence" }, Math.round(f.confidence * 100) + "%");
      if (f.low) {
        tdConf.appendChild(document.createTextNode(" "));
        tdConf.appendChild(el("span", { "class": "badge bg-yellow-lt ocr-low" }, panel.dataset.msgLow));
      }
      tr.appendChild(tdConf);
      tr.appendChild(el("td", { "class": f.valid ? "text-secondary small" : "text-danger small" }, f.message));
      tbody.appendChild(tr);
    });
    panel.querySelector("#ocr-result").hidden = false;
  }

  function init(panel) {
    var form = targetForm(panel);
    var current = null;
    panel.querySelector("#ocr-run").addEventListener("click", function () {
      var file = panel.querySelector("#ocr-image").files[0];
      if (!file) { status(panel, panel.dataset.msgChoose, "warning"); return; }
      var parts = panel.querySelector("#ocr-kind").value.split(":");
      var body = new FormData();
      body.append("image", file);
      body.append("kind", parts[0]);
      body.append("side", parts[1] || "front");
      body.append("purpose", panel.dataset.purpose);
      panel.querySelector("#ocr-result").hidden = true;
      status(panel, panel.dataset.msgWorking, "info");
      fetch(panel.dataset.recognizeUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" }
      }).then(function (r) { return r.json(); }).then(function (data) {
        if (data.error || !data.fields) {
          status(panel, panel.dataset.msgFailed + "：" + (data.error || ""), "danger");
          return;
        }
        current = data;
        status(panel, "");
        render(panel, form, data);
      }).catch(function () { status(panel, panel.dataset.msgNetwork, "danger"); });
    });

    panel.querySelector("#ocr-confirm").addEventListener("click", function () {
      if (!current) return;
      var rows = Array.prototype.slice.call(panel.querySelectorAll("#ocr-fields tbody tr"));
      var chosen = rows.filter(function (tr) {
        var box = tr.querySelector(".ocr-accept");
        return box && box.checked;
      });
      var application = panel.dataset.purpose === "application";
      if (!chosen.length && !application) { status(panel, panel.dataset.msgNone, "warning"); return; }
      var keys = application ? rows.map(function (tr) { return tr.dataset.key; })
                             : chosen.map(function (tr) { return tr.dataset.key; });
      var url = panel.dataset.confirmUrl.replace(/\/0\/confirm\/$/, "/" + current.request_id + "/confirm/");
      var body = new FormData();
      keys.forEach(function (k) { body.append("keys", k); });
      fetch(url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" }
      }).then(function (r) { return r.json(); }).then(function (data) {
        if (data.error) { status(panel, data.error, "danger"); return; }
        if (application) {
          var select = form.querySelector('[name="customer"]');
          if (current.match && select) {
            setValue(select, current.match.id);
            status(panel, panel.dataset.msgMatch + current.match.name, "success");
          } else {
            status(panel, panel.dataset.msgNomatch, "warning");
          }
          return;
        }
        chosen.forEach(function (tr) {
          var input = form.querySelector('[name="' + tr.dataset.target + '"]');
          if (input && !input.disabled) setValue(input, tr.querySelector(".ocr-value").value);
        });
        status(panel, panel.dataset.msgFilled.replace("%s", String(chosen.length)), "success");
      }).catch(function () { status(panel, panel.dataset.msgNetwork, "danger"); });
    });
  }

  function start() {
    var panel = document.getElementById("ocr-panel");
    if (panel) init(panel);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
