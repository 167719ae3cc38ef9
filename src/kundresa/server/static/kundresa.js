// Draws the page's figure (JSON embedded by the server) with the locally served plotly.min.js.
(function () {
  var data = document.getElementById("figure-data");
  var target = document.getElementById("figure");
  if (!data || !target || !window.Plotly) return;
  var fig = JSON.parse(data.textContent);
  window.Plotly.newPlot(target, fig.data, fig.layout, {responsive: true, displaylogo: false})
    .then(function () { document.body.setAttribute("data-figure", "ready"); });
})();
