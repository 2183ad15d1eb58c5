// Ask a question: while the question is typed, articles and answered community questions like it appear under the
// title (debounced, stale requests cancelled), so a duplicate is not posted. Without JavaScript the server shows
// them on a step before the question is posted. The words it shows come translated from the form's data- attributes.
(function () {
  "use strict";
  var DELAY = 300, MIN_CHARS = 3;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function start(form) {
    var box = document.getElementById("asked-before");
    var questions = box.querySelector("[data-role=question-list]");
    var articles = box.querySelector("[data-role=article-list]");
    var title = form.elements.title, body = form.elements.body;
    var timer = null, pending = null, lastQuery = null;
    // The matches are shown as the question is typed: the server need not show them again before posting.
    form.elements.checked.value = "1";

    function fill(list, items, make) {
      list.replaceChildren();
      items.forEach(function (item) { list.appendChild(make(item)); });
      list.parentNode.hidden = !items.length;
    }

    function show(data) {
      var qs = data ? data.questions : [], as = data ? data.articles : [];
      fill(questions, qs, function (q) {
        var li = el("li", {"class": "suggestion", "data-kind": q.kind});
        li.appendChild(el("a", {href: q.url}, q.title));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", {"class": "meta"}, q.topic + " · " +
          (q.answer === "accepted" ? form.dataset.answeredLabel : form.dataset.officialLabel)));
        return li;
      });
      fill(articles, as, function (a) {
        var li = el("li", {"class": "suggestion", "data-kind": "article"});
        li.appendChild(el("a", {href: a.url}, a.title));
        li.appendChild(el("p", {"class": "snippet"}, a.snippet));
        return li;
      });
      box.hidden = !(qs.length || as.length);
    }

    function lookUp() {
      var query = title.value.trim();
      if (query.length < MIN_CHARS) { if (pending) { pending.abort(); } show(null); lastQuery = null; return; }
      var text = query + "\n" + body.value.trim();
      if (text === lastQuery) { return; }
      lastQuery = text;
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch(form.dataset.suggestUrl + "?q=" + encodeURIComponent(query) +
            "&body=" + encodeURIComponent(body.value.trim()) + "&topic=" + encodeURIComponent(form.dataset.topic),
            {signal: pending.signal, headers: {Accept: "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && data.query !== undefined) { show(data); } })
        .catch(function (err) { if (err.name !== "AbortError") { show(null); } });
    }

    [title, body].forEach(function (f) {
      f.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(lookUp, DELAY);
      });
    });
    if (title.value.trim() && box.hidden) { lookUp(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("ask");
    if (form && window.fetch && window.AbortController) { start(form); }
  });
})();
