// The contact statistics' chart: data from <script type="application/json" id="stats-chart-data"> (CSP: no
// inline script), drawn with the vendored Chart.js.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("stats-chart-data");
    var canvas = document.getElementById("stats-chart");
    if (!source || !canvas || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Contatti", data: data.contacts, backgroundColor: "#0066cc" },
          { label: "Minuti", data: data.minutes, backgroundColor: "#5c6f82" }
        ]
      },
      options: { animation: false, responsive: true, plugins: { title: { display: false } } }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
