/* Credo shell behaviour. Loaded on every page; no inline scripts (CSP script-src 'self'). */
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  var isEnglish = (document.documentElement.lang || "").toLowerCase().indexOf("en") === 0;
  var TEXT = isEnglish
    ? { error: "The request failed", network: "Network error, please try again.", status: "Server returned status ", confirm: "Are you sure?" }
    : { error: "操作失败", network: "网络异常，请稍后重试。", status: "服务器返回错误，状态码 ", confirm: "确定要执行此操作吗？" };

  function showAlert(message) {
    var box = document.getElementById("credo-toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "credo-toasts";
      document.body.appendChild(box);
    }
    var alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible bg-white shadow";
    alert.setAttribute("role", "alert");
    var title = document.createElement("h4");
    title.className = "alert-title";
    title.textContent = TEXT.error;
    var body = document.createElement("div");
    body.className = "text-secondary";
    body.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", "close");
    close.addEventListener("click", function () { alert.remove(); });
    alert.appendChild(title);
    alert.appendChild(body);
    alert.appendChild(close);
    box.appendChild(alert);
    window.setTimeout(function () { alert.remove(); }, 8000);
  }
  window.credoShowError = showAlert;

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    showAlert(TEXT.status + (xhr ? xhr.status : "?"));
  });
  document.addEventListener("htmx:sendError", function () {
    showAlert(TEXT.network);
  });

  // <form data-confirm="确定删除？"> and <button data-confirm> ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message !== null && message !== undefined && !window.confirm(message || TEXT.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  // htmx elements with data-confirm (non-form triggers) use htmx's own confirm hook.
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.tagName === "FORM" || !elt.hasAttribute("data-confirm")) return;
    event.preventDefault();
    if (window.confirm(elt.getAttribute("data-confirm") || TEXT.confirm)) event.detail.issueRequest(true);
  });
})();
