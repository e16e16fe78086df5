// Draws every report chart: an element with data-echarts-option names the JSON script holding its
// Apache ECharts option, built by the server (liucun/analytics). No inline script (CSP).
(function () {
  if (!window.echarts) { return; }
  document.querySelectorAll("[data-echarts-option]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-echarts-option"));
    if (!source) { return; }
    var chart = echarts.init(el);
    chart.setOption(JSON.parse(source.textContent));
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
