//! Two people at once, each in their own cookie jar: what one does (ask to
//! follow, accept, reply, mention, write) arrives on the other's open page
//! without a reload. The site relays the API's
//! notification stream (`/notifications/stream`); the script counts events
//! in the top bar's badge and swaps in the fresh notification list or
//! conversation. Every check that something arrived also checks that the
//! page was not reloaded to show it (`window.__stay` survives only on the
//! same document).

use super::*;

/// An event crosses the bus, the API's stream, the site's relay and one
/// page fetch; generous for a loaded CI machine.
const LIVE_WAIT: Duration = Duration::from_secs(10);

const SECRET: &str = "only for the people I know";
const HELLO: &str = "hi alice, thanks for letting me in";
const DRAFT: &str = "hello bob, ";
const REPLY: &str = "welcome!";

#[test]
fn follow_request_reply_mention_and_messages_arrive_without_reload() {
    let Some(chromium) = chromium() else { return };
    let _turn = one_browser_at_a_time();
    let site = Site::start();
    let browser = launch(&chromium);

    // Alice turns her account protected and writes one chirp behind it.
    let alice = open_tab(browser.new_tab(), DESKTOP);
    sign_up(&alice, &site, "alice", "Alice");
    post(&alice, SECRET);
    goto(&alice, &site.url("/settings"));
    click(&alice, "#protected");
    click_and_load(&alice, "form.settings button[type=submit]");
    wait_for_selector(&alice, "form.settings p.notice", WAIT);
    if js(&alice, "document.querySelector('#protected').checked") != Value::Bool(true) {
        fail(&alice, "the protected switch did not stay on after saving");
    }

    // She keeps her notifications open, still empty.
    goto(&alice, &site.url("/notifications"));
    wait_for_selector(&alice, "#live-notes li.empty", WAIT);
    stay_on_page(&alice);

    // Bob, in an incognito context, finds her chirps hidden and asks.
    let bob_context = browser
        .new_context()
        .expect("an incognito browser context for bob");
    let bob = open_tab(bob_context.new_tab(), DESKTOP);
    sign_up(&bob, &site, "bob", "Bob");
    goto(&bob, &site.url("/@alice"));
    wait_for_selector(&bob, "p.handle .lock", WAIT);
    wait_for_selector(&bob, "p.protected-note", WAIT);
    click(&bob, "form.follow button[type=submit]");
    wait_for_contains(&bob, "form.follow button[type=submit]", "Requested", WAIT);

    // Alice's open page shows the request, with its answer buttons.
    let accept = r#"#live-notes form[action="/follow-requests/bob/accept"] button"#;
    wait_for_selector(&alice, accept, LIVE_WAIT);
    wait_for_contains(&alice, "#live-notes li.note", "asked to follow you", WAIT);
    expect_unread(&alice, 1);
    expect_same_page(&alice, "the follow request");

    // Bob waits on his own page; her answer reaches his badge.
    goto(&bob, &site.url("/"));
    stay_on_page(&bob);
    click_and_load(&alice, accept);
    expect_location(&alice, "/notifications");
    expect_absent(&alice, accept);
    expect_unread(&bob, 1);
    expect_same_page(&bob, "the accepted request");
    goto(&bob, &site.url("/@alice"));
    wait_for_contains(&bob, "article.tweet p.text", SECRET, WAIT);
    expect_absent(&bob, "p.protected-note");

    // A reply, then a mention, land in her open list.
    let secret = tweet_id(&bob, SECRET);
    goto(&alice, &site.url("/notifications"));
    stay_on_page(&alice);
    goto(&bob, &site.url(&format!("/tweets/{secret}")));
    type_into(&bob, "form.compose #text", "glad to be in");
    click_and_load(&bob, "form.compose button[type=submit]");
    wait_for_contains(
        &alice,
        "#live-notes li.note",
        "replied to your chirp",
        LIVE_WAIT,
    );
    expect_same_page(&alice, "the reply");
    goto(&bob, &site.url("/"));
    post(&bob, "@alice thanks for having me");
    wait_for_contains(&alice, "#live-notes li.note", "mentioned you", LIVE_WAIT);
    expect_same_page(&alice, "the mention");

    // A conversation, both ends open. Alice starts a reply before bob's
    // message arrives; swapping in the new messages keeps her draft.
    goto(&alice, &site.url("/messages/bob"));
    wait_for_selector(&alice, "#live-messages li.empty", WAIT);
    type_into(&alice, "form.compose #text", DRAFT);
    stay_on_page(&alice);
    goto(&bob, &site.url("/messages/alice"));
    type_into(&bob, "form.compose #text", HELLO);
    click_and_load(&bob, "form.compose button[type=submit]");
    expect_location(&bob, "/messages/alice");
    wait_for_contains(&bob, "#live-messages li.message.mine", HELLO, WAIT);
    wait_for_contains(&alice, "#live-messages li.message", HELLO, LIVE_WAIT);
    expect_same_page(&alice, "bob's message");
    let draft = field_value(&alice, "form.compose #text");
    if draft != DRAFT {
        fail(
            &alice,
            &format!(
                "the reply being written reads {draft:?} after the message arrived, not {DRAFT:?}"
            ),
        );
    }

    // Her answer arrives on his open conversation.
    stay_on_page(&bob);
    type_into(&alice, "form.compose #text", REPLY);
    click_and_load(&alice, "form.compose button[type=submit]");
    let answer = format!("{DRAFT}{REPLY}");
    wait_for_contains(&alice, "#live-messages li.message.mine", &answer, WAIT);
    wait_for_contains(&bob, "#live-messages li.message", &answer, LIVE_WAIT);
    expect_same_page(&bob, "alice's answer");
    screenshot(&alice, "messages.png");

    // Her notifications, all of it, for the README.
    goto(&alice, &site.url("/notifications"));
    wait_for_contains(&alice, "#live-notes li.note", "sent you a message", WAIT);
    screenshot(&alice, "notifications.png");
}

/// Marks the document and waits until its event stream is open, so an
/// event from now on reaches this page, and a reload would show as a lost
/// mark.
#[track_caller]
fn stay_on_page(tab: &Tab) {
    js(tab, "window.__stay = 1");
    wait_until(
        tab,
        "the notification stream to open",
        LIVE_WAIT,
        || match try_js(
            tab,
            "document.getElementById('unread')?.dataset.stream ?? null",
        )? {
            Value::String(s) if s == "open" => Ok(()),
            other => Err(format!("stream state {other}")),
        },
    );
}

#[track_caller]
fn expect_same_page(tab: &Tab, what: &str) {
    if try_js(tab, "window.__stay === 1") != Ok(Value::Bool(true)) {
        fail(
            tab,
            &format!("the page was reloaded to show {what}; it should arrive in place"),
        );
    }
}

/// Waits until the top bar's badge shows `count` unread, visibly.
#[track_caller]
fn expect_unread(tab: &Tab, count: u64) {
    let read = r"(() => {
        const b = document.getElementById('unread');
        return b && !b.hidden ? b.firstChild.nodeValue.trim() : null;
    })()";
    wait_until(
        tab,
        &format!("the badge to show {count}"),
        LIVE_WAIT,
        || match try_js(tab, read)? {
            Value::String(s) if s == count.to_string() => Ok(()),
            other => Err(format!("the badge shows {other}")),
        },
    );
}
