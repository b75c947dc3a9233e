//! The OpenAPI document's frame: title, tags and the bearer security scheme.
//! Paths and schemas come from the handlers' `#[utoipa::path]` annotations.
//!
//! The errors that come from the shape of an operation rather than from its
//! handler (a malformed path, a bad query value, a body that is not JSON,
//! too large or of the wrong shape, a missing token) are added to every
//! operation that can answer them by [`ErrorResponses`], in one place, so
//! the document lists every status a route can answer and a new route
//! cannot forget one. Handlers document only their own: 403, 404, 409, ...
//! The 429 of the per-client rate limits goes on every operation in a
//! limited class ([`crate::rate_limit::class::Class::of`]).
//!
//! [`Links`] adds the OpenAPI links between operations (a posted tweet's id
//! feeds reading, editing, liking and deleting it; a new account's name
//! feeds its profile, following it and messaging it), also in one table,
//! so a client generator or a stateful tester such as schemathesis can
//! chain calls on real resources instead of guessing ids.

use axum::http::{HeaderMap, Method};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::rate_limit::class::Class;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chirp",
        description = "A Twitter-like social network built to stay fast when it gets popular. \
                       Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`; lists are \
                       `{\"items\": [...], \"next_cursor\": \"...\" | null}`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Sign-up, profiles, search"),
        (name = "sessions", description = "Log in and out"),
        (name = "tweets", description = "Post, read, edit, delete, reply"),
        (name = "likes", description = "The like button"),
        (name = "social", description = "Follow graph and follow requests"),
        (name = "notifications", description = "Notifications, listed and streamed live (SSE)"),
        (name = "messages", description = "Direct messages between two accounts"),
        (name = "timelines", description = "Home and user timelines"),
        (name = "search", description = "Hashtags"),
        (name = "categories", description = "Topics to post in"),
        (name = "operations", description = "Health checks"),
    )
)]
pub struct ApiDoc;

/// Declares `Authorization: Bearer TOKEN` as the scheme named `bearer`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from POST /api/sessions"))
                    .build(),
            ),
        );
    }
}

/// Adds the statuses an operation can answer because of its shape (see the
/// module comment), each with the error body, unless the handler's
/// annotation described them already. Applied to the finished document
/// (the routes are merged in after [`ApiDoc`]'s own modifiers run).
pub struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let on_api = path.starts_with("/api/");
            for (method, op) in [
                (Method::GET, &mut item.get),
                (Method::POST, &mut item.post),
                (Method::PUT, &mut item.put),
                (Method::PATCH, &mut item.patch),
                (Method::DELETE, &mut item.delete),
            ] {
                if let Some(op) = op {
                    let limited = Class::of(&method, path, &HeaderMap::new()).is_some();
                    add_shape_errors(op, on_api, limited);
                }
            }
        }
    }
}

fn add_shape_errors(op: &mut Operation, on_api: bool, limited: bool) {
    let params: Vec<ParameterIn> = op
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) => Some(p.parameter_in.clone()),
            RefOr::Ref(_) => None,
        })
        .collect();
    let mut statuses: Vec<(&str, &str)> = Vec::new();
    if params.contains(&ParameterIn::Path) {
        statuses.push((
            "400",
            "The path is malformed (e.g. an id that is not a number)",
        ));
    }
    if params.contains(&ParameterIn::Query) {
        statuses.push(("400", "A query parameter cannot be read"));
        statuses.push(("422", "A query parameter is out of range (e.g. `limit=0`)"));
    }
    if op.request_body.is_some() {
        statuses.push(("400", "The body is not valid JSON"));
        statuses.push((
            "413",
            "The body is larger than the limit (`CHIRP_BODY_LIMIT`)",
        ));
        statuses.push((
            "415",
            "The body is not sent as `Content-Type: application/json`",
        ));
        statuses.push((
            "422",
            "A field is missing, unknown, of the wrong type or breaks a rule",
        ));
    }
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        statuses.push((
            "401",
            "No token (code `unauthorized`: send `Authorization: Bearer TOKEN`) \
             or a token that is not valid: unknown, expired, revoked or malformed \
             (code `invalid_token`: log in again)",
        ));
    }
    if limited {
        statuses.push((
            "429",
            "Too many requests of this kind from this address (a rate limit); \
             try again after `Retry-After` seconds",
        ));
    }
    if on_api {
        statuses.push(("503", "The database is unavailable; try again shortly"));
    }
    for (status, description) in statuses {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        utoipa::openapi::Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                    )
                    .build()
                    .into()
            });
    }
}

/// One OpenAPI link: after `from` answers `status`, `to` can be called
/// with `params` (and `body`) taken from that answer or its request, in
/// OpenAPI's runtime expressions (`$response.body#/id`,
/// `$request.path.username`).
struct Follow {
    from: &'static str,
    status: &'static str,
    to: &'static str,
    params: &'static [(&'static str, &'static str)],
    body: Option<fn() -> serde_json::Value>,
}

const TWEET_ID: &[(&str, &str)] = &[("id", "$response.body#/id")];
const SAME_TWEET: &[(&str, &str)] = &[("id", "$request.path.id")];
const NEW_NAME: &[(&str, &str)] = &[("username", "$response.body#/username")];
const SAME_NAME: &[(&str, &str)] = &[("username", "$request.path.username")];

/// Every link, by operation id (the handler's name). What is created is
/// read, changed and deleted; what is deleted is read again (it must be
/// gone); a new account is looked at, followed and written to.
const FOLLOWS: &[Follow] = &[
    // A posted tweet: read it, its replies, edit, like, reply to, delete it.
    link("create_tweet", "201", "show_tweet", TWEET_ID),
    link("create_tweet", "201", "list_replies", TWEET_ID),
    link("create_tweet", "201", "edit_tweet", TWEET_ID),
    link("create_tweet", "201", "like", TWEET_ID),
    link("create_tweet", "201", "delete_tweet", TWEET_ID),
    Follow {
        body: Some(|| serde_json::json!({"text": "a reply", "reply_to": "$response.body#/id"})),
        ..link("create_tweet", "201", "create_tweet", &[])
    },
    link("edit_tweet", "200", "show_tweet", TWEET_ID),
    link("edit_tweet", "200", "delete_tweet", TWEET_ID),
    link(
        "like",
        "202",
        "show_tweet",
        &[("id", "$response.body#/tweet_id")],
    ),
    link("delete_tweet", "204", "show_tweet", SAME_TWEET),
    link("delete_tweet", "204", "list_replies", SAME_TWEET),
    link("delete_tweet", "204", "like", SAME_TWEET),
    // A new account: its profile, tweets, followers; follow it, write to it.
    link("create_account", "201", "show_account", NEW_NAME),
    link("create_account", "201", "account_tweets", NEW_NAME),
    link("create_account", "201", "followers", NEW_NAME),
    link("create_account", "201", "following", NEW_NAME),
    link("create_account", "201", "follow", NEW_NAME),
    link("create_account", "201", "follow_status", NEW_NAME),
    Follow {
        body: Some(|| serde_json::json!({"to": "$response.body#/username", "text": "hello"})),
        ..link("create_account", "201", "send", &[])
    },
    link(
        "create_account",
        "201",
        "conversation",
        &[("with", "$response.body#/username")],
    ),
    link(
        "login",
        "201",
        "show_account",
        &[("username", "$response.body#/account/username")],
    ),
    // Following: its state, the lists it shows in, unfollowing.
    link("follow", "200", "follow_status", SAME_NAME),
    link("follow", "200", "followers", SAME_NAME),
    link("follow", "200", "unfollow", SAME_NAME),
    link("unfollow", "204", "follow_status", SAME_NAME),
    link("show_account", "200", "follow", NEW_NAME),
    // A message: the conversation it is in, with its recipient.
    link(
        "send",
        "201",
        "conversation",
        &[("with", "$response.body#/to/username")],
    ),
    // A category: read it, list its tweets.
    link(
        "create_category",
        "201",
        "show_category",
        &[("slug", "$response.body#/slug")],
    ),
    link(
        "create_category",
        "201",
        "list_tweets",
        &[("category", "$response.body#/slug")],
    ),
];

const fn link(
    from: &'static str,
    status: &'static str,
    to: &'static str,
    params: &'static [(&'static str, &'static str)],
) -> Follow {
    Follow {
        from,
        status,
        to,
        params,
        body: None,
    }
}

/// Adds [`FOLLOWS`] to the finished document. A link whose operation or
/// response is missing is a mistake in the table, found by the tests.
pub struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let Some(id) = op.operation_id.clone() else {
                    continue;
                };
                for f in FOLLOWS.iter().filter(|f| f.from == id) {
                    let Some(RefOr::T(response)) = op.responses.responses.get_mut(f.status) else {
                        continue;
                    };
                    let mut builder = LinkBuilder::new().operation_id(f.to);
                    for (name, expr) in f.params {
                        builder = builder.parameter(*name, *expr);
                    }
                    builder = builder.request_body(f.body.map(|body| body()));
                    response
                        .links
                        .insert(f.to.to_owned(), builder.build().into());
                }
            }
        }
    }
}
