// A React-like controlled form: the submitted values live in `state`,
// which only real input events update. Like React, each input's value
// setter is patched to remember the last value set from script, and an
// input event whose value equals that remembered value is ignored, so
// `el.value = 'x'` followed by a synthetic event does not reach the state.
// Every render writes the state back into the inputs, so a value that
// never reached the state is wiped on the next render.
(function () {
  var state = { username: '', email: '', password: '' };
  var native = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value');
  var inputs = Array.prototype.slice.call(document.querySelectorAll('input[data-field]'));

  function render() {
    inputs.forEach(function (el) {
      var want = state[el.dataset.field];
      if (native.get.call(el) !== want)
        el.value = want;
    });
    var filled = Object.keys(state).filter(function (k) { return state[k]; }).length;
    document.getElementById('state-echo').textContent =
      filled === 3 ? 'All set.' : 'Fill in every field.';
  }

  inputs.forEach(function (el) {
    var tracked = native.get.call(el);
    Object.defineProperty(el, 'value', {
      configurable: true,
      get: function () { return native.get.call(this); },
      set: function (v) { tracked = String(v); native.set.call(this, v); }
    });
    el.addEventListener('input', function () {
      var v = native.get.call(el);
      if (v === tracked)
        return;
      tracked = v;
      state[el.dataset.field] = v;
      render();
    });
    el.addEventListener('blur', render);
  });

  document.getElementById('go').addEventListener('click', function () {
    render();
    fetch('signup', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(state)
    }).then(function (r) {
      if (r.ok)
        location.href = 'welcome.html';
    });
  });
})();
