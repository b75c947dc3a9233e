//! Operations: health checks, the OpenAPI document and the interactive docs.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, both};

/// Every route of the router: path and methods, and whether it needs a login.
const ROUTES: &[(&str, &[(&str, bool)])] = &[
    ("/api/accounts", &[("get", false), ("post", false)]),
    ("/api/accounts/{username}", &[("get", false)]),
    ("/api/accounts/{username}/tweets", &[("get", false)]),
    (
        "/api/accounts/{username}/follow",
        &[("get", true), ("post", true), ("delete", true)],
    ),
    ("/api/accounts/{username}/followers", &[("get", false)]),
    ("/api/accounts/{username}/following", &[("get", false)]),
    ("/api/sessions", &[("post", false)]),
    ("/api/sessions/current", &[("delete", true)]),
    ("/api/me", &[("get", true), ("patch", true)]),
    ("/api/tweets", &[("get", false), ("post", true)]),
    (
        "/api/tweets/{id}",
        &[("get", false), ("patch", true), ("delete", true)],
    ),
    ("/api/tweets/{id}/replies", &[("get", false)]),
    ("/api/tweets/{id}/likes", &[("post", false)]),
    ("/api/hashtags", &[("get", false)]),
    ("/api/timelines/home", &[("get", true)]),
    ("/api/categories", &[("get", false), ("post", true)]),
    ("/api/categories/{slug}", &[("get", false)]),
    ("/api/follow-requests", &[("get", true)]),
    ("/api/follow-requests/{username}/accept", &[("post", true)]),
    ("/api/follow-requests/{username}/reject", &[("post", true)]),
    ("/api/notifications", &[("get", true)]),
    ("/api/notifications/read", &[("post", true)]),
    ("/api/notifications/stream", &[("get", true)]),
    ("/api/messages", &[("get", true), ("post", true)]),
    ("/api/conversations", &[("get", true)]),
    ("/healthz", &[("get", false)]),
    ("/readyz", &[("get", false)]),
    ("/logs", &[("get", false)]),
    ("/metrics", &[("get", false)]),
];

/// Operations open to anyone whose answer depends on who asks (a
/// protected account's tweets are its followers').
const OPTIONAL_LOGIN: &[(&str, &str)] = &[
    ("/api/tweets", "get"),
    ("/api/tweets/{id}", "get"),
    ("/api/tweets/{id}/replies", "get"),
    ("/api/tweets/{id}/likes", "post"),
    ("/api/accounts/{username}/tweets", "get"),
];

async fn health_checks_answer_ok(app: TestApp) {
    for path in ["/healthz", "/readyz"] {
        let reply = app.get(path).await.expect(200);
        assert_eq!(reply.body, json!({"status": "ok"}), "{path}");
    }
}

async fn openapi_documents_every_route(app: TestApp) {
    let doc = app.get("/api/openapi.json").await.expect(200).body;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "chirp");
    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeMap<&str, BTreeSet<&str>> = paths
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .expect("path item")
                .keys()
                .map(String::as_str)
                .filter(|k| {
                    ["get", "post", "put", "patch", "delete", "head", "options"].contains(k)
                })
                .collect();
            (path.as_str(), methods)
        })
        .collect();
    let expected: BTreeMap<&str, BTreeSet<&str>> = ROUTES
        .iter()
        .map(|(path, ops)| (*path, ops.iter().map(|(m, _)| *m).collect()))
        .collect();
    assert_eq!(documented, expected);

    // Operations that need a login say so; those a login only changes
    // (what a viewer may see) list no security as one choice; the rest
    // have none.
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    for (path, ops) in ROUTES {
        for (method, auth) in *ops {
            let op = &doc["paths"][path][method];
            let choices = op["security"].as_array().cloned().unwrap_or_default();
            let bearer = choices.iter().any(|r| r.get("bearer").is_some());
            let optional = choices
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
            let required = bearer && !optional;
            assert_eq!(required, *auth, "security of {method} {path}: {choices:?}");
            if OPTIONAL_LOGIN.contains(&(*path, *method)) {
                assert!(bearer && optional, "{method} {path} takes a login if given");
            } else if !auth {
                assert!(choices.is_empty(), "{method} {path}: {choices:?}");
            }
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
        }
    }
}

/// The OpenAPI links (what a stateful tester chains) name operations that
/// exist, parameters those operations take, and come from answers the
/// source operation documents.
async fn openapi_links_lead_to_real_operations(app: TestApp) {
    let doc = app.get("/api/openapi.json").await.expect(200).body;
    let mut operations = BTreeMap::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("path item").values() {
            if let Some(id) = op["operationId"].as_str() {
                let params: BTreeSet<String> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect();
                operations.insert(id.to_owned(), (params, op["requestBody"].is_object()));
            }
        }
    }
    let mut links = 0;
    for id in operations.keys() {
        let op = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|item| item.as_object().expect("path item").values())
            .find(|op| op["operationId"] == id.as_str())
            .expect("operation");
        for (status, response) in op["responses"].as_object().expect("responses") {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let target = link["operationId"].as_str().expect("operationId");
                let (params, takes_body) = operations
                    .get(target)
                    .unwrap_or_else(|| panic!("{id} {status} links to unknown {target}"));
                for param in link["parameters"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|p| p.0)
                {
                    assert!(
                        params.contains(param),
                        "{id} → {name}: no parameter {param}"
                    );
                }
                if link.get("requestBody").is_some() {
                    assert!(takes_body, "{id} → {name}: {target} takes no body");
                }
                links += 1;
            }
        }
    }
    for (from, to) in [
        ("create_tweet", "show_tweet"),
        ("create_tweet", "delete_tweet"),
        ("delete_tweet", "show_tweet"),
        ("create_account", "follow"),
        ("send", "conversation"),
    ] {
        let linked = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|item| item.as_object().expect("path item").values())
            .filter(|op| op["operationId"] == from)
            .flat_map(|op| op["responses"].as_object().expect("responses").values())
            .any(|r| r["links"][to]["operationId"] == to);
        assert!(linked, "no link from {from} to {to}");
    }
    assert!(links > 20, "only {links} links");
}

async fn every_documented_operation_is_routed(app: TestApp) {
    let token = app.user("alice").await;
    app.register("bob").await;
    let id = app.tweet_id(&token, "hello").await;
    app.category(&token, "news", "News").await;
    // What an unrouted path looks like, so it can be told from a handler's 404.
    let unrouted = app
        .get("/api/no/such/route")
        .await
        .expect_error(404, "not_found");
    assert_eq!(unrouted.body["error"]["message"], "route not found");
    let doc = app.get("/api/openapi.json").await.expect(200).body;
    let mut checked = 0;
    // Deletes last, so the session and the tweet live until the end.
    for deletes in [false, true] {
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let concrete = path
                .replace("{username}", "bob")
                .replace("{id}", &id.to_string())
                .replace("{slug}", "news");
            assert!(!concrete.contains('{'), "unknown parameter in {path}");
            for method in item.as_object().expect("path item").keys() {
                if (method == "delete") != deletes {
                    continue;
                }
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let reply = if concrete.ends_with("/stream") {
                    // A stream never ends: its status and headers are the answer.
                    let resp = app
                        .request(m, &concrete)
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("stream");
                    crate::helpers::Reply {
                        status: resp.status(),
                        headers: resp.headers().clone(),
                        body: serde_json::Value::Null,
                    }
                } else {
                    app.call(m, &concrete, Some(&token), None).await
                };
                let what = format!("{method} {concrete}");
                let status = reply.status.as_u16();
                assert_ne!(status, 405, "{what} is documented but not routed");
                assert!(
                    !(status == 404 && reply.body["error"]["message"] == "route not found"),
                    "{what} is documented but not routed"
                );
                assert!(status < 500, "{what}: {status} {:?}", reply.body);
                checked += 1;
            }
        }
    }
    let expected: usize = ROUTES.iter().map(|(_, ops)| ops.len()).sum();
    assert_eq!(checked, expected);
}

/// The values of `attr="..."` in an HTML page.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

async fn docs_work_offline(app: TestApp) {
    for start in ["/api/docs", "/api/docs/"] {
        let resp = app.request(Method::GET, start).send().await.expect("docs");
        assert_eq!(resp.status().as_u16(), 200, "{start}");
        assert_eq!(resp.url().path(), "/api/docs/");
        let content_type = resp.headers()["content-type"]
            .to_str()
            .expect("content type")
            .to_owned();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let html = resp.text().await.expect("html");
        assert!(
            html.contains("swagger-ui"),
            "not the Swagger UI page: {html}"
        );
        let assets: Vec<&str> = attribute_values(&html, "src")
            .into_iter()
            .chain(attribute_values(&html, "href"))
            .collect();
        assert!(
            assets.iter().any(|a| a.ends_with(".js")),
            "no scripts in {html}"
        );
        assert!(
            assets.iter().any(|a| a.ends_with(".css")),
            "no styles in {html}"
        );
        for asset in &assets {
            assert!(!asset.contains("//"), "docs load {asset} from elsewhere");
            let path = match asset.strip_prefix("./") {
                Some(rel) => format!("/api/docs/{rel}"),
                None if asset.starts_with('/') => (*asset).to_owned(),
                None => format!("/api/docs/{asset}"),
            };
            let resp = app.request(Method::GET, &path).send().await.expect("asset");
            assert_eq!(resp.status().as_u16(), 200, "{path}");
            let body = resp.bytes().await.expect("asset body");
            assert!(!body.is_empty(), "{path} is empty");
        }
    }
    // The page is pointed at our document.
    let resp = app
        .request(Method::GET, "/api/docs/swagger-initializer.js")
        .send()
        .await
        .expect("initializer");
    assert_eq!(resp.status().as_u16(), 200);
    let js = resp.text().await.expect("initializer text");
    assert!(js.contains("/api/openapi.json"), "{js}");
}

/// Bad input of every kind an operation's shape allows gets a status the
/// document lists for that operation: generated clients and schemathesis
/// trust the document.
async fn answers_to_bad_input_are_documented(app: TestApp) {
    let token = app.user("alice").await;
    app.register("bob").await;
    let doc = app.get("/api/openapi.json").await.expect(200).body;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if method == "delete" && path.ends_with("/sessions/current") {
                continue; // keep the token
            }
            let listed = |status: u16| op["responses"].get(status.to_string()).is_some();
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has = |place: &str| params.iter().any(|p| p["in"] == place);
            let concrete = path
                .replace("{username}", "bob")
                .replace("{id}", "not-a-number")
                .replace("{slug}", "news");
            let mut tries: Vec<reqwest::RequestBuilder> = Vec::new();
            let base = || {
                app.request(m.clone(), &concrete)
                    .header("authorization", format!("Bearer {token}"))
            };
            if has("path") {
                tries.push(base());
            }
            if has("query") {
                let concrete = path
                    .replace("{username}", "bob")
                    .replace("{id}", "1")
                    .replace("{slug}", "news");
                for q in ["limit=0", "limit=x", "offset=-1", "cursor=%%%"] {
                    tries.push(
                        app.request(m.clone(), &format!("{concrete}?{q}"))
                            .header("authorization", format!("Bearer {token}")),
                    );
                }
            }
            if op.get("requestBody").is_some() {
                let concrete = path
                    .replace("{username}", "bob")
                    .replace("{id}", "1")
                    .replace("{slug}", "news");
                let req = || {
                    app.request(m.clone(), &concrete)
                        .header("authorization", format!("Bearer {token}"))
                };
                tries.push(
                    req()
                        .header("content-type", "application/json")
                        .body("{not json"),
                );
                tries.push(req().body("{}"));
                tries.push(req().header("content-type", "text/plain").body("hello"));
                tries.push(
                    req()
                        .header("content-type", "application/json")
                        .body(r#"{"nope": 1}"#),
                );
            }
            for req in tries {
                let reply = app.send(req).await;
                let status = reply.status.as_u16();
                assert!(
                    listed(status),
                    "{method} {path} answered {status} ({:?}), which its document does not list",
                    reply.body
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 40, "only {checked} bad requests tried");
}

both!(
    answers_to_bad_input_are_documented,
    health_checks_answer_ok,
    openapi_documents_every_route,
    openapi_links_lead_to_real_operations,
    every_documented_operation_is_routed,
    docs_work_offline,
);
