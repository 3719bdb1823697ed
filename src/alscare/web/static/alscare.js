/* alscare's own small script: fewer key presses for people who tire quickly (issue 7, item 2).
 *
 * Progressive enhancement only: every page works without it (plain forms and buttons). Loaded from
 * /static under the strict CSP (script-src 'self'); no inline script, no network, nothing stored.
 *
 * - On a question page, focus moves to the question, so the next Tab is the first answer.
 * - In a list of answers ([data-answers]): arrow keys move between answers; number keys 1-9 choose the
 *   answer with that number; Enter on an answer sends the form with its first button.
 * - Switch scanning (the person's setting, body[data-scanning]): "one" = one switch mapped to Space: the
 *   controls light up in turn, every data-scan-seconds, and Space chooses the lit one; "two" = Space moves
 *   the light on, Enter chooses. On a question page only the answers and the form's buttons are scanned.
 * - Read-aloud: the browser's own speech (Web Speech API; no network, no recording). The R key, or the
 *   "Read aloud" button (one switch press when scanning), reads the question and its answers; with the
 *   setting on (body[data-read-aloud]), each question is read as it opens and each lit control as it lights.
 */
(function () {
  'use strict';

  function inputsOf(group) {
    return Array.prototype.slice.call(group.querySelectorAll('input[type=checkbox], input[type=radio]'));
  }

  function typingIn(el) {
    if (!el) return false;
    var tag = el.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
    return tag === 'INPUT' && !/^(checkbox|radio|submit|button)$/.test(el.type);
  }

  function firstButton(form) {
    return form.querySelector('button[type=submit], button:not([type]), input[type=submit]');
  }

  function send(form) {
    var button = firstButton(form);
    if (form.requestSubmit) form.requestSubmit(button || undefined);
    else if (button) button.click();
    else form.submit();
  }

  function choose(input) {
    input.focus();
    if (input.type === 'radio') {
      if (!input.checked) input.click();
    } else {
      input.click();
    }
  }

  function focusQuestion() {
    var question = document.querySelector('[data-focus-first]');
    if (!question) return;
    var summary = document.getElementById('error-summary');
    (summary || question).focus();
  }

  function onKey(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var el = document.activeElement;
    var group = el && el.closest ? el.closest('[data-answers]') : null;
    var form = el && el.form ? el.form : (group ? group.closest('form') : null);
    if (event.key === 'Enter' && el && el.tagName === 'INPUT' && /^(checkbox|radio)$/.test(el.type) && form) {
      event.preventDefault();
      send(form);
      return;
    }
    if (typingIn(el)) return;
    var answers = group || document.querySelector('[data-answers]');
    if (!answers) return;
    var inputs = inputsOf(answers);
    if (!inputs.length) return;
    if (/^[1-9]$/.test(event.key)) {
      var n = parseInt(event.key, 10);
      if (n <= inputs.length) {
        event.preventDefault();
        choose(inputs[n - 1]);
      }
      return;
    }
    // Radios move natively with the arrows; checkboxes get the same movement (no ticking on the way).
    if (group && el.type === 'checkbox' && /^Arrow(Up|Down|Left|Right)$/.test(event.key)) {
      var i = inputs.indexOf(el);
      var step = /Down|Right/.test(event.key) ? 1 : -1;
      var next = inputs[i + step];
      if (next) {
        event.preventDefault();
        next.focus();
      }
    }
  }

  // --- Read-aloud -------------------------------------------------------------------------------------

  function textOf(el) {
    return (el.innerText || el.textContent || el.value || '').replace(/\s+/g, ' ').trim();
  }

  function say(text) {
    var synth = window.speechSynthesis;
    if (!synth || !window.SpeechSynthesisUtterance || !text) return;
    synth.cancel();
    var utterance = new window.SpeechSynthesisUtterance(text);
    utterance.lang = document.documentElement.lang || 'en';
    synth.speak(utterance);
  }

  function readQuestion() {
    var question = document.querySelector('[data-focus-first]');
    if (!question) return;
    var parts = [textOf(question)];
    var answers = document.querySelector('[data-answers]');
    if (answers) {
      var options = answers.querySelectorAll('.answer-option');
      for (var i = 0; i < options.length; i++) parts.push((i + 1) + '. ' + textOf(options[i]));
    }
    say(parts.join('. '));
  }

  function addReadAloudButton() {
    var question = document.querySelector('[data-focus-first]');
    if (!question || !window.speechSynthesis) return;
    var form = question.closest('form') || document.querySelector('main form');
    var actions = form ? form.querySelector('.actions') : null;
    if (!actions) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'button-secondary read-aloud';
    button.textContent = 'Read aloud';
    button.addEventListener('click', readQuestion);
    actions.appendChild(button);
  }

  // --- Switch scanning ---------------------------------------------------------------------------------

  var scan = { mode: 'off', items: [], at: -1, timer: null, seconds: 1.5, speak: false };

  function visible(el) {
    var r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && !el.disabled;
  }

  function scanItems() {
    var question = document.querySelector('[data-focus-first]');
    var form = question ? (question.closest('form') || document.querySelector('main form')) : null;
    var items = [];
    if (form) {
      var answers = form.querySelectorAll('[data-answers] .answer-option, [data-answers] input:not([type=hidden]):not([type=checkbox]):not([type=radio]), [data-answers] textarea');
      items = Array.prototype.slice.call(answers);
      items = items.concat(Array.prototype.slice.call(form.querySelectorAll('.actions button')));
      return items.filter(visible);
    }
    var all = 'a[href], button, input:not([type=hidden]), textarea, select';
    var main = document.querySelector('main');
    var inMain = main ? Array.prototype.slice.call(main.querySelectorAll(all)) : [];
    var rest = Array.prototype.slice.call(document.querySelectorAll(all)).filter(function (el) {
      return inMain.indexOf(el) < 0 && !el.classList.contains('skip-link');
    });
    return inMain.concat(rest).filter(visible);
  }

  function light(i) {
    if (!scan.items.length) return;
    var old = scan.items[scan.at];
    if (old) old.classList.remove('scan-lit');
    scan.at = (i + scan.items.length) % scan.items.length;
    var el = scan.items[scan.at];
    el.classList.add('scan-lit');
    el.scrollIntoView({ block: 'nearest' });
    if (scan.speak) say(textOf(el));
  }

  function restartTimer() {
    if (scan.timer) window.clearInterval(scan.timer);
    scan.timer = null;
    if (scan.mode === 'one') {
      scan.timer = window.setInterval(function () { light(scan.at + 1); }, scan.seconds * 1000);
    }
  }

  function chooseLit() {
    var el = scan.items[scan.at];
    if (!el) return;
    var input = el.matches('.answer-option') ? el.querySelector('input') : null;
    if (input) {
      if (input.type === 'radio') {
        if (!input.checked) input.click();
        // An answer chosen: the light goes on to the next question still unanswered, else the first button.
        var after = scan.items.slice(scan.at + 1);
        var open = after.filter(function (x) {
          var r = x.matches('.answer-option') ? x.querySelector('input[type=radio]') : null;
          return r && r.name !== input.name && !document.querySelector('input[name="' + r.name + '"]:checked');
        })[0];
        var button = after.filter(function (x) { return x.tagName === 'BUTTON'; })[0];
        var next = open || button;
        if (next) light(scan.items.indexOf(next));
      } else {
        input.click();
        light(scan.at + 1);
      }
      restartTimer();
      return;
    }
    if (typingIn(el)) {
      if (scan.timer) window.clearInterval(scan.timer);
      scan.timer = null;
      el.focus();
      return;
    }
    el.click();
  }

  function onSwitch(event) {
    if (scan.mode === 'off' || event.altKey || event.ctrlKey || event.metaKey) return;
    if (typingIn(document.activeElement)) {
      if (event.key === 'Escape') { document.activeElement.blur(); restartTimer(); }
      return;
    }
    var isSpace = event.key === ' ' || event.code === 'Space';
    var isEnter = event.key === 'Enter';
    if (!isSpace && !isEnter) return;
    event.preventDefault();
    event.stopPropagation();
    if (event.type !== 'keydown' || event.repeat) return;
    if (scan.mode === 'two' && isSpace) { light(scan.at + 1); return; }
    if (scan.mode === 'two' && !isEnter) return;
    if (scan.mode === 'one' && !isSpace) return;
    chooseLit();
  }

  function startScanning() {
    var body = document.body;
    scan.mode = body.getAttribute('data-scanning') || 'off';
    if (scan.mode !== 'one' && scan.mode !== 'two') { scan.mode = 'off'; return; }
    var seconds = parseFloat(body.getAttribute('data-scan-seconds'));
    scan.seconds = seconds >= 0.5 && seconds <= 5 ? seconds : 1.5;
    scan.speak = body.getAttribute('data-read-aloud') === 'on';
    scan.items = scanItems();
    if (document.activeElement && document.activeElement !== body) document.activeElement.blur();
    document.addEventListener('keydown', onSwitch, true);
    document.addEventListener('keyup', onSwitch, true);
    light(0);
    restartTimer();
  }

  function onKeyReadAloud(event) {
    if (event.key !== 'r' && event.key !== 'R') return;
    if (event.altKey || event.ctrlKey || event.metaKey || typingIn(document.activeElement)) return;
    readQuestion();
  }

  function start() {
    addReadAloudButton();
    focusQuestion();
    if (document.body.getAttribute('data-read-aloud') === 'on' && document.body.getAttribute('data-scanning') === 'off') {
      readQuestion();
    }
    startScanning();
  }

  document.addEventListener('keydown', onKey);
  document.addEventListener('keydown', onKeyReadAloud);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
