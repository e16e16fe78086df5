// Draws the menu statistics chart (clicks per day of the busiest buttons) from JSON in the page.
(function () {
  var el = document.getElementById("menu-chart");
  var source = document.getElementById("menu-series");
  if (!el || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0, type: "scroll" },
    grid: { left: 40, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value", minInterval: 1 },
    series: data.series.map(function (s) { return { name: s.name, type: "line", smooth: true, data: s.clicks }; }),
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
