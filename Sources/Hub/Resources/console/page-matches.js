// Match review: needs the hub's matching API, which this hub does not have yet. The page says so
// instead of pretending.
import { api, isMissingRoute } from './api.js';
import { h, clear } from './dom.js';

export async function render(root, { t }) {
  let available = false;
  try { await api('/v1/matches', { query: { limit: 1 } }); available = true; } catch (e) { if (!isMissingRoute(e) && e.status !== 404) throw e; }
  clear(root).append(h('div', { class: 'page-head' }, h('h1', {}, t('matches'))),
    h('section', { class: 'panel not-available', 'data-state': available ? 'available' : 'not-available' },
      h('h2', {}, t('notAvailable')), h('p', {}, t('notAvailableMatch'))));
}
