// Draws the overview charts with Apache ECharts (served from our own static files) from JSON in the page.
(function () {
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  var labels = data("chart-labels") || {};
  var series = data("follow-series");
  var followEl = document.getElementById("follow-chart");
  if (series && followEl && window.echarts) {
    var chart = echarts.init(followEl);
    chart.setOption({
      color: ["#07c160", "#e5484d", "#576b95"],
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [labels.follows, labels.unfollows, labels.net] },
      grid: { left: 40, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: series.days },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: labels.follows, type: "bar", data: series.follows },
        { name: labels.unfollows, type: "bar", data: series.unfollows },
        { name: labels.net, type: "line", smooth: true, data: series.net },
      ],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var channels = data("channel-series");
  var channelEl = document.getElementById("channel-chart");
  if (channels && channelEl && window.echarts) {
    var bar = echarts.init(channelEl);
    bar.setOption({
      color: ["#07c160"],
      tooltip: {},
      grid: { left: 140, right: 30, top: 10, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: channels.map(function (c) { return c.name || c.channel || labels.none; }) },
      series: [{ type: "bar", data: channels.map(function (c) { return c.fans; }) }],
    });
    window.addEventListener("resize", function () { bar.resize(); });
  }
})();
