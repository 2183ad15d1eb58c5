// The desk's reply composer: "Insert link" puts the article into the reply at the cursor, without a round trip.
// An internal article asks first and then inserts its title only: its address never goes into a reply.
// A macro's button puts its text into the reply and chooses its status the same way.
// Without JavaScript the same buttons submit the composer and the server does the same.
// The confirmation's text comes translated from the page (each internal article's data-confirm).
(function () {
  "use strict";

  // At the cursor once the agent has been in the reply; before that (e.g. a reloaded draft), at its end.
  function insertAt(area, text) {
    if (!area.dataset.touched) { area.setSelectionRange(area.value.length, area.value.length); }
    var start = area.selectionStart, end = area.selectionEnd, before = area.value.slice(0, start);
    if (before && !/\n$/.test(before)) { text = "\n" + text; }
    text += "\n";
    area.setRangeText(text, start, end, "end");
    area.focus();
    area.dispatchEvent(new Event("input", {bubbles: true}));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var composer = document.getElementById("composer");
    if (!composer) { return; }
    var area = composer.elements.body, summary = composer.elements.with_summary;
    area.addEventListener("focus", function () { area.dataset.touched = "1"; });
    document.querySelectorAll("button[data-insert]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var title = button.dataset.title;
        if (button.hasAttribute("data-internal")) {
          if (window.confirm(button.dataset.confirm)) {
            insertAt(area, title);
          }
          return;
        }
        var text = "[" + title + "](" + button.dataset.url + ")";
        if (summary && summary.checked && button.dataset.summary) { text += "\n" + button.dataset.summary; }
        insertAt(area, text);
      });
    });
    // A macro: its text (placeholders filled by the server for this ticket, links included) goes in at the
    // cursor, and the status it sets is chosen in "Then set the status" (sent with the reply).
    document.querySelectorAll("button[data-macro]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        insertAt(area, button.dataset.text);
        var status = composer.elements.status, wanted = button.dataset.status;
        if (status && wanted && status.querySelector("option[value='" + wanted + "']")) { status.value = wanted; }
      });
    });
  });
})();
