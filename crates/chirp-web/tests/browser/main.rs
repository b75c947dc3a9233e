//! The web site in a real browser: headless Chromium driven over the DevTools
//! protocol (`headless_chrome`) against the real API and web router on SQLite.
//! This is the one place the site's script (the live character counter, likes
//! that update in place) and its layout on a phone are exercised; the `web`
//! tests cover the same pages without JavaScript.
//!
//! Chromium must be at /usr/bin/chromium (Debian's `chromium` package; CI
//! installs it). Without it the tests fail, unless `CHIRP_BROWSER_TESTS=optional`,
//! which skips them with a loud note. `CHIRP_SCREENSHOTS_DIR=DIR` saves PNGs of
//! the main pages there, to look at.
//!
//! Why plain `#[test]`s that build their own tokio runtime, not
//! `#[tokio::test]` with `spawn_blocking`: `headless_chrome` is synchronous (it
//! blocks on its own threads), so the test thread drives the browser while the
//! site runs on the runtime's worker threads. A failed check then panics right
//! where it happened, with its own message, instead of coming back as a
//! `JoinError`, and nothing has to be `'static` or moved into a closure.
//! API notes and traps: NOTES.md beside this file.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use headless_chrome::browser::Tab;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::protocol::cdp::types::Method;
use headless_chrome::{Browser, LaunchOptions};
use serde::{Deserialize, Serialize};
use serde_json::Value;

// The page tests' site start-up: the API and the web router on SQLite in a
// temporary directory, on a random port. Only `spawn` and `PASSWORD` are used
// here, hence the allow.
#[allow(dead_code)]
#[path = "../web/helpers.rs"]
mod helpers;
mod live;

/// Where Debian's `chromium` package puts the browser.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Switches that keep Chromium from reaching out to the network on its own
/// (updates, sync, first-run pages): this machine and CI reach only package
/// registries. `--no-sandbox` comes from `.sandbox(false)`: tests run as root.
const CHROMIUM_ARGS: [&str; 4] = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/// How long to wait for a page or an element before failing.
const WAIT: Duration = Duration::from_secs(15);
/// A like must show within this; it is one small fetch.
const LIKE_WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(50);

const DESKTOP: Viewport = Viewport {
    width: 1280,
    height: 900,
    device_scale_factor: 1.0,
    mobile: false,
};
/// An iPhone-sized screen; `mobile` makes Chromium honour the viewport meta tag.
const PHONE: Viewport = Viewport {
    width: 390,
    height: 844,
    device_scale_factor: 2.0,
    mobile: true,
};

/// 23 code points, so the counter shows "257 characters left" (280 - 23).
const FIRST: &str = "hello from alice #rusty";
const EDITED: &str = "hello again from alice #rusty";
/// Keeps `#rusty` alive after the first chirp is deleted, for the hashtag search.
const FOR_FOLLOWERS: &str = "alice says hi to followers #rusty";

/// The whole journey of two people, each in their own cookie jar.
#[test]
fn sign_up_post_like_edit_delete_follow_search() {
    let Some(chromium) = chromium() else { return };
    let _turn = one_browser_at_a_time();
    let site = Site::start();
    let browser = launch(&chromium);

    // Alice, in the browser's default context.
    let alice = open_tab(browser.new_tab(), DESKTOP);
    sign_up(&alice, &site, "alice", "Alice");

    // The counter shows characters left, counted as the server counts
    // them; past 280 it says how many too many and the button is off.
    wait_for_text(&alice, "#text-count", "280 characters left", WAIT);
    type_into(&alice, "form.compose #text", &"x".repeat(281));
    wait_for_text(&alice, "#text-count", "1 character too many", WAIT);
    if js(
        &alice,
        "document.querySelector('form.compose button[type=submit]').disabled",
    ) != Value::Bool(true)
    {
        fail(&alice, "the Chirp button stays enabled past 280 characters");
    }
    clear_field(&alice, "form.compose #text");
    type_into(&alice, "form.compose #text", FIRST);
    wait_for_text(&alice, "#text-count", "257 characters left", WAIT);
    if js(
        &alice,
        "document.querySelector('form.compose button[type=submit]').disabled",
    ) != Value::Bool(false)
    {
        fail(&alice, "the Chirp button stays disabled once the text fits");
    }
    click_and_load(&alice, "form.compose button[type=submit]");
    expect_location(&alice, "/");
    let id = tweet_id(&alice, FIRST);
    wait_for_selector(
        &alice,
        &format!(r#"#t{id} p.text a[href="/tags/rusty"]"#),
        WAIT,
    );

    // On a desktop the side column stands beside the timeline.
    let beside = js(
        &alice,
        r#"(() => {
            const feed = document.querySelector('.feed').getBoundingClientRect();
            const side = document.querySelector('aside.side').getBoundingClientRect();
            return side.left >= feed.right && side.top < feed.bottom;
        })()"#,
    );
    if beside != Value::Bool(true) {
        fail(
            &alice,
            "on a desktop the side column should stand beside the timeline",
        );
    }

    // Liking updates the count in place: a page load would drop `__stay`.
    js(&alice, "window.__stay = 1");
    click(&alice, &format!("#t{id} form.like button.like"));
    wait_for_text(&alice, &format!("#likes-{id}"), "1", LIKE_WAIT);
    if try_js(&alice, "window.__stay === 1") != Ok(Value::Bool(true)) {
        fail(
            &alice,
            "liking loaded a new page; the count should update in place",
        );
    }
    // The heart fills ("liked") and pops ("pop", still under reduced
    // motion, where the style sheet leaves the animation out); the hidden
    // noun follows the count, so the button reads "Like, 1 like".
    let button = format!("document.querySelector('#t{id} button.like')");
    let state = js(
        &alice,
        &format!(
            "({{ liked: {button}.classList.contains('liked'), pop: {button}.classList.contains('pop'), \
               name: {button}.textContent.trim(), svg: !!{button}.querySelector('svg.heart') }})"
        ),
    );
    if state["liked"] != Value::Bool(true)
        || state["pop"] != Value::Bool(true)
        || state["svg"] != Value::Bool(true)
        || state["name"] != Value::String("Like, 1 like".into())
    {
        fail(&alice, &format!("after a like in place: {state}"));
    }

    // Edit: the form holds the old text; saving shows the new one, marked edited.
    click_and_load(&alice, &format!("#t{id} a.edit"));
    expect_location(&alice, &format!("/tweets/{id}/edit"));
    let draft = field_value(&alice, "form.edit #text");
    if draft.trim() != FIRST {
        fail(
            &alice,
            &format!("the edit form holds {draft:?}, not {FIRST:?}"),
        );
    }
    clear_field(&alice, "form.edit #text");
    type_into(&alice, "form.edit #text", EDITED);
    click_and_load(&alice, "form.edit button[type=submit]");
    expect_location(&alice, &format!("/tweets/{id}"));
    wait_for_contains(&alice, "main p.text", EDITED, WAIT);
    wait_for_selector(&alice, "main .edited", WAIT);
    screenshot(&alice, "tweet.png");

    // Delete, after a confirmation page.
    click_and_load(&alice, &format!("#t{id} a.delete"));
    expect_location(&alice, &format!("/tweets/{id}/delete"));
    click_and_load(&alice, "form.delete button[type=submit]");
    expect_location(&alice, "/");
    expect_absent(&alice, &format!("#t{id}"));
    if texts(&alice, "p.text").iter().any(|t| t.contains(EDITED)) {
        fail(&alice, "the deleted chirp is still on Home");
    }

    let hi = post(&alice, FOR_FOLLOWERS);
    screenshot(&alice, "home.png");
    click_and_load(&alice, "form.logout button[type=submit]");
    wait_for_selector(&alice, r#"a[href="/login"]"#, WAIT);

    // Bob, in an incognito context: his own cookies, nothing of alice's.
    let bob_context = browser
        .new_context()
        .expect("an incognito browser context for bob");
    let bob = open_tab(bob_context.new_tab(), DESKTOP);
    sign_up(&bob, &site, "bob", "Bob");
    goto(&bob, &site.url("/@alice"));
    wait_for_text(&bob, "form.follow button[type=submit]", "Follow", WAIT);
    // Works whether following reloads the profile or updates it in place.
    click(&bob, "form.follow button[type=submit]");
    wait_for_text(&bob, "form.follow button[type=submit]", "Unfollow", WAIT);
    screenshot(&bob, "profile.png");
    goto(&bob, &site.url("/"));
    wait_for_contains(&bob, &format!("#t{hi} p.text"), FOR_FOLLOWERS, WAIT);

    // Search from the box in the top bar (it has no button: Enter submits).
    type_into(&bob, "form.search #q", "followers");
    mark_document(&bob);
    if let Err(e) = bob.press_key("Enter") {
        fail(&bob, &format!("pressing Enter in the search box: {e:#}"));
    }
    wait_for_new_document(&bob, "the search results");
    expect_location(&bob, "/search?q=followers");
    wait_for_contains(&bob, "section#search-tweets", FOR_FOLLOWERS, WAIT);
    screenshot(&bob, "search.png");
    goto(&bob, &site.url("/search?q=ali"));
    wait_for_selector(&bob, r#"section#search-accounts a[href="/@alice"]"#, WAIT);
    goto(&bob, &site.url("/search?q=rus"));
    wait_for_selector(
        &bob,
        r#"section#search-hashtags a[href="/tags/rusty"]"#,
        WAIT,
    );

    set_viewport(&bob, PHONE);
    goto(&bob, &site.url("/"));
    screenshot(&bob, "home-phone.png");
}

/// On a 390 px wide phone nothing sticks out sideways and text stays a
/// readable size, even with a long unbroken word in a chirp.
#[test]
fn phone_sized_window_is_readable() {
    let Some(chromium) = chromium() else { return };
    let _turn = one_browser_at_a_time();
    let site = Site::start();
    let browser = launch(&chromium);
    let tab = open_tab(browser.new_tab(), PHONE);

    sign_up(&tab, &site, "carol", "Carol on her phone");
    post(
        &tab,
        "phones wrap long words too: pneumonoultramicroscopicsilicovolcanoconiosis-and-then-some",
    );

    // The side column goes below the timeline on a phone.
    let below = js(
        &tab,
        r#"(() => {
            const feed = document.querySelector('.feed').getBoundingClientRect();
            const side = document.querySelector('aside.side').getBoundingClientRect();
            return side.top >= feed.bottom - 1;
        })()"#,
    );
    if below != Value::Bool(true) {
        fail(
            &tab,
            "on a phone the side column should be below the timeline",
        );
    }

    let layout = js(
        &tab,
        r#"(() => {
            const width = window.innerWidth;
            const sticking_out = [...document.querySelectorAll(`header.top, header.top nav > *,
                main, form.compose, form.compose textarea, form.compose button,
                article.tweet, article.tweet p.text`)]
                .filter(e => { const r = e.getBoundingClientRect(); return r.left < -1 || r.right > width + 1; })
                .map(e => e.outerHTML.slice(0, 80));
            const text = document.querySelector('article.tweet p.text');
            return {
                width,
                scroll_width: document.documentElement.scrollWidth,
                sticking_out,
                text_px: text ? parseFloat(getComputedStyle(text).fontSize) : 0,
            };
        })()"#,
    );
    let width = layout["width"].as_u64().unwrap_or_default();
    let scroll_width = layout["scroll_width"].as_u64().unwrap_or_default();
    let text_px = layout["text_px"].as_f64().unwrap_or_default();
    let sticking_out = layout["sticking_out"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if width != u64::from(PHONE.width) {
        fail(
            &tab,
            &format!(
                "the page is {width} px wide on a {} px phone: is the viewport meta tag there?",
                PHONE.width
            ),
        );
    }
    if scroll_width > width {
        fail(
            &tab,
            &format!("the page scrolls sideways: {scroll_width} px of content in {width} px"),
        );
    }
    if !sticking_out.is_empty() {
        fail(
            &tab,
            &format!("these stick out of the screen: {sticking_out:?}"),
        );
    }
    // The logged-in top bar fits on at most two rows, "Log out" not alone.
    let rows = js(
        &tab,
        r#"(() => {
            const tops = new Map();
            for (const e of document.querySelectorAll('header.top nav > *')) {
                const r = e.getBoundingClientRect();
                if (r.width === 0 || r.height === 0) continue;
                const top = Math.round(r.top + r.height / 2);
                const row = [...tops.keys()].find(t => Math.abs(t - top) < 12) ?? top;
                tops.set(row, (tops.get(row) || 0) + 1);
            }
            const logout = document.querySelector('header.top form.logout').getBoundingClientRect();
            const logoutRow = [...tops.keys()].find(t => Math.abs(t - (logout.top + logout.height / 2)) < 12);
            return { rows: tops.size, alone: tops.get(logoutRow) === 1 };
        })()"#,
    );
    if rows["rows"].as_u64().unwrap_or(99) > 2 || rows["alone"] == Value::Bool(true) {
        fail(
            &tab,
            &format!("the phone's top bar should fit on two rows, Log out not alone: {rows}"),
        );
    }
    if text_px < 14.0 {
        fail(
            &tab,
            &format!("chirp text is {text_px} px; at least 14 px reads on a phone"),
        );
    }
}

/// WCAG AA contrast for every piece of text (4.5:1, or 3:1 for large
/// text) against the background it sits on, a label for every form field,
/// and a visible focus ring when moving through a page with the keyboard.
#[test]
fn pages_are_accessible() {
    let Some(chromium) = chromium() else { return };
    let _turn = one_browser_at_a_time();
    let site = Site::start();
    let browser = launch(&chromium);
    let tab = open_tab(browser.new_tab(), DESKTOP);

    sign_up(&tab, &site, "dana", "Dana");
    let id = post(&tab, "reading about #contrast with @dana");
    // Erin gives dana notifications and a conversation to look at.
    click_and_load(&tab, "form.logout button[type=submit]");
    sign_up(&tab, &site, "erin", "Erin");
    goto(&tab, &site.url("/@dana"));
    click(&tab, "form.follow button[type=submit]");
    wait_for_contains(&tab, "form.follow button[type=submit]", "Unfollow", WAIT);
    goto(&tab, &site.url("/messages/dana"));
    type_into(
        &tab,
        "form.compose #text",
        "is the contrast good enough, @dana?",
    );
    click_and_load(&tab, "form.compose button[type=submit]");
    click_and_load(&tab, "form.logout button[type=submit]");
    log_in(&tab, &site, "dana");
    let pages = [
        "/".to_owned(),
        "/public".to_owned(),
        "/@dana".to_owned(),
        "/@dana/followers".to_owned(),
        format!("/tweets/{id}"),
        format!("/tweets/{id}/edit"),
        "/search?q=contrast".to_owned(),
        "/search".to_owned(),
        "/settings".to_owned(),
        "/c".to_owned(),
        "/notifications".to_owned(),
        "/messages".to_owned(),
        "/messages/erin".to_owned(),
    ];
    let mut problems = Vec::new();
    for page in &pages {
        goto(&tab, &site.url(page));
        let found = js(&tab, ACCESSIBILITY_PROBLEMS);
        for p in found.as_array().cloned().unwrap_or_default() {
            problems.push(format!("{page}: {}", p.as_str().unwrap_or_default()));
        }
    }
    // The same for a visitor: the welcome card, log in, sign up.
    click_and_load(&tab, "form.logout button[type=submit]");
    for page in ["/", "/login", "/signup"] {
        goto(&tab, &site.url(page));
        let found = js(&tab, ACCESSIBILITY_PROBLEMS);
        for p in found.as_array().cloned().unwrap_or_default() {
            problems.push(format!("{page}: {}", p.as_str().unwrap_or_default()));
        }
    }
    if !problems.is_empty() {
        fail(
            &tab,
            &format!("accessibility problems:\n{}", problems.join("\n")),
        );
    }

    // Keyboard: the first Tab reaches the skip link, shown on screen; the
    // next one the brand link, with a focus ring.
    goto(&tab, &site.url("/"));
    for (step, expected) in [("skip", "a.skip"), ("brand", "a.brand")] {
        if let Err(e) = tab.press_key("Tab") {
            fail(&tab, &format!("pressing Tab ({step}): {e:#}"));
        }
        let focus = js(
            &tab,
            &format!(
                r#"(() => {{
                    const e = document.activeElement;
                    const r = e.getBoundingClientRect();
                    const s = getComputedStyle(e);
                    return {{
                        right: e.matches({expected}),
                        on_screen: r.left >= 0 && r.top >= 0 && r.width > 0,
                        ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
                    }};
                }})()"#,
                expected = js_str(expected)
            ),
        );
        if focus != serde_json::json!({"right": true, "on_screen": true, "ring": true}) {
            fail(
                &tab,
                &format!("Tab {step}: expected a visible, ringed `{expected}`, got {focus}"),
            );
        }
    }
}

/// Lists text below WCAG AA contrast and form fields without a label on
/// the current page. Colours are the computed ones; the background is the
/// nearest opaque one up the tree.
const ACCESSIBILITY_PROBLEMS: &str = r#"(() => {
    const channel = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const rgba = s => { const v = s.match(/[\d.]+/g).map(Number); return v.length === 3 ? [...v, 1] : v; };
    const background = el => {
        for (let e = el; e; e = e.parentElement) {
            const c = rgba(getComputedStyle(e).backgroundColor);
            if (c[3] > 0) return c;
        }
        return [255, 255, 255, 1];
    };
    const problems = [];
    for (const el of document.querySelectorAll('body *')) {
        const hasText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!hasText || el.getClientRects().length === 0 || el.closest('.visually-hidden, .skip')) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden') continue;
        const fg = luminance(rgba(style.color)), bg = luminance(background(el));
        const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        const px = parseFloat(style.fontSize);
        const large = px >= 24 || (Number(style.fontWeight) >= 700 && px >= 18.66);
        const needed = large ? 3 : 4.5;
        if (ratio < needed) {
            const what = el.textContent.trim().replace(/\s+/g, ' ').slice(0, 30);
            problems.push(`${el.tagName.toLowerCase()}.${el.className} "${what}": contrast ${ratio.toFixed(2)} < ${needed}`);
        }
    }
    for (const f of document.querySelectorAll('input:not([type=hidden]), textarea, select')) {
        if (!(f.labels && f.labels.length) && !f.getAttribute('aria-label') && !f.getAttribute('aria-labelledby')) {
            problems.push(`field ${f.id || f.name} has no label`);
        }
    }
    return problems;
})()"#;

// ---------------------------------------------------------------------------
// The site and the browser.

/// A running site and the runtime that serves it. The runtime is declared
/// first, so the server stops before its temporary directory is removed.
struct Site {
    _runtime: tokio::runtime::Runtime,
    site: helpers::TestSite,
}

impl Site {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the site");
        let site = runtime.block_on(helpers::spawn());
        Self {
            _runtime: runtime,
            site,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.site.base)
    }
}

/// The browser to test with, or `None` (after a loud note) when it is missing
/// and `CHIRP_BROWSER_TESTS=optional`. CI installs Chromium, so there a missing
/// browser is a failure, never a silent skip.
fn chromium() -> Option<PathBuf> {
    let path = Path::new(CHROMIUM);
    if path.is_file() {
        return Some(path.to_owned());
    }
    if std::env::var("CHIRP_BROWSER_TESTS").is_ok_and(|v| v == "optional") {
        let bar = "!".repeat(72);
        eprintln!(
            "\n{bar}\nSKIPPED: no Chromium at {CHROMIUM}, and CHIRP_BROWSER_TESTS=optional.\n\
             Install Debian's `chromium` package to run the browser tests.\n{bar}\n"
        );
        return None;
    }
    panic!(
        "no Chromium at {CHROMIUM}: install Debian's `chromium` package (CI does), \
         or set CHIRP_BROWSER_TESTS=optional to skip the browser tests"
    );
}

/// Two Chromiums at once on a two-core machine make timeouts flaky; the tests
/// of this file take turns. A failed test must not stop the next one, hence
/// the poison is ignored.
fn one_browser_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A headless Chromium of its own, killed when the `Browser` is dropped.
fn launch(chromium: &Path) -> Browser {
    let options = LaunchOptions::default_builder()
        .path(Some(chromium.to_owned()))
        // Chromium refuses to start as root with its sandbox on.
        .sandbox(false)
        .headless(true)
        .window_size(Some((DESKTOP.width, DESKTOP.height)))
        .args(CHROMIUM_ARGS.iter().map(|arg| OsStr::new(*arg)).collect())
        // headless_chrome drops the connection after this long without a
        // message from Chromium (default 30 s), and waits this long for any
        // one answer. Generous, for a loaded CI machine.
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .expect("valid launch options");
    Browser::new(options).unwrap_or_else(|e| panic!("launching {}: {e:#}", chromium.display()))
}

/// A new tab (from a browser or an incognito context) set to `viewport`.
fn open_tab<E: std::fmt::Display>(tab: Result<Arc<Tab>, E>, viewport: Viewport) -> Arc<Tab> {
    let tab = tab.unwrap_or_else(|e| panic!("opening a tab: {e:#}"));
    tab.set_default_timeout(WAIT);
    set_viewport(&tab, viewport);
    tab
}

/// `Emulation.setDeviceMetricsOverride` with just its four required fields.
/// A window size is not enough: headless Chromium keeps windows at least
/// 500 px wide and takes some height off, so the page's viewport is set
/// directly. headless_chrome's generated struct for this method lists every
/// optional field of its bundled protocol, which changes between releases, so
/// the method is spelled out here.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct Viewport {
    width: u32,
    height: u32,
    device_scale_factor: f64,
    mobile: bool,
}

/// The method's answer: an empty object.
#[derive(Debug, Deserialize)]
struct NoAnswer {}

impl Method for Viewport {
    const NAME: &'static str = "Emulation.setDeviceMetricsOverride";
    type ReturnObject = NoAnswer;
}

fn set_viewport(tab: &Tab, viewport: Viewport) {
    if let Err(e) = tab.call_method(viewport) {
        panic!("setting the viewport to {viewport:?}: {e:#}");
    }
}

/// Saves a PNG of what the tab shows as `name` in `CHIRP_SCREENSHOTS_DIR`, if set.
fn screenshot(tab: &Tab, name: &str) {
    let Some(dir) = std::env::var_os("CHIRP_SCREENSHOTS_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("create CHIRP_SCREENSHOTS_DIR");
    wait_until(tab, "the page to finish loading", WAIT, || {
        match try_js(tab, "document.readyState")? {
            Value::String(state) if state == "complete" => Ok(()),
            other => Err(format!("readyState {other}")),
        }
    });
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap_or_else(|e| fail(tab, &format!("taking screenshot {name}: {e:#}")));
    let path = dir.join(name);
    std::fs::write(&path, png).expect("write the screenshot");
    eprintln!("screenshot: {}", path.display());
}

// ---------------------------------------------------------------------------
// Steps of a person using the site.

/// Signs up through /signup; the site signs the new account in and shows Home.
#[track_caller]
fn sign_up(tab: &Tab, site: &Site, username: &str, display_name: &str) {
    goto(tab, &site.url("/signup"));
    type_into(tab, "#username", username);
    type_into(tab, "#display_name", display_name);
    type_into(tab, "#password", helpers::PASSWORD);
    click_and_load(tab, "form.auth button[type=submit]");
    expect_location(tab, "/");
    wait_for_selector(tab, "form.compose #text", WAIT);
}

/// Logs in through /login as `username` (made by `sign_up`).
#[track_caller]
fn log_in(tab: &Tab, site: &Site, username: &str) {
    goto(tab, &site.url("/login"));
    type_into(tab, "#username", username);
    type_into(tab, "#password", helpers::PASSWORD);
    click_and_load(tab, "form.auth button[type=submit]");
    expect_location(tab, "/");
    wait_for_selector(tab, "form.compose #text", WAIT);
}

/// Posts `text` from the compose box on Home; returns the new chirp's id.
#[track_caller]
fn post(tab: &Tab, text: &str) -> u64 {
    type_into(tab, "form.compose #text", text);
    click_and_load(tab, "form.compose button[type=submit]");
    expect_location(tab, "/");
    tweet_id(tab, text)
}

/// The id of the chirp on the page whose text contains `text` (articles are
/// `article.tweet#t{ID}`).
#[track_caller]
fn tweet_id(tab: &Tab, text: &str) -> u64 {
    let find = format!(
        r#"(() => {{
            const a = [...document.querySelectorAll('article.tweet')]
                .find(a => (a.querySelector('p.text')?.textContent ?? '').includes({text}));
            return a ? a.id : null;
        }})()"#,
        text = js_str(text)
    );
    let id = wait_until(
        tab,
        &format!("a chirp reading {text:?}"),
        WAIT,
        || match try_js(tab, &find)? {
            Value::String(id) => Ok(id),
            _ => Err("no article.tweet has that text".to_owned()),
        },
    );
    match id.strip_prefix('t').and_then(|n| n.parse().ok()) {
        Some(id) => id,
        None => fail(
            tab,
            &format!("the chirp's article has id {id:?}, not t{{ID}}"),
        ),
    }
}

// ---------------------------------------------------------------------------
// Driving the page.

/// Marks the current document, so `wait_for_new_document` can tell when
/// another one has replaced it. headless_chrome's `wait_until_navigated` only
/// follows lifecycle events, and after a click it can return before the
/// navigation has even started.
#[track_caller]
fn mark_document(tab: &Tab) {
    js(tab, "window.__chirpOldPage = true");
}

#[track_caller]
fn wait_for_new_document(tab: &Tab, what: &str) {
    wait_until(tab, what, WAIT, || {
        // Errors are normal mid-navigation: the old page's context is gone.
        match try_js(
            tab,
            "window.__chirpOldPage !== true && document.readyState === 'complete'",
        )? {
            Value::Bool(true) => Ok(()),
            _ => Err("still the old page, or the new one is loading".to_owned()),
        }
    });
}

#[track_caller]
fn goto(tab: &Tab, url: &str) {
    mark_document(tab);
    if let Err(e) = tab.navigate_to(url) {
        fail(tab, &format!("navigating to {url}: {e:#}"));
    }
    wait_for_new_document(tab, &format!("{url} to load"));
}

/// Clicks something that loads a new page (a link, a form's button) and
/// waits for that page.
#[track_caller]
fn click_and_load(tab: &Tab, css: &str) {
    mark_document(tab);
    click(tab, css);
    wait_for_new_document(tab, &format!("the page after clicking `{css}`"));
}

/// A real mouse click in the middle of the element (scrolled into view).
#[track_caller]
fn click(tab: &Tab, css: &str) {
    let clicked = tab
        .wait_for_element_with_custom_timeout(css, WAIT)
        .and_then(|e| e.click().map(|_| ()));
    if let Err(e) = clicked {
        fail(tab, &format!("clicking `{css}`: {e:#}"));
    }
}

/// Clicks the field and types `text` after what it already holds, as the
/// keyboard's text input (`Input.insertText`: one call, and the page sees
/// the same `input` events as from typing; key by key takes ~0.4 s a key
/// in headless Chromium here).
#[track_caller]
fn type_into(tab: &Tab, css: &str, text: &str) {
    let typed = tab
        .wait_for_element_with_custom_timeout(css, WAIT)
        .and_then(|e| e.click().map(|_| ()))
        .and_then(|()| tab.send_character(text).map(|_| ()));
    if let Err(e) = typed {
        fail(tab, &format!("typing into `{css}`: {e:#}"));
    }
}

/// Empties a field the way a script would, telling listeners (the counter).
#[track_caller]
fn clear_field(tab: &Tab, css: &str) {
    js(
        tab,
        &format!(
            r#"(() => {{
                const e = document.querySelector({css});
                e.value = '';
                e.dispatchEvent(new Event('input', {{ bubbles: true }}));
                return true;
            }})()"#,
            css = js_str(css)
        ),
    );
}

#[track_caller]
fn field_value(tab: &Tab, css: &str) -> String {
    let expr = format!("document.querySelector({})?.value", js_str(css));
    match js(tab, &expr) {
        Value::String(value) => value,
        _ => fail(tab, &format!("no field matches `{css}`")),
    }
}

// ---------------------------------------------------------------------------
// Reading the page.

/// Waits until the first element matching `css` has exactly `expected` as
/// its text (whitespace collapsed and trimmed).
#[track_caller]
fn wait_for_text(tab: &Tab, css: &str, expected: &str, timeout: Duration) {
    let read = format!(
        r"(() => {{
            const e = document.querySelector({css});
            return e && e.textContent.replace(/\s+/g, ' ').trim();
        }})()",
        css = js_str(css)
    );
    let what = format!("`{css}` to read {expected:?}");
    wait_until(tab, &what, timeout, || match try_js(tab, &read)? {
        Value::String(text) if text == expected => Ok(()),
        Value::String(text) => Err(format!("it reads {text:?}")),
        _ => Err(format!("no element matches `{css}`")),
    });
}

/// Waits until some element matching `css` has `needle` in its text.
#[track_caller]
fn wait_for_contains(tab: &Tab, css: &str, needle: &str, timeout: Duration) {
    let what = format!("an element `{css}` containing {needle:?}");
    wait_until(tab, &what, timeout, || {
        let found = try_texts(tab, css)?;
        if found.iter().any(|t| t.contains(needle)) {
            Ok(())
        } else {
            Err(format!("{} match, reading {found:?}", found.len()))
        }
    });
}

#[track_caller]
fn wait_for_selector(tab: &Tab, css: &str, timeout: Duration) {
    let expr = format!("document.querySelector({}) !== null", js_str(css));
    wait_until(
        tab,
        &format!("an element `{css}`"),
        timeout,
        || match try_js(tab, &expr)? {
            Value::Bool(true) => Ok(()),
            _ => Err("none yet".to_owned()),
        },
    );
}

#[track_caller]
fn expect_absent(tab: &Tab, css: &str) {
    let expr = format!("document.querySelectorAll({}).length", js_str(css));
    let count = js(tab, &expr);
    if count.as_u64() != Some(0) {
        fail(tab, &format!("expected no `{css}`, found {count}"));
    }
}

/// Path and query of the page the tab shows. Read from the page itself:
/// `Tab::get_url` follows target events and can lag behind.
#[track_caller]
fn expect_location(tab: &Tab, expected: &str) {
    let here = js(tab, "location.pathname + location.search");
    if here.as_str() != Some(expected) {
        fail(tab, &format!("expected to be at {expected}, but at {here}"));
    }
}

#[track_caller]
fn texts(tab: &Tab, css: &str) -> Vec<String> {
    try_texts(tab, css).unwrap_or_else(|e| fail(tab, &e))
}

/// The text of every element matching `css`, whitespace collapsed.
fn try_texts(tab: &Tab, css: &str) -> Result<Vec<String>, String> {
    let expr = format!(
        r"[...document.querySelectorAll({})].map(e => e.textContent.replace(/\s+/g, ' ').trim())",
        js_str(css)
    );
    serde_json::from_value(try_js(tab, &expr)?).map_err(|e| format!("not a list of texts: {e}"))
}

/// Calls `probe` until it answers `Ok`, for up to `timeout`; on timeout fails
/// with what the last probe saw.
#[track_caller]
fn wait_until<T>(
    tab: &Tab,
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => fail(
                tab,
                &format!("gave up after {timeout:?} waiting for {what}; last: {seen}"),
            ),
            Err(_) => thread::sleep(POLL),
        }
    }
}

/// Evaluates a JavaScript expression in the page and returns its value as
/// JSON (`undefined` becomes `null`).
///
/// `Tab::evaluate` hands back objects without their value and drops thrown
/// exceptions, so the expression is wrapped to always answer a JSON string:
/// `{ok: value}` or `{thrown: message}`.
fn try_js(tab: &Tab, expr: &str) -> Result<Value, String> {
    let script = format!(
        "JSON.stringify((() => {{ try {{ return {{ ok: ({expr}) ?? null }}; }} \
         catch (e) {{ return {{ thrown: String(e) }}; }} }})())"
    );
    let object = tab
        .evaluate(&script, false)
        .map_err(|e| format!("evaluate failed: {e:#}"))?;
    let json = object
        .value
        .as_ref()
        .and_then(Value::as_str)
        .ok_or_else(|| "evaluate gave no value".to_owned())?;
    let mut answer: Value =
        serde_json::from_str(json).map_err(|e| format!("the page answered bad JSON: {e}"))?;
    if let Some(thrown) = answer.get("thrown") {
        return Err(format!("the script threw {thrown}"));
    }
    Ok(answer["ok"].take())
}

#[track_caller]
fn js(tab: &Tab, expr: &str) -> Value {
    try_js(tab, expr).unwrap_or_else(|e| fail(tab, &format!("running `{expr}`: {e}")))
}

/// `s` as a JavaScript string literal (a JSON string is one).
fn js_str(s: &str) -> String {
    Value::from(s).to_string()
}

/// Fails the test with `msg`, the page's address and the start of its text,
/// which usually say at once what went wrong.
#[track_caller]
fn fail(tab: &Tab, msg: &str) -> ! {
    panic!("{msg}\n{}", page_context(tab));
}

fn page_context(tab: &Tab) -> String {
    let url = match try_js(tab, "location.href") {
        Ok(Value::String(url)) => url,
        _ => tab.get_url(),
    };
    let text = match try_js(tab, "document.body ? document.body.innerText : '(no body)'") {
        Ok(Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(e) => format!("(could not read the page: {e})"),
    };
    let snippet: String = text.chars().take(1500).collect();
    format!(
        "  page: {url}\n  text: {}",
        snippet.trim().replace('\n', "\n        ")
    )
}
