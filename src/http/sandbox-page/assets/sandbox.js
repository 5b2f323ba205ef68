/* global document, window, fetch, setTimeout, localStorage, TasdeedSms */
/*
 * The two phones of the sandbox page. Each is one sandbox identity (kept in localStorage, so a
 * reload is the same person) talking to the core: POST /sandbox/messages for what the person
 * types or presses, GET /sandbox/messages every two seconds for what arrives later (receipts,
 * reminders, broadcasts). Texts are inserted as text, never as markup.
 */
(function () {
  'use strict';
  var strings = JSON.parse(document.getElementById('sandbox-strings').textContent || '{}');

  function randomDigits(n) {
    var out = '';
    var bytes = new Uint8Array(n);
    window.crypto.getRandomValues(bytes);
    for (var i = 0; i < n; i++) out += String(bytes[i] % 10);
    return out;
  }

  function newAddress(channel) {
    return channel === 'sms' ? '+96394' + randomDigits(7) : 'web-' + randomDigits(9);
  }

  function element(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setup(phone) {
    var channel = phone.getAttribute('data-channel');
    var storageKey = 'tasdeed-sandbox-' + channel;
    var from = localStorage.getItem(storageKey);
    if (!from) {
      from = newAddress(channel);
      localStorage.setItem(storageKey, from);
    }
    var log = phone.querySelector('.log');
    var form = phone.querySelector('[data-compose]');
    var input = form.querySelector('[name="text"]');
    var fromLabel = phone.querySelector('[data-from]');
    var partsNow = phone.querySelector('[data-parts-now]');
    var after = 0;
    var polling = false;
    fromLabel.textContent = from;

    function partsOf(text) {
      return typeof TasdeedSms === 'undefined' ? null : TasdeedSms.measure(text);
    }

    // Payment references are kept on one line (a line break after "P-" hides them).
    function fill(parent, text) {
      text.split(/(P-[0-9A-Z]{10})/).forEach(function (part, i) {
        if (i % 2 === 1) {
          var ref = element('span', 'ref', part);
          ref.setAttribute('dir', 'ltr');
          parent.appendChild(ref);
        } else if (part) parent.appendChild(document.createTextNode(part));
      });
    }

    function bubble(text, who, note) {
      var item = element('li', 'msg ' + who);
      var body = element('p', 'text');
      fill(body, text);
      body.setAttribute('dir', 'auto');
      item.appendChild(body);
      var meta = [];
      if (note) meta.push(note);
      if (channel === 'sms' && who !== 'error') {
        var m = partsOf(text);
        if (m) meta.push(strings.parts + ': ' + m.parts + ' (' + m.encoding + ')');
      }
      if (meta.length > 0) {
        var small = element('p', 'meta', meta.join(' · '));
        if (channel === 'sms') small.setAttribute('data-parts', '');
        item.appendChild(small);
      }
      log.appendChild(item);
      log.scrollTop = log.scrollHeight;
      return item;
    }

    function keyboard(item, choices) {
      if (channel !== 'telegram' || choices.length === 0) return;
      var keys = element('div', 'keyboard');
      keys.setAttribute('role', 'group');
      choices.forEach(function (choice) {
        var button = element('button', 'key', choice.label);
        button.type = 'button';
        button.addEventListener('click', function () {
          send({ payload: choice.payload }, strings.pressed + ': ' + choice.label);
        });
        keys.appendChild(button);
      });
      item.appendChild(keys);
    }

    function send(message, shown) {
      bubble(shown, 'out');
      var body = Object.assign({ channel: channel, from: from }, message);
      return fetch('/sandbox/messages', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
        .then(function (res) {
          if (!res.ok) throw new Error(String(res.status));
          return res.json();
        })
        .then(function (turn) {
          var last = null;
          turn.replies.forEach(function (text) {
            last = bubble(text, 'in');
          });
          if (last) keyboard(last, turn.choices);
        })
        .catch(function () {
          bubble(strings.failed, 'error');
        });
    }

    function poll() {
      if (polling) return;
      polling = true;
      fetch(
        '/sandbox/messages?channel=' +
          channel +
          '&from=' +
          encodeURIComponent(from) +
          '&after=' +
          after,
      )
        .then(function (res) {
          return res.ok ? res.json() : { messages: [] };
        })
        .then(function (inbox) {
          inbox.messages.forEach(function (m) {
            after = Math.max(after, m.id);
            bubble(m.text, 'in later', strings.later);
          });
        })
        .catch(function () {})
        .then(function () {
          polling = false;
          setTimeout(poll, 2000);
        });
    }

    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = '';
      if (partsNow) partsNow.textContent = '0';
      send({ text: text }, text);
      input.focus();
    });
    if (channel === 'sms') {
      // Enter sends, as on a phone; Shift+Enter starts a new line.
      input.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' && !event.shiftKey) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
    }
    if (partsNow) {
      input.addEventListener('input', function () {
        var text = input.value.trim();
        var m = partsOf(text);
        partsNow.textContent = text && m ? m.parts + ' (' + m.encoding + ')' : '0';
      });
    }
    phone.querySelectorAll('[data-example]').forEach(function (button) {
      button.addEventListener('click', function () {
        var text = button.getAttribute('data-example');
        send({ text: text }, text);
      });
    });
    phone.querySelector('[data-reset]').addEventListener('click', function () {
      from = newAddress(channel);
      localStorage.setItem(storageKey, from);
      fromLabel.textContent = from;
      log.textContent = '';
      after = 0;
    });

    // Start after what this person already received: the screen begins empty.
    fetch('/sandbox/messages?channel=' + channel + '&from=' + encodeURIComponent(from) + '&after=0')
      .then(function (res) {
        return res.ok ? res.json() : { messages: [] };
      })
      .then(function (inbox) {
        inbox.messages.forEach(function (m) {
          after = Math.max(after, m.id);
        });
      })
      .catch(function () {})
      .then(function () {
        phone.setAttribute('data-ready', '');
        setTimeout(poll, 2000);
      });
  }

  document.querySelectorAll('.phone').forEach(setup);
})();
