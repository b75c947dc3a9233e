// chirp's only script. Every page works without it; with it, like buttons
// update the count in place, compose boxes count characters as the server
// does, times show in the reader's time zone, and the unread badge counts
// notifications live. Loaded from our own origin, so the CSP needs no exception.
"use strict";

// The length the server checks: code points of the trimmed text, with a
// "\r\n" counted as one newline (see TweetText in chirp-core).
function chirpLength(text) {
  return Array.from(text.trim().replace(/\r\n?/g, "\n")).length;
}

// <textarea data-max="280" data-counter="ID">: shows characters left in #ID.
function setUpCounter(area) {
  const max = Number(area.dataset.max);
  const out = document.getElementById(area.dataset.counter);
  if (!max || !out) return;
  const update = () => {
    const left = max - chirpLength(area.value);
    out.textContent = String(left);
    out.classList.toggle("over", left < 0);
  };
  area.addEventListener("input", update);
  update();
}

// <form class="like">: posts with fetch and shows the new count. A like is
// never sent twice: if the answer is lost, the form says so instead of
// falling back to a plain post that might count it again.
function setUpLike(form) {
  const button = form.querySelector("button");
  const count = form.querySelector(".count");
  const status = form.querySelector(".like-status");
  const say = (text) => {
    if (status) status.textContent = text;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const resp = await fetch(form.action, {
        method: "POST",
        headers: { "Accept": "application/json" },
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
      });
      const data = await resp.json().catch(() => ({}));
      if (resp.ok && typeof data.like_count === "number") {
        count.textContent = String(data.like_count);
        button.classList.add("liked");
        say("");
      } else {
        say((data.error && data.error.message) || "That like did not go through.");
      }
    } catch (err) {
      say("Could not reach chirp; check your connection and try again.");
    } finally {
      button.disabled = false;
    }
  });
}

// <time datetime="RFC 3339">: the server writes UTC; show the reader's
// local time instead.
function localTime(el) {
  const when = new Date(el.dateTime);
  if (Number.isNaN(when.getTime())) return;
  el.textContent = when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  el.title = when.toString();
}

document.querySelectorAll("textarea[data-max]").forEach(setUpCounter);
document.querySelectorAll("time[datetime]").forEach(localTime);
document.querySelectorAll("form.like").forEach(setUpLike);

// <span id="unread" data-count="N">: the top bar's unread badge. The site
// relays the API's notification stream for this session; each event adds
// one, without a reload. EventSource reconnects by itself (and resumes
// after the last event id), so nothing more is needed here.
function setUpUnreadBadge(badge) {
  if (!window.EventSource) return;
  let count = Number(badge.dataset.count) || 0;
  const source = new EventSource("/notifications/stream");
  source.addEventListener("notification", () => {
    count += 1;
    badge.dataset.count = String(count);
    badge.firstChild.nodeValue = String(count);
    badge.hidden = false;
  });
}

const unreadBadge = document.getElementById("unread");
if (unreadBadge) setUpUnreadBadge(unreadBadge);
