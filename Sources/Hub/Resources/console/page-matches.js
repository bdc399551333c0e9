// Match review: the identity-matching review queue (GET /v1/matches). A case's record (admin-only
// values, shown as the API gives them) beside its candidates with each rule's verdict and score;
// link the record to a candidate or reject the case, each with a reason.
import { api } from './api.js';
import { h, clear, table, time } from './dom.js';

const STATUSES = ['open', 'linked', 'rejected', 'all'];
const PAGE = 100;

function show(value) {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
function score(value) { return value === null || value === undefined ? '—' : Number(value).toFixed(2); }

export async function render(root, { t, dialog, notice }) {
  const adapters = await api('/v1/adapters').then(a => a.adapters.map(x => x.id)).catch(() => []);
  const status = h('select', { id: 'match-status' }, STATUSES.map(s => h('option', { value: s }, t('matchStatus_' + s))));
  const adapter = h('select', { id: 'match-adapter' }, h('option', { value: '' }, t('allAdapters')),
    adapters.map(id => h('option', { value: id }, id)));
  const resource = h('input', { id: 'match-resource', autocomplete: 'off', spellcheck: 'false', placeholder: 'Person' });
  const list = h('section', { class: 'panel', id: 'match-list', 'aria-live': 'polite' });
  const detail = h('section', { class: 'panel', id: 'match-detail', 'aria-live': 'polite', hidden: true });
  let loaded = [];

  const filters = h('form', { class: 'row', id: 'match-filters' },
    h('div', { class: 'field' }, h('label', { for: 'match-status' }, t('status')), status),
    h('div', { class: 'field' }, h('label', { for: 'match-adapter' }, t('adapter')), adapter),
    h('div', { class: 'field' }, h('label', { for: 'match-resource' }, t('resource')), resource),
    h('button', { type: 'submit', id: 'match-search' }, t('search')));
  filters.addEventListener('submit', event => { event.preventDefault(); load().catch(e => notice(t('error', e.message), 'bad')); });

  clear(root).append(h('div', { class: 'page-head' }, h('h1', {}, t('matches'))),
    h('section', { class: 'panel' }, filters), list, detail);

  /** Loads the first page for the filters (or the next page after `after`). */
  async function load(after) {
    const query = { status: status.value, adapter: adapter.value, resource: resource.value.trim(), limit: PAGE, after };
    const page = await api('/v1/matches', { query });
    loaded = after ? loaded.concat(page.matches) : page.matches;
    list.dataset.status = query.status;
    list.dataset.adapter = query.adapter;
    clear(list).append(h('h2', {}, t('matchCases')),
      table([
        { label: '#', value: m => String(m.id) },
        { label: t('resource'), value: m => m.resource },
        { label: t('adapter'), value: m => m.adapter },
        { label: t('sourceKey'), value: m => m.source_key || '—' },
        { label: t('outcome'), value: m => t('outcome_' + m.outcome) },
        { label: t('candidates'), class: 'num', value: m => String((m.candidates || []).length) },
        { label: t('score'), class: 'num', value: m => score(m.score) },
        { label: t('status'), value: m => h('span', { class: 'badge match-' + m.status }, t('matchStatus_' + m.status)) },
        { label: t('created'), value: m => time(m.created_at) },
        { label: t('actions'), value: m => h('button', { type: 'button', 'data-action': 'review', onclick: () => open(m.id).catch(e => notice(t('error', e.message), 'bad')) }, t('review')) },
      ], loaded, { rowAttrs: m => ({ 'data-match': m.id, 'data-status': m.status }) }),
      h('p', { class: 'muted small' }, t('loadedOf', loaded.length),
        page.matches.length === PAGE
          ? h('button', { type: 'button', class: 'link', id: 'match-more', onclick: () => load(page.next).catch(e => notice(t('error', e.message), 'bad')) }, ' ' + t('more'))
          : null));
  }

  /** Shows one case whole: its record, its candidates with each rule's verdict, and the decision or the actions. */
  async function open(id) {
    const c = await api(`/v1/matches/${encodeURIComponent(id)}`);
    const candidates = c.candidates || [];
    const rules = [];
    for (const cand of candidates) for (const r of Object.keys(cand.rules || {})) if (!rules.includes(r)) rules.push(r);
    const isOpen = c.status === 'open';
    detail.hidden = false;
    clear(detail).append(
      h('div', { class: 'panel-head' }, h('h2', { id: 'match-title', tabindex: '-1' }, `${t('matchCase')} #${c.id}`),
        h('div', { class: 'panel-tools' },
          isOpen ? h('button', { type: 'button', class: 'ghost', id: 'match-reject', 'data-action': 'reject', onclick: () => reject(c) }, t('rejectCase')) : null,
          h('button', { type: 'button', class: 'ghost', id: 'match-close', onclick: () => { detail.hidden = true; } }, t('close')))),
      h('dl', { class: 'facts', 'data-match-case': c.id, 'data-status': c.status },
        h('dt', {}, t('status')), h('dd', { id: 'match-case-status' }, t('matchStatus_' + c.status)),
        h('dt', {}, t('outcome')), h('dd', {}, t('outcome_' + c.outcome)),
        h('dt', {}, t('adapter')), h('dd', {}, `${c.department || ''} · ${c.adapter}`),
        h('dt', {}, t('sourceKey')), h('dd', {}, `${c.source_key || '—'} · ${c.position || ''}`),
        h('dt', {}, t('mapping')), h('dd', {}, `${c.mapping || '—'}${c.mapping_version ? ' v' + c.mapping_version : ''}`),
        h('dt', {}, t('autoLink')), h('dd', {}, score(c.auto_link)),
        c.decision ? [
          h('dt', {}, t('decision')), h('dd', { id: 'match-decision' },
            `${c.decision.entity_id ? t('linkedTo', c.decision.entity_id) : t('matchStatus_rejected')} · ${c.decision.by} · ${time(c.decision.at)}`),
          h('dt', {}, t('reasonShort')), h('dd', {}, c.decision.reason),
        ] : null),
      h('div', { class: 'two-col match-compare' },
        h('div', {}, h('h3', {}, t('matchRecord')),
          table([
            { label: t('field'), value: r => r[0] },
            { label: t('value'), value: r => h('span', { 'data-field': r[0] }, show(r[1])) },
          ], Object.entries(c.record || {}), { caption: t('matchRecordNote') })),
        h('div', {}, h('h3', {}, t('candidates')),
          candidates.length === 0 ? h('p', { class: 'muted', id: 'no-candidates' }, t('noCandidates')) :
            table([
              { label: t('entity'), value: x => h('code', { title: x.entity_id }, x.entity_id.slice(0, 8) + '…') },
              { label: t('score'), class: 'num', value: x => score(x.score) },
              { label: t('foundBy'), value: x => (x.found_by || []).join(', ') || '—' },
              ...rules.map(r => ({ label: r, value: x => verdict(x.rules && x.rules[r]) })),
              { label: t('actions'), value: x => h('span', { class: 'buttons tight' },
                h('button', { type: 'button', class: 'ghost', 'data-action': 'compare', onclick: () => compare(c, x) }, t('compare')),
                isOpen ? h('button', { type: 'button', 'data-action': 'link', 'data-entity': x.entity_id, onclick: () => link(c, x) }, t('linkHere'))
                  : (c.decision && c.decision.entity_id === x.entity_id ? t('matchStatus_linked') : null)) },
            ], candidates, { rowAttrs: x => ({ 'data-candidate': x.entity_id }) }),
          h('p', { class: 'muted small' }, t('candidateValuesNote')))),
      h('div', { id: 'match-side-by-side', 'aria-live': 'polite' }));
    detail.querySelector('#match-title').focus();
  }

  /** The record beside one candidate's current values, read masked like the Records page. */
  async function compare(c, candidate) {
    const box = clear(detail.querySelector('#match-side-by-side'));
    try {
      const entity = await api(`/v1/resources/${encodeURIComponent(c.resource)}/${encodeURIComponent(candidate.entity_id)}`,
        { query: { view: 'masked', purpose: 'match review' } });
      const theirs = entity.record || {};
      const names = Object.keys(c.record || {});
      for (const n of Object.keys(theirs)) if (!names.includes(n)) names.push(n);
      box.append(h('h3', {}, t('sideBySide', candidate.entity_id)),
        table([
          { label: t('field'), value: n => n },
          { label: t('matchRecord'), value: n => show((c.record || {})[n]) },
          { label: t('candidateMasked'), value: n => h('span', { class: (entity.masked_fields || []).includes(n) ? 'masked-value' : '' }, show(theirs[n])) },
          { label: t('verdict'), value: n => verdict(candidate.rules && candidate.rules[n]) },
        ], names, { rowAttrs: n => ({ 'data-compare-field': n }) }));
    } catch (e) { box.append(h('p', { class: 'error' }, e.status === 404 ? t('notFound') : t('error', e.message))); }
  }

  function verdict(v) {
    if (!v) return '—';
    return h('span', { class: 'verdict verdict-' + v, 'data-verdict': v }, t('verdict_' + v));
  }

  async function link(c, candidate) {
    const values = await dialog({ title: `${t('linkHere')} · #${c.id}`,
      message: t('confirmLink', c.source_key || c.id, candidate.entity_id, score(candidate.score)),
      fields: [{ name: 'reason', label: t('reason'), type: 'textarea', required: true }] });
    if (!values) return;
    try {
      await api(`/v1/matches/${c.id}/link`, { method: 'POST', body: { entity_id: candidate.entity_id, reason: values.reason } });
      await after(c.id, `${t('done')}: #${c.id} ${t('matchStatus_linked')}`);
    } catch (e) { notice(t('error', e.message), 'bad'); }
  }

  async function reject(c) {
    const values = await dialog({ title: `${t('rejectCase')} · #${c.id}`, message: t('confirmReject', c.source_key || c.id),
      fields: [{ name: 'reason', label: t('reason'), type: 'textarea', required: true }] });
    if (!values) return;
    try {
      await api(`/v1/matches/${c.id}/reject`, { method: 'POST', body: { reason: values.reason } });
      await after(c.id, `${t('done')}: #${c.id} ${t('matchStatus_rejected')}`);
    } catch (e) { notice(t('error', e.message), 'bad'); }
  }

  async function after(id, message) {
    await load();
    await open(id);
    notice(message);
  }

  await load();
}
