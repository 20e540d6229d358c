/* Esattoria: the multi-file upload of the archive (templates/archive/document_upload.html).
 *
 * A drop zone around the normal file input (multiple): dropped files go into the input and the form posts
 * them as usual; the chosen files are announced. Without this script the input stays a plain file input.
 * CSP: no inline code; this file is loaded with <script src>.
 */
(function () {
  "use strict";

  function describe(files) {
    if (!files || !files.length) { return ""; }
    var names = Array.prototype.map.call(files, function (f) { return f.name; });
    return (files.length === 1 ? "File scelto: " : files.length + " file scelti: ") + names.join(", ");
  }

  function setup(zone) {
    var input = zone.querySelector('input[type="file"]');
    var label = zone.querySelector("[data-dropzone-name]");
    if (!input) { return; }
    function show() { if (label) { label.textContent = describe(input.files); } }
    function highlight(on) {
      zone.classList.toggle("border-primary", on);
      zone.classList.toggle("border-3", on);
      zone.classList.toggle("bg-light", !on);
    }
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) {
        e.preventDefault();
        if (e.dataTransfer) { e.dataTransfer.dropEffect = "copy"; }
        highlight(true);
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      zone.addEventListener(name, function (e) { if (!zone.contains(e.relatedTarget)) { highlight(false); } });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      highlight(false);
      var files = e.dataTransfer ? e.dataTransfer.files : null;
      if (!files || !files.length) { return; }
      input.files = files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  document.querySelectorAll("[data-dropzone-multiple]").forEach(setup);
})();
