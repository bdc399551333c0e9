// Mappings: pick a mapping or paste one, upload a sample file, and see the same validation and
// dry-run report as `recordonce mapping validate --sample` (POST /v1/mappings/validate).
import { api, isMissingRoute } from './api.js';
import { h, clear, table, time } from './dom.js';

export async function render(root, { t, notice }) {
  let mappings = null;
  try { mappings = (await api('/v1/mappings')).mappings; } catch (e) { if (!isMissingRoute(e)) throw e; }
  const { adapters } = await api('/v1/adapters');

  const picker = h('select', { id: 'mapping-pick' }, h('option', { value: '' }, '—'),
    (mappings || []).map(m => h('option', { value: m.id }, `${m.id} (v${m.version})`)));
  const text = h('textarea', { id: 'mapping-text', rows: 16, spellcheck: 'false', class: 'code' });
  const file = h('input', { id: 'sample-file', type: 'file' });
  const format = h('select', { id: 'sample-format' }, h('option', { value: '' }, t('fromMapping')),
    ['json', 'ndjson', 'csv', 'xml'].map(f => h('option', { value: f }, f)));
  const encoding = h('select', { id: 'sample-encoding' }, ['utf-8', 'gb18030'].map(f => h('option', { value: f }, f)));
  const result = h('section', { class: 'panel', id: 'validation-result', 'aria-live': 'polite', hidden: true });

  picker.addEventListener('change', async () => {
    if (!picker.value) return;
    try { text.value = (await api(`/v1/mappings/${encodeURIComponent(picker.value)}`)).text; }
    catch (e) { notice(t('error', e.message), 'bad'); }
  });

  async function validate(event) {
    event.preventDefault();
    const body = { mapping: text.value, reveal: false };
    if (file.files && file.files[0]) {
      const bytes = await file.files[0].arrayBuffer();
      body.sample = new TextDecoder(encoding.value).decode(bytes);
    }
    if (format.value) body.sample_format = format.value;
    result.hidden = false;
    clear(result).append(h('p', { class: 'muted' }, t('loading')));
    try {
      const out = await api('/v1/mappings/validate', { method: 'POST', body });
      clear(result).append(
        h('h2', { class: out.valid ? 'ok-text' : 'bad-text', id: 'validation-verdict', 'data-valid': String(out.valid) }, out.valid ? t('valid') : t('invalid')),
        out.problems.length === 0 ? h('p', {}, t('noProblems')) : table([
          { label: t('severity'), value: p => h('span', { class: 'badge ' + (p.severity === 'error' ? 'failing' : 'degraded') }, p.severity) },
          { label: t('line'), class: 'num', value: p => (p.line ?? '—') },
          { label: t('column'), class: 'num', value: p => (p.column ?? '—') },
          { label: t('rule'), value: p => p.rule || '—' },
          { label: t('path'), value: p => p.path || '—' },
          { label: t('message'), value: p => p.message },
        ], out.problems, { rowAttrs: p => ({ 'data-line': p.line ?? '', 'data-rule': p.rule || '' }) }),
        out.dry_run ? [h('h3', {}, t('dryRunReport'), ` · ${out.dry_run.records} / ${out.dry_run.accepted} / ${out.dry_run.rejected}`),
          h('pre', { class: 'code', id: 'dry-run-report' }, out.dry_run.report)] : null);
    } catch (e) {
      clear(result).append(h('p', { class: 'error' }, isMissingRoute(e) ? t('notAvailableRoute', 'POST /v1/mappings/validate') : t('error', e.message)));
    }
  }

  const form = h('form', { class: 'panel mapping-form', id: 'mapping-form' },
    mappings === null ? h('p', { class: 'muted' }, t('notAvailableRoute', '/v1/mappings')) :
      h('div', { class: 'field' }, h('label', { for: 'mapping-pick' }, t('pickMapping')), picker),
    h('div', { class: 'field' }, h('label', { for: 'mapping-text' }, t('pasteMapping')), text),
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'sample-file' }, t('sampleFile')), file),
      h('div', { class: 'field' }, h('label', { for: 'sample-format' }, t('sampleFormat')), format),
      h('div', { class: 'field' }, h('label', { for: 'sample-encoding' }, t('encoding')), encoding)),
    h('button', { type: 'submit', id: 'validate-button' }, t('validate')));
  form.addEventListener('submit', validate);

  // Which published mapping (and version) each adapter applies, from the mappings' adapter lists.
  const byAdapter = new Map();
  for (const m of mappings || []) for (const a of m.adapters || []) byAdapter.set(typeof a === 'string' ? a : a.id, m);
  clear(root).append(h('div', { class: 'page-head' }, h('h1', {}, t('mappings'))),
    h('div', { class: 'two-col' }, form, result),
    h('section', { class: 'panel' }, h('h2', {}, t('adaptersMappings')), table([
      { label: t('adapter'), value: a => a.id },
      { label: t('department'), value: a => a.department || '—' },
      { label: t('mapping'), value: a => (byAdapter.has(a.id) ? byAdapter.get(a.id).id : a.mapping || '—') },
      { label: t('version'), value: a => (byAdapter.has(a.id) ? 'v' + byAdapter.get(a.id).version : '—') },
      { label: t('mappingProblems'), value: a => (a.mapping_problems || []).join('; ') || '—' },
    ], adapters)));
}
