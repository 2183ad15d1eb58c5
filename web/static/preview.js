// Preview (kb serve --watch): reload the page when a rebuilt index is being served.
(function () {
  var script = document.currentScript;
  var shown = script && script.getAttribute("data-build");
  if (!shown || !window.fetch) return;
  setInterval(function () {
    fetch("/_index", {cache: "no-store"}).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.build !== shown) window.location.reload(); })
      .catch(function () {});
  }, 1000);
})();
