// The s2s dashboard page: polls the local server for runs and their metrics and draws them
// with uPlot. No other network access; everything comes from the server that served the page.
'use strict';

// Same palette as `s2s plot` (src/report/plot.cpp), so images and the page read alike.
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const MAX_DEFAULT_RUNS = 8;

const CHARTS = [
  { key: 'loss', el: 'chart-loss', title: 'Loss', train: 'train_loss', valid: 'valid_loss', unit: false },
  { key: 'token', el: 'chart-token', title: 'Token accuracy', train: 'train_token_acc', valid: 'valid_token_acc', unit: true },
  { key: 'seq', el: 'chart-seq', title: 'Sequence accuracy', train: 'train_seq_acc', valid: 'valid_seq_acc', unit: true },
];
// The training loss every --log-every steps (steps.jsonl), on the same epoch axis.
const STEP_CHART = { key: 'steps', el: 'chart-steps', title: 'Training loss every few steps' };

const state = {
  pollMs: 1000,
  runs: [],              // from /api/runs, sorted by id
  metrics: new Map(),    // run id -> { key, data } from /api/metrics
  selected: null,        // Set of run ids; null until the first list (then: all, or the URL's)
  touched: false,        // the user picked runs: stop auto-selecting new ones
  charts: {},            // key -> uPlot
  structures: {},        // key -> selected runs, colours, scale the chart was built for
  updates: 0,            // times the charts got new data (tests wait on this)
  logLoss: false,        // loss charts on a log scale
};
window.s2s = state;

function colorOf(id) {
  const i = state.runs.findIndex(r => r.id === id);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}

function fmt(v, digits = 4) {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(digits);
}

// Accuracies as percentages with two decimals: 0.9996 must not round to a perfect "1.000".
function pct(v) {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : `${(100 * v).toFixed(2)}%`;
}

function setStatus(text, error = false) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

async function getJSON(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

function selectionFromHash() {
  const m = /(?:^#|&)runs=([^&]*)/.exec(location.hash);
  return m ? new Set(m[1].split(',').filter(Boolean).map(decodeURIComponent)) : null;
}

function renderRunList() {
  const body = document.querySelector('#runs tbody');
  body.replaceChildren();
  document.getElementById('empty').hidden = state.runs.length > 0;
  for (const run of state.runs) {
    const tr = document.createElement('tr');
    tr.dataset.run = run.id;
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = state.selected.has(run.id);
    box.addEventListener('change', () => {
      state.touched = true;
      if (box.checked) state.selected.add(run.id); else state.selected.delete(run.id);
      location.hash = 'runs=' + [...state.selected].map(encodeURIComponent).join(',');
      refresh();
    });
    const cells = [document.createElement('td'), document.createElement('td'), document.createElement('td'),
      document.createElement('td'), document.createElement('td')];
    cells[0].append(box);
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = colorOf(run.id);
    const config = document.createElement('span');
    config.className = 'config';
    config.textContent = run.config_summary;
    config.title = Object.entries(run.config).map(([k, v]) => `${k}=${v}`).join('\n');
    cells[1].className = 'name';
    cells[1].append(swatch, document.createTextNode(run.id), config);
    const badge = document.createElement('span');
    badge.className = 'badge ' + run.status.replace(' ', '-');
    badge.textContent = run.status;
    if (run.stop_reason) badge.title = run.stop_reason;
    cells[2].append(badge);
    cells[3].textContent = run.epochs;
    cells[3].className = 'epochs';
    cells[4].textContent = `${pct(run.best_valid_token_acc)} / ${pct(run.best_valid_seq_acc)}`;
    if (run.best_epoch !== null) cells[4].title = `best epoch ${run.best_epoch}` +
      (run.overfit_epoch !== null ? `, overfitting after epoch ${run.overfit_epoch}` : '');
    tr.append(...cells);
    body.append(tr);
  }
}

// Vertical lines for each run's best and overfitting epochs, drawn over the plot area.
function markersPlugin(markers) {
  return {
    hooks: {
      draw: [u => {
        const { ctx } = u;
        const { top, height } = u.bbox;
        ctx.save();
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'alphabetic';
        for (const m of markers) {
          if (m.epoch === null || m.epoch === undefined) continue;
          const x = Math.round(u.valToPos(m.epoch, 'x', true));
          const both = m.kind === 'best' && m.overfit === m.epoch;  // one line, one label
          if (m.kind === 'overfit' && m.best === m.epoch) continue;
          ctx.strokeStyle = m.color;
          ctx.fillStyle = m.color;
          ctx.setLineDash((m.kind === 'best' && !both ? [2, 3] : [8, 4]).map(v => v * devicePixelRatio));
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          const label = both ? `best ${m.epoch}, overfit after` : `${m.kind} ${m.epoch}`;
          // Near the right edge the label goes on the left of its line.
          const right = x + ctx.measureText(label).width + 6 * devicePixelRatio > u.bbox.left + u.bbox.width;
          ctx.textAlign = right ? 'right' : 'left';
          ctx.fillText(label, x + (right ? -3 : 3) * devicePixelRatio, top + (12 + 13 * m.row) * devicePixelRatio);
        }
        ctx.restore();
      }],
    },
  };
}

function selectedRuns() {
  return state.runs.filter(r => state.selected.has(r.id) && state.metrics.has(r.id));
}

// x: the union of epochs of the selected runs; one train and one valid series per run.
function buildData(chart, runs) {
  const epochs = new Set();
  for (const r of runs) for (const m of state.metrics.get(r.id).data.metrics) epochs.add(m.epoch);
  const xs = [...epochs].sort((a, b) => a - b);
  const data = [xs];
  for (const r of runs) {
    const byEpoch = new Map(state.metrics.get(r.id).data.metrics.map(m => [m.epoch, m]));
    for (const field of [chart.train, chart.valid]) {
      data.push(xs.map(e => (byEpoch.has(e) ? byEpoch.get(e)[field] : null)));
    }
  }
  return data;
}

// Loss on a linear scale from 0, or on a log scale (the toggle); accuracies from 0 to 1.
function yScale(chart) {
  if (chart.unit) return { range: [0, 1] };
  if (state.logLoss) return { distr: 3, log: 10 };
  return { range: (u, min, max) => [0, max > 0 ? max * 1.05 : 1] };
}

function chartOptions(chart, runs, width) {
  const series = [{ label: 'epoch', value: (u, v) => (v === null ? '–' : v) }];
  const markers = [];
  for (const r of runs) {
    const color = colorOf(r.id);
    const info = state.metrics.get(r.id).data;
    series.push({ label: `${r.id} train`, stroke: color, width: 1.5, dash: [6, 4], spanGaps: false,
      value: (u, v) => fmt(v) });
    series.push({ label: `${r.id} valid`, stroke: color, width: 2.2, spanGaps: false,
      value: (u, v) => fmt(v) });
    const row = markers.length;  // stack labels of different runs
    const m = { best: info.best_epoch, overfit: info.overfit_epoch, color, row: row / 2 };
    markers.push({ ...m, kind: 'best', epoch: info.best_epoch });
    markers.push({ ...m, kind: 'overfit', epoch: info.overfit_epoch, row: row / 2 + 0.5 });
  }
  return {
    title: chart.title,
    width,
    height: 260,
    scales: {
      x: { time: false },
      y: yScale(chart),
    },
    axes: [{ label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, {}],
    series,
    cursor: { points: { size: 7 } },
    legend: { live: true },
    plugins: [markersPlugin(markers)],
  };
}

// x: the union of the selected runs' step positions in epochs (epoch 1.5: half way through
// the second); one series per run. Runs without steps.jsonl (older runs) add nothing.
function buildStepData(runs) {
  const xs = [...new Set(runs.flatMap(r => state.metrics.get(r.id).data.steps.map(s => s.epoch)))]
    .sort((a, b) => a - b);
  const data = [xs];
  for (const r of runs) {
    const byX = new Map(state.metrics.get(r.id).data.steps.map(s => [s.epoch, s.train_loss]));
    data.push(xs.map(x => (byX.has(x) ? byX.get(x) : null)));
  }
  return data;
}

function stepChartOptions(runs, width) {
  const series = [{ label: 'epoch', value: (u, v) => (v === null ? '–' : v.toFixed(2)) }];
  for (const r of runs) {
    series.push({ label: `${r.id} train (steps)`, stroke: colorOf(r.id), width: 1.5, spanGaps: true,
      value: (u, v) => fmt(v) });
  }
  return {
    title: STEP_CHART.title,
    width,
    height: 220,
    scales: { x: { time: false }, y: yScale(STEP_CHART) },
    axes: [{ label: 'epoch' }, {}],
    series,
    cursor: { points: { size: 5 } },
    legend: { live: true },
  };
}

// Builds a chart, or only gives it new data when its runs and options are unchanged.
function place(key, el, structure, data, options) {
  const existing = state.charts[key];
  if (existing && structure === state.structures[key]) {
    existing.setData(data);
  } else {
    if (existing) existing.destroy();
    state.charts[key] = new uPlot(options(Math.max(300, el.clientWidth - 16)), data, el);
  }
  state.structures[key] = structure;
}

function drawCharts() {
  const runs = selectedRuns();
  const structure = JSON.stringify([state.logLoss, runs.map(r => [r.id, colorOf(r.id),
    state.metrics.get(r.id).data.best_epoch, state.metrics.get(r.id).data.overfit_epoch])]);
  for (const chart of CHARTS) {
    place(chart.key, document.getElementById(chart.el), structure, buildData(chart, runs),
      width => chartOptions(chart, runs, width));
  }
  const stepRuns = runs.filter(r => state.metrics.get(r.id).data.steps.length > 0);
  const stepEl = document.getElementById(STEP_CHART.el);
  stepEl.hidden = stepRuns.length === 0;
  if (!stepEl.hidden) {
    place(STEP_CHART.key, stepEl, structure + JSON.stringify(stepRuns.map(r => r.id)),
      buildStepData(stepRuns), width => stepChartOptions(stepRuns, width));
  } else if (state.charts[STEP_CHART.key]) {
    state.charts[STEP_CHART.key].destroy();
    delete state.charts[STEP_CHART.key];
  }
  state.updates += 1;
}

async function refresh() {
  const list = await getJSON('/api/runs');
  state.pollMs = list.poll_ms || 1000;
  state.runs = list.runs.sort((a, b) => a.id.localeCompare(b.id));
  if (state.selected === null) state.selected = selectionFromHash();
  if (state.selected === null || !state.touched && state.selected.size === 0 && state.runs.length) {
    state.selected = new Set(state.runs.slice(0, MAX_DEFAULT_RUNS).map(r => r.id));
  } else if (!state.touched && !selectionFromHash()) {
    for (const r of state.runs) if (state.selected.size < MAX_DEFAULT_RUNS) state.selected.add(r.id);
  }
  renderRunList();
  let changed = false;
  for (const run of state.runs) {
    if (!state.selected.has(run.id)) continue;
    const key = `${run.epochs}|${run.last_epoch}|${run.last_step}|${run.status}|${run.best_epoch}|${run.overfit_epoch}`;
    const cached = state.metrics.get(run.id);
    if (cached && cached.key === key) continue;
    const data = await getJSON('/api/metrics?run=' + encodeURIComponent(run.id));
    state.metrics.set(run.id, { key, data });
    changed = true;
  }
  const shown = JSON.stringify(selectedRuns().map(r => r.id));
  if (changed || shown !== state.shown) drawCharts();
  state.shown = shown;
}

async function loop() {
  try {
    await refresh();
    setStatus(`updated ${new Date().toLocaleTimeString()} · every ${state.pollMs / 1000}s`);
  } catch (err) {
    setStatus(`server unreachable (${err.message}); retrying`, true);
  }
  setTimeout(loop, state.pollMs);
}

document.getElementById('log-loss').addEventListener('change', e => {
  state.logLoss = e.target.checked;
  if (state.selected) drawCharts();
});

window.addEventListener('resize', () => {
  for (const chart of [...CHARTS, STEP_CHART]) {
    const u = state.charts[chart.key];
    if (u) u.setSize({ width: Math.max(300, document.getElementById(chart.el).clientWidth - 16), height: u.height });
  }
});

if (typeof uPlot === 'undefined') {
  setStatus('chart library missing: run scripts/setup (npm ci in web/)', true);
} else {
  loop();
}
