// Draw every chart on the page from the JSON its server-side Plotly figure was written to.
// Loaded with `defer` after the partial plotly.js bundle; without JS, each chart's table stands in.
(function () {
  "use strict";
  if (!window.Plotly) return;
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.dataset.chart);
    if (!source) return;
    var fig = JSON.parse(source.textContent);
    el.classList.add("drawn");
    window.Plotly.newPlot(el, fig.data, fig.layout, fig.config);
  });
})();

// A "Print" button: the page's print styles give a clean scorecard on paper or as a PDF.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
