// Lead kanban: native HTML5 drag & drop between stage columns. Every drop is sent to the
// server (same guards as the detail page) and the board is re-rendered from its answer.
// "Lost" needs a reason → a small form; "converted" goes through the conversion form.
(function () {
  "use strict";
  var dragged = null;

  function board() { return document.getElementById("lead-board"); }

  function submitStage(card, stage) {
    var query = board().getAttribute("data-query");
    var url = card.getAttribute("data-url") + (query ? "?" + query : "");
    window.htmx.ajax("POST", url, {
      target: "#lead-board",
      swap: "outerHTML",
      values: { stage: stage },
    });
  }

  function askLostReason(card) {
    var form = document.getElementById("lost-form");
    form.setAttribute("action", card.getAttribute("data-url"));
    var modal = window.bootstrap.Modal.getOrCreateInstance(document.getElementById("lost-modal"));
    modal.show();
    document.getElementById("lost-reason").focus();
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".lead-card[draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
  });

  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".lead-column.border-primary").forEach(function (col) {
      col.classList.remove("border-primary");
    });
  });

  document.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest(".lead-column");
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("border-primary");
  });

  document.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest(".lead-column");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("border-primary");
  });

  document.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest(".lead-column");
    if (!column || !dragged) return;
    event.preventDefault();
    var card = dragged;
    dragged = null;
    column.classList.remove("border-primary");
    var stage = column.getAttribute("data-stage");
    if (card.closest(".lead-column") === column) return;
    if (stage === "lost") {
      askLostReason(card);
    } else if (stage === "converted") {
      window.location.href = card.getAttribute("data-detail") + "#convert";
    } else {
      submitStage(card, stage);
    }
  });
})();
