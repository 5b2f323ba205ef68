/* global document, Chartist */
/*
 * Draws the "today" charts from the figures the page carries (the tables beside them hold the
 * same numbers for screen readers and for browsers without scripts).
 */
(function () {
  'use strict';
  var source = document.getElementById('chart-data');
  if (!source || typeof Chartist === 'undefined') return;
  var data = JSON.parse(source.textContent || '{}');
  // Right to left: the first item on the right and the values' axis beside it.
  var rtl = document.documentElement.dir === 'rtl';

  function bar(id, figures, options) {
    var element = document.getElementById(id);
    if (!element || !figures || figures.labels.length === 0) return;
    // Chartist's reverseData would reverse the series too (and so their colours): reverse
    // only the order of the bars.
    var order = function (list) {
      return rtl ? list.slice().reverse() : list;
    };
    new Chartist.BarChart(
      element,
      { labels: order(figures.labels), series: figures.series.map(order) },
      Object.assign(
        {
          height: '220px',
          seriesBarDistance: 14,
          axisY: { onlyInteger: true, position: rtl ? 'end' : 'start' },
          chartPadding: { top: 15, right: rtl ? 10 : 15, bottom: 5, left: rtl ? 15 : 10 },
        },
        options || {},
      ),
    );
  }

  bar('chart-billers', data.billers);
  bar('chart-governorates', data.governorates);
  bar('chart-messages', data.messages);
})();
