// Staff console: live updates over /ws/console (reconnecting with backoff). The queue page refreshes its list in
// place when the queue changes (so an alert sound, once turned on, keeps working) and fills in previews the server
// could not scrub at once; a red flag sets the tab's title, shows a banner and, if turned on, beeps. A
// conversation page appends new messages (times in the clinic's zone) and tells the patient's page staff is typing.
(() => {
  "use strict";
  const tz = document.body.dataset.tz || undefined;
  const transcript = document.getElementById("transcript");
  const replyBox = document.getElementById("reply-text");
  const onQueue = () => document.getElementById("queue-live");
  let socket = null;
  let delay = 1000;
  let audio = null;
  const seenFlags = new Set();

  function clock(iso) {
    const at = new Date(iso);
    const opts = { hour: "numeric", minute: "2-digit", timeZone: tz };
    const day = new Intl.DateTimeFormat("en-CA", { timeZone: tz }).format(at);
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: tz }).format(new Date());
    if (day !== today) Object.assign(opts, { weekday: "short", month: "short", day: "numeric" });
    return new Intl.DateTimeFormat("en-US", opts).format(at).replace("AM", "am").replace("PM", "pm");
  }

  function showMessage(m) {
    if (transcript.querySelector(`[data-id="${m.id}"]`)) return;
    const li = document.createElement("li");
    li.className = m.author;
    li.dataset.id = m.id;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = m.author;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" " + m.text));
    const time = document.createElement("time");
    time.dateTime = m.at;
    time.textContent = clock(m.at);
    li.appendChild(time);
    transcript.appendChild(li);
    transcript.dataset.last = String(Math.max(Number(transcript.dataset.last || 0), m.id));
    li.scrollIntoView({ block: "end" });
  }

  async function refreshTranscript() {
    if (!transcript) return;
    const id = transcript.dataset.conversation;
    const r = await fetch(`/console/conversations/${id}/messages?after=${transcript.dataset.last || 0}`);
    if (r.status === 401) { location.href = "/console/login"; return; }
    if (!r.ok) return;
    const data = await r.json();
    data.messages.forEach(showMessage);
  }

  // -- the queue ------------------------------------------------------------------------------------
  function beep() {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.25, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  }

  function noticeRedFlags(first) {
    let fresh = false;
    document.querySelectorAll("[data-red-flag]").forEach((row) => {
      if (!seenFlags.has(row.dataset.conversation)) { seenFlags.add(row.dataset.conversation); fresh = true; }
    });
    if (fresh && !first) beep();
  }

  async function fillPreviews() {
    if (!document.querySelector("[data-preview-pending]")) return;
    const r = await fetch("/console/queue/previews");
    if (!r.ok) return;
    const data = await r.json();
    document.querySelectorAll("tr[data-conversation]").forEach((row) => {
      const cell = row.querySelector("[data-preview-pending]");
      const text = data.previews[row.dataset.conversation];
      if (cell && text !== undefined) { cell.textContent = text; cell.removeAttribute("data-preview-pending"); }
    });
  }

  async function refreshQueue() {
    const r = await fetch("/console", { headers: { Accept: "text/html" } });
    if (r.redirected && r.url.endsWith("/console/login")) { location.href = "/console/login"; return; }
    if (!r.ok) return;
    const page = new DOMParser().parseFromString(await r.text(), "text/html");
    const fresh = page.getElementById("queue-live");
    if (!fresh || !onQueue()) return;
    onQueue().replaceWith(fresh);
    document.title = page.title;
    bindSound();
    noticeRedFlags(false);
    fillPreviews();
  }

  function bindSound() {
    const button = document.getElementById("sound-toggle");
    if (!button) return;
    button.setAttribute("aria-pressed", audio ? "true" : "false");
    button.textContent = audio ? "Alert sound is on" : "Turn on the alert sound";
    button.onclick = () => {
      if (!audio) { audio = new (window.AudioContext || window.webkitAudioContext)(); beep(); }
      bindSound();
    };
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/console`);
    socket.onopen = () => { delay = 1000; refreshTranscript(); };
    socket.onmessage = (e) => {
      const event = JSON.parse(e.data);
      if (event.type !== "queue") return;
      if (transcript && event.conversation_id === transcript.dataset.conversation) refreshTranscript();
      else if (onQueue()) refreshQueue();
    };
    socket.onclose = () => { socket = null; setTimeout(connect, delay); delay = Math.min(delay * 2, 30000); };
  }

  if (replyBox && transcript) {
    let typingTimer = null;
    replyBox.addEventListener("input", () => {
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      if (!typingTimer) socket.send(JSON.stringify({ type: "typing", conversation_id: transcript.dataset.conversation, on: true }));
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => {
        typingTimer = null;
        if (socket && socket.readyState === WebSocket.OPEN)
          socket.send(JSON.stringify({ type: "typing", conversation_id: transcript.dataset.conversation, on: false }));
      }, 3000);
    });
  }
  const range = document.getElementById("range");
  if (range) {  // the dashboard: the dates matter only for a custom range
    const custom = document.querySelector(".custom-range");
    const show = () => { custom.hidden = range.value !== "custom"; };
    range.addEventListener("change", show);
    show();
  }
  if (transcript) transcript.lastElementChild && transcript.lastElementChild.scrollIntoView({ block: "end" });
  if (onQueue()) { bindSound(); noticeRedFlags(true); fillPreviews(); setInterval(refreshQueue, 30000); }
  connect();
  if (transcript) setInterval(refreshTranscript, 10000);  // fallback if the socket is down
})();
