// Analisi: every <canvas data-analytics-chart='{...}'> drawn with the vendored Chart.js (CSP: no inline script).
// The JSON carries integers only: money in cents, rates in basis points; they are scaled and formatted here.
(function () {
  "use strict";
  var COLORS = ["#0066cc", "#5c6f82", "#008055", "#cc7a00"];
  var euro = new Intl.NumberFormat("it-IT", { style: "currency", currency: "EUR", useGrouping: "always" });
  var number = new Intl.NumberFormat("it-IT", { useGrouping: "always" });
  function scale(unit, value) {
    if (value === null || value === undefined) { return null; }
    if (unit === "money" || unit === "percent") { return value / 100; }
    return value;
  }
  function format(unit, value) {
    if (unit === "money") { return euro.format(value); }
    if (unit === "percent") { return number.format(value) + "%"; }
    return number.format(value);
  }
  function draw(canvas) {
    var data = JSON.parse(canvas.getAttribute("data-analytics-chart"));
    var unit = data.unit;
    new Chart(canvas, {
      type: data.type || "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return { label: s.label, data: s.data.map(function (v) { return scale(unit, v); }),
                   backgroundColor: COLORS[i % COLORS.length] };
        })
      },
      options: {
        animation: false,
        responsive: true,
        scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return format(unit, v); } } } },
        plugins: { tooltip: { callbacks: { label: function (ctx) {
          return ctx.dataset.label + ": " + format(unit, ctx.parsed.y);
        } } } }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }
  function drawAll() {
    // the builder: another dataset has other fields, so choosing one reloads the form with its choices
    var dataset = document.querySelector("form[data-testid='builder-form'] select[name='dataset']");
    if (dataset) {
      dataset.addEventListener("change", function () {
        window.location.search = "?dataset=" + encodeURIComponent(dataset.value);
      });
    }
    if (typeof Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-analytics-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
