/* <form data-submit-once>: once the form is submitted, its submit buttons are disabled (and announce
 * data-busy-label, if given) until the next page, so a double click or an impatient second click sends
 * one request. The server does not rely on it: the desk form also carries an idempotency key.
 *
 * Runs after the capture-phase handlers of app.js: a submit they cancelled (data-confirm refused)
 * leaves the buttons alone. `pageshow` re-enables them when the browser restores the page from its
 * back/forward cache. CSP: a static file, no inline script.
 */
(function () {
  "use strict";

  function buttons(form) {
    return form.querySelectorAll('button[type="submit"], input[type="submit"]');
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-submit-once]")) { return; }
    if (form.getAttribute("data-submitting") === "1") {  // a second submit before the page changed
      e.preventDefault();
      return;
    }
    if (e.defaultPrevented) { return; }
    form.setAttribute("data-submitting", "1");
    form.setAttribute("aria-busy", "true");
    // after this event: a button disabled now would not be the form's submitter any more
    window.setTimeout(function () {
      buttons(form).forEach(function (button) {
        button.disabled = true;
        var busy = button.getAttribute("data-busy-label");
        var label = button.querySelector("span") || button;
        if (busy && label.textContent !== busy) {
          button.setAttribute("data-idle-label", label.textContent);
          label.textContent = busy;
        }
      });
    }, 0);
  });

  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submit-once][data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.removeAttribute("aria-busy");
      buttons(form).forEach(function (button) {
        button.disabled = false;
        var idle = button.getAttribute("data-idle-label");
        if (idle !== null) {
          (button.querySelector("span") || button).textContent = idle;
          button.removeAttribute("data-idle-label");
        }
      });
    });
  });
})();
