// Conflicts: the summary by field and department pair, resolve one or a whole group with a reason
// (the stewardship endpoints), and the history of decisions.
import { api, isMissingRoute } from './api.js';
import { h, clear, table, fmt, time } from './dom.js';

function show(value) {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
/** The side's value: {"value":..,"provenance":..} or the bare value. */
function sideValue(side) { return side && typeof side === 'object' && 'value' in side ? side.value : side; }

export async function render(root, { t, dialog, notice }) {
  const decisions = [['keep_golden', t('keepGolden')], ['take_challenger', t('takeChallenger')], ['set_value', t('setValue')]];

  async function resolveOne(c) {
    const values = await dialog({ title: `${t('resolveOne')} #${c.id} · ${c.resource}.${c.field}`,
      message: `${t('goldenValue')}: ${show(sideValue(c.golden))} · ${t('challengerValue')}: ${show(sideValue(c.challenger))}`,
      fields: [
        { name: 'decision', label: t('decision'), type: 'select', options: decisions, value: 'keep_golden' },
        { name: 'value', label: t('value') + ' (JSON, ' + t('setValue') + ')' },
        { name: 'reason', label: t('reason'), type: 'textarea', required: true },
      ] });
    if (!values) return;
    const body = { decision: values.decision, reason: values.reason };
    if (values.decision === 'set_value') {
      try { body.value = JSON.parse(values.value); } catch { body.value = values.value; }
    }
    try {
      await api(`/v1/conflicts/${c.id}/resolve`, { method: 'POST', body });
      await draw(`${t('done')}: #${c.id}`);
    } catch (e) { notice(t('error', e.message), 'bad'); }
  }

  async function resolveBulk(row) {
    const filter = { resource: row.resource, field: row.field, golden_department: row.golden_department, challenger_department: row.challenger_department };
    const values = await dialog({ title: `${t('resolveBulk')} · ${row.resource}.${row.field}`,
      message: `${row.golden_department} ↔ ${row.challenger_department} · ${t('open')} ${fmt(row.open)}`,
      fields: [
        { name: 'decision', label: t('decision'), type: 'select', options: decisions.slice(0, 2), value: 'keep_golden' },
        { name: 'reason', label: t('reason'), type: 'textarea', required: true },
      ],
      check: async v => {
        const out = await api('/v1/conflicts/resolve', { method: 'POST', body: { filter, decision: v.decision, reason: v.reason || '-', dry_run: true } });
        return t('matched', fmt(out.matched), fmt(out.changed));
      } });
    if (!values) return;
    try {
      const out = await api('/v1/conflicts/resolve', { method: 'POST', body: { filter, decision: values.decision, reason: values.reason, dry_run: false } });
      await draw(`${t('done')}: ${t('matched', fmt(out.matched), fmt(out.changed))}`);
    } catch (e) { notice(t('error', e.message), 'bad'); }
  }

  async function draw(message) {
    const [summary, open, history] = await Promise.all([
      api('/v1/conflicts/summary', { query: { status: 'open' } }).catch(e => (isMissingRoute(e) ? null : Promise.reject(e))),
      api('/v1/conflicts', { query: { status: 'open', limit: 100 } }),
      api('/v1/conflicts', { query: { status: 'resolved', limit: 100 } }).catch(() => ({ conflicts: [] })),
    ]);
    clear(root).append(h('div', { class: 'page-head' }, h('h1', {}, t('conflicts'))));
    if (message) notice(message);
    root.append(h('section', { class: 'panel' }, h('h2', {}, t('summary')),
      summary === null ? h('p', { class: 'muted' }, t('notAvailableRoute', '/v1/conflicts/summary')) :
        table([
          { label: t('resource'), value: r => r.resource },
          { label: t('field'), value: r => r.field },
          { label: t('golden'), value: r => r.golden_department || '—' },
          { label: t('challenger'), value: r => r.challenger_department || '—' },
          { label: t('open'), class: 'num', value: r => fmt(r.open) },
          { label: t('actions'), value: r => h('button', { type: 'button', 'data-action': 'resolve-bulk', onclick: () => resolveBulk(r) }, t('resolveBulk')) },
        ], summary.summary, { rowAttrs: r => ({ 'data-summary': `${r.resource}.${r.field}` }) })));
    root.append(h('section', { class: 'panel' }, h('h2', {}, t('openList')),
      table([
        { label: '#', value: c => String(c.id) },
        { label: t('resource'), value: c => `${c.resource}.${c.field}` },
        { label: t('goldenValue'), value: c => h('span', {}, show(sideValue(c.golden)), c.golden_department ? h('small', { class: 'muted' }, ' · ' + c.golden_department) : null) },
        { label: t('challengerValue'), value: c => h('span', {}, show(sideValue(c.challenger)), c.challenger_department ? h('small', { class: 'muted' }, ' · ' + c.challenger_department) : null) },
        { label: t('created'), value: c => time(c.updated_at) },
        { label: t('actions'), value: c => h('button', { type: 'button', 'data-action': 'resolve', onclick: () => resolveOne(c) }, t('resolveOne')) },
      ], open.conflicts, { rowAttrs: c => ({ 'data-conflict': c.id }) })));
    root.append(h('section', { class: 'panel' }, h('h2', {}, t('history')),
      table([
        { label: '#', value: c => String(c.id) },
        { label: t('resource'), value: c => `${c.resource}.${c.field}` },
        { label: t('status'), value: c => c.status },
        { label: t('decision'), value: c => (c.resolution ? c.resolution.decision : '—') },
        { label: t('value'), value: c => (c.resolution && 'value' in c.resolution ? show(c.resolution.value) : '—') },
        { label: t('reason'), value: c => (c.resolution ? c.resolution.reason : '—') },
        { label: t('by'), value: c => (c.resolution ? c.resolution.by : '—') },
        { label: t('at'), value: c => time(c.resolution ? c.resolution.at : c.updated_at) },
      ], history.conflicts.slice().reverse(), { rowAttrs: c => ({ 'data-resolved': c.id }) })));
  }

  await draw();
}
