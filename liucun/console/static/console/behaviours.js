// Small page behaviours declared in markup with data- attributes, so no page needs inline script and the
// Content-Security-Policy can forbid it (script-src 'self').
//   data-submit-on-change      on a control: submit its form when it changes (filters, language)
//   data-confirm="question"    on a form: ask before submitting
//   data-check-all="name"      on a checkbox: tick or untick every checkbox of that name on the page
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-submit-on-change]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[type=checkbox][data-check-all]")) {
      var name = target.getAttribute("data-check-all");
      document.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);
})();
