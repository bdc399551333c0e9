// Subscriptions: list with delivery progress, create with a preview of what the grant discloses
// (POST /v1/subscriptions/preview) before it is saved, pause, resume, redeliver; the new token
// is shown once.
import { api } from './api.js';
import { h, clear, table, fmt, time } from './dom.js';
import { localized } from './i18n.js';

export async function render(root, { t, dialog, notice }) {
  const catalog = await api('/v1/catalog');
  const masking = {};        // "Resource.field" -> policy chosen in the preview
  let previewed = null;      // the spec last previewed and found valid

  const name = h('input', { id: 'sub-name', required: true, autocomplete: 'off' });
  const purpose = h('input', { id: 'sub-purpose', required: true, autocomplete: 'off' });
  const area = h('input', { id: 'sub-area', autocomplete: 'off', placeholder: '510108001' });
  const mode = h('select', { id: 'sub-mode' }, h('option', { value: 'pull' }, t('pull')), h('option', { value: 'webhook' }, t('webhook')));
  const url = h('input', { id: 'sub-url', type: 'url', autocomplete: 'off' });
  const resourceBoxes = catalog.resources.map(r => h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: r.name, name: 'sub-resource', id: 'sub-resource-' + r.name }), ' ', localized(r.title) || r.name));
  const preview = h('div', { id: 'sub-preview', 'aria-live': 'polite' });
  const createButton = h('button', { type: 'button', id: 'sub-create', disabled: true }, t('create'));
  const tokenBox = h('div', { id: 'sub-token-box' });

  function spec() {
    const resources = resourceBoxes.map(l => l.querySelector('input')).filter(i => i.checked).map(i => i.value);
    const areas = area.value.split(/[,，\s]+/).map(x => x.trim()).filter(Boolean);
    const m = {};
    for (const [k, v] of Object.entries(masking)) if (resources.includes(k.split('.')[0])) m[k] = v;
    const s = { name: name.value, purpose: purpose.value, resources, masking: m, delivery: { mode: mode.value } };
    if (areas.length) s.area = areas;
    if (mode.value === 'webhook') s.delivery.url = url.value;
    return s;
  }

  async function runPreview() {
    const s = spec();
    createButton.disabled = true;
    previewed = null;
    try {
      const out = await api('/v1/subscriptions/preview', { method: 'POST', body: s });
      clear(preview);
      if (!out.valid) {
        preview.append(h('ul', { class: 'bad-text', id: 'sub-problems' }, out.problems.map(p => h('li', {}, `${p.path}: ${p.message}`))));
        return;
      }
      preview.append(h('p', {}, `${t('areaShort')}: ${out.area.length ? out.area.join(', ') : t('wholeHub')}`));
      for (const r of out.resources) {
        preview.append(h('h3', {}, r.resource, h('small', { class: 'muted' }, ` · ${t('areaFields')}: ${r.area_fields.join(', ') || '—'}`)),
          table([
            { label: t('field'), value: f => {
              const res = catalog.resources.find(x => x.name === r.resource);
              const def = res && res.fields.find(x => x.name === f.field);
              return h('span', {}, def ? localized(def.description) || f.field : f.field, ' ', h('small', { class: 'muted mono' }, f.field));
            } },
            { label: t('sensitivity'), value: f => t('sensitivity_' + f.sensitivity) },
            { label: t('policy'), value: f => {
              const select = h('select', { 'aria-label': `${r.resource}.${f.field}`, 'data-field': `${r.resource}.${f.field}` },
                ['plain', 'masked', 'pseudonymized', 'omitted'].map(p => h('option', { value: p, selected: p === f.policy }, t(p))));
              select.addEventListener('change', () => { masking[`${r.resource}.${f.field}`] = select.value; runPreview(); });
              return h('span', { class: 'policy ' + f.policy }, select);
            } },
          ], r.fields));
      }
      previewed = s;
      createButton.disabled = false;
    } catch (e) { clear(preview).append(h('p', { class: 'error' }, t('error', e.message))); }
  }

  createButton.addEventListener('click', async () => {
    if (!previewed) return;
    try {
      const created = await api('/v1/subscriptions', { method: 'POST', body: previewed });
      clear(tokenBox).append(h('div', { class: 'token-once', role: 'alert' },
        h('p', {}, t('tokenOnce')), h('code', { id: 'sub-token', 'data-subscription': created.id }, created.token)));
      createButton.disabled = true;
      await drawList();
    } catch (e) { notice(t('error', e.message), 'bad'); }
  });

  const form = h('form', { class: 'panel sub-form', id: 'sub-form' },
    h('h2', {}, t('newSubscription')),
    h('p', { class: 'muted' }, t('previewFirst')),
    h('div', { class: 'field' }, h('label', { for: 'sub-name' }, t('name')), name),
    h('div', { class: 'field' }, h('label', { for: 'sub-purpose' }, t('purpose')), purpose),
    h('fieldset', {}, h('legend', {}, t('resources')), resourceBoxes),
    h('div', { class: 'field' }, h('label', { for: 'sub-area' }, t('area')), area),
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'sub-mode' }, t('delivery')), mode),
      h('div', { class: 'field grow' }, h('label', { for: 'sub-url' }, t('url')), url)),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', id: 'sub-preview-button' }, t('preview')), createButton),
    tokenBox);
  form.addEventListener('submit', e => { e.preventDefault(); runPreview(); });
  form.addEventListener('input', () => { createButton.disabled = true; previewed = null; });

  const list = h('section', { class: 'panel', id: 'sub-list' });

  async function drawList(message) {
    const [{ subscriptions }, stats] = await Promise.all([api('/v1/subscriptions'), api('/v1/stats/subscriptions')]);
    const lag = new Map(stats.subscriptions.map(s => [s.id, s]));
    const put = async (s, status) => {
      try { await api(`/v1/subscriptions/${s.id}`, { method: 'PUT', body: { status } }); await drawList(`${t('done')}: ${s.name || s.id}`); }
      catch (e) { notice(t('error', e.message), 'bad'); }
    };
    clear(list).append(h('h2', {}, t('subscriptions')), table([
      { label: t('name'), value: s => h('span', {}, s.name, h('br'), h('small', { class: 'muted mono' }, s.id)) },
      { label: t('purpose'), value: s => s.purpose },
      { label: t('resources'), value: s => s.resources.join(', ') },
      { label: t('areaShort'), value: s => (s.area.length ? s.area.join(', ') : t('wholeHub')) },
      { label: t('delivery'), value: s => s.delivery.mode },
      { label: t('status'), value: s => h('span', { class: 'badge ' + (s.status === 'active' ? 'running' : 'paused'), 'data-field': 'status' }, s.status) },
      { label: t('lagEvents'), class: 'num', value: s => { const x = lag.get(s.id); return x && x.lag !== null ? fmt(x.lag) : '—'; } },
      { label: t('lastDelivery'), value: s => { const x = lag.get(s.id); return x ? time(x.last_delivery_at) : '—'; } },
      { label: t('actions'), value: s => h('div', { class: 'buttons tight' },
        s.status === 'active'
          ? h('button', { type: 'button', 'data-action': 'pause', onclick: async () => { if (await dialog({ title: t('pause'), message: s.name })) put(s, 'paused'); } }, t('pause'))
          : h('button', { type: 'button', 'data-action': 'resume', onclick: async () => { if (await dialog({ title: t('resume'), message: s.name })) put(s, 'active'); } }, t('resume')),
        h('button', { type: 'button', class: 'ghost', 'data-action': 'redeliver', onclick: async () => {
          const v = await dialog({ title: t('redeliver'), message: s.name, fields: [{ name: 'after', label: t('after'), type: 'number', required: true, value: '0' }] });
          if (!v) return;
          try { await api(`/v1/subscriptions/${s.id}/redeliver`, { method: 'POST', body: { after: Number(v.after) } }); notice(`${t('done')}: ${t('redeliver')}`); }
          catch (e) { notice(t('error', e.message), 'bad'); }
        } }, t('redeliver'))) },
    ], subscriptions, { rowAttrs: s => ({ 'data-subscription': s.id }) }));
    if (message) notice(message);
  }

  clear(root).append(h('div', { class: 'page-head' }, h('h1', {}, t('subscriptions'))),
    h('div', { class: 'two-col' }, form, h('section', { class: 'panel preview-panel' }, h('h2', {}, t('preview')), preview)), list);
  await drawList();
}
