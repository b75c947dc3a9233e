// chirp's only script. Every page works without it; with it, like buttons
// update the count in place, compose boxes count characters as the server
// does, and times show in the reader's time zone. Loaded from our own origin, so the CSP needs no exception.
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

// <form class="like">: posts with fetch and shows the new count. Anything
// unexpected falls back to the plain form post, which shows the error.
function setUpLike(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    const count = form.querySelector(".count");
    button.disabled = true;
    try {
      const resp = await fetch(form.action, {
        method: "POST",
        headers: { "Accept": "application/json" },
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
      });
      if (!resp.ok) {
        form.submit();
        return;
      }
      const data = await resp.json();
      count.textContent = String(data.like_count);
      button.classList.add("liked");
    } catch (err) {
      form.submit();
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
