// Audit: search disclosures by actor (a subscription or the admin), entity and time.
import { api } from './api.js';
import { h, clear, table, time } from './dom.js';

export async function render(root, { t }) {
  const actor = h('input', { id: 'audit-actor', autocomplete: 'off' });
  const entity = h('input', { id: 'audit-entity', autocomplete: 'off' });
  const since = h('input', { id: 'audit-since', type: 'datetime-local' });
  const until = h('input', { id: 'audit-until', type: 'datetime-local' });
  const results = h('section', { class: 'panel', id: 'audit-results' });
  let rows = [];
  let next = 0;

  const iso = input => (input.value ? new Date(input.value).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined);

  async function search(more) {
    if (!more) { rows = []; next = 0; }
    const page = await api('/v1/audit', { query: { actor: actor.value.trim(), entity_id: entity.value.trim(), since: iso(since), until: iso(until), after: next, limit: 200 } });
    rows.push(...page.entries);
    next = page.next;
    clear(results).append(table([
      { label: '#', value: e => String(e.id) },
      { label: t('time'), value: e => time(e.time) },
      { label: t('actor'), value: e => e.actor },
      { label: t('purpose'), value: e => e.purpose },
      { label: t('channel'), value: e => e.channel },
      { label: t('position'), value: e => (e.first_position === null ? '—' : `${e.first_position}–${e.last_position}`) },
      { label: t('entities'), class: 'num', value: e => String(e.entity_ids.length) },
      { label: t('fields'), value: e => e.fields.join(', ') },
    ], rows), page.entries.length === 200 ? h('button', { type: 'button', class: 'ghost', onclick: () => search(true) }, t('more')) : null);
  }

  const form = h('form', { class: 'panel row', id: 'audit-form' },
    h('div', { class: 'field' }, h('label', { for: 'audit-actor' }, t('actor')), actor),
    h('div', { class: 'field' }, h('label', { for: 'audit-entity' }, t('entity')), entity),
    h('div', { class: 'field' }, h('label', { for: 'audit-since' }, t('since')), since),
    h('div', { class: 'field' }, h('label', { for: 'audit-until' }, t('until')), until),
    h('button', { type: 'submit', id: 'audit-search' }, t('search')));
  form.addEventListener('submit', e => { e.preventDefault(); search(false).catch(err => clear(results).append(h('p', { class: 'error' }, t('error', err.message)))); });
  clear(root).append(h('div', { class: 'page-head' }, h('h1', {}, t('audit'))), form, results);
  await search(false);
}
