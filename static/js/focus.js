/* Focus management (WCAG 2.4.3, 3.3.1). Static file: the CSP allows no inline script.
 *
 * 1. After an htmx form submission that comes back with validation errors, focus goes to the first invalid
 *    field ([aria-invalid="true"]) of the swapped content, or else to its first error message, so a keyboard
 *    or screen-reader user lands on what to fix. Only for submissions (not search-as-you-type).
 * 2. Escape closes the open menu (the mobile navigation or the user menu) and focus goes back to the button
 *    that opened it.
 */
(function () {
  "use strict";

  function swappedRoot(detail) {
    var target = detail.target || detail.elt;
    if (target && target.isConnected) { return target; }
    return target && target.id ? document.getElementById(target.id) : null;  // outerHTML: the new element
  }

  function bySubmit(detail) {
    var config = detail.requestConfig || {};
    var event = config.triggeringEvent;
    return !!(event && event.type === "submit");
  }

  document.addEventListener("htmx:afterSettle", function (e) {
    if (!bySubmit(e.detail)) { return; }
    var root = swappedRoot(e.detail);
    if (!root) { return; }
    var field = root.querySelector('[aria-invalid="true"]');
    if (field) { field.focus(); return; }
    var message = root.querySelector('.invalid-feedback, .alert-danger, [role="alert"]');
    if (message) {
      if (!message.hasAttribute("tabindex")) { message.setAttribute("tabindex", "-1"); }
      message.focus();
    }
  });

  /* Capture phase: runs before Bootstrap Italia's own Escape handler (which closes the navigation but leaves
   * the focus inside it), so what was open is still known. */
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    var toggler = document.querySelector(".custom-navbar-toggler");
    var nav = document.getElementById("esa-nav");
    if (toggler && nav && toggler.getAttribute("aria-expanded") === "true") {
      setTimeout(function () {
        if (toggler.getAttribute("aria-expanded") === "true") {
          var close = nav.querySelector(".close-menu");
          if (close) { close.click(); }
        }
        toggler.focus();
      }, 0);
      return;
    }
    var userButton = document.getElementById("esa-user-menu-button");
    if (userButton && userButton.getAttribute("aria-expanded") === "true") {
      setTimeout(function () {
        if (userButton.getAttribute("aria-expanded") === "true" && window.bootstrap && window.bootstrap.Dropdown) {
          window.bootstrap.Dropdown.getOrCreateInstance(userButton).hide();
        }
        userButton.focus();
      }, 0);
    }
  }, true);
})();
