// The inbox composer: "/shortcut" typed alone in the reply box becomes that canned reply (data-canned holds
// "shortcut<TAB>text" lines), and the canned-reply menu inserts its choice. No inline script (CSP).
(function () {
  "use strict";
  function cannedOf(area) {
    var map = {};
    (area.getAttribute("data-canned") || "").split("\n").forEach(function (line) {
      var tab = line.indexOf("\t");
      if (tab > 0) map[line.slice(0, tab)] = line.slice(tab + 1);
    });
    return map;
  }
  document.addEventListener("input", function (event) {
    var area = event.target;
    if (!area.matches || !area.matches("textarea[data-canned]")) return;
    var match = /^\/(\S+)\s$/.exec(area.value);
    if (!match) return;
    var text = cannedOf(area)[match[1]];
    if (text !== undefined) area.value = text;
  });
  document.addEventListener("change", function (event) {
    var pick = event.target;
    if (!pick.matches || !pick.matches("select[data-canned-pick]")) return;
    var area = document.getElementById(pick.getAttribute("data-canned-pick"));
    var text = area && cannedOf(area)[pick.value];
    if (text !== undefined) { area.value = text; area.focus(); }
    pick.value = "";
  });
  // The thread shows its newest messages: scrolled to the bottom when shown and when the poll brings more.
  function toBottom() {
    var box = document.getElementById("thread");
    if (box) box.scrollTop = box.scrollHeight;
  }
  document.addEventListener("DOMContentLoaded", toBottom);
  // The thread's poll is the only swap on a conversation page (a 204 when nothing changed swaps nothing).
  document.addEventListener("htmx:afterSettle", toBottom);
  // A double click sends the form once from here; the server's key makes a second send harmless anyway.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "composer") return;
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
  });
})();
