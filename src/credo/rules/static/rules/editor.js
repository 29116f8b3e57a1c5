/* Decision-table editor for a JDM draft (no inline JS: reads #jdm-data, writes #id_content).
 * Every decisionTableNode becomes an editable grid; other nodes are kept untouched. */
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "zh").indexOf("en") !== 0;
  var T = zh
    ? { input: "条件", output: "输出", desc: "说明", addRow: "添加行", addIn: "添加条件列",
        addOut: "添加输出列", hit: "命中策略", first: "first（第一条命中）",
        collect: "collect（收集全部命中）", name: "名称", field: "字段", up: "上移",
        down: "下移", del: "删除", delCol: "删除列", empty: "该模型没有决策表节点。",
        confirmCol: "删除该列及其所有单元格？" }
    : { input: "Condition", output: "Output", desc: "Description", addRow: "Add row",
        addIn: "Add condition column", addOut: "Add output column", hit: "Hit policy",
        first: "first", collect: "collect", name: "Name", field: "Field", up: "Up",
        down: "Down", del: "Delete", delCol: "Delete column", empty: "No decision table nodes.",
        confirmCol: "Delete this column and its cells?" };

  function uid(prefix) {
    return prefix + Math.random().toString(36).slice(2, 10);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function iconButton(icon, title, action, extra) {
    var b = el("button", { type: "button", "class": "btn btn-sm btn-ghost-secondary btn-icon",
      title: title, "aria-label": title, "data-action": action });
    Object.keys(extra || {}).forEach(function (k) { b.setAttribute(k, extra[k]); });
    b.appendChild(el("i", { "class": "ti ti-" + icon }));
    return b;
  }

  function init() {
    var source = document.getElementById("jdm-data");
    var root = document.getElementById("jdm-editor");
    var form = document.getElementById("editor-form");
    var target = document.getElementById("id_content");
    if (!source || !root || !form || !target) return;
    var content = JSON.parse(source.textContent);
    var editable = form.getAttribute("data-editable") === "1";
    var tables = (content.nodes || []).filter(function (n) { return n && n.type === "decisionTableNode"; });

    tables.forEach(function (node) {
      node.content = node.content || {};
      ["inputs", "outputs", "rules"].forEach(function (k) {
        if (!Array.isArray(node.content[k])) node.content[k] = [];
      });
      if (!node.content.hitPolicy) node.content.hitPolicy = "first";
      node.content.rules.forEach(function (r) { if (!r._id) r._id = uid("r"); });
    });

    function columns(node) {
      return node.content.inputs.map(function (c) { return { col: c, kind: "input" }; })
        .concat(node.content.outputs.map(function (c) { return { col: c, kind: "output" }; }));
    }

    function renderTable(node, ti) {
      var c = node.content;
      var card = el("div", { "class": "card mb-3 jdm-table", "data-table": String(ti) });
      var header = el("div", { "class": "card-header" }, [
        el("h3", { "class": "card-title", text: node.name || node.id })
      ]);
      var actions = el("div", { "class": "card-actions d-flex gap-2 align-items-center" });
      var label = el("label", { "class": "form-label m-0 text-nowrap", text: T.hit });
      var select = el("select", { "class": "form-select form-select-sm", "data-action": "hit",
        "aria-label": T.hit });
      [["first", T.first], ["collect", T.collect]].forEach(function (o) {
        var opt = el("option", { value: o[0], text: o[1] });
        if (c.hitPolicy === o[0]) opt.selected = true;
        select.appendChild(opt);
      });
      if (!editable) select.disabled = true;
      actions.appendChild(label);
      actions.appendChild(select);
      header.appendChild(actions);
      card.appendChild(header);

      var cols = columns(node);
      var table = el("table", { "class": "table table-sm table-bordered card-table mb-0 jdm-grid" });
      var thead = el("thead");
      var kindRow = el("tr");
      var nameRow = el("tr");
      var fieldRow = el("tr");
      kindRow.appendChild(el("th", { text: "#", rowspan: "3" }));
      cols.forEach(function (entry, ci) {
        var th = el("th", { "class": entry.kind === "input" ? "bg-blue-lt" : "bg-purple-lt" });
        th.appendChild(el("span", { text: entry.kind === "input" ? T.input : T.output }));
        if (editable) {
          th.appendChild(iconButton("x", T.delCol, "del-col", { "data-col": String(ci) }));
        }
        kindRow.appendChild(th);
        nameRow.appendChild(el("th", {}, [cellInput(entry.col.name || "", "col-name", ci, T.name)]));
        fieldRow.appendChild(el("th", {}, [cellInput(entry.col.field || "", "col-field", ci, T.field)]));
      });
      kindRow.appendChild(el("th", { text: T.desc, rowspan: "3" }));
      if (editable) kindRow.appendChild(el("th", { rowspan: "3" }));
      thead.appendChild(kindRow);
      thead.appendChild(nameRow);
      thead.appendChild(fieldRow);
      table.appendChild(thead);

      var tbody = el("tbody");
      c.rules.forEach(function (rule, ri) {
        var tr = el("tr", { "data-row": String(ri) });
        tr.appendChild(el("td", { "class": "text-secondary", text: String(ri + 1) }));
        cols.forEach(function (entry, ci) {
          var value = rule[entry.col.id];
          tr.appendChild(el("td", {}, [cellInput(value == null ? "" : String(value), "cell", ci,
            (entry.col.name || entry.col.field || "") + " " + (ri + 1), ri)]));
        });
        tr.appendChild(el("td", {}, [cellInput(rule._description || "", "desc", -1, T.desc, ri)]));
        if (editable) {
          tr.appendChild(el("td", { "class": "text-nowrap" }, [
            iconButton("arrow-up", T.up, "row-up", { "data-row": String(ri) }),
            iconButton("arrow-down", T.down, "row-down", { "data-row": String(ri) }),
            iconButton("trash", T.del, "row-del", { "data-row": String(ri) })
          ]));
        }
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      card.appendChild(el("div", { "class": "table-responsive" }, [table]));
      if (editable) {
        var footer = el("div", { "class": "card-footer btn-list" });
        [["plus", T.addRow, "add-row"], ["column-insert-right", T.addIn, "add-input"],
         ["column-insert-right", T.addOut, "add-output"]].forEach(function (b) {
          var btn = el("button", { type: "button", "class": "btn btn-sm", "data-action": b[2] });
          btn.appendChild(el("i", { "class": "ti ti-" + b[0] }));
          btn.appendChild(document.createTextNode(b[1]));
          footer.appendChild(btn);
        });
        card.appendChild(footer);
      }
      return card;
    }

    function cellInput(value, kind, ci, label, ri) {
      var input = el("input", { type: "text", "class": "form-control form-control-sm font-monospace",
        "data-kind": kind, "data-col": String(ci), "aria-label": label });
      if (ri !== undefined) input.setAttribute("data-row", String(ri));
      input.value = value;
      if (!editable) input.readOnly = true;
      return input;
    }

    function render() {
      root.textContent = "";
      if (!tables.length) {
        root.appendChild(el("div", { "class": "alert alert-info", text: T.empty }));
        return;
      }
      tables.forEach(function (node, ti) { root.appendChild(renderTable(node, ti)); });
    }

    function nodeOf(target) {
      var card = target.closest(".jdm-table");
      return card ? tables[Number(card.getAttribute("data-table"))] : null;
    }

    root.addEventListener("input", function (event) {
      var t = event.target;
      var node = nodeOf(t);
      if (!node) return;
      var kind = t.getAttribute("data-kind");
      var ci = Number(t.getAttribute("data-col"));
      var ri = Number(t.getAttribute("data-row"));
      var cols = columns(node);
      if (kind === "cell") node.content.rules[ri][cols[ci].col.id] = t.value;
      else if (kind === "desc") node.content.rules[ri]._description = t.value;
      else if (kind === "col-name") cols[ci].col.name = t.value;
      else if (kind === "col-field") cols[ci].col.field = t.value;
    });

    root.addEventListener("change", function (event) {
      var t = event.target;
      if (t.getAttribute("data-action") !== "hit") return;
      var node = nodeOf(t);
      if (node) node.content.hitPolicy = t.value;
    });

    root.addEventListener("click", function (event) {
      var btn = event.target.closest("[data-action]");
      if (!btn || btn.tagName !== "BUTTON") return;
      var node = nodeOf(btn);
      if (!node) return;
      var c = node.content;
      var action = btn.getAttribute("data-action");
      var ri = Number(btn.getAttribute("data-row"));
      if (action === "add-row") {
        c.rules.push({ _id: uid("r"), _description: "" });
      } else if (action === "row-del") {
        c.rules.splice(ri, 1);
      } else if (action === "row-up" && ri > 0) {
        c.rules.splice(ri - 1, 0, c.rules.splice(ri, 1)[0]);
      } else if (action === "row-down" && ri < c.rules.length - 1) {
        c.rules.splice(ri + 1, 0, c.rules.splice(ri, 1)[0]);
      } else if (action === "add-input") {
        c.inputs.push({ id: uid("i"), name: "", field: "" });
      } else if (action === "add-output") {
        c.outputs.push({ id: uid("o"), name: "", field: "" });
      } else if (action === "del-col") {
        if (!window.confirm(T.confirmCol)) return;
        var entry = columns(node)[Number(btn.getAttribute("data-col"))];
        var list = entry.kind === "input" ? c.inputs : c.outputs;
        list.splice(list.indexOf(entry.col), 1);
        c.rules.forEach(function (r) { delete r[entry.col.id]; });
      } else {
        return;
      }
      render();
    });

    form.addEventListener("submit", function () {
      target.value = JSON.stringify(content);
    });
    target.value = JSON.stringify(content);
    render();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
