// Departments: each adapter's declaration, state, last error, counters and checkpoint, with
// pause, resume, run now and rewind (each after a confirmation).
import { api } from './api.js';
import { h, clear, fmt, time, duration } from './dom.js';

export async function render(root, { t, dialog, notice }) {
  async function draw(message) {
    const { adapters } = await api('/v1/adapters');
    clear(root).append(h('div', { class: 'page-head' }, h('h1', {}, t('departments'))));
    if (message) notice(message);
    const list = h('div', { class: 'cards' });
    for (const a of adapters) list.append(card(a));
    root.append(list);
  }

  async function act(a, action, confirmKey, call) {
    const ok = await dialog({ title: t(action), message: t(confirmKey, a.id) });
    if (!ok) return;
    try { await call(); await draw(t('done') + ': ' + t(action) + ' ' + a.id); } catch (e) { notice(t('error', e.message), 'bad'); }
  }

  function card(a) {
    const c = a.counters;
    const buttons = h('div', { class: 'buttons' },
      a.state === 'paused'
        ? h('button', { type: 'button', 'data-action': 'resume', onclick: () => act(a, 'resume', 'confirmResume', () => api(`/v1/adapters/${encodeURIComponent(a.id)}/resume`, { method: 'POST' })) }, t('resume'))
        : h('button', { type: 'button', 'data-action': 'pause', onclick: () => act(a, 'pause', 'confirmPause', () => api(`/v1/adapters/${encodeURIComponent(a.id)}/pause`, { method: 'POST' })) }, t('pause')),
      a.pull ? h('button', { type: 'button', 'data-action': 'run', disabled: a.state === 'paused',
        onclick: () => act(a, 'runNow', 'confirmRun', () => api(`/v1/adapters/${encodeURIComponent(a.id)}/run`, { method: 'POST' })) }, t('runNow')) : null,
      a.pull ? h('button', { type: 'button', class: 'ghost', 'data-action': 'rewind', onclick: async () => {
        const values = await dialog({ title: t('rewind'), message: t('confirmRewind', a.id),
          fields: [{ name: 'checkpoint', label: t('rewindTo'), value: a.checkpoint || '' }] });
        if (!values) return;
        try {
          await api(`/v1/adapters/${encodeURIComponent(a.id)}/checkpoint`, { method: 'PUT', body: { checkpoint: values.checkpoint === '' ? null : values.checkpoint } });
          await draw(t('done') + ': ' + t('rewind') + ' ' + a.id);
        } catch (e) { notice(t('error', e.message), 'bad'); }
      } }, t('rewind')) : null);
    return h('article', { class: 'card', 'data-adapter': a.id, 'aria-labelledby': 'adapter-' + a.id },
      h('div', { class: 'card-head' },
        h('h2', { id: 'adapter-' + a.id }, a.id),
        h('span', { class: 'badge ' + a.state, 'data-field': 'state' }, t(a.state === 'paused' ? 'pausedState' : a.state))),
      h('p', { class: 'muted' }, [a.department, a.description].filter(Boolean).join(' · ')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('kind')), h('dd', {}, a.pull ? `${a.pull.kind} · ${a.pull.every_seconds ?? '—'} s` : t('push')),
        h('dt', {}, t('mapping')), h('dd', {}, a.mapping || '—'),
        h('dt', {}, t('counters')), h('dd', {}, `${t('recordsIn')} ${fmt(c.records_in)} · ${t('accepted')} ${fmt(c.accepted)} · ${t('unchanged')} ${fmt(c.unchanged)} · ${t('rejected')} ${fmt(c.rejected)}`),
        h('dt', {}, t('lastSuccess')), h('dd', {}, time(a.last_success_at), ' (', duration(a.lag_seconds, t), ')'),
        h('dt', {}, t('nextRun')), h('dd', {}, time(a.next_run_at)),
        h('dt', {}, t('checkpoint')), h('dd', { class: 'mono', 'data-field': 'checkpoint' }, a.checkpoint || '—'),
        h('dt', {}, t('lastError')), h('dd', { class: a.last_error ? 'bad-text' : '' }, a.last_error ? `${a.last_error} (${time(a.last_error_at)})` : '—'),
        a.mapping_problems && a.mapping_problems.length ? [h('dt', {}, t('mappingProblems')), h('dd', {}, h('ul', {}, a.mapping_problems.map(p => h('li', {}, p))))] : null),
      buttons,
      h('details', {}, h('summary', {}, t('declaration')), h('pre', { class: 'code' }, a.declaration || '')));
  }

  await draw();
}
