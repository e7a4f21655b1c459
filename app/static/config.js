// A config's file view: an anchor to a line on another page (#L40000) goes to that page.
(function () {
  "use strict";
  function follow() {
    var match = /^#L(\d+)$/.exec(window.location.hash);
    if (!match || document.getElementById("L" + match[1])) { return; }
    var url = new URL(window.location.href);
    url.hash = "";
    url.searchParams.delete("page");
    url.searchParams.set("line", match[1]);
    window.location.replace(url.toString());
  }
  follow();
  window.addEventListener("hashchange", follow);
})();
