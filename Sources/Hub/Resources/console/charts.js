// SVG charts drawn by the console itself: a bar chart of events per minute and the district grid.
// Colours are SVG attributes (not style attributes), so the strict CSP allows them.
const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** Bars for [{start, events}] (one per minute), with the largest value and times on the axes. */
export function barChart(buckets, { width = 640, height = 170, label = '' } = {}) {
  const left = 40, bottom = 22, top = 8, right = 8;
  const max = Math.max(1, ...buckets.map(b => b.events));
  const plotW = width - left - right, plotH = height - top - bottom;
  const bw = plotW / Math.max(1, buckets.length);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': label });
  svg.append(s('title', {}, label));
  svg.append(s('line', { x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, stroke: '#8a94a6', 'stroke-width': 1 }));
  svg.append(s('text', { x: left - 6, y: top + 10, 'text-anchor': 'end', class: 'axis' }, String(max)));
  svg.append(s('text', { x: left - 6, y: top + plotH, 'text-anchor': 'end', class: 'axis' }, '0'));
  buckets.forEach((b, i) => {
    const bh = (b.events / max) * plotH;
    const x = left + i * bw;
    const hhmm = new Date(b.start).toTimeString().slice(0, 5);
    svg.append(s('rect', { x: x + 0.5, y: top + plotH - bh, width: Math.max(1, bw - 1), height: Math.max(0, bh), fill: '#2a7ab8' },
      s('title', {}, `${hhmm} · ${b.events}`)));
    if (i % 10 === 0 || i === buckets.length - 1) {
      svg.append(s('text', { x: x + bw / 2, y: height - 6, 'text-anchor': 'middle', class: 'axis' }, hhmm));
    }
  });
  return svg;
}

/** A colour from light to dark for value/max (0 is pale grey). */
export function shade(value, max) {
  if (!value) return '#eef1f5';
  const f = Math.min(1, value / Math.max(1, max));
  const l = 88 - f * 58;
  return `hsl(205, 62%, ${l.toFixed(1)}%)`;
}

/** `text` cut to fit `width` pixels at `size` px (CJK characters about 1 em, others about 0.6 em). */
export function fit(text, width, size = 12) {
  let used = 0, out = '';
  for (const ch of text) {
    used += /[\u2e80-\uffff]/.test(ch) ? size : size * 0.6;
    if (used > width) return out.replace(/\s+$/, '') + '…';
    out += ch;
  }
  return out;
}

function focusable(el, label, action) {
  el.setAttribute('tabindex', '0');
  el.setAttribute('role', 'button');
  el.setAttribute('aria-label', label);
  el.addEventListener('click', action);
  el.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); action(); } });
  return el;
}

/**
 * The schematic district: streets as blocks, their communities as cells shaded by `value(code)`.
 * With `street` set, only that street's communities, larger and labelled. `onStreet(code)` and
 * `onCommunity(code)` are called when a block or cell is chosen (mouse or keyboard).
 */
export function districtGrid({ streets, value, street, onStreet, onCommunity, labelOf, width = 480, height = 360 }) {
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'district', role: 'group' });
  if (street) {
    const st = streets.find(x => x.code === street);
    const cells = st ? st.communities : [];
    const max = Math.max(1, ...cells.map(c => value(c.code)));
    const cols = Math.min(4, Math.max(1, cells.length)), rows = Math.ceil(cells.length / cols) || 1;
    const cw = (width - 8) / cols, ch = (height - 8) / rows;
    cells.forEach((c, i) => {
      const x = 4 + (i % cols) * cw, y = 4 + Math.floor(i / cols) * ch;
      const v = value(c.code);
      const g = s('g', { class: 'cell', 'data-code': c.code },
        s('rect', { x: x + 2, y: y + 2, width: cw - 4, height: ch - 4, rx: 6, fill: shade(v, max), stroke: '#ffffff', 'stroke-width': 2 }),
        s('text', { x: x + 12, y: y + 26, class: 'cell-name' + (v / max > 0.55 ? ' on-dark' : '') }, fit(labelOf(c), cw - 24, 13)),
        s('text', { x: x + 12, y: y + 50, class: 'cell-value' + (v / max > 0.55 ? ' on-dark' : '') }, v.toLocaleString('zh-CN')));
      svg.append(focusable(g, `${labelOf(c)} ${v}`, () => onCommunity(c.code)));
    });
    return svg;
  }
  const n = streets.length;
  const cols = n <= 16 ? Math.max(1, Math.ceil(n / 3)) : Math.max(1, Math.ceil(Math.sqrt(n * width / height)));
  const rows = Math.ceil(n / cols) || 1;
  const bw = (width - 4) / cols, bh = (height - 4) / rows;
  const all = streets.flatMap(st => st.communities.map(c => value(c.code)));
  const max = Math.max(1, ...all);
  streets.forEach((st, i) => {
    const x = 2 + (i % cols) * bw, y = 2 + Math.floor(i / cols) * bh;
    const total = st.communities.reduce((sum, c) => sum + value(c.code), 0);
    const g = s('g', { class: 'block', 'data-code': st.code });
    g.append(s('rect', { x: x + 2, y: y + 2, width: bw - 4, height: bh - 4, rx: 6, fill: '#ffffff', stroke: '#c9d1dc' }));
    g.append(s('text', { x: x + 8, y: y + 17, class: 'block-name' }, fit(labelOf(st), bw - 16, 12)));
    g.append(s('text', { x: x + bw - 8, y: y + bh - 9, 'text-anchor': 'end', class: 'block-value' }, total.toLocaleString('zh-CN')));
    const cc = 4, cr = Math.ceil(st.communities.length / cc) || 1;
    const cw = (bw - 16) / cc, ch = (bh - 46) / cr;
    st.communities.forEach((c, j) => {
      const v = value(c.code);
      g.append(s('rect', { x: x + 8 + (j % cc) * cw, y: y + 24 + Math.floor(j / cc) * ch, width: cw - 3, height: ch - 3, rx: 3,
        fill: shade(v, max) }, s('title', {}, `${labelOf(c)} · ${v}`)));
    });
    svg.append(focusable(g, `${labelOf(st)} ${total}`, () => onStreet(st.code)));
  });
  return svg;
}
