// ui_e2e.js: drives the dashboard (GET /ui) in headless Chromium with playwright-core while
// batches 1, 2 and 3 run and batch 4 is held by backpressure (the daemon runs with
// --max-circuits-in-flight 6, which batches 1 to 3 fill), acting as the prover itself (claim,
// witness, ref_prove, complete or fail), and checks what an operator would: the batches newest
// first, read with one GET /batches?order=desc; batch 4 held, and why, in its row and its panel,
// until two proofs bring the circuits in flight under 6; a bar only for a round whose job count is
// known; the queue table, whose pause and resume buttons change GET /queue; progress and per-round
// throughput (no "0.0 per minute"); a long error wrapped in every panel (scrollWidth <=
// clientWidth); a job's detail, its requeue, its attempt history from the batch's job list;
// "requeue failed" for a batch, checked through the API; a batch's priority set from its panel
// (GET /batches/{n} and GET /batches follow) and a value out of range refused in the server's own
// words. Run by t_ui.sh, which checks the database.
//
// Environment: WG_URL, ADMIN_TOKEN, PROVER_TOKEN, REF_PROVE (the reference prover), OUT_DIR
// (screenshot, result.json), PLAYWRIGHT_DIR (where playwright-core is installed), CHROMIUM.
'use strict';
const path = require('path');
const fs = require('fs');
const {execFileSync} = require('child_process');
const {chromium} = require(path.join(process.env.PLAYWRIGHT_DIR, 'node_modules', 'playwright-core'));

const URL_ = process.env.WG_URL, OUT = process.env.OUT_DIR;
// A long error with a hash in it: no space to break at for 600 characters.
const ERROR_TEXT = 'e2e: gpu on fire at ' + Date.now() + ', witness 0x' + 'ab'.repeat(300);

function check(cond, msg) {
  if (!cond) throw new Error('check failed: ' + msg);
  console.log('ok - ' + msg);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function prover(method, p, body, headers) {
  const r = await fetch(URL_ + p, {method, body,
    headers: Object.assign({Authorization: 'Bearer ' + process.env.PROVER_TOKEN}, headers || {})});
  return {status: r.status, bytes: Buffer.from(await r.arrayBuffer())};
}

// The API as an admin, to check what the page did: the parsed JSON reply.
async function admin(method, p, body) {
  const r = await fetch(URL_ + p, {method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: {Authorization: 'Bearer ' + process.env.ADMIN_TOKEN, 'Content-Type': 'application/json'}});
  const text = await r.text();
  if (!r.ok) throw new Error(method + ' ' + p + ': HTTP ' + r.status + ' ' + text);
  return text ? JSON.parse(text) : null;
}

// Polls GET /queue (each daemon reads it at most once a second) until the entry of round 0,
// circuit 1 has paused === want; returns whether it did within 10 s.
async function queuePausedBecomes(want) {
  for (let i = 0; i < 50; i++) {
    const q = (await admin('GET', '/queue')).queues.find((x) => x.protocol_version === 24 &&
      x.aggregation_round === 0 && x.circuit_id === 1);
    if (q && q.paused === want) return true;
    await sleep(200);
  }
  return false;
}

async function claim() {
  const r = await prover('POST', '/jobs/claim', JSON.stringify({prover_id: 'e2e', protocol_version: 24}),
    {'Content-Type': 'application/json'});
  check(r.status === 200, 'claimed a job (status ' + r.status + ')');
  return JSON.parse(r.bytes.toString());
}

async function failJob(job, text) {
  const f = await prover('POST', '/proofs/' + job.id + '/fail', JSON.stringify({error: text}),
    {'Content-Type': 'application/json', 'X-WG-Lease': String(job.lease)});
  check(f.status === 200 && JSON.parse(f.bytes).status === 'failed', 'job ' + job.id + ' failed for good');
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

// Whether the element sel (and every ancestor up to its section) shows its whole text without
// a horizontal scrollbar or overflow: scrollWidth <= clientWidth.
async function fits(page, sel) {
  return page.$eval(sel, (e) => {
    const out = [];
    for (let n = e; n && n !== document.body; n = n.parentElement)
      if (n.scrollWidth > n.clientWidth + 1 && getComputedStyle(n).display !== 'inline')
        out.push(n.tagName + '.' + n.className + ' ' + n.scrollWidth + '>' + n.clientWidth);
    const d = document.documentElement;
    if (d.scrollWidth > d.clientWidth) out.push('page ' + d.scrollWidth + '>' + d.clientWidth);
    return out;
  });
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
    // Chromium logs every refused request; the one refusal this test asks for (a priority out of
    // range) is counted apart, every other is a problem.
    const refusals = [];
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (/status of 400/.test(m.text()) && new URL(m.location().url || URL_).pathname === '/batches/2/priority')
        refusals.push(m.text());
      else problems.push(m.text() + ' (' + m.location().url + ')');
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));

    await page.goto(URL_ + '/ui');
    await page.fill('#token', process.env.ADMIN_TOKEN);
    await page.click('#use-token');

    // ------------------------------------------------ batches, newest first
    await page.waitForSelector('#batches [data-batch="4"]', {timeout: 10000});
    const order = await page.$$eval('#batches tr[data-batch]', (rows) => rows.map((r) => r.dataset.batch).join(','));
    check(order === '4,3,2,1', 'the batches are listed newest first: ' + order);
    const listed = requests.filter((u) => new URL(u).pathname === '/batches');
    check(listed.length > 0 && listed.every((u) => /[?&]order=desc(&|$)/.test(u) && !/[?&]after=/.test(u)),
      'the page reads GET /batches?order=desc, one page, never walking the list: ' + listed[0]);
    check(await page.textContent('#batches [data-batch="1"] .priority') === '0', 'each batch shows its priority');

    // ------------------------------------------------ a batch held by backpressure, and why
    const api4 = await admin('GET', '/batches/4');
    check(api4.status === 'queued' && api4.held === 'max_circuits_in_flight',
      'GET /batches/4 says it is held: ' + api4.status + ' ' + api4.held);
    const held4 = '#batches [data-batch="4"] .batch-status';
    await page.waitForSelector(held4 + ' .held', {timeout: 10000});
    const heldText = await page.textContent(held4);
    console.log('# batch 4 status cell: ' + heldText);
    const heldTitle = await page.getAttribute(held4 + ' .held', 'title');
    check(heldText === 'queuedheld: max_circuits_in_flight' && heldTitle.includes('--max-circuits-in-flight'),
      'batch 4\'s row says it is held and why (its tooltip explains): ' + heldText + ' / ' + heldTitle);
    for (const n of [1, 2, 3])
      check(await page.$('#batches [data-batch="' + n + '"] .held') === null, 'batch ' + n + ', under way, is not held');
    await page.click('#batches [data-batch="4"] button.jobs');
    await page.waitForFunction(() => /^batch 4: queued, priority 0held: max_circuits_in_flightthe provers have --max-circuits-in-flight /.test(
      document.getElementById('batch-state').textContent), null, {timeout: 10000});
    check(true, 'batch 4\'s panel says it is held and why: ' + await page.textContent('#batch-state'));
    check((await fits(page, '#batch-state .held')).length === 0, 'the held note wraps in its panel');
    result.screenshot_held = path.join(OUT, 'dashboard-held.png');
    await page.screenshot({path: result.screenshot_held, fullPage: true});

    // ------------------------------------------------ progress bars only where the count is known
    const basic = '[data-batch="1"] [data-round="0"] .count';
    await page.waitForSelector(basic, {timeout: 10000});
    // The basic witness job has made its proof jobs.
    await page.waitForFunction((sel) => /^0\/[1-9]/.test(document.querySelector(sel).textContent), basic,
      {timeout: 15000});
    const before = await page.textContent(basic);
    console.log('# basic round before proving: ' + before);
    check(/^0\/[1-9][0-9]*$/.test(before), 'the basic round shows 0 proofs done: ' + before);
    check(await page.$('[data-batch="1"] [data-round="0"] .bar') !== null, 'the basic round, its jobs all made, has a bar');
    for (const r of [1, 2, 3]) {
      const sel = '[data-batch="1"] [data-round="' + r + '"]';
      check(await page.$(sel + ' .bar') === null && await page.$(sel + ' .fill') === null,
        'round ' + r + ' of batch 1, whose jobs do not exist yet, has no bar: ' + await page.textContent(sel));
    }
    check(await page.evaluate(() => sessionStorage.getItem('wg-token')) === process.env.ADMIN_TOKEN,
      'the token is kept in sessionStorage');
    check(await page.inputValue('#token') === '', 'the token field is emptied');

    // ------------------------------------------------ the queue report, pause and resume
    const qrow = '#queue tr[data-queue="24/0/1"]';
    await page.waitForSelector(qrow, {timeout: 10000});
    const qcells = await page.$$eval(qrow + ' td', (tds) => tds.map((t) => t.textContent));
    console.log('# queue row: ' + qcells.join(' | '));
    check(qcells[3] !== '0' && qcells[8] === 'open', 'the queue table shows round 0 circuit 1 queued, open');
    await page.click(qrow + ' button.pause');
    await page.waitForFunction((sel) => document.querySelector(sel + ' .state').textContent === 'paused', qrow,
      {timeout: 10000});
    check(await queuePausedBecomes(true), 'after "pause", GET /queue says round 0 circuit 1 is paused');
    const held = await prover('POST', '/jobs/claim', JSON.stringify({prover_id: 'e2e', protocol_version: 24}),
      {'Content-Type': 'application/json'});
    check(held.status === 204, 'a claim while paused gets nothing (status ' + held.status + ')');
    await page.click(qrow + ' button.resume');
    await page.waitForFunction((sel) => document.querySelector(sel + ' .state').textContent === 'open', qrow,
      {timeout: 10000});
    check(await queuePausedBecomes(false), 'after "resume", GET /queue says round 0 circuit 1 is open again');
    check(/^resumed round 0 circuit 1/.test(await page.textContent('#status')), 'the page says: ' +
      await page.textContent('#status'));

    // ------------------------------------------------ progress and per-round throughput
    await proveOne();
    await proveOne();
    await page.waitForFunction((sel) => /^2\//.test(document.querySelector(sel).textContent), basic,
      {timeout: 10000});
    const after = await page.textContent(basic);
    console.log('# basic round after proving two: ' + after);
    check(after !== before, 'progress moved on its own: ' + before + ' -> ' + after);
    const width = await page.$eval('[data-batch="1"] [data-round="0"] .fill', (e) => e.style.width);
    check(width !== '0%' && width !== '', 'the progress bar grew: ' + width);
    // Two proofs brought the circuits in flight from 6 to 4: batch 4 is held no longer.
    await page.waitForFunction(() => document.querySelector('#batches [data-batch="4"] .held') === null &&
      document.querySelector('#batch-state .held') === null, null, {timeout: 10000});
    check(!('held' in await admin('GET', '/batches/4')), 'GET /batches/4 no longer says held');
    check(true, 'the held note is gone from batch 4\'s row and panel: ' + await page.textContent('#batch-state'));
    await page.waitForFunction(() => /^[2-9] proofs$/.test(
      document.querySelector('#throughput tr[data-round="0"] .last').textContent), null, {timeout: 10000});
    result.rate = await page.textContent('#throughput tr[data-round="0"]');
    check(true, 'the basic round\'s throughput counts the proofs of the last 60 s: ' + result.rate);
    check(await page.textContent('#throughput tr[data-round="3"] .last') === 'none',
      'an idle round says none: ' + await page.textContent('#throughput tr[data-round="3"]'));
    const all = await page.textContent('#throughput');
    check(!/0\.0|peak/.test(all), 'no "0.0 per minute (peak ...)" anywhere: ' + all.replace(/\s+/g, ' '));

    // ------------------------------------------------ a failure with a long error, wrapped
    // A job fails for good (--max-attempts 1): it shows with its error, and its detail opens.
    const job = await claim();
    await failJob(job, ERROR_TEXT);
    result.failed_job = job.id;
    const item = '#failures li[data-href="/jobs/' + job.id + '"]';
    await page.waitForSelector(item, {timeout: 10000});
    check((await page.textContent(item + ' .error')).startsWith(ERROR_TEXT + '; reached max_attempts'), 'the failure shows its error');
    const overflow = await fits(page, item + ' .error');
    check(overflow.length === 0, 'the long error wraps in its panel (scrollWidth <= clientWidth): ' + JSON.stringify(overflow));
    check(/failed/.test(await page.textContent('[data-batch="1"] .batch-status')), 'the batch shows failed');
    await page.click(item + ' button.details');
    await page.waitForFunction(() => /"status": "failed"/.test(document.getElementById('detail').textContent),
      null, {timeout: 10000});
    const detail = JSON.parse(await page.textContent('#detail'));
    check(detail.id === job.id && detail.error.startsWith(ERROR_TEXT + '; reached max_attempts'), 'the job detail is GET /jobs/' + job.id);
    check((await fits(page, '#detail')).length === 0, 'the job detail wraps too');

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

    // ------------------------------------------------ the batch's jobs and a job's attempts
    await page.click('#batches [data-batch="1"] button.jobs');
    const jrow = '#jobs tr[data-job="' + job.id + '"]';
    await page.waitForSelector(jrow, {timeout: 10000});
    check(await page.textContent('#jobs-title') === 'Jobs of batch 1', 'the jobs of batch 1 are listed');
    check(await page.textContent(jrow + ' .job-status') === 'queued', 'the list shows job ' + job.id + ' queued');
    check((await fits(page, jrow + ' .error')).length === 0, 'the long error wraps in the job list');
    await page.click(jrow + ' button.attempts');
    await page.waitForSelector('#attempts tr[data-attempt="1"]', {timeout: 10000});
    const shownAttempts = await page.$$eval('#attempts tr[data-attempt]', (rows) =>
      rows.map((r) => Array.from(r.children).map((td) => td.textContent)));
    const apiAttempts = (await admin('GET', '/jobs/' + job.id + '/attempts')).attempts;
    console.log('# attempts shown: ' + JSON.stringify(shownAttempts.map((a) => a.slice(0, 5))));
    check(shownAttempts.length === apiAttempts.length && shownAttempts.length >= 1,
      'the page shows every attempt of GET /jobs/' + job.id + '/attempts (' + apiAttempts.length + ')');
    check(shownAttempts[0][1].startsWith('e2e') && shownAttempts[0][4] === apiAttempts[0].outcome &&
      apiAttempts[0].outcome === 'failed' && shownAttempts[0][5].startsWith(ERROR_TEXT),
      'attempt 1: prover e2e, failed, with its error');
    check(await page.textContent('#attempts-title') === 'Attempts of prover job ' + job.id, 'the attempts are titled');
    check((await fits(page, '#attempts tr[data-attempt="1"] .error')).length === 0, 'the attempt\'s error wraps');

    // ------------------------------------------------ requeue every failed job of the batch
    const f1 = await claim(), f2 = await claim();
    await failJob(f1, 'e2e: first of two');
    await failJob(f2, 'e2e: second of two');
    result.batch_requeued = [f1.id, f2.id];
    const again = '#batches [data-batch="1"] button.requeue-failed';
    await page.waitForSelector(again, {timeout: 10000});
    const failedBefore = (await admin('GET', '/batches/1/jobs?status=failed')).prover_jobs.map((j) => j.id);
    check(failedBefore.length === 2, 'batch 1 has two failed jobs: ' + failedBefore);
    await page.click(again);
    await page.waitForFunction(() => /^requeued 2 failed jobs of batch 1$/.test(document.getElementById('status').textContent),
      null, {timeout: 10000});
    check(true, 'the page says: ' + await page.textContent('#status'));
    const failedAfter = await admin('GET', '/batches/1/jobs?status=failed');
    check(failedAfter.prover_jobs.length === 0 && failedAfter.witness_jobs.length === 0,
      'GET /batches/1/jobs?status=failed is empty after "requeue failed"');
    for (const id of result.batch_requeued)
      check((await admin('GET', '/jobs/' + id)).status === 'queued', 'job ' + id + ' is queued again');
    await page.waitForFunction((sel) => document.querySelector(sel) === null, again, {timeout: 10000});
    check(true, 'the batch offers no requeue once nothing has failed');

    // ------------------------------------------------ a batch's priority, set from its panel
    await page.click('#batches [data-batch="2"] button.jobs');
    await page.waitForFunction(() => document.getElementById('jobs-title').textContent === 'Jobs of batch 2' &&
      /^batch 2: /.test(document.getElementById('batch-state').textContent), null, {timeout: 10000});
    check(await page.inputValue('#priority-input') === '0', 'the priority field holds batch 2\'s priority, 0');
    await page.fill('#priority-input', '42');
    await page.click('#priority-set');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'batch 2: priority 42',
      null, {timeout: 10000});
    check(true, 'the page says: ' + await page.textContent('#status'));
    check((await admin('GET', '/batches/2')).priority === 42, 'GET /batches/2 says priority 42');
    check((await admin('GET', '/batches?order=desc')).batches.find((b) => b.l1_batch_number === 2).priority === 42,
      'GET /batches lists batch 2 with priority 42');
    await page.waitForFunction(() => document.querySelector('#batches [data-batch="2"] .priority').textContent === '42' &&
      document.querySelector('#batch-state .priority').textContent === '42', null, {timeout: 10000});
    check(true, 'the batch\'s row and panel show priority 42');
    result.priority_set = 42;
    // Out of range: the page sends it as typed, and shows the server's refusal in its own words.
    const refusal = await fetch(URL_ + '/batches/2/priority', {method: 'POST', body: JSON.stringify({priority: 101}),
      headers: {Authorization: 'Bearer ' + process.env.ADMIN_TOKEN, 'Content-Type': 'application/json'}});
    const refused = (await refusal.json()).error;
    check(refusal.status === 400 && /-100 to 100/.test(refused.message),
      'the server refuses 101: ' + refusal.status + ' ' + refused.code + ': ' + refused.message);
    await page.fill('#priority-input', '101');
    await page.click('#priority-set');
    await page.waitForFunction(() => /priority: invalid_input/.test(document.getElementById('status').textContent),
      null, {timeout: 10000});
    const said = await page.textContent('#status'), note = await page.textContent('#priority-note');
    const expected = 'POST /batches/2/priority: ' + refused.code + ': ' + refused.message;
    check(said === expected, 'the status line shows the server\'s message: ' + said);
    check(note === expected, 'so does the note beside the field: ' + note);
    check(await page.getAttribute('#status', 'class') === 'error', 'as an error');
    check((await admin('GET', '/batches/2')).priority === 42, 'batch 2 keeps priority 42');
    check(await page.inputValue('#priority-input') === '101', 'the field keeps what was typed, to correct it');
    check(refusals.length === 1, 'the browser saw one refused request, that one: ' + JSON.stringify(refusals));

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
