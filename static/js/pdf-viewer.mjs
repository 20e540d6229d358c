/* Esattoria: the archive's PDF viewer (templates/archive/document_detail.html), with pdf.js from
 * static/vendor/pdfjs/ (scripts/vendor.sh).
 *
 * CSP-safe: an ES module loaded with <script type="module" src>, the worker a module from 'self', no eval
 * (isEvalSupported: false). Each page is drawn on a canvas of its own; the file comes from the document's
 * inline route, which logs the view. Without JavaScript the "Scarica l'originale" link stays.
 */
import * as pdfjsLib from "../vendor/pdfjs/pdf.min.mjs";

const MAX_PAGES = 50; // beyond this the viewer says so and the download link serves the rest

async function show(viewer) {
  const status = viewer.querySelector("[data-pdf-status]");
  const pages = viewer.querySelector("[data-pdf-pages]");
  pdfjsLib.GlobalWorkerOptions.workerSrc = viewer.dataset.pdfWorker;
  try {
    const pdf = await pdfjsLib.getDocument({ url: viewer.dataset.pdfUrl, isEvalSupported: false }).promise;
    const count = Math.min(pdf.numPages, MAX_PAGES);
    const width = Math.max(pages.clientWidth, 320);
    for (let n = 1; n <= count; n += 1) {
      const page = await pdf.getPage(n);
      const base = page.getViewport({ scale: 1 });
      const ratio = window.devicePixelRatio || 1;
      const viewport = page.getViewport({ scale: (width / base.width) * ratio });
      const canvas = document.createElement("canvas");
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.className = "esa-pdf-page border mb-2 w-100";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", "Pagina " + n + " di " + pdf.numPages);
      canvas.dataset.page = String(n);
      pages.appendChild(canvas);
      await page.render({ canvas: canvas, canvasContext: canvas.getContext("2d"), viewport: viewport }).promise;
    }
    status.textContent = pdf.numPages > count
      ? "Mostrate le prime " + count + " pagine di " + pdf.numPages + ": scarica l'originale per le altre."
      : (pdf.numPages === 1 ? "1 pagina." : pdf.numPages + " pagine.");
    viewer.dataset.pdfRendered = String(count);
  } catch (error) {
    status.textContent = "Impossibile mostrare il PDF qui: scarica l'originale.";
    viewer.dataset.pdfRendered = "error";
  }
}

document.querySelectorAll("[data-pdf-url]").forEach(show);
