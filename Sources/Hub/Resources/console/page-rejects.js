// Rejects: grouped by adapter and rule with counts and example positions (the hub's messages name
// field and rule, never values), a record's problems in full, retry one or a whole group.
import { api } from './api.js';
import { h, clear, table, fmt, time } from './dom.js';

const MAX_LOADED = 5000;

export async function render(root, { t, dialog, notice }) {
  async function loadAll() {
    const all = [];
    let after = 0;
    while (all.length < MAX_LOADED) {
      const page = await api('/v1/rejects', { query: { status: 'open', after, limit: 1000 } });
      all.push(...page.rejects);
      if (page.rejects.length < 1000) break;
      after = page.next;
    }
    return all;
  }

  function groupsOf(rejects) {
    const groups = new Map();
    for (const r of rejects) {
      const rules = [...new Set((r.issues || []).filter(i => (i.severity || 'error') === 'error').map(i => i.rule || '?'))];
      const key = r.adapter + ' · ' + (rules.join(', ') || '?');
      if (!groups.has(key)) groups.set(key, { key, adapter: r.adapter, rules: rules.join(', ') || '?', items: [] });
      groups.get(key).items.push(r);
    }
    return [...groups.values()].sort((a, b) => b.items.length - a.items.length);
  }

  async function retry(ids) {
    let accepted = 0, rejected = 0;
    for (const id of ids) {
      const out = await api(`/v1/rejects/${id}/retry`, { method: 'POST' });
      if (out.status === 'rejected') rejected++; else accepted++;
    }
    return { accepted, rejected };
  }

  async function draw(message) {
    const rejects = await loadAll();
    const groups = groupsOf(rejects);
    const detail = h('section', { class: 'panel', id: 'reject-detail', 'aria-live': 'polite' });
    clear(root).append(h('div', { class: 'page-head' }, h('h1', {}, t('rejects')), h('span', { class: 'muted' }, t('loadedOf', fmt(rejects.length)))));
    if (message) notice(message);
    root.append(h('div', { class: 'two-col' },
      h('section', { class: 'panel' }, table([
        { label: t('adapter'), value: g => g.adapter },
        { label: t('rule'), value: g => g.rules },
        { label: t('count'), class: 'num', value: g => fmt(g.items.length) },
        { label: t('examples'), value: g => h('span', {}, g.items.slice(0, 3).map((r, i) => [i ? ', ' : '',
          h('button', { type: 'button', class: 'link', onclick: () => show(r, detail) }, r.position)])) },
        { label: t('actions'), value: g => h('button', { type: 'button', 'data-action': 'retry-group', onclick: async () => {
          if (!await dialog({ title: t('retryAll'), message: t('confirmRetryAll', g.items.length) })) return;
          try { const r = await retry(g.items.map(x => x.id)); await draw(t('retried', g.items.length, r.accepted, r.rejected)); }
          catch (e) { notice(t('error', e.message), 'bad'); }
        } }, t('retryAll')) },
      ], groups, { rowAttrs: g => ({ 'data-group': g.key }) })),
      detail));
  }

  function show(r, detail) {
    clear(detail).append(
      h('h2', {}, `${r.adapter} · ${r.position}`),
      h('p', { class: 'muted' }, `${t('created')}: ${time(r.created_at)} · #${r.id}`),
      table([
        { label: t('field'), value: p => p.field || p.path || '—' },
        { label: t('rule'), value: p => p.rule || '—' },
        { label: t('severity'), value: p => p.severity || 'error' },
        { label: t('message'), value: p => p.message || '' },
      ], r.issues || []),
      h('button', { type: 'button', 'data-action': 'retry-one', onclick: async () => {
        try { const out = await retry([r.id]); await draw(t('retried', 1, out.accepted, out.rejected)); }
        catch (e) { notice(t('error', e.message), 'bad'); }
      } }, t('retry')));
    detail.querySelector('h2').setAttribute('tabindex', '-1');
    detail.querySelector('h2').focus();
  }

  await draw();
}
