// ui_e2e.js: drives the dashboard (GET /ui) in headless Chromium with playwright-core while a
// batch runs, acting as the prover itself (claim, witness, ref_prove, complete or fail), and
// checks what an operator would: progress moves, a failure shows with its error and its job's
// detail, and a requeue from the page is accepted. Run by t_ui.sh, which checks the database.
//
// Environment: WG_URL, ADMIN_TOKEN, PROVER_TOKEN, REF_PROVE (the reference prover), OUT_DIR
// (screenshot, result.json), PLAYWRIGHT_DIR (where playwright-core is installed), CHROMIUM.
'use strict';
const path = require('path');
const fs = require('fs');
const {execFileSync} = require('child_process');
const {chromium} = require(path.join(process.env.PLAYWRIGHT_DIR, 'node_modules', 'playwright-core'));

const URL_ = process.env.WG_URL, OUT = process.env.OUT_DIR;
const ERROR_TEXT = 'e2e: gpu on fire at ' + Date.now();

function check(cond, msg) {
  if (!cond) throw new Error('check failed: ' + msg);
  console.log('ok - ' + msg);
}

async function prover(method, p, body, headers) {
  const r = await fetch(URL_ + p, {method, body,
    headers: Object.assign({Authorization: 'Bearer ' + process.env.PROVER_TOKEN}, headers || {})});
  return {status: r.status, bytes: Buffer.from(await r.arrayBuffer())};
}

async function claim() {
  const r = await prover('POST', '/jobs/claim', JSON.stringify({prover_id: 'e2e', protocol_version: 24}),
    {'Content-Type': 'application/json'});
  check(r.status === 200, 'claimed a job (status ' + r.status + ')');
  return JSON.parse(r.bytes.toString());
}

async function proveOne() {
  const job = await claim();
  const w = await prover('GET', '/jobs/' + job.id + '/witness', undefined, {'X-WG-Lease': job.lease});
  check(w.status === 200, 'downloaded the witness of job ' + job.id);
  const proof = execFileSync(process.env.REF_PROVE, ['-'], {input: w.bytes});
  const c = await prover('POST', '/proofs/' + job.id + '/complete', proof,
    {'Content-Type': 'application/octet-stream', 'X-WG-Lease': String(job.lease)});
  check(c.status === 200, 'completed job ' + job.id);
}

(async () => {
  // playwright-core gives the browser a fresh, empty profile of its own (--user-data-dir).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const result = {};
  try {
    const page = await browser.newPage({viewport: {width: 1280, height: 900}});
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));

    await page.goto(URL_ + '/ui');
    await page.fill('#token', process.env.ADMIN_TOKEN);
    await page.click('#use-token');
    const basic = '[data-batch="1"] [data-round="0"] .count';
    await page.waitForSelector(basic, {timeout: 10000});
    // The basic witness job has made its proof jobs.
    await page.waitForFunction((sel) => /^0\/[1-9]/.test(document.querySelector(sel).textContent), basic,
      {timeout: 15000});
    const before = await page.textContent(basic);
    console.log('# basic round before proving: ' + before);
    check(/^0\/[1-9][0-9]*$/.test(before), 'the basic round shows 0 proofs done: ' + before);
    check(await page.evaluate(() => sessionStorage.getItem('wg-token')) === process.env.ADMIN_TOKEN,
      'the token is kept in sessionStorage');
    check(await page.inputValue('#token') === '', 'the token field is emptied');

    await proveOne();
    await proveOne();
    await page.waitForFunction((sel) => /^2\//.test(document.querySelector(sel).textContent), basic,
      {timeout: 10000});
    const after = await page.textContent(basic);
    console.log('# basic round after proving two: ' + after);
    check(after !== before, 'progress moved on its own: ' + before + ' -> ' + after);
    const width = await page.$eval('[data-batch="1"] [data-round="0"] .fill', (e) => e.style.width);
    check(width !== '0%' && width !== '', 'the progress bar grew: ' + width);

    // A job fails for good (--max-attempts 1): it shows with its error, and its detail opens.
    const job = await claim();
    const f = await prover('POST', '/proofs/' + job.id + '/fail', JSON.stringify({error: ERROR_TEXT}),
      {'Content-Type': 'application/json', 'X-WG-Lease': String(job.lease)});
    check(f.status === 200 && JSON.parse(f.bytes).status === 'failed', 'job ' + job.id + ' failed for good');
    result.failed_job = job.id;
    const item = '#failures li[data-href="/jobs/' + job.id + '"]';
    await page.waitForSelector(item, {timeout: 10000});
    check((await page.textContent(item + ' .error')).startsWith(ERROR_TEXT + '; reached max_attempts'), 'the failure shows its error');
    check(/failed/.test(await page.textContent('[data-batch="1"] .batch-status')), 'the batch shows failed');
    await page.click(item + ' button.details');
    await page.waitForFunction(() => /"status": "failed"/.test(document.getElementById('detail').textContent),
      null, {timeout: 10000});
    const detail = JSON.parse(await page.textContent('#detail'));
    check(detail.id === job.id && detail.error.startsWith(ERROR_TEXT + '; reached max_attempts'), 'the job detail is GET /jobs/' + job.id);

    await page.click(item + ' button.requeue');
    await page.waitForFunction((t) => /^requeued \/jobs\//.test(document.getElementById('status').textContent),
      null, {timeout: 10000});
    check(true, 'the page says: ' + await page.textContent('#status'));
    await page.waitForFunction((sel) => document.querySelector(sel) === null ||
      !document.querySelector(sel + ' button.requeue'), item, {timeout: 10000});
    check(true, 'the failure is no longer offered for requeue');
    await page.waitForFunction(() => /"status": "queued"/.test(document.getElementById('detail').textContent),
      null, {timeout: 10000});
    check(true, 'the job detail follows: queued');

    // Throughput has at least two samples by now.
    await page.waitForFunction(() => /proofs per minute/.test(document.getElementById('rate').textContent), null,
      {timeout: 10000});
    result.rate = await page.textContent('#rate');
    check(/^[0-9.]+ proofs per minute/.test(result.rate), 'throughput shows: ' + result.rate);

    const screenshot = path.join(OUT, 'dashboard.png');
    await page.screenshot({path: screenshot, fullPage: true});
    result.screenshot = screenshot;
    check(requests.every((u) => !u.includes(process.env.ADMIN_TOKEN)), 'no URL carries the token');
    check(requests.every((u) => u.startsWith(URL_)), 'the page loads nothing from elsewhere');
    check(problems.length === 0, 'no console error or CSP violation: ' + JSON.stringify(problems));
  } finally {
    fs.writeFileSync(path.join(OUT, 'result.json'), JSON.stringify(result));
    await browser.close();
  }
})().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
