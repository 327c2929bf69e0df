/**
 * The dashboard page served by GET /api/dashboard: one self-contained HTML document (no external
 * scripts, fonts or CDNs) whose script fetches /api/fleet and /api/runs with the key the page was
 * opened with (`?code=`) and redraws itself every `?refresh=` seconds (default 10). The run history
 * shows `?runs=` runs (default 50); "Show older runs" shows as many more, up to 500. Data is written
 * with textContent only, so nothing read from the cloud is ever parsed as HTML.
 */
const STYLE = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --bg: #ffffff; --panel: #f4f5f7; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 1rem 1.5rem; border-bottom: 1px solid var(--line); display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .6rem; }
h3 { font-size: 1rem; margin: 0 0 .25rem; }
main { padding: 0 1.5rem 2rem; max-width: 78rem; }
#state { color: var(--muted); margin: 0; }
#state.problem { color: #a30000; font-weight: 600; }
.scale-set { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin-bottom: .75rem; }
.facts { margin: 0 0 .5rem; color: var(--muted); }
.bar { display: flex; min-height: 2rem; border-radius: 4px; overflow: hidden; border: 1px solid #767676; background: #fff; }
.seg { display: flex; align-items: center; justify-content: center; color: #fff; font-weight: 600; font-size: .85rem; padding: 0 .4rem; white-space: nowrap; overflow: hidden; min-width: 2.5rem; border-right: 2px solid #fff; }
.seg:last-child { border-right: 0; }
.empty { color: var(--muted); padding: .3rem .5rem; }
.c0 { background: #1b5e20; } .c1 { background: #0d47a1; } .c2 { background: #6a1b9a; } .c3 { background: #8a3a00; } .c4 { background: #37474f; } .c5 { background: #880e4f; }
table { border-collapse: collapse; width: 100%; background: #fff; }
caption { text-align: left; color: var(--muted); padding-bottom: .3rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); }
.status-Failed, .status-Terminated, .bad { color: #a30000; font-weight: 600; }
.status-Running, .status-Pending { color: #0b4f9c; font-weight: 600; }
.rollout { border-left: 4px solid #0d47a1; background: var(--panel); padding: .6rem 1rem; margin-bottom: .75rem; }
.rollout ul { margin: .3rem 0 0; padding-left: 1.2rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
`;

const SCRIPT = `
'use strict';
(function () {
  var params = new URLSearchParams(location.search);
  var code = params.get('code') || '';
  var refresh = Math.max(1, Number(params.get('refresh')) || 10);
  var pageOfRuns = Math.min(500, Math.max(1, Number(params.get('runs')) || 50));
  var runsShown = pageOfRuns;
  var base = location.pathname.replace(/\\/dashboard\\/?$/, '');
  var colours = new Map();

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'className') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function colour(version) {
    if (!colours.has(version)) colours.set(version, 'c' + (colours.size % 6));
    return colours.get(version);
  }
  function get(path) {
    var url = base + path + (path.indexOf('?') < 0 ? '?' : '&') + 'code=' + encodeURIComponent(code);
    return fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(path + ' answered ' + r.status + (t ? ': ' + t.slice(0, 200) : '')); });
      return r.json();
    });
  }
  function replace(id, nodes) {
    var target = document.getElementById(id);
    target.replaceChildren.apply(target, nodes);
  }
  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  function drawScaleSets(fleet) {
    if (!fleet.scaleSets.length) return replace('scale-sets', [el('p', { text: 'No managed scale sets found.' })]);
    replace('scale-sets', fleet.scaleSets.map(function (s) {
      var label = s.name + ': ' + (s.instancesByVersion.length
        ? s.instancesByVersion.map(function (v) { return plural(v.count, 'instance') + ' on ' + v.version; }).join(', ')
        : 'no instances');
      var segs = s.instancesByVersion.map(function (v) {
        var seg = el('span', { className: 'seg ' + colour(v.version), 'data-version': v.version, title: v.version + ': ' + plural(v.count, 'instance'), text: v.version + ' × ' + v.count });
        seg.style.flexGrow = String(v.count);
        return seg;
      });
      if (!segs.length) segs = [el('span', { className: 'empty', text: 'no instances' })];
      var r = s.runners;
      var facts = [s.region, s.image + ' (' + (s.fleet === 'github' ? 'GitHub runners' : 'Azure DevOps agents') + ')',
        'model ' + s.modelVersion, plural(s.capacity, 'instance') + ' wanted',
        (s.fleet === 'github' ? 'runners' : 'agents') + ': ' + r.online + ' online, ' + r.busy + ' busy, ' + r.offline + ' offline'];
      if (s.canary) facts.unshift('canary');
      return el('article', { className: 'scale-set', 'data-scale-set': s.name, 'aria-labelledby': 'ss-' + s.name }, [
        el('h3', { id: 'ss-' + s.name, text: s.name }),
        el('p', { className: 'facts', text: facts.join(' · ') }),
        el('div', { className: 'bar', role: 'img', 'aria-label': label }, segs),
      ]);
    }));
  }

  function drawGallery(fleet) {
    var rows = [];
    fleet.images.forEach(function (image) {
      image.versions.forEach(function (v) {
        rows.push(el('tr', {}, [
          el('td', { text: image.image + ' (' + image.definition + ')' }),
          el('th', { scope: 'row', text: v.version }),
          el('td', { className: v.state === 'rejected' || v.state === 'failed' ? 'bad' : '', text: v.state + (v.kilnState && v.kilnState !== v.state ? ' (kiln: ' + v.kilnState + ')' : '') }),
          el('td', { text: v.regions.map(function (r) { return r.region + (r.state ? ' ' + r.state : ''); }).join(', ') }),
          el('td', { text: v.usedBy.join(', ') || '—' }),
        ]));
      });
    });
    if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '5', text: 'No gallery versions.' })]));
    replace('gallery-rows', rows);
  }

  function describeChild(c) {
    var s = c.customStatus || {};
    if (c.name !== 'rolloutScaleSetOrchestrator') return c.id + ': ' + c.status + (c.phase ? ' — ' + c.phase : '');
    return (s.scaleSet || c.id) + ': ' + (c.phase || c.status) + (s.wave && !/\\bwave\\b/.test(c.phase || '') ? ', wave ' + s.wave : '') +
      ', ' + (s.onNewVersion || 0) + ' on ' + (s.version || 'the new version') +
      (s.pendingBusy ? ', ' + s.pendingBusy + ' busy' : '') + (s.unhealthy ? ', ' + s.unhealthy + ' unhealthy' : '') +
      (c.status !== 'Running' ? ' (' + c.status + ')' : '');
  }

  function drawRollouts(runs) {
    var active = runs.runs.filter(function (r) {
      return (r.status === 'Running' || r.status === 'Pending') &&
        (r.kind === 'rollout' || (r.children || []).some(function (c) { return c.name === 'rolloutScaleSetOrchestrator'; }));
    });
    if (!active.length) return replace('rollouts', [el('p', { text: 'No rollout is running.' })]);
    replace('rollouts', active.map(function (r) {
      var children = (r.children || []).filter(function (c) { return c.name === 'rolloutScaleSetOrchestrator'; });
      var queued = [];
      var sets = (r.customStatus && r.customStatus.scaleSets) || {};
      Object.keys(sets).forEach(function (name) {
        if (sets[name] && sets[name].state === 'queued' && !children.some(function (c) { return c.id === sets[name].child; }))
          queued.push(name + ': queued');
      });
      return el('article', { className: 'rollout', 'data-run': r.id }, [
        el('h3', { text: r.kind + ' ' + r.subject + (r.dryRun ? ' (dry run)' : '') }),
        el('p', { className: 'facts', text: (r.phase || r.status) + ' · started ' + r.createdTime + ' · id ' + r.id }),
        el('ul', {}, children.map(function (c) { return el('li', { text: describeChild(c) }); })
          .concat(queued.map(function (q) { return el('li', { text: q }); }))),
      ]);
    }));
  }

  function drawRuns(runs) {
    var rows = runs.runs.map(function (r) {
      return el('tr', {}, [
        el('th', { scope: 'row' }, [el('code', { text: r.id })]),
        el('td', { text: r.kind }),
        el('td', { text: r.subject + (r.dryRun ? ' (dry run)' : '') }),
        el('td', { text: r.startedBy }),
        el('td', { className: 'status-' + r.status, text: r.status }),
        el('td', { text: [r.outcome || r.phase || '', r.failureReason || ''].filter(Boolean).join(' — ') }),
        el('td', { text: r.createdTime }),
        el('td', { text: r.lastUpdatedTime }),
      ]);
    });
    if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '8', text: 'No runs in the last ' + runs.days + ' days.' })]));
    replace('run-rows', rows);
    document.getElementById('more-runs').hidden = !runs.next || runsShown >= 500;
  }

  function loadRuns() {
    return get('/runs?top=' + runsShown).then(function (runs) {
      drawRollouts(runs);
      drawRuns(runs);
    });
  }

  function setState(text, problem) {
    var state = document.getElementById('state');
    state.textContent = text;
    state.className = problem ? 'problem' : '';
  }

  function load() {
    return Promise.all([get('/fleet'), get('/runs?top=' + runsShown)]).then(function (res) {
      var fleet = res[0], runs = res[1];
      // Colours follow the gallery's order (newest first) so a version keeps its colour.
      fleet.images.forEach(function (image) { image.versions.forEach(function (v) { colour(v.version); }); });
      drawScaleSets(fleet);
      drawRollouts(runs);
      drawGallery(fleet);
      drawRuns(runs);
      document.body.setAttribute('data-generated-at', fleet.generatedAt);
      setState('Fleet as of ' + fleet.generatedAt + (fleet.errors.length ? ' — partial: ' + fleet.errors.join('; ') : '') +
        ' · refreshes every ' + refresh + ' s', fleet.errors.length > 0);
    }).catch(function (error) {
      setState('Could not refresh: ' + error.message, true);
    }).then(function () { setTimeout(load, refresh * 1000); });
  }
  document.getElementById('more-runs').addEventListener('click', function () {
    runsShown = Math.min(500, runsShown + pageOfRuns);
    loadRuns().catch(function (error) { setState('Could not refresh: ' + error.message, true); });
  });
  if (!code) setState('Open this page with ?code=<function key> to load the fleet.', true);
  load();
})();
`;

export function dashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>kiln — fleet dashboard</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>kiln fleet</h1>
  <p id="state" role="status" aria-live="polite">Loading…</p>
</header>
<main>
  <section aria-labelledby="h-scale-sets">
    <h2 id="h-scale-sets">Scale sets by image version</h2>
    <div id="scale-sets"></div>
  </section>
  <section aria-labelledby="h-rollouts">
    <h2 id="h-rollouts">Active rollouts</h2>
    <div id="rollouts"></div>
  </section>
  <section aria-labelledby="h-gallery">
    <h2 id="h-gallery">Gallery versions</h2>
    <table aria-labelledby="h-gallery">
      <thead><tr><th scope="col">Image</th><th scope="col">Version</th><th scope="col">State</th><th scope="col">Regions</th><th scope="col">Model of</th></tr></thead>
      <tbody id="gallery-rows"></tbody>
    </table>
  </section>
  <section aria-labelledby="h-runs">
    <h2 id="h-runs">Run history</h2>
    <table aria-labelledby="h-runs">
      <thead><tr><th scope="col">Run</th><th scope="col">Kind</th><th scope="col">Subject</th><th scope="col">Started by</th><th scope="col">Status</th><th scope="col">Phase or outcome</th><th scope="col">Started</th><th scope="col">Updated</th></tr></thead>
      <tbody id="run-rows"></tbody>
    </table>
    <p><button type="button" id="more-runs" hidden>Show older runs</button></p>
  </section>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
