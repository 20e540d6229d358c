// Help desk SLA report: the charts (Chart.js, vendored) drawn from the data-* attributes of each <canvas>.
// No inline scripts (CSP): the page carries the figures as JSON in data-chart.
(function () {
  "use strict";
  function draw(canvas) {
    if (typeof Chart === "undefined") { return; }
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    var datasets = spec.series.map(function (s, i) {
      var colours = ["#0066cc", "#00a36c", "#cc6600", "#7a2e9a"];
      return { label: s.label, data: s.data, backgroundColor: colours[i % colours.length] };
    });
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        scales: spec.percent ? { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } } } : {}
      }
    });
  }
  function init() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) { draw(canvases[i]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
