// Real-browser test of the dashboard: headless Debian chromium driven by playwright-core.
// Usage: node browser_test.mjs --web-dir WEB --url URL --metrics RUN/metrics.jsonl
//                              --run ID --epochs N --screenshot OUT.png
// Checks the charts drawn for run ID (3 charts, 2 series each, N points), appends epoch N+1
// to the metrics file and checks the page shows it within 2 seconds; then writes the run's
// steps.jsonl as training does, and checks the step-loss chart appears under the others and
// follows new steps; and that the log-scale toggle puts both loss charts on a log axis.
// Exit 0 on success.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['web-dir', 'url', 'metrics', 'run', 'epochs', 'screenshot']) {
  if (!args[k]) { console.error(`missing --${k}`); process.exit(2); }
}
const require = createRequire(path.join(path.resolve(args['web-dir']), 'package.json'));
const { chromium } = require('playwright-core');

const epochs = Number(args.epochs);
const failures = [];
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-chromium-'));
// A fresh profile directory each run (playwright passes it as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 980 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const external = [];
  page.on('request', req => { if (!req.url().startsWith(args.url)) external.push(req.url()); });
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  await page.goto(args.url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.s2s && window.s2s.updates > 0, null, { timeout: 10000 });

  const shape = () => page.evaluate(() => Object.fromEntries(Object.entries(window.s2s.charts).map(
    ([k, u]) => [k, {
      series: u.series.length - 1,
      labels: u.series.slice(1).map(s => s.label),
      points: u.data[0].length,
      lastX: u.data[0][u.data[0].length - 1],
      nonNull: u.data.slice(1).map(d => d.filter(v => v !== null).length),
    }])));
  let s = await shape();
  check(Object.keys(s).sort().join(',') === 'loss,seq,token', `three charts: ${Object.keys(s)}`);
  for (const [k, c] of Object.entries(s)) {
    check(c.series === 2, `${k}: 2 series (train, valid) for one run, got ${c.series} ${c.labels}`);
    check(c.points === epochs, `${k}: ${epochs} points, got ${c.points}`);
    check(c.nonNull.every(n => n === epochs), `${k}: every point has a value: ${c.nonNull}`);
  }
  const rows = await page.$$eval('#runs tbody tr', trs => trs.map(tr => tr.dataset.run));
  check(rows.length === 1 && rows[0] === args.run, `run list shows ${args.run}: ${rows}`);
  const canvases = await page.$$eval('.chart canvas', cs => cs.map(c => c.width * c.height));
  check(canvases.length === 3 && canvases.every(a => a > 0), `3 drawn canvases: ${canvases}`);

  // Hovering shows values in the legend.
  const box = await page.locator('#chart-loss .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  const legend = await page.$$eval('#chart-loss .u-legend .u-value', vs => vs.map(v => v.textContent));
  check(legend.length === 3 && /^\d+$/.test(legend[0]) && /^\d+\.\d{4}$/.test(legend[2]),
    `hover shows epoch and values: ${legend}`);
  await page.mouse.move(0, 0);

  // A new epoch appended by "training": visible within 2 s (the poll interval is 1 s).
  const next = epochs + 1;
  const line = JSON.stringify({ epoch: next, train_loss: 0.05, train_token_acc: 0.99, train_seq_acc: 0.95,
    valid_loss: 0.3, valid_token_acc: 0.9, valid_seq_acc: 0.5, epoch_seconds: 4.1, lr: 0.001 });
  // Written in two steps, as a writer mid-line would: the partial line must not show.
  const fd = fs.openSync(args.metrics, 'a');
  fs.writeSync(fd, line.slice(0, 20));
  await page.waitForTimeout(1300);
  s = await shape();
  check(s.loss.points === epochs, `partial line not shown: ${s.loss.points} points`);
  fs.writeSync(fd, line.slice(20) + '\n');
  fs.closeSync(fd);
  const t0 = Date.now();
  let seen = false;
  try {
    await page.waitForFunction(n => window.s2s.charts.loss && window.s2s.charts.loss.data[0].length === n,
      next, { timeout: 2000, polling: 50 });
    seen = true;
  } catch (e) { /* reported below */ }
  const ms = Date.now() - t0;
  s = await shape();
  check(seen && s.loss.lastX === next && s.seq.points === next,
    `epoch ${next} shown after ${ms} ms (limit 2000): points ${s.loss.points}, last ${s.loss.lastX}`);
  const epochsCell = await page.textContent(`#runs tbody tr[data-run="${args.run}"] td.epochs`);
  check(Number(epochsCell) === next, `run list shows ${next} epochs: ${epochsCell}`);
  check(errors.length === 0, `no page errors: ${errors}`);
  check(external.length === 0, `no requests beyond the local server: ${external}`);

  // The run writes its step log (steps.jsonl beside metrics.jsonl), as a training run does
  // every --log-every steps: the step chart appears, then follows new steps.
  const stepsPath = path.join(path.dirname(args.metrics), 'steps.jsonl');
  const stepLine = i => JSON.stringify({ step: 10 * i, epoch: 1 + Math.floor((10 * i - 1) / 100),
    epoch_fraction: i / 10, train_loss: 2 / i, tokens_per_second: 40000, lr: 0.002 }) + '\n';
  fs.writeFileSync(stepsPath, Array.from({ length: 12 }, (_, i) => stepLine(i + 1)).join(''));
  const stepPoints = n => page.waitForFunction(k => window.s2s.charts.steps &&
    window.s2s.charts.steps.data[0].length === k, n, { timeout: 2500, polling: 50 }).then(() => true, () => false);
  check(await stepPoints(12), 'step chart appears with the 12 logged steps');
  const hidden = await page.$eval('#chart-steps', el => el.hidden);
  check(!hidden, 'step chart is shown');
  const order = await page.$$eval('#charts .chart', els => els.map(e => e.id));
  check(order[order.length - 1] === 'chart-steps', `step chart under the epoch charts: ${order}`);
  fs.appendFileSync(stepsPath, stepLine(13) + stepLine(14));
  check(await stepPoints(14), 'step chart follows two new steps within 2.5 s');
  const lastLoss = await page.evaluate(() => { const d = window.s2s.charts.steps.data; return d[1][d[1].length - 1]; });
  check(Math.abs(lastLoss - 2 / 14) < 1e-9, `last step loss drawn: ${lastLoss}`);

  // The log-scale toggle: both loss charts switch to a log axis, accuracies stay linear.
  const distr = () => page.evaluate(() => [window.s2s.charts.loss.scales.y.distr,
    window.s2s.charts.steps.scales.y.distr, window.s2s.charts.seq.scales.y.distr]);
  check(JSON.stringify(await distr()) === '[1,1,1]', `linear scales first: ${await distr()}`);
  await page.check('#log-loss');
  check(JSON.stringify(await distr()) === '[3,3,1]', `log scale for loss only: ${await distr()}`);
  check(errors.length === 0, `no page errors after the step chart: ${errors}`);

  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.4);
  fs.mkdirSync(path.dirname(args.screenshot), { recursive: true });
  await page.screenshot({ path: args.screenshot, fullPage: true });
  console.log(`screenshot: ${args.screenshot}`);
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
