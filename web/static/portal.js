// Contact support: suggestions while the customer types (debounced, stale requests cancelled).
// Without JavaScript the same form shows suggestions on a server-rendered step.
// The words it shows come translated from the form's data- attributes.
(function () {
  "use strict";
  var DELAY = 300, MIN_CHARS = 3;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function suggestionItem(item, query, search, token, solvedUrl, solvedLabel, communityLabel) {
    var li = el("li", {"class": item.kind === "community" ? "suggestion community-hit" : "suggestion"});
    li.appendChild(el("a", {href: item.url, target: "_blank", rel: "noopener"}, item.title));
    if (item.kind === "community") {  // a community question's page: no article to mark as the answer
      li.appendChild(el("span", {"class": "badge"}, communityLabel));
      li.appendChild(el("p", {"class": "snippet"}, item.snippet));
      return li;
    }
    li.appendChild(el("p", {"class": "snippet"}, item.snippet));
    var form = el("form", {method: "post", action: solvedUrl});
    [["csrf_token", token], ["article_id", item.id], ["query", query], ["search", search || ""]].forEach(function (pair) {
      var input = el("input", {type: "hidden", name: pair[0]});
      input.value = pair[1];
      form.appendChild(input);
    });
    form.appendChild(el("button", {type: "submit", "class": "secondary"}, solvedLabel));
    li.appendChild(form);
    return li;
  }

  function noticeItem(notice) {
    var li = el("li", {"class": "known-issue", "data-notice": String(notice.id)});
    li.appendChild(el("strong", {"class": "title"}, notice.title));
    if (notice.body) { li.appendChild(el("div", {"class": "body"}, notice.body)); }
    return li;
  }

  // Known issues for the predicted category go above the suggestions, with or without any suggestion.
  function showNotices(notices) {
    var box = document.getElementById("known-issues");
    if (!box) { return; }
    var list = box.querySelector("[data-role=notices]");
    list.replaceChildren();
    (notices || []).forEach(function (notice) { list.appendChild(noticeItem(notice)); });
    box.hidden = !list.children.length;
  }

  function start(form) {
    var box = document.getElementById("suggestions");
    var list = box.querySelector("[data-role=list]");
    var fields = [form.elements.subject, form.elements.description];
    var token = document.querySelector("meta[name=csrf-token]").content;
    var solvedUrl = "/contact/solved";
    var timer = null, pending = null, lastQuery = null;
    // This typing session's id (from its first answer): each search of it replaces the earlier ones in the search
    // log, so a session counts once (the form's "I still need help" carries it on).
    var session = form.elements.session ? form.elements.session.value : "";

    function show(data) {
      ["category", "empty"].forEach(function (role) {
        var old = box.querySelector("[data-role=" + role + "]");
        if (old) { old.remove(); }
      });
      list.replaceChildren();
      showNotices(data ? data.notices : []);
      if (!data || !data.suggestions.length) { box.hidden = true; return; }
      data.suggestions.forEach(function (item) {
        list.appendChild(suggestionItem(item, data.query, data.search, token, solvedUrl, form.dataset.solvedLabel,
                                        form.dataset.communityLabel));
      });
      if (data.category_title) {
        var p = el("p", {"class": "meta", "data-role": "category"},
                   form.dataset.categoryLabel + " " + data.category_title);
        list.parentNode.insertBefore(p, list);
      }
      box.hidden = false;
    }

    function lookUp() {
      var query = fields.map(function (f) { return f.value.trim(); }).filter(Boolean).join(" ");
      if (query.length < MIN_CHARS) { if (pending) { pending.abort(); } show(null); lastQuery = null; return; }
      if (query === lastQuery) { return; }
      lastQuery = query;
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch(form.dataset.suggestUrl + "?q=" + encodeURIComponent(query) + "&session=" + encodeURIComponent(session),
            {signal: pending.signal, headers: {Accept: "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.query !== undefined) {
            if (data.session) {
              session = data.session;
              if (form.elements.session) { form.elements.session.value = data.session; }
            }
            show(data);
          }
        })
        .catch(function (err) { if (err.name !== "AbortError") { show(null); } });
    }

    fields.forEach(function (f) {
      f.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(lookUp, DELAY);
      });
    });
    var find = document.querySelector("button[form=describe][data-role=find]");
    if (find) { find.hidden = true; }  // suggestions come as the customer types
    if (fields.some(function (f) { return f.value.trim(); }) && box.hidden) { lookUp(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("describe");
    if (form && window.fetch && window.AbortController) { start(form); }
  });
})();
