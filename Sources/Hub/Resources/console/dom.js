// Tiny DOM helpers: elements are built with text nodes, never from HTML strings, so no value from
// the API can become markup or script.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

/** A table from column definitions [{label, value: row => node|text, class}] and rows. */
export function table(columns, rows, { caption, rowAttrs } = {}) {
  return h('table', { class: 'grid' },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col', class: c.class }, c.label)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, '—'))
      : rows.map(r => h('tr', rowAttrs ? rowAttrs(r) : {}, columns.map(c => h('td', { class: c.class }, c.value(r)))))));
}

export function fmt(n) {
  if (n === null || n === undefined) return '—';
  return Number(n).toLocaleString('zh-CN');
}

export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString('zh-CN', { hour12: false });
}

export function ago(iso, t) {
  if (!iso) return '—';
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 90) return t('secondsAgo', Math.round(s));
  if (s < 5400) return t('minutesAgo', Math.round(s / 60));
  return t('hoursAgo', Math.round(s / 3600));
}

export function duration(seconds, t) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 90) return t('seconds', Math.round(seconds));
  if (seconds < 5400) return t('minutes', Math.round(seconds / 60));
  return t('hours', Math.round(seconds / 3600));
}
