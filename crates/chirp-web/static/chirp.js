// chirp's only script. Every page works without it; with it, like buttons
// update the count in place, compose boxes count characters as the server
// does, times show in the reader's time zone, the unread badge counts
// notifications live, and the notification list and an open conversation
// take in what arrives. Loaded from our own origin, so the CSP needs no exception.
"use strict";

// The length the server checks: code points of the trimmed text, with a
// "\r\n" counted as one newline (see TweetText in chirp-core).
function chirpLength(text) {
  return Array.from(text.trim().replace(/\r\n?/g, "\n")).length;
}

// "1 character", "2 characters": the server's words (chirp_core::words).
function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

// <textarea data-max="280" data-counter="ID">: says in #ID how many
// characters are left, or how many too many (as the server renders it
// first), and disables the form's submit button while the text is too
// long; it comes back once the text fits again.
function setUpCounter(area) {
  const max = Number(area.dataset.max);
  const out = document.getElementById(area.dataset.counter);
  if (!max || !out) return;
  const submit = area.form && area.form.querySelector("button[type=submit]");
  const update = () => {
    const left = max - chirpLength(area.value);
    out.textContent = left >= 0
      ? `${plural(left, "character", "characters")} left`
      : `${plural(-left, "character", "characters")} too many`;
    out.classList.toggle("over", left < 0);
    if (submit) submit.disabled = left < 0;
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
        const noun = form.querySelector(".like-noun");
        if (noun) noun.textContent = data.like_count === 1 ? " like" : " likes";
        // "liked" fills the heart; "pop" (re)starts its small animation,
        // which the style sheet leaves out under prefers-reduced-motion.
        button.classList.remove("pop");
        void button.offsetWidth;
        button.classList.add("liked", "pop");
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
// local time instead. A relative one ("5m", data-relative) keeps its words
// and shows the local time on hover.
function localTime(el) {
  const when = new Date(el.dateTime);
  if (Number.isNaN(when.getTime())) return;
  const local = when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  if ("relative" in el.dataset) {
    el.title = local;
    return;
  }
  el.textContent = local;
  el.title = when.toString();
}

document.querySelectorAll("textarea[data-max]").forEach(setUpCounter);
document.querySelectorAll("time[datetime]").forEach(localTime);
document.querySelectorAll("form.like").forEach(setUpLike);

// <span id="unread" data-count="N">: the top bar's unread badge. The site
// relays the API's notification stream for this session; each event adds
// one, without a reload. EventSource reconnects by itself (and resumes
// after the last event id), so nothing more is needed here.
function setUpLiveEvents(badge) {
  if (!window.EventSource) return;
  let count = Number(badge.dataset.count) || 0;
  const source = new EventSource("/notifications/stream");
  // data-stream says whether events can arrive now (tests wait for "open").
  source.addEventListener("open", () => {
    badge.dataset.stream = "open";
  });
  source.addEventListener("error", () => {
    badge.dataset.stream = "closed";
  });
  source.addEventListener("notification", (event) => {
    count += 1;
    badge.dataset.count = String(count);
    badge.firstChild.nodeValue = String(count);
    badge.hidden = false;
    refreshLiveParts(event);
  });
}

// <... id="ID" data-live [data-live-from="USERNAME"]>: a part of the page
// that an event makes stale (the notification list, a conversation). The
// server stays the one place that renders it: the page is fetched again
// and the part swapped for its new self, so a half-written message in the
// compose box outside it survives. With data-live-from, only a message
// from that account refreshes the part. Refreshes run one after another,
// so an older copy of the page never replaces a newer one.
let liveRefreshes = Promise.resolve();

function refreshLiveParts(event) {
  let note;
  try {
    note = JSON.parse(event.data);
  } catch (err) {
    return;
  }
  const ids = [...document.querySelectorAll("[data-live][id]")]
    .filter((part) => {
      const from = part.dataset.liveFrom;
      return !from || (note.kind === "message" && note.actor && note.actor.username === from);
    })
    .map((part) => part.id);
  if (ids.length === 0) return;
  liveRefreshes = liveRefreshes.then(() => swapInFresh(ids));
}

async function swapInFresh(ids) {
  let page;
  try {
    const resp = await fetch(window.location.href, { credentials: "same-origin" });
    if (!resp.ok) return;
    page = new DOMParser().parseFromString(await resp.text(), "text/html");
  } catch (err) {
    return; // The next event, or a reload, shows it.
  }
  for (const id of ids) {
    const part = document.getElementById(id);
    const fresh = page.getElementById(id);
    if (!part || !fresh) continue;
    part.replaceWith(fresh);
    fresh.querySelectorAll("time[datetime]").forEach(localTime);
  }
}

const unreadBadge = document.getElementById("unread");
if (unreadBadge) setUpLiveEvents(unreadBadge);
