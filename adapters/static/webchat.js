// Web chat for patients: sends messages, shows replies, fetches answers that arrive later
// (after a restart, or from staff). The sender id is random and kept in this browser only.
// A websocket (/ws/chat) brings staff replies, reminders and typing at once; it reconnects with
// backoff, and polling stays on as the fallback. The patient's own message and the typing line show
// the moment they press Send, and the newest message is always scrolled into view.
(() => {
  "use strict";
  const log = document.getElementById("log");
  const scroller = document.getElementById("scroller");
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

  function toBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function bubble(author, text) {
    const li = document.createElement("li");
    li.className = author;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = author === "patient" ? "You" : author === "staff" ? "Front desk" : "Assistant";
    li.appendChild(who);
    li.appendChild(document.createTextNode(text));
    log.appendChild(li);
    toBottom();
    return li;
  }

  let late = false;  // the POST said "give me a moment": the answer comes by the socket or polling
  let lastAnswerId = 0;  // the newest reply from the assistant or staff
  function show(msg) {
    if (msg.id && shown.has(msg.id)) return;
    if (msg.id) { shown.add(msg.id); lastId = Math.max(lastId, msg.id); }
    bubble(msg.author || "bot", msg.text);
    if (msg.author === "bot" || msg.author === "staff") {
      lastAnswerId = Math.max(lastAnswerId, msg.id || 0);
      if (late) { late = false; setTyping(false); }
    }
  }

  function setTyping(on, who) {
    typing.textContent = who === "staff" ? "The front desk is typing…" : "The assistant is typing…";
    typing.hidden = !on;
    if (on) toBottom();
  }

  async function refresh(after = lastId) {
    try {
      const r = await fetch(`/api/chat/messages?sender=${encodeURIComponent(sender)}&after=${after}`);
      if (!r.ok) return;
      const data = await r.json();
      for (const m of data.messages) show(m);
      if (data.messages.some((m) => m.direction === "out")) status.textContent = "";
    } catch (_) { /* offline: try again on the next tick */ }
  }

  let posting = false;
  async function submit(text) {
    const messageId = newId();
    const mine = bubble("patient", text);  // the patient sees their own message at once
    mine.classList.add("sending");
    send.disabled = true;
    posting = true;
    setTyping(true, "bot");
    status.textContent = "";
    try {
      const r = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, message: text, message_id: messageId }),
      });
      const data = await r.json().catch(() => ({}));
      mine.classList.remove("sending");
      if (data.message_id) shown.add(data.message_id);  // the stored copy of the bubble already on screen
      for (const m of data.messages || []) show(m);
      // late answers, staff replies, notices: read from the patient's own message on, as an answer made in the
      // instant the reply budget ran out is stored before the "give me a moment" line (already shown ones are skipped)
      await refresh(data.message_id ? Math.min(lastId, data.message_id) : lastId);
      late = r.status === 202 && lastAnswerId < data.message_id;
      if (r.status === 503) {
        status.textContent = (data.error && data.error.message) || "Your message is saved and will be answered shortly.";
      } else if (!r.ok) {
        if (!data.message_id) mine.classList.add("unsent");
        status.textContent = (data.error && data.error.message) || "Sorry, that message could not be sent.";
      }
    } catch (_) {
      mine.classList.remove("sending");
      mine.classList.add("unsent");
      status.textContent = "You seem to be offline. Please try again in a moment.";
    } finally {
      send.disabled = false;
      posting = false;
      setTyping(late, "bot");  // still working on a late answer: the typing line stays until it comes
      toBottom();
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
  // a phone keyboard opening or closing resizes the visible page: keep the newest message in view
  if (window.visualViewport) window.visualViewport.addEventListener("resize", toBottom);
  window.addEventListener("resize", toBottom);
  input.addEventListener("focus", () => setTimeout(toBottom, 150));

  let socket = null;
  let delay = 1000;
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
        if (!posting) setTyping(event.on, event.who);
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
  setInterval(() => {  // poll every 2 s while the socket is down or an answer is late, every 10 s otherwise
    ticks += 1;
    if (late || !socket || socket.readyState !== WebSocket.OPEN || ticks % 5 === 0) refresh();
  }, 2000);
  if ("WebSocket" in window) connect();
  input.focus();
})();
