/* Credo on the phone (loaded on every page, no inline scripts — CSP script-src 'self'):
 *  - registers the service worker (offline page, installable PWA);
 *  - below 576 px: list tables become cards (each cell labelled with its column heading),
 *    filter forms fold into a sheet, the page's main actions move to a bottom bar;
 *  - money never breaks inside a number (1,234,567.89 is wrapped in a nowrap span);
 *  - the queue of field-work drafts saved on the phone while offline, synced when back online
 *    (window.credoFieldDrafts, used by field.js).
 */
(function () {
  "use strict";

  var PREFIX = "credo.fw.draft.";
  var PHONE = window.matchMedia ? window.matchMedia("(max-width: 575.98px)") : { matches: false };
  var isEnglish = (document.documentElement.lang || "").toLowerCase().indexOf("en") === 0;
  var T = isEnglish
    ? { filters: "Filters", active: " active", pending: " draft(s) waiting to sync", synced: " draft(s) synced", relogin: "Session expired: sign in again to sync drafts.", failed: "A draft was refused by the server; open it to correct: " }
    : { filters: "筛选条件", active: " 项已选", pending: " 份草稿待同步（联网后自动提交）", synced: " 份草稿已同步", relogin: "登录已失效，请重新登录后同步草稿。", failed: "有草稿未通过校验，请打开修改后重新提交：" };

  // --- service worker ---------------------------------------------------------------------------
  var swMeta = document.querySelector('meta[name="credo-sw"]');
  if (swMeta && "serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register(swMeta.getAttribute("content"), { scope: "/" }).catch(function () {});
    });
  }

  // --- drafts -----------------------------------------------------------------------------------
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function get(key) {
    try { return JSON.parse(window.localStorage.getItem(PREFIX + key) || "null"); } catch (e) { return null; }
  }
  function save(draft) {
    try { window.localStorage.setItem(PREFIX + draft.key, JSON.stringify(draft)); return true; } catch (e) { return false; }
  }
  function remove(key) { try { window.localStorage.removeItem(PREFIX + key); } catch (e) { /* ignore */ } }
  function list() {
    var out = [];
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var k = window.localStorage.key(i);
        if (k && k.indexOf(PREFIX) === 0) {
          var d = get(k.slice(PREFIX.length));
          if (d) out.push(d);
        }
      }
    } catch (e) { /* storage disabled */ }
    return out;
  }

  function dataUrlToBlob(url) {
    var parts = url.split(",");
    var mime = (parts[0].match(/data:([^;]+)/) || [])[1] || "image/jpeg";
    var bin = window.atob(parts[1]);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Blob([bytes], { type: mime });
  }

  function send(draft) {
    var fd = new FormData();
    (draft.fields || []).forEach(function (f) { fd.append(f[0], f[1]); });
    (draft.photos || []).forEach(function (p, i) { fd.append("photos", dataUrlToBlob(p), "photo-" + (i + 1) + ".jpg"); });
    return fetch(draft.action, {
      method: "POST",
      body: fd,
      credentials: "same-origin",
      headers: { "X-Credo-Sync": "1", "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (resp) {
      var type = resp.headers.get("content-type") || "";
      if (type.indexOf("application/json") === -1) {
        // redirected to the login page (session expired) or a proxy error: keep the draft
        return { ok: false, retry: true, message: T.relogin, status: resp.status };
      }
      return resp.json().then(function (body) {
        body.status = resp.status;
        body.retry = !body.ok && resp.status >= 500;
        return body;
      });
    });
  }

  var syncing = false;
  function banner(text, kind) {
    var box = document.getElementById("fieldwork-drafts") || document.getElementById("offline-drafts");
    if (!box) return;
    box.textContent = text;
    box.classList.toggle("d-none", !text);
    if (kind && box.classList.contains("alert")) {
      box.classList.remove("alert-warning", "alert-success", "alert-danger");
      box.classList.add("alert-" + kind);
    }
  }
  function showPending() {
    var n = list().filter(function (d) { return d.queued; }).length;
    banner(n ? n + T.pending : "", "warning");
    return n;
  }
  function syncAll() {
    if (syncing || !navigator.onLine) return Promise.resolve(0);
    var queued = list().filter(function (d) { return d.queued; });
    if (!queued.length) { showPending(); return Promise.resolve(0); }
    syncing = true;
    var done = 0;
    var chain = Promise.resolve();
    queued.forEach(function (d) {
      chain = chain.then(function () {
        return send(d).then(function (r) {
          if (r.ok) {
            remove(d.key);
            done += 1;
            document.dispatchEvent(new CustomEvent("credo:draft-synced", { detail: { key: d.key, url: r.url } }));
          } else if (!r.retry) {
            d.queued = false;
            d.error = r.message || "";
            d.errors = r.errors || {};
            save(d);
            banner(T.failed + (d.title || d.key), "danger");
            document.dispatchEvent(new CustomEvent("credo:draft-refused", { detail: { key: d.key, errors: d.errors, message: d.error } }));
          } else if (r.message) {
            banner(r.message, "danger");
          }
        }).catch(function () { /* still offline: kept for the next attempt */ });
      });
    });
    return chain.then(function () {
      syncing = false;
      if (!showPending() && done) banner(done + T.synced, "success");
      return done;
    });
  }

  window.credoFieldDrafts = { get: get, save: save, remove: remove, list: list, send: send, syncAll: syncAll, showPending: showPending };
  window.addEventListener("online", function () { syncAll(); });
  window.setInterval(function () { if (navigator.onLine) syncAll(); }, 20000);

  // --- phone layout -----------------------------------------------------------------------------
  function cardify() {
    var tables = document.querySelectorAll(".page-body .table-responsive > table");
    Array.prototype.forEach.call(tables, function (table) {
      if (table.hasAttribute("data-no-cards") || !table.tHead) return;
      var heads = Array.prototype.map.call(table.tHead.rows[0] ? table.tHead.rows[0].cells : [], function (th) {
        return (th.textContent || "").replace(/\s+/g, " ").trim();
      });
      if (heads.length < 2) return;
      table.classList.add("credo-cards");
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var col = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (!cell.hasAttribute("data-label") && heads[col]) cell.setAttribute("data-label", heads[col]);
            col += cell.colSpan || 1;
          });
        });
      });
    });
  }

  function filterSheets() {
    if (!PHONE.matches) return;
    var forms = document.querySelectorAll(".page-body form[method='get'], .page-body form[method='GET']");
    Array.prototype.forEach.call(forms, function (form) {
      if (form.closest("details") || form.hasAttribute("data-no-sheet") || form.getAttribute("role") === "search") return;
      var fields = form.querySelectorAll("select, input:not([type='hidden']):not([type='submit'])");
      if (fields.length < 2) return;
      var active = 0;
      Array.prototype.forEach.call(fields, function (f) {
        if ((f.type === "checkbox" || f.type === "radio") ? f.checked : (f.value && f.value !== "")) active += 1;
      });
      var details = document.createElement("details");
      details.className = "credo-filter-sheet";
      var summary = document.createElement("summary");
      summary.className = "btn w-100";
      summary.textContent = T.filters + (active ? "（" + active + T.active + "）" : "");
      details.appendChild(summary);
      form.parentNode.insertBefore(details, form);
      details.appendChild(form);
    });
  }

  var MONEY = /-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+\.\d{2}(?!\d)/g;
  var SKIP = { SCRIPT: 1, STYLE: 1, TEXTAREA: 1, OPTION: 1, SELECT: 1, INPUT: 1, CODE: 1, PRE: 1 };
  function wrapMoney(root) {
    if (!root || !document.createTreeWalker) return;
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        var p = node.parentNode;
        if (!p || SKIP[p.nodeName] || (p.classList && p.classList.contains("credo-money"))) return NodeFilter.FILTER_REJECT;
        MONEY.lastIndex = 0;
        return MONEY.test(node.nodeValue) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
      }
    });
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      var text = node.nodeValue;
      var frag = document.createDocumentFragment();
      var last = 0;
      MONEY.lastIndex = 0;
      var m;
      while ((m = MONEY.exec(text)) !== null) {
        if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
        var span = document.createElement("span");
        span.className = "credo-money";
        span.textContent = m[0];
        frag.appendChild(span);
        last = m.index + m[0].length;
      }
      if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(frag, node);
    });
  }

  function actionBar() {
    var list = document.querySelector(".page-header .btn-list");
    if (list && list.children.length && !document.querySelector(".credo-actionbar")) {
      document.body.classList.add("credo-has-actions");
    }
  }

  function init() {
    cardify();
    filterSheets();
    wrapMoney(document.querySelector(".page-body"));
    wrapMoney(document.querySelector(".page-header"));
    actionBar();
    showPending();
    if (navigator.onLine) syncAll();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  document.addEventListener("htmx:afterSwap", function (e) { cardify(); wrapMoney(e.target); });
})();
