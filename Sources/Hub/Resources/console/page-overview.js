// Overview: the whole district on one screen, refreshed every 5 s without reloading the page.
import { api, isMissingRoute } from './api.js';
import { h, clear, table, fmt, ago, duration } from './dom.js';
import { barChart, districtGrid } from './charts.js';
import { localized, lang } from './i18n.js';

const REFRESH_MS = 5000;

/** Streets and their communities from the division code table (12-digit statistical codes). */
function divisionTree(codes) {
  const streets = [];
  const byPrefix = new Map();
  for (const c of codes) {
    if (c.code.length !== 12 || c.code.slice(6) === '000000') continue;
    if (c.code.slice(9) === '000') {
      const st = { ...c, communities: [] };
      streets.push(st);
      byPrefix.set(c.code.slice(0, 9), st);
    }
  }
  for (const c of codes) {
    if (c.code.length !== 12 || c.code.slice(9) === '000') continue;
    const st = byPrefix.get(c.code.slice(0, 9));
    if (st) st.communities.push(c);
  }
  return streets;
}

export async function render(root, { t }) {
  const state = { shade: 'records', street: null, community: null, tree: null, names: new Map() };
  try {
    const division = await api('/v1/catalog/codes/division');
    state.tree = divisionTree(division.codes);
    for (const c of division.codes) state.names.set(c.code, c);
  } catch (e) {
    state.tree = [];
  }
  const labelOf = c => (lang() === 'en' ? c.en : c.label) || c.label || c.code;

  let timer = null;
  let stopped = false;
  let ticks = 0;

  async function load() {
    const optional = p => api(p).catch(e => (isMissingRoute(e) ? { missing: true } : Promise.reject(e)));
    const [overview, changes, adapters, subs, recordOnce, divisions] = await Promise.all([
      api('/v1/stats/overview'), api('/v1/stats/changes', { query: { minutes: 60 } }), api('/v1/adapters'),
      api('/v1/stats/subscriptions'), optional('/v1/stats/record-once'),
      // Residents per division change slowly and cost a pass over the records: every 30 s.
      state.divisions && ticks % 6 !== 0 ? state.divisions : divisionCounts().then(d => (state.divisions = d)),
    ]);
    ticks++;
    return { overview, changes, adapters, subs, recordOnce, divisions };
  }

  /** Residents per division: by the community of the current address, or where departments do not
   *  give it, by the registered division (the field with more residents placed wins). */
  async function divisionCounts() {
    const fields = state.fields || ['community_code', 'registered_division'];
    const all = await Promise.all(fields.map(field =>
      api('/v1/stats/divisions', { query: { resource: 'Person', field, minutes: 60 } }).catch(() => null)));
    const placed = d => (d ? d.divisions.filter(x => x.code).reduce((n, x) => n + x.records, 0) : -1);
    const best = all.reduce((a, b) => (placed(b) > placed(a) ? b : a), null);
    if (best && !state.fields) state.fields = [best.field];
    return best || { field: null, divisions: [] };
  }

  function tile(label, value, stat, extra) {
    return h('div', { class: 'tile', 'data-stat': stat, 'data-value': value ?? '' },
      h('div', { class: 'tile-label' }, label), h('div', { class: 'tile-value' }, value === null ? '—' : fmt(value)), extra || null);
  }

  function draw(data) {
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-code]');
    const focusCode = focused ? focused.getAttribute('data-code') : null;
    const { overview, changes, adapters, subs, recordOnce, divisions } = data;
    const byCode = new Map(divisions.divisions.map(d => [d.code, d]));
    const value = code => { const d = byCode.get(code); return d ? (state.shade === 'changes' ? d.changes : d.records) : 0; };

    const main = overview.resources.filter(r => r.resource === 'Person' || r.resource === 'Household');
    const others = overview.resources.filter(r => !main.includes(r));
    const tiles = h('div', { class: 'tiles' },
      main.map(r => tile(t(r.resource), r.count, 'resource:' + r.resource)),
      h('div', { class: 'tile tile-list', 'data-stat': 'other-resources' },
        h('div', { class: 'tile-label' }, t('resourceCounts')),
        h('ul', {}, others.map(r => h('li', { 'data-stat': 'resource:' + r.resource, 'data-value': r.count },
          h('span', {}, t(r.resource)), ' ', h('b', {}, fmt(r.count)))))),
      tile(t('changeHead'), overview.change_log.head, 'change_head'),
      tile(t('openRejects'), overview.rejects.open, 'open_rejects'),
      tile(t('openConflicts'), overview.conflicts.open, 'open_conflicts'),
      tile(t('openMatches'), overview.matches.open, 'open_matches'),
      tile(t('subscriptionsActive'), overview.subscriptions.active, 'subscriptions_active'));

    // The district.
    const shadeSelect = h('select', { id: 'shade-by', 'aria-label': t('shadeBy') },
      h('option', { value: 'records', selected: state.shade === 'records' }, t('shadeResidents')),
      h('option', { value: 'changes', selected: state.shade === 'changes' }, t('shadeChanges')));
    shadeSelect.addEventListener('change', () => { state.shade = shadeSelect.value; draw(data); });
    const streetName = state.street && state.names.get(state.street) ? labelOf(state.names.get(state.street)) : t('districtAll');
    const grid = districtGrid({
      streets: state.tree, value, street: state.street, labelOf,
      onStreet: code => { state.street = code; state.community = null; draw(data); focusFirst('.cell'); },
      onCommunity: code => { state.community = code; draw(data); },
    });
    let detail = null;
    if (state.community) {
      const d = byCode.get(state.community) || { records: 0, changes: 0 };
      const c = state.names.get(state.community);
      detail = h('dl', { class: 'community', 'data-community': state.community },
        h('dt', {}, t('community')), h('dd', {}, c ? labelOf(c) : state.community),
        h('dt', {}, t('code')), h('dd', {}, state.community),
        h('dt', {}, t('residents')), h('dd', { 'data-field': 'records' }, fmt(d.records)),
        h('dt', {}, t('changesHour')), h('dd', { 'data-field': 'changes' }, fmt(d.changes)));
    }
    const unplaced = byCode.get(null);
    const district = h('section', { class: 'panel district-panel', 'aria-labelledby': 'district-title' },
      h('div', { class: 'panel-head' },
        h('h2', { id: 'district-title' }, t('districtView'), ' · ', streetName,
          divisions.field ? h('small', { class: 'muted', 'data-field-used': divisions.field }, ' · ', t('byField_' + divisions.field)) : null),
        h('div', { class: 'panel-tools' },
          state.street ? h('button', { type: 'button', class: 'ghost', id: 'district-back',
            onclick: () => { state.street = null; state.community = null; draw(data); focusFirst('.block'); } }, t('backToDistrict')) : null,
          h('label', { for: 'shade-by' }, t('shadeBy')), shadeSelect)),
      grid, detail,
      unplaced ? h('p', { class: 'muted small' }, t('unplaced'), ': ', fmt(state.shade === 'changes' ? unplaced.changes : unplaced.records)) : null);

    const chart = h('section', { class: 'panel' },
      h('div', { class: 'panel-head' }, h('h2', {}, t('eventsPerMinute')), h('span', { class: 'muted', 'data-stat': 'changes_total', 'data-value': changes.total }, t('eventsTotal', fmt(changes.total)))),
      barChart(changes.buckets, { label: t('eventsPerMinute'), width: 420, height: 150 }));

    let once;
    if (recordOnce.missing) once = h('p', { class: 'muted' }, t('recordOnceNA'));
    else {
      const tot = recordOnce.totals || {};
      once = h('dl', { class: 'figures' },
        ['new_fact', 'confirmation', 'authority_change', 'disagreement'].map(k => [
          h('dt', {}, t({ new_fact: 'newFact', confirmation: 'confirmation', authority_change: 'authorityChange', disagreement: 'disagreement' }[k])),
          h('dd', { 'data-stat': 'record-once:' + k }, fmt(tot[k]))]),
        h('dt', {}, t('reuseShare')), h('dd', {}, tot.reuse_share === undefined || tot.reuse_share === null ? '—' : (tot.reuse_share * 100).toFixed(1) + '%'));
    }
    const onceBox = h('section', { class: 'panel' }, h('h2', {}, t('recordOnce')), once);

    const rejectsByAdapter = new Map(overview.rejects.by_adapter.map(r => [r.adapter, r.open]));
    const depts = h('section', { class: 'panel' }, h('h2', {}, t('departmentsTitle')),
      table([
        { label: t('adapter'), value: a => a.id },
        { label: t('recordsIn'), class: 'num', value: a => h('span', { 'data-field': 'records_in' }, fmt(a.counters.records_in)) },
        { label: t('accepted'), class: 'num', value: a => h('span', { 'data-field': 'accepted' }, fmt(a.counters.accepted)) },
        { label: t('rejected'), class: 'num', value: a => h('span', { 'data-field': 'rejected', title: t('openRejects') + ' ' + (rejectsByAdapter.get(a.id) || 0) }, fmt(a.counters.rejected)) },
        { label: t('lagShort'), class: 'num', value: a => duration(a.lag_seconds, t) },
        { label: t('state'), value: a => h('span', { class: 'badge ' + a.state, 'data-field': 'state' }, t(a.state === 'paused' ? 'pausedState' : a.state)) },
      ], adapters.adapters, { rowAttrs: a => ({ 'data-adapter': a.id }) }));

    const subsBox = h('section', { class: 'panel' }, h('h2', {}, t('subscriptionLag')),
      table([
        { label: t('name'), value: x => x.name || x.id },
        { label: t('lagEvents'), class: 'num', value: x => x.lag === null ? '—' : fmt(x.lag) },
        { label: t('lastDelivery'), value: x => ago(x.last_delivery_at, t) },
      ], subs.subscriptions.slice().sort((a, b) => (b.lag ?? -1) - (a.lag ?? -1)).slice(0, 6), { rowAttrs: x => ({ 'data-subscription': x.id }) }),
      subs.subscriptions.length > 6 ? h('a', { href: '#/subscriptions' }, t('more')) : null);

    clear(root).append(
      h('div', { class: 'page-head' }, h('h1', {}, t('overview')),
        h('span', { class: 'muted', id: 'refreshed' }, t('live'), ' · ', t('refreshed', new Date().toLocaleTimeString('zh-CN', { hour12: false })))),
      tiles,
      h('div', { class: 'overview-grid' }, district, h('div', { class: 'stack' }, chart, onceBox, subsBox), depts));
    root.dataset.ready = 'true';
    if (focusCode) { const el = root.querySelector(`[data-code="${focusCode}"]`); if (el) el.focus(); }
  }

  function focusFirst(selector) { const el = root.querySelector(selector); if (el) el.focus(); }

  async function refresh() {
    if (stopped) return;
    try {
      if (!document.hidden) draw(await load());
    } catch (e) {
      const p = root.querySelector('#refreshed');
      if (p) p.textContent = t('error', e.message);
    }
    if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
  }
  draw(await load());
  timer = setTimeout(refresh, REFRESH_MS);
  return () => { stopped = true; clearTimeout(timer); };
}
