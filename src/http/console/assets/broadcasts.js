/* global document, fetch, setTimeout, clearTimeout, TasdeedSms */
/*
 * The live parts of the broadcast page: the SMS parts counter of each text (counted here with
 * the server's rule, sms-parts.js), the recipient count and cost preview (POST /admin/broadcasts
 * with dryRun: true), and the progress of the broadcast being watched and of every broadcast of
 * the past list still being sent (GET /admin/broadcasts/:id, once a second until each is
 * finished). Without scripts the form's Preview button does the same.
 */
(function () {
  'use strict';
  var strings = JSON.parse(document.getElementById('console-strings').textContent || '{}');
  var form = document.getElementById('compose');

  function csrf() {
    var field = document.querySelector('input[name="_csrf"]');
    return field ? field.value : '';
  }

  // SMS parts counters.
  document.querySelectorAll('[data-sms-counter]').forEach(function (counter) {
    var input = document.getElementById(counter.getAttribute('data-sms-counter'));
    if (!input || typeof TasdeedSms === 'undefined') return;
    function update() {
      var text = input.value.trim();
      var m = TasdeedSms.measure(text);
      counter.querySelector('[data-units]').textContent = String(text ? m.units : 0);
      counter.querySelector('[data-parts]').textContent = String(text ? m.parts : 0);
      counter.querySelector('[data-encoding]').textContent = text ? m.encoding : '—';
    }
    input.addEventListener('input', update);
    update();
  });

  // Recipient count and cost.
  function checkedValues(name) {
    return Array.prototype.map.call(
      form.querySelectorAll('input[name="' + name + '"]:checked'),
      function (i) {
        return i.value;
      },
    );
  }

  function request() {
    var all = form.querySelector('input[name="audience"][value="all"]').checked;
    var audience = { all: true };
    if (!all) {
      audience = {};
      ['governorates', 'billers', 'languages'].forEach(function (name) {
        var values = checkedValues(name);
        if (values.length > 0) audience[name] = values;
      });
    }
    var ar = form.elements.textAr.value.trim();
    var en = form.elements.textEn.value.trim();
    return {
      // The count does not depend on the text; a placeholder lets it show before typing.
      text: { ar: ar || 'ـ', en: en || null },
      audience: audience,
      channels: checkedValues('channels'),
      urgent: form.elements.urgent.checked,
      dryRun: true,
    };
  }

  var problem = document.getElementById('preview-problem');
  function show(id, value) {
    document.getElementById(id).textContent = value;
  }

  var timer = null;
  var sequence = 0;
  function preview(initial) {
    var body = request();
    var filters = body.audience.all || Object.keys(body.audience).length > 0;
    var mine = ++sequence;
    if (!filters || body.channels.length === 0) {
      // Nothing chosen yet on a fresh form is not a mistake.
      problem.textContent = !filters ? strings.audienceEmpty : strings.channelsEmpty;
      problem.hidden = initial === true;
      show('preview-recipients', '—');
      show('preview-parts', '—');
      show('preview-total', '—');
      return;
    }
    fetch('/admin/broadcasts', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf() },
      body: JSON.stringify(body),
    })
      .then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
        return res.json();
      })
      .then(function (figures) {
        if (mine !== sequence) return;
        var hasText = form.elements.textAr.value.trim() !== '';
        problem.hidden = true;
        show('preview-recipients', String(figures.recipients));
        show('preview-parts', hasText ? String(figures.smsPartsPerMessage) : '—');
        show('preview-total', hasText ? String(figures.smsPartsTotal) : '—');
      })
      .catch(function () {
        if (mine !== sequence) return;
        problem.textContent = strings.previewFailed;
        problem.hidden = false;
      });
  }

  function soon() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () {
      preview(false);
    }, 300);
  }

  if (form) {
    form.addEventListener('input', soon);
    form.addEventListener('change', soon);
    preview(true);
  }

  // Progress: the broadcast being watched (the progress section) and every broadcast of the
  // past list still being sent (its row), each asked once a second until it is finished.
  var english = document.documentElement.lang === 'en';
  function count(n) {
    return english ? n.toLocaleString('en-US') : String(n);
  }
  function percentDone(p) {
    var c = p.counts;
    var finished = c.sent + c.failed + c.skipped + c.cancelled;
    if (p.recipients > 0) return Math.min(100, Math.floor((finished * 100) / p.recipients));
    return p.status === 'done' || p.status === 'cancelled' ? 100 : 0;
  }
  function isRunning(p) {
    return p.status === 'sending' || p.status === 'planning';
  }

  var section = document.getElementById('progress');
  var watched = section ? section.getAttribute('data-broadcast') : null;

  function showSection(p, pct) {
    var bar = document.getElementById('progress-bar');
    var c = p.counts;
    bar.value = pct;
    bar.textContent = pct + ' %';
    show('progress-pct', pct + ' %');
    show('progress-status', strings.status[p.status] || p.status);
    section.querySelectorAll('[data-count]').forEach(function (dd) {
      var key = dd.getAttribute('data-count');
      dd.textContent = count(
        key === 'recipients' ? p.recipients : key === 'skipped' ? c.skipped + c.cancelled : c[key],
      );
    });
    var cancel = document.getElementById('cancel-form');
    if (!isRunning(p) && cancel) cancel.hidden = true;
  }

  function rowOf(id) {
    var rows = document.querySelectorAll('#past tr[data-broadcast]');
    for (var i = 0; i < rows.length; i++)
      if (rows[i].getAttribute('data-broadcast') === id) return rows[i];
    return null;
  }

  function showRow(row, p, pct) {
    function cell(name, value) {
      var element = row.querySelector('[data-cell="' + name + '"]');
      if (element) element.textContent = value;
    }
    cell('recipients', count(p.recipients));
    cell('status', strings.status[p.status] || p.status);
    cell('percent', '(' + pct + ' %)');
    cell('sent', count(p.counts.sent));
    cell('delivered', count(p.counts.delivered));
    cell('failed', count(p.counts.failed));
    if (isRunning(p)) row.setAttribute('data-running', '');
    else row.removeAttribute('data-running');
  }

  // id → true while it is to be asked again.
  var tracked = {};
  if (watched) tracked[watched] = true;
  document.querySelectorAll('#past tr[data-running]').forEach(function (row) {
    tracked[row.getAttribute('data-broadcast')] = true;
  });

  function ask(id) {
    return fetch('/admin/broadcasts/' + encodeURIComponent(id), { credentials: 'same-origin' })
      .then(function (res) {
        if (res.status === 404) return null;
        if (!res.ok) throw new Error(String(res.status));
        return res.json();
      })
      .then(function (p) {
        if (p === null) {
          delete tracked[id];
          return;
        }
        var pct = percentDone(p);
        if (id === watched) showSection(p, pct);
        var row = rowOf(id);
        if (row) showRow(row, p, pct);
        if (!isRunning(p) && pct >= 100) delete tracked[id];
      });
  }

  function poll() {
    var ids = Object.keys(tracked);
    if (ids.length === 0) return;
    Promise.all(ids.map(ask)).then(
      function () {
        setTimeout(poll, 1000);
      },
      function () {
        setTimeout(poll, 5000);
      },
    );
  }
  poll();
})();
