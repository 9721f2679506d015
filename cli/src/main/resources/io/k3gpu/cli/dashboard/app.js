// k3gpu dashboard: three read-only pages over /api/* (JSON) and /api/stream (server-sent events).
// Everything the cluster or a node says is put on the page as text (textContent), never as HTML.
(function () {
  'use strict';

  var KEEP_POINTS = 3600;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    }
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    return e;
  }

  function dash(v) {
    return v === null || v === undefined || v === '' ? '–' : String(v);
  }

  function getJson(url) {
    return fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) {
          throw new Error(body && body.error ? body.error : 'HTTP ' + r.status);
        }
        return body;
      });
    });
  }

  function setConn(text, bad) {
    var c = document.getElementById('conn');
    c.textContent = text;
    c.className = bad ? 'conn bad' : 'conn';
  }

  function param(name) {
    return new URLSearchParams(window.location.search).get(name);
  }

  // seconds since the epoch of a recording's local "received" time (the browser runs where the dashboard does,
  // or near it: the charts show the dashboard's clock)
  function seconds(received) {
    return new Date(received).getTime() / 1000;
  }

  function width(container) {
    return Math.max(240, container.clientWidth - 8);
  }

  // ---------------------------------------------------------------- cluster page

  function clusterPage(main) {
    var status = el('p', { id: 'cluster-status', 'class': 'muted' }, 'reading the cluster…');
    var table = el('table', { id: 'nodes', 'class': 'grid' });
    var head = el('tr');
    ['Node', 'Role', 'Status', 'K3s', 'GPU', 'L4T / JetPack', 'CUDA', 'Container runtime', 'GPU runtime',
      'nvidia.com/gpu used / allocatable', 'Telemetry', 'GPU load'].forEach(function (h) {
      head.appendChild(el('th', null, h));
    });
    var thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    var tbody = el('tbody');
    table.appendChild(tbody);
    main.appendChild(el('h1', null, 'Cluster'));
    main.appendChild(status);
    main.appendChild(table);

    var rows = {};   // node name -> {tr, cells, spark: {u, t, v}}

    function sparkline(cell, t, v) {
      var opts = {
        width: 160, height: 36, legend: { show: false }, cursor: { show: false },
        scales: { x: { time: true }, y: { range: [0, 100] } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: '#2f7d32', fill: 'rgba(47,125,50,0.15)', width: 1, spanGaps: true }]
      };
      return { u: new uPlot(opts, [t, v], cell), t: t, v: v };
    }

    function telemetryText(tel) {
      if (!tel) {
        return 'not a GPU node';
      }
      if (tel.state === 'DOWN') {
        return 'unreachable: ' + dash(tel.detail);
      }
      return tel.state.toLowerCase() + (tel.source ? ' (' + tel.source + ')' : '');
    }

    function update(n) {
      var r = rows[n.name];
      if (!r) {
        var tr = el('tr', { 'data-node': n.name });
        var cells = {};
        ['name', 'role', 'ready', 'version', 'gpu', 'l4t', 'cuda', 'runtime', 'gpuRuntime', 'gpuUse', 'telemetry',
          'load'].forEach(function (k) {
          cells[k] = el('td', { 'class': 'c-' + k });
          tr.appendChild(cells[k]);
        });
        var link = el('a', { href: '/node?name=' + encodeURIComponent(n.name) }, n.name);
        cells.name.appendChild(link);
        tbody.appendChild(tr);
        r = rows[n.name] = { tr: tr, cells: cells, spark: null };
      }
      var c = r.cells;
      c.role.textContent = n.roles.join(',');
      c.ready.textContent = n.ready ? 'Ready' : 'NotReady';
      c.version.textContent = dash(n.version);
      c.gpu.textContent = n.gpu;
      c.l4t.textContent = n.l4t ? n.l4t + (n.jetpack ? ' / JetPack ' + n.jetpack : '') : '–';
      c.cuda.textContent = dash(n.cuda);
      c.runtime.textContent = dash(n.containerRuntime);
      c.gpuRuntime.textContent = dash(n.gpuRuntime);
      c.gpuUse.textContent = n.gpuAllocatable === null ? '–' : n.gpuInUse + ' / ' + n.gpuAllocatable;
      c.telemetry.textContent = telemetryText(n.telemetry);
      var down = n.telemetry && n.telemetry.state === 'DOWN';
      r.tr.className = (n.ready ? '' : 'notready ') + (down ? 'unreachable' : '');
      if (n.telemetry && !r.spark) {
        r.spark = sparkline(c.load, n.telemetry.t.slice(), n.telemetry.load.slice());
      }
    }

    function load() {
      return getJson('/api/nodes').then(function (body) {
        status.textContent = body.nodes.length + ' nodes, ' + body.followed.length + ' GPU nodes followed live';
        status.className = 'muted';
        body.nodes.forEach(update);
      }).catch(function (e) {
        status.textContent = 'the cluster did not answer: ' + e.message;
        status.className = 'bad';
      });
    }

    load();
    window.setInterval(load, 5000);

    var events = new EventSource('/api/stream');
    events.onopen = function () { setConn('live'); };
    events.onerror = function () { setConn('reconnecting…', true); };
    events.addEventListener('load', function (m) {
      var d = JSON.parse(m.data);
      var r = rows[d.node];
      if (!r || !r.spark) {
        return;
      }
      var s = r.spark;
      s.t.push(d.t);
      s.v.push(d.gpuLoadPercent);
      if (s.t.length > 120) {
        s.t.shift();
        s.v.shift();
      }
      s.u.setData([s.t, s.v]);
      r.cells.load.setAttribute('data-last', dash(d.gpuLoadPercent));
    });
    events.addEventListener('status', function (m) {
      var d = JSON.parse(m.data);
      var r = rows[d.node];
      if (r) {
        r.cells.telemetry.textContent = telemetryText(d);
        r.tr.classList.toggle('unreachable', d.state === 'DOWN');
      }
    });
  }

  // ---------------------------------------------------------------- node page

  // What each chart shows of a sample: series name -> value. tegrastats and nvidia-smi (one line per GPU) alike.
  var CHARTS = [
    { id: 'gpu', title: 'GPU load', unit: '%', range: [0, 100], pick: function (s, out) {
      out[gpuName(s) + ' load'] = s.gpuLoadPercent;
    } },
    { id: 'freq', title: 'GPU frequency', unit: 'MHz', pick: function (s, out) {
      if (s.source === 'nvidia-smi') {
        out[gpuName(s) + ' SM clock'] = s.smClockMHz;
      } else if (s.gpuFreqMHz) {
        s.gpuFreqMHz.forEach(function (f, i) { out['GPC' + i] = f; });
      }
    } },
    { id: 'cpu', title: 'CPU per core', unit: '%', range: [0, 100], pick: function (s, out) {
      (s.cpus || []).forEach(function (c, i) { out['cpu' + i] = c.online ? c.loadPercent : null; });
    } },
    { id: 'ram', title: 'Memory', unit: 'MB', pick: function (s, out) {
      if (s.source === 'nvidia-smi') {
        out[gpuName(s) + ' memory used'] = s.memoryUsedMiB;
      } else {
        out['RAM used'] = s.ramUsedMB;
        out['swap used'] = s.swapUsedMB;
      }
    } },
    { id: 'temp', title: 'Temperatures', unit: '°C', pick: function (s, out) {
      if (s.source === 'nvidia-smi') {
        out[gpuName(s)] = s.temperatureC;
      } else if (s.temperaturesC) {
        Object.keys(s.temperaturesC).forEach(function (k) { out[k] = s.temperaturesC[k]; });
      }
    } },
    { id: 'power', title: 'Power', unit: 'W', pick: function (s, out) {
      if (s.source === 'nvidia-smi') {
        out[gpuName(s)] = s.powerDrawW;
      } else if (s.powerMilliwatts) {
        Object.keys(s.powerMilliwatts).forEach(function (k) {
          var c = s.powerMilliwatts[k].current;
          out[k] = c === null ? null : c / 1000;
        });
      }
    } }
  ];
  var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
    '#bcbd22', '#17becf', '#393b79', '#637939'];

  function gpuName(s) {
    return s.source === 'nvidia-smi' ? 'GPU' + (s.index === null ? '' : s.index) : 'GPU';
  }

  function nodePage(main) {
    var name = param('name') || '';
    main.appendChild(el('h1', null, 'Node ' + name));
    var info = el('p', { id: 'node-info', 'class': 'muted' }, 'reading the node…');
    main.appendChild(info);
    var download = el('a', { id: 'download', href: '/api/recording?node=' + encodeURIComponent(name),
      download: name + '.jsonl' }, 'Download the recording (JSONL, as stats --record writes it)');
    main.appendChild(el('p')).appendChild(download);
    var grid = el('div', { 'class': 'charts' });
    main.appendChild(grid);

    var t = [];
    var charts = {};
    CHARTS.forEach(function (c) {
      var box = el('section', { 'class': 'chart', id: 'chart-' + c.id, 'data-points': '0' });
      box.appendChild(el('h2', null, c.title + ' (' + c.unit + ')'));
      var latest = el('p', { 'class': 'latest' }, '–');
      box.appendChild(latest);
      var plot = el('div');
      box.appendChild(plot);
      grid.appendChild(box);
      charts[c.id] = { spec: c, box: box, plot: plot, latest: latest, names: [], values: {}, u: null };
    });

    function build(ch) {
      if (ch.u) {
        ch.u.destroy();
      }
      var series = [{}].concat(ch.names.map(function (n, i) {
        return { label: n, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true };
      }));
      var opts = { width: width(ch.box), height: 200, series: series, scales: { x: { time: true } } };
      if (ch.spec.range) {
        opts.scales.y = { range: ch.spec.range };
      }
      ch.u = new uPlot(opts, data(ch), ch.plot);
    }

    function data(ch) {
      return [t].concat(ch.names.map(function (n) { return ch.values[n]; }));
    }

    // Adds one sample as one row of every chart; a series seen for the first time rebuilds its chart.
    function add(sample, redraw) {
      t.push(seconds(sample.received));
      var drop = t.length > KEEP_POINTS;
      if (drop) {
        t.shift();
      }
      CHARTS.forEach(function (c) {
        var ch = charts[c.id];
        var row = {};
        c.pick(sample, row);
        var grew = false;
        Object.keys(row).forEach(function (n) {
          if (!(n in ch.values)) {
            ch.names.push(n);
            ch.values[n] = new Array(t.length - 1).fill(null);
            grew = true;
          }
        });
        ch.names.forEach(function (n) {
          var v = row[n];
          ch.values[n].push(v === undefined ? null : v);
          if (drop) {
            ch.values[n].shift();
          }
        });
        var shown = Object.keys(row).filter(function (n) { return row[n] !== null && row[n] !== undefined; });
        if (shown.length) {
          ch.latest.textContent = shown.slice(0, 8).map(function (n) {
            return n + ' ' + (Math.round(row[n] * 10) / 10);
          }).join(' · ');
          ch.box.setAttribute('data-last', String(row[shown[0]]));
        }
        ch.box.setAttribute('data-points', String(t.length));
        if (redraw) {
          if (grew || !ch.u) {
            build(ch);
          } else {
            ch.u.setData(data(ch));
          }
        }
      });
    }

    getJson('/api/nodes').then(function (body) {
      var n = body.nodes.filter(function (x) { return x.name === name; })[0];
      if (!n) {
        info.textContent = 'no node ' + name + ' in the cluster';
        info.className = 'bad';
        return;
      }
      info.textContent = [n.ready ? 'Ready' : 'NotReady', n.roles.join(','), n.version, n.gpu,
        n.l4t ? 'L4T ' + n.l4t + (n.jetpack ? ' (JetPack ' + n.jetpack + ')' : '') : null,
        n.cuda ? 'CUDA ' + n.cuda : null, n.containerRuntime].filter(function (x) { return x; }).join(' · ');
      info.className = n.ready ? 'muted' : 'bad';
    }).catch(function (e) {
      info.textContent = 'the cluster did not answer: ' + e.message;
      info.className = 'bad';
    });

    fetch('/api/history?node=' + encodeURIComponent(name), { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) {
          throw new Error('no telemetry of ' + name + ' (not a GPU node of the cluster)');
        }
        return r.text();
      }).then(function (text) {
        text.split('\n').forEach(function (line) {
          if (line) {
            add(JSON.parse(line), false);
          }
        });
        Object.keys(charts).forEach(function (k) { build(charts[k]); });
        follow();
      }).catch(function (e) {
        setConn(e.message, true);
      });

    function follow() {
      var events = new EventSource('/api/stream?node=' + encodeURIComponent(name));
      events.onopen = function () { setConn('live'); };
      events.onerror = function () { setConn('reconnecting…', true); };
      events.addEventListener('sample', function (m) { add(JSON.parse(m.data), true); });
      events.addEventListener('status', function (m) {
        var d = JSON.parse(m.data);
        if (d.state === 'DOWN') {
          setConn('unreachable: ' + dash(d.detail), true);
        } else {
          setConn(d.state === 'UP' ? 'live' : d.state.toLowerCase());
        }
      });
    }
  }

  // ---------------------------------------------------------------- jobs page

  function jobsPage(main) {
    main.appendChild(el('h1', null, 'Training runs'));
    var status = el('p', { id: 'jobs-status', 'class': 'muted' }, 'reading the jobs…');
    main.appendChild(status);
    var table = el('table', { id: 'jobs', 'class': 'grid' });
    var head = el('tr');
    ['Run', 'State', 'Node(s)', 'World size', 'Epochs', 'Test accuracy', 'Duration', 'Device'].forEach(function (h) {
      head.appendChild(el('th', null, h));
    });
    var thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    var tbody = el('tbody');
    table.appendChild(tbody);
    main.appendChild(table);
    var detail = el('section', { id: 'job-detail' });
    main.appendChild(detail);
    setConn('polling');

    // the last `k3gpu verify` of each node, as it keeps it on the Node
    main.appendChild(el('h2', null, 'Verify results'));
    var verifyStatus = el('p', { id: 'verify-status', 'class': 'muted' }, 'reading the nodes…');
    main.appendChild(verifyStatus);
    var verifyTable = el('table', { id: 'verify', 'class': 'grid' });
    var verifyHead = el('tr');
    ['Node', 'Result', 'When', 'Reason'].forEach(function (h) {
      verifyHead.appendChild(el('th', null, h));
    });
    verifyTable.appendChild(el('thead')).appendChild(verifyHead);
    var verifyBody = el('tbody');
    verifyTable.appendChild(verifyBody);
    main.appendChild(verifyTable);

    function verifyResults() {
      return getJson('/api/verify').then(function (rows) {
        verifyStatus.textContent = rows.length ? rows.length + (rows.length === 1 ? ' node' : ' nodes') + ' verified'
          : 'no node verified yet: k3gpu verify --node NAME';
        verifyStatus.className = 'muted';
        verifyBody.textContent = '';
        rows.forEach(function (v) {
          var tr = el('tr', { 'data-node': v.node, 'class': 'verify-' + (v.result === 'PASS' ? 'pass' : 'fail') });
          tr.appendChild(el('td', { 'class': 'c-node' }, v.node));
          tr.appendChild(el('td', { 'class': 'c-result' }, v.result));
          tr.appendChild(el('td', { 'class': 'c-at' }, v.at ? new Date(v.at).toLocaleString() : '–'));
          tr.appendChild(el('td', { 'class': 'c-reason' }, dash(v.reason)));
          verifyBody.appendChild(tr);
        });
      }).catch(function (e) {
        verifyStatus.textContent = 'the cluster did not answer: ' + e.message;
        verifyStatus.className = 'bad';
      });
    }

    function accuracy(j) {
      return j.testAccuracy === null ? (j.error ? 'failed: ' + j.error : '–') : j.testAccuracy.toFixed(4);
    }

    function list() {
      return getJson('/api/jobs').then(function (jobs) {
        status.textContent = jobs.length + ' training runs';
        status.className = 'muted';
        tbody.textContent = '';
        jobs.forEach(function (j) {
          var tr = el('tr', { 'data-job': j.name, 'class': 'state-' + j.state.toLowerCase() });
          var a = el('a', { href: '/jobs?name=' + encodeURIComponent(j.name) }, j.name);
          tr.appendChild(el('td')).appendChild(a);
          tr.appendChild(el('td', { 'class': 'c-state' }, j.state));
          tr.appendChild(el('td', null, j.nodes.join(', ')));
          tr.appendChild(el('td', { 'class': 'c-world' }, j.worldSize));
          tr.appendChild(el('td', null, j.epochsDone + ' / ' + dash(j.epochs)));
          tr.appendChild(el('td', { 'class': 'c-accuracy' }, accuracy(j)));
          tr.appendChild(el('td', null, j.durationSeconds === null ? '–' : j.durationSeconds + ' s'));
          tr.appendChild(el('td', null, dash(j.device)));
          tbody.appendChild(tr);
        });
      }).catch(function (e) {
        status.textContent = 'the cluster did not answer: ' + e.message;
        status.className = 'bad';
      });
    }

    var chart = null;
    var logPre = null;
    function show(name) {
      return getJson('/api/job?name=' + encodeURIComponent(name)).then(function (j) {
        if (!logPre) {
          detail.appendChild(el('h2', null, 'Run ' + j.name));
          detail.appendChild(el('p', { id: 'job-summary', 'class': 'muted' }));
          detail.appendChild(el('div', { id: 'job-chart', 'class': 'chart' }));
          detail.appendChild(el('h2', null, 'Log (last lines)'));
          logPre = el('pre', { id: 'job-log', 'class': 'log' });
          detail.appendChild(logPre);
        }
        document.getElementById('job-summary').textContent = j.state + ' · ' + j.nodes.join(', ') + ' · world size '
          + j.worldSize + ' · ' + j.epochsDone + '/' + dash(j.epochs) + ' epochs · test accuracy ' + accuracy(j);
        var x = j.history.map(function (e) { return e.epoch; });
        var loss = j.history.map(function (e) { return e.loss; });
        var acc = j.history.map(function (e) { return e.accuracy; });
        var box = document.getElementById('job-chart');
        box.setAttribute('data-points', String(x.length));
        if (!chart) {
          chart = new uPlot({
            width: width(box), height: 220,
            scales: { x: { time: false }, acc: { range: [0, 1] } },
            series: [{ label: 'epoch' },
              { label: 'loss', stroke: '#d62728', width: 2, points: { show: true } },
              { label: 'accuracy', stroke: '#2ca02c', width: 2, scale: 'acc', points: { show: true } }],
            axes: [{}, { label: 'loss' }, { side: 1, scale: 'acc', label: 'accuracy', grid: { show: false } }]
          }, [x, loss, acc], box);
        } else {
          chart.setData([x, loss, acc]);
        }
        logPre.textContent = j.logTail;
        return j.state;
      });
    }

    list();
    window.setInterval(list, 5000);
    verifyResults();
    window.setInterval(verifyResults, 5000);
    var selected = param('name');
    if (selected) {
      var tick = function () {
        show(selected).then(function (state) {
          if (state === 'Running') {
            window.setTimeout(tick, 2000);
          }
        }).catch(function (e) {
          detail.textContent = e.message;
        });
      };
      tick();
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var page = document.body.getAttribute('data-page');
    var main = document.getElementById('main');
    if (page === 'cluster') {
      clusterPage(main);
    } else if (page === 'node') {
      nodePage(main);
    } else if (page === 'jobs') {
      jobsPage(main);
    }
  });
}());
