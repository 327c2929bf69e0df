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
/* Drift, runner compliance and rollout waves (issue 17). */
.ok { color: #1b5e20; font-weight: 600; }
.warn { color: #7a4100; font-weight: 600; }
.note { color: var(--muted); margin: .3rem 0 .6rem; }
td.num { text-align: right; }
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

  // ---- Drift, runner compliance and rollout waves (issue 17) ----

  function day(iso) { return iso ? iso.slice(0, 10) : '?'; }
  function minute(iso) { return iso ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : '?'; }
  function hours(h) {
    return h < 1 ? Math.max(1, Math.round(h * 60)) + ' min' : (Math.round(h * 10) / 10) + ' h';
  }
  function perHour(n) { return (Math.round(n * 10) / 10) + ' instances an hour'; }
  function paceText(p) {
    if (p.remaining === 0) return 'done: every instance is on ' + p.version;
    if (p.perHour === undefined) return 'no pace yet: no instance moved to ' + p.version + ' so far';
    return perHour(p.perHour) + '; the remaining ' + p.remaining + ' in about ' + hours(p.hoursLeft) + ', by ' + minute(p.doneBy);
  }

  function drawDrift(fleet) {
    var notes;
    if (!fleet.rollouts) notes = [el('p', { className: 'note', text: 'Running rollouts could not be read: no pace is known.' })];
    else if (!fleet.rollouts.length) notes = [el('p', { className: 'note', text: 'No rollout running: no pace to estimate from.' })];
    else notes = fleet.rollouts.map(function (r) {
      return el('p', { className: 'note', 'data-fleet-pace': r.run, text: 'Rollout ' + r.run + ' to ' + r.version + ' (' + r.scaleSets.join(', ') + '): ' +
        r.moved + ' of ' + r.instances + ' instances moved' + (r.since ? ' since ' + minute(r.since) : '') + '; fleet pace ' + paceText(r) });
    });
    replace('drift-notes', notes);
    var rows = fleet.scaleSets.map(function (s) {
      var d = s.drift;
      var versions = d.versions.map(function (v) {
        return v.version + ' × ' + v.count + ': ' + (v.ageDays === undefined ? 'age unknown' : plural(v.ageDays, 'day') + ' old') +
          (v.behind === undefined ? '' : v.behind > 0 ? ', ' + v.behind + ' behind'
            : v.version === d.latestPromoted ? ', the latest promoted' : ', newer than the latest promoted');
      }).join('; ') || 'no instances';
      var r = d.rollout;
      var rollout = !r ? (fleet.rollouts ? 'no rollout running' : 'unknown')
        : r.state === 'queued' ? 'queued in ' + r.run + ': not started, no pace yet'
        : r.state === 'ended' ? 'its part of ' + r.run + ' ended: ' +
          (r.remaining ? r.remaining + ' not on ' + r.version : 'every instance is on ' + r.version)
        : (r.phase ? r.phase + ' of ' : '') + r.run + ': ' + paceText(r);
      return el('tr', { 'data-drift': s.name }, [
        el('th', { scope: 'row', text: s.name }),
        el('td', { text: versions }),
        el('td', { text: d.latestPromoted ? d.notOnLatest + ' of ' + s.instances + ' not on ' + d.latestPromoted : 'no promoted version' }),
        el('td', { text: rollout }),
      ]);
    });
    if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '4', text: 'No managed scale sets.' })]));
    replace('drift-rows', rows);
  }

  var COMPLIANCE = {
    current: ['ok', 'the latest release'], configured: ['ok', 'as configured'], updateDue: ['warn', 'update due'],
    refused: ['bad', 'refused by GitHub'], notConfigured: ['warn', 'not the configured version'], unknown: ['', 'unknown'],
  };
  function complianceText(c) {
    if (c.state === 'updateDue' && c.daysLeft !== undefined)
      return 'update due: ' + plural(c.daysLeft, 'day') + ' left (GitHub stops sending jobs by ' + minute(c.deadline) + ' at the latest)';
    if (c.state === 'refused') return 'refused: GitHub sends it no jobs (since ' + minute(c.deadline) + ' at the latest)';
    return COMPLIANCE[c.state][1] + (c.state === 'current' || c.state === 'configured' ? '' : ' — ' + c.reason);
  }

  function drawCapacity(fleet) {
    var rows = fleet.scaleSets.filter(function (s) { return s.autoscale; }).map(function (s) {
      var a = s.autoscale;
      var p = a.policy;
      var bounds = p ? 'min ' + p.min + ', max ' + p.max + ', warm ' + p.warm +
        (p.warmSchedule.length ? ' (' + p.warmSchedule.join('; ') + ')' : '') + ', idle ' + p.idleMinutes + ' min'
        : 'wrong tags, not scaled: ' + a.problems.join('; ');
      var l = a.lastLook;
      var c = l && l.counts;
      var demand = !l ? 'not looked at yet' : c.busy + ' busy + ' + (l.queued === undefined ? '? queued (unknown)' : l.queued + ' queued') +
        (c.unknown ? ' (' + c.unknown + ' unknown, counted busy)' : '');
      var capacity = !l ? s.instances + ' instances' : 'wants ' + l.desired + '; has ' + c.total + ': ' + c.idle + ' idle, ' + c.booting + ' booting' +
        (c.vacant ? ', ' + c.vacant + ' vacant' : '');
      var change = !l ? '' : [
        l.capacity ? 'capacity ' + l.capacity.from + ' \u2192 ' + l.capacity.to : '',
        l.removed.length ? 'scaled in ' + l.removed.length : '',
        l.reimaged.length ? 'reimaged ' + l.reimaged.length : '',
        l.skipped || '',
      ].filter(Boolean).join('; ') || 'none (' + minute(l.at) + ')';
      return el('tr', { 'data-capacity': s.name }, [
        el('th', { scope: 'row', text: s.name }),
        el('td', { text: bounds }),
        el('td', { text: demand }),
        el('td', { text: capacity }),
        el('td', { text: change }),
      ]);
    });
    if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '5', text: 'No scale set carries capacity tags: capacities stay as they are.' })]));
    replace('capacity-rows', rows);
  }

  function drawCompliance(fleet) {
    var release = fleet.runnerRelease;
    replace('compliance-notes', [
      el('p', { className: 'note', text: 'Latest GitHub Actions runner: ' + (release ? release.version + ', released ' + day(release.publishedAt) : 'not known') +
        '. GitHub stops sending jobs to a runner not updated within 30 days of a newer release.' }),
      el('p', { className: 'note', text: 'Azure DevOps agent configured (AGENT_VERSION): ' + (fleet.agentVersion || "not set: the template's default, whose version kiln does not know") + '.' }),
    ]);
    var rows = [];
    fleet.scaleSets.forEach(function (s) {
      s.compliance.versions.forEach(function (c) {
        rows.push(el('tr', { 'data-compliance': s.name, 'data-version': c.version }, [
          el('th', { scope: 'row', text: s.name }),
          el('td', { text: c.version + ' × ' + c.count }),
          el('td', { text: (s.compliance.kind === 'runner' ? 'runner ' : 'agent ') + (c.installed || 'unknown') }),
          el('td', { className: COMPLIANCE[c.state][0], text: complianceText(c) }),
        ]));
      });
    });
    if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '4', text: 'No instances.' })]));
    replace('compliance-rows', rows);
  }

  /** The rollout whose waves to show: the newest one running, else the newest one (a rebuild's rollout too). */
  function waveRun(runs) {
    var moving = function (r) { return (r.children || []).some(function (c) { return c.name === 'rolloutScaleSetOrchestrator'; }); };
    var running = runs.runs.filter(function (r) { return (r.status === 'Running' || r.status === 'Pending') && moving(r); })[0];
    return running || runs.runs.filter(function (r) { return (r.kind === 'rollout' || r.kind === 'rebuild') && !r.dryRun; })[0];
  }

  function drawWaves(run) {
    if (!run) {
      replace('waves-notes', [el('p', { className: 'note', text: 'No rollout among the recent runs.' })]);
      return replace('wave-rows', [el('tr', {}, [el('td', { colspan: '7', text: 'No waves.' })])]);
    }
    var rows = [];
    var notes = [el('p', { className: 'note', 'data-waves-run': run.id, text: (run.status === 'Running' || run.status === 'Pending' ? 'Running: ' : 'Latest: ') +
      run.kind + ' ' + run.subject + ' (' + run.id + ', ' + run.status + ')' })];
    var waves = [];
    run.children.filter(function (c) { return c.name === 'rolloutScaleSetOrchestrator'; }).forEach(function (c) {
      var cs = c.customStatus || {};
      var log = cs.waves || [];
      if (log.length && log[0].wave > 1)
        notes.push(el('p', { className: 'note', text: (cs.scaleSet || c.id) + ': waves before wave ' + log[0].wave + ' are not kept.' }));
      log.forEach(function (w) { waves.push({ scaleSet: cs.scaleSet || c.id, version: cs.version || '?', w: w }); });
    });
    waves.sort(function (a, b) { return a.w.startedAt.localeCompare(b.w.startedAt) || a.scaleSet.localeCompare(b.scaleSet); });
    waves.forEach(function (x) {
      var w = x.w;
      var judged = w.healthy !== undefined;
      rows.push(el('tr', { 'data-wave': x.scaleSet + ' ' + w.wave }, [
        el('td', { text: minute(w.startedAt) }),
        el('th', { scope: 'row', text: x.scaleSet }),
        el('td', { className: 'num', text: String(w.wave) }),
        el('td', { className: 'num', text: String(w.instances) }),
        el('td', { className: judged && w.unhealthy ? 'bad' : '', text: judged ? w.healthy + ' healthy on ' + x.version + (w.unhealthy ? ', ' + w.unhealthy + ' unhealthy' : '') : 'health check running' }),
        el('td', { className: 'num', text: judged ? String(w.onNewVersion) : '' }),
        el('td', { text: judged ? minute(w.judgedAt) : '' }),
      ]));
    });
    if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '7', text: 'No wave started yet.' })]));
    replace('waves-notes', notes);
    replace('wave-rows', rows);
  }

  function loadWaves(runs) {
    var run = waveRun(runs);
    if (!run) return Promise.resolve(drawWaves(undefined));
    return get('/runs/' + encodeURIComponent(run.id)).then(drawWaves);
  }

  // ---- Ghosts removed per day (issue 17): the real cleanups of the run history, summed by UTC day ----

  var GHOST_DAYS = 14;
  var ghostsLoadedAt = 0;

  function drawGhosts(cleanups) {
    var byDay = new Map();
    cleanups.forEach(function (r) {
      if (!r.ghostsRemoved) return;
      var d = day(r.createdTime);
      var sum = byDay.get(d) || { github: 0, ado: 0, runs: 0 };
      sum.github += r.ghostsRemoved.github;
      sum.ado += r.ghostsRemoved.ado;
      sum.runs += 1;
      byDay.set(d, sum);
    });
    var rows = Array.from(byDay.keys()).sort().reverse().map(function (d) {
      var sum = byDay.get(d);
      return el('tr', { 'data-day': d }, [
        el('th', { scope: 'row', text: d }),
        el('td', { text: String(sum.github) }),
        el('td', { text: String(sum.ado) }),
        el('td', { text: String(sum.runs) }),
      ]);
    });
    if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '4', text: 'No cleanup removed anything in the last ' + GHOST_DAYS + ' days.' })]));
    replace('ghost-rows', rows);
  }

  // Every cleanup of the last GHOST_DAYS days, following the history's pages (at most 10 of 500);
  // read at most once a minute, since a cleanup every 15 minutes makes about 1,400 rows in two weeks.
  function loadGhosts() {
    if (Date.now() - ghostsLoadedAt < 60000) return Promise.resolve();
    var cleanups = [];
    function page(path, left) {
      return get(path).then(function (runs) {
        cleanups = cleanups.concat(runs.runs);
        if (!runs.next || left <= 1) return;
        // The next link is absolute (at this page's host): its path from the API's base on.
        var at = runs.next.indexOf(base + '/runs?');
        return page(runs.next.slice(at + base.length), left - 1);
      });
    }
    return page('/runs?kind=cleanup&top=500&days=' + GHOST_DAYS, 10).then(function () {
      ghostsLoadedAt = Date.now();
      drawGhosts(cleanups);
    });
  }

  // ---- Rebuilds and what their versions change (issue 18): the newest rebuild of each image ----

  function drawRebuilds(runs) {
    var newest = new Map();
    runs.runs.forEach(function (r) {
      if (r.kind !== 'rebuild' || r.dryRun) return;
      var image = String(r.subject).split(' ')[0];
      if (!newest.has(image)) newest.set(image, r);
    });
    var rows = [];
    Array.from(newest.keys()).sort().forEach(function (image) {
      var r = newest.get(image);
      var live = r.customStatus || {};
      var details = r.details || {};
      var held = live.state === 'awaitingApproval';
      var changes = details.changes || live.changes;
      var approval = details.approval || live.approval;
      var state = held ? 'awaiting approval until ' + approval.deadline + ' (kiln rebuild approve|reject ' + r.id + ')'
        : (r.outcome || r.status) + (approval && approval.decision ? ' · ' + approval.decision + (approval.by ? ' by ' + approval.by : '') : '');
      var list = changes === undefined ? 'no software report compared'
        : changes.length === 0 ? 'no changes' + (details.comparedWith ? ' against ' + details.comparedWith : '')
        : changes.map(function (c) {
            return c.kind + ' ' + c.tool + ' ' + [c.from, c.to].filter(function (v) { return v !== null; }).join(' → ');
          }).join('; ');
      rows.push(el('tr', { 'data-image': image, className: held ? 'held' : '' }, [
        el('th', { scope: 'row', text: image }),
        el('td', { text: String(r.subject).split(' ')[1] || '' }),
        el('td', { className: held || r.outcome === 'rejected' ? 'bad' : '', text: state }),
        el('td', { text: list }),
        el('td', { text: Object.keys(details.resolved || {}).map(function (k) { return k + ' ' + details.resolved[k]; }).join(', ') }),
      ]));
    });
    if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '5', text: 'No rebuild among the runs shown.' })]));
    replace('rebuild-rows', rows);
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
      drawRebuilds(runs);
      drawDrift(fleet);
      drawCompliance(fleet);
      drawCapacity(fleet);
      return Promise.all([loadWaves(runs), loadGhosts()]).then(function () { return fleet; });
    }).then(function (fleet) {
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
  <section aria-labelledby="h-rebuilds">
    <h2 id="h-rebuilds">Rebuilds and software changes</h2>
    <table aria-labelledby="h-rebuilds">
      <caption>The newest rebuild of each image among the runs shown: its state (one PROMOTION_GATE holds waits for approval), what its version changes against the promoted one, and the runner or agent it built with</caption>
      <thead><tr><th scope="col">Image</th><th scope="col">Version</th><th scope="col">State</th><th scope="col">Software changes</th><th scope="col">Runner or agent</th></tr></thead>
      <tbody id="rebuild-rows"></tbody>
    </table>
  </section>
  <section aria-labelledby="h-ghosts">
    <h2 id="h-ghosts">Ghosts removed per day</h2>
    <table aria-labelledby="h-ghosts">
      <caption>Registrations whose VM is gone, deleted by the real cleanups of the last 14 days (UTC days; dry runs delete nothing)</caption>
      <thead><tr><th scope="col">Day</th><th scope="col">GitHub runners</th><th scope="col">Azure DevOps agents</th><th scope="col">Cleanups</th></tr></thead>
      <tbody id="ghost-rows"></tbody>
    </table>
  </section>
  <section aria-labelledby="h-capacity">
    <h2 id="h-capacity">Capacity on demand</h2>
    <table aria-labelledby="h-capacity">
      <caption>Scale sets tagged with capacity tags (kiln-min, kiln-max, kiln-warm, kiln-warm-schedule): their bounds, the demand the autoscaler's last look saw, the capacity it wanted and what it did</caption>
      <thead><tr><th scope="col">Scale set</th><th scope="col">Bounds</th><th scope="col">Demand</th><th scope="col">Capacity</th><th scope="col">Last change</th></tr></thead>
      <tbody id="capacity-rows"></tbody>
    </table>
  </section>
  <section aria-labelledby="h-drift">
    <h2 id="h-drift">Drift per scale set</h2>
    <div id="drift-notes"></div>
    <table aria-labelledby="h-drift">
      <thead><tr><th scope="col">Scale set</th><th scope="col">Versions: instances, image age, promoted versions newer</th><th scope="col">Behind the latest promoted</th><th scope="col">Rollout and time to update at its pace</th></tr></thead>
      <tbody id="drift-rows"></tbody>
    </table>
  </section>
  <section aria-labelledby="h-compliance">
    <h2 id="h-compliance">Runner and agent versions</h2>
    <div id="compliance-notes"></div>
    <table aria-labelledby="h-compliance">
      <thead><tr><th scope="col">Scale set</th><th scope="col">Image version</th><th scope="col">Runner or agent</th><th scope="col">Compliance</th></tr></thead>
      <tbody id="compliance-rows"></tbody>
    </table>
  </section>
  <section aria-labelledby="h-waves">
    <h2 id="h-waves">Rollout waves</h2>
    <div id="waves-notes"></div>
    <table aria-labelledby="h-waves">
      <thead><tr><th scope="col">Started</th><th scope="col">Scale set</th><th scope="col">Wave</th><th scope="col">Instances</th><th scope="col">Came back</th><th scope="col">On the version in its scale set</th><th scope="col">Judged</th></tr></thead>
      <tbody id="wave-rows"></tbody>
    </table>
  </section>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
