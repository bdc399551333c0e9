// The console's shell: sign-in, navigation (hash routes), language switch, shared dialogs.
import { api, token, setToken, clearToken, ApiError } from './api.js';
import { h, clear } from './dom.js';
import { t, lang, setLang } from './i18n.js';
import * as overview from './page-overview.js';
import * as departments from './page-departments.js';
import * as rejects from './page-rejects.js';
import * as conflicts from './page-conflicts.js';
import * as matches from './page-matches.js';
import * as mappings from './page-mappings.js';
import * as subscriptions from './page-subscriptions.js';
import * as records from './page-records.js';
import * as audit from './page-audit.js';

const pages = [
  ['overview', overview], ['departments', departments], ['rejects', rejects], ['conflicts', conflicts],
  ['matches', matches], ['mappings', mappings], ['subscriptions', subscriptions], ['records', records], ['audit', audit],
];

let cleanup = null;

function currentRoute() {
  const name = (location.hash || '#/overview').replace(/^#\/?/, '').split('?')[0];
  return pages.find(([n]) => n === name) ? name : 'overview';
}

function applyLabels() {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  document.title = t('title');
  document.getElementById('brand-title').textContent = t('brand');
  document.getElementById('skip-link').textContent = t('skip');
  document.getElementById('nav').setAttribute('aria-label', t('nav'));
  document.getElementById('lang-switch').textContent = t('langSwitch');
  document.getElementById('sign-out').textContent = t('signOut');
  document.getElementById('sign-in-title').textContent = t('signInTitle');
  document.getElementById('sign-in-hint').textContent = t('signInHint');
  document.getElementById('token-label').textContent = t('tokenLabel');
  document.getElementById('sign-in-button').textContent = t('signIn');
  const nav = clear(document.getElementById('nav'));
  const route = currentRoute();
  nav.append(h('ul', {}, pages.map(([name]) => h('li', {},
    h('a', { href: '#/' + name, id: 'nav-' + name, 'aria-current': name === route ? 'page' : null }, t(name))))));
}

async function show() {
  applyLabels();
  if (cleanup) { cleanup(); cleanup = null; }
  const signedIn = !!token();
  document.getElementById('sign-in').hidden = signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
  document.getElementById('nav').hidden = !signedIn;
  const root = clear(document.getElementById('page'));
  if (!signedIn) { document.getElementById('token-input').focus(); return; }
  const name = currentRoute();
  const page = pages.find(([n]) => n === name)[1];
  root.dataset.page = name;
  root.append(h('p', { class: 'muted' }, t('loading')));
  try {
    const result = await page.render(root, { t, api, dialog, notice });
    if (typeof result === 'function') cleanup = result;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { clearToken(); show(); return; }
    clear(root).append(h('p', { class: 'error', role: 'alert' }, t('error', error.message)));
  }
}

/** A short message at the top of the page (role=status), e.g. after an action. */
export function notice(text, kind = 'ok') {
  const root = document.getElementById('page');
  let box = root.querySelector('.notice');
  if (!box) { box = h('p', { class: 'notice', role: 'status' }); root.prepend(box); }
  box.className = 'notice ' + kind;
  box.textContent = text;
}

/**
 * A modal dialog with optional fields; resolves to the field values ({} when none) or null on cancel.
 * `fields`: [{name, label, type: 'text'|'textarea'|'select'|'number', options: [[value, label]], required, value}].
 * `check(values)` may return a message shown in the dialog before confirming (a dry run).
 */
export function dialog({ title, message, fields = [], confirmLabel, check }) {
  const d = document.getElementById('dialog');
  clear(d);
  return new Promise(resolve => {
    const inputs = {};
    const status = h('p', { class: 'dialog-status', role: 'status' });
    const form = h('form', { class: 'dialog-form' },
      h('h2', {}, title),
      message ? h('p', {}, message) : null,
      fields.map(f => {
        const id = 'dialog-' + f.name;
        let input;
        if (f.type === 'select') input = h('select', { id, name: f.name }, f.options.map(([v, l]) => h('option', { value: v, selected: v === f.value }, l)));
        else if (f.type === 'textarea') input = h('textarea', { id, name: f.name, rows: 3, required: f.required }, f.value ?? '');
        else input = h('input', { id, name: f.name, type: f.type || 'text', required: f.required, value: f.value ?? '', autocomplete: 'off' });
        inputs[f.name] = input;
        return h('div', { class: 'field' }, h('label', { for: id }, f.label), input);
      }),
      status,
      h('div', { class: 'buttons' },
        check ? h('button', { type: 'button', id: 'dialog-check', onclick: async () => {
          status.textContent = t('loading');
          try { status.textContent = await check(values()); } catch (e) { status.textContent = t('error', e.message); }
        } }, t('dryRun')) : null,
        h('button', { type: 'button', class: 'ghost', id: 'dialog-cancel', onclick: () => { d.close(); resolve(null); } }, t('cancel')),
        h('button', { type: 'submit', id: 'dialog-confirm' }, confirmLabel || t('confirm'))));
    function values() {
      const out = {};
      for (const [k, el] of Object.entries(inputs)) out[k] = el.value;
      return out;
    }
    form.addEventListener('submit', event => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      d.close();
      resolve(values());
    });
    d.addEventListener('cancel', () => resolve(null), { once: true });
    d.append(form);
    d.showModal();
    const first = form.querySelector('input, textarea, select') || form.querySelector('#dialog-confirm');
    first.focus();
  });
}

document.getElementById('sign-in-form').addEventListener('submit', async event => {
  event.preventDefault();
  const input = document.getElementById('token-input');
  const error = document.getElementById('sign-in-error');
  error.textContent = '';
  setToken(input.value.trim());
  try {
    await api('/v1/stats/overview');
    input.value = '';
    show();
  } catch (e) {
    clearToken();
    error.textContent = t('signInFailed', e.message);
  }
});
document.getElementById('sign-out').addEventListener('click', () => { clearToken(); location.hash = '#/overview'; show(); });
document.getElementById('lang-switch').addEventListener('click', () => { setLang(lang() === 'en' ? 'zh' : 'en'); show(); });
window.addEventListener('hashchange', () => { show().then(() => document.getElementById('main').focus({ preventScroll: true })); });
show();
