// Confirmation for destructive buttons: forms carrying data-confirm ask before they submit.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
});

// Copy buttons (data-copy="<id of an input>"): an enhancement; without JavaScript the input is
// read-only text to select by hand, and the button stays hidden.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    input.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
});

// Tabs switched by URL fragment (CSS :target does the switching): mark the current tab for
// assistive technology as well.
function markCurrentTab() {
  var tabs = document.querySelectorAll(".device-tabs a[href^='#']");
  if (!tabs.length) { return; }
  var hash = window.location.hash;
  var known = Array.prototype.some.call(tabs, function (a) { return a.getAttribute("href") === hash; });
  tabs.forEach(function (a) {
    var current = known ? a.getAttribute("href") === hash : a.getAttribute("href") === "#overview";
    if (current) { a.setAttribute("aria-current", "true"); } else { a.removeAttribute("aria-current"); }
  });
}
window.addEventListener("hashchange", markCurrentTab);
markCurrentTab();
