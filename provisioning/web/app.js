// The Callbox page: first-boot setup, sign-in, status, settings. Plain JS,
// no libraries; everything it needs is served by the box.
'use strict';

const $ = (id) => document.getElementById(id);
let csrf = '';
let mode = 'setup'; // or 'settings'
const draft = {}; // setup answers, sent together at the end
let previewTimer = 0;
let statusTimer = 0;
let hasWiFi = false; // the box has Wi-Fi to set
let network = {}; // how the box is connected: wired, wifi, access_point...

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') {
    opts.headers['X-CSRF-Token'] = csrf;
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body || {});
  }
  const res = await fetch(path, opts);
  let data = {};
  if ((res.headers.get('Content-Type') || '').startsWith('application/json')) data = await res.json();
  if (res.status === 401 && path !== '/api/login') { await start(); }
  return { ok: res.ok, status: res.status, data };
}

const sections = ['loading', 'step-code', 'step-admin', 'step-server', 'step-devices', 'login', 'status', 'wifi', 'log'];
function show(...ids) {
  for (const s of sections) $(s).hidden = !ids.includes(s);
  stopPreview();
  clearInterval(statusTimer);
  const first = $(ids[0]).querySelector('input:not([type=hidden]), select, button');
  if (first) first.focus();
}

function clearErrors(form) {
  for (const p of form.querySelectorAll('.error')) p.textContent = '';
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

// showErrors puts each field's reason under it; the first bad field gets focus.
function showErrors(res, fallbackId) {
  const fields = (res.data && res.data.fields) || [];
  let focused = false;
  for (const f of fields) {
    const p = $('err-' + f.field);
    const input = $(f.field);
    if (p) {
      p.textContent = f.reason;
      if (input) input.setAttribute('aria-invalid', 'true');
      if (input && !focused) {
        showSectionOf(input);
        input.focus();
        focused = true;
      }
    } else {
      $(fallbackId).textContent += (f.field ? f.field + ': ' : '') + f.reason + ' ';
    }
  }
  if (!fields.length) $(fallbackId).textContent = (res.data && res.data.error) || ('The box answered ' + res.status);
}

function showSectionOf(input) {
  const sec = input.closest('section');
  if (sec && sec.hidden) {
    if (mode === 'settings') show('step-server', 'step-devices');
    else show(sec.id);
  }
}

function setNotice(text) {
  $('notice').textContent = text || '';
  $('notice').hidden = !text;
}

async function start() {
  const res = await api('GET', '/api/state');
  const st = res.data;
  csrf = st.csrf || '';
  setNotice(st.notice);
  if (st.name) $('title').textContent = st.name;
  $('btn-wifi').hidden = !st.wifi;
  hasWiFi = !!st.wifi;
  network = st.network || {};
  statusMessage('');
  if (st.setup_needed) $('devices-submit').textContent = hasWiFi ? 'Continue' : 'Finish setup';
  if (st.setup_needed) {
    mode = 'setup';
    if (st.setup_open) show('step-admin'); else show('step-code');
  } else if (st.signed_in) {
    showStatus();
  } else {
    show('login');
  }
}

// --- first-boot setup ---

$('form-code').addEventListener('submit', async (e) => {
  e.preventDefault();
  clearErrors(e.target);
  const res = await api('POST', '/api/setup/code', { code: $('code').value });
  if (!res.ok) { $('err-code').textContent = res.data.error; $('code').setAttribute('aria-invalid', 'true'); $('code').focus(); return; }
  csrf = res.data.csrf;
  show('step-admin');
});

$('form-admin').addEventListener('submit', (e) => {
  e.preventDefault();
  clearErrors(e.target);
  if ($('password').value.length < 8) { $('err-password').textContent = 'At least 8 characters.'; $('password').focus(); return; }
  if ($('password').value !== $('password2').value) { $('err-password2').textContent = 'The two passwords differ.'; $('password2').focus(); return; }
  draft.password = $('password').value;
  show('step-server');
});

for (const r of document.querySelectorAll('input[name=auth]')) r.addEventListener('change', authChanged);
function authChanged() {
  const token = document.querySelector('input[name=auth]:checked').value === 'token';
  $('auth-key').hidden = token;
  $('auth-token').hidden = !token;
}

$('form-server').addEventListener('submit', async (e) => {
  e.preventDefault();
  clearErrors(e.target);
  if (mode === 'settings') { await saveSettings(); return; }
  if ($('name').value.trim() === '') { $('err-name').textContent = 'Give the box a name.'; $('name').focus(); return; }
  if (!$('url').value) { $('err-url').textContent = 'Enter the call server address.'; $('url').focus(); return; }
  if (!$('room').value) { $('err-room').textContent = 'Name the room to join.'; $('room').focus(); return; }
  show('step-devices');
  await loadDevices();
  startPreview();
});

async function loadDevices(selected) {
  const res = await api('GET', '/api/devices');
  if (!res.ok) return;
  fill($('camera'), res.data.cameras, selected && selected.camera);
  fill($('microphone'), res.data.microphones, selected && selected.microphone);
}

function fill(select, list, value) {
  select.replaceChildren();
  for (const d of list) {
    const o = document.createElement('option');
    o.value = d.id;
    o.textContent = d.label;
    select.append(o);
  }
  if (value) select.value = value;
}

$('camera').addEventListener('change', () => { stopPreview(); startPreview(); });

function startPreview() {
  const tick = async () => {
    const cam = $('camera').value;
    if (!cam || $('step-devices').hidden) return;
    const res = await fetch('/api/snapshot?camera=' + encodeURIComponent(cam), { credentials: 'same-origin' });
    if (res.ok && res.headers.get('Content-Type') === 'image/jpeg') {
      const url = URL.createObjectURL(await res.blob());
      const old = $('preview').src;
      $('preview').src = url;
      if (old.startsWith('blob:')) URL.revokeObjectURL(old);
      $('preview-note').textContent = '';
    } else {
      const data = await res.json().catch(() => ({}));
      $('preview-note').textContent = data.error || 'No picture from this camera.';
    }
    previewTimer = setTimeout(tick, 300);
  };
  tick();
}
function stopPreview() { clearTimeout(previewTimer); previewTimer = 0; }

// --- contacts: rooms for the speed-dial buttons ---

function addContact(name, room) {
  const list = $('contacts-list');
  const n = list.children.length + 1;
  const li = document.createElement('li');
  for (const [key, text] of [['name', 'Name'], ['room', 'Room']]) {
    const id = `contacts.${n}.${key}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = `${text} of contact ${n}`;
    const input = document.createElement('input');
    input.id = id;
    input.dataset.key = key;
    input.autocomplete = 'off';
    input.value = (key === 'name' ? name : room) || '';
    input.setAttribute('aria-describedby', 'err-' + id);
    const err = document.createElement('p');
    err.className = 'error';
    err.id = 'err-' + id;
    err.setAttribute('aria-live', 'polite');
    li.append(label, input, err);
  }
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'secondary';
  remove.textContent = `Remove contact ${n}`;
  remove.addEventListener('click', () => {
    const kept = contactsFromForm().filter((_, i) => i !== n - 1);
    setContacts(kept);
    $('btn-add-contact').focus();
  });
  li.append(remove);
  list.append(li);
  return li;
}

function setContacts(list) {
  $('contacts-list').replaceChildren();
  for (const c of list || []) addContact(c.name, c.room);
}

function contactsFromForm() {
  return [...$('contacts-list').children].map((li) => ({
    name: li.querySelector('[data-key=name]').value,
    room: li.querySelector('[data-key=room]').value,
  }));
}

$('btn-add-contact').addEventListener('click', () => addContact('', '').querySelector('input').focus());

function encryptionChanged() {
  $('room_key-set').hidden = $('encryption').value !== 'shared-key';
}
$('encryption').addEventListener('change', encryptionChanged);

function serverSettings() {
  return {
    name: $('name').value,
    url: $('url').value,
    auth: document.querySelector('input[name=auth]:checked').value,
    api_key: $('api_key').value,
    api_secret: $('api_secret').value,
    token: $('token').value,
    room: $('room').value,
    encryption: $('encryption').value,
    room_key: $('encryption').value === 'shared-key' ? $('room_key').value : '',
    camera: $('camera').value,
    microphone: $('microphone').value,
    codec: '',
    contacts: contactsFromForm(),
  };
}

$('form-devices').addEventListener('submit', async (e) => {
  e.preventDefault();
  clearErrors(e.target);
  if (mode === 'settings') { await saveSettings(); return; }
  if (hasWiFi) { await openWiFi(); return; }
  $('devices-submit').disabled = true;
  await finishSetup(null, 'err-form');
  $('devices-submit').disabled = false;
});

// finishSetup sends every answer at once; wifi (a chosen network) is
// joined after the settings are saved.
async function finishSetup(wifi, errorsId) {
  const res = await api('POST', '/api/setup', { password: draft.password, settings: serverSettings(), wifi });
  if (!res.ok) { showErrors(res, errorsId); return; }
  csrf = res.data.csrf;
  delete draft.password;
  for (const id of ['password', 'password2', 'api_secret', 'token', 'room_key', 'passphrase']) $(id).value = '';
  $('title').textContent = $('name').value;
  showStatus();
  if (res.data.wifi_error) {
    statusMessage(res.data.wifi_error);
  } else if (wifi && network.access_point) {
    statusMessage(`The box is joining ${wifi.ssid}. Its own network ${network.access_point} closes now: ` +
      `connect this phone to ${wifi.ssid} again. If the box cannot join, ${network.access_point} comes back within a minute.`);
  } else if (wifi) {
    statusMessage(`The box is joining ${wifi.ssid}.`);
  }
}

function statusMessage(text) {
  $('status-message').textContent = text || '';
  $('status-message').hidden = !text;
}

// --- sign in, status, controls ---

$('form-login').addEventListener('submit', async (e) => {
  e.preventDefault();
  clearErrors(e.target);
  const res = await api('POST', '/api/login', { password: $('login-password').value });
  $('login-password').value = '';
  if (!res.ok) { $('err-login').textContent = res.data.error; $('login-password').focus(); return; }
  csrf = res.data.csrf;
  showStatus();
});

function showStatus() {
  show('status');
  refreshStatus();
  statusTimer = setInterval(refreshStatus, 1000);
}

function duration(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

async function refreshStatus() {
  const res = await api('GET', '/api/status');
  if (!res.ok) return;
  const st = res.data;
  $('title').textContent = st.name || 'Callbox';
  setNotice(st.notice);
  const state = st.call.state;
  $('call-state').textContent = describeCall(state, st.call.ring, st.call.summary);
  $('call-state').dataset.state = state;
  $('call-error').textContent = st.call.error || '';
  $('st-room').textContent = st.call.room || '—';
  $('st-e2ee').textContent = describeEncryption(st.call);
  $('st-box-key').textContent = st.call.box_key || '—';
  refreshInvites();
  showParticipants(st.call.participants || []);
  network = st.network || {};
  $('st-network').textContent = describeNetwork(network);
  $('st-codec').textContent = st.call.codec ? `${st.call.codec} (${st.call.codec_reason})` : '—';
  if (st.call.broken_camera_frames) {
    $('st-codec').textContent += `; ${st.call.broken_camera_frames} broken camera frames dropped`;
  }
  $('st-path').textContent = st.call.path || '—';
  $('st-server').textContent = st.call.server || '—';
  $('st-uptime').textContent = duration(st.uptime_s);
  $('st-temp').textContent = st.cpu_temp_c == null ? 'no sensor' : st.cpu_temp_c.toFixed(1) + ' °C';
  $('st-addresses').textContent = (st.addresses || []).join(', ') || '—';
  $('st-fingerprint').textContent = st.fingerprint || '';
  // A call that rings: the call button answers it, hang up declines it.
  $('btn-call').textContent = state === 'ringing' ? 'Answer' : 'Call now';
  $('btn-call').disabled = state !== 'idle' && state !== 'ringing';
  $('btn-hangup').textContent = state === 'ringing' ? 'Decline' : 'Hang up';
  $('btn-hangup').disabled = state === 'idle';
  showDoNotDisturb(st.call.ring);
  showShare(st.call.share);
  showMissed(st.call.ring);
  showMeetings(st.call.meetings);
}

// showMeetings says which meeting is under way and which come next, on a
// meeting room's box, or why its calendar cannot be read.
function showMeetings(m) {
  $('st-meetings-dt').hidden = $('st-meetings').hidden = !m;
  if (!m) return;
  const at = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const parts = [];
  if (m.error) parts.push(m.error);
  if (m.now) parts.push(`now: ${m.now.title} in ${m.now.room} until ${at(m.now.end)}`);
  for (const n of m.next || []) parts.push(`${at(n.start)}: ${n.title} in ${n.room}`);
  if (!m.now && !(m.next || []).length && !m.error) parts.push('no meetings coming');
  $('st-meetings').textContent = parts.join('; ');
}

// describeCall says how the call stands, with who calls or is called on a
// box whose calls ring; else in the box's own words (summary:
// "reconnecting: the network dropped 12 s ago").
function describeCall(state, ring, summary) {
  if (ring && state === 'ringing') return `${ring.callers.join(', ')} ${ring.callers.length > 1 ? 'are' : 'is'} calling the box`;
  if (ring && state === 'calling') return `The box is calling ${ring.callee}${ring.heard === 'ringing' ? ': it rings' : ''}`;
  if (ring && state === 'idle' && ring.do_not_disturb) {
    return `Do not disturb${ring.do_not_disturb_until ? ' until ' + ring.do_not_disturb_until : ''}: calls are declined`;
  }
  if (ring && state === 'idle') return 'The box is waiting for calls';
  return 'The box is ' + (summary || state);
}

// showDoNotDisturb says whether calls are declined as not available, and
// until when (ring.quiet_hours), with the button that turns it around,
// on a box whose calls ring.
function showDoNotDisturb(ring) {
  $('st-dnd-dt').hidden = $('st-dnd').hidden = $('btn-dnd').hidden = !ring;
  if (!ring) return;
  const on = !!ring.do_not_disturb;
  $('st-dnd').textContent = !on ? 'off: calls ring'
    : `on${ring.do_not_disturb_until ? ' until ' + ring.do_not_disturb_until : ''}: calls are declined as not available`;
  $('btn-dnd').textContent = on ? 'Turn do not disturb off' : 'Turn do not disturb on';
  $('btn-dnd').setAttribute('aria-pressed', String(on));
  $('btn-dnd').dataset.on = String(on);
}

// showShare says whether the box shares its content input (an HDMI
// input), what (the input's timing) or why not, with the button that
// starts or stops the share on a box that has such an input.
function showShare(share) {
  $('st-share-dt').hidden = $('st-share').hidden = !share;
  $('btn-share').hidden = !share || !share.input;
  if (!share) return;
  $('st-share').textContent = share.summary.charAt(0).toUpperCase() + share.summary.slice(1);
  $('btn-share').textContent = share.sharing ? 'Stop sharing' : 'Share HDMI input';
  $('btn-share').setAttribute('aria-pressed', String(!!share.sharing));
  $('btn-share').dataset.on = String(!!share.sharing);
}

// showMissed lists the calls that rang unanswered, on a box whose calls ring.
function showMissed(ring) {
  $('st-missed-dt').hidden = $('st-missed').hidden = !ring;
  if (!ring) return;
  const list = ring.missed || [];
  if (!list.length) { $('st-missed').textContent = 'none'; return; }
  const ul = document.createElement('ul');
  for (const m of list) {
    const li = document.createElement('li');
    li.textContent = `${m.name}, ${new Date(m.at).toLocaleString()} (${m.why})`;
    ul.append(li);
  }
  $('st-missed').replaceChildren(ul);
}

// describeEncryption says what the box's screen says: the mode, and what
// people compare with the screen and the guests' pages.
function describeEncryption(c) {
  let text = c.encryption || (c.encrypted ? 'encrypted' : 'NOT end-to-end encrypted');
  if (c.key_fingerprint && c.encryption === 'shared-key encryption') {
    text += `; the key is ${c.key_fingerprint} (${c.key_words}), as the box's screen shows`;
  } else if (c.key_fingerprint) {
    text += `; check ${c.key_fingerprint} (${c.key_words}): the box's screen and every guest's page show the same`;
  }
  if (c.outsiders && c.outsiders.length) text += `. Without an invite, getting no keys: ${c.outsiders.join(', ')}`;
  return text;
}

// refreshInvites lists the guests' invites with a button to revoke each.
async function refreshInvites() {
  const res = await api('GET', '/api/invites');
  const dd = $('st-invites');
  if (!res.ok) return;
  const list = res.data.invites || [];
  dd.textContent = list.length ? '' : 'none (callboxctl invite makes them)';
  for (const inv of list) {
    const row = document.createElement('div');
    row.textContent = `${inv.guest} (${inv.identity}): ${inv.state}${inv.once ? ', one visit' : ''}, until ${new Date(inv.expires).toLocaleString()} `;
    if (inv.state !== 'revoked' && inv.state !== 'expired' && inv.state !== 'used') {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = 'Revoke';
      b.addEventListener('click', async () => {
        b.disabled = true;
        const r = await api('POST', '/api/invites/revoke', { name: inv.name });
        if (!r.ok) statusMessage(r.data?.error || 'the invite was not revoked');
        refreshInvites();
      });
      row.append(b);
    }
    dd.append(row);
  }
}

function showParticipants(list) {
  const dd = $('st-participants');
  if (!list.length) { dd.textContent = 'nobody else'; return; }
  const ul = document.createElement('ul');
  for (const p of list) {
    const li = document.createElement('li');
    const notes = [];
    if (p.muted) notes.push('muted');
    if (!p.video) notes.push('no camera');
    else if (p.decoder) notes.push('decoded in ' + p.decoder);
    li.textContent = (p.name || p.identity) + (notes.length ? ` (${notes.join(', ')})` : '');
    ul.append(li);
  }
  dd.replaceChildren(ul);
}

function describeNetwork(n) {
  const parts = [];
  if (n.wired) parts.push('wired');
  if (n.wifi) parts.push('Wi-Fi ' + n.wifi);
  if (n.access_point) parts.push(`its own Wi-Fi network ${n.access_point}, for setup`);
  if (n.joining) parts.push('joining ' + n.joining);
  let text = parts.join(', ') || 'no network';
  if (n.wifi_error) text += ' — ' + n.wifi_error;
  return text;
}

async function act(path, body) {
  const res = await api('POST', path, body);
  if (!res.ok) $('call-error').textContent = res.data.error || 'failed';
  refreshStatus();
  return res;
}
$('btn-call').addEventListener('click', () => act('/api/call'));
$('btn-hangup').addEventListener('click', () => act('/api/hangup'));
$('btn-dnd').addEventListener('click', () => act('/api/do-not-disturb', { on: $('btn-dnd').dataset.on !== 'true' }));
$('btn-share').addEventListener('click', async () => {
  $('btn-share').disabled = true;
  const res = await api('POST', '/api/share', { on: $('btn-share').dataset.on !== 'true' });
  $('btn-share').disabled = false;
  $('err-share').textContent = res.ok ? '' : (res.data.error || 'the share did not change');
  refreshStatus();
});
$('btn-restart').addEventListener('click', () => act('/api/restart'));
$('btn-logout').addEventListener('click', async () => { await api('POST', '/api/logout'); csrf = ''; start(); });
$('btn-reset').addEventListener('click', async () => {
  if (!window.confirm('Remove every setting and the password? The box will need setting up again.')) return;
  const res = await act('/api/factory-reset', { confirm: 'reset' });
  if (res.ok) start();
});

$('btn-settings').addEventListener('click', openSettings);
async function openSettings() {
  const res = await api('GET', '/api/settings');
  if (!res.ok) return;
  mode = 'settings';
  const s = res.data;
  $('name').value = s.name;
  $('url').value = s.url;
  document.querySelector(`input[name=auth][value=${s.auth === 'token' ? 'token' : 'key'}]`).checked = true;
  setContacts(s.contacts);
  authChanged();
  $('api_key').value = s.api_key;
  $('room').value = s.room;
  $('has-api_secret').hidden = !s.has_api_secret;
  $('has-token').hidden = !s.has_token;
  $('has-room_key').hidden = !s.has_room_key;
  $('encryption').value = s.encryption || 'end-to-end';
  encryptionChanged();
  for (const b of document.querySelectorAll('#form-server button[type=submit], #devices-submit')) b.textContent = 'Save';
  show('step-server', 'step-devices');
  await loadDevices(s);
}

async function saveSettings() {
  clearErrors($('form-server'));
  clearErrors($('form-devices'));
  const res = await api('POST', '/api/settings', serverSettings());
  if (!res.ok) { showErrors(res, 'err-form'); return; }
  for (const id of ['api_secret', 'token', 'room_key']) $(id).value = '';
  statusMessage('');
  mode = 'setup';
  showStatus();
}

$('btn-log').addEventListener('click', async () => {
  const res = await api('GET', '/api/log');
  $('log-lines').textContent = res.ok ? res.data.lines.join('\n') : res.data.error;
  show('log');
});

$('btn-wifi').addEventListener('click', () => openWiFi());

// openWiFi shows the Wi-Fi page: the last step of first-boot setup (then
// skippable when the box has a network already), or a page of its own.
async function openWiFi() {
  const setup = mode === 'setup' && !$('step-devices').hidden;
  if (setup) {
    const st = await api('GET', '/api/state');
    network = (st.data && st.data.network) || {};
  }
  const online = !!(network.wired || network.wifi);
  show('wifi');
  $('wifi').dataset.setup = setup ? 'yes' : '';
  $('wifi-submit').textContent = setup ? 'Finish setup' : 'Join';
  $('btn-skip-wifi').hidden = !setup || !online;
  if (setup && online) {
    $('wifi-note').textContent = network.wired
      ? 'The box is on a wired network: Wi-Fi is optional.'
      : `The box is on Wi-Fi ${network.wifi} already: choosing another network is optional.`;
  } else if (setup) {
    $('wifi-note').textContent = 'The box has no network yet: choose the one it should use.';
  } else {
    $('wifi-note').textContent = describeNetwork(network);
  }
  await scanWiFi();
}

async function scanWiFi() {
  clearErrors($('form-wifi'));
  $('btn-rescan').disabled = true;
  const res = await api('GET', '/api/wifi/networks');
  $('btn-rescan').disabled = false;
  const list = res.ok ? res.data.networks.map((n) => ({ id: n.ssid, label: `${n.ssid} (${n.signal_dbm} dBm${n.secured ? ', secured' : ''})` })) : [];
  fill($('ssid'), list);
  if (!res.ok) $('err-ssid').textContent = res.data.error;
  else if (!list.length) $('err-ssid').textContent = 'No network found: move the box nearer the router, or scan again.';
}
$('btn-rescan').addEventListener('click', scanWiFi);

$('form-wifi').addEventListener('submit', async (e) => {
  e.preventDefault();
  clearErrors(e.target);
  const choice = { ssid: $('ssid').value, passphrase: $('passphrase').value };
  if (!choice.ssid) { $('err-ssid').textContent = 'Choose a network.'; $('ssid').focus(); return; }
  if (choice.passphrase && (choice.passphrase.length < 8 || choice.passphrase.length > 63)) {
    $('err-passphrase').textContent = 'A Wi-Fi password has 8 to 63 characters.'; $('passphrase').focus(); return;
  }
  $('wifi-submit').disabled = true;
  if ($('wifi').dataset.setup) {
    await finishSetup(choice, 'err-wifi-form');
    $('wifi-submit').disabled = false;
    return;
  }
  const res = await api('POST', '/api/wifi/connect', choice);
  $('wifi-submit').disabled = false;
  $('passphrase').value = '';
  if (!res.ok) { showErrors(res, 'err-wifi-form'); return; }
  showStatus();
  statusMessage(network.access_point
    ? `The box is joining ${choice.ssid}; its own network ${network.access_point} closes now.`
    : `The box is joining ${choice.ssid}.`);
});
$('btn-skip-wifi').addEventListener('click', async () => {
  $('btn-skip-wifi').disabled = true;
  await finishSetup(null, 'err-wifi-form');
  $('btn-skip-wifi').disabled = false;
});
for (const b of document.querySelectorAll('.back')) {
  b.addEventListener('click', () => {
    if (b.id === 'wifi-back' && $('wifi').dataset.setup) { show('step-devices'); startPreview(); return; }
    mode = 'setup';
    showStatus();
  });
}

start();
