// Web chat for patients: sends messages, shows replies, fetches answers that arrive later
// (after a restart, or from staff). The sender id is random and kept in this browser only.
// A websocket (/ws/chat) brings staff replies, reminders and typing at once; it reconnects with
// backoff, and polling stays on as the fallback.
(() => {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const send = document.getElementById("send");
  const status = document.getElementById("status");
  const typing = document.getElementById("typing");

  const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
  let sender = localStorage.getItem("clinicbot.sender");
  if (!sender) { sender = newId(); localStorage.setItem("clinicbot.sender", sender); }
  let lastId = 0;
  const shown = new Set();

  function show(msg) {
    if (msg.id && shown.has(msg.id)) return;
    if (msg.id) { shown.add(msg.id); lastId = Math.max(lastId, msg.id); }
    const li = document.createElement("li");
    const author = msg.author || "bot";
    li.className = author;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = author === "patient" ? "You" : author === "staff" ? "Front desk" : "Assistant";
    li.appendChild(who);
    li.appendChild(document.createTextNode(msg.text));
    log.appendChild(li);
    li.scrollIntoView({ block: "end", behavior: "smooth" });
  }

  async function refresh() {
    try {
      const r = await fetch(`/api/chat/messages?sender=${encodeURIComponent(sender)}&after=${lastId}`);
      if (!r.ok) return;
      const data = await r.json();
      for (const m of data.messages) show(m);
      if (data.messages.some((m) => m.direction === "out")) status.textContent = "";
    } catch (_) { /* offline: try again on the next tick */ }
  }

  async function submit(text) {
    const messageId = newId();
    send.disabled = true;
    posting = true;
    typing.textContent = "The assistant is typing…";
    typing.hidden = false;
    status.textContent = "";
    try {
      const r = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, message: text, message_id: messageId }),
      });
      const data = await r.json().catch(() => ({}));
      await refresh();  // shows the patient's own message with its id, then any replies
      if (r.status === 503) {
        status.textContent = (data.error && data.error.message) || "Your message is saved and will be answered shortly.";
      } else if (!r.ok) {
        status.textContent = (data.error && data.error.message) || "Sorry, that message could not be sent.";
      }
    } catch (_) {
      status.textContent = "You seem to be offline. Please try again in a moment.";
    } finally {
      send.disabled = false;
      posting = false;
      typing.hidden = true;
      input.focus();
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    submit(text);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  let socket = null;
  let delay = 1000;
  let posting = false;
  let refused = false;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    try {
      socket = new WebSocket(`${scheme}://${location.host}/ws/chat?sender=${encodeURIComponent(sender)}`);
    } catch (_) { return; }
    socket.onopen = () => { delay = 1000; refresh(); };
    socket.onmessage = (e) => {
      let event;
      try { event = JSON.parse(e.data); } catch (_) { return; }
      if (event.type === "message" && event.message) {
        if (posting) return;  // the POST's own answer arrives with it, after the patient's message
        show(event.message);
        status.textContent = "";
      } else if (event.type === "typing") {
        typing.textContent = event.who === "staff" ? "The front desk is typing…" : "The assistant is typing…";
        if (!posting) typing.hidden = !event.on;
      } else if (event.type === "error" && event.code === "too_many_connections") {
        refused = true;  // open in too many tabs: this one keeps working by polling
      }
    };
    socket.onclose = () => {
      socket = null;
      if (refused) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  refresh();
  let ticks = 0;
  setInterval(() => {  // poll every 4 s while the socket is down, every 20 s as a safety net when it is up
    ticks += 1;
    if (!socket || socket.readyState !== WebSocket.OPEN || ticks % 5 === 0) refresh();
  }, 4000);
  if ("WebSocket" in window) connect();
  input.focus();
})();
