// Small page behaviours declared in markup with data- attributes, so no page needs inline script and the
// Content-Security-Policy can forbid it (script-src 'self').
//   data-submit-on-change      on a control: submit its form when it changes (filters, language)
//   data-confirm="question"    on a form: ask before submitting
//   data-check-all="name"      on a checkbox: tick or untick every checkbox of that name on the page
//   data-menu-toggle           on a button with aria-controls: open or close that element (the phone-width
//                              menu); Escape closes it and gives the focus back to the button
(function () {
  "use strict";
  function setMenu(button, open) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-menu-toggle]");
    if (button) {
      setMenu(button, button.getAttribute("aria-expanded") !== "true");
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("[data-menu-toggle][aria-expanded=true]").forEach(function (button) {
      setMenu(button, false);
      button.focus();
    });
  });
  // Going back to a page the browser kept in memory must not show the menu still open over it.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("[data-menu-toggle][aria-expanded=true]").forEach(function (button) {
      setMenu(button, false);
    });
  });
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
