// The desk's collision notice: while a ticket is open this page tells the server every few seconds that its agent
// is here ("viewing", or "replying" while they type a reply) and shows who else is, e.g. "Alex is replying".
// The texts come translated from the server; a report that stops (a closed tab) drops out after about 30 s,
// sooner when the page says goodbye as it closes.
(function () {
  "use strict";

  var TYPING_MS = 15000;  // "replying" for this long after the last keystroke in the reply

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("presence");
    if (!box || !window.fetch) { return; }
    var token = document.querySelector('meta[name="csrf-token"]').content;
    var composer = document.getElementById("composer");
    var area = composer && composer.elements.body;
    var typedAt = 0, delay = 5000, timer = null, busy = false;
    if (area) { area.addEventListener("input", function () { typedAt = Date.now(); }); }

    function state() {
      return area && area.value.trim() && Date.now() - typedAt < TYPING_MS ? "replying" : "viewing";
    }

    function show(others) {
      box.textContent = "";
      others.forEach(function (other) {
        var line = document.createElement("p");
        line.className = "presence-" + other.state;
        line.textContent = other.text;
        box.appendChild(line);
      });
      box.hidden = others.length === 0;
    }

    function tick() {
      busy = true;
      fetch(box.dataset.url, {method: "POST", credentials: "same-origin",
                              headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                              body: JSON.stringify({state: state()})})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (answer) {
            show(answer.others || []);
            if (answer.poll) { delay = answer.poll * 1000; }
          }
        })
        .catch(function () { /* the next report tries again */ })
        .then(function () { busy = false; timer = window.setTimeout(tick, delay); });
    }

    window.addEventListener("pagehide", function () {
      window.clearTimeout(timer);
      var goodbye = new FormData();
      goodbye.append("csrf_token", token);
      navigator.sendBeacon(box.dataset.leave, goodbye);
    });
    if (area) {  // say "replying" at once when typing starts, not at the next report
      area.addEventListener("input", function once() {
        area.removeEventListener("input", once);
        if (!busy) { window.clearTimeout(timer); tick(); }
      });
    }
    tick();
  });
})();
