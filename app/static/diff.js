// Enhancements for the compare page; everything works without them (links and forms).
(function () {
  "use strict";
  var KEY = "infratrace.diffView";

  // The remembered layout: a page opened without ?view= follows the last choice.
  var params = new URLSearchParams(window.location.search);
  var stored = null;
  try { stored = window.localStorage.getItem(KEY); } catch (e) { stored = null; }
  if (!params.get("view") && stored === "split" && document.querySelector("table.diff.unified")) {
    params.set("view", "split");
    window.location.replace(window.location.pathname + "?" + params.toString() + window.location.hash);
    return;
  }
  function remember(view) { try { window.localStorage.setItem(KEY, view); } catch (e) { /* private mode */ } }
  document.querySelectorAll("[data-view]").forEach(function (link) {
    link.addEventListener("click", function () { remember(link.getAttribute("data-view")); });
  });
  var form = document.querySelector(".compare-pickers");
  if (form) {
    form.addEventListener("submit", function () {
      var chosen = form.querySelector("input[name=view]:checked");
      if (chosen) { remember(chosen.value); }
    });
  }

  function fragmentUrl(href) {
    var url = new URL(href, window.location.href);
    url.searchParams.set("fragment", "1");
    return url.toString();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-fold], a[data-more]");
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey) { return; }
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    fetch(fragmentUrl(link.href), { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      if (link.hasAttribute("data-fold")) {
        // Unchanged lines go in place of the fold row.
        var row = link.closest("tr");
        var holder = document.createElement("tbody");
        holder.innerHTML = html;
        var rows = Array.prototype.slice.call(holder.children);
        rows.forEach(function (r) { row.parentNode.insertBefore(r, row); });
        row.parentNode.removeChild(row);
        if (rows[0]) { rows[0].setAttribute("tabindex", "-1"); rows[0].focus(); }
      } else {
        // The next page of hunks is appended where the link was.
        var box = link.closest(".more-changes");
        var wrap = document.createElement("div");
        wrap.innerHTML = html;
        var first = wrap.firstElementChild;
        while (wrap.firstChild) { box.parentNode.insertBefore(wrap.firstChild, box); }
        box.parentNode.removeChild(box);
        if (first) { first.setAttribute("tabindex", "-1"); first.focus(); }
      }
    }).catch(function () { window.location.href = link.href; });
  });
})();
