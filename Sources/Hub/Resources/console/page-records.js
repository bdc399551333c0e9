// Records: look a record up by identity key; golden record with each field's provenance and the
// versions it went through. Sensitive fields come masked from the hub (view=masked); "reveal" is
// a full read with a stated purpose, written to the audit log by the hub like any disclosure.
import { api } from './api.js';
import { h, clear, table, time } from './dom.js';
import { localized, lang } from './i18n.js';

export async function render(root, { t, dialog, notice }) {
  const catalog = await api('/v1/catalog');
  const resource = h('select', { id: 'record-resource' }, catalog.resources.map(r => h('option', { value: r.name }, `${localized(r.title) || r.name} (${r.name})`)));
  const key = h('input', { id: 'record-key', required: true, autocomplete: 'off', spellcheck: 'false' });
  const out = h('section', { class: 'panel', id: 'record-view', 'aria-live': 'polite' });

  const codeTables = new Map();   // table name -> Map(code -> label), fetched once each
  async function labelsFor(entity) {
    const res = catalog.resources.find(r => r.name === entity.resource);
    const tables = new Set((res ? res.fields : []).map(f => /^code\((.+)\)$/.exec(f.type)).filter(Boolean).map(m => m[1]));
    await Promise.all([...tables].filter(name => !codeTables.has(name)).map(async name => {
      try {
        const table = await api(`/v1/catalog/codes/${encodeURIComponent(name)}`);
        codeTables.set(name, new Map(table.codes.map(c => [c.code, lang() === 'en' && c.en ? c.en : c.label])));
      } catch { codeTables.set(name, new Map()); }
    }));
  }
  function codeLabel(field, value) {
    const m = field && /^code\((.+)\)$/.exec(field.type);
    const label = m && codeTables.get(m[1]) && codeTables.get(m[1]).get(String(value));
    return label ? ` · ${label}` : '';
  }

  function show(entity, revealed) {
    const res = catalog.resources.find(r => r.name === entity.resource);
    const provenance = entity.provenance || {};
    const fieldsOf = provenance.fields || provenance;
    const rows = Object.entries(entity.record || {}).map(([name, value]) => ({ name, value, field: res && res.fields.find(f => f.name === name) }));
    for (const name of entity.masked_fields || []) if (!(name in (entity.record || {}))) rows.push({ name, value: undefined, field: res && res.fields.find(f => f.name === name), omitted: true });
    const versionSelect = h('select', { id: 'record-version', 'aria-label': t('versions') },
      (entity.versions || []).slice().reverse().map(v => h('option', { value: v, selected: v === entity.version }, `v${v}${v === Math.max(...entity.versions) ? ' · ' + t('current') : ''}`)));
    versionSelect.addEventListener('change', () => load(entity.resource, { id: entity.id, version: versionSelect.value }));
    clear(out).append(
      h('div', { class: 'panel-head' },
        h('h2', {}, `${entity.resource} · ${entity.identity_key}`),
        h('div', { class: 'panel-tools' }, h('label', { for: 'record-version' }, t('versions')), versionSelect,
          revealed ? h('span', { class: 'badge degraded', id: 'revealed' }, t('revealed'))
            : h('button', { type: 'button', id: 'reveal-button', onclick: async () => {
              const v = await dialog({ title: t('reveal'), message: t('maskedNote'), fields: [{ name: 'purpose', label: t('revealPurpose'), required: true }] });
              if (!v) return;
              load(entity.resource, { id: entity.id, version: entity.version, reveal: v.purpose });
            } }, t('reveal')))),
      revealed ? null : h('p', { class: 'muted' }, t('maskedNote')),
      h('p', { class: 'muted small mono' }, `id ${entity.id} · v${entity.version} · ${time(entity.updated_at)}`),
      table([
        { label: t('field'), value: r => h('span', {}, r.field ? localized(r.field.description) || r.name : r.name, h('br'), h('small', { class: 'muted mono' }, r.name)) },
        { label: t('value'), value: r => h('span', { class: (entity.masked_fields || []).includes(r.name) ? 'masked-value' : '', 'data-field': r.name },
          r.omitted ? '（' + t('omitted') + '）' : (r.value === null ? '—' : (typeof r.value === 'object' ? JSON.stringify(r.value) : String(r.value))),
          r.omitted || r.value === null ? null : h('small', { class: 'muted' }, codeLabel(r.field, r.value))) },
        { label: t('provenance'), value: r => { const p = fieldsOf[r.name]; return p ? `${p.department || ''} ${p.adapter || ''} · ${p.mapping || ''}${p.mapping_version ? ' v' + p.mapping_version : ''}` : '—'; } },
        { label: t('observedAt'), value: r => { const p = fieldsOf[r.name]; return p ? time(p.observed_at) : '—'; } },
      ], rows));
  }

  async function load(res, { id, version, reveal } = {}) {
    clear(out).append(h('p', { class: 'muted' }, t('loading')));
    const query = reveal ? { view: 'full', purpose: reveal } : { view: 'masked', purpose: 'console lookup' };
    try {
      const entity = id
        ? await api(`/v1/resources/${encodeURIComponent(res)}/${encodeURIComponent(id)}`, { query: { ...query, version } })
        : await api(`/v1/resources/${encodeURIComponent(res)}`, { query: { ...query, key: key.value.trim() } });
      await labelsFor(entity);
      show(entity, !!reveal);
    } catch (e) {
      clear(out).append(h('p', { class: 'error', id: 'record-error' }, e.status === 404 ? t('notFound') : t('error', e.message)));
    }
  }

  const form = h('form', { class: 'panel row', id: 'record-form' },
    h('div', { class: 'field' }, h('label', { for: 'record-resource' }, t('resource')), resource),
    h('div', { class: 'field grow' }, h('label', { for: 'record-key' }, t('identityKey')), key),
    h('button', { type: 'submit', id: 'record-lookup' }, t('lookup')));
  form.addEventListener('submit', e => { e.preventDefault(); load(resource.value); });
  clear(root).append(h('div', { class: 'page-head' }, h('h1', {}, t('records'))), form, out);
  key.focus();
}
