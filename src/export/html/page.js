/* page.js - the script of plandag's --emit html page (embedded into NAME.html): view
 * menu, pan/zoom, search, details and drill-down.  The project's own code; it fetches
 * nothing.  After init it writes "ok" into #status; any script error lands there. */
(function () {
  'use strict';
  var status = document.getElementById('status');
  window.onerror = function (msg, src, line) {
    status.textContent = 'error: ' + msg + ' (line ' + line + ')';
    status.className = 'bad';
  };
  var nodes = {};
  document.querySelectorAll('script.pd-nodes').forEach(function (s) {
    var t = JSON.parse(s.textContent);
    Object.keys(t).forEach(function (k) { nodes[k] = t[k]; });
  });
  var map = JSON.parse(document.getElementById('pd-map').textContent);
  var views = Array.prototype.slice.call(document.querySelectorAll('section.view'));
  var nav = document.getElementById('views');
  var details = document.getElementById('details');
  var hits = document.getElementById('hits');
  var current = null;
  var pans = {};
  views.forEach(function (v) { pans[v.id] = panZoom(v); });

  function show(id) {
    if (!document.getElementById(id)) return false;
    views.forEach(function (v) { v.hidden = v.id !== id; });
    nav.querySelectorAll('button').forEach(function (b) {
      b.className = b.dataset.view === id ? 'on' : '';
    });
    current = id;
    if (!pans[id].fitted) pans[id].fit(); /* the whole picture first */
    return true;
  }

  views.forEach(function (v) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = v.dataset.title;
    b.dataset.view = v.id;
    b.addEventListener('click', function () { show(v.id); });
    nav.appendChild(b);
  });

  /* Pan by dragging, zoom around the pointer with the wheel: a CSS transform on .pan. */
  function panZoom(sec) {
    var pan = sec.querySelector('.pan');
    var s = 1, x = 0, y = 0, drag = null;
    function apply() { pan.style.transform = 'translate(' + x + 'px,' + y + 'px) scale(' + s + ')'; }
    sec.addEventListener('wheel', function (e) {
      e.preventDefault();
      var r = sec.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
      var ns = Math.min(40, Math.max(0.02, s * Math.exp(-e.deltaY * 0.0015)));
      x = mx - (mx - x) * ns / s;
      y = my - (my - y) * ns / s;
      s = ns;
      apply();
    }, { passive: false });
    sec.addEventListener('mousedown', function (e) {
      drag = { x0: e.clientX, y0: e.clientY, x: x, y: y, moved: false };
      sec.classList.add('dragging');
    });
    window.addEventListener('mousemove', function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x0, dy = e.clientY - drag.y0;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      x = drag.x + dx;
      y = drag.y + dy;
      apply();
    });
    window.addEventListener('mouseup', function () {
      sec.classList.remove('dragging');
      sec.dataset.moved = drag && drag.moved ? '1' : '';
      drag = null;
    });
    return {
      fit: function () {
        var svg = pan.querySelector('svg');
        var w = svg ? svg.getBoundingClientRect().width / s : 0;
        var h = svg ? svg.getBoundingClientRect().height / s : 0;
        s = w && h ? Math.min(1, sec.clientWidth / w, sec.clientHeight / h) : 1;
        x = 0;
        y = 0;
        apply();
        this.fitted = true;
      }
    };
  }
  document.getElementById('fit').addEventListener('click', function () {
    if (current) pans[current].fit();
  });

  /* The drawn unit of `u` in runs [first, last, drawn] of map.gpu / map.layer. */
  function drawn(runs, u) {
    for (var i = 0; i < runs.length; i++)
      if (u >= runs[i][0] && u <= runs[i][1]) return runs[i][2];
    return -1;
  }

  function fmt(v, unit) {
    if (v === null || v === undefined) return '';
    var a = Math.abs(v), p = ['', 'k', 'M', 'G', 'T', 'P', 'E'], i = 0;
    var base = unit === 'B' ? 1024 : 1000;
    while (a >= base && i < p.length - 1) { a /= base; v /= base; i++; }
    return (Math.round(v * 100) / 100) + ' ' + p[i] + (unit === 'B' && i ? 'i' : '') + unit;
  }

  function row(t, k, v) {
    var tr = t.insertRow(), a = tr.insertCell(), b = tr.insertCell();
    a.textContent = k;
    b.textContent = v;
  }

  function drillButton(label, id) {
    if (!document.getElementById(id) || id === current) return null;
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.addEventListener('click', function () { show(id); });
    return b;
  }

  function showDetails(key) {
    var n = nodes[key];
    details.innerHTML = '<h2>Details</h2>';
    if (!n) { details.appendChild(document.createTextNode(key + ': not a node of the plan')); return; }
    var t = document.createElement('table');
    row(t, 'node', n.lb || key);
    row(t, 'kind', n.k);
    row(t, 'GPU', n.g < 0 ? 'none (collective hub)' : n.g);
    row(t, 'replica / stage', n.r + ' / ' + n.s);
    if (n.k === 'gpu') {
      row(t, 'memory', fmt(n.mem, 'B') + ' of ' + fmt(n.cap, 'B'));
    } else {
      row(t, 'layer', n.l < 0 ? 'none' : n.l);
      row(t, 'micro-batch', n.mb);
      row(t, 'expert', n.e < 0 ? 'none' : n.e);
      row(t, 'FLOPs', fmt(n.f, 'FLOP'));
      row(t, 'bytes', fmt(n.b, 'B'));
      row(t, 'time', (Math.round(n.t * 1000) / 1000) + ' us');
    }
    details.appendChild(t);
    var g = n.g >= 0 ? drawn(map.gpu, n.g) : -1, l = n.l >= 0 ? drawn(map.layer, n.l) : -1;
    [n.r === 0 ? drillButton('stage ' + n.s, 'view-stage-' + n.s) : null,
     g >= 0 ? drillButton('GPU ' + g + (g !== n.g ? ' (same kind)' : ''), 'view-gpu-' + g) : null,
     l >= 0 ? drillButton('layer ' + l + (l !== n.l ? ' (same kind)' : ''), 'view-layer-' + l) : null
    ].forEach(function (b) { if (b) details.appendChild(b); });
  }

  var selected = null;
  document.querySelectorAll('g.node').forEach(function (g) {
    var t = g.querySelector('title');
    if (!t) return;
    g.dataset.pd = t.textContent;
    g.addEventListener('click', function () {
      if (g.closest('section').dataset.moved) return;
      if (selected) selected.classList.remove('sel');
      selected = g;
      g.classList.add('sel');
      showDetails(g.dataset.pd);
    });
  });
  /* Stage boxes of replica 0 in the overview drill down to their stage view. */
  document.querySelectorAll('#view-overview g.cluster').forEach(function (c) {
    var t = c.querySelector('title'), m = t && /^cluster_r0_s(\d+)$/.exec(t.textContent);
    if (!m || !document.getElementById('view-stage-' + m[1])) return;
    c.classList.add('drill');
    c.addEventListener('dblclick', function () { show('view-stage-' + m[1]); });
  });

  /* Terms separated by spaces, all must hold: a kind prefix, or key=N for layer, gpu,
   * stage, replica, expert, mb. */
  var keys = { layer: 'l', gpu: 'g', stage: 's', replica: 'r', expert: 'e', mb: 'mb' };
  function matcher(q) {
    var terms = q.trim().toLowerCase().split(/\s+/).filter(Boolean);
    if (!terms.length) return null;
    return function (n) {
      return terms.every(function (t) {
        var kv = /^(\w+)=(-?\d+)$/.exec(t);
        if (kv && keys[kv[1]]) return n[keys[kv[1]]] === parseInt(kv[2], 10);
        return n.k.indexOf(t) === 0;
      });
    };
  }

  function search(q) {
    var m = matcher(q), count = 0, inViews = {}, first = null;
    document.querySelectorAll('g.node').forEach(function (g) {
      var n = nodes[g.dataset.pd], hit = !!(m && n && m(n));
      g.classList.toggle('hit', hit);
      if (!hit) return;
      count++;
      var v = g.closest('section').id;
      inViews[v] = true;
      if (!first) first = v;
    });
    var nv = Object.keys(inViews).length;
    hits.dataset.count = m ? count : '';
    hits.textContent = m ? count + ' match' + (count === 1 ? '' : 'es') + ' in ' + nv +
      ' view' + (nv === 1 ? '' : 's') : '';
    if (first && !inViews[current]) show(first);
    return count;
  }
  var box = document.getElementById('search');
  box.addEventListener('input', function () { search(box.value); });

  /* #search=Q&view=ID: the state to open with. */
  show(views.length ? views[0].id : null);
  var frag = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var i = kv.indexOf('=');
    if (i > 0) frag[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1).replace(/\+/g, ' '));
  });
  if (frag.view) show(frag.view);
  if (frag.search) { box.value = frag.search; search(frag.search); }
  if (status.className !== 'bad') status.textContent = 'ok';
})();
