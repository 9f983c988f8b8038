// Staff console: live updates over /ws/console (reconnecting with backoff). The queue page reloads when
// the queue changes; a conversation page appends new messages and tells the patient's page staff is typing.
(() => {
  "use strict";
  const transcript = document.getElementById("transcript");
  const queuePage = document.querySelector("[data-page=queue]") || document.querySelector(".empty");
  const replyBox = document.getElementById("reply-text");
  let socket = null;
  let delay = 1000;

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

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/console`);
    socket.onopen = () => { delay = 1000; refreshTranscript(); };
    socket.onmessage = (e) => {
      const event = JSON.parse(e.data);
      if (event.type !== "queue") return;
      if (transcript && event.conversation_id === transcript.dataset.conversation) refreshTranscript();
      else if (queuePage) location.reload();
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
  if (transcript) transcript.lastElementChild && transcript.lastElementChild.scrollIntoView({ block: "end" });
  connect();
  setInterval(refreshTranscript, 10000);  // fallback if the socket is down
})();
